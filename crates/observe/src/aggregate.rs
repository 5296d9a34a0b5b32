//! The ingest hot path after decoding: one hash-map update per packet into the flow table of
//! the packet's bucket, plus a slot update for backscatter. Enrichment happens once per new
//! flow, not per packet.

use crate::dos::{BackscatterSlot, DOS_SLOT_SECS};
use crate::flow::{dst_host_octet, dst_network, FlowTuple};
use crate::rollup::{build_rollups, Rollup};
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

/// Everything one capture contributes to the store.
#[derive(Clone, Debug, Default)]
pub struct Observations {
    pub counts: IngestCounts,
    /// Sorted by (bucket, src, dst_net, dst_port, transport).
    pub flows: Vec<FlowTuple>,
    pub rollups: Vec<Rollup>,
    /// Sorted by (victim, transport, slot).
    pub backscatter: Vec<BackscatterSlot>,
}

#[derive(Copy, Clone, PartialEq, Eq, Hash)]
struct FlowKey {
    bucket: i64,
    src: IpAddr,
    dst_net: IpAddr,
    dst_port: u16,
    transport: u8,
    class: u8,
    fingerprint: u8,
}

struct FlowValue {
    packets: u64,
    bytes: u64,
    dsts: [u64; 4],
    enrichment: Enrichment,
    first_ttl: u8,
    first_tcp_window: u16,
    first_len: u16,
}

#[derive(Copy, Clone, PartialEq, Eq, Hash)]
struct SlotKey {
    victim: IpAddr,
    transport: u8,
    slot: i64,
}

/// Accumulates packets of one capture (or one sensor batch) into [`Observations`].
pub struct Aggregator<E> {
    width: BucketWidth,
    enricher: E,
    counts: IngestCounts,
    flows: FxHashMap<FlowKey, FlowValue>,
    slots: FxHashMap<SlotKey, BackscatterSlot>,
    current_bucket: (i64, i64),
}

impl<E: Enricher> Aggregator<E> {
    pub fn new(width: BucketWidth, enricher: E) -> Self {
        Aggregator {
            width,
            enricher,
            counts: IngestCounts::default(),
            flows: FxHashMap::default(),
            slots: FxHashMap::default(),
            current_bucket: (i64::MAX, i64::MIN),
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
        let bucket = self.bucket_of(p.ts);
        if p.class == TrafficClass::Backscatter {
            self.add_backscatter(p);
        }
        let key = FlowKey {
            bucket,
            src: p.src,
            dst_net: dst_network(p.dst),
            dst_port: p.dst_port,
            transport: p.transport.0,
            class: p.class.code(),
            fingerprint: p.fingerprint.map_or(0, Fingerprint::code),
        };
        let octet = dst_host_octet(p.dst);
        let enricher = &self.enricher;
        let flow = self.flows.entry(key).or_insert_with(|| FlowValue {
            packets: 0,
            bytes: 0,
            dsts: [0; 4],
            enrichment: enricher.enrich(p.src, p.ts),
            first_ttl: p.ttl,
            first_tcp_window: p.tcp_window,
            first_len: p.wire_len.min(u16::MAX as u32) as u16,
        });
        flow.packets += 1;
        flow.bytes += p.wire_len as u64;
        flow.dsts[(octet >> 6) as usize] |= 1 << (octet & 63);
    }

    fn bucket_of(&mut self, ts: Timestamp) -> i64 {
        let secs = ts.secs();
        let (start, end) = self.current_bucket;
        if secs >= start && secs < end {
            return start;
        }
        let start = self.width.start_of(ts);
        self.current_bucket = (start, start + self.width.0 as i64);
        start
    }

    fn add_backscatter(&mut self, p: &Packet) {
        let key = SlotKey {
            victim: p.src,
            transport: p.transport.0,
            slot: ts_slot(p.ts),
        };
        let enricher = &self.enricher;
        let slot = self.slots.entry(key).or_insert_with(|| {
            let e = enricher.enrich(p.src, p.ts);
            BackscatterSlot {
                victim: p.src,
                transport: p.transport,
                slot: key.slot,
                victim_asn: e.asn,
                victim_country: e.country,
                packets: 0,
                bytes: 0,
                first: p.ts,
                last: p.ts,
            }
        });
        slot.packets += 1;
        slot.bytes += p.wire_len as u64;
        slot.first = slot.first.min(p.ts);
        slot.last = slot.last.max(p.ts);
    }

    pub fn counts(&self) -> &IngestCounts {
        &self.counts
    }

    pub fn finish(self) -> Observations {
        let mut flows: Vec<FlowTuple> = self
            .flows
            .into_iter()
            .map(|(k, v)| FlowTuple {
                bucket: k.bucket,
                src: k.src,
                dst_net: k.dst_net,
                dst_port: k.dst_port,
                transport: Transport(k.transport),
                class: TrafficClass::from_code(k.class)
                    .expect("class code from TrafficClass::code"),
                fingerprint: Fingerprint::from_code(k.fingerprint),
                src_asn: v.enrichment.asn,
                src_country: v.enrichment.country,
                packets: v.packets,
                bytes: v.bytes,
                unique_dsts: v.dsts.iter().map(|w| w.count_ones() as u16).sum(),
                first_ttl: v.first_ttl,
                first_tcp_window: v.first_tcp_window,
                first_len: v.first_len,
            })
            .collect();
        flows.sort_unstable_by(|a, b| {
            (a.bucket, a.src, a.dst_net, a.dst_port, a.transport, a.class).cmp(&(
                b.bucket,
                b.src,
                b.dst_net,
                b.dst_port,
                b.transport,
                b.class,
            ))
        });
        let mut backscatter: Vec<BackscatterSlot> = self.slots.into_values().collect();
        backscatter.sort_unstable_by_key(|s| (s.victim, s.transport, s.slot));
        Observations {
            rollups: build_rollups(&flows),
            counts: self.counts,
            flows,
            backscatter,
        }
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
        assert_eq!(obs.flows.len(), 3);
        let first = &obs.flows[0];
        assert_eq!((first.bucket, first.packets, first.unique_dsts), (0, 3, 2));
        assert_eq!(first.dst_net, "198.18.0.0".parse::<IpAddr>().unwrap());
        assert_eq!(first.src_country.as_str(), Some("JP"));
        assert_eq!(obs.flows[2].bucket, 3_600);
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
            .rollups
            .iter()
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
            .rollups
            .iter()
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
        obs.flows.iter().for_each(|f| top.add(f));
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
}
