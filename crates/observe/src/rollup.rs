//! Rollups: per-bucket totals by destination port, source country and source ASN (and class),
//! with exact distinct-source counts within the bucket. They feed fast time series; counts
//! over longer ranges come from flow tuples, never from sums of per-bucket distinct counts.

use crate::FlowTuple;
use greenwatch_model::{CountryCode, TrafficClass, Transport};
use rustc_hash::FxHashMap;
use serde::Serialize;

/// The dimension a rollup row is keyed on.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "dim", rename_all = "lowercase")]
pub enum RollupDim {
    Port { transport: Transport, port: u16 },
    Country { country: CountryCode },
    Asn { asn: u32 },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rollup {
    pub bucket: i64,
    pub dim: RollupDim,
    pub class: TrafficClass,
    pub packets: u64,
    pub bytes: u64,
    pub sources: u64,
}

type RollupKey = (i64, RollupDim, TrafficClass);

/// Rollups of a set of flow tuples (usually all flows of some buckets), in any order.
/// Distinct sources are counted per run of one source's flows, so no set of addresses is kept.
pub fn build_rollups(flows: &[FlowTuple]) -> Vec<Rollup> {
    let mut order: Vec<&FlowTuple> = flows.iter().collect();
    if !order.is_sorted_by_key(|f| (f.bucket, f.src)) {
        order.sort_by_key(|f| (f.bucket, f.src));
    }
    let mut totals: FxHashMap<RollupKey, [u64; 3]> = FxHashMap::default();
    let mut keys_of_source: Vec<RollupKey> = Vec::new();
    for run in order.chunk_by(|a, b| a.bucket == b.bucket && a.src == b.src) {
        keys_of_source.clear();
        for f in run {
            let dims = [
                RollupDim::Port {
                    transport: f.transport,
                    port: f.dst_port,
                },
                RollupDim::Country {
                    country: f.src_country,
                },
                RollupDim::Asn { asn: f.src_asn },
            ];
            for dim in dims {
                let key = (f.bucket, dim, f.class);
                let t = totals.entry(key).or_default();
                t[0] += f.packets;
                t[1] += f.bytes;
                keys_of_source.push(key);
            }
        }
        keys_of_source.sort_unstable();
        keys_of_source.dedup();
        for key in &keys_of_source {
            totals.get_mut(key).expect("key inserted above")[2] += 1;
        }
    }
    let mut rows: Vec<Rollup> = totals
        .into_iter()
        .map(|((bucket, dim, class), [packets, bytes, sources])| Rollup {
            bucket,
            dim,
            class,
            packets,
            bytes,
            sources,
        })
        .collect();
    rows.sort_unstable_by_key(|r| (r.bucket, r.dim, r.class));
    rows
}
