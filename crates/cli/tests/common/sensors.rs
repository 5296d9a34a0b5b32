//! Helpers of the sensor-network tests: a collector process (`greenwatch serve` over HTTPS),
//! registered sensors and their stored reports.

use super::{assert_success, Env};
use serde_json::Value;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

impl Env {
    /// Registers sensor `name` of organisation `org` and writes its token to a file.
    pub fn register_sensor(&self, name: &str, org: &str, tlp: &str) -> PathBuf {
        if !self.has_org(org) {
            assert_success(&self.run(&["org", "add", org, "--name", org]));
            let networks = ["org", "networks", org, "--network", "198.51.100.0/24"];
            assert_success(&self.run(&networks));
        }
        let added = self.json(&[
            "sensor",
            "add",
            name,
            "--org",
            org,
            "--block",
            "198.51.100.0/24",
            "--location",
            "Tokyo, JP",
            "--tlp",
            tlp,
            "--json",
        ]);
        let token = added["token"].as_str().unwrap();
        assert_eq!(token.len(), 64);
        let file = self.path(&format!("{name}.token"));
        std::fs::write(&file, token).unwrap();
        file
    }

    /// The stored report of sensor `name` (`sensor list --json`).
    pub fn sensor_report(&self, name: &str) -> Value {
        let list = self.json(&["sensor", "list", "--json"]);
        list["sensors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no sensor {name} in {list}"))
            .clone()
    }

    pub fn ca(&self) -> PathBuf {
        self.data().join("tls").join("ca.crt")
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_until(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `greenwatch serve` over HTTPS on a fixed port, killed when dropped.
pub struct CollectorProcess {
    child: Child,
}

impl CollectorProcess {
    pub fn start(env: &Env, port: u16) -> CollectorProcess {
        let child = env
            .command(&[
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--tls-self-signed",
                "localhost,127.0.0.1",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_until("the collector", Duration::from_secs(60), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        CollectorProcess { child }
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for CollectorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn finished(child: Child, timeout: Duration) -> Output {
    let start = Instant::now();
    let mut child = child;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "sensor did not finish in {timeout:?}; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
