//! One module per feed format, each implementing [`crate::FeedSource`], and [`open`], which
//! picks the format. Machinery shared by the formats (opening and gzip, CSV records with line
//! numbers, field and timestamp parsing) lives once, in `input`, `csv_records`, `fields` and
//! `time`.

mod csv_records;
mod fields;
mod input;
pub mod intelmq;
pub mod mapped;
pub mod shadowserver;
mod time;

use crate::catalogue::Catalogue;
use crate::{FeedError, FeedFormat, FeedSource};
use chrono::NaiveDate;
use input::Input;
use mapped::Mapping;
use std::path::Path;

/// Opens `path` as `format`; see [`crate::open_feed`].
pub(crate) fn open(
    path: &Path,
    format: FeedFormat,
    mapping: Option<&Mapping>,
    report_type: Option<&str>,
    catalogue: &Catalogue,
) -> Result<Box<dyn FeedSource>, FeedError> {
    let mut input = Input::open(path)?;
    let format = match (format, mapping) {
        (FeedFormat::Auto, Some(_)) => FeedFormat::Mapped,
        (FeedFormat::Auto, None) => match input.first_byte(path)? {
            Some(b'{') => FeedFormat::Intelmq,
            _ => FeedFormat::Shadowserver,
        },
        (format, _) => format,
    };
    Ok(match format {
        FeedFormat::Intelmq => Box::new(intelmq::IntelmqSource::open(path, input, catalogue)),
        FeedFormat::Mapped => {
            let mapping = mapping.ok_or_else(|| {
                input_error(
                    path,
                    "a mapped (generic CSV or JSON lines) feed needs a mapping file (--mapping FILE)",
                )
            })?;
            Box::new(mapped::MappedSource::open(path, input, mapping, catalogue)?)
        }
        FeedFormat::Shadowserver | FeedFormat::Auto => Box::new(
            shadowserver::ShadowserverSource::open(path, input, report_type, catalogue)?,
        ),
    })
}

pub(crate) fn input_error(path: &Path, reason: impl Into<String>) -> FeedError {
    FeedError::Input {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

pub(crate) fn line_error(path: &Path, line: u64, reason: String) -> FeedError {
    FeedError::Line {
        path: path.to_path_buf(),
        line,
        reason,
    }
}

/// The file name of `path`, for matching dates and report types.
fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// The first `YYYY-MM-DD` in the file name that is a real date and is not part of a longer
/// run of digits.
pub(crate) fn date_in_name(path: &Path) -> Option<NaiveDate> {
    let name = file_name(path).as_bytes();
    (0..name.len().saturating_sub(9)).find_map(|start| {
        let candidate = &name[start..start + 10];
        let digit = |i: usize| name.get(i).is_some_and(u8::is_ascii_digit);
        let shaped = date_shaped(candidate);
        if !shaped || (start > 0 && digit(start - 1)) || digit(start + 10) {
            return None;
        }
        NaiveDate::parse_from_str(std::str::from_utf8(candidate).ok()?, "%Y-%m-%d").ok()
    })
}

/// Helpers for the readers' tests: write a feed file, read all of it.
/// Ten bytes shaped like `YYYY-MM-DD` (digits and dashes; not checked as a date).
fn date_shaped(b: &[u8]) -> bool {
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

#[cfg(test)]
pub(crate) mod testing {
    use crate::{BadRows, Catalogue, FeedFormat, FeedInfo, FeedRow, Mapping};
    use std::path::{Path, PathBuf};

    pub(crate) fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    /// Every row and bad row of `path`, read in batches of `batch`.
    pub(crate) fn read_all_in(
        path: &Path,
        format: FeedFormat,
        mapping: Option<&Mapping>,
        report_type: Option<&str>,
        batch: usize,
    ) -> Result<(FeedInfo, Vec<FeedRow>, BadRows), crate::FeedError> {
        let catalogue = Catalogue::shipped();
        let mut source = super::open(path, format, mapping, report_type, &catalogue)?;
        let (mut rows, mut bad) = (Vec::new(), BadRows::default());
        let mut out = Vec::new();
        loop {
            let more = source.read_batch(&mut out, &mut bad, batch)?;
            assert!(out.len() <= batch, "a batch holds at most `max` rows");
            rows.append(&mut out);
            if !more {
                break;
            }
        }
        Ok((source.info().clone(), rows, bad))
    }

    pub(crate) fn read_all(
        path: &Path,
        format: FeedFormat,
        mapping: Option<&Mapping>,
        report_type: Option<&str>,
    ) -> Result<(FeedInfo, Vec<FeedRow>, BadRows), crate::FeedError> {
        read_all_in(path, format, mapping, report_type, 1000)
    }

    /// `(line, reason)` of each kept example.
    pub(crate) fn examples(bad: &BadRows) -> Vec<(u64, String)> {
        bad.examples
            .iter()
            .map(|b| (b.line, b.reason.clone()))
            .collect()
    }

    pub(crate) fn slug(risk: crate::RiskIndex) -> String {
        Catalogue::shipped().get(risk).slug.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dates_are_found_in_file_names() {
        let date = |name: &str| date_in_name(Path::new(name));
        let oct5 = NaiveDate::from_ymd_opt(2026, 10, 5);
        assert_eq!(date("/feeds/2026-10-05-scan_dns-example-asn.csv"), oct5);
        assert_eq!(date("resolvers_2026-10-05.csv.gz"), oct5);
        assert_eq!(date("2026-13-05-scan_dns-x.csv"), None);
        assert_eq!(date("12026-10-05.csv"), None);
        assert_eq!(date("dir-2026-10-05/feed.csv"), None);
        assert_eq!(date("x.csv"), None);
    }

    #[test]
    fn auto_detects_intelmq_by_its_first_byte_and_csv_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let json = write(
            dir.path(),
            "events.txt",
            "\n{\"source.ip\": \"192.0.2.1\", \"classification.identifier\": \"open-ssdp\", \"time.source\": \"2026-10-05T00:00:00+00:00\"}\n",
        );
        let (info, rows, _) = read_all(&json, FeedFormat::Auto, None, None).unwrap();
        assert_eq!((info.format, rows.len(), rows[0].line), ("intelmq", 1, 2));
        let csv = write(dir.path(), "table.csv", "a,b\n1,2\n");
        let e = read_all(&csv, FeedFormat::Auto, None, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("table.csv") && e.contains("--format csv --mapping FILE"),
            "{e}"
        );
        let e = read_all(&csv, FeedFormat::Mapped, None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs a mapping"), "{e}");
        let missing = dir.path().join("none.csv");
        let e = read_all(&missing, FeedFormat::Auto, None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("none.csv") && e.contains("cannot read"), "{e}");
    }

    #[test]
    fn a_truncated_gzip_stream_is_an_error_naming_the_file_after_the_rows_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = scan_dns_header();
        for i in 0..20_000 {
            text.push_str(&format!(
                "\"2026-10-05 00:00:03\",\"high\",\"192.0.{}.{}\",\"udp\",53,\"\",\"openresolver\",64496,\"NL\",\"\",\"\",0,\"\",\"\",\"\",\"\"\n",
                i / 256 % 256,
                i % 256
            ));
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
        std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let path = write(
            dir.path(),
            "2026-10-05-scan_dns-cut.csv.gz",
            &gz[..gz.len() / 2],
        );
        let catalogue = Catalogue::shipped();
        let mut source = open(&path, FeedFormat::Auto, None, None, &catalogue).unwrap();
        assert!(source.info().gzip);
        let (mut rows, mut bad) = (Vec::new(), crate::BadRows::default());
        let error = loop {
            match source.read_batch(&mut rows, &mut bad, 1000) {
                Ok(true) => {}
                Ok(false) => panic!("a truncated stream must not end quietly"),
                Err(e) => break e,
            }
        };
        assert!(
            matches!(&error, FeedError::Line { path: p, line, .. } if *p == path && *line > 5000),
            "{error}"
        );
        assert!(rows.len() > 5000 && rows.len() < 20_000, "{}", rows.len());
        assert_eq!(bad.total, 0, "{bad:?}");
    }

    #[test]
    fn every_reader_counts_a_line_too_long_with_its_number_and_reads_on() {
        let dir = tempfile::tempdir().unwrap();
        let long = "a".repeat(input::MAX_LINE_BYTES + 1);
        let row = "\"2026-10-05 00:00:03\",\"high\",\"192.0.2.1\",\"udp\",53,\"\",\"openresolver\",64496,\"NL\",\"\",\"\",0,\"\",\"\",\"\",\"\"";
        let event = |ip: &str| {
            format!("{{\"classification.identifier\": \"open-ssdp\", \"source.ip\": \"{ip}\", \"time.source\": \"2026-10-05T00:00:19Z\"}}")
        };
        let ntp = Mapping::from_toml("m.toml", "ip = \"ip\"\nrisk = \"openntp\"\n").unwrap();
        let ntp_jsonl = Mapping::from_toml(
            "m.toml",
            "format = \"jsonl\"\nip = \"ip\"\nrisk = \"openntp\"\n",
        )
        .unwrap();
        let cases = [
            (
                "2026-10-05-scan_dns-long.csv",
                format!("{}{row}\n{long}\n{row}\n", scan_dns_header()),
                None,
                [2, 4],
                3,
            ),
            (
                "events.jsonl",
                format!("{}\n{long}\n{}\n", event("192.0.2.1"), event("192.0.2.1")),
                None,
                [1, 3],
                2,
            ),
            (
                "ntp-2026-10-05.csv",
                format!("ip\n192.0.2.1\n{long}\n192.0.2.1"),
                Some(&ntp),
                [2, 4],
                3,
            ),
            (
                "ntp-2026-10-05.jsonl",
                format!("{{\"ip\": \"192.0.2.1\"}}\n{long}\n{{\"ip\": \"192.0.2.1\"}}"),
                Some(&ntp_jsonl),
                [1, 3],
                2,
            ),
        ];
        for (name, text, mapping, rows_at, bad_at) in cases {
            let path = write(dir.path(), name, text);
            let (_, rows, bad) = read_all(&path, FeedFormat::Auto, mapping, None).unwrap();
            let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
            assert_eq!(lines, rows_at, "{name}");
            assert_eq!(
                examples(&bad),
                [(
                    bad_at,
                    "too long: line longer than 1048576 bytes".to_string()
                )],
                "{name}"
            );
        }
    }

    fn scan_dns_header() -> String {
        crate::report_columns("scan_dns").unwrap().join(",") + "\n"
    }

    const MAPPING_CSV: &str =
        "ip = \"ip\"\ntime = \"t\"\nport = \"port\"\nrisk_column = \"risk\"\n";
    const MAPPING_JSONL: &str =
        "format = \"jsonl\"\nip = \"src.ip\"\ntime = \"t\"\nrisk = \"openntp\"\n";

    /// Reads `bytes` as every format: errors and bad rows are fine, panics are not, and the
    /// rows read carry increasing line numbers inside the file.
    fn read_every_way(bytes: &[u8]) {
        let dir = tempfile::tempdir().unwrap();
        let csv_mapping = Mapping::from_toml("m.toml", MAPPING_CSV).unwrap();
        let json_mapping = Mapping::from_toml("m.toml", MAPPING_JSONL).unwrap();
        let check =
            |result: Result<(crate::FeedInfo, Vec<crate::FeedRow>, crate::BadRows), FeedError>,
             content: &[u8],
             first: u64| {
                let Ok((_, rows, bad)) = result else { return };
                let last = memchr::memchr_iter(b'\n', content).count() as u64 + 1;
                let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
                assert!(lines.windows(2).all(|w| w[0] < w[1]), "{lines:?}");
                for line in lines.iter().chain(bad.examples.iter().map(|b| &b.line)) {
                    assert!(
                        (first..=last).contains(line),
                        "line {line} outside {first}..={last}"
                    );
                }
            };
        let path = write(dir.path(), "2026-10-05-scan_dns-fuzz.csv", bytes);
        check(
            read_all_in(&path, FeedFormat::Auto, None, None, 7),
            bytes,
            1,
        );
        check(read_all(&path, FeedFormat::Intelmq, None, None), bytes, 1);
        check(
            read_all(&path, FeedFormat::Mapped, Some(&csv_mapping), None),
            bytes,
            2,
        );
        check(
            read_all(&path, FeedFormat::Mapped, Some(&json_mapping), None),
            bytes,
            1,
        );
        let mut with_header = scan_dns_header().into_bytes();
        with_header.extend_from_slice(bytes);
        let path = write(dir.path(), "2026-10-05-scan_dns-fuzz2.csv", &with_header);
        let result = read_all(&path, FeedFormat::Shadowserver, None, Some("scan_dns"));
        assert!(result.is_ok(), "a valid header opens: {:?}", result.err());
        check(result, &with_header, 2);
        let mut with_header = b"ip,t,port,risk\n".to_vec();
        with_header.extend_from_slice(bytes);
        let path = write(dir.path(), "fuzz3.csv", &with_header);
        check(
            read_all(&path, FeedFormat::Mapped, Some(&csv_mapping), None),
            &with_header,
            2,
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn arbitrary_bytes_never_panic_any_reader(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            read_every_way(&bytes);
        }

        #[test]
        fn feed_shaped_text_never_panics_any_reader(
            lines in proptest::collection::vec(
                "([0-9a-f:.\"{},\\[\\] -]|source\\.ip|time\\.source|2026-10-05 00:00:0[0-9]|192\\.0\\.2\\.[0-9]+|openntp|\r|\u{e9}){0,30}",
                0..12,
            )
        ) {
            read_every_way(lines.join("\n").as_bytes());
        }
    }
}
