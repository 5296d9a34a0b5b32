//! Several `serve` processes on one store answer alike: a page one process has cached shows
//! what another process (or the CLI) stored as soon as it is stored, because every process
//! keys its cache by the store's data generation, not by anything of its own. Runs on the
//! embedded store and, in scripts/test.sh's second pass, on PostgreSQL.

mod common;

use common::sensors::free_port;
use common::serve::{http_get, ServeProcess};
use common::{assert_success, Env};
use serde_json::Value;

const OVERVIEW: &str = "/api/v1/overview?from=2026-10-01&to=2026-11-01";

fn public_packets(port: u16) -> u64 {
    let (status, body) = http_get(port, OVERVIEW);
    assert_eq!(status, 200, "{body}");
    let overview: Value = serde_json::from_str(&body).unwrap();
    overview["totals"]["packets"].as_u64().unwrap()
}

fn ingest_clear(env: &Env, pcap: &std::path::Path) {
    assert_success(&env.run(&[
        "ingest",
        "pcap",
        "--org",
        "cert-a",
        "--sensor",
        "tokyo-1",
        "--tlp",
        "clear",
        pcap.to_str().unwrap(),
    ]));
}

#[test]
fn two_serve_processes_on_one_store_show_new_data_at_once_whoever_stored_it() {
    let env = Env::with_fixture_netdb();
    env.add_org("cert-a");
    let (first, first_truth) = env.generate(41, 30_000, 6);
    ingest_clear(&env, &first);
    let (a, b) = (free_port(), free_port());
    let _a = ServeProcess::start(&env, a);
    let _b = ServeProcess::start(&env, b);
    let before = first_truth["packets"].as_u64().unwrap();
    // Both answer the same, and B now holds the answer in its cache.
    assert_eq!(public_packets(a), before);
    assert_eq!(public_packets(b), before);

    let (second, second_truth) = env.generate(42, 20_000, 6);
    ingest_clear(&env, &second);
    let after = before + second_truth["packets"].as_u64().unwrap();
    assert_eq!(public_packets(b), after, "B's cached page is not stale");
    assert_eq!(public_packets(a), after);
}
