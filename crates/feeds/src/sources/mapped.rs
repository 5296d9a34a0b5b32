//! Any CSV or JSON-lines feed, read through a TOML [`Mapping`] that says which column (or
//! JSON field) holds the address, time, port, ASN, country and risk.

use crate::catalogue::{Catalogue, RiskIndex};
use crate::sources::csv_records::{count_mismatch, field, CsvRecords, Record};
use crate::sources::fields::{self, Value};
use crate::sources::input::{Input, Lines};
use crate::sources::intelmq::lookup;
use crate::sources::time::{self, ChronoFormat};
use crate::sources::{date_in_name, input_error, line_error};
use crate::{BadRows, FeedError, FeedInfo, FeedRow, FeedSource};
use greenwatch_model::Timestamp;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// How to read a generic feed, from a TOML file such as
///
/// ```toml
/// format = "csv"            # or "jsonl"; csv when absent
/// delimiter = ";"           # optional, one byte, csv only
/// ip = "address"            # required: column or field name (dotted path for nested JSON)
/// time = "seen"             # optional; without it, midnight UTC of the date in the file name
/// time_format = "%d/%m/%Y %H:%M"  # optional chrono format, UTC unless it names an offset
/// port = "port"             # optional
/// asn = "asn"               # optional ("AS123" and "123" both accepted)
/// country = "cc"            # optional
/// risk_column = "kind"      # a column naming the risk, or `risk = "<slug>"` for all rows
/// [risk_values]             # optional value -> risk slug table
/// resolver = "openrecursivedns"
/// ```
///
/// Without `time_format`, times may be RFC 3339, `YYYY-MM-DD HH:MM:SS`, a bare date or Unix
/// epoch seconds. Risk slugs are checked against the catalogue when a feed is opened.
#[derive(Clone, Debug)]
pub struct Mapping {
    origin: PathBuf,
    format: MappedFormat,
    delimiter: u8,
    ip: String,
    time: Option<String>,
    time_format: Option<ChronoFormat>,
    port: Option<String>,
    asn: Option<String>,
    country: Option<String>,
    risk: RiskMapping,
}

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum MappedFormat {
    #[default]
    Csv,
    Jsonl,
}

#[derive(Clone, Debug)]
enum RiskMapping {
    /// Every row is this risk (a slug).
    Fixed(String),
    /// The risk is named by this column's value, translated through `values` when given.
    Column {
        column: String,
        values: Option<BTreeMap<String, String>>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingToml {
    #[serde(default)]
    format: MappedFormat,
    delimiter: Option<String>,
    ip: String,
    time: Option<String>,
    time_format: Option<String>,
    port: Option<String>,
    asn: Option<String>,
    country: Option<String>,
    risk: Option<String>,
    risk_column: Option<String>,
    risk_values: Option<BTreeMap<String, String>>,
}

impl Mapping {
    /// Reads and checks a mapping file.
    pub fn load(path: &Path) -> Result<Mapping, FeedError> {
        let text = std::fs::read_to_string(path).map_err(|e| FeedError::Mapping {
            path: path.to_path_buf(),
            reason: format!("cannot read: {e}"),
        })?;
        Mapping::from_toml(path, &text)
    }

    /// A mapping from TOML text; `origin` names it in errors.
    pub fn from_toml(origin: impl AsRef<Path>, text: &str) -> Result<Mapping, FeedError> {
        let origin = origin.as_ref();
        let err = |reason: String| FeedError::Mapping {
            path: origin.to_path_buf(),
            reason,
        };
        let raw: MappingToml = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let delimiter = match (&raw.delimiter, raw.format) {
            (None, _) => b',',
            (Some(_), MappedFormat::Jsonl) => {
                return Err(err("`delimiter` applies to csv only, not jsonl".into()))
            }
            (Some(d), MappedFormat::Csv) => match d.as_bytes() {
                [b] if *b != b'"' && *b != b'\n' && *b != b'\r' => *b,
                _ => {
                    return Err(err(format!(
                        "delimiter {d:?} must be one byte (e.g. \",\", \";\" or \"\\t\"), not a quote or line break"
                    )))
                }
            },
        };
        let names = [
            ("ip", Some(&raw.ip)),
            ("time", raw.time.as_ref()),
            ("port", raw.port.as_ref()),
            ("asn", raw.asn.as_ref()),
            ("country", raw.country.as_ref()),
            ("risk_column", raw.risk_column.as_ref()),
        ];
        if let Some((key, _)) = names
            .iter()
            .find(|(_, v)| v.is_some_and(|v| v.trim().is_empty()))
        {
            return Err(err(format!(
                "`{key}` must name a column or field, not be empty"
            )));
        }
        if raw.time_format.is_some() && raw.time.is_none() {
            return Err(err(
                "`time_format` needs `time` (the column it applies to)".into()
            ));
        }
        let time_format = raw
            .time_format
            .as_deref()
            .map(ChronoFormat::new)
            .transpose()
            .map_err(err)?;
        let risk = match (raw.risk, raw.risk_column, raw.risk_values) {
            (Some(slug), None, None) => RiskMapping::Fixed(slug),
            (None, Some(column), values) => RiskMapping::Column { column, values },
            (Some(_), None, Some(_)) => {
                return Err(err(
                    "`risk_values` translates a `risk_column`; with a fixed `risk` it is not used"
                        .into(),
                ))
            }
            (Some(_), Some(_), _) => {
                return Err(err(
                    "give either `risk` (one risk for every row) or `risk_column`, not both".into(),
                ))
            }
            (None, None, _) => {
                return Err(err(
                    "the mapping needs `risk = \"<slug>\"` or `risk_column = \"<column>\"`".into(),
                ))
            }
        };
        Ok(Mapping {
            origin: origin.to_path_buf(),
            format: raw.format,
            delimiter,
            ip: raw.ip,
            time: raw.time,
            time_format,
            port: raw.port,
            asn: raw.asn,
            country: raw.country,
            risk,
        })
    }

    /// The risk rule checked against `catalogue`.
    fn risk_rule(&self, catalogue: &Catalogue) -> Result<RiskRule, FeedError> {
        let slug = |slug: &str, what: String| {
            catalogue.by_slug(slug).ok_or_else(|| {
                let known: Vec<&str> = catalogue.risks().iter().map(|r| r.slug.as_str()).collect();
                FeedError::Mapping {
                    path: self.origin.clone(),
                    reason: format!(
                        "{what}: risk {slug:?} is not in the risk catalogue (risks: {})",
                        known.join(", ")
                    ),
                }
            })
        };
        Ok(match &self.risk {
            RiskMapping::Fixed(s) => RiskRule::Fixed(slug(s, "risk".into())?),
            RiskMapping::Column { values: None, .. } => RiskRule::Column(
                catalogue
                    .risks()
                    .iter()
                    .map(|r| (r.slug.clone(), catalogue.by_slug(&r.slug).expect("listed")))
                    .collect(),
            ),
            RiskMapping::Column {
                values: Some(values),
                ..
            } => RiskRule::Column(
                values
                    .iter()
                    .map(|(value, s)| Ok((value.clone(), slug(s, format!("risk_values.{value}"))?)))
                    .collect::<Result<_, FeedError>>()?,
            ),
        })
    }
}

/// The risk of a row, resolved against the catalogue when the feed is opened.
enum RiskRule {
    Fixed(RiskIndex),
    Column(HashMap<String, RiskIndex>),
}

/// Where the time of a row comes from.
enum TimeRule {
    Field(Option<ChronoFormat>),
    /// Midnight UTC of the date in the file name.
    FileDate(Timestamp),
}

/// One row's values, whatever the file format.
struct Extracted<'a> {
    ip: Value<'a>,
    time: Value<'a>,
    port: Value<'a>,
    asn: Value<'a>,
    country: Value<'a>,
    risk: Value<'a>,
}

pub(crate) struct MappedSource {
    path: PathBuf,
    info: FeedInfo,
    body: Body,
    rules: Rules,
}

/// How values become a row: the risk and time rules, resolved at open.
struct Rules {
    risk: RiskRule,
    time: TimeRule,
}

enum Body {
    Csv {
        records: CsvRecords,
        columns: CsvColumns,
    },
    Jsonl {
        lines: Lines,
        mapping: Mapping,
    },
}

/// Column indices of the mapped names, found in the header once.
struct CsvColumns {
    count: usize,
    ip: usize,
    time: Option<usize>,
    port: Option<usize>,
    asn: Option<usize>,
    country: Option<usize>,
    risk: Option<usize>,
}

impl MappedSource {
    pub(crate) fn open(
        path: &Path,
        input: Input,
        mapping: &Mapping,
        catalogue: &Catalogue,
    ) -> Result<MappedSource, FeedError> {
        let risk = mapping.risk_rule(catalogue)?;
        let date_from_name = date_in_name(path);
        let time = match (&mapping.time, date_from_name) {
            (Some(_), _) => TimeRule::Field(mapping.time_format.clone()),
            (None, Some(date)) => TimeRule::FileDate(time::midnight(date)),
            (None, None) => {
                return Err(input_error(
                    path,
                    format!(
                        "mapping {} has no `time` and the file name has no date (YYYY-MM-DD): \
                         add `time = \"<column>\"` to the mapping or put the date in the file name",
                        mapping.origin.display()
                    ),
                ))
            }
        };
        let info = FeedInfo {
            format: "mapped",
            report_type: None,
            date_from_name,
            gzip: input.gzip,
        };
        let body = match mapping.format {
            MappedFormat::Jsonl => Body::Jsonl {
                lines: Lines::new(input.reader),
                mapping: mapping.clone(),
            },
            MappedFormat::Csv => {
                let mut records = CsvRecords::new(input.reader, mapping.delimiter);
                let header = records.header(path, "expected a header line")?;
                let columns = CsvColumns::find(path, mapping, &header)?;
                Body::Csv { records, columns }
            }
        };
        Ok(MappedSource {
            path: path.to_path_buf(),
            info,
            body,
            rules: Rules { risk, time },
        })
    }
}

impl Rules {
    /// The row of `values`, or `None` after counting it as bad.
    fn row(&self, values: &Extracted<'_>, line: u64, bad: &mut BadRows) -> Option<FeedRow> {
        let risk = match &self.risk {
            RiskRule::Fixed(risk) => *risk,
            RiskRule::Column(table) => {
                let value = values.risk.trimmed();
                let found = match value {
                    Value::Text(t) => match std::str::from_utf8(t) {
                        Ok(s) => table.get(s).copied(),
                        Err(_) => {
                            bad.add(line, "invalid utf-8", || {
                                format!("risk value {}", fields::describe(value))
                            });
                            return None;
                        }
                    },
                    Value::UInt(n) => table.get(&n.to_string()).copied(),
                    Value::Int(n) => table.get(&n.to_string()).copied(),
                    _ => None,
                };
                match found {
                    Some(risk) => risk,
                    None => {
                        bad.add(line, "unknown risk", || fields::describe(value));
                        return None;
                    }
                }
            }
        };
        let parsed = (|| {
            let ip = fields::ip(values.ip)?;
            let time = self.time(values.time)?;
            Ok(FeedRow {
                risk,
                ip,
                port: fields::port(values.port)?,
                time,
                line,
                feed_asn: fields::asn(values.asn)?,
                feed_country: fields::country(values.country)?,
            })
        })();
        parsed.map_err(|b: fields::Bad<'_>| b.count(line, bad)).ok()
    }

    fn time<'a>(&self, value: Value<'a>) -> Result<Timestamp, fields::Bad<'a>> {
        let format = match &self.time {
            TimeRule::FileDate(midnight) => return Ok(*midnight),
            TimeRule::Field(format) => format,
        };
        let parsed = match (value.trimmed(), format) {
            (Value::Text(t), None) => time::parse_flexible(t),
            (Value::Text(t), Some(f)) => std::str::from_utf8(t).ok().and_then(|s| f.parse(s)),
            (Value::UInt(n), None) => time::from_epoch_f64(n as f64),
            (Value::Float(n), None) => time::from_epoch_f64(n),
            _ => None,
        };
        parsed.ok_or_else(|| fields::bad_time(value))
    }
}

impl FeedSource for MappedSource {
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
        let rules = &self.rules;
        while out.len() < full {
            let row = match &mut self.body {
                Body::Csv { records, columns } => match records.next_record(bad) {
                    Ok(Some((line, record))) => {
                        if record.len() != columns.count {
                            count_mismatch(bad, line, record.len(), columns.count);
                            continue;
                        }
                        rules.row(&columns.extract(record), line, bad)
                    }
                    Ok(None) => return Ok(false),
                    Err((line, reason)) => return Err(line_error(&self.path, line, reason)),
                },
                Body::Jsonl { lines, mapping } => match lines.next_line(bad) {
                    Ok(Some((line, bytes))) => {
                        if bytes.trim_ascii().is_empty() {
                            continue;
                        }
                        let Some(tree) = json_object(bytes, line, bad) else {
                            continue;
                        };
                        rules.row(&mapping.extract(&tree), line, bad)
                    }
                    Ok(None) => return Ok(false),
                    Err(e) => return Err(line_error(&self.path, lines.line() + 1, e.to_string())),
                },
            };
            out.extend(row);
        }
        Ok(true)
    }
}

impl CsvColumns {
    fn find(path: &Path, mapping: &Mapping, header: &[String]) -> Result<CsvColumns, FeedError> {
        let find = |key: &str, name: &Option<String>| -> Result<Option<usize>, FeedError> {
            let Some(name) = name else { return Ok(None) };
            header
                .iter()
                .position(|h| h == name)
                .or_else(|| header.iter().position(|h| h.eq_ignore_ascii_case(name)))
                .map(Some)
                .ok_or_else(|| {
                    let shown: Vec<&str> = header.iter().take(12).map(String::as_str).collect();
                    input_error(
                        path,
                        format!(
                            "column {name:?} (`{key}` in mapping {}) is not in the header ({})",
                            mapping.origin.display(),
                            shown.join(", ")
                        ),
                    )
                })
        };
        let risk_column = match &mapping.risk {
            RiskMapping::Column { column, .. } => Some(column.clone()),
            RiskMapping::Fixed(_) => None,
        };
        Ok(CsvColumns {
            count: header.len(),
            ip: find("ip", &Some(mapping.ip.clone()))?.expect("ip is always named"),
            time: find("time", &mapping.time)?,
            port: find("port", &mapping.port)?,
            asn: find("asn", &mapping.asn)?,
            country: find("country", &mapping.country)?,
            risk: find("risk_column", &risk_column)?,
        })
    }

    fn extract<'r>(&self, record: &'r Record) -> Extracted<'r> {
        let get =
            |index: Option<usize>| index.map_or(Value::Absent, |i| Value::Text(field(record, i)));
        Extracted {
            ip: get(Some(self.ip)),
            time: get(self.time),
            port: get(self.port),
            asn: get(self.asn),
            country: get(self.country),
            risk: get(self.risk),
        }
    }
}

impl Mapping {
    fn extract<'v>(&self, tree: &'v serde_json::Value) -> Extracted<'v> {
        let get = |path: Option<&String>| Value::from(path.and_then(|p| lookup(tree, p)));
        let risk_column = match &self.risk {
            RiskMapping::Column { column, .. } => Some(column),
            RiskMapping::Fixed(_) => None,
        };
        Extracted {
            ip: get(Some(&self.ip)),
            time: get(self.time.as_ref()),
            port: get(self.port.as_ref()),
            asn: get(self.asn.as_ref()),
            country: get(self.country.as_ref()),
            risk: get(risk_column),
        }
    }
}

/// A JSON-lines line as an object, or `None` after counting it as bad.
fn json_object(bytes: &[u8], line: u64, bad: &mut BadRows) -> Option<serde_json::Value> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            bad.add(line, "invalid utf-8", || {
                format!("invalid byte at column {}", e.valid_up_to() + 1)
            });
            return None;
        }
    };
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(tree) if tree.is_object() => Some(tree),
        Ok(_) => {
            bad.add(line, "invalid json", || {
                format!(
                    "expected an object, found {:?}",
                    fields::shorten(text.trim())
                )
            });
            None
        }
        Err(e) => {
            bad.add(line, "invalid json", || e.to_string());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::testing::*;
    use crate::FeedFormat;
    use greenwatch_model::CountryCode;

    fn mapping(text: &str) -> Result<Mapping, String> {
        Mapping::from_toml("m.toml", text).map_err(|e| e.to_string())
    }

    fn micros(rfc3339: &str) -> i64 {
        Timestamp::parse(rfc3339).unwrap().0
    }

    #[test]
    fn mappings_are_checked_when_loaded() {
        let ok = "ip = \"a\"\nrisk = \"openntp\"\n";
        assert!(mapping(ok).is_ok());
        for (text, expected) in [
            (
                "ip = \"a\"\nrisk = \"openntp\"\ncolour = \"red\"\n",
                "unknown field `colour`",
            ),
            ("risk = \"openntp\"\n", "missing field `ip`"),
            ("ip = \"a\"\n", "needs `risk"),
            (
                "ip = \"a\"\nrisk = \"x\"\nrisk_column = \"k\"\n",
                "not both",
            ),
            (
                "ip = \"a\"\nrisk = \"x\"\n[risk_values]\nr = \"x\"\n",
                "`risk_values` translates",
            ),
            (
                "ip = \"a\"\nrisk = \"x\"\ndelimiter = \";;\"\n",
                "must be one byte",
            ),
            (
                "format = \"jsonl\"\nip = \"a\"\nrisk = \"x\"\ndelimiter = \";\"\n",
                "csv only",
            ),
            (
                "format = \"xml\"\nip = \"a\"\nrisk = \"x\"\n",
                "unknown variant `xml`",
            ),
            (
                "ip = \"a\"\nrisk = \"x\"\ntime_format = \"%Y\"\n",
                "needs `time`",
            ),
            (
                "ip = \"a\"\nrisk = \"x\"\ntime = \"t\"\ntime_format = \"%Q\"\n",
                "not a valid chrono format",
            ),
            ("ip = \" \"\nrisk = \"x\"\n", "`ip` must name a column"),
        ] {
            let e = mapping(text).unwrap_err();
            assert!(
                e.starts_with("mapping m.toml: ") && e.contains(expected),
                "{text:?}: {e}"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "feed.toml", ok);
        assert!(Mapping::load(&path).is_ok());
        let e = Mapping::load(&dir.path().join("none.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("none.toml") && e.contains("cannot read"), "{e}");
    }

    #[test]
    fn risk_slugs_are_checked_against_the_catalogue_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "2026-10-05-x.csv", "a,k\n192.0.2.1,r\n");
        for text in [
            "ip = \"a\"\nrisk = \"openrdp\"\n",
            "ip = \"a\"\nrisk_column = \"k\"\n[risk_values]\nr = \"openrdp\"\n",
        ] {
            let m = mapping(text).unwrap();
            let e = read_all(&path, FeedFormat::Auto, Some(&m), None).unwrap_err();
            assert!(matches!(e, FeedError::Mapping { .. }), "{e}");
            let e = e.to_string();
            assert!(
                e.contains("\"openrdp\" is not in the risk catalogue") && e.contains("openntp"),
                "{e}"
            );
        }
    }

    #[test]
    fn risk_column_values_are_slugs_or_translated_and_unknown_ones_are_bad_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "2026-10-05-found.csv",
            "a,k\n192.0.2.1,openntp\n192.0.2.2,resolver\n192.0.2.3,chargen\n192.0.2.4,\n",
        );
        let slugs = mapping("ip = \"a\"\nrisk_column = \"k\"\n").unwrap();
        let (_, rows, bad) = read_all(&path, FeedFormat::Mapped, Some(&slugs), None).unwrap();
        let got: Vec<(u64, String)> = rows.iter().map(|r| (r.line, slug(r.risk))).collect();
        assert_eq!(
            got,
            [(2, "openntp".to_string()), (4, "chargen".to_string())]
        );
        assert_eq!(
            examples(&bad),
            [
                (3, "unknown risk: \"resolver\"".to_string()),
                (5, "unknown risk: empty".to_string())
            ]
        );
        let table = mapping(
            "ip = \"a\"\nrisk_column = \"k\"\n[risk_values]\nresolver = \"openrecursivedns\"\n",
        )
        .unwrap();
        let (_, rows, bad) = read_all(&path, FeedFormat::Mapped, Some(&table), None).unwrap();
        let got: Vec<(u64, String)> = rows.iter().map(|r| (r.line, slug(r.risk))).collect();
        assert_eq!(got, [(3, "openrecursivedns".to_string())]);
        assert_eq!(bad.by_reason.get("unknown risk"), Some(&3));
    }

    #[test]
    fn without_a_time_column_the_date_in_the_file_name_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let m = mapping("ip = \"a\"\nrisk = \"openntp\"\n").unwrap();
        let dated = write(dir.path(), "ntp-2026-10-05.csv", "a\n192.0.2.1\n");
        let (info, rows, _) = read_all(&dated, FeedFormat::Auto, Some(&m), None).unwrap();
        assert_eq!(info.format, "mapped");
        assert_eq!(rows[0].time.0, micros("2026-10-05T00:00:00Z"));
        let undated = write(dir.path(), "ntp.csv", "a\n192.0.2.1\n");
        let e = read_all(&undated, FeedFormat::Auto, Some(&m), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("ntp.csv") && e.contains("no `time`") && e.contains("no date"),
            "{e}"
        );
    }

    #[test]
    fn default_time_syntax_accepts_rfc3339_plain_dates_and_epoch_seconds() {
        let dir = tempfile::tempdir().unwrap();
        let m = mapping("ip = \"a\"\ntime = \"t\"\nrisk = \"openntp\"\n").unwrap();
        let path = write(
            dir.path(),
            "times.csv",
            "a,t\n192.0.2.1,2026-10-05T13:00:00+02:00\n192.0.2.1,2026-10-05 11:00:00\n192.0.2.1,2026-10-05\n192.0.2.1,1791198000\n192.0.2.1,tomorrow\n",
        );
        let (_, rows, bad) = read_all(&path, FeedFormat::Mapped, Some(&m), None).unwrap();
        let times: Vec<i64> = rows.iter().map(|r| r.time.0).collect();
        let eleven = micros("2026-10-05T11:00:00Z");
        assert_eq!(
            times,
            [
                eleven,
                eleven,
                micros("2026-10-05T00:00:00Z"),
                Timestamp::from_secs(1_791_198_000).0
            ]
        );
        assert_eq!(
            examples(&bad),
            [(6, "invalid timestamp: \"tomorrow\"".to_string())]
        );
    }

    #[test]
    fn a_mapped_column_missing_from_the_header_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let m = mapping("ip = \"address\"\ntime = \"seen\"\nrisk = \"openntp\"\n").unwrap();
        let path = write(
            dir.path(),
            "scan.csv",
            "address,first_seen\n192.0.2.1,2026-10-05\n",
        );
        let e = read_all(&path, FeedFormat::Auto, Some(&m), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("scan.csv")
                && e.contains("column \"seen\" (`time` in mapping m.toml)")
                && e.contains("address, first_seen"),
            "{e}"
        );
    }

    #[test]
    fn json_lines_are_read_through_dotted_paths() {
        let dir = tempfile::tempdir().unwrap();
        let m = mapping(
            "format = \"jsonl\"\nip = \"host.addr\"\ntime = \"ts\"\nport = \"host.port\"\nasn = \"net.asn\"\ncountry = \"net.cc\"\nrisk_column = \"kind\"\n[risk_values]\nmemcache = \"openmemcached\"\n",
        )
        .unwrap();
        let path = write(
            dir.path(),
            "scan.jsonl",
            concat!(
                "{\"host\": {\"addr\": \"192.0.2.9\", \"port\": 11211}, \"ts\": 1791198000, \"net\": {\"asn\": \"AS64496\", \"cc\": \"nl\"}, \"kind\": \"memcache\"}\n",
                "\n",
                "{\"host\": {\"addr\": \"2001:db8::9\"}, \"ts\": \"2026-10-05 11:00:00\", \"kind\": \"memcache\"}\n",
                "{\"host\": {\"addr\": \"192.0.2.10\"}, \"ts\": 1791198000, \"kind\": \"telnet\"}\n",
                "not json\n",
            ),
        );
        let (info, rows, bad) = read_all(&path, FeedFormat::Auto, Some(&m), None).unwrap();
        assert_eq!((info.format, info.date_from_name), ("mapped", None));
        assert_eq!(
            rows[0],
            FeedRow {
                risk: Catalogue::shipped().by_slug("openmemcached").unwrap(),
                ip: "192.0.2.9".parse().unwrap(),
                port: 11211,
                time: Timestamp::from_secs(1_791_198_000),
                line: 1,
                feed_asn: 64496,
                feed_country: CountryCode(*b"NL"),
            }
        );
        assert_eq!(
            (rows[1].line, rows[1].ip.to_string(), rows[1].port),
            (3, "2001:db8::9".to_string(), 0)
        );
        let reasons: Vec<(u64, String)> = examples(&bad)
            .into_iter()
            .map(|(l, r)| (l, r.split(':').next().unwrap().to_string()))
            .collect();
        assert_eq!(
            reasons,
            [
                (4, "unknown risk".to_string()),
                (5, "invalid json".to_string())
            ]
        );
    }
}
