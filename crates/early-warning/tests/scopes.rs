//! Detection in `serve` reads each organisation's data apart: cert-a's RED capture and
//! cert-b's AMBER capture surge on the same port at the same hour, beside a GREEN capture of
//! cert-c. Each organisation sees its own surge with its own sources, and no alert anyone else
//! may see names them.

use greenwatch_detect::Allowlist;
use greenwatch_early_warning::{watch_recent, RecentPass};
use greenwatch_model::access::{Label, Role, Tlp, Viewer};
use greenwatch_model::Timestamp;
use greenwatch_model::{TrafficClass, Transport};
use greenwatch_observe::{ClosedBucket, FlowTuple, Observations};
use greenwatch_store::{CaptureRecord, CaptureStatus, Store, StoreLocation};

const DAYS: i64 = 28;
const HOUR: i64 = 3600;
/// 2026-09-01T00:00:00Z.
const START: i64 = 1_788_220_800;
/// The surge: day 24, 10:00 to 13:00.
const SURGE_FROM: i64 = START + 24 * 86_400 + 10 * HOUR;
const SURGE_TO: i64 = SURGE_FROM + 3 * HOUR;

fn flow(bucket: i64, src: String, port: u16, packets: u64) -> FlowTuple {
    FlowTuple {
        bucket,
        src: src.parse().unwrap(),
        dst_net: "192.0.2.0".parse().unwrap(),
        dst_port: port,
        transport: Transport::TCP,
        class: TrafficClass::Scan,
        fingerprint: None,
        src_asn: 64_500,
        src_country: "JP".parse().unwrap(),
        packets,
        bytes: packets * 60,
        unique_dsts: 1,
        first_ttl: 50,
        first_tcp_window: 1024,
        first_len: 60,
    }
}

/// Four weeks of hourly scans of `port` by three steady sources `<steady>.1-3`, and, when
/// `surge` is given, twenty sources `<surge>.1-20` hammering it for three hours.
fn capture(
    store: &mut dyn Store,
    name: &str,
    owner: &str,
    tlp: Tlp,
    port: u16,
    steady: &str,
    surge: Option<&str>,
) {
    let buckets = (0..DAYS * 24)
        .map(|h| {
            let bucket = START + h * HOUR;
            let mut flows: Vec<FlowTuple> = (1..=3)
                .map(|i| flow(bucket, format!("{steady}.{i}"), port, 2))
                .collect();
            if let Some(surge) = surge.filter(|_| (SURGE_FROM..SURGE_TO).contains(&bucket)) {
                flows.extend((1..=20).map(|i| flow(bucket, format!("{surge}.{i}"), port, 50)));
            }
            flows.sort_by_key(|f| f.src);
            ClosedBucket { bucket, flows }
        })
        .collect();
    let record = CaptureRecord {
        content_hash: name.into(),
        path: format!("/captures/{name}.pcap"),
        sensor: name.into(),
        label: Label {
            owner: owner.into(),
            tlp,
        },
        status: CaptureStatus::Complete,
        counts: Default::default(),
        ingested_at: Timestamp::from_secs(START),
    };
    let observations = Observations {
        buckets,
        ..Observations::default()
    };
    store.write_capture(&record, &observations).unwrap();
}

fn member(org: &str) -> Viewer {
    Viewer::User {
        org: org.into(),
        role: Role::Member,
    }
}

/// The alerts `viewer` may see, each as JSON text (title, summary, evidence and all).
fn seen(store: &dyn Store, viewer: &Viewer) -> Vec<String> {
    store
        .alerts(viewer, usize::MAX)
        .unwrap()
        .iter()
        .map(|a| serde_json::to_string(&a.alert).unwrap())
        .collect()
}

#[test]
fn each_organisation_is_alerted_on_its_own_data_and_nobody_else_sees_its_sources() {
    let dir = tempfile::tempdir().unwrap();
    let mut store =
        greenwatch_store_open::open(&StoreLocation::Sqlite(dir.path().join("gw.sqlite"))).unwrap();
    capture(
        &mut *store,
        "a-red",
        "cert-a",
        Tlp::Red,
        5555,
        "198.51.100",
        Some("203.0.113"),
    );
    capture(
        &mut *store,
        "b-amber",
        "cert-b",
        Tlp::Amber,
        5555,
        "192.0.2",
        Some("198.18.5"),
    );
    // cert-c's GREEN data surges on the same port at the same hours: the shared scope's.
    capture(
        &mut *store,
        "c-green",
        "cert-c",
        Tlp::Green,
        5555,
        "100.64.0",
        Some("100.65.0"),
    );
    let pass = RecentPass::hourly(
        Allowlist::parse("").unwrap(),
        Label {
            owner: "local".into(),
            tlp: Tlp::Amber,
        },
    );
    let now = Timestamp::from_secs(START + DAYS * 86_400);
    let first = watch_recent(&mut *store, &pass, now).unwrap();
    assert!(first.raised >= 2, "{first:?}");

    let (a_sources, b_sources) = ("\"203.0.113.", "\"198.18.5.");
    let names = |alerts: &[String], sources: &str| alerts.iter().any(|a| a.contains(sources));
    let cert_a = seen(&*store, &member("cert-a"));
    assert!(
        names(&cert_a, a_sources),
        "cert-a sees its own surge: {cert_a:?}"
    );
    assert!(!names(&cert_a, b_sources), "{cert_a:?}");
    let cert_b = seen(&*store, &member("cert-b"));
    assert!(
        names(&cert_b, b_sources),
        "cert-b sees its own surge: {cert_b:?}"
    );
    assert!(
        !names(&cert_b, a_sources),
        "cert-a's RED sources reach cert-b: {cert_b:?}"
    );
    for outsider in [member("local"), member("cert-c"), Viewer::Anonymous] {
        let alerts = seen(&*store, &outsider);
        assert!(
            !names(&alerts, a_sources) && !names(&alerts, b_sources),
            "{outsider:?} sees private sources: {alerts:?}"
        );
    }

    // An organisation's alert reads its own data only: cert-a's members see its sources in
    // clear, so cert-c's GREEN surge (anonymised for them everywhere else) is not in it.
    let owned_by_a: Vec<String> = store
        .alerts(&Viewer::Local, usize::MAX)
        .unwrap()
        .into_iter()
        .filter(|a| a.alert.label.owner == "cert-a")
        .map(|a| serde_json::to_string(&a.alert).unwrap())
        .collect();
    assert!(names(&owned_by_a, a_sources), "{owned_by_a:?}");
    assert!(
        !names(&owned_by_a, "\"100.65.0.") && !names(&owned_by_a, "\"100.64.0."),
        "cert-c's data in cert-a's alert: {owned_by_a:?}"
    );
    let shared = seen(&*store, &member("local"));
    assert!(
        names(&shared, "\"100.65.0."),
        "the shared surge is raised: {shared:?}"
    );

    // The same surge of the two organisations: two alerts, one each, labelled for it.
    let port_alerts: Vec<_> = store
        .alerts(&Viewer::Local, usize::MAX)
        .unwrap()
        .into_iter()
        .filter(|a| a.alert.title.contains("port 5555/tcp"))
        .collect();
    let labels: Vec<(String, Tlp)> = port_alerts
        .iter()
        .map(|a| (a.alert.label.owner.clone(), a.alert.label.tlp))
        .collect();
    assert!(labels.contains(&("cert-a".into(), Tlp::Red)), "{labels:?}");
    assert!(
        labels.contains(&("cert-b".into(), Tlp::Amber)),
        "{labels:?}"
    );
    let mut keys: Vec<_> = port_alerts.iter().map(|a| a.alert.key.clone()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), port_alerts.len(), "distinct keys");

    let again = watch_recent(&mut *store, &pass, now).unwrap();
    assert_eq!(again.raised, 0, "raised once");
}
