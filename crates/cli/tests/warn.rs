//! End to end: `greenwatch serve` watches the stored traffic by itself and pushes what it finds
//! to the stored subscriptions, signed, with no `detect` or `alert deliver` run; and a
//! subscription never receives an alert its organisation may not see.

mod common;

use common::sensors::{free_port, wait_until};
use common::{assert_success, Env};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The signature header and body of each POST received.
type Posts = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A webhook receiver on loopback: keeps every POST's signature header and JSON body.
struct Receiver {
    url: String,
    received: Posts,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let received: Posts = Arc::default();
        let keep = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let (mut length, mut signature) = (0, String::new());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let (name, value) = line.split_once(':').unwrap_or((&line, ""));
                    match name.to_ascii_lowercase().as_str() {
                        "content-length" => length = value.trim().parse().unwrap(),
                        "x-greenwatch-signature" => signature = value.trim().to_string(),
                        _ => {}
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                keep.lock().unwrap().push((signature, body));
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Receiver { url, received }
    }

    /// The alerts received, each checked against its signature under `secret`.
    fn alerts(&self, secret: &str) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|(signature, body)| {
                assert_eq!(
                    signature,
                    &greenwatch_alert::signature(secret.as_bytes(), body),
                    "signed with the subscription's secret"
                );
                serde_json::from_slice(body).unwrap()
            })
            .collect()
    }
}

fn subscribe(env: &Env, org: &str, receiver: &Receiver, secret: &str) {
    let out = env
        .command(&[
            "alert",
            "subscribe",
            "--org",
            org,
            "--webhook",
            &receiver.url,
            "--secret-env",
            "HOOK_SECRET",
            // The test's receiver listens on loopback.
            "--webhooks-to-internal",
        ])
        .env("HOOK_SECRET", secret)
        .output()
        .unwrap();
    assert_success(&out);
}

fn secs(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .timestamp()
}

#[test]
fn serve_raises_the_surge_alert_and_delivers_it_signed_only_where_it_may_be_seen() {
    let env = Env::with_fixture_netdb();
    let (pcap, truth) = env.generate(5, 2_000_000, 12 * 24);
    // cert-a's AMBER capture: the detector's alerts on it are cert-a's (each organisation is
    // alerted on its own data, docs/detection.md).
    for org in ["cert-a", "cert-b"] {
        assert_success(&env.run(&["org", "add", org, "--name", org]));
    }
    assert_success(&env.run(&[
        "ingest",
        "pcap",
        "--json",
        "--sensor",
        "test-sensor",
        "--org",
        "cert-a",
        pcap.to_str().unwrap(),
    ]));
    let (outsider, owner) = (Receiver::start(), Receiver::start());
    subscribe(&env, "cert-b", &outsider, "secret-of-b");
    subscribe(&env, "cert-a", &owner, "secret-of-a");
    let listed = env.json(&["alert", "subscriptions", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(!listed.to_string().contains("secret-of"), "{listed}");
    let public = env.run(&[
        "alert",
        "add",
        "--title",
        "Public notice",
        "--summary",
        "For everyone",
        "--author",
        "ana",
        "--org",
        "cert-a",
        "--tlp",
        "clear",
    ]);
    assert_success(&public);
    let before = env.json(&["alert", "list", "--json"]);
    assert_eq!(before.as_array().unwrap().len(), 1, "no detector alert yet");

    let log = std::fs::File::create(env.path("serve.log")).unwrap();
    let mut serve = env
        .command(&[
            "serve",
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--alert-org",
            "cert-a",
            "--alert-tlp",
            "amber",
            // The receivers listen on loopback.
            "--webhooks-to-internal",
        ])
        .env("GREENWATCH_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let big_surges: Vec<&Value> = truth["surges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["factor"].as_f64().unwrap() >= 3.0)
        .collect();
    assert!(!big_surges.is_empty());
    let is_surge_alert = |a: &Value| {
        a["author"] == "detector"
            && big_surges.iter().any(|s| {
                a["affected"].as_array().unwrap().iter().any(|series| {
                    series
                        .as_str()
                        .unwrap()
                        .starts_with(&format!("port {}/", s["port"]))
                }) && (secs(&a["first_seen"]) - secs(&s["start"])).abs() <= 3600
            })
    };
    let waited = std::panic::catch_unwind(|| {
        wait_until(
            "a surge alert at the owner's receiver",
            Duration::from_secs(600),
            || owner.alerts("secret-of-a").iter().any(is_surge_alert),
        )
    });
    // Deliveries run per subscription at once: wait for cert-b's share too.
    let outsider_served = std::panic::catch_unwind(|| {
        wait_until(
            "the public notice at cert-b's receiver",
            Duration::from_secs(120),
            || {
                outsider
                    .alerts("secret-of-b")
                    .iter()
                    .any(|a| a["title"] == "Public notice")
            },
        )
    });
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(outsider_served.is_ok(), "cert-b got nothing");
    let log = std::fs::read_to_string(env.path("serve.log")).unwrap();
    if let Some(line) = log.lines().find(|l| l.contains("detection pass")) {
        eprintln!("{line}");
    }
    assert!(waited.is_ok(), "serve's log:\n{log}");

    let delivered = owner.alerts("secret-of-a");
    assert!(delivered.iter().any(|a| a["title"] == "Public notice"));
    assert!(delivered
        .iter()
        .filter(|a| a["author"] == "detector")
        .all(|a| a["label"]["owner"] == "cert-a" && a["label"]["tlp"] == "AMBER"));
    let outsider_got = outsider.alerts("secret-of-b");
    let titles: Vec<&str> = outsider_got
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["Public notice"],
        "cert-b sees the CLEAR alert only"
    );
    let stored = env.json(&["alert", "list", "--json"]);
    assert!(stored.as_array().unwrap().iter().any(is_surge_alert));
    assert!(!log.contains("secret-of"), "no secret in serve's log");
}

/// The CLI makes subscriptions through the portal's check: a webhook to an internal address is
/// refused (unless the operator says `--webhooks-to-internal`), and so is a bad address.
#[test]
fn the_cli_refuses_internal_webhooks_and_bad_addresses_as_the_portal_does() {
    let env = Env::with_fixture_netdb();
    assert_success(&env.run(&["org", "add", "cert-a", "--name", "CERT A"]));
    let subscribe = |extra: &[&str]| {
        let mut args = vec!["alert", "subscribe", "--org", "cert-a"];
        args.extend_from_slice(extra);
        env.command(&args).env("HOOK_SECRET", "s").output().unwrap()
    };
    let hook = [
        "--webhook",
        "http://169.254.169.254/latest",
        "--secret-env",
        "HOOK_SECRET",
    ];
    let out = subscribe(&hook);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("internal address"), "{err}");
    let out = subscribe(&["--email", "not an address"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an e-mail address"));
    let listed = env.json(&["alert", "subscriptions", "--json"]);
    assert_eq!(listed, serde_json::json!([]), "nothing refused was stored");

    let mut allowed = hook.to_vec();
    allowed.push("--webhooks-to-internal");
    assert_success(&subscribe(&allowed));
    assert_eq!(
        env.json(&["alert", "subscriptions", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
