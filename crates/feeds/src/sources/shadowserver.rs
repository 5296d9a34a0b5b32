//! Shadowserver report CSV: the report type (and so the risk) comes from the file name, a
//! forced type, or the header; columns are found by name, since Shadowserver adds columns.

use crate::catalogue::{Catalogue, RiskIndex};
use crate::sources::csv_records::{count_mismatch, field, CsvRecords, Record};
use crate::sources::fields::{self, Bad, Value};
use crate::sources::input::Input;
use crate::sources::{date_in_name, date_shaped, file_name, input_error, line_error, time};
use crate::{BadRows, FeedError, FeedInfo, FeedRow, FeedSource};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The published report schemas (report type → columns), embedded from
/// `data/shadowserver-reports.json` (rebuilt by `scripts/update-shadowserver-schema.py`).
fn schemas() -> &'static BTreeMap<String, ReportSchema> {
    static SCHEMAS: OnceLock<BTreeMap<String, ReportSchema>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        serde_json::from_str(include_str!("../../data/shadowserver-reports.json"))
            .expect("the embedded Shadowserver schema is valid JSON")
    })
}

#[derive(serde::Deserialize)]
struct ReportSchema {
    fields: Vec<String>,
}

/// Every Shadowserver report type with a published schema, sorted.
pub fn report_types() -> impl Iterator<Item = &'static str> {
    schemas().keys().map(String::as_str)
}

/// The published columns of a report type, in order.
pub fn report_columns(report_type: &str) -> Option<&'static [String]> {
    schemas().get(report_type).map(|s| s.fields.as_slice())
}

/// The Shadowserver report type in a file name, by Shadowserver's documented pattern
/// `^(\d{4}-\d{2}-\d{2})-([^-]+)-.+\.csv$` (`.csv.gz` allowed too).
fn report_type_in_name(name: &str) -> Option<&str> {
    let stem = name
        .strip_suffix(".csv.gz")
        .or_else(|| name.strip_suffix(".csv"))?;
    let b = stem.as_bytes();
    let dated = b.len() > 11 && date_shaped(&b[..10]) && b[10] == b'-';
    if !dated {
        return None;
    }
    let (report_type, rest) = stem[11..].split_once('-')?;
    (!report_type.is_empty() && !rest.is_empty()).then_some(report_type)
}

/// Reads a Shadowserver report: every row is the risk its report type maps to.
pub(crate) struct ShadowserverSource {
    path: PathBuf,
    info: FeedInfo,
    records: CsvRecords,
    risk: RiskIndex,
    columns: Columns,
}

/// Where the fields are, found by name in the header once.
struct Columns {
    count: usize,
    ip: usize,
    time: usize,
    port: Option<usize>,
    asn: Option<usize>,
    country: Option<usize>,
}

impl ShadowserverSource {
    pub(crate) fn open(
        path: &Path,
        input: Input,
        forced: Option<&str>,
        catalogue: &Catalogue,
    ) -> Result<ShadowserverSource, FeedError> {
        let gzip = input.gzip;
        let mut records = CsvRecords::new(input.reader, b',');
        let header = records.header(path, "a Shadowserver report starts with a header line")?;
        let (report_type, risk) = identify(path, &header, forced, catalogue)?;
        let columns = Columns::find(path, &header)?;
        Ok(ShadowserverSource {
            path: path.to_path_buf(),
            info: FeedInfo {
                format: "shadowserver",
                report_type: Some(report_type),
                date_from_name: date_in_name(path),
                gzip,
            },
            records,
            risk,
            columns,
        })
    }
}

impl FeedSource for ShadowserverSource {
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
            let (line, record) = match self.records.next_record(bad) {
                Ok(Some(next)) => next,
                Ok(None) => return Ok(false),
                Err((line, reason)) => return Err(line_error(&self.path, line, reason)),
            };
            if record.len() != self.columns.count {
                count_mismatch(bad, line, record.len(), self.columns.count);
                continue;
            }
            match self.columns.row(self.risk, line, record) {
                Ok(row) => out.push(row),
                Err(b) => b.count(line, bad),
            }
        }
        Ok(true)
    }
}

impl Columns {
    fn find(path: &Path, header: &[String]) -> Result<Columns, FeedError> {
        let find = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| header.iter().position(|h| h.eq_ignore_ascii_case(n)))
        };
        let required = |names: &[&str]| {
            find(names).ok_or_else(|| {
                let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                input_error(
                    path,
                    format!(
                        "the header has no {} column (header: {})",
                        names.join(" or "),
                        show_header(header)
                    ),
                )
            })
        };
        Ok(Columns {
            count: header.len(),
            ip: required(&["ip", "src_ip"])?,
            time: required(&["timestamp"])?,
            port: find(&["port", "src_port"]),
            asn: find(&["asn", "src_asn"]),
            country: find(&["geo", "src_geo"]),
        })
    }

    #[inline]
    fn row<'r>(&self, risk: RiskIndex, line: u64, record: &'r Record) -> Result<FeedRow, Bad<'r>> {
        let get = |index: usize| Value::Text(field(record, index));
        let optional = |index: Option<usize>| index.map_or(Value::Absent, get);
        let ip = fields::ip(get(self.ip))?;
        let time_text = field(record, self.time);
        let time = time::parse_datetime(time_text)
            .ok_or_else(|| fields::bad_time(Value::Text(time_text)))?;
        Ok(FeedRow {
            risk,
            ip,
            port: fields::port(optional(self.port))?,
            time,
            line,
            feed_asn: fields::asn(optional(self.asn))?,
            feed_country: fields::country(optional(self.country))?,
        })
    }
}

/// The report type and its risk: forced, else from the file name, else from the header.
fn identify(
    path: &Path,
    header: &[String],
    forced: Option<&str>,
    catalogue: &Catalogue,
) -> Result<(String, RiskIndex), FeedError> {
    let mapped = |report_type: &str| match catalogue.for_report(report_type) {
        Some(risk) => Ok((report_type.to_string(), risk)),
        None => Err(input_error(
            path,
            format!(
                "report type {report_type} is not in the risk catalogue: add a risk with \
                 `shadowserver = [\"{report_type}\"]` to the operator's risks.toml"
            ),
        )),
    };
    if let Some(report_type) = forced {
        return mapped(report_type);
    }
    let from_name = report_type_in_name(file_name(path));
    if let Some(report_type) = from_name {
        if catalogue.for_report(report_type).is_some() || report_columns(report_type).is_some() {
            return mapped(report_type);
        }
    }
    let matches: Vec<&str> = report_types()
        .filter(|t| report_columns(t).is_some_and(|columns| columns == header))
        .collect();
    let risks: Vec<Option<RiskIndex>> = matches.iter().map(|t| catalogue.for_report(t)).collect();
    match (matches.as_slice(), risks.first()) {
        ([], _) => Err(input_error(path, unidentified(header, from_name))),
        ([one], _) => mapped(one),
        (_, Some(&Some(risk))) if risks.iter().all(|r| *r == Some(risk)) => {
            // Several types with the same columns and the same risk (scan_dns, scan6_dns):
            // name the one the catalogue lists first.
            let listed = &catalogue.get(risk).shadowserver;
            let first = listed
                .iter()
                .find(|t| matches.contains(&t.as_str()))
                .map_or(matches[0], String::as_str);
            Ok((first.to_string(), risk))
        }
        (several, _) => Err(input_error(
            path,
            format!(
                "the header matches several Shadowserver report types ({}) that count as \
                 different risks or as none: rename the file to \
                 `YYYY-MM-DD-<report type>-<anything>.csv` or pass the report type",
                several.join(", ")
            ),
        )),
    }
}

fn unidentified(header: &[String], from_name: Option<&str>) -> String {
    let name = match from_name {
        Some(t) => format!(
            "the file name says report type {t:?}, which Shadowserver does not publish and the \
             risk catalogue does not map"
        ),
        None => "the file name is not `YYYY-MM-DD-<report type>-<anything>.csv`".to_string(),
    };
    format!(
        "cannot tell which Shadowserver report this is: {name}, and the header ({}) matches no \
         published report. Rename the file, pass the report type, or read it as a generic CSV \
         with `--format csv --mapping FILE`",
        show_header(header)
    )
}

/// The header for an error message: its column count and first columns.
fn show_header(header: &[String]) -> String {
    const SHOWN: usize = 8;
    let names: Vec<String> = header
        .iter()
        .take(SHOWN)
        .map(|h| fields::shorten(h).into_owned())
        .collect();
    let more = if header.len() > SHOWN { ", ..." } else { "" };
    format!("{} columns: {}{more}", header.len(), names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::testing::*;
    use crate::FeedFormat;
    use greenwatch_model::CountryCode;
    use std::net::IpAddr;

    fn header(report: &str) -> String {
        report_columns(report).unwrap().join(",")
    }

    fn micros(rfc3339: &str) -> i64 {
        greenwatch_model::Timestamp::parse(rfc3339).unwrap().0
    }

    /// A scan_dns row in Shadowserver's column order.
    fn dns_row(time: &str, ip: &str) -> String {
        format!(
            "\"{time}\",\"high\",\"{ip}\",\"udp\",53,\"\",\"openresolver\",64496,\"NL\",\"NOORD-HOLLAND\",\"AMSTERDAM\",517311,\"\",\"Communications, Service Provider, and Hosting Service\",\"dnsmasq-2.80\",\"2.14\""
        )
    }

    #[test]
    fn the_file_name_names_the_report_type() {
        assert_eq!(
            report_type_in_name("2026-10-05-scan_dns-example-asn.csv"),
            Some("scan_dns")
        );
        assert_eq!(
            report_type_in_name("2026-10-05-event4_sinkhole-x.csv.gz"),
            Some("event4_sinkhole")
        );
        assert_eq!(report_type_in_name("2026-10-05-scan_dns.csv"), None);
        assert_eq!(report_type_in_name("2026-10-05-scan_dns-.csv"), None);
        assert_eq!(report_type_in_name("2026-10-05-scan_dns-x.json"), None);
        assert_eq!(report_type_in_name("scan_dns-2026-10-05-x.csv"), None);
    }

    #[test]
    fn report_type_comes_from_the_name_then_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let body = format!(
            "{}\n{}\n",
            header("scan_dns"),
            dns_row("2026-10-05 00:00:03", "192.0.2.1")
        );
        // The name says IPv6 DNS: the name wins over the (identical) header.
        let named = write(dir.path(), "2026-10-05-scan6_dns-example-asn.csv", &body);
        let (info, rows, _) = read_all(&named, FeedFormat::Auto, None, None).unwrap();
        assert_eq!(info.report_type.as_deref(), Some("scan6_dns"));
        assert_eq!(
            info.date_from_name,
            chrono::NaiveDate::from_ymd_opt(2026, 10, 5)
        );
        assert_eq!(slug(rows[0].risk), "openrecursivedns");
        // Without a usable name, the header matches scan_dns and scan6_dns, which are the same
        // risk: the type the catalogue lists first is reported.
        let unnamed = write(dir.path(), "resolvers.csv", &body);
        let (info, rows, _) = read_all(&unnamed, FeedFormat::Auto, None, None).unwrap();
        assert_eq!(info.report_type.as_deref(), Some("scan_dns"));
        assert_eq!((info.date_from_name, rows.len()), (None, 1));
        // A name in Shadowserver's pattern with a type nobody knows falls back to the header.
        let odd = write(dir.path(), "2026-10-05-resolvers-final.csv", &body);
        let (info, _, _) = read_all(&odd, FeedFormat::Auto, None, None).unwrap();
        assert_eq!(info.report_type.as_deref(), Some("scan_dns"));
        // A forced type wins over both.
        let (info, rows, _) = read_all(
            &named,
            FeedFormat::Shadowserver,
            None,
            Some("scan_ntpmonitor"),
        )
        .unwrap();
        assert_eq!(info.report_type.as_deref(), Some("scan_ntpmonitor"));
        assert_eq!(slug(rows[0].risk), "openntp");
    }

    #[test]
    fn a_header_shared_by_reports_of_different_risks_is_an_error_naming_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "sinkhole.csv",
            format!("{}\n", header("event4_sinkhole")),
        );
        let e = read_all(&path, FeedFormat::Auto, None, None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(&format!("{}: ", path.display())), "{e}");
        assert!(
            e.contains("event4_microsoft_sinkhole, event4_sinkhole, event6_sinkhole"),
            "{e}"
        );
        assert!(
            e.contains("rename the file") && e.contains("pass the report type"),
            "{e}"
        );
        // Named, the same file reads.
        let named = write(
            dir.path(),
            "2026-10-05-event4_sinkhole-example-asn.csv",
            format!("{}\n", header("event4_sinkhole")),
        );
        let (info, rows, bad) = read_all(&named, FeedFormat::Auto, None, None).unwrap();
        assert_eq!(
            (info.report_type.as_deref(), rows.len(), bad.total),
            (Some("event4_sinkhole"), 0, 0)
        );
    }

    #[test]
    fn a_report_type_outside_the_catalogue_says_how_to_add_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "2026-10-05-scan_rdp-example-asn.csv",
            format!("{}\n", header("scan_rdp")),
        );
        let e = read_all(&path, FeedFormat::Auto, None, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("report type scan_rdp is not in the risk catalogue")
                && e.contains("`shadowserver = [\"scan_rdp\"]`")
                && e.contains("risks.toml"),
            "{e}"
        );
        let path = write(dir.path(), "rdp.csv", format!("{}\n", header("scan_dns")));
        let e = read_all(&path, FeedFormat::Shadowserver, None, Some("scan_rdp"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("report type scan_rdp is not in the risk catalogue"),
            "{e}"
        );
    }

    #[test]
    fn an_unknown_header_suggests_reading_it_as_mapped_csv() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "export.csv",
            "address,seen\n192.0.2.1,2026-10-05\n",
        );
        let e = read_all(&path, FeedFormat::Auto, None, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("2 columns: address, seen") && e.contains("--format csv --mapping FILE"),
            "{e}"
        );
        let empty = write(dir.path(), "2026-10-05-scan_dns-empty.csv", "");
        let e = read_all(&empty, FeedFormat::Auto, None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("empty"), "{e}");
    }

    #[test]
    fn a_missing_required_column_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "2026-10-05-scan_dns-x.csv",
            "ip,port,asn\n192.0.2.1,53,1\n",
        );
        let e = read_all(&path, FeedFormat::Auto, None, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no `timestamp` column") && e.contains("3 columns: ip, port, asn"),
            "{e}"
        );
        let path = write(
            dir.path(),
            "2026-10-05-scan_dns-y.csv",
            "timestamp,dst_ip\n",
        );
        let e = read_all(&path, FeedFormat::Auto, None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no `ip` or `src_ip` column"), "{e}");
    }

    #[test]
    fn columns_are_found_by_name_whatever_their_order_or_number() {
        let dir = tempfile::tempdir().unwrap();
        // Reordered, a column Shadowserver added later, and no port / geo columns at all.
        let path = write(
            dir.path(),
            "2026-10-05-scan_dns-reordered.csv",
            "asn,new_column,ip,timestamp\n\"AS64511\",\"x, y\",\"2001:db8::1\",\"2026-10-05T10:00:00Z\"\n",
        );
        let (_, rows, bad) = read_all(&path, FeedFormat::Auto, None, None).unwrap();
        assert_eq!(bad.total, 0, "{bad:?}");
        let row = rows[0];
        assert_eq!(row.ip, "2001:db8::1".parse::<IpAddr>().unwrap());
        assert_eq!(
            (row.port, row.feed_asn, row.feed_country),
            (0, 64511, CountryCode::UNKNOWN)
        );
        assert_eq!(row.time.0, micros("2026-10-05T10:00:00Z"));
    }

    #[test]
    fn bad_rows_in_the_middle_are_counted_by_reason_and_the_rest_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let lines = [
            header("scan_dns"),
            dns_row("2026-10-05 00:00:03", "192.0.2.1"), // 2
            dns_row("2026-10-05 00:00:04", "192.0.2.300"), // 3 invalid ip
            dns_row("2026-10-05 00:00:05", "2001:db8::5"), // 4
            dns_row("2026-10-05 25:00:00", "192.0.2.6"), // 5 invalid timestamp
            "\"2026-10-05 00:00:07\",\"high\",\"192.0.2.7\",\"udp\",53".to_string(), // 6 short
            String::new(),                               // 7 blank: skipped
            dns_row("", "192.0.2.8"),                    // 8 missing timestamp
            dns_row("2026-10-05 00:00:09", ""),          // 9 missing ip
            dns_row("2026-10-05 00:00:10", "192.0.2.10").replace(",53,", ",99999,"), // 10 port
            dns_row("2026-10-05 00:00:11", "192.0.2.11").replace("64496", "AS-X"), // 11 asn
            dns_row("2026-10-05 00:00:12", "192.0.2.12").replace("\"NL\"", "\"NLD\""), // 12 country
            dns_row("2026-10-05 00:00:13", "192.0.2.13"), // 13
        ];
        let path = write(
            dir.path(),
            "2026-10-05-scan_dns-damaged.csv",
            lines.join("\n"),
        );
        let (_, rows, bad) = read_all(&path, FeedFormat::Auto, None, None).unwrap();
        let good: Vec<(u64, String)> = rows.iter().map(|r| (r.line, r.ip.to_string())).collect();
        assert_eq!(
            good,
            [
                (2, "192.0.2.1".to_string()),
                (4, "2001:db8::5".to_string()),
                (13, "192.0.2.13".to_string())
            ]
        );
        assert_eq!(bad.total, 8);
        let by_reason: Vec<(&str, u64)> = bad
            .by_reason
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(
            by_reason,
            [
                ("invalid asn", 1),
                ("invalid country", 1),
                ("invalid ip", 1),
                ("invalid port", 1),
                ("invalid timestamp", 1),
                ("missing ip", 1),
                ("missing timestamp", 1),
                ("wrong column count", 1),
            ]
        );
        assert_eq!(
            examples(&bad),
            [
                (3, "invalid ip: \"192.0.2.300\"".to_string()),
                (5, "invalid timestamp: \"2026-10-05 25:00:00\"".to_string()),
                (
                    6,
                    "wrong column count: 5 fields, the header has 16".to_string()
                ),
                (8, "missing timestamp: empty".to_string()),
                (9, "missing ip: empty".to_string()),
                (10, "invalid port: \"99999\"".to_string()),
                (11, "invalid asn: \"AS-X\"".to_string()),
                (12, "invalid country: \"NLD\"".to_string()),
            ]
        );
    }

    #[test]
    fn timestamps_in_every_utc_spelling_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let spellings = [
            "2026-10-05 00:00:03",
            "2026-10-05T00:00:03",
            "2026-10-05T00:00:03Z",
            "2026-10-05 00:00:03+00",
            "2026-10-05T00:00:03+00:00",
            "2026-10-05 00:00:03.000000",
        ];
        let mut text = header("scan_dns");
        for s in spellings {
            text.push('\n');
            text.push_str(&dns_row(s, "192.0.2.1"));
        }
        let path = write(dir.path(), "2026-10-05-scan_dns-times.csv", text);
        let (_, rows, bad) = read_all(&path, FeedFormat::Auto, None, None).unwrap();
        assert_eq!((rows.len(), bad.total), (spellings.len(), 0));
        assert!(rows
            .iter()
            .all(|r| r.time.0 == micros("2026-10-05T00:00:03Z")));
    }

    #[test]
    fn small_batches_return_every_row_across_calls() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = header("scan_dns");
        for i in 0..10 {
            text.push_str(&format!(
                "\r\n{}",
                dns_row("2026-10-05 00:00:03", &format!("192.0.2.{i}"))
            ));
            if i == 4 {
                text.push_str("\r\nnot,a,row");
            }
        }
        let path = write(dir.path(), "2026-10-05-scan_dns-batches.csv", text);
        let (_, all, bad_all) = read_all(&path, FeedFormat::Auto, None, None).unwrap();
        let (_, batched, bad_batched) =
            read_all_in(&path, FeedFormat::Auto, None, None, 3).unwrap();
        assert_eq!(all.len(), 10);
        assert_eq!(batched, all);
        assert_eq!(bad_batched, bad_all);
        assert_eq!(
            examples(&bad_all),
            [(
                7,
                "wrong column count: 3 fields, the header has 16".to_string()
            )]
        );
        let lines: Vec<u64> = all.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6, 8, 9, 10, 11, 12]);

        // Batch by batch: never more than `max`, and `false` only at the end.
        let catalogue = Catalogue::shipped();
        let mut source = crate::open_feed(&path, FeedFormat::Auto, None, None, &catalogue).unwrap();
        let (mut out, mut bad) = (Vec::new(), BadRows::default());
        let mut sizes = Vec::new();
        while source.read_batch(&mut out, &mut bad, 4).unwrap() {
            sizes.push(out.len());
            out.clear();
        }
        sizes.push(out.len());
        assert_eq!(sizes, [4, 4, 2]);
    }
}
