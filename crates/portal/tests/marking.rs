//! Every answer that shows stored data carries the strictest TLP of its content: a banner on
//! pages, a `TLP` header, a `tlp` field in JSON objects and a column in CSV; and a member's
//! public view shows exactly what the public sees.

mod common;

use axum::http::StatusCode;
use common::*;
use greenwatch_model::access::{Role, Tlp};

fn tlp_header(reply: &Reply) -> Option<&str> {
    reply.headers.get("tlp").map(|v| v.to_str().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_csv_and_json_carry_the_strictest_label_of_what_they_show() {
    // cert-a's CLEAR capture and cert-b's RED one.
    let mut f = fixture_with(Some(Tlp::Red));
    let (cert_b, _) = sign_in(&mut *f.store, "mem@cert-b", "cert-b", Role::Member, 1);
    let (cert_a, _) = sign_in(&mut *f.store, "mem@cert-a", "cert-a", Role::Member, 2);

    // cert-b's overview is made of RED data: it says so everywhere.
    let page = get_as(&f.app, "/", Some(&cert_b)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"tlp-banner\""), "no banner");
    assert!(page.body.contains("TLP:RED"));
    assert_eq!(tlp_header(&page), Some("TLP:RED"));
    let json = get_as(&f.app, "/api/v1/overview", Some(&cert_b)).await;
    assert_eq!(tlp_header(&json), Some("TLP:RED"));
    assert_eq!(json.json()["tlp"], "RED");
    let csv = get_as(&f.app, "/api/v1/overview.csv?part=series", Some(&cert_b)).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    let mut lines = csv.body.lines();
    assert!(lines.next().unwrap().ends_with(",tlp"), "{}", csv.body);
    assert!(lines.all(|l| l.ends_with(",RED")), "{}", csv.body);

    // cert-a sees only the CLEAR capture: no banner, the header says CLEAR.
    let page = get_as(&f.app, "/", Some(&cert_a)).await;
    assert!(!page.body.contains("id=\"tlp-banner\""));
    assert_eq!(tlp_header(&page), Some("TLP:CLEAR"));
    let public = get(&f.app, "/api/v1/overview").await;
    assert_eq!(public.json()["tlp"], "CLEAR");
    // Pages without stored data carry no marking.
    assert_eq!(tlp_header(&get(&f.app, "/method").await), None);

    // An alert list is marked by the alerts it shows.
    store_alert(
        &mut *f.store,
        "cert-b",
        Tlp::Amber,
        "Amber surge",
        "2026-10-05T03:00:00Z",
    );
    let alerts = get_as(&f.app, "/api/v1/alerts", Some(&cert_b)).await;
    assert_eq!(tlp_header(&alerts), Some("TLP:AMBER"));
    let list = get_as(&f.app, "/alerts", Some(&cert_b)).await;
    assert!(list.body.contains("TLP:AMBER"));
    assert_eq!(tlp_header(&get(&f.app, "/api/v1/alerts").await), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_view_shows_a_member_exactly_what_the_public_sees() {
    let mut f = fixture_with(Some(Tlp::Amber));
    let (member, csrf) = sign_in(&mut *f.store, "mem@cert-b", "cert-b", Role::Member, 1);
    let public = get(&f.app, "/api/v1/overview").await.json();
    let own = get_as(&f.app, "/api/v1/overview", Some(&member))
        .await
        .json();
    assert_ne!(public, own, "the member sees more than the public");

    let forged = post_form(&f.app, "/view", Some(&member), "csrf=forged&view=public").await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let switched = post_form(
        &f.app,
        "/view",
        Some(&member),
        &format!("csrf={csrf}&view=public"),
    )
    .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    let cookie = cookie_set(&switched, "gw_view").expect("the view cookie");
    let both = format!("{member}; gw_view={cookie}");
    let seen = get_as(&f.app, "/api/v1/overview", Some(&both)).await.json();
    assert_eq!(seen, public, "the public view is the public's answer");
    let page = get_as(&f.app, "/", Some(&both)).await;
    assert!(page.body.contains("id=\"public-view-banner\""));
    assert!(page.body.contains("Back to my view"));
    assert!(!page.body.contains("id=\"tlp-banner\""));

    let back = post_form(
        &f.app,
        "/view",
        Some(&both),
        &format!("csrf={csrf}&view=member"),
    )
    .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    assert_eq!(cookie_set(&back, "gw_view").as_deref(), Some(""));
}
