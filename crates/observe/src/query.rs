//! Questions over flow tuples: who and what is top in a time range, and how a filtered
//! slice of traffic evolves bucket by bucket. Distinct sources are counted over the whole
//! range asked for (an address counts once), not summed per bucket.

use crate::FlowTuple;
use greenwatch_model::{CountryCode, Timestamp, TrafficClass, Transport};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::net::IpAddr;

/// Which flows a question is about. `None` fields match everything; times are bucket starts
/// in seconds, `from` inclusive and `to` exclusive.
#[derive(Clone, Debug, Default)]
pub struct FlowFilter {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub class: Option<TrafficClass>,
    pub port: Option<u16>,
    pub transport: Option<Transport>,
    pub country: Option<CountryCode>,
}

impl FlowFilter {
    pub fn matches(&self, f: &FlowTuple) -> bool {
        self.from.is_none_or(|t| f.bucket >= t)
            && self.to.is_none_or(|t| f.bucket < t)
            && self.class.is_none_or(|c| f.class == c)
            && self
                .port
                .is_none_or(|p| f.dst_port == p && !f.transport.is_icmp())
            && self.transport.is_none_or(|t| f.transport == t)
            && self.country.is_none_or(|c| f.src_country == c)
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TopBy {
    Port,
    Country,
    Asn,
    Source,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum TopKey {
    Port(Transport, u16),
    Country(CountryCode),
    Asn(u32),
    Source(IpAddr),
}

/// One row of a top list. Only the fields of the chosen dimension are set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TopRow {
    pub rank: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Transport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// Set for country, ASN and source rows (`null` when unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<CountryCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    pub packets: u64,
    pub bytes: u64,
    pub sources: u64,
}

/// Accumulates flows into a top list of one dimension, by packets.
/// ICMP flows have no destination port and are left out of `TopBy::Port`.
pub struct Top {
    by: TopBy,
    filter: FlowFilter,
    totals: FxHashMap<TopKey, (u64, u64, u32, CountryCode)>,
    seen: FxHashSet<(TopKey, IpAddr)>,
    sources: FxHashMap<TopKey, u64>,
}

impl Top {
    pub fn new(by: TopBy, filter: FlowFilter) -> Top {
        Top {
            by,
            filter,
            totals: FxHashMap::default(),
            seen: FxHashSet::default(),
            sources: FxHashMap::default(),
        }
    }

    pub fn add(&mut self, f: &FlowTuple) {
        if !self.filter.matches(f) {
            return;
        }
        let key = match self.by {
            TopBy::Port if f.transport.is_icmp() => return,
            TopBy::Port => TopKey::Port(f.transport, f.dst_port),
            TopBy::Country => TopKey::Country(f.src_country),
            TopBy::Asn => TopKey::Asn(f.src_asn),
            TopBy::Source => TopKey::Source(f.src),
        };
        let t = self
            .totals
            .entry(key)
            .or_insert((0, 0, f.src_asn, f.src_country));
        t.0 += f.packets;
        t.1 += f.bytes;
        if self.seen.insert((key, f.src)) {
            *self.sources.entry(key).or_default() += 1;
        }
    }

    /// The first `limit` rows by packets, ties broken by key.
    pub fn finish(self, limit: usize) -> Vec<TopRow> {
        let sources = self.sources;
        let rows: Vec<_> = self.totals.into_iter().collect();
        rank_by_packets(rows, |t| t.0, limit)
            .map(|(rank, key, (packets, bytes, asn, country))| {
                let mut row = TopRow::unkeyed(rank, packets, bytes, sources[&key]);
                match key {
                    TopKey::Port(t, p) => (row.protocol, row.port) = (Some(t), Some(p)),
                    TopKey::Country(c) => row.country = Some(c),
                    TopKey::Asn(a) => row.asn = Some(a),
                    TopKey::Source(ip) => {
                        (row.ip, row.asn, row.country) = (Some(ip), Some(asn), Some(country))
                    }
                }
                row
            })
            .collect()
    }
}

/// `rows` ranked as every top list ranks them: by packets, most first, ties by key; the first
/// `limit`, each with its rank from 1.
pub fn rank_by_packets<K: Ord, T>(
    mut rows: Vec<(K, T)>,
    packets: impl Fn(&T) -> u64,
    limit: usize,
) -> impl Iterator<Item = (u32, K, T)> {
    rows.sort_unstable_by(|a, b| packets(&b.1).cmp(&packets(&a.1)).then(a.0.cmp(&b.0)));
    rows.into_iter()
        .take(limit)
        .enumerate()
        .map(|(i, (key, t))| (i as u32 + 1, key, t))
}

impl TopRow {
    /// A row of rank `rank` whose key (port, country, AS or source) the caller sets.
    pub fn unkeyed(rank: u32, packets: u64, bytes: u64, sources: u64) -> TopRow {
        TopRow {
            rank,
            port: None,
            protocol: None,
            ip: None,
            country: None,
            asn: None,
            packets,
            bytes,
            sources,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeriesPoint {
    pub bucket: Timestamp,
    pub packets: u64,
    pub bytes: u64,
    pub sources: u64,
}

/// Accumulates packets, bytes and distinct sources per bucket of `width_secs` for flows
/// matching the filter.
pub struct Series {
    filter: FlowFilter,
    width_secs: i64,
    totals: FxHashMap<i64, (u64, u64)>,
    seen: FxHashSet<(i64, IpAddr)>,
}

impl Series {
    pub fn new(filter: FlowFilter, width_secs: i64) -> Series {
        Series {
            filter,
            width_secs,
            totals: FxHashMap::default(),
            seen: FxHashSet::default(),
        }
    }

    pub fn add(&mut self, f: &FlowTuple) {
        if !self.filter.matches(f) {
            return;
        }
        let b = f.bucket.div_euclid(self.width_secs) * self.width_secs;
        let t = self.totals.entry(b).or_default();
        t.0 += f.packets;
        t.1 += f.bytes;
        self.seen.insert((b, f.src));
    }

    /// Points in time order, empty buckets filled in between the first and last bucket seen
    /// (or the filter's `from` / `to` when set).
    pub fn finish(self) -> Vec<SeriesPoint> {
        let width = self.width_secs;
        let mut sources: FxHashMap<i64, u64> = FxHashMap::default();
        for (b, _) in self.seen {
            *sources.entry(b).or_default() += 1;
        }
        let align = |t: i64| t.div_euclid(width) * width;
        let first = self
            .filter
            .from
            .map(align)
            .or_else(|| self.totals.keys().min().copied());
        let last = self
            .filter
            .to
            .map(|t| align(t - 1))
            .or_else(|| self.totals.keys().max().copied());
        let (Some(first), Some(last)) = (first, last) else {
            return Vec::new();
        };
        let totals = self.totals;
        (0..)
            .map(|i| first + i * width)
            .take_while(|b| *b <= last)
            .map(|b| {
                let (packets, bytes) = totals.get(&b).copied().unwrap_or_default();
                SeriesPoint {
                    bucket: Timestamp::from_secs(b),
                    packets,
                    bytes,
                    sources: sources.get(&b).copied().unwrap_or_default(),
                }
            })
            .collect()
    }
}
