//! What enrichment attaches to an address: origin AS and country. Kept as a small `Copy`
//! value so the packet hot path can carry it without allocation.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// ISO 3166-1 alpha-2 code, upper case; `[0, 0]` means unknown.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode(pub [u8; 2]);

impl CountryCode {
    pub const UNKNOWN: CountryCode = CountryCode([0, 0]);

    pub fn is_known(self) -> bool {
        self != Self::UNKNOWN
    }

    pub fn as_str(&self) -> Option<&str> {
        if self.is_known() {
            std::str::from_utf8(&self.0).ok()
        } else {
            None
        }
    }
}

impl FromStr for CountryCode {
    type Err = String;
    /// Accepts two ASCII letters in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.trim().as_bytes();
        if b.len() == 2 && b.iter().all(u8::is_ascii_alphabetic) {
            Ok(CountryCode([
                b[0].to_ascii_uppercase(),
                b[1].to_ascii_uppercase(),
            ]))
        } else {
            Err(format!(
                "invalid country code {s:?}: expected two letters (ISO 3166-1 alpha-2)"
            ))
        }
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str().unwrap_or("??"))
    }
}

impl Serialize for CountryCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.as_str() {
            Some(c) => s.serialize_str(c),
            None => s.serialize_none(),
        }
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(s) => s.parse().map_err(serde::de::Error::custom),
            None => Ok(CountryCode::UNKNOWN),
        }
    }
}

/// Origin AS (0 = unknown) and country of one address, from the netdb snapshot valid at the
/// observation's date.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Enrichment {
    pub asn: u32,
    pub country: CountryCode,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_upper_cased_and_validated() {
        assert_eq!("jp".parse::<CountryCode>().unwrap().as_str(), Some("JP"));
        assert!("JPN".parse::<CountryCode>().is_err());
        assert!("1A".parse::<CountryCode>().is_err());
        assert_eq!(CountryCode::UNKNOWN.as_str(), None);
    }
}
