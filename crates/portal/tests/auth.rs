//! Login, sessions, CSRF, rate limiting and API tokens, through the router (no network).

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use greenwatch_auth::{hash_password, secret_hash};
use greenwatch_clock::Clock;
use greenwatch_feeds::Catalogue;
use greenwatch_model::access::{Label, Role, Tlp};
use greenwatch_model::account::Organisation;
use greenwatch_model::{CountryCode, Enrichment, RiskEvent, Timestamp};
use greenwatch_netdb::NetDb;
use greenwatch_portal::{router, AppState};
use greenwatch_store::{FeedFileRecord, NewUser, Store, StoreLocation};
use serde_json::Value;
use tower::ServiceExt;

const PASSWORD: &str = "a long enough password";

/// Open resolvers: 3 in a CLEAR file of cert-a, 5 more in an AMBER file of cert-b; user
/// ana@cert-b.example.
fn fixture() -> (tempfile::TempDir, Router, Box<dyn Store>) {
    fixture_at(Clock::system())
}

/// [`fixture`] with the portal's time taken from `clock`.
fn fixture_at(clock: Clock) -> (tempfile::TempDir, Router, Box<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let mut store =
        greenwatch_store_open::open(&StoreLocation::Sqlite(dir.path().join("greenwatch.sqlite")))
            .unwrap();
    for (hash, owner, tlp, hosts) in [
        ("a", "cert-a", Tlp::Clear, 3),
        ("b", "cert-b", Tlp::Amber, 5),
    ] {
        let mut w = store.begin_feed_file(owner, hash).unwrap();
        let day = "2026-10-05".parse().unwrap();
        let events: Vec<RiskEvent> = (0..hosts)
            .map(|i| RiskEvent {
                ip: format!("192.0.2.{}", i + if owner == "cert-a" { 1 } else { 100 })
                    .parse()
                    .unwrap(),
                port: 53,
                time: Timestamp::parse("2026-10-05").unwrap(),
                line: i + 2,
                feed_asn: 0,
                feed_country: CountryCode::UNKNOWN,
                enrichment: Enrichment::default(),
            })
            .collect();
        w.write_events("openrecursivedns", day, &events).unwrap();
        w.commit(&FeedFileRecord {
            content_hash: hash.into(),
            path: format!("{hash}.csv"),
            format: "shadowserver".into(),
            report_type: Some("scan_dns".into()),
            label: Label {
                owner: owner.into(),
                tlp,
            },
            counts: Default::default(),
            ingested_at: Timestamp(1),
        })
        .unwrap();
    }
    for slug in ["cert-a", "cert-b"] {
        let org = Organisation {
            slug: slug.into(),
            name: slug.into(),
            created_at: Timestamp(1),
        };
        store.create_org(&org, "test").unwrap();
    }
    let user = NewUser {
        login: "ana@cert-b.example".into(),
        org: "cert-b".into(),
        role: Role::Member,
        password_hash: hash_password(PASSWORD).unwrap(),
    };
    store.create_user(&user, "test", Timestamp(1)).unwrap();
    let state = AppState::new(
        dir.path().to_path_buf(),
        NetDb::from_snapshots(Vec::new()),
        Catalogue::shipped(),
    )
    .with_clock(clock);
    (dir, router(state), store)
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .unwrap();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn get(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut r = Request::get(uri);
    if let Some(c) = cookie {
        r = r.header(header::COOKIE, c);
    }
    r.body(Body::empty()).unwrap()
}

fn post(uri: &str, cookie: &str, form: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap()
}

/// The value a `Set-Cookie` header gives cookie `name`, with the header itself.
fn set_cookie(reply: &Reply, name: &str) -> Option<(String, String)> {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .find_map(|v| {
            let text = v.to_str().unwrap().to_string();
            let value = text
                .strip_prefix(&format!("{name}="))?
                .split(';')
                .next()?
                .to_string();
            Some((value, text))
        })
}

/// GET /login; returns the CSRF token (cookie value, also in the form).
async fn login_form(app: &Router) -> String {
    let page = send(app, get("/login", None)).await;
    assert_eq!(page.status, StatusCode::OK);
    let (csrf, _) = set_cookie(&page, "gw_login_csrf").expect("a CSRF cookie");
    assert!(page
        .body
        .contains(&format!("name=\"csrf\" value=\"{csrf}\"")));
    csrf
}

async fn log_in(app: &Router, password: &str) -> Reply {
    let csrf = login_form(app).await;
    let form = format!(
        "login=ana%40cert-b.example&password={}&csrf={csrf}",
        password.replace(' ', "+")
    );
    send(app, post("/login", &format!("gw_login_csrf={csrf}"), &form)).await
}

async fn world_hosts(app: &Router, request: Request<Body>) -> Value {
    let reply = send(app, request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let rows: Value = serde_json::from_str(&reply.body).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["country"] == "WORLD")
        .map(|r| r["hosts"].clone())
        .unwrap_or(Value::from(0))
}

const METRICS: &str = "/api/v1/metrics?risk=openrecursivedns&period=month&at=2026-10";

#[tokio::test]
async fn logging_in_sets_a_strict_session_cookie_and_shows_the_organisations_amber_data() {
    let (_dir, app, store) = fixture();
    assert_eq!(
        world_hosts(&app, get(METRICS, None)).await,
        3,
        "the public sees CLEAR only"
    );
    let reply = log_in(&app, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let (session, header_text) = set_cookie(&reply, "gw_session").unwrap();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(header_text.contains(attribute), "{header_text}");
    }
    let cookie = format!("gw_session={session}");
    assert_eq!(world_hosts(&app, get(METRICS, Some(&cookie))).await, 8);
    let page = send(&app, get("/", Some(&cookie))).await;
    assert!(page.body.contains("ana@cert-b.example"));

    // Log out: the page's form carries the session's CSRF token; without it nothing happens.
    let bad = send(&app, post("/logout", &cookie, "csrf=forged")).await;
    assert_eq!(bad.status, StatusCode::FORBIDDEN);
    assert_eq!(
        world_hosts(&app, get(METRICS, Some(&cookie))).await,
        8,
        "still logged in"
    );
    let page = send(&app, get("/logout", Some(&cookie))).await;
    let csrf = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let out = send(&app, post("/logout", &cookie, &format!("csrf={csrf}"))).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        world_hosts(&app, get(METRICS, Some(&cookie))).await,
        3,
        "the old cookie is dead"
    );

    let log = store.audit_log(10).unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(&actions[..2], ["logout", "login"]);
    assert!(!format!("{log:?}").contains(PASSWORD));
    assert!(!format!("{log:?}").contains(&session));
}

#[tokio::test]
async fn a_session_lives_twelve_hours_of_the_portals_clock_and_the_audit_keeps_its_times() {
    let start = Timestamp::parse("2026-10-05T08:00:00Z").unwrap();
    let clock = Clock::manual(start);
    let (_dir, app, store) = fixture_at(clock.clone());
    let reply = log_in(&app, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let (session, _) = set_cookie(&reply, "gw_session").unwrap();
    let cookie = format!("gw_session={session}");
    let login = &store.audit_log(1).unwrap()[0];
    assert_eq!((login.action.as_str(), login.at), ("login", start));

    clock.advance(std::time::Duration::from_secs(12 * 3600 - 1));
    assert_eq!(
        world_hosts(&app, get(METRICS, Some(&cookie))).await,
        8,
        "a second before the end the session still holds"
    );
    clock.advance(std::time::Duration::from_secs(1));
    assert_eq!(
        world_hosts(&app, get(METRICS, Some(&cookie))).await,
        3,
        "twelve hours after login the cookie is the public's"
    );
}

#[tokio::test]
async fn a_login_without_the_forms_csrf_token_is_refused() {
    let (_dir, app, _store) = fixture();
    let csrf = login_form(&app).await;
    let form = format!(
        "login=ana%40cert-b.example&password={}&csrf={csrf}",
        PASSWORD.replace(' ', "+")
    );
    // Cross-site: the attacker's page can post the form but cannot set our cookie.
    let reply = send(&app, post("/login", "", &form)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = send(&app, post("/login", "gw_login_csrf=other", &form)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(set_cookie(&reply, "gw_session").is_none());
}

#[tokio::test]
async fn wrong_passwords_are_refused_then_slowed_down() {
    let (_dir, app, store) = fixture();
    for _ in 0..5 {
        let reply = log_in(&app, "not the password").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert!(reply.body.contains("Wrong login or password"));
        assert!(set_cookie(&reply, "gw_session").is_none());
    }
    let reply = log_in(&app, PASSWORD).await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let retry: u64 = reply.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        retry > 0 && retry <= 60,
        "a minute after the 5th failure, not {retry} s"
    );
    let failures = store
        .audit_log(10)
        .unwrap()
        .iter()
        .filter(|e| e.action == "login.failure")
        .count();
    assert_eq!(failures, 5);
}

#[tokio::test]
async fn api_tokens_authenticate_scripts_and_bad_tokens_are_401() {
    let (_dir, app, mut store) = fixture();
    let user = store.user_by_login("ana@cert-b.example").unwrap().unwrap();
    let secret = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let id = store
        .create_token(
            user.id,
            &greenwatch_model::account::NewApiToken::new(
                "test",
                &greenwatch_model::account::TokenScope::ALL,
                None,
            ),
            &secret_hash(secret),
            "test",
            Timestamp(2),
        )
        .unwrap();
    let with = |token: &str| {
        Request::get(METRICS)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(world_hosts(&app, with(secret)).await, 8);
    let bad = send(&app, with("wrong")).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        bad.headers[header::CONTENT_TYPE],
        "application/problem+json"
    );
    store.revoke_token(id, "test", Timestamp(3)).unwrap();
    assert_eq!(
        send(&app, with(secret)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let basic = Request::get(METRICS)
        .header(header::AUTHORIZATION, "Basic YTpi")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, basic).await.status, StatusCode::UNAUTHORIZED);
}
