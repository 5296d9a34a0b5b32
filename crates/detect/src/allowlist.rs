//! Known research scanners (Censys, Shodan, university projects...) scan every port all the
//! time; their traffic is real but says nothing about an attack wave, so the detector leaves
//! out sources in these ASNs and prefixes. The list is a text file operators edit.

use greenwatch_observe::FlowTuple;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// One allowlisted network: an AS or a prefix, with the name of who scans from it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AllowlistEntry {
    pub network: AllowedNetwork,
    pub name: String,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AllowedNetwork {
    Asn(u32),
    Prefix { addr: IpAddr, len: u8 },
}

impl AllowedNetwork {
    fn contains(&self, src: IpAddr, asn: u32) -> bool {
        match *self {
            AllowedNetwork::Asn(a) => a == asn,
            AllowedNetwork::Prefix { addr, len } => match (addr, src) {
                (IpAddr::V4(net), IpAddr::V4(ip)) => {
                    let mask = u32::MAX.checked_shl(32 - len as u32).unwrap_or(0);
                    u32::from(ip) & mask == u32::from(net)
                }
                (IpAddr::V6(net), IpAddr::V6(ip)) => {
                    let mask = u128::MAX.checked_shl(128 - len as u32).unwrap_or(0);
                    u128::from(ip) & mask == u128::from(net)
                }
                _ => false,
            },
        }
    }
}

impl fmt::Display for AllowedNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllowedNetwork::Asn(a) => write!(f, "AS{a}"),
            AllowedNetwork::Prefix { addr, len } => write!(f, "{addr}/{len}"),
        }
    }
}

impl FromStr for AllowedNetwork {
    type Err = String;
    /// `AS398324`, `as398324`, `192.0.2.0/24` or `2001:db8::/32`; host bits must be zero.
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(n) = s.strip_prefix("AS").or_else(|| s.strip_prefix("as")) {
            return n
                .parse()
                .map(AllowedNetwork::Asn)
                .map_err(|_| format!("{s:?} is not an AS number (expected e.g. AS398324)"));
        }
        let (addr, len) = s.split_once('/').ok_or_else(|| {
            format!("{s:?} is neither an AS (AS398324) nor a prefix (192.0.2.0/24)")
        })?;
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?}: {addr:?} is not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len: u8 = len
            .parse()
            .ok()
            .filter(|l| *l <= max)
            .ok_or_else(|| format!("{s:?}: prefix length must be 0..={max}"))?;
        let network = AllowedNetwork::Prefix { addr, len };
        if !network.contains(addr, 0) {
            return Err(format!("{s:?} has host bits set"));
        }
        Ok(network)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("allowlist line {line}: {reason}")]
pub struct AllowlistError {
    pub line: usize,
    pub reason: String,
}

/// The research-scanner allowlist.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Allowlist {
    entries: Vec<AllowlistEntry>,
}

impl Allowlist {
    /// Parses the text format: one network per line (`AS398324` or a prefix), then the
    /// scanner's name; `#` starts a comment.
    pub fn parse(text: &str) -> Result<Allowlist, AllowlistError> {
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (network, name) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let network = network.parse().map_err(|reason| AllowlistError {
                line: i + 1,
                reason,
            })?;
            entries.push(AllowlistEntry {
                network,
                name: name.trim().to_string(),
            });
        }
        Ok(Allowlist { entries })
    }

    /// The list Greenwatch ships (`crates/detect/data/allowlist.txt`).
    pub fn shipped_text() -> &'static str {
        include_str!("../data/allowlist.txt")
    }

    /// Adds an entry; an entry for the same network is replaced.
    pub fn add(&mut self, entry: AllowlistEntry) {
        self.remove(&entry.network);
        self.entries.push(entry);
    }

    /// Removes the entry for `network`; returns whether there was one.
    pub fn remove(&mut self, network: &AllowedNetwork) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.network != *network);
        before != self.entries.len()
    }

    /// The text format [`Allowlist::parse`] reads.
    pub fn to_text(&self) -> String {
        let mut text =
            String::from("# Research scanners the detector leaves out (see docs/detection.md).\n");
        for e in &self.entries {
            text += &format!("{} {}\n", e.network, e.name);
        }
        text
    }

    pub fn entries(&self) -> &[AllowlistEntry] {
        &self.entries
    }

    /// Whether a source (with the AS it was enriched with) belongs to an allowlisted scanner.
    pub fn contains(&self, src: IpAddr, asn: u32) -> bool {
        self.entries.iter().any(|e| e.network.contains(src, asn))
    }

    /// Whether a flow is scan traffic from a source the detector watches: the series and the
    /// explanations both count exactly these flows.
    pub fn watches(&self, flow: &FlowTuple) -> bool {
        flow.class == greenwatch_model::TrafficClass::Scan && !self.contains(flow.src, flow.src_asn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_by_asn_and_by_prefix_of_either_family() {
        let list = Allowlist::parse(
            "# research scanners\nAS398324 Censys\n192.0.2.0/24  Example project # lab\n2001:db8::/32 v6 lab\n",
        )
        .unwrap();
        assert_eq!(list.entries().len(), 3);
        assert_eq!(list.entries()[1].name, "Example project");
        assert!(list.contains("203.0.113.9".parse().unwrap(), 398324));
        assert!(list.contains("192.0.2.77".parse().unwrap(), 1));
        assert!(!list.contains("192.0.3.1".parse().unwrap(), 1));
        assert!(list.contains("2001:db8:1::1".parse().unwrap(), 1));
        assert!(!list.contains("2001:db9::1".parse().unwrap(), 1));
    }

    #[test]
    fn edits_round_trip_through_the_text_format() {
        let mut list = Allowlist::parse(Allowlist::shipped_text()).unwrap();
        assert!(!list.entries().is_empty());
        let lab: AllowedNetwork = "198.51.100.0/24".parse().unwrap();
        list.add(AllowlistEntry {
            network: lab,
            name: "University lab".into(),
        });
        let again = Allowlist::parse(&list.to_text()).unwrap();
        assert_eq!(again, list);
        assert!(list.remove(&lab));
        assert!(!list.remove(&lab));
    }

    #[test]
    fn bad_lines_are_named() {
        assert_eq!(
            Allowlist::parse("AS1 ok\n192.0.2.1/24 host bits\n").unwrap_err(),
            AllowlistError {
                line: 2,
                reason: "\"192.0.2.1/24\" has host bits set".into()
            }
        );
        assert!(Allowlist::parse("ASx")
            .unwrap_err()
            .reason
            .contains("AS number"));
        assert!(Allowlist::parse("10.0.0.0/33")
            .unwrap_err()
            .reason
            .contains("0..=32"));
    }
}
