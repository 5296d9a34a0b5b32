//! Generated feeds read back with independent parsers (the csv crate, serde_json) and
//! recounted with plain sets must agree with their truth.

use super::*;
use chrono::NaiveDateTime;
use greenwatch_model::{CountryCode, Period, PeriodKind};
use std::collections::{BTreeMap, HashSet};
use std::net::Ipv4Addr;

fn pool() -> SourcePool {
    let v4 = |a: [u8; 4], b: [u8; 4]| (u32::from(Ipv4Addr::from(a)), u32::from(Ipv4Addr::from(b)));
    SourcePool::new(
        vec![
            v4([1, 0, 0, 0], [1, 255, 255, 255]),
            v4([45, 12, 0, 0], [45, 12, 255, 255]),
            v4([103, 4, 8, 0], [103, 4, 11, 255]),
        ],
        vec![(0x2400 << 112, (0x2400 << 112) | ((1u128 << 96) - 1))],
    )
}

/// The test's attribution: country and ASN from address bits, some of them unknown.
fn enrich(ip: IpAddr) -> Enrichment {
    const CC: [&str; 8] = ["JP", "US", "DE", "BR", "FR", "CN", "IN", ""];
    let bits = match ip {
        IpAddr::V4(a) => u32::from(a) >> 16,
        IpAddr::V6(a) => (u128::from(a) >> 80) as u32,
    };
    let country = match CC[(bits % 8) as usize] {
        "" => CountryCode::UNKNOWN,
        cc => cc.parse().unwrap(),
    };
    let asn = if bits % 13 == 0 {
        0
    } else {
        64_500 + bits % 11
    };
    Enrichment { asn, country }
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn spec(report: &str, format: FeedOutput, start: &str, days: u32, rows: u64) -> FeedSpec {
    FeedSpec::new(42, report, format, date(start), days, rows)
}

fn run(spec: &FeedSpec) -> (Vec<u8>, FeedTruth) {
    let mut out = Vec::new();
    let truth = generate_feed(spec, &pool(), &enrich, &mut out, &mut |_| {}).expect("generate");
    (out, truth)
}

/// One good row as a reader sees it: address, time, and the feed's ASN and country columns.
#[derive(Debug)]
struct Observed {
    ip: IpAddr,
    time: NaiveDateTime,
    feed_asn: u32,
    feed_country: String,
}

/// The CSV's header and good records, skipping the truth's bad lines (checked to be broken).
fn read_csv(file: &[u8], truth: &FeedTruth) -> (Vec<String>, Vec<Observed>) {
    let bad: BTreeMap<u64, BadRowKind> = truth.bad_rows.iter().map(|b| (b.line, b.kind)).collect();
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let sinkhole = header.contains(&"src_ip".to_string());
    let p = |a: &str, b: &str| if sinkhole { col(a) } else { col(b) };
    let (ip_at, asn_at, geo_at, ts_at) = (
        p("src_ip", "ip"),
        p("src_asn", "asn"),
        p("src_geo", "geo"),
        col("timestamp"),
    );
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.unwrap();
        let line = record.position().unwrap().line();
        let ip = record.get(ip_at).and_then(|s| s.parse::<IpAddr>().ok());
        let time = record
            .get(ts_at)
            .and_then(|s| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok());
        let complete = record.len() == header.len();
        match bad.get(&line) {
            Some(BadRowKind::InvalidIp) => {
                assert!(ip.is_none() && record[ip_at].starts_with("300."))
            }
            Some(BadRowKind::InvalidTimestamp) => assert!(time.is_none(), "line {line}"),
            Some(BadRowKind::ShortRow) => assert!(!complete, "line {line}"),
            Some(kind) => panic!("{kind:?} in a CSV"),
            None => {
                assert!(complete, "line {line} has {} fields", record.len());
                rows.push(Observed {
                    ip: ip.unwrap_or_else(|| panic!("line {line}: bad ip {:?}", &record[ip_at])),
                    time: time.unwrap_or_else(|| panic!("line {line}: bad time")),
                    feed_asn: record[asn_at].parse().unwrap_or(0),
                    feed_country: record[geo_at].to_string(),
                });
            }
        }
    }
    (header, rows)
}

/// Good IntelMQ events (checking the truth's bad lines are broken) as parsed JSON objects.
fn read_intelmq(file: &[u8], truth: &FeedTruth) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let bad: BTreeMap<u64, BadRowKind> = truth.bad_rows.iter().map(|b| (b.line, b.kind)).collect();
    let text = std::str::from_utf8(file).unwrap();
    let mut events = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        let parsed = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(line);
        match bad.get(&line_no) {
            Some(BadRowKind::InvalidJson) => assert!(parsed.is_err(), "line {line_no} parses"),
            Some(BadRowKind::MissingIp) => assert!(!parsed.unwrap().contains_key("source.ip")),
            Some(kind) => panic!("{kind:?} in IntelMQ output"),
            None => {
                let event = parsed.unwrap_or_else(|e| panic!("line {line_no}: {e}"));
                assert!(event.contains_key("source.ip"), "line {line_no}");
                events.push(event);
            }
        }
    }
    events
}

fn observed_intelmq(event: &serde_json::Map<String, serde_json::Value>) -> Observed {
    let time = event["time.source"].as_str().unwrap();
    Observed {
        ip: event["source.ip"].as_str().unwrap().parse().unwrap(),
        time: chrono::DateTime::parse_from_rfc3339(time)
            .unwrap()
            .naive_utc(),
        feed_asn: event
            .get("source.asn")
            .map_or(0, |a| a.as_u64().unwrap() as u32),
        feed_country: event
            .get("source.geolocation.cc")
            .map_or(String::new(), |c| c.as_str().unwrap().to_string()),
    }
}

/// Distinct hosts per period recounted from rows, with the test's own sets and attribution.
fn recount(rows: &[Observed], kind: PeriodKind) -> BTreeMap<String, PeriodHosts> {
    let mut sets: BTreeMap<String, HashSet<IpAddr>> = BTreeMap::new();
    for r in rows {
        let label = Period::containing(kind, r.time.date()).label();
        sets.entry(label).or_default().insert(r.ip);
    }
    sets.into_iter()
        .map(|(label, ips)| {
            let mut p = PeriodHosts {
                hosts: ips.len() as u64,
                ..Default::default()
            };
            for ip in ips {
                let e = enrich(ip);
                *p.by_country
                    .entry(e.country.as_str().unwrap_or("ZZ").to_string())
                    .or_default() += 1;
                *p.by_asn.entry(e.asn).or_default() += 1;
            }
            (label, p)
        })
        .collect()
}

fn assert_truth_matches(rows: &[Observed], truth: &FeedTruth) {
    assert_eq!(rows.len() as u64, truth.rows_written);
    assert!(
        rows.windows(2).all(|w| w[0].time <= w[1].time),
        "time-ordered"
    );
    assert_eq!(recount(rows, PeriodKind::Day), truth.day);
    assert_eq!(recount(rows, PeriodKind::Week), truth.week);
    assert_eq!(recount(rows, PeriodKind::Month), truth.month);
    let ipv6 = rows.iter().filter(|r| r.ip.is_ipv6()).count() as u64;
    assert_eq!(ipv6, truth.ipv6_rows);
    let country = rows
        .iter()
        .filter(|r| r.feed_country != enrich(r.ip).country.as_str().unwrap_or(""))
        .count() as u64;
    let asn = rows
        .iter()
        .filter(|r| r.feed_asn != enrich(r.ip).asn)
        .count() as u64;
    assert_eq!(country, truth.feed_country_disagreements);
    assert_eq!(asn, truth.feed_asn_disagreements);
}

#[test]
fn same_seed_same_file_other_seed_other_file() {
    for format in [FeedOutput::Shadowserver, FeedOutput::Intelmq] {
        let mut s = spec("scan_dns", format, "2026-10-05", 3, 3_000);
        s.bad_rows_per_mille = 10;
        s.disagree_per_mille = 20;
        let (a, ta) = run(&s);
        let (b, tb) = run(&s);
        s.seed += 1;
        let (c, tc) = run(&s);
        assert!(a == b, "same seed, same bytes");
        assert_eq!(ta, tb);
        assert!(a != c, "other seed, other bytes");
        assert_ne!(ta, tc);
    }
}

#[test]
fn hosts_recur_so_weeks_have_far_fewer_hosts_than_their_days_and_a_recount_agrees() {
    // Two weeks and a half across a month boundary: W39 (partial), W40, W41, September and
    // October.
    let mut s = spec(
        "scan_dns",
        FeedOutput::Shadowserver,
        "2026-09-24",
        18,
        36_000,
    );
    s.bad_rows_per_mille = 5;
    s.disagree_per_mille = 30;
    let (file, truth) = run(&s);
    let (_, rows) = read_csv(&file, &truth);
    assert_truth_matches(&rows, &truth);

    assert_eq!(truth.day.len(), 18);
    assert_eq!(
        truth.week.keys().collect::<Vec<_>>(),
        ["2026-W39", "2026-W40", "2026-W41"]
    );
    assert_eq!(
        truth.month.keys().collect::<Vec<_>>(),
        ["2026-09", "2026-10"]
    );
    let w40 = Period::containing(PeriodKind::Week, date("2026-09-28"));
    let daily: u64 = (0..7)
        .map(|d| {
            truth.day
                [&Period::containing(PeriodKind::Day, w40.start + chrono::Days::new(d)).label()]
                .hosts
        })
        .sum();
    let weekly = truth.week["2026-W40"].hosts;
    assert!(
        weekly * 3 < daily,
        "weekly {weekly} vs sum of daily {daily}"
    );
    // ~75% of the persistent population each day: a day holds about half of its week's hosts.
    let day_share = daily as f64 / 7.0 / weekly as f64;
    assert!((0.45..0.75).contains(&day_share), "{day_share}");
    // Duplicate rows: more rows than distinct hosts on a day.
    let day = &truth.day["2026-10-01"];
    let rows_that_day = rows
        .iter()
        .filter(|r| r.time.date() == date("2026-10-01"))
        .count() as u64;
    assert!(rows_that_day > day.hosts && rows_that_day < day.hosts * 11 / 10);
    // Attribution: countries and ASNs cover every host, unknowns included.
    for p in truth.day.values().chain(truth.week.values()) {
        assert_eq!(p.by_country.values().sum::<u64>(), p.hosts);
        assert_eq!(p.by_asn.values().sum::<u64>(), p.hosts);
    }
    assert!(truth.week["2026-W40"].by_country.contains_key("ZZ"));
    assert!(truth.week["2026-W40"].by_asn.contains_key(&0));
}

#[test]
fn bad_row_lines_point_at_broken_lines_and_kinds_take_turns() {
    let mut s = spec(
        "scan_ntpmonitor",
        FeedOutput::Shadowserver,
        "2026-10-05",
        2,
        6_000,
    );
    s.bad_rows_per_mille = 20;
    let (file, truth) = run(&s);
    let (_, rows) = read_csv(&file, &truth); // asserts every listed line is broken that way
    assert_eq!(rows.len(), 6_000);
    let n = truth.bad_rows.len();
    assert!(
        (80..=160).contains(&n),
        "{n} bad rows for 20 per mille of 6000"
    );
    let lines = file.iter().filter(|&&b| b == b'\n').count() as u64;
    assert_eq!(lines, 1 + 6_000 + n as u64);
    for (i, b) in truth.bad_rows.iter().enumerate() {
        assert_eq!(b.kind, CSV_KINDS[i % 3]);
    }
    assert!(truth.bad_rows.windows(2).all(|w| w[0].line < w[1].line));

    s.format = FeedOutput::Intelmq;
    let (file, truth) = run(&s);
    let events = read_intelmq(&file, &truth);
    assert_eq!(events.len(), 6_000);
    let kinds: HashSet<BadRowKind> = truth.bad_rows.iter().map(|b| b.kind).collect();
    assert_eq!(
        kinds,
        HashSet::from([BadRowKind::InvalidJson, BadRowKind::MissingIp])
    );
}

const CSV_KINDS: [BadRowKind; 3] = [
    BadRowKind::InvalidIp,
    BadRowKind::InvalidTimestamp,
    BadRowKind::ShortRow,
];

#[test]
fn feed_asn_and_country_disagree_with_the_enrichment_exactly_as_counted() {
    let mut s = spec(
        "scan_snmp",
        FeedOutput::Shadowserver,
        "2026-10-05",
        2,
        8_000,
    );
    s.disagree_per_mille = 50;
    let (file, truth) = run(&s);
    let (_, rows) = read_csv(&file, &truth);
    assert_truth_matches(&rows, &truth);
    let (c, a) = (
        truth.feed_country_disagreements,
        truth.feed_asn_disagreements,
    );
    assert!((150..=700).contains(&c), "{c} country disagreements");
    assert!((80..=400).contains(&a), "{a} ASN disagreements");

    s.disagree_per_mille = 0;
    let (_, truth) = run(&s);
    assert_eq!(
        truth.feed_country_disagreements + truth.feed_asn_disagreements,
        0
    );
}

#[test]
fn every_report_type_writes_its_published_header_and_service_port() {
    for report in feed_report_types() {
        let mut s = spec(report, FeedOutput::Shadowserver, "2026-10-05", 1, 300);
        s.ipv6_per_mille = 1000;
        let (file, truth) = run(&s);
        let (header, rows) = read_csv(&file, &truth);
        let published = greenwatch_feeds::report_columns(report).unwrap();
        assert_eq!(header, published, "{report}");
        assert_truth_matches(&rows, &truth);
        assert_eq!(truth.ipv6_rows == 300, report.contains('6'), "{report}");

        let mut reader = csv::Reader::from_reader(&file[..]);
        let first = reader.records().next().unwrap().unwrap();
        let get = |name: &str| {
            let i = header.iter().position(|h| h == name).unwrap();
            first[i].to_string()
        };
        let expected_port = match report
            .trim_start_matches("scan_")
            .trim_start_matches("scan6_")
        {
            "dns" => "53",
            "ntp" | "ntpmonitor" => "123",
            "ssdp" => "1900",
            "snmp" => "161",
            "chargen" => "19",
            "memcached" => "11211",
            _ => "",
        };
        if report.starts_with("event") {
            assert!(get("src_port").parse::<u16>().unwrap() >= 1024);
            assert!(get("dst_ip").parse::<IpAddr>().is_ok());
            assert!(["80", "443", "8080"].contains(&get("dst_port").as_str()));
            assert!(!get("infection").is_empty() && !get("family").is_empty());
            assert_eq!(get("protocol"), "tcp");
        } else {
            assert_eq!(get("port"), expected_port, "{report}");
            assert_eq!(get("protocol"), "udp");
            assert!(!get("tag").is_empty() && !get("severity").is_empty());
        }
    }
}

#[test]
fn values_with_commas_and_quotes_survive_csv_quoting() {
    let s = spec(
        "scan_snmp",
        FeedOutput::Shadowserver,
        "2026-10-05",
        1,
        2_000,
    );
    let (file, truth) = run(&s);
    let (header, _) = read_csv(&file, &truth);
    let at = header.iter().position(|h| h == "sysdesc").unwrap();
    let mut reader = csv::Reader::from_reader(&file[..]);
    let descs: HashSet<String> = reader
        .records()
        .map(|r| r.unwrap()[at].to_string())
        .collect();
    assert!(descs.iter().any(|d| d.contains(", ")), "{descs:?}");
    assert!(descs.iter().any(|d| d.contains('"')), "{descs:?}");
}

#[test]
fn ipv6_appears_for_scan6_reports_and_intelmq_only() {
    let mut s = spec(
        "scan6_dns",
        FeedOutput::Shadowserver,
        "2026-10-05",
        2,
        2_000,
    );
    s.ipv6_per_mille = 1000;
    let (file, truth) = run(&s);
    let (_, rows) = read_csv(&file, &truth);
    assert!(rows.iter().all(|r| r.ip.is_ipv6()));
    assert_eq!(truth.ipv6_rows, 2_000);

    s.report_type = "scan_dns".into();
    let (file, truth) = run(&s);
    let (_, rows) = read_csv(&file, &truth);
    assert!(
        rows.iter().all(|r| r.ip.is_ipv4()),
        "ignored for an IPv4 report"
    );
    assert_eq!(truth.ipv6_rows, 0);

    s.format = FeedOutput::Intelmq;
    s.ipv6_per_mille = 300;
    let (file, truth) = run(&s);
    let rows: Vec<Observed> = read_intelmq(&file, &truth)
        .iter()
        .map(observed_intelmq)
        .collect();
    assert_truth_matches(&rows, &truth);
    assert!(
        (400..=800).contains(&truth.ipv6_rows),
        "{}",
        truth.ipv6_rows
    );

    let no_v6 = SourcePool::new(vec![(0x0100_0000, 0x01ff_ffff)], vec![]);
    let err = generate_feed(&s, &no_v6, &enrich, Vec::new(), &mut |_| {});
    assert!(matches!(err, Err(GenerateError::Spec(_))));
}

fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let digits: Vec<u8> = chunk
            .iter()
            .filter(|&&c| c != b'=')
            .map(|&c| value(c))
            .collect();
        let n = digits.iter().fold(0u32, |n, &d| n << 6 | d as u32) << (6 * (4 - digits.len()));
        out.extend(&n.to_be_bytes()[1..digits.len()]);
    }
    out
}

#[test]
fn intelmq_events_carry_harmonization_fields_and_the_raw_csv_line() {
    for (report, identifier, application) in [
        ("scan_dns", "dns-open-resolver", "dns"),
        ("scan_ntpmonitor", "ntp-monitor", "ntp"),
        ("scan_ssdp", "open-ssdp", "ssdp"),
        ("scan_snmp", "open-snmp", "snmp"),
        ("scan_chargen", "open-chargen", "chargen"),
        ("scan_memcached", "open-memcached", "memcached"),
    ] {
        let mut s = spec(report, FeedOutput::Intelmq, "2026-10-05", 2, 1_000);
        s.disagree_per_mille = 40;
        let (file, truth) = run(&s);
        let events = read_intelmq(&file, &truth);
        let rows: Vec<Observed> = events.iter().map(observed_intelmq).collect();
        assert_truth_matches(&rows, &truth);
        for e in &events {
            assert_eq!(e["feed.provider"], "Shadowserver");
            assert_eq!(e["feed.name"], report);
            assert_eq!(e["classification.taxonomy"], "vulnerable");
            assert_eq!(e["classification.type"], "vulnerable-system");
            assert_eq!(e["classification.identifier"], identifier);
            assert_eq!(e["protocol.application"], application);
            assert_eq!(e["protocol.transport"], "udp");
            assert!(e["source.port"].is_u64());
            let observed = e["time.observation"].as_str().unwrap();
            assert!(observed.ends_with("T02:00:00+00:00"));
            assert!(e.keys().any(|k| k.starts_with("extra.")));
            let raw = String::from_utf8(base64_decode(e["raw"].as_str().unwrap())).unwrap();
            let ip = e["source.ip"].as_str().unwrap();
            assert!(raw.contains(&format!(",{ip},udp,")), "{raw}");
        }
        let keys: Vec<&String> = events[0].keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "IntelMQ writes sorted keys");
    }

    let s = spec("event4_sinkhole", FeedOutput::Intelmq, "2026-10-05", 1, 500);
    let (file, truth) = run(&s);
    for e in read_intelmq(&file, &truth) {
        assert_eq!(e["classification.taxonomy"], "malicious-code");
        assert_eq!(e["classification.type"], "infected-system");
        assert_eq!(e["classification.identifier"], e["malware.name"]);
        assert!(e["destination.ip"]
            .as_str()
            .unwrap()
            .parse::<IpAddr>()
            .is_ok());
        assert!(e["source.port"].as_u64().unwrap() >= 1024);
    }
}

#[test]
fn as_names_come_from_the_address_info() {
    struct Named;
    impl AddressInfo for Named {
        fn enrich(&self, ip: IpAddr) -> Enrichment {
            enrich(ip)
        }
        fn as_name(&self, asn: u32) -> Option<&str> {
            (asn & 1 == 0).then_some("EXAMPLE-NET, \"Example\" Ltd")
        }
    }
    let s = spec("scan_dns", FeedOutput::Intelmq, "2026-10-05", 1, 500);
    let mut file = Vec::new();
    let truth = generate_feed(&s, &pool(), &Named, &mut file, &mut |_| {}).unwrap();
    let events = read_intelmq(&file, &truth);
    for e in &events {
        match e.get("source.asn").and_then(|a| a.as_u64()) {
            Some(asn) if asn & 1 == 0 => {
                assert_eq!(e["source.as_name"], "EXAMPLE-NET, \"Example\" Ltd")
            }
            _ => assert!(!e.contains_key("source.as_name")),
        }
    }
}

#[test]
fn truth_round_trips_through_json_and_can_be_turned_off() {
    let mut s = spec(
        "event4_sinkhole",
        FeedOutput::Shadowserver,
        "2026-10-30",
        4,
        2_000,
    );
    s.bad_rows_per_mille = 10;
    let (file, truth) = run(&s);
    let json = serde_json::to_string(&truth).unwrap();
    assert_eq!(serde_json::from_str::<FeedTruth>(&json).unwrap(), truth);
    assert!(json.contains("\"2026-W44\"") && json.contains("\"2026-11\""));

    s.host_truth = false;
    let (same, counts_only) = run(&s);
    assert!(same == file, "host truth does not change the file");
    assert!(
        counts_only.day.is_empty() && counts_only.week.is_empty() && counts_only.month.is_empty()
    );
    assert_eq!(counts_only.rows_written, truth.rows_written);
    assert_eq!(counts_only.bad_rows, truth.bad_rows);
}

#[test]
fn small_and_empty_specs_write_exact_row_counts() {
    for (rows, days) in [(0, 1), (1, 1), (5, 7), (999, 3)] {
        let s = spec(
            "scan_chargen",
            FeedOutput::Shadowserver,
            "2026-12-30",
            days,
            rows,
        );
        let (file, truth) = run(&s);
        let (_, observed) = read_csv(&file, &truth);
        assert_eq!(observed.len() as u64, rows);
        assert_truth_matches(&observed, &truth);
    }
}

#[test]
fn invalid_specs_are_errors() {
    let err = |s: &FeedSpec| {
        matches!(
            generate_feed(s, &pool(), &enrich, Vec::new(), &mut |_| {}),
            Err(GenerateError::Spec(_))
        )
    };
    let ok = spec("scan_dns", FeedOutput::Shadowserver, "2026-10-05", 1, 10);
    assert!(!err(&ok));
    assert!(err(&FeedSpec {
        report_type: "scan_nope".into(),
        ..ok.clone()
    }));
    assert!(err(&FeedSpec {
        report_type: "scan_ssh".into(),
        ..ok.clone()
    }));
    assert!(err(&FeedSpec {
        days: 0,
        ..ok.clone()
    }));
    assert!(err(&FeedSpec {
        bad_rows_per_mille: 1001,
        ..ok.clone()
    }));
    let empty = SourcePool::new(vec![], vec![]);
    assert!(matches!(
        generate_feed(&ok, &empty, &enrich, Vec::new(), &mut |_| {}),
        Err(GenerateError::Spec(_))
    ));
}
