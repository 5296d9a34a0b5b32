//! The distinct hosts of a risk in a period, from feed events or from our own observations.
//! Every address appears once, attributed to the ASN and country of its first sighting in the
//! period.

use greenwatch_feeds::ObservedRule;
use greenwatch_model::access::Viewer;
use greenwatch_model::{ip_key, CountryCode, Period, TrafficClass};
use greenwatch_observe::FlowTuple;
use greenwatch_store::{ObservationStore, RiskStore, StoreError, TimeRange};

/// One distinct host of a period.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// The address as [`ip_key`]: IPv4 as IPv4-mapped IPv6.
    pub key: u128,
    pub asn: u32,
    pub country: CountryCode,
}

impl Host {
    pub fn is_ipv6(&self) -> bool {
        self.key >> 32 != 0xffff
    }
}

/// A sighting: when it was seen, for the first-sighting attribution.
struct Sighting {
    key: u128,
    time: i64,
    /// UTC day (days since 1970-01-01) it was seen on.
    day: i64,
    asn: u32,
    country: CountryCode,
}

/// The distinct hosts of a period, and on how many of its days any host was reported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeriodHosts {
    pub hosts: Vec<Host>,
    pub days_with_data: u32,
}

/// Keeps the first sighting of every address, sorted by address, and counts the days seen.
fn distinct(mut sightings: Vec<Sighting>) -> PeriodHosts {
    // Sightings come in runs of one day (segments are stored per day): keep one per run.
    let mut days: Vec<i64> = Vec::new();
    for s in &sightings {
        if days.last() != Some(&s.day) {
            days.push(s.day);
        }
    }
    days.sort_unstable();
    days.dedup();
    // Stored segments are already sorted by address, so the input is a series of sorted
    // runs: the stable sort finds and merges them, several times faster than an unstable one.
    sightings.sort_by_key(|s| (s.key, s.time));
    sightings.dedup_by_key(|s| s.key);
    let hosts = sightings
        .drain(..)
        .map(|s| Host {
            key: s.key,
            asn: s.asn,
            country: s.country,
        })
        .collect();
    PeriodHosts {
        hosts,
        days_with_data: days.len() as u32,
    }
}

/// Distinct hosts of feed risk `slug` in `period`.
pub fn feed_hosts(
    store: &dyn RiskStore,
    viewer: &Viewer,
    slug: &str,
    period: Period,
) -> Result<PeriodHosts, StoreError> {
    let mut sightings = Vec::new();
    store.scan_risk_events(viewer, slug, period.start, period.end(), &mut |e| {
        sightings.push(Sighting {
            key: e.ip_key(),
            time: e.time.0,
            day: e.time.to_datetime().timestamp().div_euclid(86_400),
            asn: e.enrichment.asn,
            country: e.enrichment.country,
        })
    })?;
    Ok(distinct(sightings))
}

fn matches(rule: ObservedRule, flow: &FlowTuple) -> bool {
    match rule {
        ObservedRule::Fingerprint(f) => flow.fingerprint == Some(f),
        ObservedRule::ScanSources => flow.class == TrafficClass::Scan,
    }
}

/// Seconds since the epoch at the start of `date` (UTC).
fn midnight(date: chrono::NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp()
}

/// Distinct sources matching an observed risk's rule in `period`, from stored flow tuples
/// (whose source ASN and country were enriched at ingest).
pub fn observed_hosts(
    store: &dyn ObservationStore,
    viewer: &Viewer,
    rule: ObservedRule,
    period: Period,
) -> Result<PeriodHosts, StoreError> {
    let range = TimeRange {
        from: Some(midnight(period.start)),
        to: Some(midnight(period.end())),
    };
    let mut sightings = Vec::new();
    store.scan_flows(viewer, range, None, &mut |flow| {
        if matches(rule, flow) {
            sightings.push(Sighting {
                key: ip_key(flow.src),
                time: flow.bucket,
                day: flow.bucket.div_euclid(86_400),
                asn: flow.src_asn,
                country: flow.src_country,
            });
        }
    })?;
    Ok(distinct(sightings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sighting_wins_and_each_address_counts_once() {
        let jp: CountryCode = "JP".parse().unwrap();
        let kr: CountryCode = "KR".parse().unwrap();
        let s = |ip: &str, time, country| Sighting {
            key: ip_key(ip.parse().unwrap()),
            time,
            day: time / 15,
            asn: 1,
            country,
        };
        let found = distinct(vec![
            s("192.0.2.1", 20, kr),
            s("2001:db8::1", 5, jp),
            s("192.0.2.1", 10, jp),
            s("192.0.2.2", 30, kr),
        ]);
        assert_eq!(found.days_with_data, 3, "days 0, 1 and 2");
        let hosts = found.hosts;
        assert_eq!(hosts.len(), 3);
        assert_eq!(
            hosts[0].country, jp,
            "the earlier sighting of 192.0.2.1 wins"
        );
        assert!(!hosts[0].is_ipv6() && hosts[2].is_ipv6());
    }
}
