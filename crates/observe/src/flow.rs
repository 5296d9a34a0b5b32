//! The flow tuple: CAIDA STARDUST-style key (bucket, source, destination /24, destination
//! port, protocol) plus the class and fingerprint labels, with counts.

use greenwatch_model::{CountryCode, Fingerprint, TrafficClass, Transport};
use std::net::IpAddr;

/// Packets sharing one key within one time bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowTuple {
    /// Bucket start, seconds since the epoch.
    pub bucket: i64,
    pub src: IpAddr,
    /// Destination network: the /24 for IPv4, the /64 for IPv6.
    pub dst_net: IpAddr,
    pub dst_port: u16,
    pub transport: Transport,
    pub class: TrafficClass,
    pub fingerprint: Option<Fingerprint>,
    /// Source AS and country from the netdb snapshot valid at the bucket's date.
    pub src_asn: u32,
    pub src_country: CountryCode,
    pub packets: u64,
    pub bytes: u64,
    /// Distinct destination addresses (by last octet) within `dst_net`.
    pub unique_dsts: u16,
    /// TTL, TCP window and wire length of the first packet, as in flowtuple v4.
    pub first_ttl: u8,
    pub first_tcp_window: u16,
    pub first_len: u16,
}

/// The network part of a destination: /24 for IPv4, /64 for IPv6.
pub(crate) fn dst_network(dst: IpAddr) -> IpAddr {
    match dst {
        IpAddr::V4(a) => IpAddr::V4((u32::from(a) & 0xFFFF_FF00).into()),
        IpAddr::V6(a) => IpAddr::V6((u128::from(a) & !((1u128 << 64) - 1)).into()),
    }
}

/// The host octet used for the distinct-destination bitmap.
pub(crate) fn dst_host_octet(dst: IpAddr) -> u8 {
    match dst {
        IpAddr::V4(a) => a.octets()[3],
        IpAddr::V6(a) => a.octets()[15],
    }
}
