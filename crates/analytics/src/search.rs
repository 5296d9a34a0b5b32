//! The header's search box: what a typed text names, and which page knows it. It reads no
//! stored data (only the IP data's AS names and the country table), so its answer is the
//! same for every viewer and tells nothing of what is stored.
//!
//! Readings, in order:
//! - an address (`192.0.2.1`, `2001:db8::1`): its IP page;
//! - a prefix (`192.0.2.0/24`): the IP page of its first address;
//! - a port with its protocol (`23/tcp`, `53/udp`): its port page;
//! - an AS number (`AS4134`, `as 4134`): its AS page;
//! - a bare number (`23`, `4134`): up to 1023 a well-known TCP port; above, an AS number when
//!   the IP data knows that AS, else a TCP port (`4134/tcp` and `AS23` say which explicitly);
//! - an ISO 3166 code (`NL`) or a country's English name (`Netherlands`): its country page;
//! - otherwise a part of a country's or an AS's name: every one that contains it.
//!
//! Exactly one match lands on its page; several are listed.

use crate::countries;
use crate::AnalyticsError;
use greenwatch_model::{CountryCode, Transport};
use greenwatch_netdb::NetDb;
use serde::Serialize;
use std::net::IpAddr;

/// Longest query accepted.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most name matches listed.
pub const MAX_MATCHES: usize = 50;
/// Bare numbers up to this are well-known ports.
const WELL_KNOWN_PORTS: u32 = 1023;

/// One page a query may mean.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Match {
    /// `ip`, `asn`, `country` or `port`.
    pub kind: &'static str,
    pub label: String,
    pub url: String,
}

/// What a query matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SearchResult {
    pub query: String,
    pub matches: Vec<Match>,
    /// Whether more names matched than are listed.
    pub truncated: bool,
}

fn ip_match(ip: IpAddr, label: String) -> Match {
    Match {
        kind: "ip",
        label,
        url: format!("/ips/{ip}"),
    }
}

fn asn_match(netdb: &NetDb, asn: u32) -> Match {
    let name = netdb.snapshots().last().and_then(|s| s.as_name(asn));
    Match {
        kind: "asn",
        label: match name {
            Some(name) => format!("AS{asn} {name}"),
            None => format!("AS{asn}"),
        },
        url: format!("/asns/{asn}"),
    }
}

fn port_match(port: u16, protocol: Transport) -> Match {
    let name = protocol.name();
    Match {
        kind: "port",
        label: format!("port {port}/{name}"),
        url: format!("/ports/{name}/{port}"),
    }
}

fn country_match(code: CountryCode) -> Match {
    let alpha2 = code.to_string();
    Match {
        kind: "country",
        label: format!("{} ({alpha2})", countries::name(code)),
        url: format!("/countries/{alpha2}"),
    }
}

fn bad(text: &str, why: &str) -> AnalyticsError {
    AnalyticsError::Query(format!("search {text:?}: {why}"))
}

/// What `text` names.
pub fn search(netdb: &NetDb, text: &str) -> Result<SearchResult, AnalyticsError> {
    let q = text.trim();
    if q.is_empty() {
        return Err(AnalyticsError::Query(
            "search: type an IP address, a prefix (192.0.2.0/24), an AS (AS4134, or part of its \
             name), a country (NL, Netherlands) or a port (23, 23/tcp, 53/udp)"
                .into(),
        ));
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(AnalyticsError::Query(format!(
            "search: at most {MAX_QUERY_CHARS} characters"
        )));
    }
    let (matches, truncated) = match exact(netdb, q)? {
        Some(m) => (vec![m], false),
        None => by_name(netdb, q),
    };
    Ok(SearchResult {
        query: q.to_string(),
        matches,
        truncated,
    })
}

/// The one page an exact reading of `q` names, if any.
fn exact(netdb: &NetDb, q: &str) -> Result<Option<Match>, AnalyticsError> {
    if let Ok(ip) = q.parse::<IpAddr>() {
        return Ok(Some(ip_match(ip, ip.to_string())));
    }
    if let Some((left, right)) = q.split_once('/') {
        if let Ok(ip) = left.trim().parse::<IpAddr>() {
            let bits = if ip.is_ipv4() { 32 } else { 128 };
            let len: u8 = right
                .trim()
                .parse()
                .ok()
                .filter(|l| *l <= bits)
                .ok_or_else(|| bad(q, &format!("prefix length must be 0 to {bits}")))?;
            let block = greenwatch_model::sensor::AddressBlock::containing(ip, len)
                .map_err(|e| bad(q, &e))?;
            let first = block.network;
            return Ok(Some(ip_match(
                first,
                format!("{first} (first address of {block})"),
            )));
        }
        if left.trim().chars().all(|c| c.is_ascii_digit()) {
            let port = port_number(q, left.trim())?;
            let protocol = match right.trim().to_ascii_lowercase().as_str() {
                "tcp" => Transport::TCP,
                "udp" => Transport::UDP,
                _ => return Err(bad(q, "a port's protocol is tcp or udp (23/tcp, 53/udp)")),
            };
            return Ok(Some(port_match(port, protocol)));
        }
        return Err(bad(
            q,
            "expected a prefix (192.0.2.0/24) or a port (23/tcp, 53/udp)",
        ));
    }
    let upper = q.to_ascii_uppercase();
    if let Some(digits) = upper.strip_prefix("AS") {
        let digits = digits.trim();
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            let asn = digits
                .parse::<u32>()
                .map_err(|_| bad(q, "an AS number is at most 4294967295"))?;
            return Ok(Some(asn_match(netdb, asn)));
        }
    }
    if q.chars().all(|c| c.is_ascii_digit()) {
        let n = q
            .parse::<u32>()
            .map_err(|_| bad(q, "a number must be a port (0-65535) or an AS number"))?;
        let known_as = netdb.snapshots().last().is_some_and(|s| s.knows_asn(n));
        if n > WELL_KNOWN_PORTS && (known_as || n > u32::from(u16::MAX)) {
            return Ok(Some(asn_match(netdb, n)));
        }
        return Ok(Some(port_match(n as u16, Transport::TCP)));
    }
    if q.len() == 2 && q.chars().all(|c| c.is_ascii_alphabetic()) {
        if let Some(code) = countries::code(&upper) {
            return Ok(Some(country_match(code)));
        }
    }
    Ok(countries::by_name(q).map(country_match))
}

fn port_number(q: &str, digits: &str) -> Result<u16, AnalyticsError> {
    digits
        .parse::<u16>()
        .map_err(|_| bad(q, "a port is 0 to 65535"))
}

/// Countries and ASes whose name contains `q` (case-insensitive), countries first.
fn by_name(netdb: &NetDb, q: &str) -> (Vec<Match>, bool) {
    let needle = q.to_lowercase();
    let mut matches: Vec<Match> = countries::containing(&needle)
        .into_iter()
        .map(country_match)
        .collect();
    if let Some(snapshot) = netdb.snapshots().last() {
        for (asn, name) in snapshot.as_names() {
            if name.to_lowercase().contains(&needle) {
                matches.push(asn_match(netdb, asn));
                if matches.len() > MAX_MATCHES {
                    break;
                }
            }
        }
    }
    let truncated = matches.len() > MAX_MATCHES;
    matches.truncate(MAX_MATCHES);
    (matches, truncated)
}
