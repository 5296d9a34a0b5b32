//! What a darknet packet is (its class), which tool sent it (its fingerprint), and why a
//! packet was judged likely spoofed. Rules live in `docs/classification.md`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The four classes every observed packet falls into (BRIEF.md, "Packet rules").
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrafficClass {
    /// TCP SYN without ACK, any UDP datagram, ICMP echo request.
    Scan,
    /// Replies from victims of spoofed-source DoS attacks: SYN+ACK, RST, ICMP replies/errors.
    Backscatter,
    /// Packets that break a corsaro-style sanity rule (see [`SpoofReason`]).
    Spoofed,
    /// Everything that decodes but is none of the above.
    Other,
}

impl TrafficClass {
    pub const ALL: [TrafficClass; 4] = [Self::Scan, Self::Backscatter, Self::Spoofed, Self::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scan => "scan",
            Self::Backscatter => "backscatter",
            Self::Spoofed => "spoofed",
            Self::Other => "other",
        }
    }

    /// Stable small integer used by stores; never reorder.
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(code as usize).copied()
    }
}

impl fmt::Display for TrafficClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TrafficClass {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown class {s:?} (expected scan, backscatter, spoofed or other)")
            })
    }
}

/// Scanner tools recognisable from header fields of a single TCP SYN.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fingerprint {
    /// TCP sequence number equals the destination IPv4 address.
    Mirai,
    /// IP ID == (dst_ip ^ dst_port ^ seq) & 0xFFFF.
    Masscan,
    /// IP ID 54321 (ZMap before 2024).
    Zmap,
}

impl Fingerprint {
    pub const ALL: [Fingerprint; 3] = [Self::Mirai, Self::Masscan, Self::Zmap];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mirai => "mirai",
            Self::Masscan => "masscan",
            Self::Zmap => "zmap",
        }
    }

    /// Stable code for stores: 0 means "no fingerprint", so these start at 1.
    pub fn code(self) -> u8 {
        self as u8 + 1
    }

    pub fn from_code(code: u8) -> Option<Self> {
        code.checked_sub(1)
            .and_then(|i| Self::ALL.get(i as usize).copied())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Fingerprint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown fingerprint {s:?} (expected mirai, masscan or zmap)"))
    }
}

/// Why a packet was classified [`TrafficClass::Spoofed`]; the first rule that matched wins,
/// in the order of this enum.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpoofReason {
    Fragment,
    SourceIsDestination,
    SourceLastByte,
    PortZero,
    AbnormalTcpFlags,
    HighTtl,
}

/// IP protocol numbers Greenwatch names; anything else is kept as its number.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Transport(pub u8);

impl Transport {
    pub const ICMP: Transport = Transport(1);
    pub const TCP: Transport = Transport(6);
    pub const UDP: Transport = Transport(17);
    pub const ICMPV6: Transport = Transport(58);

    pub fn name(self) -> String {
        match self {
            Self::ICMP => "icmp".into(),
            Self::TCP => "tcp".into(),
            Self::UDP => "udp".into(),
            Self::ICMPV6 => "icmp6".into(),
            Transport(n) => n.to_string(),
        }
    }

    /// True for the protocols whose "ports" are really ICMP type (source) and code (destination).
    pub fn is_icmp(self) -> bool {
        self == Self::ICMP || self == Self::ICMPV6
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for Transport {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "icmp" => Ok(Self::ICMP),
            "tcp" => Ok(Self::TCP),
            "udp" => Ok(Self::UDP),
            "icmp6" | "icmpv6" => Ok(Self::ICMPV6),
            other => other.parse::<u8>().map(Transport).map_err(|_| {
                format!("unknown protocol {s:?} (expected tcp, udp, icmp, icmp6 or a number)")
            }),
        }
    }
}

impl Serialize for Transport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for Transport {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_fingerprint_zero_means_none() {
        for c in TrafficClass::ALL {
            assert_eq!(TrafficClass::from_code(c.code()), Some(c));
        }
        for f in Fingerprint::ALL {
            assert_ne!(f.code(), 0);
            assert_eq!(Fingerprint::from_code(f.code()), Some(f));
        }
        assert_eq!(Fingerprint::from_code(0), None);
    }

    #[test]
    fn transport_names_parse_back() {
        for t in [
            Transport::ICMP,
            Transport::TCP,
            Transport::UDP,
            Transport::ICMPV6,
            Transport(47),
        ] {
            assert_eq!(t.name().parse::<Transport>(), Ok(t));
        }
        assert!("bogus".parse::<Transport>().is_err());
    }
}
