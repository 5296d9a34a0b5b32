//! Who appears in the feed on which day: a persistent host population of which a random ~75%
//! shows up each day, one-day hosts (churn) and duplicate rows, at times spread over the day.

use super::report::{Family, Report};
use super::{AddressInfo, FeedSpec};
use crate::plan::apportion;
use crate::pool::{Pool4, Pool6};
use crate::rng::Rng;
use crate::sources::Profile;
use crate::{GenerateError, SourcePool};
use greenwatch_model::{ip_key, Enrichment};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Persistent hosts per average day's rows.
const POPULATION_FACTOR: f64 = 1.25;
/// Share of a day's rows that repeat a host already seen that day.
const DUPLICATE_SHARE: f64 = 0.03;
/// Share of a day's distinct hosts seen on that day only.
const CHURN_SHARE: f64 = 0.04;
const SECS_PER_DAY: u64 = 86_400;

/// One good row to write: second of the day, index of its host in [`Day::hosts`], and the
/// seed of its per-row values (also a tie-breaker, so the order is total).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct RowDesc {
    pub secs: u32,
    pub host: u32,
    pub seed: u64,
}

/// One day's rows, time-ordered, and its hosts: address keys (`ip_key`) and their
/// enrichment by the address info (looked up once per host).
pub(crate) struct Day<'a> {
    pub rows: &'a [RowDesc],
    pub hosts: &'a [u128],
    pub enrichments: &'a [Enrichment],
}

/// The address space hosts are drawn from, IPv4 or IPv6 by a per-mille share.
struct AddressSpace {
    v4: Option<Pool4>,
    v6: Option<Pool6>,
    ipv6_per_mille: u32,
}

impl AddressSpace {
    fn new(
        pool: &SourcePool,
        profile: Profile,
        ipv6_per_mille: u32,
    ) -> Result<AddressSpace, GenerateError> {
        let v6 = if ipv6_per_mille > 0 {
            let Some(p) = Pool6::new(&pool.v6)? else {
                return Err(GenerateError::Spec(
                    "IPv6 hosts were asked for but the source pool has no IPv6 ranges".into(),
                ));
            };
            Some(p)
        } else {
            None
        };
        let v4 = if ipv6_per_mille < 1000 {
            Some(pool.pool4(profile)?)
        } else {
            None
        };
        Ok(AddressSpace {
            v4,
            v6,
            ipv6_per_mille,
        })
    }

    fn draw(&self, rng: &mut Rng) -> u128 {
        match (&self.v4, &self.v6) {
            (Some(v4), Some(v6)) if rng.below(1000) >= self.ipv6_per_mille as u64 => {
                ip_key(IpAddr::V4(Ipv4Addr::from(v4.source(rng))))
            }
            (_, Some(v6)) => v6_key(v6, rng),
            (Some(v4), None) => ip_key(IpAddr::V4(Ipv4Addr::from(v4.source(rng)))),
            (None, None) => unreachable!("AddressSpace::new keeps at least one pool"),
        }
    }
}

/// The address of a key made by `ip_key`.
pub(crate) fn key_ip(key: u128) -> IpAddr {
    let v6 = Ipv6Addr::from(key);
    match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    }
}

/// An IPv6 host address; never one in `::ffff:0:0/96`, which would read as IPv4.
fn v6_key(pool: &Pool6, rng: &mut Rng) -> u128 {
    for _ in 0..64 {
        let a = Ipv6Addr::from(pool.source(rng));
        if a.to_ipv4_mapped().is_none() {
            return ip_key(IpAddr::V6(a));
        }
    }
    ip_key(IpAddr::V6(Ipv6Addr::from(pool.source(rng))))
}

pub(crate) struct Population {
    seed: u64,
    sources: AddressSpace,
    /// Address keys of the persistent hosts, and their enrichment.
    persistent: Vec<u128>,
    persistent_enrichments: Vec<Enrichment>,
    /// A permutation of `persistent`'s indices; each day's hosts are a fresh partial shuffle.
    order: Vec<u32>,
    day_rows: Vec<u64>,
    /// The current day's hosts and rows.
    hosts: Vec<u128>,
    enrichments: Vec<Enrichment>,
    rows: Vec<RowDesc>,
}

impl Population {
    pub(crate) fn new(
        spec: &FeedSpec,
        pool: &SourcePool,
        info: &dyn AddressInfo,
        report: &Report,
        ipv6_per_mille: u32,
    ) -> Result<Population, GenerateError> {
        // Sinkholes count infected devices; the other reports hosts of exposed services.
        let profile = match report.family {
            Family::Sinkhole => Profile::Iot,
            _ => Profile::Scanners,
        };
        let sources = AddressSpace::new(pool, profile, ipv6_per_mille)?;
        let mut rng = Rng::stream(spec.seed, 0xFEED_0001);
        let weights: Vec<f64> = (0..spec.days).map(|_| 0.9 + 0.2 * rng.f64()).collect();
        let day_rows = apportion(spec.rows, &weights);
        let size = (spec.rows as f64 / spec.days as f64 * POPULATION_FACTOR).ceil() as usize;
        let persistent: Vec<u128> = (0..size).map(|_| sources.draw(&mut rng)).collect();
        let persistent_enrichments = persistent.iter().map(|&k| info.enrich(key_ip(k))).collect();
        Ok(Population {
            seed: spec.seed,
            sources,
            order: (0..size as u32).collect(),
            persistent,
            persistent_enrichments,
            day_rows,
            hosts: Vec::new(),
            enrichments: Vec::new(),
            rows: Vec::new(),
        })
    }

    /// Sinkhole servers (address and enrichment) for sinkhole reports, else none: a few fixed
    /// addresses of the report's family.
    pub(crate) fn sinkholes(
        &self,
        report: &Report,
        info: &dyn AddressInfo,
    ) -> Vec<(IpAddr, Enrichment)> {
        if report.family != Family::Sinkhole {
            return Vec::new();
        }
        let mut rng = Rng::stream(self.seed, 0xFEED_0002);
        let v6 = report.name.contains('6');
        (0..4)
            .map(|_| {
                let ip = match (&self.sources.v4, &self.sources.v6) {
                    (_, Some(p6)) if v6 => IpAddr::V6(Ipv6Addr::from(p6.source(&mut rng))),
                    (Some(p4), _) => IpAddr::V4(Ipv4Addr::from(p4.source(&mut rng))),
                    (None, Some(p6)) => IpAddr::V6(Ipv6Addr::from(p6.source(&mut rng))),
                    (None, None) => unreachable!("AddressSpace::new keeps at least one pool"),
                };
                (ip, info.enrich(ip))
            })
            .collect()
    }

    /// Draws day `day`'s hosts and rows (days in order).
    pub(crate) fn day(&mut self, day: u32, info: &dyn AddressInfo) -> Day<'_> {
        let n = self.day_rows[day as usize];
        let mut rng = Rng::stream(self.seed, 0xFEED_1000 + day as u64);
        let duplicates = (n as f64 * DUPLICATE_SHARE).round() as u64;
        let distinct = n - duplicates;
        let persistent = ((distinct as f64 * (1.0 - CHURN_SHARE)).round() as u64)
            .min(self.persistent.len() as u64) as usize;
        let churn = distinct - persistent as u64;

        self.hosts.clear();
        self.enrichments.clear();
        for i in 0..persistent {
            let j = i + rng.below((self.order.len() - i) as u64) as usize;
            self.order.swap(i, j);
            let host = self.order[i] as usize;
            self.hosts.push(self.persistent[host]);
            self.enrichments.push(self.persistent_enrichments[host]);
        }
        for _ in 0..churn {
            let key = self.sources.draw(&mut rng);
            self.hosts.push(key);
            self.enrichments.push(info.enrich(key_ip(key)));
        }

        self.rows.clear();
        let row = |rng: &mut Rng, host: usize| RowDesc {
            secs: rng.below(SECS_PER_DAY) as u32,
            host: host as u32,
            seed: rng.next_u64(),
        };
        for host in 0..self.hosts.len() {
            let r = row(&mut rng, host);
            self.rows.push(r);
        }
        if !self.hosts.is_empty() {
            for _ in 0..duplicates {
                let host = rng.below(self.hosts.len() as u64) as usize;
                let r = row(&mut rng, host);
                self.rows.push(r);
            }
        }
        self.rows.sort_unstable();
        Day {
            rows: &self.rows,
            hosts: &self.hosts,
            enrichments: &self.enrichments,
        }
    }
}
