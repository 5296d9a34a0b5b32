//! Ecosystem-health metrics (the CyberGreen part, without its flaws): for a risk, a grouping
//! (country or ASN) and a period, the distinct hosts and what follows from them — share of the
//! world, density per address space, DDoS potential, trend index, rank and change. The method
//! is written down in `docs/metrics-method.md`, shipped as METHOD.md with every export.
//!
//! Architecture invariants:
//! - an address counts once per period, however many days, rows or feeds report it (periods
//!   are never sums of shorter periods);
//! - totals (the world row and every group) include every host: the publication threshold only
//!   hides small ASN rows from display and export;
//! - IPv6 hosts are counted like IPv4 hosts.

pub mod export;
mod hosts;

pub use hosts::{feed_hosts, observed_hosts, Host, PeriodHosts};

use chrono::{Days, NaiveDate};
use greenwatch_feeds::{Catalogue, Risk, RiskIndex};
use greenwatch_model::access::Viewer;
use greenwatch_model::{CountryCode, Period, PeriodKind};
use greenwatch_netdb::NetDb;
use greenwatch_store::{ObservationStore, RiskStore, StoreError};
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::str::FromStr;

/// The label of the world row.
pub const WORLD: &str = "WORLD";
/// The label of hosts whose country is unknown (ISO 3166 user-assigned "unknown").
pub const UNKNOWN_COUNTRY: &str = "ZZ";

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    Country,
    Asn,
}

impl GroupBy {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Country => "country",
            GroupBy::Asn => "asn",
        }
    }
}

impl FromStr for GroupBy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "country" => Ok(GroupBy::Country),
            "asn" => Ok(GroupBy::Asn),
            _ => Err(format!("unknown grouping {s:?}: expected country or asn")),
        }
    }
}

/// One row of a metrics table: one group (or the world) in one period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricRow {
    pub risk: String,
    /// `2026-10-05`, `2026-W41`, `2026-10`, `2026-Q4` or `2026`.
    pub period: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// ISO country code, `ZZ` for unknown, `WORLD` for the world row; absent on ASN rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Origin AS (0 for unknown); absent on country rows and the world row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_name: Option<String>,
    /// Distinct addresses in the period (IPv4 and IPv6).
    pub hosts: u64,
    pub hosts_ipv6: u64,
    /// `hosts` / world `hosts`.
    pub share: f64,
    /// IPv4 hosts per million IPv4 addresses of the group's address space; none when the
    /// space is unknown.
    pub density: Option<f64>,
    /// `hosts` × the risk's amplification factor; none for risks without one.
    pub ddos_potential: Option<f64>,
    /// 100 × `hosts` / hosts in the base period; none when the base had none, or when this
    /// period or the base is not complete.
    pub trend: Option<f64>,
    /// 1 = most hosts; ties share a rank; none for the world row and unknown groups.
    pub rank: Option<u32>,
    pub previous_hosts: u64,
    /// (`hosts` − `previous_hosts`) / `previous_hosts`; none when the previous period had none,
    /// or when this period or the previous one is not complete (a partial period is never
    /// compared with a full one).
    pub change: Option<f64>,
    /// Whether the risk's data covers the whole period: it starts on or before the period's
    /// first day and reaches its last day. A period still running, or one in which the data
    /// begins, is partial.
    pub complete: bool,
    /// Days of the period on which any host of the risk was reported (anywhere).
    pub days_with_data: u32,
    /// Days in the period.
    pub days_in_period: u32,
}

impl MetricRow {
    pub fn is_world(&self) -> bool {
        self.country.as_deref() == Some(WORLD)
    }
}

/// A metrics table: the world row first, then groups by rank (unknown groups last).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricTable {
    pub risk: String,
    pub by: GroupBy,
    pub period: String,
    /// The base period of the trend index.
    pub base: String,
    /// The netdb snapshot the densities were computed with.
    pub address_space_as_of: Option<NaiveDate>,
    pub rows: Vec<MetricRow>,
}

/// ASN rows with fewer hosts are hidden from public output (never from a total): the
/// portal, `greenwatch metrics` and the open-data export by default. Small networks would
/// otherwise be named with one or two hosts each.
pub const PUBLICATION_MIN_HOSTS: u64 = 10;

impl MetricTable {
    /// The rows fit for publication: ASN rows with fewer than `min_hosts` hosts are hidden
    /// (they stay in every total). Returns the rows and how many were hidden.
    pub fn publishable(&self, min_hosts: u64) -> (Vec<&MetricRow>, usize) {
        let keep =
            |r: &&MetricRow| self.by == GroupBy::Country || r.is_world() || r.hosts >= min_hosts;
        let rows: Vec<&MetricRow> = self.rows.iter().filter(keep).collect();
        let hidden = self.rows.len() - rows.len();
        (rows, hidden)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Query(String),
}

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
struct Count {
    hosts: u64,
    ipv6: u64,
}

impl Count {
    fn add(&mut self, host: &Host) {
        self.hosts += 1;
        self.ipv6 += u64::from(host.is_ipv6());
    }
}

/// Group counts of one (risk, grouping, period).
#[derive(Debug, Default)]
struct Counts {
    world: Count,
    groups: FxHashMap<u32, Count>,
    days_with_data: u32,
}

/// A group's key: the ASN, or the country code's two bytes.
fn group_key(by: GroupBy, host: &Host) -> u32 {
    match by {
        GroupBy::Asn => host.asn,
        GroupBy::Country => u32::from(u16::from_be_bytes(host.country.0)),
    }
}

fn country_of_key(key: u32) -> CountryCode {
    CountryCode((key as u16).to_be_bytes())
}

/// Computes metric tables from the stores. Group counts are cached per (risk, grouping,
/// period), so a run over many periods reads each period once.
pub struct Engine<'a> {
    catalogue: &'a Catalogue,
    risks: &'a dyn RiskStore,
    observations: &'a dyn ObservationStore,
    netdb: &'a NetDb,
    /// Whose eyes: only datasets this viewer may see are counted.
    viewer: Viewer,
    cache: RefCell<HashMap<(RiskIndex, GroupBy, Period), Rc<Counts>>>,
}

impl<'a> Engine<'a> {
    pub fn new(
        catalogue: &'a Catalogue,
        risks: &'a dyn RiskStore,
        observations: &'a dyn ObservationStore,
        netdb: &'a NetDb,
        viewer: Viewer,
    ) -> Engine<'a> {
        Engine {
            catalogue,
            risks,
            observations,
            netdb,
            viewer,
            cache: RefCell::new(HashMap::new()),
        }
    }

    pub fn catalogue(&self) -> &Catalogue {
        self.catalogue
    }

    /// First and last day with data for `risk`, if it has any.
    pub fn coverage(
        &self,
        risk: RiskIndex,
    ) -> Result<Option<(NaiveDate, NaiveDate)>, MetricsError> {
        let r = self.catalogue.get(risk);
        if r.observed.is_some() {
            let day = |secs: i64| {
                chrono::DateTime::from_timestamp(secs, 0)
                    .map(|t| t.date_naive())
                    .ok_or_else(|| MetricsError::Query(format!("bucket {secs} out of range")))
            };
            return match self.observations.flow_bucket_range(&self.viewer)? {
                Some((first, last)) => Ok(Some((day(first)?, day(last)?))),
                None => Ok(None),
            };
        }
        Ok(self
            .risks
            .risk_coverage(&self.viewer)?
            .into_iter()
            .find(|c| c.risk == r.slug)
            .map(|c| (c.first_day, c.last_day)))
    }

    /// Every risk with stored data, in catalogue order.
    pub fn risks_with_data(&self) -> Result<Vec<RiskIndex>, MetricsError> {
        let mut out = Vec::new();
        for i in 0..self.catalogue.risks().len() {
            let risk = RiskIndex(i as u16);
            if self.coverage(risk)?.is_some() {
                out.push(risk);
            }
        }
        Ok(out)
    }

    /// The distinct hosts of `risk` in `period`.
    pub fn hosts(&self, risk: RiskIndex, period: Period) -> Result<Vec<Host>, MetricsError> {
        Ok(self.period_hosts(risk, period)?.hosts)
    }

    /// The distinct hosts of `risk` in `period` and the days with data.
    fn period_hosts(&self, risk: RiskIndex, period: Period) -> Result<PeriodHosts, MetricsError> {
        let r = self.catalogue.get(risk);
        Ok(match r.observed {
            Some(rule) => observed_hosts(self.observations, &self.viewer, rule, period)?,
            None => feed_hosts(self.risks, &self.viewer, &r.slug, period)?,
        })
    }

    /// Whether `risk`'s data covers all of `period` (see [`MetricRow::complete`]).
    pub fn is_complete(&self, risk: RiskIndex, period: Period) -> Result<bool, MetricsError> {
        Ok(self.coverage(risk)?.is_some_and(|(first, last)| {
            first <= period.start && period.end() - Days::new(1) <= last
        }))
    }

    /// The period of `kind` a page or command opens on: the last complete one, else (the
    /// data covers no whole period yet) the one holding the newest data. `None` without data.
    pub fn latest_period(
        &self,
        risk: RiskIndex,
        kind: PeriodKind,
    ) -> Result<Option<Period>, MetricsError> {
        let Some((first, last)) = self.coverage(risk)? else {
            return Ok(None);
        };
        let newest = Period::containing(kind, last);
        let complete = [newest, newest.previous()]
            .into_iter()
            .find(|p| first <= p.start && p.end() - Days::new(1) <= last);
        Ok(Some(complete.unwrap_or(newest)))
    }

    fn counts(
        &self,
        risk: RiskIndex,
        by: GroupBy,
        period: Period,
    ) -> Result<Rc<Counts>, MetricsError> {
        if let Some(c) = self.cache.borrow().get(&(risk, by, period)) {
            return Ok(c.clone());
        }
        let found = self.period_hosts(risk, period)?;
        let mut counts = Counts {
            days_with_data: found.days_with_data,
            ..Counts::default()
        };
        for host in found.hosts {
            counts.world.add(&host);
            counts
                .groups
                .entry(group_key(by, &host))
                .or_default()
                .add(&host);
        }
        let counts = Rc::new(counts);
        self.cache
            .borrow_mut()
            .insert((risk, by, period), counts.clone());
        Ok(counts)
    }

    /// The default base period of the trend index: the first complete period (the first
    /// period with data when none is complete yet).
    pub fn default_base(
        &self,
        risk: RiskIndex,
        kind: PeriodKind,
    ) -> Result<Option<Period>, MetricsError> {
        Ok(self.coverage(risk)?.map(|(first, _)| {
            let holding = Period::containing(kind, first);
            if holding.start == first {
                holding
            } else {
                holding.next()
            }
        }))
    }

    /// The metrics table of `risk` grouped `by` for `period`, with the trend against `base`
    /// (default: the first period with data).
    pub fn table(
        &self,
        risk: RiskIndex,
        by: GroupBy,
        period: Period,
        base: Option<Period>,
    ) -> Result<MetricTable, MetricsError> {
        let r = self.catalogue.get(risk);
        let base = match base {
            Some(b) if b.kind != period.kind => {
                return Err(MetricsError::Query(format!(
                    "base period {b} is a {} but the table is per {}",
                    b.kind, period.kind
                )))
            }
            Some(b) => b,
            None => self.default_base(risk, period.kind)?.unwrap_or(period),
        };
        let current = self.counts(risk, by, period)?;
        let previous = self.counts(risk, by, period.previous())?;
        let base_counts = self.counts(risk, by, base)?;
        let complete = self.is_complete(risk, period)?;
        // Like with like: change and trend only between complete periods.
        let compare_previous = complete && self.is_complete(risk, period.previous())?;
        let compare_base = complete && self.is_complete(risk, base)?;
        let last_day = period.end() - Days::new(1);
        let snapshot = self.netdb.snapshot_at(last_day);
        let space = snapshot.map(|s| s.address_space_v4());
        let row = |country: Option<String>,
                   asn: Option<u32>,
                   count: Count,
                   prev: Count,
                   base: Count,
                   space: Option<u64>| {
            let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
            MetricRow {
                risk: r.slug.clone(),
                period: period.label(),
                first_day: period.start,
                last_day,
                as_name: asn
                    .filter(|&a| a != 0)
                    .and_then(|a| snapshot.and_then(|s| s.as_name(a)))
                    .map(str::to_string),
                country,
                asn,
                hosts: count.hosts,
                hosts_ipv6: count.ipv6,
                share: ratio(count.hosts, current.world.hosts).unwrap_or(0.0),
                density: space
                    .filter(|&s| s > 0)
                    .map(|s| (count.hosts - count.ipv6) as f64 * 1e6 / s as f64),
                ddos_potential: r
                    .amplification
                    .as_ref()
                    .map(|a| count.hosts as f64 * a.factor),
                trend: ratio(count.hosts, base.hosts)
                    .map(|t| t * 100.0)
                    .filter(|_| compare_base),
                rank: None,
                previous_hosts: prev.hosts,
                change: ratio(count.hosts, prev.hosts)
                    .map(|c| c - 1.0)
                    .filter(|_| compare_previous),
                complete,
                days_with_data: current.days_with_data,
                days_in_period: period.days(),
            }
        };
        let world_space = space.as_ref().map(|s| match by {
            GroupBy::Country => s.with_country,
            GroupBy::Asn => s.with_asn,
        });
        let mut rows = vec![row(
            Some(WORLD.to_string()),
            None,
            current.world,
            previous.world,
            base_counts.world,
            world_space,
        )];
        let mut groups: Vec<(u32, Count)> = current.groups.iter().map(|(k, c)| (*k, *c)).collect();
        let known = |key: u32| key != 0;
        groups.sort_unstable_by_key(|&(key, c)| (!known(key), std::cmp::Reverse(c.hosts), key));
        let mut rank = 0;
        let mut last_hosts = None;
        for (i, (key, count)) in groups.into_iter().enumerate() {
            let prev = previous.groups.get(&key).copied().unwrap_or_default();
            let base = base_counts.groups.get(&key).copied().unwrap_or_default();
            let (country, asn, group_space) = match by {
                GroupBy::Country => {
                    let cc = country_of_key(key);
                    let label = cc.as_str().unwrap_or(UNKNOWN_COUNTRY).to_string();
                    (
                        Some(label),
                        None,
                        space.as_ref().and_then(|s| s.by_country.get(&cc).copied()),
                    )
                }
                GroupBy::Asn => (
                    None,
                    Some(key),
                    space.as_ref().and_then(|s| s.by_asn.get(&key).copied()),
                ),
            };
            let mut out = row(
                country,
                asn,
                count,
                prev,
                base,
                group_space.filter(|_| known(key)),
            );
            if known(key) {
                // Competition ranking: equal host counts share a rank.
                if last_hosts != Some(count.hosts) {
                    rank = i as u32 + 1;
                    last_hosts = Some(count.hosts);
                }
                out.rank = Some(rank);
            }
            rows.push(out);
        }
        Ok(MetricTable {
            risk: r.slug.clone(),
            by,
            period: period.label(),
            base: base.label(),
            address_space_as_of: snapshot.map(|s| s.as_of),
            rows,
        })
    }

    pub fn risk(&self, risk: RiskIndex) -> &Risk {
        self.catalogue.get(risk)
    }
}
