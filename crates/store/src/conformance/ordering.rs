//! Orders callers rely on, and one dataset stored once whatever the number of writers.

use super::observations::{observe, record, scan};
use super::*;
use greenwatch_model::access::Tlp;
use greenwatch_model::alert::Severity;

/// Detection walks flows bucket by bucket and cannot work on anything else: whatever order
/// captures were written in, and however their buckets interleave, `scan_flows` and
/// `scan_labelled_flows` deliver buckets in ascending order.
pub fn flows_arrive_in_bucket_order_whatever_the_write_order(backend: &dyn Backend) {
    let mut store = backend.connect();
    // Written newest first; the second capture's hours fall between the first's.
    let captures = [
        ("late", [4 * 3600 + 5, 6 * 3600 + 5, 9 * 3600 + 5]),
        ("early", [5, 5 * 3600 + 5, 7 * 3600 + 5]),
        ("middle", [3 * 3600 + 5, 8 * 3600 + 5, 3600 + 5]),
    ];
    for (i, (hash, times)) in captures.iter().enumerate() {
        let packets: Vec<_> = times
            .iter()
            .map(|t| scan(&format!("192.0.2.{i}"), "198.18.0.1", 23, *t))
            .collect();
        let obs = observe(&packets);
        let mut rec = record(hash, obs.counts.clone(), CaptureStatus::Complete);
        rec.label.tlp = if i == 1 { Tlp::Amber } else { Tlp::Clear };
        store.write_capture(&rec, &obs).unwrap();
    }
    let outsider = Viewer::User {
        org: "cert-b".into(),
        role: greenwatch_model::access::Role::Member,
    };
    for viewer in [Viewer::Local, outsider] {
        let mut buckets = Vec::new();
        store
            .scan_flows(&viewer, TimeRange::default(), None, &mut |f| {
                buckets.push(f.bucket)
            })
            .unwrap();
        assert!(buckets.is_sorted(), "{viewer:?}: {buckets:?}");
        let expected = if viewer == Viewer::Local { 9 } else { 6 };
        assert_eq!(buckets.len(), expected, "{viewer:?}");
        let mut labelled = Vec::new();
        store
            .scan_labelled_flows(&viewer, TimeRange::default(), &mut |_, f| {
                labelled.push(f.bucket)
            })
            .unwrap();
        assert_eq!(labelled, buckets, "{viewer:?}");
    }
    let mut window = Vec::new();
    let range = TimeRange {
        from: Some(3600),
        to: Some(8 * 3600),
    };
    let tokyo = SensorRef::new("cert-a", "tokyo-1");
    store
        .scan_flows(&Viewer::Local, range, Some(&tokyo), &mut |f| {
            window.push(f.bucket)
        })
        .unwrap();
    // Hour 2 has no packet; hours 0, 8 and 9 are outside the window.
    assert_eq!(window, [1, 3, 4, 5, 6, 7].map(|h| h * 3600));
}

/// Alert cursors and "new since" lists page by id: ids grow in the order alerts are
/// committed, whichever connection commits them.
pub fn alert_ids_follow_commit_order_across_connections(backend: &dyn Backend) {
    let mut connections = [backend.connect(), backend.connect()];
    let mut ids = Vec::new();
    for i in 0..6 {
        let at = Timestamp::from_secs(1_800_000_000 - i * 60);
        let alert = NewAlert {
            key: Some(format!("k{i}")),
            severity: Severity::Medium,
            title: format!("alert {i}"),
            summary: String::new(),
            affected: Vec::new(),
            // Seen ever earlier: the id follows the commit, not the time of the finding.
            first_seen: at,
            last_seen: at,
            author: "detector".into(),
            label: Label {
                owner: "cert-a".into(),
                tlp: Tlp::Clear,
            },
            evidence: None,
            created_at: at,
        };
        let (id, new) = connections[i as usize % 2].raise_alert(&alert).unwrap();
        assert!(new);
        ids.push(id);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    // Raising a stored key again is no new alert and takes no new id.
    let again = connections[1].alerts_keyed("k0").unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, ids[0]);
}

/// However many connections race to store the same organisation's dataset, it is stored
/// once: every other writer is told [`StoreError::AlreadyStored`], at its begin or at its
/// commit, and its flows are nowhere.
pub fn writers_racing_for_one_dataset_store_it_once(backend: &dyn Backend) {
    let obs = observe(&[
        scan("192.0.2.1", "198.18.0.1", 23, 5),
        scan("192.0.2.2", "198.18.0.1", 23, 3605),
    ]);
    let rec = record("raced", obs.counts.clone(), CaptureStatus::Complete);
    let stores: Vec<Box<dyn Store>> = (0..4).map(|_| backend.connect()).collect();
    let barrier = std::sync::Barrier::new(stores.len());
    let outcomes: Vec<Result<(), StoreError>> = std::thread::scope(|s| {
        let threads: Vec<_> = stores
            .into_iter()
            .map(|mut store| {
                let (barrier, obs, rec) = (&barrier, &obs, &rec);
                s.spawn(move || {
                    barrier.wait();
                    store.write_capture(rec, obs)
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let stored = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(stored, 1, "{outcomes:?}");
    for outcome in &outcomes {
        assert!(
            matches!(outcome, Ok(()) | Err(StoreError::AlreadyStored { .. })),
            "{outcome:?}"
        );
    }
    let store = backend.connect();
    assert_eq!(store.captures().unwrap().len(), 1);
    assert_eq!(
        super::observations::all_flows(&*store, None).len(),
        obs.flows().count()
    );
}
