//! The series Greenwatch watches, built in one pass over flow tuples: packets and distinct
//! sources of scan traffic per destination port, source country, source AS and fingerprint.

use crate::Allowlist;
use greenwatch_model::{CountryCode, Fingerprint, Transport};
use greenwatch_observe::FlowTuple;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;

/// What a series is about.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "dimension", rename_all = "lowercase")]
pub enum Subject {
    Port { transport: Transport, port: u16 },
    Country { country: CountryCode },
    Asn { asn: u32 },
    Fingerprint { fingerprint: Fingerprint },
}

impl Subject {
    /// Whether a flow counts towards this subject.
    pub fn matches(&self, f: &FlowTuple) -> bool {
        match *self {
            Subject::Port { transport, port } => {
                f.transport == transport && f.dst_port == port && !f.transport.is_icmp()
            }
            Subject::Country { country } => f.src_country == country,
            Subject::Asn { asn } => f.src_asn == asn,
            Subject::Fingerprint { fingerprint } => f.fingerprint == Some(fingerprint),
        }
    }

    fn of_flow(f: &FlowTuple) -> impl Iterator<Item = Subject> {
        let port = (!f.transport.is_icmp()).then_some(Subject::Port {
            transport: f.transport,
            port: f.dst_port,
        });
        let fingerprint = f
            .fingerprint
            .map(|fingerprint| Subject::Fingerprint { fingerprint });
        port.into_iter()
            .chain([
                Subject::Country {
                    country: f.src_country,
                },
                Subject::Asn { asn: f.src_asn },
            ])
            .chain(fingerprint)
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Port { transport, port } => write!(f, "port {port}/{transport}"),
            Subject::Country { country } => {
                write!(f, "country {}", country.as_str().unwrap_or("unknown"))
            }
            Subject::Asn { asn } => write!(f, "AS{asn}"),
            Subject::Fingerprint { fingerprint } => write!(f, "{} scanners", fingerprint.as_str()),
        }
    }
}

/// What is counted per bucket.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    Packets,
    /// Distinct source addresses in the bucket.
    Sources,
}

impl Measure {
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Packets => "packets",
            Measure::Sources => "sources",
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SeriesKey {
    pub subject: Subject,
    pub measure: Measure,
}

/// One dense series: `values[i]` belongs to the bucket starting at `first_secs + i * width_secs`;
/// `None` where nobody observed (no flow of any kind was stored for that bucket).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WatchedSeries {
    pub key: SeriesKey,
    pub first_secs: i64,
    pub width_secs: i64,
    pub values: Vec<Option<f64>>,
}

/// Accumulates watched flows into per-subject counts per bucket. Flows must come in bucket
/// order (as `ObservationStore::scan_flows` visits them), so distinct sources are counted one
/// bucket at a time and memory follows one bucket's sources, not the range's.
pub struct SeriesBook<'a> {
    allowlist: &'a Allowlist,
    from_secs: i64,
    to_secs: i64,
    width_secs: i64,
    current: Option<i64>,
    bucket_totals: FxHashMap<Subject, (u64, u64)>,
    bucket_sources: FxHashSet<(Subject, IpAddr)>,
    /// Per subject: (bucket index, packets, sources) of non-empty buckets, in order.
    sparse: FxHashMap<Subject, Vec<(u32, u64, u64)>>,
    /// Buckets in which any flow at all was stored (backscatter, allowlisted sources and all):
    /// the sensors were observing then, so a subject's silence in them is a real zero. A
    /// darknet is never silent for a whole bucket while its sensor runs.
    observed: Vec<bool>,
}

impl<'a> SeriesBook<'a> {
    /// A book for buckets starting in `[from_secs, to_secs)`, `width_secs` wide (`from_secs`
    /// is aligned down to the width).
    pub fn new(allowlist: &'a Allowlist, from_secs: i64, to_secs: i64, width_secs: i64) -> Self {
        let width_secs = width_secs.max(1);
        SeriesBook {
            allowlist,
            from_secs: from_secs.div_euclid(width_secs) * width_secs,
            to_secs,
            width_secs,
            current: None,
            bucket_totals: FxHashMap::default(),
            bucket_sources: FxHashSet::default(),
            sparse: FxHashMap::default(),
            observed: Vec::new(),
        }
    }

    /// Adds one flow; flows outside the range, not scans, or from allowlisted sources are left
    /// out. Panics if flows go back in time by more than one bucket, which would mean the
    /// caller broke the ordering contract and distinct counts would be wrong.
    pub fn add(&mut self, f: &FlowTuple) {
        if f.bucket < self.from_secs || f.bucket >= self.to_secs {
            return;
        }
        let bucket = (f.bucket - self.from_secs) / self.width_secs;
        let index = bucket as usize;
        if index >= self.observed.len() {
            self.observed.resize(index + 1, false);
        }
        self.observed[index] = true;
        if !self.allowlist.watches(f) {
            return;
        }
        match self.current {
            Some(c) if c == bucket => {}
            Some(c) => {
                assert!(bucket > c, "flows must come in bucket order");
                self.flush();
                self.current = Some(bucket);
            }
            None => self.current = Some(bucket),
        }
        for subject in Subject::of_flow(f) {
            let t = self.bucket_totals.entry(subject).or_default();
            t.0 += f.packets;
            if self.bucket_sources.insert((subject, f.src)) {
                t.1 += 1;
            }
        }
    }

    fn flush(&mut self) {
        let Some(bucket) = self.current else { return };
        for (subject, (packets, sources)) in self.bucket_totals.drain() {
            self.sparse
                .entry(subject)
                .or_default()
                .push((bucket as u32, packets, sources));
        }
        self.bucket_sources.clear();
    }

    /// Dense series of every subject whose busiest bucket reaches `min_peak` (quieter series
    /// cannot produce an anomaly the detector would report), sorted by key.
    pub fn finish(mut self, min_peak: f64) -> Vec<WatchedSeries> {
        self.flush();
        let len = ((self.to_secs - self.from_secs) as f64 / self.width_secs as f64).ceil() as usize;
        let mut out = Vec::new();
        for (subject, points) in self.sparse {
            for measure in [Measure::Packets, Measure::Sources] {
                let pick = |&(_, p, s): &(u32, u64, u64)| match measure {
                    Measure::Packets => p,
                    Measure::Sources => s,
                };
                if points.iter().map(pick).max().unwrap_or(0) < min_peak as u64 {
                    continue;
                }
                let mut values: Vec<Option<f64>> = (0..len)
                    .map(|i| {
                        self.observed
                            .get(i)
                            .copied()
                            .unwrap_or(false)
                            .then_some(0.0)
                    })
                    .collect();
                for point in &points {
                    values[point.0 as usize] = Some(pick(point) as f64);
                }
                out.push(WatchedSeries {
                    key: SeriesKey { subject, measure },
                    first_secs: self.from_secs,
                    width_secs: self.width_secs,
                    values,
                });
            }
        }
        out.sort_by_key(|s| s.key);
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use greenwatch_model::TrafficClass;

    pub(crate) fn flow(bucket: i64, src: &str, port: u16, packets: u64) -> FlowTuple {
        FlowTuple {
            bucket,
            src: src.parse().unwrap(),
            dst_net: "198.18.0.0".parse().unwrap(),
            dst_port: port,
            transport: Transport::TCP,
            class: TrafficClass::Scan,
            fingerprint: None,
            src_asn: 64500,
            src_country: "JP".parse().unwrap(),
            packets,
            bytes: packets * 60,
            unique_dsts: 1,
            first_ttl: 50,
            first_tcp_window: 1024,
            first_len: 60,
        }
    }

    #[test]
    fn counts_packets_and_distinct_sources_per_bucket_leaving_out_allowlisted() {
        let allow = Allowlist::parse("192.0.2.0/24 lab").unwrap();
        let mut book = SeriesBook::new(&allow, 0, 3 * 3600, 3600);
        book.add(&flow(0, "203.0.113.1", 23, 5));
        book.add(&flow(0, "203.0.113.1", 23, 2));
        book.add(&flow(0, "203.0.113.2", 23, 1));
        book.add(&flow(0, "192.0.2.9", 23, 100));
        let mut backscatter = flow(3600, "203.0.113.3", 23, 50);
        backscatter.class = TrafficClass::Backscatter;
        book.add(&backscatter);
        book.add(&flow(7200, "203.0.113.1", 23, 4));
        let series = book.finish(0.0);
        let port = |m| {
            series
                .iter()
                .find(|s| {
                    s.key
                        == SeriesKey {
                            subject: Subject::Port {
                                transport: Transport::TCP,
                                port: 23,
                            },
                            measure: m,
                        }
                })
                .unwrap()
                .values
                .clone()
        };
        // The second hour saw only backscatter: observed, and port 23 scans were zero.
        assert_eq!(
            port(Measure::Packets),
            vec![Some(8.0), Some(0.0), Some(4.0)]
        );
        assert_eq!(
            port(Measure::Sources),
            vec![Some(2.0), Some(0.0), Some(1.0)]
        );
        assert!(series
            .iter()
            .any(|s| s.key.subject == Subject::Asn { asn: 64500 }));
    }

    #[test]
    fn buckets_without_any_flow_are_unobserved_not_zero() {
        let allow = Allowlist::default();
        let mut book = SeriesBook::new(&allow, 0, 4 * 3600, 3600);
        book.add(&flow(3600, "203.0.113.1", 23, 20));
        book.add(&flow(3 * 3600, "203.0.113.1", 80, 20));
        let series = book.finish(0.0);
        let port23 = series
            .iter()
            .find(|s| {
                s.key.measure == Measure::Packets && s.key.subject.to_string() == "port 23/tcp"
            })
            .unwrap();
        assert_eq!(port23.values, vec![None, Some(20.0), None, Some(0.0)]);
    }

    #[test]
    fn quiet_series_are_left_out() {
        let allow = Allowlist::default();
        let mut book = SeriesBook::new(&allow, 0, 3600, 3600);
        book.add(&flow(0, "203.0.113.1", 23, 5));
        assert!(book.finish(6.0).is_empty());
    }
}
