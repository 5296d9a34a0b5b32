//! The ingest hot path after decoding: one hash-map update per packet into the flow table of
//! the packet's bucket, plus a slot update for backscatter. Enrichment happens once per new
//! flow, not per packet.

use crate::dos::{BackscatterSlot, DOS_SLOT_SECS};
use crate::flow::{dst_host_octet, dst_network};
use crate::rollup::{build_rollups, Rollup};
use crate::FlowTuple;
use greenwatch_model::{
    BucketWidth, ClassCounts, CountryCode, Enrichment, Fingerprint, FingerprintCounts, Timestamp,
    TrafficClass, Transport,
};
use greenwatch_packet::Packet;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Source of ASN/country for an address as of a time (normally the netdb).
pub trait Enricher {
    fn enrich(&self, ip: IpAddr, at: Timestamp) -> Enrichment;
}

impl<F: Fn(IpAddr, Timestamp) -> Enrichment> Enricher for F {
    fn enrich(&self, ip: IpAddr, at: Timestamp) -> Enrichment {
        self(ip, at)
    }
}

/// Totals of one ingest, in the same shape as the generator's ground truth.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IngestCounts {
    /// Every capture record read, IP or not.
    pub packets: u64,
    pub bytes: u64,
    pub ipv6_packets: u64,
    pub by_class: ClassCounts,
    pub by_fingerprint: FingerprintCounts,
    /// Records that yielded no classified packet, by reason.
    pub errors: BTreeMap<String, u64>,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
}

impl IngestCounts {
    pub fn merge(&mut self, other: &IngestCounts) {
        self.packets += other.packets;
        self.bytes += other.bytes;
        self.ipv6_packets += other.ipv6_packets;
        for class in TrafficClass::ALL {
            self.by_class.add(class, other.by_class.get(class));
        }
        self.by_fingerprint.mirai += other.by_fingerprint.mirai;
        self.by_fingerprint.masscan += other.by_fingerprint.masscan;
        self.by_fingerprint.zmap += other.by_fingerprint.zmap;
        for (reason, n) in &other.errors {
            *self.errors.entry(reason.clone()).or_default() += n;
        }
        self.first = self.first.into_iter().chain(other.first).min();
        self.last = self.last.into_iter().chain(other.last).max();
    }
}

/// Flow tuples of one bucket (or one part of it, see [`Aggregator`]). Rollups are made by
/// whoever needs them ([`build_rollups`]): the store when it writes a bucket alone, not the
/// sensor, whose collector enriches the flows first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClosedBucket {
    pub bucket: i64,
    /// Grouped by source, in address order.
    pub flows: Vec<FlowTuple>,
}

/// Everything one capture contributes to the store, held in memory (small inputs and tests;
/// ingest streams [`ClosedBucket`]s instead).
#[derive(Clone, Debug, Default)]
pub struct Observations {
    pub counts: IngestCounts,
    /// Sorted by bucket.
    pub buckets: Vec<ClosedBucket>,
    /// Sorted by (victim, transport, slot).
    pub backscatter: Vec<BackscatterSlot>,
}

impl Observations {
    pub fn flows(&self) -> impl Iterator<Item = &FlowTuple> {
        self.buckets.iter().flat_map(|b| &b.flows)
    }

    /// Rollups of all buckets (parts of one bucket together).
    pub fn rollups(&self) -> Vec<Rollup> {
        build_rollups(&self.flows().cloned().collect::<Vec<_>>())
    }
}

/// Flow key of an IPv6 packet within one bucket. IPv4 packets, nearly all of a darknet's,
/// use the packed [`V4Record`] instead.
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct V6Key {
    src: u128,
    dst_net: u128,
    dst_port: u16,
    transport: u8,
    class: u8,
    fingerprint: u8,
}

/// What a flow tuple keeps of each of its packets.
#[derive(Copy, Clone)]
struct PacketFacts {
    wire_len: u32,
    tcp_window: u16,
    dst_octet: u8,
    ttl: u8,
}

/// What the hot path keeps of an IPv4 packet: appending this to the bucket's vector is a
/// sequential write, where updating a hash table of millions of flows is a cache miss per
/// packet. Records become flow tuples when the bucket closes (sort, then runs).
///
/// The flow key and arrival order share one integer, so the sort (most of the cost of a
/// bucket) compares one `u128` and moves 32-byte records: source (bits 96..128),
/// destination /24 (72..96), port (56..72), transport, class, fingerprint (8 bits each,
/// from 48 down to 32), then the packet's arrival order within the bucket (0..32), so the
/// first record of a run is the flow's first packet.
#[derive(Copy, Clone)]
struct V4Record {
    key_seq: u128,
    facts: PacketFacts,
}

impl V4Record {
    fn key(&self) -> u128 {
        self.key_seq >> 32
    }
}

#[derive(Copy, Clone)]
struct V6Record {
    key: V6Key,
    /// Arrival order within the bucket, to find a flow's first packet after sorting.
    seq: u32,
    facts: PacketFacts,
}

/// The records of one open bucket (or part), IPv4 and IPv6 apart. Flow tuples come out in
/// `IpAddr` order: every IPv4 source before every IPv6 one.
#[derive(Default)]
struct BucketRecords {
    v4: Vec<V4Record>,
    v6: Vec<V6Record>,
}

impl BucketRecords {
    fn with_capacity(records: usize) -> Self {
        BucketRecords {
            v4: Vec::with_capacity(records),
            v6: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    fn push(&mut self, p: &Packet) {
        let facts = PacketFacts {
            wire_len: p.wire_len,
            tcp_window: p.tcp_window,
            dst_octet: dst_host_octet(p.dst),
            ttl: p.ttl,
        };
        let dst_net = addr_bits(dst_network(p.dst));
        let (transport, class) = (p.transport.0, p.class.code());
        let fingerprint = p.fingerprint.map_or(0, Fingerprint::code);
        match p.src {
            IpAddr::V4(src) => {
                // A /24 (or, for an IPv6 destination, the low bits of a /64: zero).
                let dst24 = (dst_net as u32 >> 8) as u128;
                let key = (u32::from(src) as u128) << 64
                    | dst24 << 40
                    | (p.dst_port as u128) << 24
                    | (transport as u128) << 16
                    | (class as u128) << 8
                    | fingerprint as u128;
                self.v4.push(V4Record {
                    key_seq: key << 32 | self.v4.len() as u128,
                    facts,
                });
            }
            IpAddr::V6(src) => {
                let seq = self.v6.len() as u32;
                self.v6.push(V6Record {
                    key: V6Key {
                        src: src.into(),
                        dst_net,
                        dst_port: p.dst_port,
                        transport,
                        class,
                        fingerprint,
                    },
                    seq,
                    facts,
                });
            }
        }
    }
}

/// Records per bucket part: bounds the memory of one open bucket (64 bytes a record).
const MAX_RECORDS_PER_PART: usize = 4 << 20;

#[derive(Copy, Clone, PartialEq, Eq, Hash)]
struct SlotKey {
    victim: IpAddr,
    transport: u8,
    slot: i64,
}

/// How many bucket widths behind the newest packet a bucket stays open for late packets.
const OPEN_BUCKETS: i64 = 2;

/// Accumulates packets into flow tuples per bucket. Buckets are sealed once packets have
/// moved [`OPEN_BUCKETS`] widths past them, so memory follows the traffic of a bucket (at
/// most [`MAX_RECORDS_PER_PART`] records), not the length of the capture. A packet for a
/// bucket already sealed reopens it as another part; the store merges parts (see
/// `ObservationStore`).
pub struct Aggregator<E> {
    width: BucketWidth,
    enricher: E,
    counts: IngestCounts,
    open: Vec<(i64, BucketRecords)>,
    sealed: Vec<SealedBucket>,
    slots: FxHashMap<SlotKey, BackscatterSlot>,
    newest_bucket: i64,
    current_bucket: (i64, i64),
    /// Records of the last sealed bucket: the next bucket's vector starts with that capacity.
    last_bucket_records: usize,
}

impl<E: Enricher> Aggregator<E> {
    pub fn new(width: BucketWidth, enricher: E) -> Self {
        Aggregator {
            width,
            enricher,
            counts: IngestCounts::default(),
            open: Vec::new(),
            sealed: Vec::new(),
            slots: FxHashMap::default(),
            newest_bucket: i64::MIN,
            current_bucket: (i64::MAX, i64::MIN),
            last_bucket_records: 0,
        }
    }

    /// Counts a record that produced no packet (`reason` is a stable key such as `not_ip`).
    pub fn add_error(&mut self, reason: &str, wire_len: u32) {
        self.counts.packets += 1;
        self.counts.bytes += wire_len as u64;
        match self.counts.errors.get_mut(reason) {
            Some(n) => *n += 1,
            None => {
                self.counts.errors.insert(reason.to_string(), 1);
            }
        }
    }

    pub fn add(&mut self, p: &Packet) {
        let c = &mut self.counts;
        c.packets += 1;
        c.bytes += p.wire_len as u64;
        c.by_class.add(p.class, 1);
        if let Some(f) = p.fingerprint {
            c.by_fingerprint.add(f, 1);
        }
        if p.src.is_ipv6() {
            c.ipv6_packets += 1;
        }
        if c.first.is_none_or(|t| p.ts < t) {
            c.first = Some(p.ts);
        }
        if c.last.is_none_or(|t| p.ts > t) {
            c.last = Some(p.ts);
        }
        if p.class == TrafficClass::Backscatter {
            self.add_backscatter(p);
        }
        let bucket = self.bucket_of(p.ts);
        let records = open_bucket(&mut self.open, bucket, self.last_bucket_records);
        records.push(p);
        if records.len() >= MAX_RECORDS_PER_PART {
            // A huge bucket is stored in parts; the store merges them (as for late packets).
            let records = std::mem::take(records);
            self.sealed.push(SealedBucket::new(bucket, records));
        }
    }

    fn bucket_of(&mut self, ts: Timestamp) -> i64 {
        let secs = ts.secs();
        let (start, end) = self.current_bucket;
        if secs >= start && secs < end {
            return start;
        }
        let start = self.width.start_of(ts);
        self.current_bucket = (start, start + self.width.0 as i64);
        if start > self.newest_bucket {
            self.newest_bucket = start;
            self.close_old_buckets();
        }
        start
    }

    fn close_old_buckets(&mut self) {
        let horizon = self.newest_bucket - OPEN_BUCKETS * self.width.0 as i64;
        let mut i = 0;
        while i < self.open.len() {
            if self.open[i].0 <= horizon {
                let (bucket, records) = self.open.remove(i);
                self.last_bucket_records = records.len();
                self.sealed.push(SealedBucket::new(bucket, records));
            } else {
                i += 1;
            }
        }
    }

    fn add_backscatter(&mut self, p: &Packet) {
        let key = SlotKey {
            victim: p.src,
            transport: p.transport.0,
            slot: ts_slot(p.ts),
        };
        let slot = self.slots.entry(key).or_insert_with(|| BackscatterSlot {
            victim: p.src,
            transport: p.transport,
            slot: key.slot,
            victim_asn: 0,
            victim_country: CountryCode::UNKNOWN,
            packets: 0,
            bytes: 0,
            first: p.ts,
            last: p.ts,
        });
        slot.packets += 1;
        slot.bytes += p.wire_len as u64;
        slot.first = slot.first.min(p.ts);
        slot.last = slot.last.max(p.ts);
    }

    /// Buckets sealed since the last call, oldest first. Closing them (sorting, enrichment,
    /// rollups) can happen on another thread.
    pub fn drain_sealed(&mut self) -> std::vec::Drain<'_, SealedBucket> {
        self.sealed.drain(..)
    }

    /// True when [`Self::drain_sealed`] has something.
    pub fn has_sealed(&self) -> bool {
        !self.sealed.is_empty()
    }

    /// Closes every bucket not drained yet and enriches the backscatter.
    pub fn finish(mut self) -> Observations {
        let open = std::mem::take(&mut self.open);
        let sealed = self.sealed.into_iter().chain(
            open.into_iter()
                .map(|(bucket, records)| SealedBucket::new(bucket, records)),
        );
        let mut buckets: Vec<ClosedBucket> = sealed.map(|b| b.close(&self.enricher)).collect();
        buckets.sort_by_key(|b| b.bucket);
        let mut backscatter: Vec<BackscatterSlot> = self.slots.into_values().collect();
        backscatter.sort_unstable_by_key(|s| (s.victim, s.transport, s.slot));
        // Sorted by victim: one lookup per victim, at the time of its first slot.
        let mut victims = RunEnricher::new(&self.enricher);
        for slot in &mut backscatter {
            let e = victims.enrich(slot.victim, slot.first);
            (slot.victim_asn, slot.victim_country) = (e.asn, e.country);
        }
        Observations {
            counts: self.counts,
            buckets,
            backscatter,
        }
    }
}

/// Enriches a sequence of addresses in which equal addresses come in runs (sorted input)
/// with one lookup per run.
struct RunEnricher<'e, E> {
    enricher: &'e E,
    last: Option<(IpAddr, Enrichment)>,
}

impl<'e, E: Enricher> RunEnricher<'e, E> {
    fn new(enricher: &'e E) -> Self {
        RunEnricher {
            enricher,
            last: None,
        }
    }

    fn enrich(&mut self, ip: IpAddr, at: Timestamp) -> Enrichment {
        match self.last {
            Some((last, e)) if last == ip => e,
            _ => {
                let e = self.enricher.enrich(ip, at);
                self.last = Some((ip, e));
                e
            }
        }
    }
}

/// The open record vector of `bucket`, created with room for `expected` records if new.
fn open_bucket(
    open: &mut Vec<(i64, BucketRecords)>,
    bucket: i64,
    expected: usize,
) -> &mut BucketRecords {
    // Usually the last one: packets arrive in time order.
    let i = match open.iter().rposition(|(b, _)| *b == bucket) {
        Some(i) => i,
        None => {
            open.push((bucket, BucketRecords::with_capacity(expected)));
            open.len() - 1
        }
    };
    &mut open[i].1
}

fn addr_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

/// A bucket (or part of one) that takes no more packets, before it becomes flow tuples.
pub struct SealedBucket {
    bucket: i64,
    records: BucketRecords,
}

impl SealedBucket {
    /// Seals records in key order. Sorting here, on the thread that reads the capture,
    /// leaves less for the thread that closes and stores buckets.
    fn new(bucket: i64, mut records: BucketRecords) -> SealedBucket {
        records.v4.sort_unstable_by_key(|r| r.key_seq);
        records.v6.sort_unstable_by_key(|r| r.key);
        SealedBucket { bucket, records }
    }

    /// Turns the bucket into flow tuples ordered by key, enriching each distinct source once
    /// (in address order, which keeps the netdb index warm) with the snapshot valid at the
    /// bucket's start.
    pub fn close(self, enricher: &impl Enricher) -> ClosedBucket {
        ClosedBucket {
            bucket: self.bucket,
            flows: flows_of(self.bucket, self.records, enricher),
        }
    }
}

/// The flow tuples of `records`, sorted by key (see [`SealedBucket::new`]).
fn flows_of(bucket: i64, records: BucketRecords, enricher: &impl Enricher) -> Vec<FlowTuple> {
    let at = Timestamp::from_secs(bucket);
    let mut sources = RunEnricher::new(enricher);
    let mut flows = Vec::with_capacity(records.len());
    for run in records.v4.chunk_by(|a, b| a.key() == b.key()) {
        let k = run[0].key();
        let src = IpAddr::V4(((k >> 64) as u32).into());
        let key = FlowKeyParts {
            src,
            dst_net: IpAddr::V4(((((k >> 40) as u32) & 0xFF_FFFF) << 8).into()),
            dst_port: (k >> 24) as u16,
            transport: (k >> 16) as u8,
            class: (k >> 8) as u8,
            fingerprint: k as u8,
        };
        let facts = run.iter().map(|r| &r.facts);
        // Sorted by arrival within the key: the first record is the first packet.
        flows.push(flow_tuple(
            bucket,
            key,
            sources.enrich(src, at),
            facts,
            &run[0].facts,
        ));
    }
    for run in records.v6.chunk_by(|a, b| a.key == b.key) {
        let k = run[0].key;
        let first = run
            .iter()
            .min_by_key(|r| r.seq)
            .expect("runs are not empty");
        let src = IpAddr::V6(k.src.into());
        let key = FlowKeyParts {
            src,
            dst_net: IpAddr::V6(k.dst_net.into()),
            dst_port: k.dst_port,
            transport: k.transport,
            class: k.class,
            fingerprint: k.fingerprint,
        };
        let facts = run.iter().map(|r| &r.facts);
        flows.push(flow_tuple(
            bucket,
            key,
            sources.enrich(src, at),
            facts,
            &first.facts,
        ));
    }
    flows
}

/// A flow key taken apart.
struct FlowKeyParts {
    src: IpAddr,
    dst_net: IpAddr,
    dst_port: u16,
    transport: u8,
    class: u8,
    fingerprint: u8,
}

fn flow_tuple<'r>(
    bucket: i64,
    k: FlowKeyParts,
    enrichment: Enrichment,
    packets: impl Iterator<Item = &'r PacketFacts>,
    first: &PacketFacts,
) -> FlowTuple {
    let (mut count, mut bytes, mut dsts) = (0, 0, [0u64; 4]);
    for p in packets {
        count += 1;
        bytes += p.wire_len as u64;
        dsts[(p.dst_octet >> 6) as usize] |= 1 << (p.dst_octet & 63);
    }
    FlowTuple {
        bucket,
        src: k.src,
        dst_net: k.dst_net,
        dst_port: k.dst_port,
        transport: Transport(k.transport),
        class: TrafficClass::from_code(k.class).expect("class code from TrafficClass::code"),
        fingerprint: Fingerprint::from_code(k.fingerprint),
        src_asn: enrichment.asn,
        src_country: enrichment.country,
        packets: count,
        bytes,
        unique_dsts: dsts.iter().map(|w| w.count_ones() as u16).sum(),
        first_ttl: first.ttl,
        first_tcp_window: first.tcp_window,
        first_len: first.wire_len.min(u16::MAX as u32) as u16,
    }
}

fn ts_slot(ts: Timestamp) -> i64 {
    ts.secs().div_euclid(DOS_SLOT_SECS) * DOS_SLOT_SECS
}

/// Enricher that knows nothing; for tests and captures imported before any netdb.
pub fn no_enrichment(_: IpAddr, _: Timestamp) -> Enrichment {
    Enrichment {
        asn: 0,
        country: CountryCode::UNKNOWN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FlowFilter, Top, TopBy};

    fn packet(src: &str, dst: &str, port: u16, class: TrafficClass, secs: i64) -> Packet {
        Packet {
            ts: Timestamp::from_secs(secs),
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            transport: Transport::TCP,
            src_port: 40000,
            dst_port: port,
            wire_len: 60,
            ttl: 50,
            ip_id: 1,
            tcp_flags: 0x02,
            tcp_window: 1024,
            tcp_seq: 7,
            class,
            fingerprint: None,
            spoof_reason: None,
        }
    }

    fn enrich_by_first_octet(ip: IpAddr, _: Timestamp) -> Enrichment {
        match ip {
            IpAddr::V4(a) if a.octets()[0] == 1 => Enrichment {
                asn: 100,
                country: "JP".parse().unwrap(),
            },
            IpAddr::V4(_) => Enrichment {
                asn: 200,
                country: "DE".parse().unwrap(),
            },
            IpAddr::V6(_) => Enrichment {
                asn: 300,
                country: "US".parse().unwrap(),
            },
        }
    }

    #[test]
    fn packets_fold_into_flow_tuples_per_bucket_and_destination_network() {
        let mut agg = Aggregator::new(BucketWidth::HOUR, enrich_by_first_octet);
        agg.add(&packet("1.1.1.1", "198.18.0.1", 23, TrafficClass::Scan, 10));
        agg.add(&packet("1.1.1.1", "198.18.0.2", 23, TrafficClass::Scan, 20));
        agg.add(&packet("1.1.1.1", "198.18.0.2", 23, TrafficClass::Scan, 30));
        agg.add(&packet("1.1.1.1", "198.18.1.2", 23, TrafficClass::Scan, 40));
        agg.add(&packet(
            "1.1.1.1",
            "198.18.0.1",
            23,
            TrafficClass::Scan,
            3_600,
        ));
        let obs = agg.finish();
        assert_eq!(obs.counts.packets, 5);
        assert_eq!(obs.counts.by_class.scan, 5);
        let flows: Vec<&FlowTuple> = obs.flows().collect();
        assert_eq!(flows.len(), 3);
        let net0: IpAddr = "198.18.0.0".parse().unwrap();
        let first = flows
            .iter()
            .find(|f| f.bucket == 0 && f.dst_net == net0)
            .unwrap();
        assert_eq!((first.packets, first.unique_dsts), (3, 2));
        assert_eq!(first.src_country.as_str(), Some("JP"));
        assert_eq!(flows[2].bucket, 3_600);
    }

    #[test]
    fn rollups_count_each_source_once_per_bucket() {
        let mut agg = Aggregator::new(BucketWidth::HOUR, enrich_by_first_octet);
        for i in 0..10 {
            agg.add(&packet(
                "1.1.1.1",
                &format!("198.18.{i}.1"),
                23,
                TrafficClass::Scan,
                5,
            ));
        }
        agg.add(&packet("2.2.2.2", "198.18.0.9", 23, TrafficClass::Scan, 5));
        let obs = agg.finish();
        let port23 = obs
            .rollups()
            .into_iter()
            .find(|r| {
                r.dim
                    == crate::RollupDim::Port {
                        transport: Transport::TCP,
                        port: 23,
                    }
            })
            .unwrap();
        assert_eq!((port23.packets, port23.sources), (11, 2));
        let jp = obs
            .rollups()
            .into_iter()
            .find(|r| {
                r.dim
                    == crate::RollupDim::Country {
                        country: "JP".parse().unwrap(),
                    }
            })
            .unwrap();
        assert_eq!((jp.packets, jp.sources), (10, 1));
    }

    #[test]
    fn top_counts_distinct_sources_over_the_whole_range_not_per_bucket() {
        let mut agg = Aggregator::new(BucketWidth::HOUR, enrich_by_first_octet);
        for hour in 0..5 {
            agg.add(&packet(
                "1.1.1.1",
                "198.18.0.1",
                445,
                TrafficClass::Scan,
                hour * 3_600,
            ));
        }
        agg.add(&packet("2.2.2.2", "198.18.0.1", 445, TrafficClass::Scan, 0));
        agg.add(&packet(
            "2.2.2.2",
            "198.18.0.1",
            80,
            TrafficClass::Backscatter,
            0,
        ));
        let obs = agg.finish();
        let mut top = Top::new(
            TopBy::Port,
            FlowFilter {
                class: Some(TrafficClass::Scan),
                ..Default::default()
            },
        );
        obs.flows().for_each(|f| top.add(f));
        let rows = top.finish(10);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].port, rows[0].packets, rows[0].sources),
            (Some(445), 6, 2)
        );
    }

    #[test]
    fn decode_errors_are_counted_by_reason_with_the_packets() {
        let mut agg = Aggregator::new(BucketWidth::HOUR, no_enrichment);
        agg.add_error("not_ip", 42);
        agg.add_error("not_ip", 42);
        agg.add_error("truncated", 10);
        let c = agg.finish().counts;
        assert_eq!(c.packets, 3);
        assert_eq!(c.errors["not_ip"], 2);
        assert_eq!(c.errors["truncated"], 1);
        assert_eq!(c.by_class.total(), 0);
    }

    #[test]
    fn backscatter_becomes_slots_keyed_by_victim() {
        let mut agg = Aggregator::new(BucketWidth::HOUR, enrich_by_first_octet);
        for s in 0..100 {
            agg.add(&packet(
                "5.5.5.5",
                "198.18.0.1",
                40000,
                TrafficClass::Backscatter,
                1_000 + s,
            ));
        }
        let obs = agg.finish();
        assert_eq!(obs.backscatter.len(), 10);
        let attacks = crate::infer_dos(obs.backscatter);
        assert_eq!(attacks.len(), 1);
        assert_eq!((attacks[0].packets, attacks[0].asn), (100, 200));
    }

    #[test]
    fn buckets_close_two_widths_behind_and_late_packets_reopen_them() {
        let mut agg = Aggregator::new(BucketWidth::HOUR, no_enrichment);
        agg.add(&packet("1.1.1.1", "198.18.0.1", 23, TrafficClass::Scan, 10));
        agg.add(&packet(
            "1.1.1.1",
            "198.18.0.1",
            23,
            TrafficClass::Scan,
            3_700,
        ));
        assert!(
            !agg.has_sealed(),
            "the previous bucket stays open for late packets"
        );
        agg.add(&packet(
            "1.1.1.1",
            "198.18.0.1",
            23,
            TrafficClass::Scan,
            7_300,
        ));
        let closed: Vec<ClosedBucket> = agg
            .drain_sealed()
            .map(|b| b.close(&no_enrichment))
            .collect();
        assert_eq!(closed.iter().map(|b| b.bucket).collect::<Vec<_>>(), [0]);
        assert_eq!(closed[0].flows[0].packets, 1);
        // A late packet for the closed bucket opens it again, as a second part.
        agg.add(&packet("2.2.2.2", "198.18.0.1", 23, TrafficClass::Scan, 20));
        let rest = agg.finish();
        let buckets: Vec<i64> = rest.buckets.iter().map(|b| b.bucket).collect();
        assert_eq!(buckets, [0, 3_600, 7_200]);
        assert_eq!(
            rest.buckets[0].flows[0].src,
            "2.2.2.2".parse::<IpAddr>().unwrap()
        );
        assert_eq!(rest.counts.packets, 4);
    }

    #[test]
    fn rollups_match_a_naive_distinct_count_for_mixed_sources() {
        let mut agg = Aggregator::new(BucketWidth::HOUR, enrich_by_first_octet);
        let sources = ["1.0.0.1", "1.0.0.2", "9.9.9.9", "2001:db8::1", "::1.0.0.1"];
        for (i, src) in sources.iter().cycle().take(60).enumerate() {
            let port = [23, 80, 445][i % 3];
            agg.add(&packet(
                src,
                &format!("198.18.{}.{}", i % 5, i),
                port,
                TrafficClass::Scan,
                (i % 2) as i64 * 3_600,
            ));
        }
        let obs = agg.finish();
        for r in &obs.rollups() {
            let mut distinct: Vec<IpAddr> = obs
                .flows()
                .filter(|f| f.bucket == r.bucket && f.class == r.class)
                .filter(|f| match r.dim {
                    crate::RollupDim::Port { transport, port } => {
                        f.transport == transport && f.dst_port == port
                    }
                    crate::RollupDim::Country { country } => f.src_country == country,
                    crate::RollupDim::Asn { asn } => f.src_asn == asn,
                })
                .map(|f| f.src)
                .collect();
            distinct.sort();
            distinct.dedup();
            assert_eq!(r.sources, distinct.len() as u64, "{r:?}");
        }
    }

    #[test]
    fn flow_keeps_the_ttl_window_and_length_of_its_first_packet() {
        let mut agg = Aggregator::new(BucketWidth::HOUR, no_enrichment);
        // Many flows so that the sort really reorders records.
        for i in 0..500u32 {
            let mut p = packet(
                &format!("9.9.{}.{}", i / 250, i % 250 + 1),
                "198.18.0.1",
                23,
                TrafficClass::Scan,
                1,
            );
            p.ttl = 10;
            agg.add(&p);
        }
        for (i, ttl) in [(0, 40), (1, 41), (2, 42)] {
            let mut p = packet(
                "1.1.1.1",
                &format!("198.18.0.{}", i + 1),
                445,
                TrafficClass::Scan,
                10 + i,
            );
            p.ttl = ttl;
            p.tcp_window = 1000 + ttl as u16;
            p.wire_len = 60 + ttl as u32;
            agg.add(&p);
        }
        let obs = agg.finish();
        let flow = obs.flows().find(|f| f.dst_port == 445).unwrap();
        assert_eq!(flow.packets, 3);
        assert_eq!(
            (flow.first_ttl, flow.first_tcp_window, flow.first_len),
            (40, 1040, 100)
        );
        assert_eq!(flow.bytes, 100 + 101 + 102);
    }
}
