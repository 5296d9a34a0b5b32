//! The sensors page's forms: a member registers a sensor of their organisation and sees its
//! token once (only its hash is stored), forms need the session's CSRF token, and only the
//! owner organisation (or an admin) revokes; members register only address space of their
//! organisation's constituency, admins any.

mod common;

use axum::http::StatusCode;
use common::*;
use greenwatch_model::access::{Role, Tlp};
use greenwatch_model::account::Constituency;
use greenwatch_model::sensor::SensorRef;
use greenwatch_model::Timestamp;

/// Whether sensor `sensor` is revoked; `None` when it does not exist.
fn revoked(f: &Fixture, sensor: &SensorRef) -> Option<bool> {
    let found = f.store.sensor(sensor).unwrap();
    found.map(|s| s.revoked_at.is_some())
}

/// The answer to `who`'s revocation of sensor `org/name`.
async fn revoke(f: &Fixture, sensor: &str, who: &str, csrf: &str) -> Reply {
    let uri = format!("/sensors/{sensor}/revoke");
    post_form(&f.app, &uri, Some(who), &format!("csrf={csrf}")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_register_their_sensors_see_the_token_once_and_only_owners_revoke() {
    let mut f = fixture();
    let (owner, csrf) = sign_in(
        &mut *f.store,
        "ana@cert-b.example",
        "cert-b",
        Role::Member,
        1,
    );
    let (other, other_csrf) = sign_in(
        &mut *f.store,
        "bo@cert-a.example",
        "cert-a",
        Role::Member,
        2,
    );

    let page = get_as(&f.app, "/sensors", Some(&owner)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(form_csrf(&page.body), csrf);
    let form = |csrf: &str, name: &str| {
        format!(
            "csrf={csrf}&name={name}&org=cert-a&block=198.51.100.0%2F24&location=Tokyo&tlp=green"
        )
    };
    let forged = post_form(&f.app, "/sensors", Some(&owner), &form("wrong", "b-1")).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(revoked(&f, &SensorRef::new("cert-b", "b-1")).is_none());

    let networks = Constituency {
        networks: vec!["198.51.100.0/22".parse().unwrap()],
    };
    f.store
        .set_constituency("cert-b", &networks, "test", Timestamp(1))
        .unwrap();
    let done = post_form(&f.app, "/sensors", Some(&owner), &form(&csrf, "b-1")).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let token = done
        .body
        .split("<code class=\"secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the token is shown")
        .to_string();
    let stored = f
        .store
        .sensor_by_token(&greenwatch_auth::secret_hash(&token))
        .unwrap()
        .unwrap();
    assert_eq!(stored.name, "b-1");
    assert_eq!(
        stored.org, "cert-b",
        "a member registers for their own organisation"
    );
    let again = get_as(&f.app, "/sensors", Some(&owner)).await;
    assert!(!again.body.contains(&token), "the token is shown once");

    let bad = post_form(&f.app, "/sensors", Some(&owner), &form(&csrf, "b-1")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        unescape(&bad.body).contains("cert-b already has a sensor named &#34;b-1&#34;"),
        "{}",
        bad.body
    );

    let foreign = revoke(&f, "cert-b/b-1", &other, &other_csrf).await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST);
    assert_eq!(revoked(&f, &SensorRef::new("cert-b", "b-1")), Some(false));
    let done = revoke(&f, "cert-b/b-1", &owner, &csrf).await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(revoked(&f, &SensorRef::new("cert-b", "b-1")), Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_register_sensors_only_inside_their_constituency_and_admins_anywhere() {
    let mut f = fixture();
    let (member, csrf) = sign_in(
        &mut *f.store,
        "ana@cert-b.example",
        "cert-b",
        Role::Member,
        1,
    );
    let (admin, admin_csrf) = sign_in(&mut *f.store, "op@operator", "operator", Role::Admin, 2);
    let form = |csrf: &str, name: &str, block: &str| {
        format!(
            "csrf={csrf}&name={name}&org=cert-b&block={}&location=Tokyo&tlp=green",
            block.replace('/', "%2F")
        )
    };
    let register = |who, csrf, name, block| {
        let body = form(csrf, name, block);
        let app = f.app.clone();
        async move { post_form(&app, "/sensors", Some(who), &body).await }
    };

    let none = register(&member, &csrf, "b-1", "198.51.100.0/24").await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
    assert!(
        unescape(&none.body).contains(
            "address block 198.51.100.0/24 is outside the constituency of cert-b (no networks yet)"
        ),
        "{}",
        none.body
    );
    let networks = Constituency {
        networks: vec!["198.51.100.0/22".parse().unwrap()],
    };
    f.store
        .set_constituency("cert-b", &networks, "test", Timestamp(1))
        .unwrap();
    let outside = register(&member, &csrf, "b-1", "198.51.104.0/24").await;
    assert_eq!(outside.status, StatusCode::BAD_REQUEST);
    let text = unescape(&outside.body);
    assert!(
        text.contains("198.51.104.0/24 is outside the constituency of cert-b (198.51.100.0/22)"),
        "{text}"
    );
    let wider = register(&member, &csrf, "b-1", "198.51.0.0/16").await;
    assert_eq!(wider.status, StatusCode::BAD_REQUEST);
    assert!(revoked(&f, &SensorRef::new("cert-b", "b-1")).is_none());

    let inside = register(&member, &csrf, "b-1", "198.51.102.0/24").await;
    assert_eq!(inside.status, StatusCode::OK, "{}", inside.body);
    assert!(revoked(&f, &SensorRef::new("cert-b", "b-1")).is_some());
    let by_admin = register(&admin, &admin_csrf, "b-2", "203.0.113.0/24").await;
    assert_eq!(by_admin.status, StatusCode::OK, "{}", by_admin.body);
    assert_eq!(
        f.store
            .sensor(&SensorRef::new("cert-b", "b-2"))
            .unwrap()
            .unwrap()
            .org,
        "cert-b"
    );
}

/// An organisation registers a bounded number of sensors through the portal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_registers_a_bounded_number_of_sensors() {
    let mut f = fixture();
    let (member, csrf) = sign_in(&mut *f.store, "ana@cert-b", "cert-b", Role::Member, 1);
    let networks = Constituency {
        networks: vec!["198.51.100.0/22".parse().unwrap()],
    };
    f.store
        .set_constituency("cert-b", &networks, "test", Timestamp(1))
        .unwrap();
    for i in 0..256 {
        let name = format!("b-{i}");
        register_sensor(
            &mut *f.store,
            "cert-b",
            &name,
            "198.51.100.0/24",
            Tlp::Green,
        );
    }
    let body =
        format!("csrf={csrf}&name=one-more&org=cert-b&block=198.51.101.0%2F24&location=&tlp=green");
    let refused = post_form(&f.app, "/sensors", Some(&member), &body).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("cert-b has 256 sensors"),
        "{}",
        refused.body
    );
    assert!(revoked(&f, &SensorRef::new("cert-b", "one-more")).is_none());
}

/// Another organisation's admin can neither revoke nor register a sensor of cert-a (the probe
/// revoked one); the operator can, and the audit entry is filed under cert-a.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_and_the_operator_administer_an_organisations_sensors() {
    let mut f = fixture();
    let (admin_b, admin_b_csrf) = sign_in(&mut *f.store, "adm@cert-b", "cert-b", Role::Admin, 1);
    let (operator, operator_csrf) =
        sign_in(&mut *f.store, "op@operator", "operator", Role::Admin, 2);
    sign_in(&mut *f.store, "ana@cert-a", "cert-a", Role::Member, 3);
    let a_paris = SensorRef::new("cert-a", "a-paris");
    register_sensor(
        &mut *f.store,
        "cert-a",
        "a-paris",
        "203.0.113.0/24",
        Tlp::Amber,
    );

    let refused = revoke(&f, "cert-a/a-paris", &admin_b, &admin_b_csrf).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(unescape(&refused.body).contains("Your organisation has no sensor cert-a/a-paris"));
    assert_eq!(revoked(&f, &a_paris), Some(false));

    // cert-b's admin asking for cert-a registers for cert-b (and only inside its constituency).
    let body = |csrf: &str, name: &str| {
        format!("csrf={csrf}&name={name}&org=cert-a&block=203.0.113.0%2F24&location=&tlp=green")
    };
    let elsewhere = post_form(
        &f.app,
        "/sensors",
        Some(&admin_b),
        &body(&admin_b_csrf, "b-x"),
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::BAD_REQUEST);
    assert!(unescape(&elsewhere.body).contains("outside the constituency of cert-b"));
    assert!(revoked(&f, &SensorRef::new("cert-a", "b-x")).is_none());

    let by_operator = post_form(
        &f.app,
        "/sensors",
        Some(&operator),
        &body(&operator_csrf, "a-lyon"),
    )
    .await;
    assert_eq!(by_operator.status, StatusCode::OK, "{}", by_operator.body);
    assert!(revoked(&f, &SensorRef::new("cert-a", "a-lyon")).is_some());
    let done = revoke(&f, "cert-a/a-paris", &operator, &operator_csrf).await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(revoked(&f, &a_paris), Some(true));
    let filed: Vec<String> = f
        .store
        .org_audit_log("cert-a", 10)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        filed.contains(&"sensor.revoke".to_string())
            && filed.contains(&"sensor.register".to_string()),
        "{filed:?}"
    );
}

/// A sensor page reads one window, never the sensor's whole history: with a capture 60 days
/// before the newest one, the default page counts only the last 7 days, an explicit window
/// reaches the old one, and a window past 31 days is refused (the probe's single request cost
/// ~3 s of CPU and 300 MiB by scanning everything).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sensor_page_reads_one_bounded_window() {
    let mut f = fixture();
    let (member, _) = sign_in(&mut *f.store, "ana@cert-a", "cert-a", Role::Member, 1);
    register_sensor(
        &mut *f.store,
        "cert-a",
        "a-paris",
        "203.0.113.0/24",
        Tlp::Clear,
    );
    let label = |tlp| greenwatch_model::access::Label {
        owner: "cert-a".into(),
        tlp,
    };
    let recent = f.clear.clone();
    let mut old = f.clear.clone();
    let shift = 60 * 86_400;
    for bucket in &mut old.buckets {
        bucket.bucket -= shift;
        for flow in &mut bucket.flows {
            flow.bucket -= shift;
        }
    }
    old.backscatter.clear();
    store_sensor_capture(
        &mut *f.store,
        "recent",
        "a-paris",
        label(Tlp::Clear),
        &recent,
    );
    store_sensor_capture(&mut *f.store, "old", "a-paris", label(Tlp::Clear), &old);
    let packets = |uri: &str| {
        let (app, member) = (f.app.clone(), member.clone());
        let uri = uri.to_string();
        async move {
            let reply = get_as(&app, &uri, Some(&member)).await;
            assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.body);
            reply.json()["packets"].as_u64().unwrap()
        }
    };
    let recent_packets: u64 = recent.flows().map(|f| f.packets).sum();
    assert_eq!(
        packets("/api/v1/sensors/cert-a/a-paris").await,
        recent_packets
    );
    let first = old.buckets[0].bucket;
    let from = Timestamp::from_secs(first).to_rfc3339();
    let to = Timestamp::from_secs(first + 2 * 86_400).to_rfc3339();
    let old_window = format!("/api/v1/sensors/cert-a/a-paris?from={from}&to={to}");
    assert_eq!(
        packets(&old_window).await,
        old.flows().map(|f| f.packets).sum::<u64>()
    );
    let too_long = format!(
        "/api/v1/sensors/cert-a/a-paris?from={}",
        Timestamp::from_secs(first).to_rfc3339()
    );
    let refused = get_as(&f.app, &format!("{too_long}&to=2026-12-31"), Some(&member)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("at most 31 days"), "{}", refused.body);
}

/// A token acts only within its scopes and until its expiry: a read token reads but cannot
/// upload, triage or register sensors (403 naming the scope), no token posts a form, an
/// expired token is a 401 that says so, and a `sensor` token registers and revokes the
/// organisation's sensors through the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_act_only_within_their_scopes_and_until_they_expire() {
    use axum::body::Body;
    use axum::http::{header, Request};
    use greenwatch_model::account::{NewApiToken, TokenScope};
    let mut f = fixture();
    sign_in(
        &mut *f.store,
        "ana@cert-b.example",
        "cert-b",
        Role::Admin,
        1,
    );
    let user = f
        .store
        .user_by_login("ana@cert-b.example")
        .unwrap()
        .unwrap();
    f.store
        .set_constituency(
            "cert-b",
            &Constituency {
                networks: vec!["198.51.100.0/22".parse().unwrap()],
            },
            "test",
            Timestamp(1),
        )
        .unwrap();
    let now = Timestamp(chrono::Utc::now().timestamp_micros());
    let mut token = |name: &str, scopes: &[TokenScope], expires: Option<Timestamp>| {
        let secret = format!("{name:0>64}");
        f.store
            .create_token(
                user.id,
                &NewApiToken::new(name, scopes, expires),
                &greenwatch_auth::secret_hash(&secret),
                "test",
                Timestamp(1),
            )
            .unwrap();
        secret
    };
    let reader = token("reader", &[TokenScope::Read], None);
    let uploader = token("uploader", &[TokenScope::Upload], None);
    let provisioner = token("provisioner", &[TokenScope::Sensor], None);
    let expired = token("expired", &TokenScope::ALL, Some(Timestamp(now.0 - 1)));
    let current = token(
        "current",
        &[TokenScope::Read],
        Some(Timestamp(now.0 + 3_600_000_000)),
    );

    let call = |method: &str, uri: &str, secret: &str, body: &str, kind: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {secret}"))
            .header(header::CONTENT_TYPE, kind)
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let json = "application/json";
    let get = |secret: &str| call("GET", "/api/v1/overview", secret, "", json);
    assert_eq!(send(&f.app, get(&reader)).await.status, StatusCode::OK);
    assert_eq!(send(&f.app, get(&current)).await.status, StatusCode::OK);
    let no_read = send(&f.app, get(&uploader)).await;
    assert_eq!(no_read.status, StatusCode::FORBIDDEN);
    assert!(
        no_read.body.contains("needs scope read"),
        "{}",
        no_read.body
    );
    let late = send(&f.app, get(&expired)).await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED);
    assert!(late.body.contains("expired"), "{}", late.body);

    let sensor = r#"{"name": "b-api", "block": "198.51.100.0/24", "tlp": "green"}"#;
    for (uri, body, scope) in [
        ("/api/v1/uploads", "", "upload"),
        (
            "/api/v1/alerts/triage",
            r#"{"ids": [1], "state": "acknowledged"}"#,
            "triage",
        ),
        ("/api/v1/sensors", sensor, "sensor"),
    ] {
        let refused = send(&f.app, call("POST", uri, &reader, body, json)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{uri}");
        assert!(
            refused.body.contains(&format!("needs scope {scope}")),
            "{uri}: {}",
            refused.body
        );
    }
    assert!(revoked(&f, &SensorRef::new("cert-b", "b-api")).is_none());
    let form = send(
        &f.app,
        call(
            "POST",
            "/account/tokens",
            &reader,
            "name=more&scope_upload=on",
            "application/x-www-form-urlencoded",
        ),
    )
    .await;
    assert_eq!(form.status, StatusCode::FORBIDDEN, "{}", form.body);
    assert!(f
        .store
        .tokens(user.id)
        .unwrap()
        .iter()
        .all(|t| t.name != "more"));

    let made = send(
        &f.app,
        call("POST", "/api/v1/sensors", &provisioner, sensor, json),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let made = made.json();
    assert_eq!(made["sensor"], "cert-b/b-api");
    let sensor_token = made["token"].as_str().unwrap();
    let stored = f
        .store
        .sensor_by_token(&greenwatch_auth::secret_hash(sensor_token))
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.org.as_str(), stored.name.as_str()),
        ("cert-b", "b-api")
    );
    let outside = r#"{"name": "b-far", "block": "203.0.113.0/24", "tlp": "green"}"#;
    let far = send(
        &f.app,
        call("POST", "/api/v1/sensors", &provisioner, outside, json),
    )
    .await;
    assert_eq!(far.status, StatusCode::BAD_REQUEST, "{}", far.body);
    let gone = send(
        &f.app,
        call(
            "POST",
            "/api/v1/sensors/cert-b/b-api/revoke",
            &provisioner,
            "",
            json,
        ),
    )
    .await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
    assert_eq!(revoked(&f, &SensorRef::new("cert-b", "b-api")), Some(true));
    let foreign = send(
        &f.app,
        call(
            "POST",
            "/api/v1/sensors/cert-a/nothing/revoke",
            &provisioner,
            "",
            json,
        ),
    )
    .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);

    let used: Vec<(String, bool)> = f
        .store
        .tokens(user.id)
        .unwrap()
        .into_iter()
        .map(|t| (t.name, t.last_used_at.is_some()))
        .collect();
    assert!(
        used.contains(&("expired".into(), false)),
        "an expired token is not used: {used:?}"
    );
}

/// The overview can show one sensor's traffic: only the sensors the visitor may see are
/// offered and answered (another is a 404, as if it did not exist), and the page keeps the
/// sensor in its CSV links and range presets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_shows_one_sensor_the_visitor_may_see() {
    let mut f = fixture();
    ensure_org(&mut *f.store, "cert-a");
    ensure_org(&mut *f.store, "cert-b");
    register_sensor(
        &mut *f.store,
        "cert-a",
        "test-sensor",
        "203.0.113.0/24",
        Tlp::Clear,
    );
    register_sensor(
        &mut *f.store,
        "cert-b",
        "test-sensor",
        "198.51.100.0/24",
        Tlp::Amber,
    );
    let (member_b, _) = sign_in(&mut *f.store, "bo@cert-b", "cert-b", Role::Member, 1);
    let clear: u64 = f.clear.flows().map(|f| f.packets).sum();
    let amber: u64 = f.amber.flows().map(|f| f.packets).sum();
    let packets = |uri: &str, who: Option<&str>| {
        let (app, uri, who) = (f.app.clone(), uri.to_string(), who.map(str::to_string));
        async move {
            let reply = get_as(&app, &uri, who.as_deref()).await;
            assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.body);
            reply.json()["totals"]["packets"].as_u64().unwrap()
        }
    };
    let a = "/api/v1/overview?sensor=cert-a/test-sensor";
    let b = "/api/v1/overview?sensor=cert-b%2Ftest-sensor";
    assert_eq!(packets("/api/v1/overview", None).await, clear);
    assert_eq!(packets(a, None).await, clear);
    assert_eq!(
        packets("/api/v1/overview", Some(&member_b)).await,
        clear + amber
    );
    assert_eq!(packets(a, Some(&member_b)).await, clear);
    assert_eq!(packets(b, Some(&member_b)).await, amber);
    // The public may not see cert-b's sensor: the same answer as a sensor that does not exist.
    for missing in [b, "/api/v1/overview?sensor=cert-b/nowhere"] {
        let reply = get_as(&f.app, missing, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{missing}");
        assert!(reply.body.contains("no sensor cert-b/"), "{}", reply.body);
    }
    let bad = get_as(&f.app, "/api/v1/overview?sensor=tokyo", None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("expected ORGANISATION/NAME"),
        "{}",
        bad.body
    );
    let csv = get_as(
        &f.app,
        "/api/v1/overview.csv?part=countries&sensor=cert-b/test-sensor",
        Some(&member_b),
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    let disposition = csv.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.contains("-cert-b-test-sensor-"),
        "{disposition}"
    );

    // The page offers the visible sensors only, and keeps the one chosen.
    let public = get_as(&f.app, "/", None).await;
    assert!(public
        .body
        .contains(r#"<option value="cert-a/test-sensor">"#));
    assert!(!public.body.contains("cert-b/test-sensor"));
    let page = get_as(&f.app, "/?sensor=cert-b/test-sensor", Some(&member_b)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(r#"<option value="cert-b/test-sensor" selected>"#),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("&#38;sensor=cert-b%2Ftest-sensor\" download>"),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("&#38;sensor=cert-b%2Ftest-sensor\">Last 24 hours</a>"));
}
