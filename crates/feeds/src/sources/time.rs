//! Timestamps as feeds write them, parsed by hand: chrono is too slow for a million rows a
//! second, and every feed uses the same few ISO 8601 shapes.

use chrono::format::{Fixed, Item, Numeric, StrftimeItems};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use greenwatch_model::Timestamp;

const MICROS: i64 = Timestamp::MICROS_PER_SEC;

/// `9999-12-31T23:59:59Z`: the last second a four-digit year can name.
const MAX_EPOCH_SECS: i64 = 253_402_300_799;

/// Parses `YYYY-MM-DD HH:MM:SS` (Shadowserver) and RFC 3339 (IntelMQ): `T` or space between
/// date and time, optional fractional seconds (truncated to microseconds), and an optional
/// zone `Z`, `±HH`, `±HHMM` or `±HH:MM`. Without a zone the time is UTC.
pub(crate) fn parse_datetime(s: &[u8]) -> Option<Timestamp> {
    if s.len() < 19 || !matches!(s[10], b' ' | b'T' | b't') {
        return None;
    }
    let days = parse_date(&s[..10])?;
    if s[13] != b':' || s[16] != b':' {
        return None;
    }
    let (hour, minute, second) = (two(s, 11)?, two(s, 14)?, two(s, 17)?);
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &s[19..];
    let mut micros = 0i64;
    if let [b'.' | b',', fraction @ ..] = rest {
        let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        for i in 0..6 {
            let d = fraction
                .get(i)
                .filter(|_| i < digits)
                .map_or(0, |b| b - b'0');
            micros = micros * 10 + i64::from(d);
        }
        rest = &fraction[digits..];
    }
    let offset = parse_zone(rest)?;
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset;
    Some(Timestamp(secs * MICROS + micros))
}

/// The default for mapped feeds: [`parse_datetime`], a bare date (midnight UTC), or Unix
/// epoch seconds with an optional fraction.
pub(crate) fn parse_flexible(s: &[u8]) -> Option<Timestamp> {
    if let Some(t) = parse_datetime(s) {
        return Some(t);
    }
    if s.len() == 10 && s[4] == b'-' {
        return parse_date(s).map(|days| Timestamp(days * 86_400 * MICROS));
    }
    parse_epoch(s)
}

/// Unix epoch seconds, `1791158403` or `1791158403.25`, up to the end of year 9999.
pub(crate) fn parse_epoch(s: &[u8]) -> Option<Timestamp> {
    let (int, fraction) = match memchr::memchr(b'.', s) {
        Some(dot) => (&s[..dot], &s[dot + 1..]),
        None => (s, &[][..]),
    };
    if int.is_empty() || int.len() > 12 || !int.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let secs = int.iter().fold(0i64, |n, b| n * 10 + i64::from(b - b'0'));
    if secs > MAX_EPOCH_SECS {
        return None;
    }
    let micros = (0..6).fold(0i64, |n, i| {
        n * 10 + fraction.get(i).map_or(0, |b| i64::from(b - b'0'))
    });
    Some(Timestamp(secs * MICROS + micros))
}

/// Epoch seconds given as a JSON number.
pub(crate) fn from_epoch_f64(secs: f64) -> Option<Timestamp> {
    if !(0.0..=MAX_EPOCH_SECS as f64).contains(&secs) {
        return None;
    }
    Some(Timestamp((secs * MICROS as f64).round() as i64))
}

/// Midnight UTC at the start of `date`.
pub(crate) fn midnight(date: NaiveDate) -> Timestamp {
    let dt = date
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc();
    Timestamp(dt.timestamp_micros())
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date, checked (month length, leap years).
fn parse_date(s: &[u8]) -> Option<i64> {
    if s.len() != 10 || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    let year = two(s, 0)? * 100 + two(s, 2)?;
    let (month, day) = (two(s, 5)?, two(s, 8)?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(i64::from(year), month, day))
}

/// Seconds east of UTC of the zone suffix; 0 without one.
fn parse_zone(s: &[u8]) -> Option<i64> {
    let sign = match s {
        [] | [b'Z' | b'z'] => return Some(0),
        [b'+', ..] => 1,
        [b'-', ..] => -1,
        _ => return None,
    };
    let (hours, minutes) = match s.len() {
        3 => (two(s, 1)?, 0),
        5 => (two(s, 1)?, two(s, 3)?),
        6 if s[3] == b':' => (two(s, 1)?, two(s, 4)?),
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * i64::from(hours * 3600 + minutes * 60))
}

/// The two-digit number at `s[i..i + 2]`.
#[inline]
fn two(s: &[u8], i: usize) -> Option<u32> {
    let a = s.get(i)?.wrapping_sub(b'0');
    let b = s.get(i + 1)?.wrapping_sub(b'0');
    (a < 10 && b < 10).then_some(u32::from(a) * 10 + u32::from(b))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's `days_from_civil`: days since 1970-01-01 in the proleptic Gregorian
/// calendar.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = i64::from((month + 9) % 12);
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// A chrono format from a mapping (`time_format`), checked once and classified by what it
/// names, so each row is parsed by the one chrono function that fits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ChronoFormat {
    format: String,
    kind: FormatKind,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum FormatKind {
    /// Names a zone offset: the time is converted to UTC.
    WithOffset,
    /// Names a time of day: UTC.
    DateTime,
    /// A date only: midnight UTC.
    Date,
}

impl ChronoFormat {
    pub(crate) fn new(format: &str) -> Result<ChronoFormat, String> {
        let mut offset = false;
        let mut time = false;
        for item in StrftimeItems::new(format) {
            match item {
                Item::Error => {
                    return Err(format!(
                        "time_format {format:?} is not a valid chrono format (see chrono::format::strftime)"
                    ))
                }
                Item::Fixed(
                    Fixed::TimezoneOffset
                    | Fixed::TimezoneOffsetColon
                    | Fixed::TimezoneOffsetDoubleColon
                    | Fixed::TimezoneOffsetTripleColon
                    | Fixed::TimezoneOffsetColonZ
                    | Fixed::TimezoneOffsetZ
                    | Fixed::RFC2822
                    | Fixed::RFC3339,
                ) => offset = true,
                Item::Numeric(Numeric::Hour | Numeric::Hour12 | Numeric::Timestamp, _) => {
                    time = true
                }
                _ => {}
            }
        }
        let kind = match (offset, time) {
            (true, _) => FormatKind::WithOffset,
            (false, true) => FormatKind::DateTime,
            (false, false) => FormatKind::Date,
        };
        Ok(ChronoFormat {
            format: format.to_string(),
            kind,
        })
    }

    pub(crate) fn parse(&self, text: &str) -> Option<Timestamp> {
        let micros = match self.kind {
            FormatKind::WithOffset => DateTime::parse_from_str(text, &self.format)
                .ok()?
                .with_timezone(&Utc)
                .timestamp_micros(),
            FormatKind::DateTime => NaiveDateTime::parse_from_str(text, &self.format)
                .ok()?
                .and_utc()
                .timestamp_micros(),
            FormatKind::Date => {
                return NaiveDate::parse_from_str(text, &self.format)
                    .ok()
                    .map(midnight)
            }
        };
        Some(Timestamp(micros))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(s: &str) -> Option<Timestamp> {
        parse_datetime(s.as_bytes())
    }

    fn chrono_micros(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
    }

    #[test]
    fn shadowserver_and_rfc3339_forms_give_the_same_instant() {
        let expected = Some(Timestamp(chrono_micros("2026-10-05T00:00:03Z")));
        for form in [
            "2026-10-05 00:00:03",
            "2026-10-05T00:00:03",
            "2026-10-05T00:00:03Z",
            "2026-10-05 00:00:03+00",
            "2026-10-05 00:00:03+0000",
            "2026-10-05T00:00:03+00:00",
            "2026-10-05T02:00:03+02:00",
            "2026-10-04T19:00:03-05:00",
            "2026-10-05t00:00:03z",
        ] {
            assert_eq!(ts(form), expected, "{form}");
        }
    }

    #[test]
    fn fractional_seconds_are_truncated_to_microseconds() {
        let base = chrono_micros("2026-10-05T00:00:03Z");
        assert_eq!(ts("2026-10-05 00:00:03.5"), Some(Timestamp(base + 500_000)));
        assert_eq!(
            ts("2026-10-05T00:00:03.123456789Z"),
            Some(Timestamp(base + 123_456))
        );
        assert_eq!(
            ts("2026-10-05T00:00:03,25+00:00"),
            Some(Timestamp(base + 250_000))
        );
        assert_eq!(ts("2026-10-05T00:00:03.Z"), None);
    }

    #[test]
    fn impossible_dates_and_malformed_text_are_rejected() {
        for bad in [
            "",
            "2026-10-05",
            "2026-02-29 00:00:00",
            "2026-13-01 00:00:00",
            "2026-04-31 00:00:00",
            "2026-10-05 24:00:00",
            "2026-10-05 23:60:00",
            "2026-10-05 23:59:60",
            "2026-10-05 00:00:03 ",
            "2026-10-05 00:00:03+0",
            "2026-10-05 00:00:03+24:00",
            "2026-10-05 00:00:03UTC",
            "2026/10/05 00:00:03",
            "２026-10-05 00:00:03",
            "2026-1a-05 00:00:03",
        ] {
            assert_eq!(ts(bad), None, "{bad:?}");
        }
        assert_eq!(
            ts("2024-02-29 12:00:00"),
            Some(Timestamp(chrono_micros("2024-02-29T12:00:00Z")))
        );
        assert_eq!(
            ts("1969-12-31 23:59:59"),
            Some(Timestamp(-Timestamp::MICROS_PER_SEC))
        );
    }

    #[test]
    fn flexible_accepts_dates_and_epoch_seconds() {
        let midnight = chrono_micros("2026-10-05T00:00:00Z");
        assert_eq!(parse_flexible(b"2026-10-05"), Some(Timestamp(midnight)));
        assert_eq!(
            parse_flexible(b"1791158403"),
            Some(Timestamp::from_secs(1_791_158_403))
        );
        assert_eq!(
            parse_flexible(b"1791158403.25"),
            Some(Timestamp(1_791_158_403 * MICROS + 250_000))
        );
        assert_eq!(parse_flexible(b"1791158403123456"), None);
        assert_eq!(parse_flexible(b"-5"), None);
        assert_eq!(parse_flexible(b"."), None);
        assert_eq!(parse_flexible(b"yesterday"), None);
        assert_eq!(from_epoch_f64(1.5), Some(Timestamp(1_500_000)));
        assert_eq!(from_epoch_f64(f64::NAN), None);
    }

    #[test]
    fn chrono_formats_are_checked_and_applied_in_utc() {
        let f = ChronoFormat::new("%d/%m/%Y %H:%M").unwrap();
        assert_eq!(
            f.parse("05/10/2026 13:45"),
            Some(Timestamp(chrono_micros("2026-10-05T13:45:00Z")))
        );
        assert_eq!(f.parse("2026-10-05 13:45"), None);
        let f = ChronoFormat::new("%d.%m.%Y %H:%M:%S %z").unwrap();
        assert_eq!(
            f.parse("05.10.2026 15:45:00 +0200"),
            Some(Timestamp(chrono_micros("2026-10-05T13:45:00Z")))
        );
        let f = ChronoFormat::new("%Y%m%d").unwrap();
        assert_eq!(
            f.parse("20261005"),
            Some(Timestamp(chrono_micros("2026-10-05T00:00:00Z")))
        );
        assert!(ChronoFormat::new("%Y-%m-%d %Q").is_err());
    }

    proptest! {
        #[test]
        fn agrees_with_chrono_on_valid_datetimes(
            secs in -62_135_596_800i64..=MAX_EPOCH_SECS,
            micros in 0u32..1_000_000,
            offset_minutes in -1439i32..=1439,
            style in 0usize..5,
        ) {
            let offset = chrono::FixedOffset::east_opt(offset_minutes * 60).unwrap();
            let utc = DateTime::from_timestamp(secs, micros * 1000).unwrap();
            let local = utc.with_timezone(&offset);
            let text = match style {
                0 => utc.format("%Y-%m-%d %H:%M:%S").to_string(),
                1 => utc.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
                2 => local.format("%Y-%m-%dT%H:%M:%S%.f%:z").to_string(),
                3 => local.format("%Y-%m-%d %H:%M:%S%z").to_string(),
                _ => local.format("%Y-%m-%dT%H:%M:%S%.9f%:z").to_string(),
            };
            let by_chrono = match style {
                0 => NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S").unwrap().and_utc().timestamp_micros(),
                3 => DateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%z").unwrap().timestamp_micros(),
                _ => DateTime::parse_from_rfc3339(&text).unwrap().timestamp_micros(),
            };
            let exact = if style == 0 || style == 3 { secs * MICROS } else { utc.timestamp_micros() };
            prop_assert_eq!(by_chrono, exact);
            let expected = by_chrono;
            prop_assert_eq!(parse_datetime(text.as_bytes()), Some(Timestamp(expected)), "{}", text);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = parse_datetime(&bytes);
            let _ = parse_flexible(&bytes);
        }

        #[test]
        fn near_valid_text_never_panics(text in "[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}[.,0-9Zz+:-]{0,12}") {
            if let Some(t) = parse_datetime(text.as_bytes()) {
                prop_assert!(t.0 > -62_200_000_000 * MICROS);
            }
        }
    }
}
