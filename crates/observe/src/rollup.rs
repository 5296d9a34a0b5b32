//! Rollups: per-bucket totals by destination port, source country and source ASN (and class),
//! with exact distinct-source counts within the bucket. They feed fast time series; counts
//! over longer ranges come from flow tuples, never from sums of per-bucket distinct counts.

use crate::FlowTuple;
use greenwatch_model::{CountryCode, TrafficClass, Transport};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::net::IpAddr;

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

/// Rollups of a set of flow tuples (usually all flows of some buckets).
pub fn build_rollups(flows: &[FlowTuple]) -> Vec<Rollup> {
    let mut totals: FxHashMap<RollupKey, (u64, u64)> = FxHashMap::default();
    let mut seen: FxHashSet<(RollupKey, IpAddr)> = FxHashSet::default();
    let mut sources: FxHashMap<RollupKey, u64> = FxHashMap::default();
    for f in flows {
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
            t.0 += f.packets;
            t.1 += f.bytes;
            if seen.insert((key, f.src)) {
                *sources.entry(key).or_default() += 1;
            }
        }
    }
    let mut rows: Vec<Rollup> = totals
        .into_iter()
        .map(|(key, (packets, bytes))| Rollup {
            bucket: key.0,
            dim: key.1,
            class: key.2,
            packets,
            bytes,
            sources: sources[&key],
        })
        .collect();
    rows.sort_unstable_by_key(|r| (r.bucket, r.dim, r.class));
    rows
}
