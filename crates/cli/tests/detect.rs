//! End-to-end tests of early warning: generated captures with injected surges of several sizes
//! on top of daily and weekly cycles, ingested and watched by `greenwatch detect`.

mod common;

use common::{assert_success, real_ip_data, Env};
use serde_json::Value;

const HOUR: i64 = 3600;

/// A data directory with the real IPv4 data when the test script provides it (sources then
/// spread over the Internet's countries and ASes like a real darknet's), else the fixture.
fn env_with_ip_data() -> Env {
    let Some(dir) = real_ip_data() else {
        return Env::with_fixture_netdb();
    };
    let env = Env::empty();
    let asn = dir.join("asn-ipv4.csv");
    let cc = dir.join("geo-whois-asn-country-ipv4.csv");
    assert_success(&env.run(&[
        "netdb",
        "import",
        asn.to_str().unwrap(),
        cc.to_str().unwrap(),
        "--as-of",
        "2026-06-17",
    ]));
    env
}

fn secs(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .timestamp()
}

/// (true positives among findings, findings, surges >= 3x found, surges >= 3x).
fn score(findings: &[Value], surges: &[Value]) -> (usize, usize, usize, usize) {
    let matches = |f: &Value, s: &Value| {
        f["subject"]["dimension"] == "port"
            && f["subject"]["port"] == s["port"]
            && (secs(&f["first"]) - secs(&s["start"])).abs() <= HOUR
    };
    let true_positives = findings
        .iter()
        .filter(|f| surges.iter().any(|s| matches(f, s)))
        .count();
    let big: Vec<&Value> = surges
        .iter()
        .filter(|s| s["factor"].as_f64().unwrap() >= 3.0)
        .collect();
    let found = big
        .iter()
        .filter(|s| findings.iter().any(|f| matches(f, s)))
        .count();
    (true_positives, findings.len(), found, big.len())
}

#[test]
fn every_surge_of_three_times_the_baseline_is_found_at_its_start_with_few_false_alarms() {
    let (mut tp, mut all, mut found, mut big) = (0, 0, 0, 0);
    for seed in [1, 2] {
        let env = env_with_ip_data();
        let (pcap, truth) = env.generate(seed, 3_000_000, 16 * 24);
        assert_success(&env.ingest(&[&pcap]).0);
        let findings = env.json(&["detect", "--json"]);
        let findings = findings.as_array().unwrap();
        let surges = truth["surges"].as_array().unwrap();
        assert!(surges.len() >= 5, "several surges: {surges:?}");
        let s = score(findings, surges);
        eprintln!("seed {seed}: {s:?}");
        (tp, all, found, big) = (tp + s.0, all + s.1, found + s.2, big + s.3);
        for f in findings {
            let e = &f["explanation"];
            assert!(e["packets"].as_u64().unwrap() > 0, "{f}");
            assert!(!e["sources"].as_array().unwrap().is_empty(), "{f}");
            assert!(e["sources"][0]["first_seen"].is_string(), "{f}");
            assert!(!e["countries"].as_array().unwrap().is_empty(), "{f}");
            for s in f["series"].as_array().unwrap() {
                assert!(
                    s["peak_observed"].as_f64() > s["peak_upper"].as_f64() || f["kind"] != "surge",
                    "a surge leaves its interval: {s}"
                );
            }
        }
    }
    assert_eq!(found, big, "recall on surges >= 3x");
    let precision = tp as f64 / all as f64;
    assert!(precision >= 0.9, "precision {precision}: {tp} of {all}");
}

#[test]
fn allowlisted_networks_leave_no_trace_in_findings() {
    let env = Env::with_fixture_netdb();
    let (pcap, _) = env.generate(4, 2_000_000, 12 * 24);
    assert_success(&env.ingest(&[&pcap]).0);
    let before = env.json(&["detect", "--json"]);
    let before = before.as_array().unwrap();
    assert!(!before.is_empty());
    let carried_by_4134 = |findings: &[Value]| {
        findings.iter().any(|f| {
            f["explanation"]["asns"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["name"] == "AS4134")
        })
    };
    assert!(
        carried_by_4134(before),
        "CHINANET carries part of every surge"
    );

    assert_success(&env.run(&["allowlist", "add", "AS4134", "Test scanner"]));
    let list = env.json(&["allowlist", "list", "--json"]);
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["network"]["asn"] == 4134 && e["name"] == "Test scanner"));
    let after = env.json(&["detect", "--json"]);
    let after = after.as_array().unwrap();
    assert!(
        !after.is_empty(),
        "the surges are still found from other sources"
    );
    assert!(!carried_by_4134(after));
    assert!(after.iter().all(|f| f["subject"]["asn"] != 4134));

    assert_success(&env.run(&["allowlist", "remove", "AS4134"]));
    assert_eq!(
        &env.json(&["detect", "--json"]),
        &Value::Array(before.clone())
    );
}

#[test]
fn raising_findings_twice_stores_each_alert_once() {
    let env = Env::with_fixture_netdb();
    let (pcap, _) = env.generate(5, 2_000_000, 12 * 24);
    assert_success(&env.ingest(&[&pcap]).0);
    let first = env.run(&["detect", "--raise", "--org", "cert-x", "--tlp", "green"]);
    assert_success(&first);
    let alerts = env.json(&["alert", "list", "--json"]);
    let alerts = alerts.as_array().unwrap();
    assert!(!alerts.is_empty());
    assert!(alerts
        .iter()
        .all(|a| a["label"]["owner"] == "cert-x" && a["label"]["tlp"] == "GREEN"));
    assert!(alerts.iter().all(|a| a["evidence"]["series"][0]["chart"]
        .as_array()
        .is_some_and(|c| c.len() > 24)));
    let again = env.run(&["detect", "--raise"]);
    assert_success(&again);
    assert!(String::from_utf8_lossy(&again.stderr).contains("0 new alerts"));
    assert_eq!(
        &env.json(&["alert", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        &alerts.len()
    );
}
