//! Why a series departed from its baseline: which sources, countries, ASes, ports and
//! fingerprints carried the anomaly's traffic, and when each top source was first seen.

use crate::{Allowlist, Subject};
use greenwatch_model::alert::{Contributor, Explanation};
use greenwatch_model::{CountryCode, Fingerprint, Timestamp, Transport};
use greenwatch_observe::FlowTuple;
use rustc_hash::FxHashMap;
use std::hash::Hash;
use std::net::IpAddr;

/// Accumulates the flows of one subject: those in `[from, to)` count towards the anomaly;
/// earlier ones (from the look-back start) only date when its sources were first seen.
pub struct Contributors<'a> {
    subject: Subject,
    allowlist: &'a Allowlist,
    from: i64,
    to: i64,
    packets: u64,
    sources: FxHashMap<IpAddr, u64>,
    first_seen: FxHashMap<IpAddr, i64>,
    countries: FxHashMap<CountryCode, u64>,
    asns: FxHashMap<u32, u64>,
    ports: FxHashMap<(u16, Transport), u64>,
    fingerprints: FxHashMap<Fingerprint, u64>,
}

impl<'a> Contributors<'a> {
    pub fn new(subject: Subject, allowlist: &'a Allowlist, from: i64, to: i64) -> Self {
        Contributors {
            subject,
            allowlist,
            from,
            to,
            packets: 0,
            sources: FxHashMap::default(),
            first_seen: FxHashMap::default(),
            countries: FxHashMap::default(),
            asns: FxHashMap::default(),
            ports: FxHashMap::default(),
            fingerprints: FxHashMap::default(),
        }
    }

    /// Adds one flow (any order; flows of other subjects, after `to`, or not watched are
    /// ignored).
    pub fn add(&mut self, f: &FlowTuple) {
        if f.bucket >= self.to || !self.subject.matches(f) || !self.allowlist.watches(f) {
            return;
        }
        let first = self.first_seen.entry(f.src).or_insert(f.bucket);
        *first = (*first).min(f.bucket);
        if f.bucket < self.from {
            return;
        }
        self.packets += f.packets;
        *self.sources.entry(f.src).or_default() += f.packets;
        *self.countries.entry(f.src_country).or_default() += f.packets;
        *self.asns.entry(f.src_asn).or_default() += f.packets;
        if !f.transport.is_icmp() {
            *self.ports.entry((f.dst_port, f.transport)).or_default() += f.packets;
        }
        if let Some(fp) = f.fingerprint {
            *self.fingerprints.entry(fp).or_default() += f.packets;
        }
    }

    /// The `limit` biggest contributors of each kind, by packets.
    pub fn finish(self, limit: usize) -> Explanation {
        let total = self.packets;
        let first_seen = &self.first_seen;
        Explanation {
            packets: total,
            sources: top(self.sources, limit, total, |ip| {
                (
                    ip.to_string(),
                    first_seen.get(ip).copied().map(Timestamp::from_secs),
                )
            }),
            countries: top(self.countries, limit, total, |c| {
                (c.as_str().unwrap_or("unknown").to_string(), None)
            }),
            asns: top(self.asns, limit, total, |a| (format!("AS{a}"), None)),
            ports: top(self.ports, limit, total, |(p, t)| {
                (format!("{p}/{t}"), None)
            }),
            fingerprints: top(self.fingerprints, limit, total, |f| {
                (f.as_str().to_string(), None)
            }),
        }
    }
}

fn top<K: Ord + Hash>(
    counts: FxHashMap<K, u64>,
    limit: usize,
    total: u64,
    describe: impl Fn(&K) -> (String, Option<Timestamp>),
) -> Vec<Contributor> {
    let mut rows: Vec<(K, u64)> = counts.into_iter().collect();
    rows.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    rows.into_iter()
        .take(limit)
        .map(|(key, packets)| {
            let (name, first_seen) = describe(&key);
            Contributor {
                name,
                packets,
                share: packets as f64 / total.max(1) as f64,
                first_seen,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::tests::flow;

    #[test]
    fn ranks_sources_of_the_window_and_dates_them_from_the_look_back() {
        let allow = Allowlist::default();
        let port = Subject::Port {
            transport: Transport::TCP,
            port: 23,
        };
        let mut c = Contributors::new(port, &allow, 7200, 10800);
        c.add(&flow(0, "203.0.113.1", 23, 1));
        c.add(&flow(7200, "203.0.113.1", 23, 30));
        c.add(&flow(7200, "203.0.113.2", 23, 10));
        c.add(&flow(7200, "203.0.113.9", 80, 500));
        c.add(&flow(10800, "203.0.113.3", 23, 99));
        let e = c.finish(5);
        assert_eq!(e.packets, 40);
        assert_eq!(e.sources[0].name, "203.0.113.1");
        assert_eq!(e.sources[0].first_seen, Some(Timestamp::from_secs(0)));
        assert_eq!(e.sources[1].first_seen, Some(Timestamp::from_secs(7200)));
        assert!((e.sources[0].share - 0.75).abs() < 1e-9);
        assert_eq!(e.countries[0].name, "JP");
        assert_eq!(e.asns[0].name, "AS64500");
        assert_eq!(e.ports[0].name, "23/tcp");
        assert!(e.fingerprints.is_empty());
    }
}
