//! Writes realistic darknet captures for a sensor's address block together with their ground
//! truth (`GroundTruth`): scans with tool fingerprints, UDP probes, DoS backscatter, likely
//! spoofed noise, IPv6, a diurnal cycle and one injected surge. Deterministic for a seed.

mod packets;
mod pcap_writer;
mod plan;
mod rng;
mod traffic;

use greenwatch_model::{GroundTruth, Timestamp};
use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

/// What to generate.
#[derive(Clone, Debug)]
pub struct TrafficSpec {
    pub seed: u64,
    pub packets: u64,
    pub start: Timestamp,
    pub hours: u32,
    /// The sensor's darknet block (destinations), default 198.18.0.0/16.
    pub sensor_v4: (Ipv4Addr, u8),
    /// The sensor's IPv6 block, default 2001:db8:5e::/48.
    pub sensor_v6: (Ipv6Addr, u8),
}

impl TrafficSpec {
    /// A spec with the default sensor blocks (198.18.0.0/16 and 2001:db8:5e::/48).
    pub fn new(seed: u64, packets: u64, start: Timestamp, hours: u32) -> TrafficSpec {
        TrafficSpec {
            seed,
            packets,
            start,
            hours,
            sensor_v4: (Ipv4Addr::new(198, 18, 0, 0), 16),
            sensor_v6: (Ipv6Addr::new(0x2001, 0xdb8, 0x5e, 0, 0, 0, 0, 0), 48),
        }
    }
}

/// Address space sources are drawn from (normally the routed ranges of a netdb snapshot):
/// inclusive `(first, last)` ranges; overlapping IPv4 ranges are merged, addresses are drawn
/// uniformly (ranges weighted by size).
pub struct SourcePool {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl SourcePool {
    pub fn new(v4: Vec<(u32, u32)>, v6: Vec<(u128, u128)>) -> SourcePool {
        SourcePool { v4, v6 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("invalid spec: {0}")]
    Spec(String),
    #[error("writing capture: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes a pcap (Ethernet, microsecond timestamps, time-ordered) to `out`; returns its truth.
pub fn generate<W: Write>(
    spec: &TrafficSpec,
    pool: &SourcePool,
    out: W,
) -> Result<GroundTruth, GenerateError> {
    let mut plan = plan::Plan::new(spec, pool)?;
    traffic::run(&mut plan, out)
}

#[cfg(test)]
mod tests;
