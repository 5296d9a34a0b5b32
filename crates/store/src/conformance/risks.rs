//! Feed files and their risk events.

use super::*;
use greenwatch_model::{CountryCode, Enrichment, FeedCounts};

fn event(ip: &str, day: NaiveDate, line: u64) -> RiskEvent {
    let time = Timestamp::parse(&day.format("%Y-%m-%d").to_string()).unwrap();
    RiskEvent {
        ip: ip.parse().unwrap(),
        port: 53,
        time: Timestamp(time.0 + line as i64),
        line,
        feed_asn: 0,
        feed_country: CountryCode::UNKNOWN,
        enrichment: Enrichment {
            asn: 64500,
            country: "JP".parse().unwrap(),
        },
    }
}

fn record(hash: &str, events: u64) -> FeedFileRecord {
    FeedFileRecord {
        content_hash: hash.into(),
        path: format!("{hash}.csv"),
        format: "shadowserver".into(),
        report_type: Some("scan_dns".into()),
        label: greenwatch_model::access::Label {
            owner: "cert-a".into(),
            tlp: greenwatch_model::access::Tlp::Green,
        },
        counts: FeedCounts {
            rows: events,
            events,
            ..Default::default()
        },
        ingested_at: Timestamp::from_secs(1_790_000_000),
    }
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub fn a_stored_feed_file_is_not_begun_again_by_its_owner(backend: &dyn Backend) {
    let mut store = backend.connect();
    let writer = store.begin_feed_file("cert-a", "f1").unwrap();
    writer.commit(&record("f1", 0)).unwrap();
    assert!(matches!(
        store.begin_feed_file("cert-a", "f1").map(|_| ()),
        Err(StoreError::AlreadyStored { ref owner, .. }) if owner == "cert-a"
    ));
    // Another organisation's copy of the same bytes is its own dataset.
    assert!(store.begin_feed_file("cert-b", "f1").is_ok());
}

pub fn events_are_stored_per_day_and_only_on_commit(backend: &dyn Backend) {
    let mut store = backend.connect();
    let (d1, d2) = (date("2026-10-05"), date("2026-10-06"));
    let start = store.data_generation().unwrap();
    {
        let mut w = store.begin_feed_file("cert-a", "dropped").unwrap();
        w.write_events("openrecursivedns", d1, &[event("192.0.2.1", d1, 2)])
            .unwrap();
        // Dropped without commit: nothing of it may remain.
    }
    assert!(store.find_feed_file("cert-a", "dropped").unwrap().is_none());
    assert!(store.risk_coverage(&Viewer::Local).unwrap().is_empty());
    assert_eq!(store.data_generation().unwrap(), start);

    let mut w = store.begin_feed_file("cert-a", "a").unwrap();
    // Out of address order on purpose: the store sorts what is not sorted yet.
    let day1 = vec![event("2001:db8::1", d1, 2), event("192.0.2.9", d1, 3)];
    w.write_events("openrecursivedns", d1, &day1).unwrap();
    w.write_events("openrecursivedns", d2, &[event("192.0.2.1", d2, 4)])
        .unwrap();
    w.write_events("openntp", d2, &[event("192.0.2.7", d2, 5)])
        .unwrap();
    w.commit(&record("a", 4)).unwrap();
    // The commit moves the data generation with the facts (cached answers go stale).
    assert!(store.data_generation().unwrap() > start);

    let mut seen = Vec::new();
    store
        .scan_risk_events(&Viewer::Local, "openrecursivedns", d1, d2, &mut |e| {
            seen.push(e.line)
        })
        .unwrap();
    // Sorted by address within a segment: IPv4 (as mapped IPv6) before 2001:db8::.
    assert_eq!(seen, vec![3, 2]);
    let mut all = 0;
    store
        .scan_risk_events(
            &Viewer::Local,
            "openrecursivedns",
            d1,
            date("2026-11-01"),
            &mut |_| all += 1,
        )
        .unwrap();
    assert_eq!(all, 3);
    let coverage = store.risk_coverage(&Viewer::Local).unwrap();
    assert_eq!(coverage.len(), 2);
    assert_eq!(coverage[1].risk, "openrecursivedns");
    assert_eq!((coverage[1].first_day, coverage[1].last_day), (d1, d2));
    assert_eq!(coverage[1].events, 3);
    let stored = store.find_feed_file("cert-a", "a").unwrap().unwrap();
    assert_eq!(stored, record("a", 4));
    assert_eq!(store.feed_files().unwrap().len(), 1);
}
