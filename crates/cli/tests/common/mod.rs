//! Helpers shared by the end-to-end tests: a data directory, running the binary, reading JSON.
#![allow(dead_code)] // each test binary uses its own subset

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod sensors;
pub mod serve;

pub struct Env {
    pub dir: tempfile::TempDir,
    /// `--store` for every command: none (the data directory's SQLite) unless the run asks for
    /// another backend (`Env::empty`).
    pub store: Option<String>,
}

impl Env {
    /// An empty data directory whose store is the backend this run tests: the embedded SQLite
    /// one, or, with `GREENWATCH_E2E_STORE=postgres`, a fresh schema of the PostgreSQL server
    /// at `GREENWATCH_TEST_POSTGRES` (scripts/test.sh runs the truth checks both ways).
    pub fn empty() -> Env {
        let store = match std::env::var("GREENWATCH_E2E_STORE").as_deref() {
            Ok("postgres") => Some(fresh_postgres_schema()),
            Ok(other) if !other.is_empty() => {
                panic!("GREENWATCH_E2E_STORE={other}: expected postgres")
            }
            _ => None,
        };
        Env {
            dir: tempfile::tempdir().unwrap(),
            store,
        }
    }

    /// A data directory with a small IP table (IPv4 and IPv6, real-looking ranges) imported.
    pub fn with_fixture_netdb() -> Env {
        let env = Env::empty();
        env.import_fixture_netdb();
        env
    }

    /// Imports the small IP table of [`Env::with_fixture_netdb`].
    pub fn import_fixture_netdb(&self) {
        let env = self;
        let asn = env.path("asn.csv");
        std::fs::write(
            &asn,
            "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n\
             14.0.0.0,14.0.255.255,4134,CHINANET-BACKBONE\n\
             31.0.0.0,31.3.255.255,12389,Rostelecom\n\
             45.0.0.0,45.7.255.255,7922,Comcast Cable Communications\n\
             61.0.0.0,61.3.255.255,4766,Korea Telecom\n\
             2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,2500,WIDE Project\n",
        )
        .unwrap();
        let cc = env.path("cc.csv");
        std::fs::write(
            &cc,
            "1.0.0.0,1.0.0.255,AU\n14.0.0.0,14.0.255.255,CN\n31.0.0.0,31.3.255.255,RU\n\
             45.0.0.0,45.7.255.255,US\n61.0.0.0,61.3.255.255,KR\n\
             2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n",
        )
        .unwrap();
        let out = env.run(&[
            "netdb",
            "import",
            asn.to_str().unwrap(),
            cc.to_str().unwrap(),
            "--as-of",
            "2026-01-01",
        ]);
        assert_success(&out);
    }

    /// Generates a capture; returns (pcap path, truth).
    pub fn generate(&self, seed: u64, packets: u64, hours: u32) -> (PathBuf, Value) {
        let pcap = self.path(&format!("seed{seed}-{packets}.pcap"));
        let truth = self.path(&format!("seed{seed}-{packets}.truth.json"));
        let out = self.run(&[
            "generate",
            "traffic",
            "--out",
            pcap.to_str().unwrap(),
            "--truth",
            truth.to_str().unwrap(),
            "--seed",
            &seed.to_string(),
            "--packets",
            &packets.to_string(),
            "--hours",
            &hours.to_string(),
            "--start",
            "2026-10-05T00:00:00Z",
        ]);
        assert_success(&out);
        (
            pcap,
            serde_json::from_slice(&std::fs::read(&truth).unwrap()).unwrap(),
        )
    }

    pub fn ingest(&self, files: &[&Path]) -> (Output, Value) {
        let mut args = vec!["ingest", "pcap", "--json", "--sensor", "test-sensor"];
        args.extend(files.iter().map(|p| p.to_str().unwrap()));
        let out = self.run(&args);
        let summary = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "ingest printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out, summary)
    }

    /// Packets stored in all, as `query top --by country` counts them.
    pub fn total_packets(&self) -> u64 {
        let rows = self.json(&[
            "query", "top", "--by", "country", "--limit", "1000", "--json",
        ]);
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| r["packets"].as_u64().unwrap())
            .sum()
    }

    /// Adds organisation `slug` (named after itself) unless it exists: data is ingested only
    /// for an organisation that exists.
    pub fn add_org(&self, slug: &str) {
        if !self.has_org(slug) {
            assert_success(&self.run(&["org", "add", slug, "--name", slug]));
        }
    }

    /// Whether organisation `slug` exists (`org list` refuses a data directory without a
    /// store: there is none then).
    pub fn has_org(&self, slug: &str) -> bool {
        let list = self.run(&["org", "list", "--json"]);
        list.status.success()
            && serde_json::from_slice::<Value>(&list.stdout)
                .unwrap()
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["slug"] == slug)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn data(&self) -> PathBuf {
        self.path("data")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_greenwatch"));
        cmd.arg("--data").arg(self.data());
        if let Some(store) = &self.store {
            cmd.arg("--store").arg(store);
        }
        cmd.args(args)
            .env_remove("GREENWATCH_DATA")
            .env_remove("GREENWATCH_STORE");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("greenwatch runs")
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert_success(&out);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }
}

/// The real IP data when the test script provides it, else a small table of the same format.
pub fn ip_data(env: &Env) -> PathBuf {
    if let Some(dir) = real_ip_data() {
        return dir;
    }
    let dir = env.path("ip-data");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("asn-ipv4.csv"),
        "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n\
         14.0.0.0,14.0.255.255,4134,CHINANET-BACKBONE\n\
         31.0.0.0,31.3.255.255,12389,Rostelecom\n\
         45.0.0.0,45.7.255.255,7922,Comcast Cable Communications\n\
         61.0.0.0,61.3.255.255,4766,Korea Telecom\n\
         177.0.0.0,177.3.255.255,28573,Claro\n\
         2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,2500,WIDE Project\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("geo-whois-asn-country-ipv4.csv"),
        "1.0.0.0,1.0.0.255,AU\n14.0.0.0,14.0.255.255,CN\n31.0.0.0,31.3.255.255,RU\n\
         45.0.0.0,45.7.255.255,US\n61.0.0.0,61.3.255.255,KR\n177.0.0.0,177.3.255.255,BR\n\
         2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n",
    )
    .unwrap();
    dir
}

impl Env {
    /// A small demo deployment (organisations, users, sensors with traffic, every risk's feed,
    /// alerts, subscriptions) built in this data directory.
    pub fn small_demo(&self, ip_data: &Path) -> Output {
        self.run(&[
            "demo",
            "--ip-data",
            ip_data.to_str().unwrap(),
            "--packets",
            "20000",
            "--hours",
            "48",
            "--feed-rows",
            "500",
            "--no-serve",
        ])
    }
}

/// A schema of its own in the test PostgreSQL server, as a `--store` URL.
pub fn fresh_postgres_schema() -> String {
    let base = std::env::var("GREENWATCH_TEST_POSTGRES").expect(
        "GREENWATCH_E2E_STORE=postgres needs GREENWATCH_TEST_POSTGRES (scripts/test.sh sets both)",
    );
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let schema = format!(
        "e2e{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut client = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "command failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Real IP data (the npm ip-location-db packages); `scripts/test.sh` fetches them and sets
/// GREENWATCH_NETDB_SAMPLE_DIR.
pub fn real_ip_data() -> Option<PathBuf> {
    match std::env::var_os("GREENWATCH_NETDB_SAMPLE_DIR") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            eprintln!("GREENWATCH_NETDB_SAMPLE_DIR unset: run through scripts/test.sh to include the real-data test");
            None
        }
    }
}
