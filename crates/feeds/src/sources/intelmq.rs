//! IntelMQ events as JSON lines (the file output bot's format), with harmonization field
//! names. Flat dotted keys (`"source.ip"`, IntelMQ's default) are read into a struct that
//! borrows from the line; nested objects (`{"source": {"ip": ...}}`) go through
//! `serde_json::Value`. The risk comes from the event's classification.

use crate::catalogue::Catalogue;
use crate::sources::fields::{self, Value};
use crate::sources::input::{Input, Lines};
use crate::sources::{date_in_name, line_error, time};
use crate::{BadRows, FeedError, FeedInfo, FeedRow, FeedSource};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

pub(crate) struct IntelmqSource {
    path: PathBuf,
    info: FeedInfo,
    lines: Lines,
    catalogue: Catalogue,
}

impl IntelmqSource {
    pub(crate) fn open(path: &Path, input: Input, catalogue: &Catalogue) -> IntelmqSource {
        IntelmqSource {
            path: path.to_path_buf(),
            info: FeedInfo {
                format: "intelmq",
                report_type: None,
                date_from_name: date_in_name(path),
                gzip: input.gzip,
            },
            lines: Lines::new(input.reader),
            catalogue: catalogue.clone(),
        }
    }
}

impl FeedSource for IntelmqSource {
    fn info(&self) -> &FeedInfo {
        &self.info
    }

    fn read_batch(
        &mut self,
        out: &mut Vec<FeedRow>,
        bad: &mut BadRows,
        max: usize,
    ) -> Result<bool, FeedError> {
        let full = out.len() + max.max(1);
        while out.len() < full {
            let (line, bytes) = match self.lines.next_line(bad) {
                Ok(Some(next)) => next,
                Ok(None) => return Ok(false),
                Err(e) => return Err(line_error(&self.path, self.lines.line() + 1, e.to_string())),
            };
            if bytes.trim_ascii().is_empty() {
                continue;
            }
            if let Some(row) = parse_event(bytes, line, &self.catalogue, bad) {
                out.push(row);
            }
        }
        Ok(true)
    }
}

/// One line to a row, or counted as a bad row.
fn parse_event(
    bytes: &[u8],
    line: u64,
    catalogue: &Catalogue,
    bad: &mut BadRows,
) -> Option<FeedRow> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            bad.add(line, "invalid utf-8", || {
                format!("invalid byte at column {}", e.valid_up_to() + 1)
            });
            return None;
        }
    };
    if !text.trim_start().starts_with('{') {
        bad.add(line, "invalid json", || {
            format!(
                "expected an object, found {:?}",
                fields::shorten(text.trim())
            )
        });
        return None;
    }
    let flat = match serde_json::from_str::<FlatEvent>(text) {
        Ok(flat) => flat,
        Err(e) => {
            bad.add(line, "invalid json", || e.to_string());
            return None;
        }
    };
    if !flat.is_nested() {
        return flat.fields().row(line, catalogue, bad);
    }
    // The flat parse succeeded, so the line is valid JSON.
    let tree = serde_json::from_str::<serde_json::Value>(text).ok()?;
    EventFields::from_tree(&tree).row(line, catalogue, bad)
}

/// The harmonization fields a row needs, from either form.
struct EventFields<'a> {
    ip: Value<'a>,
    time_source: Value<'a>,
    time_observation: Value<'a>,
    port: Value<'a>,
    asn: Value<'a>,
    country: Value<'a>,
    identifier: Value<'a>,
    kind: Value<'a>,
}

impl<'a> EventFields<'a> {
    fn from_tree(tree: &'a serde_json::Value) -> EventFields<'a> {
        let get = |key: &str| Value::from(lookup(tree, key));
        EventFields {
            ip: get("source.ip"),
            time_source: get("time.source"),
            time_observation: get("time.observation"),
            port: get("source.port"),
            asn: get("source.asn"),
            country: get("source.geolocation.cc"),
            identifier: get("classification.identifier"),
            kind: get("classification.type"),
        }
    }

    fn row(&self, line: u64, catalogue: &Catalogue, bad: &mut BadRows) -> Option<FeedRow> {
        let identifier = self.identifier.trimmed().as_str().filter(|s| !s.is_empty());
        let kind = self.kind.trimmed().as_str().filter(|s| !s.is_empty());
        let Some(risk) = catalogue.for_intelmq(identifier, kind) else {
            bad.add(line, "no risk for classification", || {
                format!(
                    "classification.identifier {}, classification.type {}",
                    fields::describe(self.identifier),
                    fields::describe(self.kind)
                )
            });
            return None;
        };
        let time_value = if self.time_source.is_empty() {
            self.time_observation
        } else {
            self.time_source
        };
        let parsed = (|| {
            let ip = fields::ip(self.ip)?;
            let time = match time_value.trimmed() {
                Value::Text(t) => time::parse_datetime(t),
                _ => None,
            }
            .ok_or_else(|| fields::bad_time(time_value))?;
            Ok(FeedRow {
                risk,
                ip,
                port: fields::port(self.port)?,
                time,
                line,
                feed_asn: fields::asn(self.asn)?,
                feed_country: fields::country(self.country)?,
            })
        })();
        parsed.map_err(|b: fields::Bad<'_>| b.count(line, bad)).ok()
    }
}

/// The value at a dotted harmonization path, whether the event spells it flat
/// (`"source.geolocation.cc"`), nested (`source` → `geolocation` → `cc`) or mixed
/// (`source` → `"geolocation.cc"`).
pub(crate) fn lookup<'v>(
    value: &'v serde_json::Value,
    path: &str,
) -> Option<&'v serde_json::Value> {
    let object = value.as_object()?;
    if let Some(found) = object.get(path) {
        return Some(found);
    }
    path.match_indices('.').find_map(|(dot, _)| {
        object
            .get(&path[..dot])
            .and_then(|inner| lookup(inner, &path[dot + 1..]))
    })
}

/// An event in IntelMQ's flat form, borrowing strings from the line. The top-level keys of
/// the nested form are read too, only to notice it.
#[derive(Deserialize)]
struct FlatEvent<'a> {
    #[serde(rename = "source.ip", borrow)]
    ip: Option<Field<'a>>,
    #[serde(rename = "time.source", borrow)]
    time_source: Option<Field<'a>>,
    #[serde(rename = "time.observation", borrow)]
    time_observation: Option<Field<'a>>,
    #[serde(rename = "source.port", borrow)]
    port: Option<Field<'a>>,
    #[serde(rename = "source.asn", borrow)]
    asn: Option<Field<'a>>,
    #[serde(rename = "source.geolocation.cc", borrow)]
    country: Option<Field<'a>>,
    #[serde(rename = "classification.identifier", borrow)]
    identifier: Option<Field<'a>>,
    #[serde(rename = "classification.type", borrow)]
    kind: Option<Field<'a>>,
    #[serde(borrow)]
    source: Option<Field<'a>>,
    #[serde(borrow)]
    time: Option<Field<'a>>,
    #[serde(borrow)]
    classification: Option<Field<'a>>,
}

impl FlatEvent<'_> {
    fn is_nested(&self) -> bool {
        [&self.source, &self.time, &self.classification]
            .iter()
            .any(|f| matches!(f, Some(Field::Object)))
    }

    fn fields(&self) -> EventFields<'_> {
        fn get<'s>(f: &'s Option<Field<'_>>) -> Value<'s> {
            f.as_ref().map_or(Value::Absent, Field::value)
        }
        EventFields {
            ip: get(&self.ip),
            time_source: get(&self.time_source),
            time_observation: get(&self.time_observation),
            port: get(&self.port),
            asn: get(&self.asn),
            country: get(&self.country),
            identifier: get(&self.identifier),
            kind: get(&self.kind),
        }
    }
}

/// One JSON value of an event: strings are borrowed unless they contain escapes; objects and
/// arrays are skipped, remembering only what they were.
#[derive(Debug, PartialEq)]
enum Field<'a> {
    Str(Cow<'a, str>),
    UInt(u64),
    Int(i64),
    Float(f64),
    Object,
    Other,
}

impl Field<'_> {
    fn value(&self) -> Value<'_> {
        match self {
            Field::Str(s) => Value::Text(s.as_bytes()),
            Field::UInt(n) => Value::UInt(*n),
            Field::Int(n) => Value::Int(*n),
            Field::Float(n) => Value::Float(*n),
            Field::Object | Field::Other => Value::Other,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FieldVisitor(std::marker::PhantomData))
    }
}

struct FieldVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for FieldVisitor<'a> {
    type Value = Field<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Field<'a>, E> {
        Ok(Field::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Field<'a>, E> {
        Ok(Field::Str(Cow::Owned(v.to_string())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Field<'a>, E> {
        Ok(Field::Str(Cow::Owned(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Field<'a>, E> {
        Ok(Field::UInt(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Field<'a>, E> {
        Ok(Field::Int(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Field<'a>, E> {
        Ok(Field::Float(v))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Field<'a>, E> {
        Ok(Field::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field<'a>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Field::Object)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field<'a>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Field::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::testing::*;
    use crate::FeedFormat;
    use greenwatch_model::CountryCode;

    const FLAT: &str = r#"{"classification.identifier": "open-ssdp", "classification.taxonomy": "vulnerable", "classification.type": "vulnerable-system", "extra.server": "Linux/2.6.36, UPnP/1.0", "feed.name": "Open-SSDP", "feed.provider": "Shadowserver", "protocol.transport": "udp", "raw": "ImEiCg==", "source.asn": 64496, "source.geolocation.cc": "NL", "source.ip": "192.0.2.120", "source.port": 1900, "time.observation": "2026-10-05T06:12:44+00:00", "time.source": "2026-10-05T00:00:19+00:00"}"#;

    fn read_lines(lines: &[&str]) -> (Vec<FeedRow>, BadRows) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "events.jsonl", lines.join("\n"));
        let (info, rows, bad) = read_all(&path, FeedFormat::Intelmq, None, None).unwrap();
        assert_eq!((info.format, info.report_type), ("intelmq", None));
        (rows, bad)
    }

    fn expected_ssdp(line: u64) -> FeedRow {
        FeedRow {
            risk: Catalogue::shipped().by_slug("openssdp").unwrap(),
            ip: "192.0.2.120".parse().unwrap(),
            port: 1900,
            time: greenwatch_model::Timestamp::parse("2026-10-05T00:00:19Z").unwrap(),
            line,
            feed_asn: 64496,
            feed_country: CountryCode(*b"NL"),
        }
    }

    #[test]
    fn flat_nested_mixed_and_escaped_events_give_the_same_row() {
        let nested = r#"{"classification": {"identifier": "open-ssdp", "type": "vulnerable-system"}, "source": {"asn": 64496, "geolocation": {"cc": "NL"}, "ip": "192.0.2.120", "port": 1900}, "time": {"source": "2026-10-05T00:00:19+00:00"}}"#;
        let mixed = r#"{"classification.identifier": "open-ssdp", "source": {"geolocation.cc": "NL", "ip": "192.0.2.120", "port": "1900", "asn": "AS64496"}, "time.source": "2026-10-05T00:00:19Z"}"#;
        // Escapes make serde hand over owned strings instead of borrowed ones.
        let escaped = FLAT
            .replace("\"192.0.2.120\"", "\"192.0.2.\\u0031\\u00320\"")
            .replace("\"open-ssdp\"", "\"open\\u002dssdp\"");
        assert_ne!(escaped, FLAT);
        let (rows, bad) = read_lines(&[FLAT, nested, mixed, &escaped]);
        assert_eq!(bad.total, 0, "{bad:?}");
        assert_eq!(rows, (1..=4).map(expected_ssdp).collect::<Vec<_>>());
    }

    #[test]
    fn unescaped_strings_are_borrowed_from_the_line() {
        let flat: FlatEvent = serde_json::from_str(FLAT).unwrap();
        assert!(matches!(
            flat.ip,
            Some(Field::Str(Cow::Borrowed("192.0.2.120")))
        ));
        assert_eq!(flat.port, Some(Field::UInt(1900)));
        assert!(!flat.is_nested());
        let escaped: FlatEvent =
            serde_json::from_str(r#"{"source.ip": "192.0.2.\u0031"}"#).unwrap();
        assert!(matches!(escaped.ip, Some(Field::Str(Cow::Owned(ref s))) if s == "192.0.2.1"));
    }

    #[test]
    fn observation_time_stands_in_only_for_an_absent_source_time() {
        let no_source_time = FLAT.replace(r#", "time.source": "2026-10-05T00:00:19+00:00""#, "");
        let bad_source_time = FLAT.replace("2026-10-05T00:00:19+00:00", "05/10/2026");
        let no_time =
            no_source_time.replace(r#", "time.observation": "2026-10-05T06:12:44+00:00""#, "");
        let (rows, bad) = read_lines(&[&no_source_time, &bad_source_time, &no_time]);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].time,
            greenwatch_model::Timestamp::parse("2026-10-05T06:12:44Z").unwrap()
        );
        assert_eq!(
            examples(&bad),
            [
                (2, "invalid timestamp: \"05/10/2026\"".to_string()),
                (3, "missing timestamp: absent".to_string()),
            ]
        );
    }

    #[test]
    fn unusable_lines_are_counted_by_reason_and_blank_lines_skipped() {
        let phishing = r#"{"classification.identifier": "phishing", "classification.type": "phishing", "source.ip": "198.51.100.200", "time.source": "2026-10-05T05:58:11+00:00"}"#;
        let ipv6 = FLAT.replace("192.0.2.120", "2001:db8::1900");
        let no_ip = FLAT.replace(r#""source.ip": "192.0.2.120", "#, "");
        let lines = [
            FLAT,                            // 1
            "",                              // 2 skipped
            "   ",                           // 3 skipped
            phishing,                        // 4
            r#"{"source.ip": "192.0.2.1""#,  // 5 truncated
            "[1, 2]",                        // 6 not an object
            &no_ip,                          // 7
            &ipv6,                           // 8
            "{\"source.ip\": \"\u{fffd}\"}", // 9 placeholder, replaced below
        ];
        let dir = tempfile::tempdir().unwrap();
        let mut text = lines.join("\n").into_bytes();
        let at = text
            .windows(3)
            .position(|w| w == "\u{fffd}".as_bytes())
            .unwrap();
        text.splice(at..at + 3, [0xff]);
        let path = write(dir.path(), "events.jsonl", text);
        let (_, rows, bad) = read_all(&path, FeedFormat::Intelmq, None, None).unwrap();
        let lines: Vec<(u64, String)> = rows.iter().map(|r| (r.line, r.ip.to_string())).collect();
        assert_eq!(
            lines,
            [
                (1, "192.0.2.120".to_string()),
                (8, "2001:db8::1900".to_string())
            ]
        );
        let reasons: Vec<(u64, String)> = examples(&bad)
            .into_iter()
            .map(|(l, r)| (l, r.split(':').next().unwrap().to_string()))
            .collect();
        assert_eq!(
            reasons,
            [
                (4, "no risk for classification".to_string()),
                (5, "invalid json".to_string()),
                (6, "invalid json".to_string()),
                (7, "missing ip".to_string()),
                (9, "invalid utf-8".to_string()),
            ]
        );
        assert_eq!(
            bad.examples[0].reason,
            "no risk for classification: classification.identifier \"phishing\", classification.type \"phishing\""
        );
    }

    #[test]
    fn field_values_of_the_wrong_kind_are_bad_rows_not_errors() {
        let port_object = FLAT.replace(r#""source.port": 1900"#, r#""source.port": {"n": 1}"#);
        let port_negative = FLAT.replace(r#""source.port": 1900"#, r#""source.port": -1"#);
        let asn_float = FLAT.replace(r#""source.asn": 64496"#, r#""source.asn": 64496.5"#);
        let ip_number = FLAT.replace(r#""192.0.2.120""#, "3221226104");
        let duplicate = FLAT.replace(
            r#""source.port": 1900"#,
            r#""source.port": 1900, "source.port": 53"#,
        );
        let (rows, bad) = read_lines(&[
            &port_object,
            &port_negative,
            &asn_float,
            &ip_number,
            &duplicate,
        ]);
        assert!(rows.is_empty());
        let reasons: Vec<&str> = bad
            .examples
            .iter()
            .map(|b| b.reason.split(':').next().unwrap())
            .collect();
        assert_eq!(
            reasons,
            [
                "invalid port",
                "invalid port",
                "invalid asn",
                "invalid ip",
                "invalid json"
            ]
        );
    }

    #[test]
    fn dotted_paths_are_found_flat_nested_or_mixed() {
        let tree: serde_json::Value = serde_json::from_str(
            r#"{"a.b.c": 1, "x": {"y": {"z": 2}}, "m": {"n.o": 3}, "p": {"q": 4}, "p.q": 5}"#,
        )
        .unwrap();
        let at = |path: &str| lookup(&tree, path).and_then(serde_json::Value::as_u64);
        assert_eq!(
            [
                at("a.b.c"),
                at("x.y.z"),
                at("m.n.o"),
                at("p.q"),
                at("x.y"),
                at("nothing.here")
            ],
            [Some(1), Some(2), Some(3), Some(5), None, None]
        );
    }
}
