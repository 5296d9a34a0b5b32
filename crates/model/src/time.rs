//! Time as Greenwatch stores it: microseconds since the Unix epoch, UTC, and fixed-width
//! buckets aligned on the epoch.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Microseconds since 1970-01-01T00:00:00Z. Serialised as RFC 3339 with microseconds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const MICROS_PER_SEC: i64 = 1_000_000;

    pub fn from_secs(secs: i64) -> Self {
        Timestamp(secs * Self::MICROS_PER_SEC)
    }

    pub fn from_parts(secs: i64, micros: u32) -> Self {
        Timestamp(secs * Self::MICROS_PER_SEC + micros as i64)
    }

    pub fn secs(self) -> i64 {
        self.0.div_euclid(Self::MICROS_PER_SEC)
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.0).unwrap_or_default()
    }

    pub fn to_rfc3339(self) -> String {
        self.to_datetime()
            .to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    /// Accepts RFC 3339 (`2026-10-05T13:00:00Z`) or a bare date (`2026-10-05`, midnight UTC).
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
            return Ok(Timestamp(dt.with_timezone(&Utc).timestamp_micros()));
        }
        if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            let dt = date
                .and_hms_opt(0, 0, 0)
                .expect("midnight exists")
                .and_utc();
            return Ok(Timestamp(dt.timestamp_micros()));
        }
        Err(format!("invalid time {text:?}: expected RFC 3339 (2026-10-05T13:00:00Z) or a date (2026-10-05)"))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl FromStr for Timestamp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Width of an aggregation bucket in seconds; buckets start at multiples of the width
/// since the epoch, so buckets from different files and sensors line up.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct BucketWidth(pub u32);

#[derive(Debug, thiserror::Error)]
#[error(
    "invalid bucket width {0:?}: expected a duration such as 60s, 5m, 1h or 1d that divides a day"
)]
pub struct ParseBucketError(String);

impl BucketWidth {
    pub const MINUTE: BucketWidth = BucketWidth(60);
    pub const HOUR: BucketWidth = BucketWidth(3600);
    pub const DAY: BucketWidth = BucketWidth(86_400);

    /// Start (in seconds since the epoch) of the bucket holding `ts`.
    pub fn start_of(self, ts: Timestamp) -> i64 {
        let w = self.0 as i64;
        ts.secs().div_euclid(w) * w
    }
}

impl FromStr for BucketWidth {
    type Err = ParseBucketError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseBucketError(s.to_string());
        let t = s.trim();
        let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
        let n: u32 = num.parse().map_err(|_| err())?;
        let mult = match unit {
            "" | "s" => 1,
            "m" | "min" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(err()),
        };
        let secs = n.checked_mul(mult).ok_or_else(err)?;
        if secs == 0 || 86_400 % secs != 0 {
            return Err(err());
        }
        Ok(BucketWidth(secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_with_micros() {
        let t = Timestamp::from_parts(1_760_000_000, 123_456);
        assert_eq!(Timestamp::parse(&t.to_rfc3339()), Ok(t));
        assert_eq!(t.to_rfc3339(), "2025-10-09T08:53:20.123456Z");
    }

    #[test]
    fn bare_date_is_midnight_utc() {
        assert_eq!(
            Timestamp::parse("1970-01-02"),
            Ok(Timestamp::from_secs(86_400))
        );
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn buckets_align_on_epoch_and_reject_odd_widths() {
        let w: BucketWidth = "1h".parse().unwrap();
        assert_eq!(w.start_of(Timestamp::from_secs(7_199)), 3_600);
        assert_eq!(w.start_of(Timestamp::from_secs(-1)), -3_600);
        assert_eq!("5m".parse::<BucketWidth>().unwrap().0, 300);
        assert!("7m".parse::<BucketWidth>().is_err());
        assert!("0s".parse::<BucketWidth>().is_err());
        assert!("1w".parse::<BucketWidth>().is_err());
    }
}
