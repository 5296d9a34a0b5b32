//! Parsing the fields every format shares (address, port, ASN, country) from raw values, and
//! describing a bad value for the bad-row report. No allocation unless a value is bad.

use crate::BadRows;
use greenwatch_model::CountryCode;
use std::borrow::Cow;
use std::net::IpAddr;

/// A field as a reader found it: CSV bytes, or a JSON string or number.
#[derive(Copy, Clone, Debug, PartialEq)]
pub(crate) enum Value<'a> {
    /// No such column or key (or JSON `null`).
    Absent,
    Text(&'a [u8]),
    UInt(u64),
    Int(i64),
    Float(f64),
    /// A JSON object, array or boolean.
    Other,
}

impl<'a> Value<'a> {
    /// Text without surrounding white space; other values unchanged.
    #[inline]
    pub(crate) fn trimmed(self) -> Value<'a> {
        match self {
            Value::Text(t) => Value::Text(t.trim_ascii()),
            v => v,
        }
    }

    /// Absent, or empty text.
    #[inline]
    pub(crate) fn is_empty(self) -> bool {
        match self {
            Value::Absent => true,
            Value::Text(t) => t.trim_ascii().is_empty(),
            _ => false,
        }
    }

    pub(crate) fn as_str(self) -> Option<&'a str> {
        match self {
            Value::Text(t) => std::str::from_utf8(t).ok(),
            _ => None,
        }
    }
}

impl<'a> From<Option<&'a serde_json::Value>> for Value<'a> {
    fn from(v: Option<&'a serde_json::Value>) -> Value<'a> {
        use serde_json::Value as J;
        match v {
            None | Some(J::Null) => Value::Absent,
            Some(J::String(s)) => Value::Text(s.as_bytes()),
            Some(J::Number(n)) => n
                .as_u64()
                .map(Value::UInt)
                .or_else(|| n.as_i64().map(Value::Int))
                .unwrap_or_else(|| Value::Float(n.as_f64().unwrap_or(f64::NAN))),
            Some(_) => Value::Other,
        }
    }
}

/// Why one row is bad: the category it is counted under and the offending value.
#[derive(Copy, Clone, Debug, PartialEq)]
pub(crate) struct Bad<'a> {
    pub(crate) category: &'static str,
    pub(crate) value: Value<'a>,
}

impl Bad<'_> {
    pub(crate) fn count(self, line: u64, bad: &mut BadRows) {
        bad.add(line, self.category, || describe(self.value));
    }
}

fn bad<'a>(category: &'static str, value: Value<'a>) -> Bad<'a> {
    Bad { category, value }
}

/// The value as the bad-row report shows it: quoted and cut to about 60 characters.
pub(crate) fn describe(value: Value<'_>) -> String {
    match value {
        Value::Absent => "absent".to_string(),
        Value::Text(t) if t.trim_ascii().is_empty() => "empty".to_string(),
        Value::Text(t) => format!("{:?}", shorten(&String::from_utf8_lossy(t))),
        Value::UInt(n) => n.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Float(n) => n.to_string(),
        Value::Other => "not a string or a number".to_string(),
    }
}

/// `text` cut to 60 characters, marked with `…` when cut.
pub(crate) fn shorten(text: &str) -> Cow<'_, str> {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        None => Cow::Borrowed(text),
        Some((end, _)) => Cow::Owned(format!("{}…", &text[..end])),
    }
}

/// The source address: required; IPv4-mapped IPv6 addresses become IPv4.
#[inline]
pub(crate) fn ip(value: Value<'_>) -> Result<IpAddr, Bad<'_>> {
    let value = value.trimmed();
    if value.is_empty() {
        return Err(bad("missing ip", value));
    }
    value
        .as_str()
        .and_then(|s| s.parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
        .ok_or(bad("invalid ip", value))
}

/// The port; 0 when absent or empty.
#[inline]
pub(crate) fn port(value: Value<'_>) -> Result<u16, Bad<'_>> {
    let value = value.trimmed();
    let n = match value {
        Value::Absent => return Ok(0),
        Value::Text(b"") => return Ok(0),
        Value::Text(t) => decimal(t),
        Value::UInt(n) => Some(n),
        Value::Float(f) => whole(f),
        Value::Int(_) | Value::Other => None,
    };
    n.and_then(|n| u16::try_from(n).ok())
        .ok_or(bad("invalid port", value))
}

/// The AS number, `64496` or `AS64496`; 0 (unknown) when absent or empty.
#[inline]
pub(crate) fn asn(value: Value<'_>) -> Result<u32, Bad<'_>> {
    let value = value.trimmed();
    let n = match value {
        Value::Absent => return Ok(0),
        Value::Text(b"") => return Ok(0),
        Value::Text(t) => {
            let digits = match t {
                [b'A' | b'a', b'S' | b's', rest @ ..] => rest,
                _ => t,
            };
            decimal(digits)
        }
        Value::UInt(n) => Some(n),
        Value::Float(f) => whole(f),
        Value::Int(_) | Value::Other => None,
    };
    n.and_then(|n| u32::try_from(n).ok())
        .ok_or(bad("invalid asn", value))
}

/// The country, two letters; unknown when absent, empty, `-`, `--` or `ZZ` (the code feeds
/// use for "unknown").
#[inline]
pub(crate) fn country(value: Value<'_>) -> Result<CountryCode, Bad<'_>> {
    let value = value.trimmed();
    match value {
        Value::Absent => Ok(CountryCode::UNKNOWN),
        Value::Text(b"" | b"-" | b"--" | b"ZZ" | b"zz") => Ok(CountryCode::UNKNOWN),
        Value::Text(&[a, b]) if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
            Ok(CountryCode([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
            ]))
        }
        _ => Err(bad("invalid country", value)),
    }
}

/// A timestamp that could not be parsed: `missing timestamp` when empty.
pub(crate) fn bad_time(value: Value<'_>) -> Bad<'_> {
    let value = value.trimmed();
    if value.is_empty() {
        bad("missing timestamp", value)
    } else {
        bad("invalid timestamp", value)
    }
}

/// Up to 10 ASCII digits as a number.
#[inline]
fn decimal(t: &[u8]) -> Option<u64> {
    if t.is_empty() || t.len() > 10 {
        return None;
    }
    t.iter().try_fold(0u64, |n, &b| {
        let d = b.wrapping_sub(b'0');
        (d < 10).then_some(n * 10 + u64::from(d))
    })
}

fn whole(f: f64) -> Option<u64> {
    (f.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&f)).then_some(f as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value<'_> {
        Value::Text(s.as_bytes())
    }

    #[test]
    fn addresses_of_both_families_parse_and_bad_ones_are_named() {
        assert_eq!(ip(text("192.0.2.15")), Ok("192.0.2.15".parse().unwrap()));
        assert_eq!(
            ip(text(" 2001:db8::53 ")),
            Ok("2001:db8::53".parse().unwrap())
        );
        assert_eq!(
            ip(text("::ffff:192.0.2.1")),
            Ok("192.0.2.1".parse().unwrap())
        );
        assert_eq!(ip(text("")).unwrap_err().category, "missing ip");
        assert_eq!(ip(Value::Absent).unwrap_err().category, "missing ip");
        assert_eq!(ip(text("192.0.2.256")).unwrap_err().category, "invalid ip");
        assert_eq!(
            ip(Value::Text(b"\xff1.2.3.4")).unwrap_err().category,
            "invalid ip"
        );
        assert_eq!(
            ip(Value::UInt(3_221_225_985)).unwrap_err().category,
            "invalid ip"
        );
    }

    #[test]
    fn ports_and_asns_accept_text_and_numbers_and_treat_empty_as_absent() {
        assert_eq!(port(text("53")), Ok(53));
        assert_eq!(port(Value::UInt(123)), Ok(123));
        assert_eq!(port(text("")), Ok(0));
        assert_eq!(port(Value::Absent), Ok(0));
        assert_eq!(port(text("65536")).unwrap_err().category, "invalid port");
        assert_eq!(port(text("-1")).unwrap_err().category, "invalid port");
        assert_eq!(port(Value::Int(-1)).unwrap_err().category, "invalid port");
        assert_eq!(asn(text("AS64496")), Ok(64496));
        assert_eq!(asn(text("as64496")), Ok(64496));
        assert_eq!(asn(text("64496")), Ok(64496));
        assert_eq!(asn(Value::Float(64496.0)), Ok(64496));
        assert_eq!(asn(text("")), Ok(0));
        assert_eq!(asn(text("4294967296")).unwrap_err().category, "invalid asn");
        assert_eq!(asn(text("AS")).unwrap_err().category, "invalid asn");
    }

    #[test]
    fn countries_are_two_letters_upper_cased() {
        assert_eq!(country(text("nl")), Ok(CountryCode(*b"NL")));
        for unknown in ["", "-", "--", "ZZ"] {
            assert_eq!(
                country(text(unknown)),
                Ok(CountryCode::UNKNOWN),
                "{unknown}"
            );
        }
        for bad in ["NLD", "N1", "Netherlands"] {
            assert_eq!(country(text(bad)).unwrap_err().category, "invalid country");
        }
    }

    #[test]
    fn bad_values_are_quoted_and_shortened() {
        assert_eq!(describe(text("1.2.3")), "\"1.2.3\"");
        assert_eq!(describe(text(" ")), "empty");
        let long = "x".repeat(100);
        let shown = describe(text(&long));
        assert_eq!(shown, format!("\"{}…\"", "x".repeat(60)));
        assert_eq!(bad_time(text("")).category, "missing timestamp");
        assert_eq!(bad_time(text("soon")).category, "invalid timestamp");
    }
}
