//! The PostgreSQL server dies in the middle of an ingest: the ingest fails naming the store,
//! nothing half-written is visible once the server is back, and ingesting again gives totals
//! equal to the capture's ground truth. The test runs a PostgreSQL server of its own
//! (scripts/services.sh on a free port) so that it may kill it.

mod common;

use common::sensors::{free_port, wait_until};
use common::{assert_success, Env};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn services_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/services.sh")
}

/// A PostgreSQL server of this test's own, stopped (and its files removed) when dropped.
struct OwnServer {
    dir: tempfile::TempDir,
    port: u16,
}

impl OwnServer {
    fn start() -> (OwnServer, String) {
        // Directly under /tmp: as root the server runs as `postgres`, which must reach it.
        let server = OwnServer {
            dir: tempfile::Builder::new()
                .prefix("gw-pg-faults")
                .tempdir_in("/tmp")
                .unwrap(),
            port: free_port(),
        };
        let url = server.services("start");
        (server, url)
    }

    fn services(&self, action: &str) -> String {
        let out = Command::new("bash")
            .arg(services_script())
            .args([
                action,
                self.dir.path().to_str().unwrap(),
                "--clickhouse-shards",
                "0",
            ])
            .env("GREENWATCH_PG_PORT", self.port.to_string())
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(out.status.success(), "services.sh {action} failed");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.services("stop");
    }
}

#[test]
fn postgres_killed_during_an_ingest_loses_nothing_and_shows_nothing_half_written() {
    if std::env::var_os("GREENWATCH_TEST_POSTGRES").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the PostgreSQL fault test (scripts/test.sh installs PostgreSQL)"
        );
        eprintln!("skipped: no PostgreSQL here (scripts/test.sh installs and starts one)");
        return;
    }
    let (server, url) = OwnServer::start();
    let env = Env {
        dir: tempfile::tempdir().unwrap(),
        store: Some(url),
    };
    env.import_fixture_netdb();
    let (pcap, truth) = env.generate(31, 1_500_000, 24);
    let packets = truth["packets"].as_u64().unwrap();
    // Something stored before: it must survive the crash.
    let (small, small_truth) = env.generate(32, 20_000, 2);
    assert_success(&env.ingest(&[&small]).0);
    let before = small_truth["packets"].as_u64().unwrap();
    assert_eq!(env.total_packets(), before);

    let ingest = env
        .command(&[
            "ingest",
            "pcap",
            "--json",
            "--sensor",
            "test-sensor",
            pcap.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    server.services("stop");
    let out = ingest.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the ingest cannot succeed without its store"
    );
    assert!(
        stderr.contains("PostgreSQL") || stderr.contains("store"),
        "the failure names the store: {stderr}"
    );
    // The server is down: a command says so, naming it (without a password), and stores nothing.
    let down = env.run(&["query", "top", "--by", "port", "--json"]);
    assert!(!down.status.success());
    assert!(
        String::from_utf8_lossy(&down.stderr).contains(&format!("127.0.0.1:{}", server.port)),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );

    server.services("start");
    wait_until("PostgreSQL back", Duration::from_secs(30), || {
        env.run(&["org", "list", "--json"]).status.success()
    });
    // All of the killed capture or none of it; what was stored before, whole.
    let after_crash = env.total_packets();
    assert!(
        after_crash == before || after_crash == before + packets,
        "half a capture visible: {after_crash} (before {before}, capture {packets})"
    );
    let (out, _) = env.ingest(&[&pcap]);
    assert_success(&out);
    assert_eq!(env.total_packets(), before + packets);
}
