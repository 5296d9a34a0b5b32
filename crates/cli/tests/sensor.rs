//! End-to-end tests of the sensor network: `greenwatch serve` (the collector, over HTTPS)
//! and `greenwatch sensor run` as separate processes on loopback, with a TCP relay the test
//! can cut, compared with the generator's ground truth.

mod common;

use common::sensors::{finished, free_port, wait_until, CollectorProcess};
use common::{assert_success, Env};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A TCP relay between the sensor and the collector whose link the test can cut: cutting
/// resets every open connection and refuses new ones until restored.
struct Relay {
    port: u16,
    cut: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn start(upstream: u16) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (cut_flag, open_list) = (Arc::clone(&cut), Arc::clone(&open));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if cut_flag.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let mut list = open_list.lock().unwrap();
                list.push(client.try_clone().unwrap());
                list.push(server.try_clone().unwrap());
                drop(list);
                pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                pipe(server, client);
            }
        });
        Relay { port, cut, open }
    }

    fn set_cut(&self, cut: bool) {
        self.cut.store(cut, Ordering::SeqCst);
        if cut {
            for stream in self.open.lock().unwrap().drain(..) {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 || to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

/// `greenwatch sensor run` replaying `pcap` into `spool`.
fn sensor_command(env: &Env, url: &str, token: &Path, source: &[&str], spool: &Path) -> Command {
    let mut args = vec![
        "sensor",
        "run",
        "--collector",
        url,
        "--token-file",
        token.to_str().unwrap(),
        "--ca",
    ];
    let ca = env.ca();
    args.push(ca.to_str().unwrap());
    args.extend_from_slice(source);
    args.extend_from_slice(&[
        "--spool",
        spool.to_str().unwrap(),
        "--batch-packets",
        "4000",
        "--batch-secs",
        "1",
        "--retry-max-secs",
        "0.5",
        "--health-secs",
        "1",
        "--json",
    ]);
    let mut cmd = env.command(&args);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

/// The collector's totals of `sensor` and its flows and DoS attacks equal the truth.
fn assert_collector_holds_the_truth(env: &Env, sensor: &str, truth: &Value) {
    let report = env.sensor_report(sensor);
    for key in ["packets", "ipv6_packets", "by_class", "by_fingerprint"] {
        assert_eq!(
            report["stored"][key], truth[key],
            "stored {key} differs from the truth"
        );
    }
    let rows = env.json(&[
        "query", "top", "--by", "country", "--limit", "1000", "--json",
    ]);
    let in_flows: u64 = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["packets"].as_u64().unwrap())
        .sum();
    assert_eq!(
        in_flows,
        truth["packets"].as_u64().unwrap(),
        "flow tuples hold every packet once"
    );
    let dos = env.json(&["query", "dos", "--json"]);
    let measured: Vec<Value> = dos
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            serde_json::json!({"ip": a["victim"], "protocol": a["protocol"], "first": a["first"],
                "last": a["last"], "packets": a["packets"]})
        })
        .collect();
    assert_eq!(
        measured,
        truth["dos_victims"].as_array().unwrap().clone(),
        "DoS victims differ"
    );
}

#[test]
fn collector_totals_equal_the_capture_truth_through_collector_kills_link_cuts_and_a_sensor_restart()
{
    let env = Env::with_fixture_netdb();
    let (pcap, truth) = env.generate(11, 120_000, 2);
    let token = env.register_sensor("tokyo-1", "cert-jp", "green");
    let port = free_port();
    let mut collector = CollectorProcess::start(&env, port);
    let relay = Relay::start(port);
    let spool = env.path("spool");
    // Two hours of capture in about eight seconds.
    let source = ["--pcap", pcap.to_str().unwrap(), "--replay-speed", "900"];
    let first = sensor_command(&env, &relay.url(), &token, &source, &spool)
        .spawn()
        .unwrap();

    std::thread::sleep(Duration::from_millis(1500));
    collector.kill();
    std::thread::sleep(Duration::from_millis(1000));
    collector = CollectorProcess::start(&env, port);
    std::thread::sleep(Duration::from_millis(1000));
    relay.set_cut(true);
    std::thread::sleep(Duration::from_millis(1000));
    // The sensor dies too, with batches spooled and the link still cut.
    let mut first = first;
    first.kill().unwrap();
    let first_out = first.wait_with_output().unwrap();
    let second = sensor_command(&env, &relay.url(), &token, &source, &spool)
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    relay.set_cut(false);
    let out = finished(second, Duration::from_secs(180));
    assert_success(&out);
    let stderr = String::from_utf8_lossy(&first_out.stderr).to_string()
        + &String::from_utf8_lossy(&out.stderr);
    eprintln!("sensor logs:\n{stderr}");
    assert!(
        stderr.contains("collector unreachable"),
        "the faults were felt:\n{stderr}"
    );
    assert!(
        stderr.contains("resuming"),
        "the second run resumed from the spool:\n{stderr}"
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["health"]["batches_pending"], 0);
    assert_eq!(summary["health"]["dropped_batches"], 0);
    assert!(
        summary["records"].as_u64().unwrap() < 120_000,
        "the second run skipped what the first spooled"
    );

    assert_collector_holds_the_truth(&env, "tokyo-1", &truth);
    let report = env.sensor_report("tokyo-1");
    assert!(report["last_seen"].is_string());
    assert!(report["health"]["packets_seen"].as_u64().unwrap() > 0);
    assert!(report["health"]["clock_offset_ms"].as_i64().unwrap().abs() < 5_000);
    drop(collector);
}

/// Sends `body` to the collector at `url` with `token`; returns (status, problem detail).
fn post_batch(env: &Env, url: &str, token: &str, body: &[u8]) -> Result<String, String> {
    let collector = greenwatch_sensor::ship::Collector::new(url, token, Some(&env.ca())).unwrap();
    collector
        .send(body, &Default::default())
        .map(|(ack, _)| ack.status)
        .map_err(|e| e.to_string())
}

#[test]
fn bad_tokens_revoked_tokens_malformed_and_oversized_batches_are_refused_counted_and_change_nothing(
) {
    let env = Env::with_fixture_netdb();
    let (pcap, truth) = env.generate(12, 20_000, 1);
    let token_file = env.register_sensor("osaka-1", "cert-jp", "amber");
    let port = free_port();
    let _collector = CollectorProcess::start(&env, port);
    let url = format!("https://127.0.0.1:{port}");
    let spool = env.path("spool");
    let source = ["--pcap", pcap.to_str().unwrap()];
    let out = finished(
        sensor_command(&env, &url, &token_file, &source, &spool)
            .spawn()
            .unwrap(),
        Duration::from_secs(120),
    );
    assert_success(&out);
    assert_collector_holds_the_truth(&env, "osaka-1", &truth);
    let before = env.sensor_report("osaka-1");

    let token = std::fs::read_to_string(&token_file).unwrap();
    let refused = |token: &str, body: &[u8]| post_batch(&env, &url, token, body).unwrap_err();
    assert!(refused(&"0".repeat(64), b"GWB1").contains("Unknown sensor token"));
    let malformed = refused(&token, b"GWB1\x05\x00\x00\x00{not");
    assert!(
        malformed.contains("malformed batch at byte 8: cut short"),
        "{malformed}"
    );
    let oversized = refused(&token, &vec![0u8; greenwatch_sensor::MAX_BATCH_BYTES + 1]);
    assert!(oversized.contains("413"), "{oversized}");
    assert_success(&env.run(&["sensor", "revoke", "cert-jp/osaka-1"]));
    assert!(refused(&token, b"GWB1").contains("was revoked"));

    let after = env.sensor_report("osaka-1");
    assert_eq!(
        after["stored"], before["stored"],
        "refusals changed nothing stored"
    );
    assert_eq!(after["batches_stored"], before["batches_stored"]);
    assert_collector_holds_the_truth(&env, "osaka-1", &truth);
    let counts: Vec<(String, u64)> = after["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["reason"].as_str().unwrap().to_string(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("malformed".to_string(), 1),
            ("oversized".into(), 1),
            ("revoked_token".into(), 1)
        ]
    );
    let list = env.json(&["sensor", "list", "--json"]);
    assert_eq!(list["unattributed_rejections"][0]["reason"], "bad_token");
    assert_eq!(list["unattributed_rejections"][0]["count"], 1);
}

#[test]
fn a_second_sensor_on_a_spool_in_use_is_refused_naming_the_spool_and_its_holder() {
    let env = Env::with_fixture_netdb();
    let (pcap, _) = env.generate(12, 2_000, 1);
    let token = env.register_sensor("tokyo-1", "cert-jp", "green");
    let port = free_port();
    let _collector = CollectorProcess::start(&env, port);
    let url = format!("https://127.0.0.1:{port}");
    let spool = env.path("spool");
    // At the capture's own pace the replay takes an hour: the first sensor holds the spool
    // for the whole test.
    let source = ["--pcap", pcap.to_str().unwrap(), "--replay-speed", "1"];
    let mut first = sensor_command(&env, &url, &token, &source, &spool)
        .spawn()
        .unwrap();
    let holder = format!("pid {}", first.id());
    wait_until(
        "the first sensor holds the spool",
        Duration::from_secs(60),
        || std::fs::read_to_string(spool.join("lock")).is_ok_and(|s| s == holder),
    );

    let second = sensor_command(&env, &url, &token, &source, &spool)
        .output()
        .unwrap();
    first.kill().unwrap();
    first.wait().unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "the second sensor ran:\n{stderr}");
    assert!(
        stderr.contains(&format!("spool {}", spool.display()))
            && stderr.contains("in use by another sensor")
            && stderr.contains(&holder),
        "{stderr}"
    );
}

/// One hour of scans from three sources into the sensor's block, as a sensor would batch them.
fn one_batch(stream: &str, seq: u64) -> greenwatch_sensor::Batch {
    use greenwatch_model::{BucketWidth, Enrichment, Timestamp, TrafficClass, Transport};
    let mut aggregator =
        greenwatch_observe::Aggregator::new(BucketWidth::HOUR, |_, _| Enrichment {
            asn: 64500,
            country: "NL".parse().unwrap(),
        });
    for i in 0..30u16 {
        aggregator.add(&greenwatch_packet::Packet {
            ts: Timestamp::from_secs(1_791_158_400 + i64::from(i) * 60),
            src: format!("192.0.2.{}", i % 3).parse().unwrap(),
            dst: format!("198.51.100.{}", i % 200).parse().unwrap(),
            transport: Transport::TCP,
            src_port: 40_000,
            dst_port: 23,
            wire_len: 60,
            ttl: 50,
            ip_id: i,
            tcp_flags: 0x02,
            tcp_window: 1024,
            tcp_seq: 7,
            class: TrafficClass::Scan,
            fingerprint: None,
            spoof_reason: None,
        });
    }
    greenwatch_sensor::Batch::from_observations(stream, seq, BucketWidth::HOUR, aggregator.finish())
}

/// Two `serve` processes on one data directory (two collectors behind one name, as a load
/// balancer spreads a sensor's retries): the same batch sent to both, at once and again, is
/// stored once; every other copy is answered "duplicate".
#[test]
fn two_serve_processes_on_one_data_directory_store_a_retried_batch_once() {
    let env = Env::with_fixture_netdb();
    let token_file = env.register_sensor("tokyo-1", "cert-jp", "green");
    let token = std::fs::read_to_string(&token_file).unwrap();
    let first_port = free_port();
    let _first = CollectorProcess::start(&env, first_port);
    let second_port = free_port();
    let _second = CollectorProcess::start(&env, second_port);
    let urls = [first_port, second_port].map(|port| format!("https://127.0.0.1:{port}"));

    let batch = one_batch("5f0e0d1c2b3a49586776859403a2b1c0", 7);
    let body = batch.encode();
    let answers: Vec<String> = std::thread::scope(|s| {
        let senders: Vec<_> = (0..8)
            .map(|i| {
                let (env, url, token, body) = (&env, &urls[i % 2], &token, &body);
                s.spawn(move || post_batch(env, url, token.trim(), body).unwrap())
            })
            .collect();
        senders.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(
        answers.iter().filter(|a| *a == "stored").count(),
        1,
        "{answers:?}"
    );
    assert!(
        answers.iter().all(|a| a == "stored" || a == "duplicate"),
        "{answers:?}"
    );
    // A retry long after, to either process, changes nothing.
    for url in &urls {
        assert_eq!(
            post_batch(&env, url, token.trim(), &body).unwrap(),
            "duplicate"
        );
    }
    let report = env.sensor_report("tokyo-1");
    assert_eq!(report["batches_stored"], 1, "{report}");
    assert_eq!(report["stored"]["packets"], 30, "{report}");
    // The next batch of the stream is new, whichever process takes it.
    let next = one_batch("5f0e0d1c2b3a49586776859403a2b1c0", 8).encode();
    assert_eq!(
        post_batch(&env, &urls[1], token.trim(), &next).unwrap(),
        "stored"
    );
    assert_eq!(env.sensor_report("tokyo-1")["batches_stored"], 2);
}
