//! The library the CLI and the portal's upload share, over a real store: a generated capture
//! goes in whole and matches its ground truth; the same bytes again change nothing; a
//! truncated capture keeps what came before the cut and says where; a feed counts its bad
//! rows by line.

use greenwatch_clock::Clock;
use greenwatch_feeds::{Catalogue, FeedFormat};
use greenwatch_generate::{generate, SourcePool, TrafficSpec};
use greenwatch_ingest::{
    ingest_capture, ingest_feed, CaptureOptions, FeedOptions, FileStatus, Progress,
};
use greenwatch_model::access::{Label, Tlp, Viewer};
use greenwatch_model::{BucketWidth, CountryCode, Timestamp};
use greenwatch_netdb::{NetDb, SnapshotBuilder};
use greenwatch_store::{Store, StoreLocation, TimeRange};
use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

fn netdb() -> NetDb {
    let v4 = |s: &str| u32::from(s.parse::<Ipv4Addr>().unwrap());
    let mut b = SnapshotBuilder::new("2026-09-01".parse().unwrap());
    for (first, last, asn, country) in [
        ("1.0.0.0", "1.255.255.255", 64500, "CN"),
        ("2.0.0.0", "2.255.255.255", 64501, "FR"),
    ] {
        b.asn_v4(v4(first), v4(last), asn).country_v4(
            v4(first),
            v4(last),
            country.parse::<CountryCode>().unwrap(),
        );
    }
    NetDb::from_snapshots(vec![b.build()])
}

fn options() -> CaptureOptions {
    CaptureOptions {
        sensor: "s1".into(),
        bucket: BucketWidth::HOUR,
        label: Label {
            owner: "cert-a".into(),
            tlp: Tlp::Green,
        },
        clock: Clock::manual(INGESTED_AT),
    }
}

/// The ingest clock's time: every stored dataset carries it.
const INGESTED_AT: Timestamp = Timestamp(1_791_200_000_000_000);

/// Remembers the last position reported, and that the file was started and finished.
#[derive(Default)]
struct Seen {
    total: AtomicU64,
    done: AtomicU64,
    finished: AtomicU64,
}

impl Progress for Seen {
    fn start(&self, _: &str, total: Option<u64>) {
        self.total
            .store(total.unwrap_or(u64::MAX), Ordering::SeqCst);
    }
    fn set(&self, done: u64) {
        self.done.store(done, Ordering::SeqCst);
    }
    fn finish(&self) {
        self.finished.fetch_add(1, Ordering::SeqCst);
    }
}

fn write_capture(netdb: &NetDb, path: &Path) -> greenwatch_model::GroundTruth {
    let snapshot = &netdb.snapshots()[0];
    let pool = SourcePool::new(snapshot.routed_v4(), snapshot.routed_v6());
    let spec = TrafficSpec::new(
        7,
        20_000,
        Timestamp::parse("2026-10-05T00:00:00Z").unwrap(),
        6,
    );
    let mut pcap = Vec::new();
    let truth = generate(&spec, &pool, &mut pcap).unwrap();
    std::fs::write(path, pcap).unwrap();
    truth
}

fn stored_packets(store: &dyn Store, viewer: &Viewer) -> u64 {
    let mut packets = 0;
    store
        .scan_flows(viewer, TimeRange::default(), None, &mut |f| {
            packets += f.packets
        })
        .unwrap();
    packets
}

#[test]
fn a_capture_goes_in_whole_once_with_its_label() {
    let dir = tempfile::tempdir().unwrap();
    let netdb = netdb();
    let path = dir.path().join("day.pcap");
    let truth = write_capture(&netdb, &path);
    let mut store =
        greenwatch_store_open::open(&StoreLocation::Sqlite(dir.path().join("s.sqlite"))).unwrap();
    let seen = Seen::default();
    let (outcome, ingested) =
        ingest_capture(&mut *store, &netdb, &path, "day.pcap", &options(), &seen).unwrap();
    assert_eq!(outcome.status, FileStatus::Ingested, "{outcome:?}");
    assert_eq!(outcome.packets, Some(truth.packets));
    assert_eq!(ingested.unwrap().counts.packets, truth.packets);
    assert_eq!(stored_packets(&*store, &Viewer::Local), truth.packets);
    assert_eq!(
        seen.total.load(Ordering::SeqCst),
        std::fs::metadata(&path).unwrap().len()
    );
    assert_eq!(seen.finished.load(Ordering::SeqCst), 1);
    // The label decides who sees it: GREEN is for logged-in users only.
    assert_eq!(stored_packets(&*store, &Viewer::Anonymous), 0);
    let record = &store.captures().unwrap()[0];
    assert_eq!(record.label, options().label);
    assert_eq!(record.path, "day.pcap");
    assert_eq!(record.ingested_at, INGESTED_AT, "the ingest clock's time");

    let (again, nothing) =
        ingest_capture(&mut *store, &netdb, &path, "copy.pcap", &options(), &()).unwrap();
    assert_eq!(again.status, FileStatus::AlreadyIngested);
    assert!(nothing.is_none());
    assert_eq!(stored_packets(&*store, &Viewer::Local), truth.packets);
}

#[test]
fn a_truncated_capture_keeps_what_came_before_the_cut_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let netdb = netdb();
    let path = dir.path().join("cut.pcap");
    let truth = write_capture(&netdb, &path);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2 + 7]).unwrap();
    let mut store =
        greenwatch_store_open::open(&StoreLocation::Sqlite(dir.path().join("s.sqlite"))).unwrap();
    let (outcome, _) =
        ingest_capture(&mut *store, &netdb, &path, "cut.pcap", &options(), &()).unwrap();
    assert_eq!(outcome.status, FileStatus::Partial);
    let error = outcome.error.unwrap();
    assert!(
        error.starts_with("cut.pcap: ") && error.contains("offset"),
        "{error}"
    );
    let kept = stored_packets(&*store, &Viewer::Local);
    assert_eq!(Some(kept), outcome.packets);
    assert!(kept > truth.packets / 3 && kept < truth.packets, "{kept}");
}

#[test]
fn a_file_that_is_not_a_capture_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "these are not packets\n").unwrap();
    let mut store =
        greenwatch_store_open::open(&StoreLocation::Sqlite(dir.path().join("s.sqlite"))).unwrap();
    let err = ingest_capture(&mut *store, &netdb(), &path, "notes.txt", &options(), &())
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a readable capture"), "{err}");
    assert!(store.captures().unwrap().is_empty());
}

#[test]
fn a_feed_counts_its_bad_rows_by_line_and_stores_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("2026-10-05-scan_dns-test-asn.csv");
    std::fs::write(
        &path,
        "\"timestamp\",\"ip\",\"protocol\",\"port\",\"asn\",\"geo\"\n\
         \"2026-10-05 01:00:00\",\"1.0.0.1\",\"udp\",53,64500,\"CN\"\n\
         \"2026-10-05 01:00:00\",\"not an address\",\"udp\",53,64500,\"CN\"\n\
         \"2026-10-05 02:00:00\",\"2.0.0.9\",\"udp\",53,64501,\"FR\"\n",
    )
    .unwrap();
    let catalogue = Catalogue::shipped();
    let feed = FeedOptions {
        format: FeedFormat::Auto,
        mapping: None,
        report: None,
        label: options().label,
        catalogue: &catalogue,
        clock: Clock::manual(INGESTED_AT),
    };
    let mut store =
        greenwatch_store_open::open(&StoreLocation::Sqlite(dir.path().join("s.sqlite"))).unwrap();
    let seen = Seen::default();
    let name = "2026-10-05-scan_dns-test-asn.csv";
    let outcome = ingest_feed(&mut *store, &netdb(), &path, name, &feed, &seen).unwrap();
    assert_eq!(outcome.status, FileStatus::Ingested, "{outcome:?}");
    let counts = outcome.counts.unwrap();
    assert_eq!((counts.rows, counts.events, counts.bad_rows), (3, 2, 1));
    assert_eq!(outcome.bad_examples.len(), 1);
    assert_eq!(outcome.bad_examples[0].line, 3);
    assert_eq!(seen.done.load(Ordering::SeqCst), 3);
    let coverage = store.risk_coverage(&Viewer::Local).unwrap();
    assert_eq!(coverage.len(), 1);
    assert_eq!(coverage[0].events, 2);
    assert!(store.risk_coverage(&Viewer::Anonymous).unwrap().is_empty());
    assert_eq!(store.feed_files().unwrap()[0].ingested_at, INGESTED_AT);
}
