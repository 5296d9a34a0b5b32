//! The header's search box: every kind of query lands on the page that knows it, several
//! candidates are listed, and bad input is a 400 that says what is expected.

mod common;

use axum::http::{header, StatusCode};
use common::*;
use greenwatch_feeds::Catalogue;
use greenwatch_netdb::{NetDb, SnapshotBuilder};
use greenwatch_portal::{router, AppState};
use std::net::Ipv4Addr;

fn location(reply: &Reply) -> &str {
    reply.headers[header::LOCATION].to_str().unwrap()
}

#[tokio::test]
async fn each_kind_of_query_lands_on_its_page() {
    let f = fixture();
    for (query, page) in [
        ("1.0.0.7", "/ips/1.0.0.7"),
        ("%202001:db8::1%20", "/ips/2001:db8::1"),
        ("1.0.0.0/24", "/ips/1.0.0.0"),
        ("1.0.0.77/24", "/ips/1.0.0.0"),
        ("AS64500", "/asns/64500"),
        ("as64501", "/asns/64501"),
        ("64502", "/asns/64502"),
        ("US-NET", "/asns/64502"),
        ("23", "/ports/tcp/23"),
        ("23/tcp", "/ports/tcp/23"),
        ("53/UDP", "/ports/udp/53"),
        ("NL", "/countries/NL"),
        ("fr", "/countries/FR"),
        ("netherlands", "/countries/NL"),
        ("Japan", "/countries/JP"),
    ] {
        let reply = get(&f.app, &format!("/search?q={query}")).await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "{query}: {}",
            reply.body
        );
        assert_eq!(location(&reply), page, "{query}");
        // The page it lands on exists.
        let landed = get(&f.app, page).await;
        assert_eq!(landed.status, StatusCode::OK, "{query} → {page}");
    }
    // The API names the same single match.
    let json = get(&f.app, "/api/v1/search?q=AS64502").await.json();
    assert_eq!(
        json["matches"],
        serde_json::json!([{"kind": "asn", "label": "AS64502 US-NET", "url": "/asns/64502"}])
    );
}

/// The fixture's IP data with several ASes sharing a word of their names.
fn named_netdb() -> NetDb {
    let v4 = |s: &str| u32::from(s.parse::<Ipv4Addr>().unwrap());
    let mut b = SnapshotBuilder::new("2026-09-01".parse().unwrap());
    for (first, last, asn, country, name) in [
        ("1.0.0.0", "1.255.255.255", 64500, "CN", "ACME-CN Backbone"),
        (
            "2.0.0.0",
            "2.255.255.255",
            64501,
            "FR",
            "Acme France Transit",
        ),
        ("3.0.0.0", "3.255.255.255", 64502, "US", "US-NET"),
    ] {
        b.asn_v4(v4(first), v4(last), asn)
            .country_v4(v4(first), v4(last), cc(country));
        b.as_name(asn, name);
    }
    NetDb::from_snapshots(vec![b.build()])
}

#[tokio::test]
async fn several_candidates_are_listed_with_their_pages() {
    let dir = tempfile::tempdir().unwrap();
    let app = router(AppState::new(
        dir.path().to_path_buf(),
        named_netdb(),
        Catalogue::shipped(),
    ));
    let page = get(&app, "/search?q=acme").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("href=\"/asns/64500\""), "{}", page.body);
    assert!(page.body.contains("href=\"/asns/64501\""));
    assert!(!page.body.contains("href=\"/asns/64502\""));
    let json = get(&app, "/api/v1/search?q=acme").await.json();
    assert_eq!(
        json["matches"],
        serde_json::json!([
            {"kind": "asn", "label": "AS64500 ACME-CN Backbone", "url": "/asns/64500"},
            {"kind": "asn", "label": "AS64501 Acme France Transit", "url": "/asns/64501"},
        ])
    );
    // Country names: many contain "land".
    let json = get(&app, "/api/v1/search?q=land").await.json();
    let urls: Vec<&str> = json["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["url"].as_str().unwrap())
        .collect();
    assert!(urls.contains(&"/countries/NL") && urls.contains(&"/countries/FI"));
    // Nothing matches: an empty list, no redirect.
    let none = get(&app, "/search?q=no-such-network-anywhere").await;
    assert_eq!(none.status, StatusCode::OK);
    assert!(none.body.contains("Nothing matches"));
    let json = get(&app, "/api/v1/search?q=no-such-network-anywhere")
        .await
        .json();
    assert_eq!(json["matches"], serde_json::json!([]));
}

#[tokio::test]
async fn bad_or_empty_input_is_a_400_saying_what_is_expected() {
    let f = fixture();
    for query in [
        "",
        "%20%20",
        "1.0.0.0/40",
        "70000/tcp",
        "23/icmp",
        "23/xyz",
        "abc/def",
    ] {
        let page = get(&f.app, &format!("/search?q={query}")).await;
        assert_eq!(
            page.status,
            StatusCode::BAD_REQUEST,
            "{query:?}: {}",
            page.body
        );
        assert_eq!(page.content_type(), "text/html; charset=utf-8");
        let api = get(&f.app, &format!("/api/v1/search?q={query}")).await;
        assert_eq!(api.status, StatusCode::BAD_REQUEST, "{query:?}");
        assert_eq!(api.content_type(), "application/problem+json");
        let detail = api.json()["detail"].as_str().unwrap().to_string();
        assert!(detail.starts_with("search"), "{query:?}: {detail}");
    }
    let empty = get(&f.app, "/api/v1/search").await.json();
    assert!(empty["detail"].as_str().unwrap().contains("IP address"));
    let long = "a".repeat(300);
    let reply = get(&f.app, &format!("/api/v1/search?q={long}")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn every_page_has_the_search_box() {
    let f = fixture();
    for uri in [
        "/",
        "/ports",
        "/countries/CN",
        "/ips/1.0.0.7",
        "/search?q=land",
    ] {
        let page = get(&f.app, uri).await;
        assert!(
            page.body.contains("action=\"/search\""),
            "{uri} has no search box"
        );
    }
    assert_public_page(&f.app, "/search?q=land").await;
    assert_public_page(&f.app, "/ips/1.0.0.7").await;
}
