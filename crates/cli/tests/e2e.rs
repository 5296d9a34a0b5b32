//! End-to-end tests: run the `greenwatch` binary on generated captures and compare what it
//! measured with the generator's ground truth.

mod common;

use common::{assert_success, real_ip_data, Env};
use serde_json::Value;
use std::path::Path;

/// The measured DoS attacks in the truth file's shape.
fn dos_as_truth(attacks: &Value) -> Vec<Value> {
    attacks
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            serde_json::json!({
                "ip": a["victim"], "protocol": a["protocol"], "first": a["first"],
                "last": a["last"], "packets": a["packets"],
            })
        })
        .collect()
}

fn assert_matches_truth(env: &Env, summary: &Value, truth: &Value) {
    for key in ["packets", "ipv6_packets", "by_class", "by_fingerprint"] {
        assert_eq!(
            summary[key], truth[key],
            "{key} differs from the ground truth"
        );
    }
    assert_eq!(
        summary["errors"],
        serde_json::json!({}),
        "no record may fail to decode"
    );
    let dos = env.json(&["query", "dos", "--json"]);
    assert_eq!(
        dos_as_truth(&dos),
        truth["dos_victims"].as_array().unwrap().clone(),
        "DoS victims differ"
    );
}

#[test]
fn generated_captures_reproduce_their_ground_truth_exactly() {
    for (seed, packets, hours) in [(1, 20_000, 6), (2, 150_000, 24), (3, 400_000, 48)] {
        let env = Env::with_fixture_netdb();
        let (pcap, truth) = env.generate(seed, packets, hours);
        assert!(
            truth["ipv6_packets"].as_u64().unwrap() > 0,
            "seed {seed}: IPv6 is part of the mix"
        );
        assert!(!truth["dos_victims"].as_array().unwrap().is_empty());
        let (out, summary) = env.ingest(&[&pcap]);
        assert_success(&out);
        assert_matches_truth(&env, &summary, &truth);
        assert_eq!(
            env.total_packets(),
            packets,
            "seed {seed}: stored flows hold every packet"
        );
    }
}

#[test]
fn reingesting_the_same_capture_changes_nothing() {
    let env = Env::with_fixture_netdb();
    let (pcap, truth) = env.generate(11, 30_000, 4);
    let (_, first) = env.ingest(&[&pcap]);
    assert_eq!(first["files"][0]["status"], "ingested");
    let before = env.json(&[
        "query", "top", "--by", "source", "--limit", "100000", "--json",
    ]);
    let (out, second) = env.ingest(&[&pcap]);
    assert_success(&out);
    assert_eq!(second["files"][0]["status"], "already_ingested");
    assert_eq!(second["packets"], 0);
    assert_eq!(
        env.json(&["query", "top", "--by", "source", "--limit", "100000", "--json"]),
        before
    );
    assert_eq!(env.total_packets(), truth["packets"].as_u64().unwrap());
}

#[test]
fn truncated_capture_keeps_what_was_valid_names_the_offset_and_fails() {
    let env = Env::with_fixture_netdb();
    let (pcap, truth) = env.generate(5, 10_000, 2);
    let bytes = std::fs::read(&pcap).unwrap();
    let cut = env.path("cut.pcap");
    // Cut in the middle of a record near the end.
    std::fs::write(&cut, &bytes[..bytes.len() - 30]).unwrap();
    let (out, summary) = env.ingest(&[&cut]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a truncated capture exits non-zero"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cut.pcap") && stderr.contains("byte offset"),
        "error names file and offset: {stderr}"
    );
    assert_eq!(summary["files"][0]["status"], "partial");
    let kept = summary["packets"].as_u64().unwrap();
    assert!(
        kept >= truth["packets"].as_u64().unwrap() - 1 && kept > 0,
        "kept {kept}"
    );
    assert_eq!(env.total_packets(), kept);
    // A second run over the same bytes stores nothing more and still reports the problem.
    let (out, _) = env.ingest(&[&cut]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(env.total_packets(), kept);
}

/// Data belongs to an organisation that exists: `ingest pcap` and `ingest feed` refuse an
/// unknown `--org`, naming it, before storing anything, and exit 2; once the organisation is
/// added, the same files go in. The operator's organisation (the default) needs no `org add`.
#[test]
fn ingest_refuses_an_unknown_organisation_naming_it() {
    let env = Env::with_fixture_netdb();
    let (pcap, _) = env.generate(23, 2_000, 2);
    let feed = env.path("2026-10-05-scan_dns-test.csv");
    assert_success(&env.run(&[
        "generate",
        "feed",
        "--report",
        "scan_dns",
        "--rows",
        "200",
        "--days",
        "1",
        "--start",
        "2026-10-05",
        "--out",
        feed.to_str().unwrap(),
    ]));
    let ingest = |kind: &str, file: &Path| {
        env.run(&[
            "ingest",
            kind,
            "--json",
            "--org",
            "cert-nowhere",
            file.to_str().unwrap(),
        ])
    };
    for (kind, file) in [("pcap", &pcap), ("feed", &feed)] {
        let out = ingest(kind, file);
        assert_eq!(out.status.code(), Some(2), "ingest {kind}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("unknown organisation \"cert-nowhere\"")
                && stderr.contains("org add cert-nowhere"),
            "{stderr}"
        );
    }
    let stored = env.json(&["query", "top", "--by", "country", "--json"]);
    assert_eq!(stored, Value::Array(vec![]), "nothing stored");
    assert_success(&env.run(&["org", "add", "cert-nowhere", "--name", "Somewhere"]));
    for (kind, file) in [("pcap", &pcap), ("feed", &feed)] {
        assert_success(&ingest(kind, file));
    }
    let (out, summary) = env.ingest(&[&pcap]);
    assert_success(&out);
    assert_eq!(
        summary["files"][0]["status"], "ingested",
        "the operator's own copy"
    );
}

#[test]
fn a_bad_file_does_not_stop_the_others() {
    let env = Env::with_fixture_netdb();
    let (pcap, truth) = env.generate(6, 5_000, 1);
    let junk = env.path("junk.pcap");
    std::fs::write(&junk, b"this is not a capture at all").unwrap();
    let missing = env.path("missing.pcap");
    let (out, summary) = env.ingest(&[&junk, &missing, &pcap]);
    assert_eq!(out.status.code(), Some(1));
    let statuses: Vec<&str> = summary["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "failed", "ingested"]);
    assert_eq!(summary["packets"], truth["packets"]);
}

#[test]
fn killed_ingest_leaves_a_consistent_store_that_a_rerun_completes() {
    let env = Env::with_fixture_netdb();
    let (pcap, truth) = env.generate(8, 300_000, 12);
    for delay_ms in [50, 300] {
        let mut child = env
            .command(&["ingest", "pcap", "--json", pcap.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        // Whatever moment the kill hit, the store holds all of the capture or none of it.
        let stored = env.total_packets();
        assert!(
            stored == 0 || stored == truth["packets"].as_u64().unwrap(),
            "partial write visible: {stored}"
        );
    }
    let (out, _) = env.ingest(&[&pcap]);
    assert_success(&out);
    assert_eq!(env.total_packets(), truth["packets"].as_u64().unwrap());
    let dos = env.json(&["query", "dos", "--json"]);
    assert_eq!(
        dos_as_truth(&dos),
        truth["dos_victims"].as_array().unwrap().clone()
    );
}

#[test]
fn injected_surge_stands_out_in_the_port_series() {
    let env = Env::with_fixture_netdb();
    let (pcap, truth) = env.generate(21, 200_000, 24);
    let (out, _) = env.ingest(&[&pcap]);
    assert_success(&out);
    let port = truth["surges"][0]["port"].as_u64().unwrap().to_string();
    let start = truth["surges"][0]["start"].as_str().unwrap();
    let series = env.json(&[
        "query", "series", "--port", &port, "--proto", "tcp", "--bucket", "hour", "--json",
    ]);
    let points = series.as_array().unwrap();
    let at = points
        .iter()
        .position(|p| p["bucket"] == start)
        .expect("surge hour in series");
    let before: Vec<u64> = points[..at]
        .iter()
        .map(|p| p["packets"].as_u64().unwrap())
        .collect();
    let baseline = before.iter().copied().max().unwrap_or(0);
    let surge = points[at]["packets"].as_u64().unwrap();
    assert!(
        surge >= 2 * baseline.max(1),
        "surge hour has {surge} packets, busiest hour before {baseline}"
    );
}

#[test]
fn enrichment_follows_the_netdb_and_lookup_prints_json() {
    let env = Env::with_fixture_netdb();
    let out = env.run(&[
        "netdb",
        "lookup",
        "14.0.3.4",
        "2001:200::1",
        "8.8.8.8",
        "--json",
    ]);
    assert_success(&out);
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        (lines[0]["asn"].as_u64(), lines[0]["country"].as_str()),
        (Some(4134), Some("CN"))
    );
    assert_eq!(lines[0]["as_name"], "CHINANET-BACKBONE");
    assert_eq!(
        (lines[1]["asn"].as_u64(), lines[1]["country"].as_str()),
        (Some(2500), Some("JP"))
    );
    assert!(lines[2]["asn"].is_null() && lines[2]["country"].is_null());
    // Generated sources come from the imported ranges only, so every source is enriched.
    let (pcap, _) = env.generate(4, 20_000, 2);
    let (out, _) = env.ingest(&[&pcap]);
    assert_success(&out);
    let countries = env.json(&[
        "query", "top", "--by", "country", "--class", "scan", "--json",
    ]);
    let names: Vec<&str> = countries
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["country"].as_str().unwrap_or("??"))
        .collect();
    assert!(
        names
            .iter()
            .all(|c| ["AU", "CN", "RU", "US", "KR", "JP"].contains(c)),
        "{names:?}"
    );
    // Each country comes with the name the portal and the reports show.
    for row in countries.as_array().unwrap() {
        let expected = match row["country"].as_str().unwrap() {
            "AU" => "Australia",
            "CN" => "China",
            "RU" => "Russian Federation",
            "US" => "United States",
            "KR" => "South Korea",
            "JP" => "Japan",
            other => panic!("{other}"),
        };
        assert_eq!(row["country_name"], expected);
    }
}

#[test]
fn real_captures_ingest_and_count_what_libpcap_counts() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../packet/tests/data");
    // Frame counts from `tcpdump --count -r FILE`, shared with the packet crate's tests.
    let list = std::fs::read_to_string(data.join("frames.txt")).unwrap();
    let samples = list
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_once(' ').unwrap())
        .map(|(name, count)| (name, count.parse::<u64>().unwrap()))
        // Files without an interface hold no frame; libpcap refuses them.
        .filter(|(_, count)| *count > 0);
    let env = Env::empty();
    for (name, frames) in samples {
        let (out, summary) = env.ingest(&[&data.join(name)]);
        assert_success(&out);
        assert_eq!(summary["packets"].as_u64(), Some(frames), "{name}");
        let classified = summary["by_class"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>();
        let skipped = summary["errors"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>();
        assert_eq!(
            classified + skipped,
            frames,
            "{name}: every frame is classified or counted as skipped"
        );
    }
}

#[test]
fn real_ip_data_enriches_generated_traffic_like_the_internet() {
    let Some(ip_data) = real_ip_data() else {
        return;
    };
    let env = Env::empty();
    let files: Vec<String> = [
        "asn-ipv4.csv",
        "asn-ipv6.csv",
        "geo-whois-asn-country-ipv4.csv",
        "geo-whois-asn-country-ipv6.csv",
    ]
    .iter()
    .map(|f| ip_data.join(f).to_str().unwrap().to_owned())
    .collect();
    let mut args = vec!["netdb", "import", "--as-of", "2026-06-17"];
    args.extend(files.iter().map(String::as_str));
    assert_success(&env.run(&args));
    let out = env.run(&["netdb", "lookup", "1.1.1.1", "8.8.8.8", "--json"]);
    assert_success(&out);
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["asn"], 13335);
    assert_eq!(
        (lines[1]["asn"].as_u64(), lines[1]["country"].as_str()),
        (Some(15169), Some("US"))
    );
    let (pcap, truth) = env.generate(9, 200_000, 12);
    let (out, summary) = env.ingest(&[&pcap]);
    assert_success(&out);
    assert_matches_truth(&env, &summary, &truth);
    let countries = env.json(&[
        "query", "top", "--by", "country", "--class", "scan", "--limit", "1000", "--json",
    ]);
    let rows = countries.as_array().unwrap();
    assert!(
        rows.len() >= 20,
        "sources from real address space span many countries, got {}",
        rows.len()
    );
    assert!(
        rows.iter().all(|r| r["country"].is_string()),
        "every scan source has a country"
    );
}

#[test]
fn observed_risks_count_distinct_scanning_and_mirai_sources() {
    let env = Env::with_fixture_netdb();
    let (pcap, truth) = env.generate(4, 80_000, 48);
    let (out, _) = env.ingest(&[&pcap]);
    assert_success(&out);
    assert!(truth["by_fingerprint"]["mirai"].as_u64().unwrap() > 0);
    let world = |rows: &Value| -> Value {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["country"] == "WORLD")
            .unwrap()
            .clone()
    };
    let metric = |risk: &str, period: &str, at: &str| {
        env.json(&[
            "metrics",
            "--risk",
            risk,
            "--period",
            period,
            "--at",
            at,
            "--min-hosts",
            "0",
            "--json",
        ])
    };
    // Distinct scan sources, counted independently by `query top --by source`.
    let sources = |from: &str, to: &str| {
        env.json(&[
            "query",
            "top",
            "--by",
            "source",
            "--class",
            "scan",
            "--from",
            from,
            "--to",
            to,
            "--limit",
            "100000000",
            "--json",
        ])
        .as_array()
        .unwrap()
        .len() as u64
    };
    for (day, next) in [("2026-10-05", "2026-10-06"), ("2026-10-06", "2026-10-07")] {
        let rows = metric("scanner", "day", day);
        let all = world(&rows);
        assert_eq!(all["hosts"].as_u64().unwrap(), sources(day, next), "{day}");
        let by_country: u64 = rows
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["country"] != "WORLD")
            .map(|r| r["hosts"].as_u64().unwrap())
            .sum();
        assert_eq!(by_country, all["hosts"].as_u64().unwrap());
        let mirai = world(&metric("mirai", "day", day))["hosts"]
            .as_u64()
            .unwrap();
        assert!(
            mirai > 0 && mirai < all["hosts"].as_u64().unwrap(),
            "{day}: {mirai}"
        );
    }
    // Both days are in ISO week 41: the week counts a source seen on both days once.
    let week = world(&metric("scanner", "week", "2026-W41"))["hosts"]
        .as_u64()
        .unwrap();
    assert_eq!(week, sources("2026-10-05", "2026-10-07"));
    assert!(week < sources("2026-10-05", "2026-10-06") + sources("2026-10-06", "2026-10-07"));
}

/// A sensor is its organisation's and its name: one organisation's captures never answer for
/// another's sensor of the same name, a bare name shared by two organisations is refused with
/// the choices, and a failed command exits 2 as `--help` says.
#[test]
fn query_by_sensor_matches_its_organisation_and_failures_exit_2() {
    let env = Env::with_fixture_netdb();
    let (a, _) = env.generate(21, 3_000, 2);
    let (b, _) = env.generate(22, 2_000, 2);
    for (pcap, org) in [(&a, "cert-a"), (&b, "cert-b")] {
        env.add_org(org);
        assert_success(&env.run(&[
            "ingest",
            "pcap",
            "--json",
            "--sensor",
            "tokyo-1",
            "--org",
            org,
            pcap.to_str().unwrap(),
        ]));
    }
    let packets = |sensor: &str| -> u64 {
        env.json(&[
            "query", "top", "--by", "country", "--limit", "1000", "--sensor", sensor, "--json",
        ])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["packets"].as_u64().unwrap())
        .sum()
    };
    let (in_a, in_b) = (packets("cert-a/tokyo-1"), packets("cert-b/tokyo-1"));
    assert!(in_a > 0 && in_b > 0);
    assert_eq!(in_a + in_b, env.total_packets());

    let ambiguous = env.run(&["query", "top", "--by", "port", "--sensor", "tokyo-1"]);
    assert_eq!(ambiguous.status.code(), Some(2));
    let said = String::from_utf8_lossy(&ambiguous.stderr);
    assert!(
        said.contains("several organisations have a sensor named \"tokyo-1\"")
            && said.contains("cert-a/tokyo-1, cert-b/tokyo-1"),
        "{said}"
    );
    let unknown = env.run(&["query", "top", "--by", "port", "--sensor", "osaka-9"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr)
        .contains("no capture was stored from a sensor named \"osaka-9\""));
    let help = String::from_utf8_lossy(&env.run(&["--help"]).stdout).to_string();
    assert!(help.contains("Exit status: 0"), "{help}");
}
