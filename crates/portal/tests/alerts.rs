//! Alerts in the portal: the list and each alert as far as their TLP allows, the hand-written
//! alert form, the Atom feed for the public and for API tokens, the paginated API and the
//! overview's latest alerts.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use greenwatch_model::access::{Role, Tlp};
use greenwatch_model::Timestamp;

/// One alert of cert-b per TLP, a day apart (CLEAR oldest); returns (tlp, id, title).
fn alerts_of_every_tlp(f: &mut Fixture) -> Vec<(Tlp, i64, String)> {
    Tlp::ALL
        .into_iter()
        .enumerate()
        .map(|(i, tlp)| {
            let title = format!("Surge shared as {tlp}");
            let at = format!("2026-10-0{}T00:00:00Z", i + 1);
            let id = store_alert(&mut *f.store, "cert-b", tlp, &title, &at);
            (tlp, id, title)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_viewer_sees_the_alerts_their_organisation_and_the_tlp_allow_and_no_more() {
    let mut f = fixture();
    let alerts = alerts_of_every_tlp(&mut f);
    let (cert_a, _) = sign_in(&mut *f.store, "mem@cert-a", "cert-a", Role::Member, 1);
    let (cert_b, _) = sign_in(&mut *f.store, "mem@cert-b", "cert-b", Role::Member, 2);
    let nowhere_page = get(&f.app, "/alerts/999999").await;
    let nowhere_api = get(&f.app, "/api/v1/alerts/999999").await;
    assert_eq!(nowhere_page.status, StatusCode::NOT_FOUND);
    assert_eq!(nowhere_api.status, StatusCode::NOT_FOUND);
    for (who, cookie, visible) in [
        ("the public", None, vec![Tlp::Clear]),
        (
            "cert-a",
            Some(cert_a.as_str()),
            vec![Tlp::Clear, Tlp::Green],
        ),
        (
            "cert-b (the owner)",
            Some(cert_b.as_str()),
            Tlp::ALL.to_vec(),
        ),
    ] {
        let list = get_as(&f.app, "/alerts", cookie).await;
        assert_eq!(list.status, StatusCode::OK, "{who}");
        let api = get_as(&f.app, "/api/v1/alerts", cookie).await;
        let titles: Vec<String> = api
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["title"].as_str().unwrap().to_string())
            .collect();
        // Newest first: the most restricted of those visible was raised last.
        let expected: Vec<String> = alerts
            .iter()
            .rev()
            .filter(|(tlp, _, _)| visible.contains(tlp))
            .map(|(_, _, title)| title.clone())
            .collect();
        assert_eq!(titles, expected, "{who}");
        for (tlp, id, title) in &alerts {
            let page = get_as(&f.app, &format!("/alerts/{id}"), cookie).await;
            let one = get_as(&f.app, &format!("/api/v1/alerts/{id}"), cookie).await;
            if visible.contains(tlp) {
                assert!(list.body.contains(title.as_str()), "{who} misses {title}");
                assert_eq!(page.status, StatusCode::OK, "{who} {title}");
                assert!(page.body.contains(title.as_str()));
                assert_eq!(one.json()["id"], *id);
                assert_eq!(one.json()["label"]["tlp"], tlp.as_str());
            } else {
                assert!(!list.body.contains(title.as_str()), "{who} sees {title}");
                // A hidden alert answers like one that does not exist, page and API alike.
                let nowhere = get_as(&f.app, "/alerts/999999", cookie).await;
                assert_eq!(page.status, StatusCode::NOT_FOUND, "{who} {title}");
                assert_eq!(page.body, nowhere.body, "{who} {title}");
                assert_eq!(one.status, StatusCode::NOT_FOUND);
                assert_eq!(one.body, nowhere_api.body);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_page_explains_the_anomaly_with_its_chart_and_links() {
    let mut f = fixture();
    let id = store_alert(
        &mut *f.store,
        "cert-a",
        Tlp::Clear,
        "Telnet surge",
        "2026-10-05T03:00:00Z",
    );
    let uri = format!("/alerts/{id}");
    assert_public_page(&f.app, &uri).await;
    let page = get(&f.app, &uri).await;
    // The public sees the source of a CLEAR alert anonymised (docs/anonymisation.md).
    let source = anonymiser()
        .anonymise("1.0.0.7".parse().unwrap())
        .to_string();
    assert!(!page.body.contains("1.0.0.7"));
    for shown in [
        "Observed 900 against 100 expected",
        "prediction interval 80 – 120",
        "href=\"/ports/tcp/23\"",
        "href=\"/countries/CN\"",
        "href=\"/asns/64500\"",
        &source,
        "mirai",
        "2026-10-05 03:00 UTC",
        "id=\"chart-series-0\"",
        "js/alert.js",
    ] {
        assert!(page.body.contains(shown), "{shown} missing from {uri}");
    }
    // The chart's data is the evidence's series, observed and band, in a JSON island.
    let island = page
        .body
        .split("<script type=\"application/json\" id=\"alert-data\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .expect("a data island");
    let series: serde_json::Value = serde_json::from_str(island).unwrap();
    assert_eq!(series[0]["chart"][3]["observed"], 900.0);
    assert_eq!(series[0]["chart"][3]["upper"], 120.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analysts_write_alerts_by_hand_with_the_session_csrf_token_and_it_is_audited() {
    let mut f = fixture();
    let (analyst, csrf) = sign_in(&mut *f.store, "ana@cert-a", "cert-a", Role::Analyst, 1);
    let (member, member_csrf) = sign_in(&mut *f.store, "mem@cert-a", "cert-a", Role::Member, 2);
    let form = |csrf: &str| {
        format!(
            "csrf={csrf}&title={}&severity=high&tlp=AMBER&summary={}",
            form_value("Mirai wave on 2323/tcp"),
            form_value("Seen by our partners since this morning.")
        )
    };

    // The form is offered to analysts only.
    let page = get_as(&f.app, "/alerts", Some(&analyst)).await;
    assert_eq!(form_csrf(&page.body), csrf);
    let member_page = get_as(&f.app, "/alerts", Some(&member)).await;
    assert!(!member_page.body.contains("action=\"/alerts\""));
    assert!(!get(&f.app, "/alerts").await.body.contains("name=\"csrf\""));

    // Refused: no CSRF token, another session's token, a member, the public.
    for (cookie, body) in [
        (Some(analyst.as_str()), form("")),
        (Some(analyst.as_str()), form(&member_csrf)),
        (Some(member.as_str()), form(&member_csrf)),
        (None, form(&csrf)),
    ] {
        let refused = post_form(&f.app, "/alerts", cookie, &body).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{body}");
    }
    let viewer = greenwatch_model::access::Viewer::Local;
    assert!(f.store.alerts(&viewer, 10).unwrap().is_empty());

    // Bad input is shown on the page, and nothing is stored.
    let bad = form(&csrf).replace("severity=high", "severity=urgent");
    let refused = post_form(&f.app, "/alerts", Some(&analyst), &bad).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("unknown severity"),
        "{}",
        refused.body
    );
    assert!(f.store.alerts(&viewer, 10).unwrap().is_empty());

    let written = post_form(&f.app, "/alerts", Some(&analyst), &form(&csrf)).await;
    assert_eq!(written.status, StatusCode::SEE_OTHER, "{}", written.body);
    let stored = f.store.alerts(&viewer, 10).unwrap();
    assert_eq!(stored.len(), 1);
    let alert = &stored[0];
    assert_eq!(
        written.headers[header::LOCATION],
        format!("/alerts/{}", alert.id)
    );
    assert_eq!(alert.alert.label.owner, "cert-a");
    assert_eq!(alert.alert.label.tlp, Tlp::Amber);
    assert_eq!(alert.alert.author, "ana@cert-a");
    assert_eq!(alert.alert.title, "Mirai wave on 2323/tcp");
    // An AMBER alert of cert-a: its members see it, the public does not.
    let uri = format!("/alerts/{}", alert.id);
    assert_eq!(
        get_as(&f.app, &uri, Some(&member)).await.status,
        StatusCode::OK
    );
    assert_eq!(get(&f.app, &uri).await.status, StatusCode::NOT_FOUND);

    let audit = f.store.audit_log(10).unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == "alert.create")
        .expect("an audit entry");
    assert_eq!(entry.actor, "ana@cert-a");
    assert_eq!(entry.target, alert.id.to_string());
    assert!(entry.detail.contains("Mirai wave"), "{}", entry.detail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_atom_feed_gives_the_public_clear_alerts_and_a_token_its_organisations() {
    let mut f = fixture();
    let alerts = alerts_of_every_tlp(&mut f);
    sign_in(&mut *f.store, "mem@cert-b", "cert-b", Role::Member, 1);
    let user = f.store.user_by_login("mem@cert-b").unwrap().unwrap();
    let secret = "feed-reader-token-of-cert-b";
    f.store
        .create_token(
            user.id,
            &greenwatch_model::account::NewApiToken::new(
                "feed",
                &greenwatch_model::account::TokenScope::ALL,
                None,
            ),
            &greenwatch_auth::secret_hash(secret),
            "test",
            Timestamp(1),
        )
        .unwrap();
    let feed_of = |auth: Option<&str>| {
        // A forged Host header never reaches the links: they use the configured address.
        let mut request = Request::get("/alerts.atom").header(header::HOST, "evil.example");
        if let Some(token) = auth {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        request.body(Body::empty()).unwrap()
    };

    let public = send(&f.app, feed_of(None)).await;
    assert_eq!(public.status, StatusCode::OK);
    assert_eq!(public.content_type(), "application/atom+xml; charset=utf-8");
    assert_eq!(public.body.matches("<entry>").count(), 1);
    let (_, clear_id, clear_title) = &alerts[0];
    assert!(public.body.contains(clear_title.as_str()));
    assert!(public
        .body
        .contains(&format!("<id>http://localhost/alerts/{clear_id}</id>")));
    assert!(!public.body.contains("evil.example"));

    let member = send(&f.app, feed_of(Some(secret))).await;
    assert_eq!(member.status, StatusCode::OK);
    assert_eq!(member.body.matches("<entry>").count(), Tlp::ALL.len());
    for (_, _, title) in &alerts {
        assert!(member.body.contains(title.as_str()), "{title}");
    }
    // A wrong token is refused, never answered as the public.
    let wrong = send(&f.app, feed_of(Some("not-a-token"))).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alert_api_pages_through_every_alert_once_and_refuses_stale_cursors() {
    let mut f = fixture();
    let ids: Vec<i64> = (1..=7)
        .map(|day| {
            let at = format!("2026-10-0{day}T00:00:00Z");
            store_alert(
                &mut *f.store,
                "cert-a",
                Tlp::Clear,
                &format!("day {day}"),
                &at,
            )
        })
        .collect();
    let mut uri = "/api/v1/alerts?limit=3".to_string();
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut first_next = None;
    loop {
        let page = get(&f.app, &uri).await;
        assert_eq!(page.status, StatusCode::OK, "{uri}: {}", page.body);
        assert_eq!(page.headers["x-total-count"], "7");
        seen.extend(
            page.json()
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_i64().unwrap()),
        );
        pages += 1;
        let Some(link) = page.headers.get(header::LINK) else {
            break;
        };
        let next = link.to_str().unwrap();
        uri = next[1..next.find('>').unwrap()].to_string();
        first_next.get_or_insert(uri.clone());
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids.iter().rev().copied().collect::<Vec<_>>());

    // A new alert shifts the list: a cursor issued before it is refused.
    store_alert(
        &mut *f.store,
        "cert-a",
        Tlp::Clear,
        "day 8",
        "2026-10-08T00:00:00Z",
    );
    let stale = get(&f.app, &first_next.unwrap()).await;
    assert_eq!(stale.status, StatusCode::BAD_REQUEST, "{}", stale.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_shows_the_five_newest_alerts_the_viewer_may_see() {
    let mut f = fixture();
    for day in 1..=7 {
        let at = format!("2026-10-0{day}T00:00:00Z");
        store_alert(
            &mut *f.store,
            "cert-a",
            Tlp::Clear,
            &format!("Public alert of day {day}"),
            &at,
        );
    }
    store_alert(
        &mut *f.store,
        "cert-b",
        Tlp::Red,
        "Red alert of cert-b",
        "2026-10-09T00:00:00Z",
    );
    let (owner, _) = sign_in(&mut *f.store, "mem@cert-b", "cert-b", Role::Member, 1);

    let public = get(&f.app, "/").await;
    assert_eq!(public.status, StatusCode::OK);
    for day in 3..=7 {
        assert!(
            public.body.contains(&format!("Public alert of day {day}")),
            "day {day}"
        );
    }
    for day in 1..=2 {
        assert!(
            !public.body.contains(&format!("Public alert of day {day}")),
            "day {day}"
        );
    }
    assert!(!public.body.contains("Red alert of cert-b"));

    // The owner's five newest include its RED alert, pushing out the oldest public one.
    let own = get_as(&f.app, "/", Some(&owner)).await;
    assert!(own.body.contains("Red alert of cert-b"));
    assert!(!own.body.contains("Public alert of day 3"));
    assert!(own.body.contains("Public alert of day 4"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analysts_manage_their_organisations_subscriptions_and_see_a_webhook_secret_once() {
    let mut f = fixture();
    let (analyst, csrf) = sign_in(&mut *f.store, "ana@cert-a", "cert-a", Role::Analyst, 1);
    let (member, member_csrf) = sign_in(&mut *f.store, "mem@cert-a", "cert-a", Role::Member, 2);
    let (other, other_csrf) = sign_in(&mut *f.store, "ana@cert-b", "cert-b", Role::Analyst, 3);
    let webhook = |csrf: &str| {
        format!(
            "csrf={csrf}&channel=webhook&url={}&recipients=&min_severity=high",
            form_value("https://soc.cert-a.example/hook")
        )
    };

    // The public logs in first; members are refused; no or another session's token is refused.
    let public = get(&f.app, "/alerts/subscriptions").await;
    assert_eq!(public.status, StatusCode::SEE_OTHER);
    let members_page = get_as(&f.app, "/alerts/subscriptions", Some(&member)).await;
    assert_eq!(members_page.status, StatusCode::FORBIDDEN);
    for (cookie, body) in [
        (Some(analyst.as_str()), webhook("")),
        (Some(analyst.as_str()), webhook(&member_csrf)),
        (Some(member.as_str()), webhook(&member_csrf)),
        (None, webhook(&csrf)),
    ] {
        let refused = post_form(&f.app, "/alerts/subscriptions", cookie, &body).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{body}");
    }
    assert!(f.store.subscriptions(None).unwrap().is_empty());

    // A recipient that would inject SMTP commands is refused on the page.
    let injected = format!(
        "csrf={csrf}&channel=email&url=&recipients={}&min_severity=low",
        form_value("soc@cert-a.example>\r\nRCPT TO:<x@evil.example")
    );
    let refused = post_form(&f.app, "/alerts/subscriptions", Some(&analyst), &injected).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(f.store.subscriptions(None).unwrap().is_empty());

    // A webhook into the server's own networks is refused on the page (and before every POST).
    for internal in [
        "http://127.0.0.1:9000/hook",
        "http://169.254.169.254/latest",
        "http://[::1]/",
    ] {
        let body = format!(
            "csrf={csrf}&channel=webhook&url={}&recipients=&min_severity=high",
            form_value(internal)
        );
        let refused = post_form(&f.app, "/alerts/subscriptions", Some(&analyst), &body).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{internal}");
        assert!(
            refused.body.contains("internal address"),
            "{}",
            refused.body
        );
    }
    assert!(f.store.subscriptions(None).unwrap().is_empty());

    let made = post_form(
        &f.app,
        "/alerts/subscriptions",
        Some(&analyst),
        &webhook(&csrf),
    )
    .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let stored = f.store.subscriptions(Some("cert-a")).unwrap();
    assert_eq!(stored.len(), 1);
    let greenwatch_model::alert::SubscriptionChannel::Webhook { secret, .. } =
        &stored[0].subscription.channel
    else {
        panic!("a webhook");
    };
    assert_eq!(secret.len(), 64);
    assert!(made.body.contains(secret.as_str()), "shown once");
    assert_eq!(stored[0].subscription.min_severity.as_str(), "high");
    let again = get_as(&f.app, "/alerts/subscriptions", Some(&analyst)).await;
    assert!(again.body.contains("soc.cert-a.example"));
    assert!(!again.body.contains(secret.as_str()), "never shown again");
    let audit = f.store.audit_log(10).unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == "alert.subscribe")
        .unwrap();
    assert_eq!(entry.actor, "ana@cert-a");
    assert!(!format!("{audit:?}").contains(secret.as_str()));

    // Another organisation neither sees nor removes it.
    let others_page = get_as(&f.app, "/alerts/subscriptions", Some(&other)).await;
    assert!(!others_page.body.contains("soc.cert-a.example"));
    let id = stored[0].id;
    let remove = format!("/alerts/subscriptions/{id}/remove");
    let foreign = post_form(&f.app, &remove, Some(&other), &format!("csrf={other_csrf}")).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert_eq!(f.store.subscriptions(None).unwrap().len(), 1);
    let removed = post_form(&f.app, &remove, Some(&analyst), &format!("csrf={csrf}")).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert!(f.store.subscriptions(None).unwrap().is_empty());
    assert_eq!(f.store.audit_log(1).unwrap()[0].action, "alert.unsubscribe");
}

/// An organisation's subscriptions are bounded: each one is a delivery every round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_has_a_bounded_number_of_subscriptions() {
    use greenwatch_model::alert::{NewSubscription, Severity, SubscriptionChannel};
    let mut f = fixture();
    let (analyst, csrf) = sign_in(&mut *f.store, "ana@cert-a", "cert-a", Role::Analyst, 1);
    let (other, other_csrf) = sign_in(&mut *f.store, "ana@cert-b", "cert-b", Role::Analyst, 2);
    for i in 0..32 {
        let new = NewSubscription {
            org: "cert-a".into(),
            channel: SubscriptionChannel::Email {
                to: vec![format!("soc{i}@cert-a.example")],
            },
            min_severity: Severity::High,
            created_by: "test".into(),
            created_at: Timestamp(1),
        };
        f.store.subscribe(&new).unwrap();
    }
    let form = |csrf: &str, org: &str| {
        format!(
            "csrf={csrf}&channel=email&url=&recipients={}&min_severity=high",
            form_value(&format!("more@{org}.example"))
        )
    };
    let refused = post_form(
        &f.app,
        "/alerts/subscriptions",
        Some(&analyst),
        &form(&csrf, "cert-a"),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("cert-a has 32 subscriptions"));
    assert_eq!(f.store.subscriptions(Some("cert-a")).unwrap().len(), 32);
    let made = post_form(
        &f.app,
        "/alerts/subscriptions",
        Some(&other),
        &form(&other_csrf, "cert-b"),
    )
    .await;
    assert_eq!(made.status, StatusCode::OK, "quotas are per organisation");
}

/// Alert ids in a list page, in order.
fn listed_ids(body: &str) -> Vec<i64> {
    body.split("href=\"/alerts/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alert_list_pages_filters_and_triages_in_bulk_only_the_owners_alerts() {
    let mut f = fixture();
    // 120 alerts of cert-a (every tenth high-severity is "Telnet"), 5 of cert-b's GREEN.
    let mut ids = Vec::new();
    for i in 0..120 {
        let title = if i % 10 == 0 {
            format!("Telnet surge {i}")
        } else {
            format!("Surge {i}")
        };
        let at = Timestamp::from_secs(1_791_158_400 + i * 3600).to_rfc3339();
        ids.push(store_alert(
            &mut *f.store,
            "cert-a",
            Tlp::Amber,
            &title,
            &at,
        ));
    }
    let foreign: Vec<i64> = (0..5)
        .map(|i| {
            let at = Timestamp::from_secs(1_791_158_400 + i * 3600).to_rfc3339();
            store_alert(&mut *f.store, "cert-b", Tlp::Green, &format!("B {i}"), &at)
        })
        .collect();
    let (analyst, csrf) = sign_in(&mut *f.store, "ana@cert-a", "cert-a", Role::Analyst, 1);
    let (member, member_csrf) = sign_in(&mut *f.store, "mem@cert-a", "cert-a", Role::Member, 2);

    let first = get_as(&f.app, "/alerts", Some(&analyst)).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.body.contains("Alerts 1–50 of 125"), "{}", first.body);
    assert_eq!(listed_ids(&first.body).len(), 50);
    assert_eq!(listed_ids(&first.body)[0], ids[119], "newest first");
    assert!(first.body.contains("page=2"));
    let third = get_as(&f.app, "/alerts?page=3", Some(&analyst)).await;
    assert!(third.body.contains("Alerts 101–125 of 125"));
    assert!(!third.body.contains("rel=\"next\""));
    let bad = get_as(&f.app, "/alerts?kind=storm", Some(&analyst)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // Acknowledge three of cert-a's and one of cert-b's at once: only cert-a's move.
    let form = |csrf: &str, chosen: &[i64]| {
        let mut body = format!("csrf={csrf}&state=acknowledged&back=kind%3Dsurge");
        for id in chosen {
            body += &format!("&id={id}");
        }
        body
    };
    let chosen = [ids[0], ids[1], ids[2], foreign[0]];
    let by_member = post_form(
        &f.app,
        "/alerts/triage",
        Some(&member),
        &form(&member_csrf, &chosen),
    )
    .await;
    assert_eq!(by_member.status, StatusCode::OK);
    assert!(
        by_member.body.contains("0 alert(s) acknowledged"),
        "{}",
        by_member.body
    );
    let forged = post_form(
        &f.app,
        "/alerts/triage",
        Some(&analyst),
        &form("forged", &chosen),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let done = post_form(
        &f.app,
        "/alerts/triage",
        Some(&analyst),
        &form(&csrf, &chosen),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(
        done.body.contains("3 alert(s) acknowledged"),
        "{}",
        done.body
    );
    assert!(done.body.contains("1 left as they were"));
    let acknowledged = get_as(&f.app, "/api/v1/alerts?state=acknowledged", Some(&analyst)).await;
    let mut got: Vec<i64> = acknowledged
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    got.sort();
    assert_eq!(got, [ids[0], ids[1], ids[2]]);
    assert_eq!(acknowledged.json()[0]["state_by"], "ana@cert-a");
    let open = get_as(&f.app, "/api/v1/alerts?state=open&limit=10", Some(&analyst)).await;
    assert_eq!(open.headers["x-total-count"], "122");
    assert!(open.headers.contains_key("link"));
    let audit = f.store.audit_log(10).unwrap();
    assert_eq!(
        audit.iter().filter(|e| e.action == "alert.state").count(),
        3
    );

    // The subject filter finds an affected series; the API pages what matched.
    let telnet = get_as(
        &f.app,
        "/api/v1/alerts?subject=23%2Ftcp&severity=high&limit=5",
        Some(&analyst),
    )
    .await;
    assert_eq!(telnet.status, StatusCode::OK);
    assert_eq!(telnet.headers["x-total-count"], "125");
    let none = get_as(&f.app, "/api/v1/alerts?subject=5555%2Ftcp", Some(&analyst)).await;
    assert_eq!(none.headers["x-total-count"], "0");
    let wrong = get_as(&f.app, "/api/v1/alerts?state=closed", Some(&analyst)).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_triage_with_a_token_and_a_session_needs_its_csrf_header() {
    let mut f = fixture();
    let own = store_alert(
        &mut *f.store,
        "cert-b",
        Tlp::Amber,
        "Own",
        "2026-10-05T03:00:00Z",
    );
    let shared = store_alert(
        &mut *f.store,
        "cert-a",
        Tlp::Green,
        "Shared",
        "2026-10-05T04:00:00Z",
    );
    let (session, csrf) = sign_in(&mut *f.store, "ana@cert-b", "cert-b", Role::Analyst, 1);
    let user = f.store.user_by_login("ana@cert-b").unwrap().unwrap();
    let secret = "triage-token-of-cert-b";
    f.store
        .create_token(
            user.id,
            &greenwatch_model::account::NewApiToken::new(
                "triage",
                &greenwatch_model::account::TokenScope::ALL,
                None,
            ),
            &greenwatch_auth::secret_hash(secret),
            "test",
            Timestamp(1),
        )
        .unwrap();
    let request = |auth: (&str, &str), csrf: Option<&str>, body: String| {
        let mut request = Request::post("/api/v1/alerts/triage")
            .header(header::CONTENT_TYPE, "application/json")
            .header(auth.0, auth.1);
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        request.body(Body::from(body)).unwrap()
    };
    let bearer = format!("Bearer {secret}");
    let body = format!(r#"{{"ids": [{own}, {shared}, 999999], "state": "resolved"}}"#);
    let reply = send(
        &f.app,
        request(("authorization", &bearer), None, body.clone()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["changed"], 1);
    assert_eq!(reply.json()["refused"], serde_json::json!([shared, 999999]));
    let cookie_header = header::COOKIE.as_str();
    let no_header = send(
        &f.app,
        request((cookie_header, &session), None, body.clone()),
    )
    .await;
    assert_eq!(no_header.status, StatusCode::FORBIDDEN);
    let reopen = format!(r#"{{"ids": [{own}], "state": "open"}}"#);
    let with_header = send(
        &f.app,
        request((cookie_header, &session), Some(&csrf), reopen),
    )
    .await;
    assert_eq!(with_header.json()["changed"], 1);
    let anonymous = send(
        &f.app,
        Request::post("/api/v1/alerts/triage")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap(),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let bad = format!(r#"{{"ids": [{own}], "state": "closed"}}"#);
    let refused = send(&f.app, request(("authorization", &bearer), None, bad)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
}
