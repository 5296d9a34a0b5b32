//! Late and early data never look like zeros: a small capture dated a month before the stored
//! weeks, or a sensor that was down for two days, leaves hours in which nobody observed, and
//! the detector must neither learn a baseline of zero from them nor raise every port as a
//! surge when traffic resumes (issue 13, item 1: 3 findings became 863).

use greenwatch_detect::Allowlist;
use greenwatch_early_warning::{watch_recent, RecentPass};
use greenwatch_model::access::{Label, Tlp, Viewer};
use greenwatch_model::Timestamp;
use greenwatch_model::{TrafficClass, Transport};
use greenwatch_observe::{ClosedBucket, FlowTuple, Observations};
use greenwatch_store::{CaptureRecord, CaptureStatus, Store, StoreLocation};

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// 2026-09-01T00:00:00Z.
const START: i64 = 1_788_220_800;
/// The one real surge: port 5555, day 20, 10:00 to 13:00.
const SURGE_FROM: i64 = START + 20 * DAY + 10 * HOUR;
const SURGE_TO: i64 = SURGE_FROM + 3 * HOUR;
const PORTS: [u16; 12] = [
    23, 22, 80, 443, 445, 3389, 8080, 2323, 5555, 1433, 6379, 9200,
];
const COUNTRIES: [&str; 6] = ["CN", "US", "RU", "BR", "IN", "NL"];

/// SplitMix64 with a Poisson draw.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn poisson(&mut self, mean: f64) -> u64 {
        let (limit, mut k, mut p) = ((-mean).exp(), 0, 1.0);
        loop {
            p *= self.uniform();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
}

/// One hour of scans: every port draws a Poisson number of one-packet probes (15 to 45 an
/// hour, with a daily cycle) from sources spread over six countries and a few ASes; during
/// the surge, port 5555 draws forty sources more.
fn hour(bucket: i64, rng: &mut Rng) -> ClosedBucket {
    let mut flows = Vec::new();
    let hod = (bucket.rem_euclid(DAY) / HOUR) as f64;
    let diurnal = 1.0 + 0.25 * (std::f64::consts::TAU * (hod - 9.0) / 24.0).sin();
    for (i, &port) in PORTS.iter().enumerate() {
        let mean = (15.0 + 3.0 * i as f64) * diurnal;
        let mut probes = rng.poisson(mean);
        if port == 5555 && (SURGE_FROM..SURGE_TO).contains(&bucket) {
            probes += 40 * 6;
        }
        for _ in 0..probes {
            let c = (rng.next() % COUNTRIES.len() as u64) as usize;
            let host = rng.next() % 4000;
            flows.push(FlowTuple {
                bucket,
                src: format!("{}.{}.{}.{}", 20 + c * 30, host / 250, host % 250, 1 + c)
                    .parse()
                    .unwrap(),
                dst_net: "192.0.2.0".parse().unwrap(),
                dst_port: port,
                transport: Transport::TCP,
                class: TrafficClass::Scan,
                fingerprint: None,
                src_asn: 64_500 + c as u32,
                src_country: COUNTRIES[c].parse().unwrap(),
                packets: 1,
                bytes: 60,
                unique_dsts: 1,
                first_ttl: 50,
                first_tcp_window: 1024,
                first_len: 60,
            });
        }
    }
    flows.sort_by_key(|f| (f.src, f.dst_port));
    flows.dedup_by_key(|f| (f.src, f.dst_port));
    ClosedBucket { bucket, flows }
}

/// Stores the hours `[from, to)` (seconds) except those in `down`, as one GREEN capture of
/// cert-a.
fn capture(store: &mut dyn Store, name: &str, from: i64, to: i64, down: (i64, i64), seed: u64) {
    let mut rng = Rng(seed);
    let buckets = (from..to)
        .step_by(HOUR as usize)
        .filter(|b| !(down.0..down.1).contains(b))
        .map(|b| hour(b, &mut rng))
        .collect();
    let record = CaptureRecord {
        content_hash: name.into(),
        path: format!("/captures/{name}.pcap"),
        sensor: "tokyo".into(),
        label: Label {
            owner: "cert-a".into(),
            tlp: Tlp::Green,
        },
        status: CaptureStatus::Complete,
        counts: Default::default(),
        ingested_at: Timestamp::from_secs(to),
    };
    let observations = Observations {
        buckets,
        ..Observations::default()
    };
    store.write_capture(&record, &observations).unwrap();
}

fn pass() -> RecentPass {
    RecentPass::hourly(
        Allowlist::parse("").unwrap(),
        Label {
            owner: "cert-a".into(),
            tlp: Tlp::Green,
        },
    )
}

fn titles(store: &dyn Store) -> Vec<String> {
    store
        .alerts(&Viewer::Local, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|a| a.alert.title)
        .collect()
}

#[test]
fn a_capture_dated_a_month_earlier_raises_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let mut store =
        greenwatch_store_open::open(&StoreLocation::Sqlite(dir.path().join("gw.sqlite"))).unwrap();
    capture(&mut *store, "weeks", START, START + 25 * DAY, (0, 0), 1);
    let now = Timestamp::from_secs(START + 25 * DAY);
    let first = watch_recent(&mut *store, &pass(), now).unwrap();
    let before = titles(&*store);
    assert!(
        before.iter().any(|t| t.contains("port 5555/tcp")),
        "the real surge is found: {before:?}"
    );
    assert!(before.len() <= 4, "{} findings: {before:?}", before.len());

    // Six hours of the same traffic, a month before.
    let early = START - 31 * DAY;
    capture(&mut *store, "early", early, early + 6 * HOUR, (0, 0), 2);
    let again = watch_recent(&mut *store, &pass(), now).unwrap();
    let after = titles(&*store);
    assert_eq!(
        again.raised,
        0,
        "{} new alerts after a small early capture ({first:?} before): {:?}",
        after.len() - before.len(),
        &after[..after.len().min(10)]
    );
}

#[test]
fn hours_a_sensor_was_down_are_no_observation_not_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut store =
        greenwatch_store_open::open(&StoreLocation::Sqlite(dir.path().join("gw.sqlite"))).unwrap();
    // Down for two and a half days in the third week: no traffic at all was stored then.
    let down = (START + 15 * DAY + 6 * HOUR, START + 17 * DAY + 18 * HOUR);
    capture(&mut *store, "weeks", START, START + 25 * DAY, down, 3);
    let now = Timestamp::from_secs(START + 25 * DAY);
    watch_recent(&mut *store, &pass(), now).unwrap();
    let alerts = titles(&*store);
    assert!(
        alerts.iter().any(|t| t.contains("port 5555/tcp")),
        "the real surge is still found: {alerts:?}"
    );
    assert!(
        !alerts
            .iter()
            .any(|t| t.starts_with("Level drop") || t.contains("port 23/tcp")),
        "the outage or the return from it raised alerts: {alerts:?}"
    );
    assert!(alerts.len() <= 4, "{} alerts: {alerts:?}", alerts.len());
}

#[test]
fn a_late_upload_that_moves_where_a_surge_starts_does_not_raise_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut store =
        greenwatch_store_open::open(&StoreLocation::Sqlite(dir.path().join("gw.sqlite"))).unwrap();
    capture(&mut *store, "weeks", START, START + 25 * DAY, (0, 0), 4);
    let now = Timestamp::from_secs(START + 25 * DAY);
    watch_recent(&mut *store, &pass(), now).unwrap();
    let surges = |store: &dyn Store| {
        titles(store)
            .into_iter()
            .filter(|t| t.contains("port 5555/tcp"))
            .count()
    };
    assert_eq!(surges(&*store), 1);
    // Another sensor's late file: the hour before the surge hammered on port 5555 too, so
    // the surge now starts an hour earlier (a new key), but it is the same surge.
    let mut rng = Rng(5);
    let before = SURGE_FROM - HOUR;
    let mut late = hour(before, &mut rng);
    late.flows.retain(|f| f.dst_port == 5555);
    for f in late.flows.iter_mut() {
        f.packets = 3;
    }
    let record = CaptureRecord {
        content_hash: "late".into(),
        path: "/captures/late.pcap".into(),
        sensor: "osaka".into(),
        label: Label {
            owner: "cert-a".into(),
            tlp: Tlp::Green,
        },
        status: CaptureStatus::Complete,
        counts: Default::default(),
        ingested_at: now,
    };
    let observations = Observations {
        buckets: vec![late],
        ..Observations::default()
    };
    store.write_capture(&record, &observations).unwrap();
    let again = watch_recent(&mut *store, &pass(), now).unwrap();
    assert!(again.findings >= 1, "{again:?}");
    assert_eq!(again.raised, 0, "{:?}", titles(&*store));
    assert_eq!(surges(&*store), 1);
}
