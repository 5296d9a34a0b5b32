//! Reports in the ISDAS / TSUBAME style, computed from the stores for one [`Viewer`]:
//!
//! - **weekly** (ISO week) and **quarterly**: top destination ports of scan traffic and their
//!   change against the previous period, scanning sources by country with change, DoS activity
//!   inferred from backscatter (attacks, victims' countries and ASes), notable anomalies (the
//!   alerts first seen in the period that the viewer may see) and risk-metric movers (the
//!   biggest rises and falls in distinct hosts per country and risk).
//! - **observation**: the TSUBAME-style observation summary of one calendar month: the same
//!   sections plus one row per sensor (packets, distinct sources, its top ports), so a reader
//!   sees what each vantage point saw. A month is the span the observation report covers
//!   because sensors are compared over a stable window long enough to smooth weekly cycles.
//!
//! Every number is the answer of the query commands over the period (`greenwatch query top
//! --by port|country --class scan`, `query dos`, `metrics --by country`), so a report can
//! always be checked against them. A report for `Viewer::Anonymous` holds TLP:CLEAR data only:
//! every read goes through the store with that viewer.
//!
//! [`render`] turns a [`Report`] into a screen page, a print page and the files they need.

mod render;

pub use render::{int, write_report_dir, ReportFiles, Variant};

use chrono::NaiveDate;
use greenwatch_feeds::Catalogue;
use greenwatch_metrics::{Engine, GroupBy, MetricRow, MetricsError};
use greenwatch_model::access::Viewer;
use greenwatch_model::alert::Alert;
use greenwatch_model::anonymise::{alert_as_seen, CryptoPan};
use greenwatch_model::sensor::SensorRef;
use greenwatch_model::{Period, PeriodKind, Timestamp, TrafficClass};
use greenwatch_netdb::NetDb;
use greenwatch_observe::{infer_dos, FlowFilter, Top, TopBy, TopRow};
use greenwatch_store::{AlertStore, ObservationStore, RiskStore, StoreError, TimeRange};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Rows per ranked section.
pub const TOP_ROWS: usize = 10;
/// Upper bound on alerts read when looking for a period's anomalies.
const ALERT_SCAN_LIMIT: usize = 100_000;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportKind {
    Weekly,
    Quarterly,
    Observation,
}

impl ReportKind {
    pub fn period_kind(self) -> PeriodKind {
        match self {
            ReportKind::Weekly => PeriodKind::Week,
            ReportKind::Quarterly => PeriodKind::Quarter,
            ReportKind::Observation => PeriodKind::Month,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Weekly => "weekly",
            ReportKind::Quarterly => "quarterly",
            ReportKind::Observation => "observation",
        }
    }

    /// The period a report of this kind covers: `at` is a date inside it or its label
    /// (`2026-W41`, `2026-Q4`, `2026-10`).
    pub fn period(self, at: &str) -> Result<Period, ReportError> {
        Period::parse(self.period_kind(), at).map_err(ReportError::Period)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    #[error("{0}")]
    Period(String),
    #[error("writing the report: {0}")]
    Io(#[from] std::io::Error),
}

/// Relative change from `previous` to `current`; none when there was nothing before.
pub fn change(current: u64, previous: u64) -> Option<f64> {
    (previous > 0).then(|| (current as f64 - previous as f64) / previous as f64)
}

/// One ranked row (a port or a country) with its value in the previous period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankedRow {
    pub rank: u32,
    /// `23/tcp` or `CN`.
    pub key: String,
    pub packets: u64,
    pub sources: u64,
    pub previous_packets: u64,
    /// Rank in the previous period, if it had any such traffic.
    pub previous_rank: Option<u32>,
    pub change: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayPoint {
    pub day: NaiveDate,
    pub packets: u64,
    pub scan_packets: u64,
    pub backscatter_packets: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub packets: u64,
    pub sources: u64,
    pub previous_packets: u64,
    pub previous_sources: u64,
    pub change: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CountShare {
    /// A country code or `AS4134 CHINANET-BACKBONE`.
    pub key: String,
    pub attacks: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DosSection {
    pub attacks: u64,
    pub previous_attacks: u64,
    pub change: Option<f64>,
    pub victims: u64,
    pub backscatter_packets: u64,
    pub by_country: Vec<CountShare>,
    pub by_asn: Vec<CountShare>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    pub id: i64,
    pub severity: String,
    pub title: String,
    pub summary: String,
    pub first_seen: Timestamp,
    pub tlp: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mover {
    pub risk: String,
    pub country: String,
    pub hosts: u64,
    pub previous_hosts: u64,
    pub delta: i64,
    pub change: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensorSummary {
    /// `organisation/name`.
    pub sensor: String,
    pub packets: u64,
    pub sources: u64,
    pub top_ports: Vec<RankedRow>,
}

/// One report: what the reader sees, as numbers (the JSON) and as a page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub kind: ReportKind,
    /// `2026-W41`, `2026-Q4`, `2026-10`.
    pub period: String,
    pub previous_period: String,
    pub first_day: NaiveDate,
    /// The first day after the period.
    pub end_day: NaiveDate,
    /// `public` (TLP:CLEAR data only) or `operator` (everything the viewer may see).
    pub audience: String,
    pub totals: Totals,
    pub daily: Vec<DayPoint>,
    /// Destination ports of scan traffic by packets.
    pub top_ports: Vec<RankedRow>,
    /// Countries of scanning sources by packets.
    pub top_countries: Vec<RankedRow>,
    pub dos: DosSection,
    pub anomalies: Vec<Anomaly>,
    /// Rises first (largest delta), then falls.
    pub movers: Vec<Mover>,
    /// Observation reports only: one row per sensor.
    pub sensors: Vec<SensorSummary>,
}

/// The stores a report reads.
pub struct ReportInputs<'a> {
    pub observations: &'a dyn ObservationStore,
    pub risks: &'a dyn RiskStore,
    pub alerts: &'a dyn AlertStore,
    pub catalogue: &'a Catalogue,
    pub netdb: &'a NetDb,
    /// The deployment's anonymisation key, for the sources an alert names.
    pub pan: &'a CryptoPan,
}

fn range_of(period: Period) -> TimeRange {
    let secs = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp()
    };
    TimeRange {
        from: Some(secs(period.start)),
        to: Some(secs(period.end())),
    }
}

fn scan_filter() -> FlowFilter {
    FlowFilter {
        class: Some(TrafficClass::Scan),
        ..FlowFilter::default()
    }
}

/// Everything one pass over a period's flows collects.
struct PeriodFlows {
    ports: Vec<TopRow>,
    countries: Vec<TopRow>,
    packets: u64,
    sources: u64,
    daily: FxHashMap<i64, (u64, u64, u64)>,
}

fn scan_period(
    store: &dyn ObservationStore,
    viewer: &Viewer,
    period: Period,
    sensor: Option<&SensorRef>,
) -> Result<PeriodFlows, StoreError> {
    let mut ports = Top::new(TopBy::Port, scan_filter());
    let mut countries = Top::new(TopBy::Country, scan_filter());
    let mut sources: FxHashSet<IpAddr> = FxHashSet::default();
    let mut packets = 0;
    let mut daily: FxHashMap<i64, (u64, u64, u64)> = FxHashMap::default();
    store.scan_flows(viewer, range_of(period), sensor, &mut |f| {
        ports.add(f);
        countries.add(f);
        sources.insert(f.src);
        packets += f.packets;
        let day = daily.entry(f.bucket.div_euclid(86_400)).or_default();
        day.0 += f.packets;
        match f.class {
            TrafficClass::Scan => day.1 += f.packets,
            TrafficClass::Backscatter => day.2 += f.packets,
            _ => {}
        }
    })?;
    Ok(PeriodFlows {
        ports: ports.finish(usize::MAX),
        countries: countries.finish(usize::MAX),
        packets,
        sources: sources.len() as u64,
        daily,
    })
}

fn port_key(r: &TopRow) -> String {
    format!(
        "{}/{}",
        r.port.unwrap_or_default(),
        r.protocol.map_or("?".into(), |p| p.name())
    )
}

fn country_key(r: &TopRow) -> String {
    r.country.map_or("-".into(), |c| c.to_string())
}

/// The first `limit` rows of `current`, each with its packets and rank in `previous`.
pub fn ranked_with_change(
    current: &[TopRow],
    previous: &[TopRow],
    key: fn(&TopRow) -> String,
    limit: usize,
) -> Vec<RankedRow> {
    let before: FxHashMap<String, &TopRow> = previous.iter().map(|r| (key(r), r)).collect();
    current
        .iter()
        .take(limit)
        .map(|r| {
            let k = key(r);
            let prev = before.get(&k);
            let previous_packets = prev.map_or(0, |p| p.packets);
            RankedRow {
                rank: r.rank,
                packets: r.packets,
                sources: r.sources,
                previous_packets,
                previous_rank: prev.map(|p| p.rank),
                change: change(r.packets, previous_packets),
                key: k,
            }
        })
        .collect()
}

/// The biggest rises (largest positive delta) then the biggest falls, `limit` of each.
pub fn pick_movers(mut all: Vec<Mover>, limit: usize) -> Vec<Mover> {
    all.retain(|m| m.delta != 0);
    all.sort_by(|a, b| {
        b.delta
            .cmp(&a.delta)
            .then_with(|| (&a.risk, &a.country).cmp(&(&b.risk, &b.country)))
    });
    let rises: Vec<Mover> = all
        .iter()
        .filter(|m| m.delta > 0)
        .take(limit)
        .cloned()
        .collect();
    let falls = all
        .iter()
        .rev()
        .filter(|m| m.delta < 0)
        .take(limit)
        .cloned();
    rises.into_iter().chain(falls).collect()
}

/// Computes the report of `kind` for `period` as `viewer` sees the stores. `progress` hears
/// each step as it starts (for the command line's stderr).
pub fn build(
    sources: &ReportInputs,
    viewer: &Viewer,
    kind: ReportKind,
    period: Period,
    progress: &mut dyn FnMut(&str),
) -> Result<Report, ReportError> {
    let previous = period.previous();
    progress(&format!("reading flows of {period}"));
    let now = scan_period(sources.observations, viewer, period, None)?;
    progress(&format!("reading flows of {previous}"));
    let before = scan_period(sources.observations, viewer, previous, None)?;
    let daily = (0..period.days())
        .map(|i| {
            let day = period.start + chrono::Days::new(u64::from(i));
            let n = day
                .and_hms_opt(0, 0, 0)
                .expect("midnight")
                .and_utc()
                .timestamp()
                / 86_400;
            let (packets, scan, backscatter) = now.daily.get(&n).copied().unwrap_or_default();
            DayPoint {
                day,
                packets,
                scan_packets: scan,
                backscatter_packets: backscatter,
            }
        })
        .collect();

    progress("inferring DoS attacks");
    let dos = dos_section(sources, viewer, period, previous)?;
    progress("reading alerts");
    let (from, to) = (range_of(period).from, range_of(period).to);
    let anomalies = sources
        .alerts
        .alerts(viewer, ALERT_SCAN_LIMIT)?
        .into_iter()
        .filter(|a| {
            let t = a.alert.first_seen.secs();
            from.is_none_or(|f| t >= f) && to.is_none_or(|e| t < e)
        })
        .map(|a| anomaly(sources.pan, viewer, a))
        .collect();
    progress("computing risk-metric movers");
    let movers = movers(sources, viewer, period)?;
    let sensors = if kind == ReportKind::Observation {
        progress("summarising each sensor");
        sensor_summaries(sources.observations, viewer, period, previous)?
    } else {
        Vec::new()
    };
    Ok(Report {
        kind,
        period: period.label(),
        previous_period: previous.label(),
        first_day: period.start,
        end_day: period.end(),
        audience: match viewer {
            Viewer::Anonymous => "public".into(),
            Viewer::Local => "operator".into(),
            Viewer::User { org, .. } => format!("organisation {org}"),
            Viewer::OwnData { org } => format!("the data of organisation {org}"),
        },
        totals: Totals {
            packets: now.packets,
            sources: now.sources,
            previous_packets: before.packets,
            previous_sources: before.sources,
            change: change(now.packets, before.packets),
        },
        daily,
        top_ports: ranked_with_change(&now.ports, &before.ports, port_key, TOP_ROWS),
        top_countries: ranked_with_change(&now.countries, &before.countries, country_key, TOP_ROWS),
        dos,
        anomalies,
        movers,
        sensors,
    })
}

fn dos_section(
    sources: &ReportInputs,
    viewer: &Viewer,
    period: Period,
    previous: Period,
) -> Result<DosSection, ReportError> {
    let store = sources.observations;
    let attacks = infer_dos(store.backscatter_slots(viewer, range_of(period), None)?);
    let previous_attacks =
        infer_dos(store.backscatter_slots(viewer, range_of(previous), None)?).len() as u64;
    let mut by_country: FxHashMap<String, u64> = FxHashMap::default();
    let mut by_asn: FxHashMap<u32, u64> = FxHashMap::default();
    let mut victims = FxHashSet::default();
    for a in &attacks {
        *by_country.entry(a.country.to_string()).or_default() += 1;
        *by_asn.entry(a.asn).or_default() += 1;
        victims.insert(a.victim);
    }
    let as_name = |asn: u32| {
        sources
            .netdb
            .snapshots()
            .last()
            .and_then(|s| s.as_name(asn))
            .map_or_else(|| format!("AS{asn}"), |n| format!("AS{asn} {n}"))
    };
    let ranked = |counts: Vec<(String, u64)>| {
        let mut rows: Vec<CountShare> = counts
            .into_iter()
            .map(|(key, attacks)| CountShare { key, attacks })
            .collect();
        rows.sort_by(|a, b| b.attacks.cmp(&a.attacks).then(a.key.cmp(&b.key)));
        rows.truncate(TOP_ROWS);
        rows
    };
    Ok(DosSection {
        attacks: attacks.len() as u64,
        previous_attacks,
        change: change(attacks.len() as u64, previous_attacks),
        victims: victims.len() as u64,
        backscatter_packets: attacks.iter().map(|a| a.packets).sum(),
        by_country: ranked(by_country.into_iter().collect()),
        by_asn: ranked(by_asn.into_iter().map(|(a, n)| (as_name(a), n)).collect()),
    })
}

/// An alert as a report's anomaly, naming its sources as `viewer` may see them: a public
/// report quotes a CLEAR alert with its sources anonymised (`docs/anonymisation.md`).
fn anomaly(pan: &CryptoPan, viewer: &Viewer, stored: Alert) -> Anomaly {
    let Alert { id, alert, .. } = alert_as_seen(viewer, pan, stored);
    Anomaly {
        id,
        severity: alert.severity.to_string(),
        title: alert.title,
        summary: alert.summary,
        first_seen: alert.first_seen,
        tlp: alert.label.tlp.to_string(),
    }
}

fn movers(
    sources: &ReportInputs,
    viewer: &Viewer,
    period: Period,
) -> Result<Vec<Mover>, ReportError> {
    let engine = Engine::new(
        sources.catalogue,
        sources.risks,
        sources.observations,
        sources.netdb,
        viewer.clone(),
    );
    let mut all = Vec::new();
    for risk in engine.risks_with_data()? {
        let current = engine.table(risk, GroupBy::Country, period, None)?;
        // A table lists the groups of its own period only, so a country whose hosts all went
        // away is found in the previous period's table.
        let previous = engine.table(risk, GroupBy::Country, period.previous(), None)?;
        all.extend(country_movers(&current.rows, &previous.rows));
    }
    Ok(pick_movers(all, TOP_ROWS))
}

/// One mover per country of either period: the current rows carry their previous hosts, and
/// countries only in `previous` fell to zero.
fn country_movers(current: &[MetricRow], previous: &[MetricRow]) -> Vec<Mover> {
    let mover = |risk: &str, country: &str, hosts: u64, previous_hosts: u64| Mover {
        risk: risk.to_string(),
        country: country.to_string(),
        hosts,
        previous_hosts,
        delta: hosts as i64 - previous_hosts as i64,
        change: change(hosts, previous_hosts),
    };
    let country = |r: &MetricRow| r.country.clone().unwrap_or_default();
    let seen: FxHashSet<String> = current.iter().map(country).collect();
    let now = current
        .iter()
        .filter(|r| !r.is_world())
        .map(|r| mover(&r.risk, &country(r), r.hosts, r.previous_hosts));
    let gone = previous
        .iter()
        .filter(|r| !r.is_world() && !seen.contains(&country(r)))
        .map(|r| mover(&r.risk, &country(r), 0, r.hosts));
    now.chain(gone).collect()
}

fn sensor_summaries(
    store: &dyn ObservationStore,
    viewer: &Viewer,
    period: Period,
    previous: Period,
) -> Result<Vec<SensorSummary>, ReportError> {
    // A sensor is its organisation and name: two organisations' `tokyo-1` are two rows.
    let mut sensors: Vec<SensorRef> = store
        .captures()?
        .into_iter()
        .filter(|c| viewer.can_see(&c.label))
        .map(|c| SensorRef::new(c.label.owner, c.sensor))
        .collect();
    sensors.sort();
    sensors.dedup();
    let mut out = Vec::new();
    for sensor in sensors {
        let now = scan_period(store, viewer, period, Some(&sensor))?;
        if now.packets == 0 {
            continue;
        }
        let before = scan_period(store, viewer, previous, Some(&sensor))?;
        out.push(SensorSummary {
            top_ports: ranked_with_change(&now.ports, &before.ports, port_key, 5),
            sensor: sensor.to_string(),
            packets: now.packets,
            sources: now.sources,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenwatch_model::{CountryCode, Transport};

    #[test]
    fn change_is_relative_to_the_previous_period_and_absent_without_one() {
        assert_eq!(change(150, 100), Some(0.5));
        assert_eq!(change(50, 100), Some(-0.5));
        assert_eq!(change(0, 40), Some(-1.0));
        assert_eq!(change(10, 0), None);
    }

    #[test]
    fn report_periods_step_back_across_year_boundaries() {
        let week = ReportKind::Weekly.period("2026-W01").unwrap();
        assert_eq!(week.start, NaiveDate::from_ymd_opt(2025, 12, 29).unwrap());
        assert_eq!(week.previous().label(), "2025-W52");
        let quarter = ReportKind::Quarterly.period("2026-02-14").unwrap();
        assert_eq!(quarter.label(), "2026-Q1");
        assert_eq!(quarter.previous().label(), "2025-Q4");
        assert_eq!(quarter.previous().end(), quarter.start);
        let month = ReportKind::Observation.period("2026-03").unwrap();
        assert_eq!(month.previous().label(), "2026-02");
        assert!(ReportKind::Quarterly.period("2026-Q5").is_err());
    }

    #[test]
    fn reporting_range_covers_the_period_to_the_second() {
        let q = ReportKind::Quarterly.period("2026-Q4").unwrap();
        let r = range_of(q);
        assert_eq!(r.to.unwrap() - r.from.unwrap(), 92 * 86_400);
        assert_eq!(
            Timestamp::from_secs(r.from.unwrap()).to_rfc3339(),
            "2026-10-01T00:00:00Z"
        );
    }

    fn port_row(rank: u32, port: u16, packets: u64) -> TopRow {
        TopRow {
            rank,
            port: Some(port),
            protocol: Some(Transport::TCP),
            ip: None,
            country: None,
            asn: None,
            packets,
            bytes: packets * 60,
            sources: 1,
        }
    }

    #[test]
    fn ranked_rows_carry_the_previous_rank_and_change() {
        let now = [
            port_row(1, 23, 300),
            port_row(2, 445, 100),
            port_row(3, 22, 5),
        ];
        let before = [port_row(1, 445, 200), port_row(2, 23, 100)];
        let rows = ranked_with_change(&now, &before, port_key, 2);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].key.as_str(), rows[0].previous_rank),
            ("23/tcp", Some(2))
        );
        assert_eq!(rows[0].change, Some(2.0));
        assert_eq!(
            (rows[1].previous_packets, rows[1].change),
            (200, Some(-0.5))
        );
        let new_port = ranked_with_change(&now[2..], &before, port_key, 5);
        assert_eq!(
            (new_port[0].previous_rank, new_port[0].change),
            (None, None)
        );
        let cc = TopRow {
            country: Some(CountryCode(*b"CN")),
            ..port_row(1, 0, 1)
        };
        assert_eq!(country_key(&cc), "CN");
    }

    fn row(country: &str, hosts: u64, previous_hosts: u64) -> MetricRow {
        MetricRow {
            risk: "mirai".into(),
            period: "2026-W41".into(),
            first_day: "2026-10-05".parse().unwrap(),
            last_day: "2026-10-11".parse().unwrap(),
            country: Some(country.into()),
            asn: None,
            as_name: None,
            hosts,
            hosts_ipv6: 0,
            share: 0.0,
            density: None,
            ddos_potential: None,
            trend: None,
            rank: None,
            previous_hosts,
            change: change(hosts, previous_hosts),
            complete: true,
            days_with_data: 7,
            days_in_period: 7,
        }
    }

    fn names(movers: &[Mover]) -> Vec<(&str, u64, u64)> {
        movers
            .iter()
            .map(|m| (m.country.as_str(), m.hosts, m.previous_hosts))
            .collect()
    }

    #[test]
    fn movers_are_the_largest_rises_then_the_largest_falls() {
        let current = [
            row("WORLD", 585, 255),
            row("CN", 120, 100),
            row("US", 10, 90),
            row("KR", 50, 50),
            row("RU", 400, 0),
            row("JP", 5, 15),
        ];
        let all = country_movers(&current, &[]);
        assert_eq!(all.len(), 5, "the world row is no mover");
        assert_eq!(
            names(&pick_movers(all, 1)),
            [("RU", 400, 0), ("US", 10, 90)]
        );
        let all = country_movers(&[row("KR", 50, 50), row("CN", 1, 2)], &[]);
        assert_eq!(pick_movers(all, 5).len(), 1, "unchanged rows are no movers");
    }

    #[test]
    fn a_country_whose_hosts_all_went_away_is_a_fall_to_zero() {
        let current = [row("WORLD", 110, 400), row("CN", 110, 100)];
        let previous = [row("WORLD", 400, 0), row("BR", 300, 0), row("CN", 100, 0)];
        let movers = country_movers(&current, &previous);
        assert_eq!(names(&movers), [("CN", 110, 100), ("BR", 0, 300)]);
        let fell = &movers[1];
        assert_eq!((fell.delta, fell.change), (-300, Some(-1.0)));
        assert_eq!(
            names(&pick_movers(movers, 1)),
            [("CN", 110, 100), ("BR", 0, 300)]
        );
    }

    #[test]
    fn a_public_report_quotes_a_clear_alert_with_its_sources_anonymised() {
        use greenwatch_model::access::{Label, Role, Tlp};
        use greenwatch_model::alert::{Contributor, Evidence, Explanation, NewAlert, Severity};
        let pan = CryptoPan::new(b"a report test deployment key 32b");
        let stored = Alert {
            id: 7,
            alert: NewAlert {
                key: None,
                severity: Severity::High,
                title: "Surge on 23/tcp from 203.0.113.7".into(),
                summary: "top sources: 203.0.113.7 (80 %)".into(),
                affected: vec!["port 23/tcp packets".into()],
                first_seen: Timestamp(0),
                last_seen: Timestamp(0),
                author: "detector".into(),
                label: Label {
                    owner: "cert-a".into(),
                    tlp: Tlp::Clear,
                },
                evidence: Some(Evidence {
                    series: vec![],
                    explanation: Explanation {
                        sources: vec![Contributor {
                            name: "203.0.113.7".into(),
                            packets: 8,
                            share: 0.8,
                            first_seen: None,
                        }],
                        ..Explanation::default()
                    },
                }),
                created_at: Timestamp(0),
            },
            triage: Default::default(),
        };
        let image = pan.anonymise("203.0.113.7".parse().unwrap()).to_string();
        let public = anomaly(&pan, &Viewer::Anonymous, stored.clone());
        assert_eq!(public.title, format!("Surge on 23/tcp from {image}"));
        assert_eq!(public.summary, format!("top sources: {image} (80 %)"));
        let owner = Viewer::User {
            org: "cert-a".into(),
            role: Role::Member,
        };
        for viewer in [owner, Viewer::Local] {
            let shown = anomaly(&pan, &viewer, stored.clone());
            assert_eq!(shown.summary, "top sources: 203.0.113.7 (80 %)");
        }
    }
}
