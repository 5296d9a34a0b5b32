//! Risk events: one record of a risk feed (an open resolver, an infected host, ...) after
//! parsing and enrichment. The risk itself is named by its catalogue slug.

use crate::{CountryCode, Enrichment, Timestamp};
use std::net::IpAddr;

/// One feed record, attributed to a risk of the catalogue.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RiskEvent {
    pub ip: IpAddr,
    /// Port of the exposed service or of the infected host's connection; 0 when the feed has none.
    pub port: u16,
    /// When the feed saw it (UTC).
    pub time: Timestamp,
    /// Line of the source file the record came from (1 is the first line, header included).
    pub line: u64,
    /// ASN and country as the feed reported them (0 / unknown when it did not).
    pub feed_asn: u32,
    pub feed_country: CountryCode,
    /// ASN and country from the netdb snapshot valid at the event's date.
    pub enrichment: Enrichment,
}

impl RiskEvent {
    /// The address as one integer key: IPv4 as its IPv4-mapped IPv6 form, so IPv4 and IPv6
    /// addresses sort and deduplicate together.
    pub fn ip_key(&self) -> u128 {
        ip_key(self.ip)
    }
}

/// See [`RiskEvent::ip_key`].
pub fn ip_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(a.to_ipv6_mapped()),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// What ingesting one feed file found.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FeedCounts {
    /// Data rows read (stored events plus bad rows; the header is not a row).
    pub rows: u64,
    /// Events stored.
    pub events: u64,
    pub ipv6_events: u64,
    pub events_by_risk: std::collections::BTreeMap<String, u64>,
    /// Rows counted and skipped, per reason.
    pub bad_rows: u64,
    pub bad_by_reason: std::collections::BTreeMap<String, u64>,
    /// Events where the feed named an ASN / country and the netdb snapshot disagreed (both
    /// known and different).
    pub asn_disagreements: u64,
    pub country_disagreements: u64,
    /// Events the netdb snapshot has no country for.
    pub no_country: u64,
    pub first_event: Option<Timestamp>,
    pub last_event: Option<Timestamp>,
}
