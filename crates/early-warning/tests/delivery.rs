//! Deliveries to stored subscriptions run side by side: a receiver that never answers holds
//! up its own subscription only, and an alert it keeps failing is given up, not tried forever.

use greenwatch_alert::{Outbound, Outcome, Persistence, Retry};
use greenwatch_early_warning::Deliveries;
use greenwatch_model::access::{Label, Tlp};
use greenwatch_model::account::Organisation;
use greenwatch_model::alert::{
    NewAlert, NewSubscription, Severity, Subscription, SubscriptionChannel,
};
use greenwatch_model::anonymise::CryptoPan;
use greenwatch_model::Timestamp;
use greenwatch_store::{Store, StoreLocation};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

fn now() -> Timestamp {
    Timestamp::from_secs(1_791_170_000)
}

/// What the receivers saw, in the order they saw it.
#[derive(Debug, PartialEq)]
enum Event {
    /// The answering receiver got its POST.
    Answered,
    /// The client stopped waiting for the black hole's answer.
    BlackHoleLeft,
}

/// Answers one POST with 200 and says so.
fn answering_receiver(events: mpsc::Sender<Event>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut length = 0;
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 2 {
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            line.clear();
        }
        reader.read_exact(&mut vec![0; length]).unwrap();
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        events.send(Event::Answered).unwrap();
    });
    url
}

/// Accepts connections and never answers. The first is handed to the test (to close when it
/// has seen enough) and watched until the client leaves; later ones are closed at once.
fn black_hole(events: mpsc::Sender<Event>) -> (String, mpsc::Receiver<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (held_tx, held) = mpsc::channel();
    std::thread::spawn(move || {
        let (first, _) = listener.accept().unwrap();
        held_tx.send(first.try_clone().unwrap()).unwrap();
        std::thread::spawn(move || {
            // Reads the request and then waits: the read ends when the client gives up.
            let _ = std::io::copy(&mut &first, &mut std::io::sink());
            let _ = events.send(Event::BlackHoleLeft);
        });
        for later in listener.incoming() {
            drop(later);
        }
    });
    (url, held)
}

fn subscribe(store: &mut dyn Store, org: &str, url: String) -> Subscription {
    store
        .create_org(
            &Organisation {
                slug: org.into(),
                name: org.into(),
                created_at: now(),
            },
            "test",
        )
        .unwrap();
    store
        .subscribe(&NewSubscription {
            org: org.into(),
            channel: SubscriptionChannel::Webhook {
                url,
                secret: "k".into(),
            },
            min_severity: Severity::Low,
            created_by: "analyst".into(),
            created_at: now(),
        })
        .unwrap()
}

/// Runs one round to its end and records its outcomes in `store`.
fn round(
    store: &mut dyn Store,
    deliveries: &Deliveries,
    persistence: &Persistence,
    before_the_end: impl FnOnce(),
) -> Vec<Outcome> {
    let (tx, outcomes) = mpsc::channel();
    let threads = deliveries
        .start_round(
            &*store,
            &CryptoPan::new(b"the delivery tests' key, 32 byte"),
            &Outbound {
                webhooks_to_internal: true,
                ..Outbound::default()
            },
            persistence,
            now,
            move |o| tx.send(o).unwrap(),
        )
        .unwrap();
    before_the_end();
    for thread in threads {
        thread.join().unwrap();
    }
    let outcomes: Vec<Outcome> = outcomes.into_iter().collect();
    for outcome in &outcomes {
        outcome.record(store).unwrap();
    }
    outcomes
}

#[test]
fn a_black_hole_webhook_delays_no_other_subscription_and_is_given_up_after_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut store =
        greenwatch_store_open::open(&StoreLocation::Sqlite(dir.path().join("gw.sqlite"))).unwrap();
    let (events_tx, events) = mpsc::channel();
    let (hole_url, held) = black_hole(events_tx.clone());
    // The black hole's subscription comes first, where a round in order would be stuck on it.
    let hole = subscribe(&mut *store, "cert-b", hole_url);
    let answering = subscribe(&mut *store, "cert-a", answering_receiver(events_tx));
    store
        .raise_alert(&NewAlert {
            key: Some("test:public".into()),
            severity: Severity::High,
            title: "Public notice".into(),
            summary: "for everyone".into(),
            affected: Vec::new(),
            first_seen: now(),
            last_seen: now(),
            author: "ana".into(),
            label: Label {
                owner: "cert-a".into(),
                tlp: Tlp::Clear,
            },
            evidence: None,
            created_at: now(),
        })
        .unwrap();
    let persistence = Persistence {
        retry: Retry {
            attempts: 1,
            first_backoff: Duration::ZERO,
        },
        give_up_after: 2,
        round_budget: Duration::from_secs(600),
    };
    let deliveries = Deliveries::default();

    let first = round(&mut *store, &deliveries, &persistence, || {
        assert_eq!(
            events.recv().unwrap(),
            Event::Answered,
            "cert-a got its alert while the black hole still held cert-b's POST"
        );
        // Enough seen: the black hole hangs up, so the round ends now.
        held.recv().unwrap().shutdown(Shutdown::Both).unwrap();
    });
    let outcome_of = |outcomes: &[Outcome], subscription: &Subscription| {
        outcomes
            .iter()
            .find(|o| o.subscription == subscription.id)
            .map(|o| o.delivery.outcome.clone())
    };
    assert!(
        matches!(outcome_of(&first, &answering), Some(Ok(_))),
        "{first:?}"
    );
    assert!(
        matches!(outcome_of(&first, &hole), Some(Err(_))),
        "{first:?}"
    );

    // The second failure reaches the limit: the alert is given up for cert-b, and says so.
    let second = round(&mut *store, &deliveries, &persistence, || {});
    assert_eq!(second.len(), 1, "only cert-b had something due: {second:?}");
    let error = outcome_of(&second, &hole).unwrap().unwrap_err();
    assert!(error.starts_with("given up after 2 attempts: "), "{error}");
    let failed = store.failed_deliveries(&hole.channel_name()).unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 2);
    assert!(failed[0].last_error.starts_with("given up"), "{failed:?}");

    // Nothing is tried again.
    assert!(round(&mut *store, &deliveries, &persistence, || {}).is_empty());
    assert_eq!(
        store.failed_deliveries(&hole.channel_name()).unwrap()[0].attempts,
        2
    );
}
