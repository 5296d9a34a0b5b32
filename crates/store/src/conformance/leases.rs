//! Job leases: one holder at a time, across connections.

use super::*;

pub fn a_job_lease_has_one_holder_until_it_ends_or_is_released(b: &dyn Backend) {
    let (mut a, mut other) = (b.connect(), b.connect());
    let t = Timestamp;
    assert!(a
        .take_lease("early-warning", "web-1", t(100), t(200))
        .unwrap());
    // Held: another process does not get it, whatever it asks for.
    assert!(!other
        .take_lease("early-warning", "web-2", t(150), t(400))
        .unwrap());
    // Another job is another lease.
    assert!(other
        .take_lease("reports", "web-2", t(150), t(400))
        .unwrap());
    // The holder renews it; the renewal counts from then on.
    assert!(a
        .take_lease("early-warning", "web-1", t(190), t(300))
        .unwrap());
    assert!(!other
        .take_lease("early-warning", "web-2", t(250), t(500))
        .unwrap());
    // Ended (its holder died): the next process takes it, and the old holder has lost it.
    assert!(other
        .take_lease("early-warning", "web-2", t(301), t(500))
        .unwrap());
    assert!(!a
        .take_lease("early-warning", "web-1", t(302), t(600))
        .unwrap());
    // Released: free at once; releasing someone else's lease changes nothing.
    a.release_lease("reports", "web-1").unwrap();
    assert!(!a.take_lease("reports", "web-1", t(160), t(600)).unwrap());
    other.release_lease("reports", "web-2").unwrap();
    assert!(a.take_lease("reports", "web-1", t(160), t(600)).unwrap());
}

pub fn holders_racing_for_a_free_lease_get_it_once(b: &dyn Backend) {
    let granted: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let mut store = b.connect();
                s.spawn(move || {
                    store
                        .take_lease(
                            "deliveries",
                            &format!("web-{i}"),
                            Timestamp(10),
                            Timestamp(70),
                        )
                        .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(granted.iter().filter(|g| **g).count(), 1, "{granted:?}");
}
