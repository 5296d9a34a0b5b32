//! Writes realistic darknet captures for a sensor's address block together with their ground
//! truth (`GroundTruth`): scans with tool fingerprints, UDP probes, DoS backscatter, likely
//! spoofed noise, IPv6, a diurnal cycle and one injected surge. Deterministic for a seed.
//!
//! Every packet's class and fingerprint is known by construction and follows
//! `docs/classification.md`, so a correct classifier agrees with the truth on every packet.
//! Rough mix: TCP SYN scans ~55% (generic scanners, Mirai, Masscan, ZMap; few heavy hitters
//! and a long tail of one-off sources), UDP probes with real payloads and ICMP echo ~12%,
//! backscatter ~20% (5-12 IPv4 DoS victims meeting the RS-DoS thresholds with margin, at least
//! two of them ICMP destination-unreachable, one IPv6 victim when the pool has IPv6, plus
//! low-volume victims below the thresholds), likely spoofed ~5% (each packet breaks exactly
//! one rule), other ~5% (stray TCP, informational ICMP, GRE, ESP) and IPv6 ~3%.
//!
//! Output: legacy pcap (Ethernet, microseconds, snaplen 65535), time-ordered. Generation runs
//! hour by hour (memory is one hour's packet descriptions, 16 bytes each) at several million
//! packets per second in release builds.
//!
//! [`generate_feed`] writes risk feeds the same way: Shadowserver report CSV or IntelMQ JSON
//! lines whose distinct hosts per day, ISO week and month (by country and ASN), broken lines
//! and feed-versus-netdb disagreements are known exactly (see the `feed` module, about a
//! million rows per second). Both draw addresses from a [`SourcePool`].

mod feed;
mod packets;
mod pcap_writer;
mod plan;
mod pool;
mod rng;
mod sources;
mod traffic;

pub use feed::{
    feed_report_types, generate_feed, AddressInfo, BadRowKind, BadRowTruth, FeedOutput, FeedSpec,
    FeedTruth, PeriodHosts,
};
use greenwatch_model::{CountryCode, GroundTruth, Timestamp};
use sources::Profile;
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
/// inclusive `(first, last)` ranges. [`SourcePool::new`] draws IPv4 addresses uniformly
/// (overlapping ranges are merged); [`SourcePool::darknet`] knows each range's country and
/// draws sources the way a darknet sees them (by country; see `sources.rs`). IPv6 ranges are
/// weighted by size.
pub struct SourcePool {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
    /// The country of each `v4` range, for weighted draws; empty for uniform ones.
    countries: Vec<CountryCode>,
}

impl SourcePool {
    pub fn new(v4: Vec<(u32, u32)>, v6: Vec<(u128, u128)>) -> SourcePool {
        SourcePool {
            v4,
            v6,
            countries: Vec::new(),
        }
    }

    /// A pool whose IPv4 sources are weighted like a darknet's: scanners mostly from the
    /// countries telescopes see most (China, the United States, Russia, the Netherlands,
    /// Germany, Brazil, India...), Mirai-infected devices from broadband networks (Brazil,
    /// China, India, Viet Nam...), big legacy allocations damped; `v4` holds each range with
    /// its country.
    pub fn darknet(v4: Vec<(u32, u32, CountryCode)>, v6: Vec<(u128, u128)>) -> SourcePool {
        let (ranges, countries) = v4.into_iter().map(|(a, b, cc)| ((a, b), cc)).unzip();
        SourcePool {
            v4: ranges,
            v6,
            countries,
        }
    }

    /// The IPv4 pool of sources of `profile`.
    pub(crate) fn pool4(&self, profile: Profile) -> Result<pool::Pool4, GenerateError> {
        if self.countries.is_empty() {
            return pool::Pool4::new(&self.v4);
        }
        let ranges: Vec<(u32, u32, CountryCode)> = self
            .v4
            .iter()
            .zip(&self.countries)
            .map(|(&(a, b), &cc)| (a, b, cc))
            .collect();
        pool::Pool4::weighted(&sources::weights(&ranges, profile))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("invalid spec: {0}")]
    Spec(String),
    #[error("writing output: {0}")]
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
