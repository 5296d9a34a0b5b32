//! Uploads through the portal: a capture and a feed sent as multipart forms are ingested by
//! the same code as `greenwatch ingest`, their jobs report progress and outcome (with bad rows
//! by line), the data appears for the uploader's organisation only, every upload is audited,
//! and forged, anonymous or member-role uploads write nothing.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use greenwatch_model::access::Role;
use serde_json::Value;
use std::time::{Duration, Instant};

const BOUNDARY: &str = "----greenwatch-test-boundary";

/// A multipart/form-data body: the text fields, then the file (when given) as `file`.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    if let Some((file_name, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn post_multipart(app: &axum::Router, uri: &str, auth: (&str, &str), body: Vec<u8>) -> Reply {
    let request = Request::post(uri)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header(auth.0, auth.1)
        .body(Body::from(body))
        .unwrap();
    send(app, request).await
}

/// Polls the job until it is done (30 s at most) and returns its last status.
async fn finished(app: &axum::Router, job: &str, cookie: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = get_as(app, &format!("/api/v1/uploads/{job}"), Some(cookie)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let status = reply.json();
        if status["state"] == "done" {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "upload {job} still running: {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn register_lab_sensor(f: &mut Fixture, org: &str, name: &str) {
    let tlp = greenwatch_model::access::Tlp::Amber;
    register_sensor(&mut *f.store, org, name, "198.51.100.0/24", tlp);
}

fn total_packets(overview: &Value) -> u64 {
    overview["totals"]["packets"].as_u64().unwrap()
}

fn uploads_left(f: &Fixture) -> usize {
    std::fs::read_dir(f._dir.path().join("uploads"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_uploads_a_capture_that_only_their_organisation_then_sees() {
    let mut f = fixture_with(None);
    let (cookie, csrf) = sign_in(&mut *f.store, "ana@cert-b", "cert-b", Role::Analyst, 1);
    let (other, _) = sign_in(&mut *f.store, "otto@cert-c", "cert-c", Role::Analyst, 2);
    let before = total_packets(
        &get_as(&f.app, "/api/v1/overview", Some(&cookie))
            .await
            .json(),
    );

    let page = get_as(&f.app, "/upload", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(form_csrf(&page.body), csrf);
    register_lab_sensor(&mut f, "cert-b", "lab-1");
    let pcap = capture(&f.netdb, 2, 10_000);
    let body = multipart(
        &[
            ("csrf", &csrf),
            ("kind", "capture"),
            ("tlp", "amber"),
            ("sensor", "lab-1"),
        ],
        Some(("../night shift.pcap", &pcap)),
    );
    let reply = post_multipart(&f.app, "/upload", ("cookie", &cookie), body).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let location = reply.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let job = location.strip_prefix("/uploads/").unwrap().to_string();
    assert_eq!(job.len(), 32);

    let status = finished(&f.app, &job, &cookie).await;
    let outcome = &status["outcome"];
    assert_eq!(outcome["status"], "ingested", "{status}");
    assert_eq!(status["name"], "nightshift.pcap");
    assert_eq!(status["owner"], "cert-b");
    assert_eq!(status["tlp"], "TLP:AMBER");
    assert_eq!(status["done"], status["total"]);
    assert_eq!(status["total"].as_u64(), Some(pcap.len() as u64));
    let uploaded = outcome["packets"].as_u64().unwrap();
    assert_eq!(uploaded, f.amber.counts.packets);

    // The job page shows the outcome; the file is gone from disk, the data is stored.
    let page = get_as(&f.app, &location, Some(&cookie)).await;
    assert!(page.body.contains("ingested") && !page.body.contains("http-equiv=\"refresh\""));
    assert_eq!(uploads_left(&f), 0);
    let after = get_as(&f.app, "/api/v1/overview", Some(&cookie))
        .await
        .json();
    assert_eq!(total_packets(&after), before + uploaded);

    // AMBER of cert-b: the public and cert-c do not see it, nor the job.
    let public = get(&f.app, "/api/v1/overview").await.json();
    assert_eq!(total_packets(&public), before);
    let foreign = get_as(&f.app, "/api/v1/overview", Some(&other))
        .await
        .json();
    assert_eq!(total_packets(&foreign), before);
    let probe = get_as(&f.app, &format!("/api/v1/uploads/{job}"), Some(&other)).await;
    assert_eq!(probe.status, StatusCode::NOT_FOUND);
    let listed = get_as(&f.app, "/api/v1/uploads", Some(&other)).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 0);

    // Audited with who, what and the outcome.
    let audit = f.store.audit_log(10).unwrap();
    let entry = audit.iter().find(|e| e.action == "capture.upload").unwrap();
    assert_eq!(entry.actor, "ana@cert-b");
    assert_eq!(entry.target, "nightshift.pcap");
    assert!(entry.detail.contains("ingested") && entry.detail.contains("blake3:"));

    // The same bytes again: acknowledged, stored once.
    let body = multipart(
        &[("csrf", &csrf), ("kind", "capture")],
        Some(("again.pcap", &pcap)),
    );
    let reply = post_multipart(&f.app, "/api/v1/uploads", ("cookie", &cookie), body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let again = finished(&f.app, reply.json()["id"].as_str().unwrap(), &cookie).await;
    assert_eq!(again["outcome"]["status"], "already_ingested");
    let still = get_as(&f.app, "/api/v1/overview", Some(&cookie))
        .await
        .json();
    assert_eq!(total_packets(&still), before + uploaded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_upload_reports_its_bad_rows_by_line_and_a_broken_capture_says_where() {
    let mut f = fixture_with(None);
    let (cookie, csrf) = sign_in(&mut *f.store, "ana@cert-b", "cert-b", Role::Admin, 1);
    let feed = "\"timestamp\",\"ip\",\"protocol\",\"port\",\"asn\",\"geo\"\n\
                \"2026-10-05 01:00:00\",\"2.0.0.1\",\"udp\",53,64501,\"FR\"\n\
                \"2026-10-05 01:00:00\",\"2.0.0.300\",\"udp\",53,64501,\"FR\"\n\
                \"yesterday\",\"2.0.0.2\",\"udp\",53,64501,\"FR\"\n\
                \"2026-10-05 03:00:00\",\"2.0.0.3\",\"udp\",53,64501,\"FR\"\n";
    let body = multipart(
        &[("csrf", &csrf), ("kind", "feed"), ("tlp", "green")],
        Some(("2026-10-05-scan_dns-cert-b-asn.csv", feed.as_bytes())),
    );
    let reply = post_multipart(&f.app, "/api/v1/uploads", ("cookie", &cookie), body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let job = reply.json()["id"].as_str().unwrap().to_string();
    let status = finished(&f.app, &job, &cookie).await;
    let outcome = &status["outcome"];
    assert_eq!(outcome["status"], "ingested", "{status}");
    assert_eq!(outcome["info"]["report_type"], "scan_dns");
    assert_eq!(outcome["counts"]["events"], 2);
    assert_eq!(outcome["counts"]["bad_rows"], 2);
    let lines: Vec<u64> = outcome["bad_examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4]);
    let page = get_as(&f.app, &format!("/uploads/{job}"), Some(&cookie)).await;
    assert!(page.body.contains("Bad rows"), "{}", page.body);
    assert!(page.body.contains("<td class=\"num\">3</td>"));

    // A capture cut in the middle of a record: stored up to there, the error says where.
    let pcap = capture(&f.netdb, 3, 5_000);
    let cut = &pcap[..pcap.len() / 2 + 3];
    let body = multipart(
        &[("csrf", &csrf), ("kind", "capture")],
        Some(("cut.pcap", cut)),
    );
    let reply = post_multipart(&f.app, "/api/v1/uploads", ("cookie", &cookie), body).await;
    let status = finished(&f.app, reply.json()["id"].as_str().unwrap(), &cookie).await;
    assert_eq!(status["outcome"]["status"], "partial", "{status}");
    let error = status["outcome"]["error"].as_str().unwrap();
    assert!(error.contains("offset"), "{error}");

    // Not a capture at all: failed, nothing stored, the reason shown.
    let body = multipart(
        &[("csrf", &csrf), ("kind", "capture")],
        Some(("notes.txt", b"hello")),
    );
    let reply = post_multipart(&f.app, "/api/v1/uploads", ("cookie", &cookie), body).await;
    let status = finished(&f.app, reply.json()["id"].as_str().unwrap(), &cookie).await;
    assert_eq!(status["outcome"]["status"], "failed");
    assert!(status["outcome"]["error"]
        .as_str()
        .unwrap()
        .contains("not a readable capture"));
    assert_eq!(uploads_left(&f), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_anonymous_and_member_uploads_write_nothing() {
    let mut f = fixture_with(None);
    let (analyst, csrf) = sign_in(&mut *f.store, "ana@cert-b", "cert-b", Role::Analyst, 1);
    let (member, member_csrf) = sign_in(&mut *f.store, "mo@cert-b", "cert-b", Role::Member, 2);
    let pcap = capture(&f.netdb, 2, 2_000);
    let captures_before = { f.store.captures().unwrap().len() };
    // (what, cookie, form fields before the file, expected status)
    type Case<'a> = (
        &'a str,
        Option<&'a str>,
        Vec<(&'a str, &'a str)>,
        StatusCode,
    );
    let cases: [Case; 5] = [
        (
            "no CSRF token",
            Some(&analyst),
            vec![("kind", "capture")],
            StatusCode::FORBIDDEN,
        ),
        (
            "a wrong CSRF token",
            Some(&analyst),
            vec![("csrf", "forged"), ("kind", "capture")],
            StatusCode::FORBIDDEN,
        ),
        (
            "the CSRF token after the file",
            Some(&analyst),
            vec![],
            StatusCode::FORBIDDEN,
        ),
        (
            "anonymous",
            None,
            vec![("kind", "capture")],
            StatusCode::UNAUTHORIZED,
        ),
        (
            "a member",
            Some(&member),
            vec![("csrf", &member_csrf), ("kind", "capture")],
            StatusCode::FORBIDDEN,
        ),
    ];
    for (what, cookie, fields, expected) in cases {
        for uri in ["/upload", "/api/v1/uploads"] {
            let mut body = multipart(&fields, Some(("x.pcap", &pcap)));
            if what == "the CSRF token after the file" {
                body = multipart(&[("kind", "capture")], Some(("x.pcap", &pcap)));
                let end = format!("--{BOUNDARY}--\r\n");
                body.truncate(body.len() - end.len());
                body.extend_from_slice(
                    format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n{end}")
                        .as_bytes(),
                );
            }
            let mut request = Request::post(uri).header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            );
            if let Some(c) = cookie {
                request = request.header(header::COOKIE, c);
            }
            let reply = send(&f.app, request.body(Body::from(body)).unwrap()).await;
            assert_eq!(reply.status, expected, "{what} at {uri}: {}", reply.body);
        }
    }
    assert_eq!(uploads_left(&f), 0, "nothing was written to disk");
    assert_eq!(f.store.captures().unwrap().len(), captures_before);
    // The upload page itself sends the public to the login page and tells members why not.
    let public = get(&f.app, "/upload").await;
    assert_eq!(public.status, StatusCode::SEE_OTHER);
    let refused = get_as(&f.app, "/upload", Some(&member)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("analyst or admin"),
        "{}",
        refused.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_uploads_with_an_api_token_and_no_csrf() {
    let mut f = fixture_with(None);
    let (cookie, _) = sign_in(&mut *f.store, "ana@cert-b", "cert-b", Role::Analyst, 1);
    let user = f.store.user_by_login("ana@cert-b").unwrap().unwrap();
    let secret = "b".repeat(64);
    f.store
        .create_token(
            user.id,
            &greenwatch_model::account::NewApiToken::new(
                "ci",
                &greenwatch_model::account::TokenScope::ALL,
                None,
            ),
            &greenwatch_auth::secret_hash(&secret),
            "test",
            greenwatch_model::Timestamp(1),
        )
        .unwrap();
    let pcap = capture(&f.netdb, 4, 3_000);
    let body = multipart(
        &[("kind", "capture"), ("tlp", "clear")],
        Some(("ci.pcap", &pcap)),
    );
    let bearer = format!("Bearer {secret}");
    let reply = post_multipart(&f.app, "/api/v1/uploads", ("authorization", &bearer), body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let job = reply.json();
    assert_eq!(
        job["links"]["self"],
        format!("/api/v1/uploads/{}", job["id"].as_str().unwrap())
    );
    let status = finished(&f.app, job["id"].as_str().unwrap(), &cookie).await;
    assert_eq!(status["outcome"]["status"], "ingested");
    // CLEAR: now public.
    let public = get(&f.app, "/api/v1/overview").await.json();
    assert_eq!(
        total_packets(&public),
        f.clear.counts.packets + status["outcome"]["packets"].as_u64().unwrap()
    );
}

/// An upload names a sensor only of its own organisation: naming another organisation's
/// sensor (or one nobody registered) is refused before anything is written, so nobody adds
/// packets to someone else's sensor page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_names_only_its_own_organisations_sensors() {
    let mut f = fixture();
    let (cookie, csrf) = sign_in(&mut *f.store, "ana@cert-a", "cert-a", Role::Analyst, 1);
    sign_in(&mut *f.store, "bo@cert-b", "cert-b", Role::Analyst, 2);
    register_lab_sensor(&mut f, "cert-b", "b-tokyo");
    let pcap = capture(&f.netdb, 2, 2_000);
    for sensor in ["b-tokyo", "nobody-1"] {
        let body = multipart(
            &[
                ("csrf", &csrf),
                ("kind", "capture"),
                ("tlp", "green"),
                ("sensor", sensor),
            ],
            Some(("x.pcap", &pcap)),
        );
        let reply = post_multipart(&f.app, "/upload", ("cookie", &cookie), body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert!(
            unescape(&reply.body).contains(&format!(
                "sensor {sensor}: your organisation has no sensor of that name"
            )),
            "{}",
            reply.body
        );
    }
    assert_eq!(uploads_left(&f), 0);
    assert_eq!(
        greenwatch_store::ObservationStore::captures(&*f.store)
            .unwrap()
            .len(),
        2,
        "only the fixture's captures"
    );
}

/// Datasets are per organisation: the same bytes uploaded by another organisation are stored
/// for it (not "already ingested, packets 0", which also told it that someone holds the
/// file); the same organisation uploading them again changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_file_from_two_organisations_is_two_datasets() {
    let mut f = fixture_with(None);
    let (b, b_csrf) = sign_in(&mut *f.store, "ana@cert-b", "cert-b", Role::Analyst, 1);
    let (c, c_csrf) = sign_in(&mut *f.store, "cy@cert-c", "cert-c", Role::Analyst, 2);
    let pcap = capture(&f.netdb, 7, 3_000);
    let upload = |cookie: String, csrf: String| {
        let (app, pcap) = (f.app.clone(), pcap.clone());
        async move {
            let fields = [("csrf", csrf.as_str()), ("kind", "capture"), ("tlp", "red")];
            let body = multipart(&fields, Some(("secret.pcap", &pcap)));
            let reply = post_multipart(&app, "/api/v1/uploads", ("cookie", &cookie), body).await;
            assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
            finished(&app, reply.json()["id"].as_str().unwrap(), &cookie).await["outcome"].clone()
        }
    };
    let first = upload(b.clone(), b_csrf.clone()).await;
    assert_eq!(first["status"], "ingested", "{first}");
    let other = upload(c.clone(), c_csrf.clone()).await;
    assert_eq!(
        other["status"], "ingested",
        "cert-c stores its own copy: {other}"
    );
    assert_eq!(other["packets"], first["packets"]);
    let again = upload(b.clone(), b_csrf.clone()).await;
    assert_eq!(again["status"], "already_ingested", "{again}");
    // Each sees the public data and its own RED copy, never the other's.
    let public = total_packets(&get(&f.app, "/api/v1/overview").await.json());
    for (cookie, org) in [(&b, "cert-b"), (&c, "cert-c")] {
        let seen = get_as(&f.app, "/api/v1/overview", Some(cookie))
            .await
            .json();
        assert_eq!(
            total_packets(&seen),
            public + first["packets"].as_u64().unwrap(),
            "{org} sees its own RED copy and only it"
        );
    }
}
