//! The country pages and their API over the shared fixture: the numbers are compared with the
//! same computation done directly with greenwatch-observe and greenwatch-metrics over the
//! captures the viewer may see.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use greenwatch_feeds::Catalogue;
use greenwatch_metrics::{Engine, GroupBy};
use greenwatch_model::access::{Role, Viewer};
use greenwatch_model::{Period, PeriodKind, TrafficClass};
use greenwatch_observe::{FlowFilter, Observations, Top, TopBy};
use greenwatch_portal::Visitor;
use serde_json::Value;

/// Packets from `country` in `captures`, in total and of `class`.
fn packets(captures: &[&Observations], country: &str, class: Option<TrafficClass>) -> u64 {
    captures
        .iter()
        .flat_map(|o| o.flows())
        .filter(|f| f.src_country == cc(country) && class.is_none_or(|c| f.class == c))
        .map(|f| f.packets)
        .sum()
}

/// Equal values; numbers within parsing precision (JSON text does not round-trip every f64).
fn assert_same(got: &Value, want: &Value, what: &str) {
    match (got.as_f64(), want.as_f64()) {
        (Some(a), Some(b)) => assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "{what}: {a} != {b}"
        ),
        _ => assert_eq!(got, want, "{what}"),
    }
}

/// The country's report against the direct computation over `captures`.
fn assert_report_matches(
    report: &Value,
    country: &str,
    compare: &[&str],
    captures: &[&Observations],
) {
    let total = packets(captures, country, None);
    assert!(total > 0, "the fixture has traffic from {country}");
    assert_eq!(report["country"], country);
    assert_eq!(report["totals"]["packets"], total);
    for class in TrafficClass::ALL {
        let want = packets(captures, country, Some(class));
        let got = report["totals"]["by_class"][class.as_str()]
            .as_u64()
            .unwrap_or(0);
        assert_eq!(got, want, "{class:?}");
    }
    let mut ports = Top::new(
        TopBy::Port,
        FlowFilter {
            class: Some(TrafficClass::Scan),
            country: Some(cc(country)),
            ..FlowFilter::default()
        },
    );
    for obs in captures {
        obs.flows().for_each(|f| ports.add(f));
    }
    assert_eq!(
        report["top_ports"],
        serde_json::to_value(ports.finish(20)).unwrap()
    );
    let series: u64 = report["series"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["points"].as_array().unwrap())
        .map(|p| p["packets"].as_u64().unwrap())
        .sum();
    assert_eq!(series, total);
    // The country, the countries compared, then the world.
    let rows = report["packets"].as_array().unwrap();
    let codes: Vec<&str> = rows
        .iter()
        .map(|r| r["country"].as_str().unwrap())
        .collect();
    let mut want: Vec<&str> = vec![country];
    want.extend(compare);
    want.push("WORLD");
    assert_eq!(codes, want);
    let world: u64 = captures
        .iter()
        .flat_map(|o| o.flows())
        .map(|f| f.packets)
        .sum();
    for row in rows {
        let code = row["country"].as_str().unwrap();
        let want = if code == "WORLD" {
            world
        } else {
            packets(captures, code, None)
        };
        assert_eq!(row["packets"], want, "{code}");
    }
}

#[tokio::test]
async fn the_public_gets_the_clear_capture_from_that_country_and_its_risk_metrics() {
    let f = fixture();
    let reply = get(&f.app, "/api/v1/countries/cn?compare=US,fr").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.content_type(), "application/json");
    let report = reply.json();
    assert_report_matches(&report, "CN", &["US", "FR"], &[&f.clear]);
    assert_eq!(report["name"], "China");
    assert_eq!(report["compare"], serde_json::json!(["US", "FR"]));
    assert_eq!(report["from"], START);

    // Every risk with data, October: the engine's rows for the countries and the world.
    let catalogue = Catalogue::shipped();
    let engine = Engine::new(
        &catalogue,
        &*f.store,
        &*f.store,
        &f.netdb,
        Viewer::Anonymous,
    );
    let risks = report["risks"].as_array().unwrap();
    assert_eq!(risks.len(), engine.risks_with_data().unwrap().len());
    for risk in risks {
        let slug = risk["risk"].as_str().unwrap();
        assert_eq!(risk["period"], "2026-10", "{slug}");
        let table = engine
            .table(
                catalogue.by_slug(slug).unwrap(),
                GroupBy::Country,
                Period::parse(PeriodKind::Month, "2026-10").unwrap(),
                None,
            )
            .unwrap();
        let rows = risk["rows"].as_array().unwrap();
        let codes: Vec<&str> = rows
            .iter()
            .map(|r| r["country"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["CN", "US", "FR", "WORLD"], "{slug}");
        for row in rows {
            let code = row["country"].as_str().unwrap();
            match table
                .rows
                .iter()
                .find(|r| r.country.as_deref() == Some(code))
            {
                Some(want) => {
                    let want = serde_json::to_value(want).unwrap();
                    for key in [
                        "hosts",
                        "share",
                        "density",
                        "ddos_potential",
                        "rank",
                        "change",
                    ] {
                        assert_same(&row[key], &want[key], &format!("{slug} {code} {key}"));
                    }
                }
                None => assert_eq!(row["hosts"], 0, "{slug} {code}"),
            }
        }
    }
    let resolvers = risks
        .iter()
        .find(|r| r["risk"] == "openrecursivedns")
        .unwrap();
    let rows = resolvers["rows"].as_array().unwrap();
    assert_eq!(rows[0]["hosts"], 30);
    assert_eq!(rows[1]["hosts"], 12);
    assert_eq!(rows[2]["hosts"], 0);
    assert_eq!(rows[3]["hosts"], 45);
    assert_eq!(rows[3]["name"], "World");
}

#[tokio::test]
async fn a_member_of_the_owner_organisation_also_sees_its_amber_capture() {
    let f = fixture();
    let mut request = Request::get("/api/v1/countries/US?compare=NL")
        .body(Body::empty())
        .unwrap();
    request.extensions_mut().insert(Visitor {
        name: Some("bea@cert-b".into()),
        viewer: Viewer::User {
            org: "cert-b".into(),
            role: Role::Member,
        },
        ..Visitor::anonymous()
    });
    let reply = send(&f.app, request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let report = reply.json();
    assert_report_matches(&report, "US", &["NL"], &[&f.clear, &f.amber]);
    assert!(packets(&[&f.amber], "US", None) > 0);
    // The public does not see it.
    let public = get(&f.app, "/api/v1/countries/US?compare=NL").await.json();
    assert_report_matches(&public, "US", &["NL"], &[&f.clear]);
}

#[tokio::test]
async fn a_window_restricts_the_observations() {
    let f = fixture();
    let report = get(
        &f.app,
        "/api/v1/countries/FR?from=2026-10-05T02:00:00Z&to=2026-10-05T04:00:00Z",
    )
    .await
    .json();
    let want: u64 = f
        .clear
        .flows()
        .filter(|x| (1_791_165_600..1_791_172_800).contains(&x.bucket) && x.src_country == cc("FR"))
        .map(|x| x.packets)
        .sum();
    assert_eq!(report["totals"]["packets"], want);
    assert_eq!(report["series"][0]["points"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn more_than_three_countries_to_compare_or_a_bad_code_is_a_400() {
    let f = fixture();
    let reply = get(&f.app, "/api/v1/countries/CN?compare=US,FR,NL,DE").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.content_type(), "application/problem+json");
    let problem = reply.json();
    assert_eq!(problem["status"], 400);
    assert_eq!(problem["title"], "Bad Request");
    assert!(
        problem["detail"].as_str().unwrap().contains("at most 3"),
        "{problem}"
    );
    for uri in [
        "/api/v1/countries/CHN",
        "/api/v1/countries/C1",
        "/api/v1/countries/XX",
        "/api/v1/countries/ZZ",
        "/api/v1/countries/CN?compare=US,Q",
        "/api/v1/countries/CN?from=yesterday",
    ] {
        let reply = get(&f.app, uri).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{uri}: {}",
            reply.body
        );
        assert_eq!(reply.content_type(), "application/problem+json", "{uri}");
        assert!(reply.json()["detail"].as_str().unwrap().len() > 10);
    }
    for uri in ["/countries/XX", "/countries/CN?compare=US,FR,NL,DE"] {
        let page = get(&f.app, uri).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(page.content_type(), "text/html; charset=utf-8");
    }
    // Duplicates and the country itself do not count against the three.
    let reply = get(&f.app, "/api/v1/countries/CN?compare=us,US,cn,FR").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["compare"], serde_json::json!(["US", "FR"]));
}

#[tokio::test]
async fn country_pages_are_safe_html_with_their_tables_and_data_island() {
    let f = fixture();
    for uri in [
        "/countries",
        "/countries?from=2027-01-01",
        "/countries/CN",
        "/countries/cn?compare=US,FR",
        "/countries/DE",
        "/countries/CN?from=2027-01-01",
    ] {
        assert_public_page(&f.app, uri).await;
    }
    let index = unescape(&get(&f.app, "/countries").await.body);
    for code in ["CN", "FR", "US", "NL"] {
        assert!(
            index.contains(&format!("href=\"/countries/{code}?from=2026-10-05")),
            "the index links {code}"
        );
    }
    let page = unescape(&get(&f.app, "/countries/cn?compare=US,FR").await.body);
    for id in ["chart-series", "chart-ports", "chart-risks"] {
        assert!(page.contains(&format!("id=\"{id}\"")), "no {id}");
    }
    assert!(page.contains("<span class=\"cc\">CN</span> China"));
    assert!(
        page.contains("href=\"/countries/US\""),
        "compared countries link their pages"
    );
    assert!(page.contains("/api/v1/countries/CN?compare=US,FR&from=2026-10-05"));
    assert!(page.contains("js/country.js"));
    let start = page.find("id=\"country-data\">").unwrap() + "id=\"country-data\">".len();
    let end = start + page[start..].find("</script>").unwrap();
    let island: Value = serde_json::from_str(&page[start..end]).unwrap();
    let mut api = get(&f.app, "/api/v1/countries/CN?compare=US,FR")
        .await
        .json();
    // The API's answer is the island plus its TLP marking.
    assert_eq!(
        api.as_object_mut().unwrap().remove("tlp"),
        Some("CLEAR".into())
    );
    assert_eq!(island, api);
    // A country without traffic still shows its risk metrics.
    let quiet = get(&f.app, "/countries/DE").await.body;
    assert!(quiet.contains("No observations from Germany"));
    assert!(quiet.contains("Risk metrics"));
    // The overview's country table links here.
    let overview = unescape(&get(&f.app, "/").await.body);
    assert!(overview.contains("href=\"/countries/CN?from=2026-10-05"));
}
