//! Live capture end to end: a veth pair whose one end lives in a network namespace made by
//! the test; frames of a generated capture are injected there, and `greenwatch sensor run
//! --interface` on the other end must see, aggregate and ship exactly them.
//!
//! Needs root (or CAP_NET_ADMIN + CAP_NET_RAW), iproute2 and python3; without them the test
//! says so and passes without checking anything.

mod common;

use common::sensors::{finished, free_port, CollectorProcess};
use common::{assert_success, Env};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A network namespace holding one end of a veth pair; both go away when dropped.
struct VethPair {
    namespace: String,
    /// The end in the namespace, where frames are injected.
    inside: String,
    /// The end in our namespace, where the sensor captures.
    outside: String,
}

impl VethPair {
    fn create() -> Option<VethPair> {
        let id = std::process::id() % 1_000_000;
        let pair = VethPair {
            namespace: format!("gw-sensor-test-{id}"),
            inside: format!("gwin{id}"),
            outside: format!("gwout{id}"),
        };
        if !ip(&["netns", "add", &pair.namespace]) {
            return None;
        }
        let ok = ip(&["link", "add", &pair.outside, "type", "veth", "peer", "name", &pair.inside])
            && ip(&["link", "set", &pair.inside, "netns", &pair.namespace])
            // No IPv6 on either end: the kernel's own router solicitations would be counted.
            && sysctl(None, &pair.outside)
            && sysctl(Some(&pair.namespace), &pair.inside)
            && ip(&["link", "set", &pair.outside, "up"])
            && ip(&["-n", &pair.namespace, "link", "set", &pair.inside, "up"]);
        assert!(
            ok,
            "could not set up the veth pair in namespace {}",
            pair.namespace
        );
        Some(pair)
    }
}

fn sysctl(namespace: Option<&str>, interface: &str) -> bool {
    let setting = format!("net.ipv6.conf.{interface}.disable_ipv6=1");
    let mut cmd = match namespace {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, "sysctl", "-q", "-w", &setting]);
            c
        }
        None => {
            let mut c = Command::new("sysctl");
            c.args(["-q", "-w", &setting]);
            c
        }
    };
    cmd.status().is_ok_and(|s| s.success())
}

impl Drop for VethPair {
    fn drop(&mut self) {
        ip(&["link", "del", &self.outside]);
        ip(&["netns", "del", &self.namespace]);
    }
}

#[test]
fn frames_injected_on_a_veth_pair_in_a_namespace_are_captured_aggregated_and_shipped() {
    let Some(veth) = VethPair::create() else {
        eprintln!("skipped: cannot create network namespaces here (needs root and iproute2)");
        return;
    };
    let env = Env::with_fixture_netdb();
    let (pcap, truth) = env.generate(21, 6000, 1);
    let token = env.register_sensor("veth-1", "cert-jp", "amber");
    let port = free_port();
    let collector = CollectorProcess::start(&env, port);
    let ca = env.ca();
    let mut sensor = env
        .command(&[
            "sensor",
            "run",
            "--collector",
            &format!("https://127.0.0.1:{port}"),
            "--token-file",
            token.to_str().unwrap(),
            "--ca",
            ca.to_str().unwrap(),
            "--interface",
            &veth.outside,
            "--spool",
            env.path("spool").to_str().unwrap(),
            "--batch-secs",
            "1",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the capture to be open before injecting.
    let (lines_tx, lines) = mpsc::channel();
    let stderr = sensor.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut log = Vec::new();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("sensor starts capturing");
        let capturing = line.contains("capturing on");
        log.push(line);
        if capturing {
            break;
        }
    }
    let injector = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/inject.py");
    let injected = Command::new("ip")
        .args([
            "netns",
            "exec",
            &veth.namespace,
            "python3",
            injector,
            pcap.to_str().unwrap(),
            &veth.inside,
        ])
        .output()
        .unwrap();
    assert_success(&injected);
    assert_eq!(
        String::from_utf8_lossy(&injected.stdout).trim(),
        truth["packets"].to_string()
    );
    // Two batch intervals for the last frames to be cut and shipped, then a clean stop.
    std::thread::sleep(Duration::from_secs(3));
    assert!(Command::new("kill")
        .args(["-TERM", &sensor.id().to_string()])
        .status()
        .unwrap()
        .success());
    let out = finished(sensor, Duration::from_secs(60));
    log.extend(lines.try_iter());
    assert_success(&out);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        summary["health"]["kernel_drops"],
        0,
        "log:\n{}",
        log.join("\n")
    );
    assert_eq!(summary["health"]["batches_pending"], 0);

    let stored = &env.sensor_report("veth-1")["stored"];
    for key in ["packets", "ipv6_packets", "by_class", "by_fingerprint"] {
        assert_eq!(
            stored[key], truth[key],
            "live {key} differs from what was injected"
        );
    }
    assert_eq!(
        stored["errors"],
        serde_json::json!({}),
        "nothing but the injected frames"
    );
    collector.kill();
}
