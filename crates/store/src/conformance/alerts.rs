//! Alerts, their pages, deliveries and subscriptions.

use super::*;
use greenwatch_model::access::Tlp;
use greenwatch_model::alert::Severity;
use greenwatch_model::Timestamp;

/// A detector alert of cert-a keyed by its title, seen at `at`.
fn detector_alert(title: &str, tlp: Tlp, at: Timestamp) -> NewAlert {
    NewAlert {
        key: Some(title.into()),
        severity: Severity::High,
        title: title.into(),
        summary: String::new(),
        affected: Vec::new(),
        first_seen: at,
        last_seen: at,
        author: "detector".into(),
        label: Label {
            owner: "cert-a".into(),
            tlp,
        },
        evidence: None,
        created_at: at,
    }
}

pub fn alert_pages_filter_in_the_store_and_show_only_what_the_viewer_may_see(
    backend: &dyn Backend,
) {
    let mut store = backend.connect();
    let at = |h: i64| Timestamp::from_secs(1_791_158_400 + h * 3600);
    for i in 0..30 {
        let mut a = detector_alert(&format!("a{i}"), Tlp::Amber, at(i));
        a.severity = Severity::ALL[(i % 4) as usize];
        a.affected = vec![format!("port {}/tcp packets", 20 + i % 3)];
        store.raise_alert(&a).unwrap();
        let mut b = detector_alert(&format!("b{i}"), Tlp::Amber, at(i));
        b.label.owner = "cert-b".into();
        store.raise_alert(&b).unwrap();
    }
    let cert_a = Viewer::User {
        org: "cert-a".into(),
        role: greenwatch_model::access::Role::Analyst,
    };
    let page = |store: &dyn Store, q: AlertQuery| store.alert_page(&cert_a, &q).unwrap();
    let all = page(
        &*store,
        AlertQuery {
            limit: 10,
            ..AlertQuery::default()
        },
    );
    assert_eq!(all.total, 30, "cert-b's AMBER alerts are not counted");
    assert_eq!(all.alerts.len(), 10);
    assert!(all.alerts.iter().all(|a| a.alert.label.owner == "cert-a"));
    assert_eq!(all.alerts[0].alert.title, "a29", "newest first");
    let second = page(
        &*store,
        AlertQuery {
            offset: 10,
            limit: 10,
            ..AlertQuery::default()
        },
    );
    assert_eq!(second.alerts[0].alert.title, "a19");
    let critical = page(
        &*store,
        AlertQuery {
            min_severity: Some(Severity::Critical),
            subject: Some("PORT 21/TCP".into()),
            limit: 100,
            ..AlertQuery::default()
        },
    );
    // i % 4 == 3 and i % 3 == 1: i = 7, 19.
    let titles: Vec<&str> = critical
        .alerts
        .iter()
        .map(|a| a.alert.title.as_str())
        .collect();
    assert_eq!(titles, ["a19", "a7"]);
    assert_eq!(critical.total, 2);
    assert_eq!(
        store
            .alert_page(
                &Viewer::Anonymous,
                &AlertQuery {
                    limit: 5,
                    ..Default::default()
                }
            )
            .unwrap()
            .total,
        0
    );

    let ids: Vec<i64> = critical.alerts.iter().map(|a| a.id).collect();
    let audit = AuditEntry {
        at: at(40),
        actor: "ana@cert-a".into(),
        action: "alert.state".into(),
        target: String::new(),
        detail: String::new(),
    };
    assert_eq!(
        store
            .set_alert_state(&ids, AlertState::Acknowledged, &audit)
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .set_alert_state(&ids, AlertState::Acknowledged, &audit)
            .unwrap(),
        0
    );
    let acknowledged = page(
        &*store,
        AlertQuery {
            state: Some(AlertState::Acknowledged),
            limit: 100,
            ..AlertQuery::default()
        },
    );
    assert_eq!(acknowledged.total, 2);
    let triage = &acknowledged.alerts[0].triage;
    assert_eq!(triage.state_by.as_deref(), Some("ana@cert-a"));
    assert_eq!(
        page(
            &*store,
            AlertQuery {
                state: Some(AlertState::Open),
                limit: 1,
                ..AlertQuery::default()
            }
        )
        .total,
        28
    );
    assert_eq!(store.audit_log(5).unwrap()[0].action, "alert.state");
    assert_eq!(store.alerts_keyed("a1").unwrap().len(), 11, "a1, a10..a19");
}

pub fn a_written_alert_and_its_audit_entry_are_stored_together(backend: &dyn Backend) {
    let mut store = backend.connect();
    let alert = NewAlert {
        key: None,
        severity: Severity::High,
        title: "Telnet scans from a new botnet".into(),
        summary: "written by hand".into(),
        affected: Vec::new(),
        first_seen: Timestamp::from_secs(1_791_158_400),
        last_seen: Timestamp::from_secs(1_791_158_400),
        author: "ana@cert-a".into(),
        label: Label {
            owner: "cert-a".into(),
            tlp: Tlp::Amber,
        },
        evidence: None,
        created_at: Timestamp::from_secs(1_791_158_400),
    };
    let audit = AuditEntry {
        at: alert.created_at,
        actor: alert.author.clone(),
        action: "alert.create".into(),
        target: String::new(),
        detail: alert.title.clone(),
    };
    let id = store.write_alert(&alert, &audit).unwrap();
    let owner = Viewer::User {
        org: "cert-a".into(),
        role: greenwatch_model::access::Role::Analyst,
    };
    assert_eq!(
        store.alert(&owner, id).unwrap().unwrap().alert.title,
        alert.title
    );
    assert!(store.alert(&Viewer::Anonymous, id).unwrap().is_none());
    let logged = &store.audit_log(1).unwrap()[0];
    assert_eq!(
        (logged.action.as_str(), logged.target.clone()),
        ("alert.create", id.to_string())
    );
}

pub fn failed_deliveries_add_up_their_attempts_until_one_succeeds(backend: &dyn Backend) {
    let mut store = backend.connect();
    let at = Timestamp::from_secs(1_791_158_400);
    let alert = |title: &str| detector_alert(title, Tlp::Clear, at);
    let (first, _) = store.raise_alert(&alert("first")).unwrap();
    let (second, _) = store.raise_alert(&alert("second")).unwrap();
    let failed = |attempts, error: &str| Delivery {
        attempts,
        outcome: Err(error.into()),
    };
    store
        .record_delivery(first, "subscription:1", &failed(3, "HTTP 500"))
        .unwrap();
    store
        .record_delivery(first, "subscription:1", &failed(2, "timed out"))
        .unwrap();
    store
        .record_delivery(second, "subscription:1", &failed(1, "HTTP 502"))
        .unwrap();
    store
        .record_delivery(second, "subscription:2", &failed(1, "refused"))
        .unwrap();
    assert_eq!(
        store.failed_deliveries("subscription:1").unwrap(),
        [
            FailedDelivery {
                alert_id: first,
                attempts: 5,
                last_error: "timed out".into()
            },
            FailedDelivery {
                alert_id: second,
                attempts: 1,
                last_error: "HTTP 502".into()
            }
        ]
    );
    let delivered = Delivery {
        attempts: 1,
        outcome: Ok(at),
    };
    store
        .record_delivery(first, "subscription:1", &delivered)
        .unwrap();
    let left: Vec<i64> = store
        .failed_deliveries("subscription:1")
        .unwrap()
        .iter()
        .map(|f| f.alert_id)
        .collect();
    assert_eq!(left, [second]);
}

pub fn a_subscription_gets_later_alerts_only_and_is_audited_without_its_secret(
    backend: &dyn Backend,
) {
    let mut store = backend.connect();
    let at = Timestamp::from_secs(1_791_158_400);
    let org = greenwatch_model::account::Organisation {
        slug: "cert-a".into(),
        name: "CERT A".into(),
        created_at: at,
    };
    store.create_org(&org, "cli").unwrap();
    let alert = |title: &str| detector_alert(title, Tlp::Amber, at);
    let (before, _) = store.raise_alert(&alert("before")).unwrap();
    let new = NewSubscription {
        org: "cert-a".into(),
        channel: SubscriptionChannel::Webhook {
            url: "https://soc.example.org/hook".into(),
            secret: "s3cret-value".into(),
        },
        min_severity: Severity::Medium,
        created_by: "ana".into(),
        created_at: at,
    };
    let made = store.subscribe(&new).unwrap();
    assert_eq!(made.after_alert, before);
    let (after, _) = store.raise_alert(&alert("after")).unwrap();
    let stored = store.subscriptions(Some("cert-a")).unwrap();
    assert_eq!(stored, vec![made.clone()]);
    let wanted: Vec<i64> = store
        .alerts(&Viewer::Local, 10)
        .unwrap()
        .iter()
        .filter(|a| made.wants(a))
        .map(|a| a.id)
        .collect();
    assert_eq!(wanted, [after]);
    assert!(store.subscriptions(Some("cert-b")).unwrap().is_empty());
    let logged = &store.audit_log(1).unwrap()[0];
    assert_eq!(logged.action, "alert.subscribe");
    assert!(!format!("{logged:?}").contains("s3cret"));

    assert!(matches!(
        store.subscribe(&NewSubscription {
            org: "nobody".into(),
            ..new
        }),
        Err(StoreError::Conflict(_))
    ));
    assert!(!store
        .unsubscribe(made.id, Some("cert-b"), "bob", at)
        .unwrap());
    assert!(store
        .unsubscribe(made.id, Some("cert-a"), "ana", at)
        .unwrap());
    assert!(store.subscriptions(None).unwrap().is_empty());
    assert_eq!(store.audit_log(1).unwrap()[0].action, "alert.unsubscribe");
}

pub fn connections_racing_to_raise_one_key_store_it_once(backend: &dyn Backend) {
    let at = Timestamp::from_secs(1_800_000_000);
    let stores: Vec<_> = (0..4).map(|_| backend.connect()).collect();
    let barrier = std::sync::Barrier::new(stores.len());
    let raised: Vec<(i64, bool)> = std::thread::scope(|s| {
        let threads: Vec<_> = stores
            .into_iter()
            .map(|mut store| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    store
                        .raise_alert(&detector_alert("raced/é", Tlp::Clear, at))
                        .unwrap()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(
        raised.iter().filter(|(_, new)| *new).count(),
        1,
        "{raised:?}"
    );
    assert!(raised.windows(2).all(|w| w[0].0 == w[1].0), "{raised:?}");
    // Keys are found by prefix, byte for byte (a non-ASCII key too).
    let store = backend.connect();
    assert_eq!(store.alerts_keyed("raced/").unwrap().len(), 1);
    assert_eq!(store.alerts_keyed("raced/é").unwrap().len(), 1);
    assert!(store.alerts_keyed("raced/e").unwrap().is_empty());
}

pub fn undelivered_alerts_are_those_never_delivered_oldest_first(backend: &dyn Backend) {
    let mut store = backend.connect();
    let at = |s: i64| Timestamp::from_secs(1_800_000_000 + s);
    let (first, _) = store
        .raise_alert(&detector_alert("first", Tlp::Clear, at(0)))
        .unwrap();
    let (second, _) = store
        .raise_alert(&detector_alert("second", Tlp::Clear, at(1)))
        .unwrap();
    let (third, _) = store
        .raise_alert(&detector_alert("third", Tlp::Clear, at(2)))
        .unwrap();
    let failed = Delivery {
        attempts: 1,
        outcome: Err("refused".into()),
    };
    let delivered = Delivery {
        attempts: 1,
        outcome: Ok(at(100)),
    };
    store.record_delivery(first, "c", &delivered).unwrap();
    store.record_delivery(second, "c", &failed).unwrap();
    let ids = |store: &dyn Store, viewer: &Viewer| -> Vec<i64> {
        store
            .undelivered(viewer, "c")
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect()
    };
    assert_eq!(ids(&*store, &Viewer::Local), [second, third]);
    assert_eq!(ids(&*store, &Viewer::Anonymous).len(), 2, "CLEAR is public");
    store
        .raise_alert(&detector_alert("amber", Tlp::Amber, at(3)))
        .unwrap();
    assert_eq!(ids(&*store, &Viewer::Anonymous), [second, third]);
    assert_eq!(ids(&*store, &Viewer::Local).len(), 3);
}
