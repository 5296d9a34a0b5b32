//! End-to-end tests of risk feeds and metrics: generate feeds with known truth, ingest them with
//! the binary, and compare every metric with the truth.

mod common;

use common::{assert_success, Env};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

impl Env {
    /// Writes a generated feed; returns (file, truth).
    fn generate_feed(&self, name: &str, args: &[&str]) -> (PathBuf, Value) {
        let file = self.path(name);
        let truth = self.path(&format!("{name}.truth.json"));
        let mut all = vec![
            "generate",
            "feed",
            "--out",
            file.to_str().unwrap(),
            "--truth",
            truth.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        assert_success(&self.run(&all));
        let truth = serde_json::from_slice(&std::fs::read(&truth).unwrap()).unwrap();
        (file, truth)
    }

    fn ingest_feed(&self, files: &[&Path], extra: &[&str]) -> Value {
        let mut args = vec!["ingest", "feed", "--json"];
        args.extend_from_slice(extra);
        args.extend(files.iter().map(|p| p.to_str().unwrap()));
        self.json(&args)
    }

    fn metrics(&self, risk: &str, by: &str, period: &str, at: &str) -> Vec<Value> {
        let rows = self.json(&[
            "metrics",
            "--risk",
            risk,
            "--by",
            by,
            "--period",
            period,
            "--at",
            at,
            "--min-hosts",
            "0",
            "--json",
        ]);
        rows.as_array().unwrap().clone()
    }
}

/// `group → hosts` of a metrics table, without the world row; and the world row.
fn split(rows: &[Value], by: &str) -> (BTreeMap<String, u64>, Value) {
    let world = rows
        .iter()
        .find(|r| r["country"] == "WORLD")
        .expect("a world row")
        .clone();
    let groups = rows
        .iter()
        .filter(|r| r["country"] != "WORLD")
        .map(|r| {
            (
                r[by].to_string().trim_matches('"').to_string(),
                r["hosts"].as_u64().unwrap(),
            )
        })
        .collect();
    (groups, world)
}

fn truth_groups(truth: &Value, key: &str) -> BTreeMap<String, u64> {
    truth[key]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

/// Ranks are competition ranks by hosts over known groups; shares add up to one.
fn check_ranks_and_shares(rows: &[Value], world_hosts: u64) {
    let groups: Vec<&Value> = rows.iter().filter(|r| r["country"] != "WORLD").collect();
    let mut share_sum = 0.0;
    for r in &groups {
        let hosts = r["hosts"].as_u64().unwrap();
        share_sum += r["share"].as_f64().unwrap();
        assert!((r["share"].as_f64().unwrap() - hosts as f64 / world_hosts as f64).abs() < 1e-9);
        if let Some(rank) = r["rank"].as_u64() {
            let more = groups
                .iter()
                .filter(|o| o["rank"].is_u64() && o["hosts"].as_u64().unwrap() > hosts)
                .count() as u64;
            assert_eq!(rank, more + 1, "rank of {r}");
        }
    }
    assert!((share_sum - 1.0).abs() < 1e-9, "shares sum to {share_sum}");
}

#[test]
fn feed_metrics_reproduce_the_truth_per_day_week_and_month() {
    let env = Env::with_fixture_netdb();
    let (feed, truth) = env.generate_feed(
        "2026-10-05-scan_dns-generated-asn.csv",
        &[
            "--report",
            "scan_dns",
            "--rows",
            "12000",
            "--days",
            "30",
            "--start",
            "2026-10-05",
            "--seed",
            "3",
            "--bad-per-mille",
            "4",
            "--disagree-per-mille",
            "30",
        ],
    );
    let summary = env.ingest_feed(&[&feed], &[]);
    let file = &summary["files"][0];
    assert_eq!(file["status"], "ingested");
    assert_eq!(file["info"]["report_type"], "scan_dns");
    let counts = &file["counts"];
    let bad_lines: Vec<u64> = truth["bad_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["line"].as_u64().unwrap())
        .collect();
    assert!(bad_lines.len() >= 40, "the truth has bad rows to find");
    assert_eq!(counts["events"], truth["rows_written"]);
    assert_eq!(counts["bad_rows"].as_u64().unwrap(), bad_lines.len() as u64);
    assert_eq!(
        counts["events_by_risk"]["openrecursivedns"],
        truth["rows_written"]
    );
    assert_eq!(
        counts["country_disagreements"],
        truth["feed_country_disagreements"]
    );
    assert_eq!(counts["asn_disagreements"], truth["feed_asn_disagreements"]);
    let reported: Vec<u64> = file["bad_examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["line"].as_u64().unwrap())
        .collect();
    assert_eq!(
        reported,
        bad_lines[..reported.len()],
        "bad rows are reported at their lines"
    );

    let mut daily_sum = 0;
    for (kind, key) in [("day", "day"), ("week", "week"), ("month", "month")] {
        for (label, period) in truth[key].as_object().unwrap() {
            let rows = env.metrics("openrecursivedns", "country", kind, label);
            let (groups, world) = split(&rows, "country");
            assert_eq!(world["period"], label.as_str());
            assert_eq!(world["hosts"], period["hosts"], "{kind} {label}");
            assert_eq!(groups, truth_groups(period, "by_country"), "{kind} {label}");
            check_ranks_and_shares(&rows, world["hosts"].as_u64().unwrap());
            if kind == "day" {
                daily_sum += period["hosts"].as_u64().unwrap();
            }
        }
    }
    let weekly: u64 = truth["week"]
        .as_object()
        .unwrap()
        .values()
        .map(|w| w["hosts"].as_u64().unwrap())
        .sum();
    assert!(
        weekly < daily_sum,
        "hosts recur: weekly {weekly} vs daily sum {daily_sum}"
    );
    // By ASN, one week and one month.
    for (kind, key) in [("week", "week"), ("month", "month")] {
        let (label, period) = truth[key].as_object().unwrap().iter().next().unwrap();
        let rows = env.metrics("openrecursivedns", "asn", kind, label);
        let (groups, world) = split(&rows, "asn");
        assert_eq!(world["hosts"], period["hosts"]);
        assert_eq!(groups, truth_groups(period, "by_asn"), "{kind} {label}");
        assert!(
            world["ddos_potential"].as_f64().unwrap() == world["hosts"].as_f64().unwrap() * 41.0
        );
    }

    // Re-ingesting changes nothing.
    let again = env.ingest_feed(&[&feed], &[]);
    assert_eq!(again["files"][0]["status"], "already_ingested");
    let (label, period) = truth["month"].as_object().unwrap().iter().next().unwrap();
    let rows = env.metrics("openrecursivedns", "country", "month", label);
    assert_eq!(split(&rows, "country").1["hosts"], period["hosts"]);
}

#[test]
fn intelmq_events_with_ipv6_are_counted_and_bad_json_is_skipped() {
    let env = Env::with_fixture_netdb();
    let (feed, truth) = env.generate_feed(
        "events.jsonl",
        &[
            "--report",
            "scan_ntpmonitor",
            "--intelmq",
            "--rows",
            "3000",
            "--days",
            "7",
            "--start",
            "2026-10-05",
            "--seed",
            "5",
            "--ipv6-per-mille",
            "200",
            "--bad-per-mille",
            "5",
        ],
    );
    let summary = env.ingest_feed(&[&feed], &[]);
    let counts = &summary["files"][0]["counts"];
    assert_eq!(summary["files"][0]["info"]["format"], "intelmq");
    assert_eq!(counts["events"], truth["rows_written"]);
    assert_eq!(counts["ipv6_events"], truth["ipv6_rows"]);
    assert!(truth["ipv6_rows"].as_u64().unwrap() > 300);
    assert_eq!(
        counts["bad_rows"].as_u64().unwrap(),
        truth["bad_rows"].as_array().unwrap().len() as u64
    );
    let (label, week) = truth["week"].as_object().unwrap().iter().next().unwrap();
    let rows = env.metrics("openntp", "country", "week", label);
    let (groups, world) = split(&rows, "country");
    assert_eq!(world["hosts"], week["hosts"]);
    assert!(
        world["hosts_ipv6"].as_u64().unwrap() > 0,
        "IPv6 is counted, not dropped"
    );
    assert_eq!(groups, truth_groups(week, "by_country"));
}

#[test]
fn every_real_format_sample_ingests() {
    let env = Env::with_fixture_netdb();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../feeds/tests/data");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&samples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with("2026-") || name.ends_with(".jsonl")
        })
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let summary = env.ingest_feed(&refs, &[]);
    for f in summary["files"].as_array().unwrap() {
        assert_eq!(f["status"], "ingested", "{f}");
        assert!(f["counts"]["events"].as_u64().unwrap() > 0, "{f}");
    }
    // The generic CSV needs its mapping.
    let mapped = env.ingest_feed(
        &[&samples.join("cert-scan-2026-10-05.csv")],
        &[
            "--mapping",
            samples.join("cert-scan.toml").to_str().unwrap(),
        ],
    );
    assert_eq!(mapped["files"][0]["info"]["format"], "mapped");
    assert!(mapped["files"][0]["counts"]["events"].as_u64().unwrap() > 0);
    let risks = env.json(&["risks", "--json"]);
    let with_data = env.json(&["metrics", "--period", "month", "--at", "2026-10", "--json"]);
    let seen: std::collections::BTreeSet<&str> = with_data
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["risk"].as_str().unwrap())
        .collect();
    for risk in [
        "openrecursivedns",
        "openntp",
        "ntpversion",
        "opensnmp",
        "openssdp",
        "chargen",
        "openmemcached",
        "infected",
    ] {
        assert!(seen.contains(risk), "{risk} missing from {seen:?}");
        assert!(risks.as_array().unwrap().iter().any(|r| r["slug"] == risk));
    }
}

#[test]
fn a_feed_that_cannot_be_read_fails_alone_and_names_itself() {
    let env = Env::with_fixture_netdb();
    let (good, truth) = env.generate_feed(
        "2026-10-05-scan_ssdp-generated.csv",
        &[
            "--report",
            "scan_ssdp",
            "--rows",
            "500",
            "--days",
            "2",
            "--start",
            "2026-10-05",
        ],
    );
    let unknown = env.path("notes.csv");
    std::fs::write(&unknown, "a,b,c\n1,2,3\n").unwrap();
    let out = env.run(&[
        "ingest",
        "feed",
        "--json",
        unknown.to_str().unwrap(),
        good.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("notes.csv") && stderr.contains("--mapping"),
        "{stderr}"
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["files"][0]["status"], "failed");
    assert_eq!(
        summary["files"][1]["counts"]["events"],
        truth["rows_written"]
    );
}

#[test]
fn export_writes_a_data_package_and_the_method() {
    let env = Env::with_fixture_netdb();
    let (feed, truth) = env.generate_feed(
        "2026-10-05-scan_dns-generated.csv",
        &[
            "--report",
            "scan_dns",
            "--rows",
            "3000",
            "--days",
            "14",
            "--start",
            "2026-10-05",
        ],
    );
    env.add_org("cert-a");
    env.ingest_feed(&[&feed], &["--tlp", "clear", "--org", "cert-a"]);
    // An AMBER feed: never in open data, only in an internal export.
    let (amber, _) = env.generate_feed(
        "2026-10-05-event4_sinkhole-generated.csv",
        &[
            "--report",
            "event4_sinkhole",
            "--rows",
            "500",
            "--days",
            "3",
            "--start",
            "2026-10-05",
        ],
    );
    env.ingest_feed(&[&amber], &["--tlp", "amber", "--org", "cert-a"]);
    let names = |report: &Value| -> Vec<String> {
        let files = report["files"].as_array().unwrap();
        files
            .iter()
            .map(|f| f.as_str().unwrap().to_string())
            .collect()
    };
    let internal = env.path("internal");
    let all = env.json(&[
        "export",
        "metrics",
        "--out",
        internal.to_str().unwrap(),
        "--all-data",
        "--json",
    ]);
    assert!(names(&all).iter().any(|f| f.starts_with("infected-")));
    let out = env.path("export");
    let report = env.json(&[
        "export",
        "metrics",
        "--out",
        out.to_str().unwrap(),
        "--min-hosts",
        "0",
        "--json",
    ]);
    assert!(
        !names(&report).iter().any(|f| f.starts_with("infected-")),
        "AMBER data must not reach open data: {report}"
    );
    assert!(report["files"].as_array().unwrap().len() >= 18);
    let package: Value =
        serde_json::from_slice(&std::fs::read(out.join("datapackage.json")).unwrap()).unwrap();
    assert_eq!(package["profile"], "tabular-data-package");
    for r in package["resources"].as_array().unwrap() {
        assert!(out.join(r["path"].as_str().unwrap()).exists(), "{r}");
    }
    let csv = std::fs::read_to_string(out.join("openrecursivedns-week-country.csv")).unwrap();
    for (label, week) in truth["week"].as_object().unwrap() {
        let world = csv
            .lines()
            .find(|l| l.contains(&format!(",{label},")) && l.contains(",WORLD,"))
            .unwrap();
        assert!(
            world.contains(&format!(",WORLD,{},", week["hosts"])),
            "{world}"
        );
    }
    let method = std::fs::read_to_string(out.join("METHOD.md")).unwrap();
    assert!(method.contains("## Density") && method.contains("TA14-017A"));
}
