//! Many distinct, expensive questions about one busy sensor at once, as the probe asked them
//! (20 connections for 25 s completed no request and took the server to 8.2 GB): every
//! request is answered (200, or 503 with `Retry-After` when the computing slots stay taken),
//! and memory stays bounded. One test in its own binary, so that the process's peak resident
//! size is this test's alone.

mod common;

use axum::http::{header, StatusCode};
use common::*;
use greenwatch_model::access::{Label, Role, Tlp};
use greenwatch_model::Timestamp;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sensor_questions_are_answered_within_bounded_memory() {
    let mut f = fixture();
    let (member, _) = sign_in(&mut *f.store, "ana@cert-a", "cert-a", Role::Member, 1);
    register_sensor(
        &mut *f.store,
        "cert-a",
        "a-busy",
        "203.0.113.0/24",
        Tlp::Clear,
    );
    let busy = observe(&f.netdb, 9, 100_000);
    let label = Label {
        owner: "cert-a".into(),
        tlp: Tlp::Clear,
    };
    store_sensor_capture(&mut *f.store, "busy", "a-busy", label, &busy);
    let (first, last) = (busy.buckets[0].bucket, busy.buckets.last().unwrap().bucket);
    drop(busy);

    // Every window of whole hours over the data, each asked twice, and the comparison.
    let hour = |h: i64| Timestamp::from_secs(first + h * 3600).to_rfc3339();
    let hours = (last - first) / 3600 + 1;
    let mut uris = Vec::new();
    for from in 0..hours {
        for to in from + 1..=hours {
            let window = format!("from={}&to={}", hour(from), hour(to));
            uris.push(format!("/api/v1/sensors/cert-a/a-busy?{window}"));
            uris.push(format!("/api/v1/sensors/cert-a/a-busy?{window}"));
            uris.push(format!("/api/v1/sensors/compare?{window}"));
        }
    }
    reset_peak();
    let before = peak_rss();
    let asked: Vec<_> = uris
        .iter()
        .map(|uri| {
            let (app, member, uri) = (f.app.clone(), member.clone(), uri.clone());
            tokio::spawn(async move { get_as(&app, &uri, Some(&member)).await })
        })
        .collect();
    let (mut answered, mut busy_answers) = (0, 0);
    for request in asked {
        let reply = request.await.unwrap();
        match reply.status {
            StatusCode::OK => answered += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(reply.headers.contains_key(header::RETRY_AFTER));
                busy_answers += 1;
            }
            other => panic!("{other}: {}", reply.body),
        }
    }
    let grown = peak_rss().saturating_sub(before);
    eprintln!(
        "{} requests: {answered} answered, {busy_answers} busy; peak grew {} MiB",
        uris.len(),
        grown >> 20
    );
    assert_eq!(answered + busy_answers, uris.len());
    assert!(answered > 0);
    assert!(
        grown < 400 << 20,
        "memory grew {} MiB for {} concurrent questions",
        grown >> 20,
        uris.len()
    );
}
