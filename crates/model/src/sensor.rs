//! Sensors of the observation network: a registered sensor (who runs it, where, under which
//! TLP its data travels) and the health it reports with every batch.

use crate::access::Tlp;
use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A sensor registered by an organisation. Its token is stored by hash elsewhere; nothing
/// here is secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sensor {
    /// Its name, unique within its organisation, also the `sensor` of every capture it
    /// ships (e.g. `tokyo-1`). Two organisations may each have a `tokyo-1`: a sensor is
    /// known by its [`SensorRef`] (organisation and name), never by its name alone.
    pub name: String,
    /// Slug of the owner organisation.
    pub org: String,
    /// The unused address space it listens on.
    pub address_block: AddressBlock,
    /// Free text: city, country, network.
    pub location: String,
    /// TLP of everything it observes.
    pub tlp: Tlp,
    pub created_at: Timestamp,
    /// Set once its token is revoked: it can no longer ship batches.
    pub revoked_at: Option<Timestamp>,
    /// When the collector last accepted a batch from it.
    pub last_seen: Option<Timestamp>,
    /// What it reported with its last accepted batch.
    pub health: Option<SensorHealth>,
}

impl Sensor {
    /// Names captures take when they name no registered sensor (`upload` for the portal's
    /// uploads, `default` for `greenwatch ingest pcap`). No sensor may be registered under
    /// them, so nobody can claim data that was never theirs.
    pub const RESERVED_NAMES: [&'static str; 2] = [Sensor::UPLOADED, Sensor::INGESTED];
    /// The sensor name of portal uploads.
    pub const UPLOADED: &'static str = "upload";
    /// The sensor name of `greenwatch ingest pcap` without `--sensor`.
    pub const INGESTED: &'static str = "default";

    /// Who it is: its organisation and name.
    pub fn reference(&self) -> SensorRef {
        SensorRef {
            org: self.org.clone(),
            name: self.name.clone(),
        }
    }

    /// Whether a sensor may be registered as `name`: 1-64 of `a-z`, `0-9`, `-`, `.`, not
    /// starting with `-` or `.`, and not one of [`Sensor::RESERVED_NAMES`]. The error says why.
    pub fn check_name(name: &str) -> Result<(), String> {
        let well_formed = (1..=64).contains(&name.len())
            && !name.starts_with(['-', '.'])
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !well_formed {
            return Err(format!(
                "sensor name {name:?}: use 1-64 lower-case letters, digits, '-' and '.'"
            ));
        }
        if Sensor::RESERVED_NAMES.contains(&name) {
            return Err(format!(
                "sensor name {name:?} is reserved for captures that name no sensor; choose another"
            ));
        }
        Ok(())
    }
}

/// A sensor's identity: the organisation that owns it and its name there, written
/// `org/name` (e.g. `cert-jp/tokyo-1`). A sensor's data is what its own batches and its
/// owner's captures stored under its name: the owner is part of every match, so another
/// organisation's capture of the same name never joins it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SensorRef {
    pub org: String,
    pub name: String,
}

impl SensorRef {
    pub fn new(org: impl Into<String>, name: impl Into<String>) -> SensorRef {
        SensorRef {
            org: org.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for SensorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.org, self.name)
    }
}

impl FromStr for SensorRef {
    type Err = String;
    /// `org/name`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (org, name) = s
            .split_once('/')
            .filter(|(org, name)| !org.is_empty() && !name.is_empty())
            .ok_or_else(|| {
                format!("sensor {s:?}: expected ORGANISATION/NAME, e.g. cert-jp/tokyo-1")
            })?;
        Ok(SensorRef::new(org, name))
    }
}

impl Serialize for SensorRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What a sensor says about itself: enough to tell a quiet network from a broken sensor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SensorHealth {
    /// When the sensor measured this (its own clock).
    pub at: Timestamp,
    /// Packets captured since the sensor started.
    pub packets_seen: u64,
    /// Packets the kernel dropped before the sensor read them (the capture ring was full).
    pub kernel_drops: u64,
    /// Batches made but not yet acknowledged by the collector.
    pub batches_pending: u64,
    /// Bytes of those batches in the spool.
    pub spool_bytes: u64,
    /// Batches (and their packets) thrown away because the spool was full.
    pub dropped_batches: u64,
    pub dropped_packets: u64,
    /// Collector clock minus sensor clock, in milliseconds, measured on the last exchange.
    pub clock_offset_ms: Option<i64>,
}

/// An address prefix such as `198.51.100.0/24` or `2001:db8::/48`; host bits are zero.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddressBlock {
    pub network: IpAddr,
    pub prefix_len: u8,
}

impl AddressBlock {
    /// The block of `prefix_len` bits containing `addr`.
    pub fn containing(addr: IpAddr, prefix_len: u8) -> Result<AddressBlock, String> {
        let (bits, max) = match addr {
            IpAddr::V4(a) => (u32::from(a) as u128, 32u32),
            IpAddr::V6(a) => (u128::from(a), 128),
        };
        if prefix_len as u32 > max {
            return Err(format!("prefix length {prefix_len} is longer than {max}"));
        }
        let host_bits = max - prefix_len as u32;
        let mask = if host_bits >= 128 {
            0
        } else {
            !((1u128 << host_bits) - 1)
        };
        let network = match addr {
            IpAddr::V4(_) => IpAddr::V4(((bits & mask) as u32).into()),
            IpAddr::V6(_) => IpAddr::V6((bits & mask).into()),
        };
        Ok(AddressBlock {
            network,
            prefix_len,
        })
    }
}

impl AddressBlock {
    /// Whether every address of `other` lies in this block (same family, at least as long a
    /// prefix, same network bits).
    pub fn contains(&self, other: &AddressBlock) -> bool {
        other.prefix_len >= self.prefix_len
            && other.network.is_ipv4() == self.network.is_ipv4()
            && AddressBlock::containing(other.network, self.prefix_len).as_ref() == Ok(self)
    }
}

impl fmt::Display for AddressBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix_len)
    }
}

impl FromStr for AddressBlock {
    type Err = String;

    /// Parses `address/length`; the address must have no host bits set.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, len) = s
            .split_once('/')
            .ok_or_else(|| format!("address block {s:?} is not `address/length`"))?;
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("address block {s:?}: {addr:?} is not an IP address"))?;
        let len: u8 = len
            .parse()
            .map_err(|_| format!("address block {s:?}: {len:?} is not a prefix length"))?;
        let block =
            AddressBlock::containing(addr, len).map_err(|e| format!("address block {s:?}: {e}"))?;
        if block.network != addr {
            return Err(format!(
                "address block {s:?} has host bits set (did you mean {block}?)"
            ));
        }
        Ok(block)
    }
}

impl Serialize for AddressBlock {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AddressBlock {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensor_refs_are_organisation_and_name() {
        let r: SensorRef = "cert-jp/tokyo-1".parse().unwrap();
        assert_eq!(r, SensorRef::new("cert-jp", "tokyo-1"));
        assert_eq!(r.to_string(), "cert-jp/tokyo-1");
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"cert-jp/tokyo-1\"");
        for bad in ["tokyo-1", "/tokyo-1", "cert-jp/", ""] {
            assert!(bad.parse::<SensorRef>().is_err(), "{bad}");
        }
        for reserved in Sensor::RESERVED_NAMES {
            assert!(Sensor::check_name(reserved)
                .unwrap_err()
                .contains("reserved"));
        }
    }

    #[test]
    fn address_blocks_parse_print_and_refuse_host_bits() {
        let block: AddressBlock = "198.51.100.0/24".parse().unwrap();
        assert_eq!(block.to_string(), "198.51.100.0/24");
        let v6: AddressBlock = "2001:db8:40::/48".parse().unwrap();
        assert_eq!(v6.prefix_len, 48);
        let err = "198.51.100.7/24".parse::<AddressBlock>().unwrap_err();
        assert!(err.contains("198.51.100.0/24"), "{err}");
        for bad in ["198.51.100.0", "198.51.100.0/33", "x/24", "10.0.0.0/x"] {
            assert!(bad.parse::<AddressBlock>().is_err(), "{bad}");
        }
        let all: AddressBlock = "0.0.0.0/0".parse().unwrap();
        assert_eq!(all.prefix_len, 0);
    }

    #[test]
    fn a_block_contains_exactly_its_sub_blocks() {
        let block = |s: &str| s.parse::<AddressBlock>().unwrap();
        let net = block("198.51.0.0/16");
        assert!(net.contains(&block("198.51.100.0/24")));
        assert!(net.contains(&net));
        assert!(!net.contains(&block("198.52.100.0/24")));
        assert!(
            !net.contains(&block("198.0.0.0/8")),
            "wider than the network"
        );
        assert!(!block("0.0.0.0/0").contains(&block("2001:db8::/48")));
        assert!(block("2001:db8::/32").contains(&block("2001:db8:40::/48")));
    }

    #[test]
    fn sensor_names_are_restricted() {
        assert!(Sensor::check_name("tokyo-1").is_ok());
        assert!(Sensor::check_name("sensor.cert.example").is_ok());
        for bad in ["", "-a", ".a", "Tokyo", "a b", "a/b"] {
            assert!(Sensor::check_name(bad).is_err(), "{bad:?}");
        }
    }
}
