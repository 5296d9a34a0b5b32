//! Every sample feed in `tests/data/` (written by `make_samples.py`), opened as a user would:
//! format detected, rows and bad rows checked exactly.

use greenwatch_feeds::{open_feed, BadRows, Catalogue, FeedFormat, FeedInfo, FeedRow, Mapping};
use greenwatch_model::{CountryCode, Timestamp};
use std::net::IpAddr;
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn read(name: &str, mapping: Option<&Mapping>) -> (FeedInfo, Vec<FeedRow>, BadRows) {
    let catalogue = Catalogue::shipped();
    let mut source = open_feed(&data(name), FeedFormat::Auto, mapping, None, &catalogue)
        .unwrap_or_else(|e| panic!("{e}"));
    let (mut rows, mut bad) = (Vec::new(), BadRows::default());
    while source.read_batch(&mut rows, &mut bad, 4).unwrap() {}
    (source.info().clone(), rows, bad)
}

fn slug(row: &FeedRow) -> String {
    Catalogue::shipped().get(row.risk).slug.clone()
}

/// What a Shadowserver sample must give.
struct Report {
    report: &'static str,
    rows: usize,
    risk: &'static str,
    ip: &'static str,
    port: u16,
    time: &'static str,
    asn: u32,
    country: &'static str,
}

const REPORTS: [Report; 9] = [
    Report {
        report: "scan_dns",
        rows: 8,
        risk: "openrecursivedns",
        ip: "192.0.2.15",
        port: 53,
        time: "2026-10-05T00:00:03Z",
        asn: 64496,
        country: "NL",
    },
    Report {
        report: "scan6_dns",
        rows: 5,
        risk: "openrecursivedns",
        ip: "2001:db8:10::53",
        port: 53,
        time: "2026-10-05T00:00:11Z",
        asn: 64496,
        country: "NL",
    },
    Report {
        report: "scan_ntp",
        rows: 6,
        risk: "ntpversion",
        ip: "198.51.100.20",
        port: 123,
        time: "2026-10-05T00:00:42Z",
        asn: 64496,
        country: "NL",
    },
    Report {
        report: "scan_ntpmonitor",
        rows: 5,
        risk: "openntp",
        ip: "203.0.113.40",
        port: 123,
        time: "2026-10-05T00:00:07Z",
        asn: 64496,
        country: "NL",
    },
    Report {
        report: "scan_ssdp",
        rows: 5,
        risk: "openssdp",
        ip: "192.0.2.120",
        port: 1900,
        time: "2026-10-05T00:00:19Z",
        asn: 64496,
        country: "NL",
    },
    Report {
        report: "scan_snmp",
        rows: 6,
        risk: "opensnmp",
        ip: "198.51.100.150",
        port: 161,
        time: "2026-10-05T00:00:23Z",
        asn: 64496,
        country: "NL",
    },
    Report {
        report: "scan_chargen",
        rows: 6,
        risk: "chargen",
        ip: "203.0.113.90",
        port: 19,
        time: "2026-10-05T00:00:31Z",
        asn: 64500,
        country: "BR",
    },
    Report {
        report: "scan_memcached",
        rows: 5,
        risk: "openmemcached",
        ip: "192.0.2.200",
        port: 11211,
        time: "2026-10-05T00:00:53Z",
        asn: 64497,
        country: "DE",
    },
    Report {
        report: "event4_sinkhole",
        rows: 7,
        risk: "infected",
        ip: "203.0.113.7",
        port: 41234,
        time: "2026-10-05T00:00:05Z",
        asn: 64500,
        country: "BR",
    },
];

#[test]
fn every_shadowserver_sample_reads_completely() {
    for r in &REPORTS {
        let name = format!("2026-10-05-{}-example-asn.csv", r.report);
        let (info, rows, bad) = read(&name, None);
        assert_eq!(info.format, "shadowserver", "{name}");
        assert_eq!(info.report_type.as_deref(), Some(r.report), "{name}");
        assert_eq!(
            info.date_from_name,
            chrono::NaiveDate::from_ymd_opt(2026, 10, 5)
        );
        assert!(!info.gzip);
        // Quoted commas (sector, SSDP server, SNMP sysdesc) never shift a column.
        assert_eq!(bad, BadRows::default(), "{name}");
        assert_eq!(rows.len(), r.rows, "{name}");
        assert!(rows.iter().all(|row| slug(row) == r.risk), "{name}");
        let first = rows[0];
        assert_eq!(first.ip, r.ip.parse::<IpAddr>().unwrap(), "{name}");
        assert_eq!(first.port, r.port, "{name}");
        assert_eq!(first.time, Timestamp::parse(r.time).unwrap(), "{name}");
        assert_eq!(
            (first.feed_asn, first.feed_country.to_string()),
            (r.asn, r.country.to_string()),
            "{name}"
        );
        assert_eq!(first.line, 2, "{name}");
    }
}

#[test]
fn ipv6_report_rows_are_all_ipv6() {
    let (_, rows, _) = read("2026-10-05-scan6_dns-example-asn.csv", None);
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r.ip.is_ipv6()));
    assert_eq!(rows[4].ip, "2001:db8:14::57".parse::<IpAddr>().unwrap());
}

#[test]
fn a_multi_line_sysdesc_moves_later_rows_down_by_its_line_breaks() {
    let (_, rows, _) = read("2026-10-05-scan_snmp-example-asn.csv", None);
    let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 3, 4, 8, 9, 10]);
}

#[test]
fn gzip_copy_reads_the_same_as_the_plain_file() {
    let (plain_info, plain, plain_bad) = read("2026-10-05-scan_snmp-example-asn.csv", None);
    let (gz_info, gz, gz_bad) = read("2026-10-05-scan_snmp-example-asn.csv.gz", None);
    assert!(gz_info.gzip && !plain_info.gzip);
    assert_eq!(gz_info.report_type, plain_info.report_type);
    assert_eq!((gz, gz_bad), (plain, plain_bad));
}

#[test]
fn intelmq_sample_reads_flat_and_nested_events_and_counts_the_unclassified_one() {
    let (info, rows, bad) = read("intelmq-events-2026-10-05.jsonl", None);
    assert_eq!(
        (info.format, info.report_type.as_deref(), info.gzip),
        ("intelmq", None, false)
    );
    let got: Vec<(u64, String, String)> = rows
        .iter()
        .map(|r| (r.line, r.ip.to_string(), slug(r)))
        .collect();
    let expected = [
        (1, "192.0.2.15", "openrecursivedns"),
        (2, "203.0.113.40", "openntp"),
        (3, "192.0.2.120", "openssdp"),
        (4, "198.51.100.155", "opensnmp"),
        (5, "203.0.113.90", "chargen"),
        (6, "192.0.2.200", "openmemcached"),
        (7, "2001:db8:10::53", "openrecursivedns"),
        (8, "203.0.113.7", "infected"),
        // line 9 is blank; line 10 is the phishing event; 11 is in nested form
        (11, "198.51.100.20", "ntpversion"),
    ];
    let expected: Vec<(u64, String, String)> = expected
        .iter()
        .map(|(l, ip, s)| (*l, ip.to_string(), s.to_string()))
        .collect();
    assert_eq!(got, expected);
    let first = rows[0];
    assert_eq!(
        (first.port, first.time, first.feed_asn, first.feed_country),
        (
            53,
            Timestamp::parse("2026-10-05T00:00:03Z").unwrap(),
            64496,
            CountryCode(*b"NL")
        )
    );
    let nested = rows[8];
    assert_eq!(
        (
            nested.port,
            nested.time,
            nested.feed_asn,
            nested.feed_country
        ),
        (
            123,
            Timestamp::parse("2026-10-05T00:00:42Z").unwrap(),
            64496,
            CountryCode(*b"NL")
        )
    );
    assert_eq!(bad.total, 1);
    assert_eq!(bad.by_reason.get("no risk for classification"), Some(&1));
    assert_eq!(bad.examples[0].line, 10);
    assert!(
        bad.examples[0].reason.contains("\"phishing\""),
        "{:?}",
        bad.examples[0]
    );
}

#[test]
fn mapped_sample_reads_through_its_mapping() {
    let mapping = Mapping::load(&data("cert-scan.toml")).unwrap();
    let (info, rows, bad) = read("cert-scan-2026-10-05.csv", Some(&mapping));
    assert_eq!((info.format, info.report_type.as_deref()), ("mapped", None));
    assert_eq!(
        info.date_from_name,
        chrono::NaiveDate::from_ymd_opt(2026, 10, 5)
    );
    let got: Vec<(u64, String, String)> = rows
        .iter()
        .map(|r| (r.line, r.ip.to_string(), slug(r)))
        .collect();
    let expected = [
        (2, "192.0.2.44", "openrecursivedns"),
        (3, "192.0.2.45", "openrecursivedns"),
        (4, "203.0.113.61", "openntp"),
        (5, "2001:db8:44::1", "openrecursivedns"),
        (7, "192.0.2.180", "openssdp"),
        (8, "198.51.100.12", "openntp"),
    ];
    let expected: Vec<(u64, String, String)> = expected
        .iter()
        .map(|(l, ip, s)| (*l, ip.to_string(), s.to_string()))
        .collect();
    assert_eq!(got, expected);
    let first = rows[0];
    assert_eq!(
        (first.port, first.time, first.feed_asn, first.feed_country),
        (
            53,
            Timestamp::parse("2026-10-05T08:15:00Z").unwrap(),
            64496,
            CountryCode(*b"NL")
        )
    );
    // Empty ASN and country are unknown, not bad; "nl" and a bare ASN are accepted.
    assert_eq!(
        (rows[3].feed_asn, rows[3].feed_country),
        (0, CountryCode::UNKNOWN)
    );
    assert_eq!(
        (rows[4].feed_asn, rows[4].feed_country),
        (64496, CountryCode(*b"NL"))
    );
    assert_eq!(bad.total, 1);
    assert_eq!(bad.examples[0].line, 6);
    assert_eq!(bad.examples[0].reason, "unknown risk: \"telnet\"");
}
