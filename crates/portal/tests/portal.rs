//! The portal over a real store: generated captures decoded, aggregated and written with the
//! same library calls ingest uses, risk events written as a feed file would be, then every
//! route called in process (no network). Numbers are compared with the same computation done
//! directly with greenwatch-observe and greenwatch-metrics.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use greenwatch_feeds::Catalogue;
use greenwatch_metrics::{Engine, GroupBy};
use greenwatch_model::access::{Role, Viewer};
use greenwatch_model::{Period, PeriodKind, Timestamp, TrafficClass};
use greenwatch_netdb::NetDb;
use greenwatch_observe::{infer_dos, FlowFilter, Observations, Top, TopBy};
use greenwatch_portal::{router, AppState, Visitor};
use serde_json::Value;

/// Top rows computed directly over the flows of `captures`, as `greenwatch query top` does.
fn top(captures: &[&Observations], by: TopBy, class: Option<TrafficClass>, limit: usize) -> Value {
    let mut top = Top::new(
        by,
        FlowFilter {
            class,
            ..FlowFilter::default()
        },
    );
    for obs in captures {
        obs.flows().for_each(|f| top.add(f));
    }
    serde_json::to_value(top.finish(limit)).unwrap()
}

fn class_totals(captures: &[&Observations]) -> Value {
    let mut by_class = serde_json::Map::new();
    for class in TrafficClass::ALL {
        let packets: u64 = captures
            .iter()
            .flat_map(|o| o.flows())
            .filter(|f| f.class == class)
            .map(|f| f.packets)
            .sum();
        if packets > 0 {
            by_class.insert(class.as_str().into(), packets.into());
        }
    }
    Value::Object(by_class)
}

/// The API's numbers against the same computation done directly over `captures`.
fn assert_overview_matches(overview: &Value, captures: &[&Observations]) {
    let packets: u64 = captures
        .iter()
        .flat_map(|o| o.flows())
        .map(|f| f.packets)
        .sum();
    assert_eq!(overview["totals"]["packets"], packets);
    assert_eq!(overview["totals"]["by_class"], class_totals(captures));
    assert_eq!(
        overview["top_ports"],
        top(captures, TopBy::Port, Some(TrafficClass::Scan), 20)
    );
    let countries = top(captures, TopBy::Country, None, usize::MAX);
    let got = overview["countries"].as_array().unwrap();
    assert_eq!(got.len(), countries.as_array().unwrap().len());
    // Known countries rank 1, 2, 3, ...; the sources of no known country are not ranked.
    let mut rank = 0;
    for (got, want) in got.iter().zip(countries.as_array().unwrap()) {
        for key in ["country", "packets", "bytes", "sources"] {
            assert_eq!(got[key], want[key], "{key} of {got}");
        }
        if want["country"].is_null() {
            assert!(got["rank"].is_null(), "{got}");
        } else {
            rank += 1;
            assert_eq!(got["rank"], rank, "{got}");
        }
    }
    let mut slots = Vec::new();
    for obs in captures {
        slots.extend(obs.backscatter.iter().cloned());
    }
    let attacks = infer_dos(slots);
    assert!(
        !attacks.is_empty(),
        "the generator always makes DoS victims"
    );
    assert_eq!(overview["dos"].as_array().unwrap().len(), attacks.len());
    let series_packets: u64 = overview["series"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["points"].as_array().unwrap())
        .map(|p| p["packets"].as_u64().unwrap())
        .sum();
    assert_eq!(series_packets, packets);
}

#[tokio::test]
async fn overview_api_gives_the_public_exactly_the_clear_capture() {
    let f = fixture();
    let reply = get(&f.app, "/api/v1/overview").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.content_type(), "application/json");
    let overview = reply.json();
    assert_overview_matches(&overview, &[&f.clear]);
    // The default window is the stored hours (fewer than 7 days), hour by hour.
    assert_eq!(overview["from"], START);
    assert_eq!(overview["to"], "2026-10-05T06:00:00Z");
    for series in overview["series"].as_array().unwrap() {
        assert_eq!(series["points"].as_array().unwrap().len(), HOURS as usize);
    }
    assert_eq!(overview["heatmap"]["ports"].as_array().unwrap().len(), 10);
    let heat: u64 = overview["heatmap"]["packets"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(heat, overview["top_ports"][0]["packets"].as_u64().unwrap());
}

/// Answers are cached, but never past a change of the data: a capture stored (by another
/// connection, as `greenwatch ingest` would) after a request shows in the next one.
#[tokio::test]
async fn newly_stored_data_shows_in_the_next_answer() {
    let mut f = fixture_with(None);
    let before = get(&f.app, "/api/v1/overview").await.json();
    assert_overview_matches(&before, &[&f.clear]);
    assert_eq!(get(&f.app, "/api/v1/overview").await.json(), before);
    let label = greenwatch_model::access::Label {
        owner: "cert-b".into(),
        tlp: greenwatch_model::access::Tlp::Clear,
    };
    store_capture(&mut *f.store, "late", label, &f.amber);
    let after = get(&f.app, "/api/v1/overview").await.json();
    assert_overview_matches(&after, &[&f.clear, &f.amber]);
}

#[tokio::test]
async fn a_member_of_the_owner_organisation_also_sees_its_amber_capture() {
    let f = fixture();
    let owner = Visitor {
        name: Some("bea@cert-b".into()),
        viewer: Viewer::User {
            org: "cert-b".into(),
            role: Role::Member,
        },
        ..Visitor::anonymous()
    };
    let mut request = Request::get("/api/v1/overview")
        .body(Body::empty())
        .unwrap();
    request.extensions_mut().insert(owner.clone());
    assert_overview_matches(&send(&f.app, request).await.json(), &[&f.clear, &f.amber]);
    // The navigation bar names who is logged in.
    let mut request = Request::get("/").body(Body::empty()).unwrap();
    request.extensions_mut().insert(owner);
    let page = send(&f.app, request).await;
    assert!(page.body.contains("bea@cert-b"));
    assert!(!page.body.contains("href=\"/login\""));
}

#[tokio::test]
async fn a_window_restricts_every_part_of_the_overview() {
    let f = fixture();
    let reply = get(
        &f.app,
        "/api/v1/overview?from=2026-10-05T02:00:00Z&to=2026-10-05T04:00:00Z",
    )
    .await;
    let overview = reply.json();
    let in_window =
        |f: &greenwatch_observe::FlowTuple| (1_791_165_600..1_791_172_800).contains(&f.bucket);
    let packets: u64 = f
        .clear
        .flows()
        .filter(|x| in_window(x))
        .map(|x| x.packets)
        .sum();
    assert_eq!(overview["totals"]["packets"], packets);
    assert_eq!(overview["series"][0]["points"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn bad_windows_are_problem_json_400s() {
    let f = fixture();
    for query in [
        "from=yesterday",
        "from=2026-10-06&to=2026-10-05",
        "from=2020-01-01&to=2026-01-01",
        // Rejected by the query extractor before the handler runs.
        "from=2026-10-05&from=2026-10-06",
    ] {
        let reply = get(&f.app, &format!("/api/v1/overview?{query}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(reply.content_type(), "application/problem+json");
        let problem = reply.json();
        assert_eq!(problem["status"], 400);
        assert_eq!(problem["title"], "Bad Request");
        assert!(problem["detail"].as_str().unwrap().len() > 10);
        assert_eq!(problem["type"], "about:blank");
    }
    let page = get(&f.app, "/?from=yesterday").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.content_type().starts_with("text/html"));
    assert!(page.body.contains("invalid time"));
    let page = get(&f.app, "/?from=2026-10-05&from=2026-10-06").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(page.content_type(), "text/html; charset=utf-8");
}

#[tokio::test]
async fn every_overview_table_downloads_as_csv() {
    let f = fixture();
    for (part, header_row, rows) in [
        (
            "series",
            "bucket,class,packets,bytes,sources",
            4 * HOURS as usize,
        ),
        ("ports", "rank,port,protocol,packets,bytes,sources", 20),
        ("heatmap", "port,protocol,hour_utc,packets", 240),
    ] {
        let reply = get(&f.app, &format!("/api/v1/overview.csv?part={part}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{part}: {}", reply.body);
        assert_eq!(reply.content_type(), "text/csv; charset=utf-8");
        let disposition = reply.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert!(disposition.contains(&format!("greenwatch-overview-{part}-2026-10-05")));
        let lines: Vec<&str> = reply.body.lines().collect();
        // The last column is the TLP marking of the data (the public's: CLEAR).
        assert_eq!(lines[0], format!("{header_row},tlp"));
        assert!(lines[1..].iter().all(|l| l.ends_with(",CLEAR")), "{part}");
        assert_eq!(lines.len() - 1, rows, "{part}");
    }
    for part in ["countries", "dos"] {
        let reply = get(&f.app, &format!("/api/v1/overview.csv?part={part}")).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.body.lines().count() > 2);
    }
    let reply = get(&f.app, "/api/v1/overview.csv?part=everything").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.content_type(), "application/problem+json");
}

#[tokio::test]
async fn metrics_api_returns_the_engine_rows_for_the_public() {
    let f = fixture();
    let reply = get(&f.app, "/api/v1/metrics?risk=openrecursivedns&period=month").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let catalogue = Catalogue::shipped();
    let engine = Engine::new(
        &catalogue,
        &*f.store,
        &*f.store,
        &f.netdb,
        Viewer::Anonymous,
    );
    let risk = catalogue.by_slug("openrecursivedns").unwrap();
    let period = Period::parse(PeriodKind::Month, "2026-10").unwrap();
    let table = engine.table(risk, GroupBy::Country, period, None).unwrap();
    let want = serde_json::to_value(table.publishable(10).0).unwrap();
    assert_eq!(reply.json(), want);
    let rows = reply.json();
    assert_eq!(rows[0]["country"], "WORLD");
    assert_eq!(rows[0]["hosts"], 45);
    assert_eq!(rows[1]["country"], "CN");
    assert_eq!(rows[1]["hosts"], 30);

    let csv = get(&f.app, "/api/v1/metrics.csv?risk=openrecursivedns&by=asn").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv
        .body
        .starts_with("risk,period,first_day,last_day,country,asn,as_name,hosts"));
    // NL has 3 hosts: below the publication threshold of ASN rows.
    assert!(!csv.body.contains(",64503,"));

    for (query, status) in [
        ("risk=nosuchrisk", StatusCode::NOT_FOUND),
        (
            "risk=openrecursivedns&period=fortnight",
            StatusCode::BAD_REQUEST,
        ),
        ("risk=openrecursivedns&by=planet", StatusCode::BAD_REQUEST),
        (
            "risk=openrecursivedns&period=week&at=2026-13",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let reply = get(&f.app, &format!("/api/v1/metrics?{query}")).await;
        assert_eq!(reply.status, status, "{query}: {}", reply.body);
        assert_eq!(reply.content_type(), "application/problem+json");
    }
}

const PAGES: [&str; 14] = [
    "/",
    "/?from=2026-10-05&to=2026-10-05T03:00:00Z",
    "/?from=2027-01-01",
    "/risks",
    "/risks/openrecursivedns",
    "/risks/openrecursivedns?period=week&at=2026-W40",
    "/downloads",
    "/method",
    "/ports",
    "/ports/tcp/23",
    "/ports/udp/53?from=2027-01-01",
    "/asns/64502",
    "/asns/AS64500?from=2026-10-05T02:00:00Z",
    "/countries",
];

/// Lists page with `limit` and the `Link` header's cursor; a cursor from before a data change
/// is refused instead of skipping or repeating rows.
#[tokio::test]
async fn metric_rows_page_through_cursors_and_stale_cursors_are_refused() {
    let mut f = fixture();
    let whole = get(&f.app, "/api/v1/metrics?risk=openrecursivedns&by=asn").await;
    assert!(whole.headers.get(header::LINK).is_none());
    let whole = whole.json();
    assert_eq!(
        whole.as_array().unwrap().len(),
        3,
        "world, AS64500, AS64502"
    );
    let mut uri = "/api/v1/metrics?risk=openrecursivedns&by=asn&limit=1".to_string();
    let (mut rows, mut second_page) = (Vec::new(), None);
    loop {
        let reply = get(&f.app, &uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.body);
        assert_eq!(reply.headers["x-total-count"], "3");
        rows.extend(reply.json().as_array().unwrap().iter().cloned());
        let Some(link) = reply.headers.get(header::LINK) else {
            break;
        };
        let link = link.to_str().unwrap();
        assert!(link.ends_with(">; rel=\"next\""), "{link}");
        uri = link[1..link.find('>').unwrap()].to_string();
        second_page.get_or_insert(uri.clone());
    }
    assert_eq!(Value::Array(rows), whole);
    let label = greenwatch_model::access::Label {
        owner: "cert-b".into(),
        tlp: greenwatch_model::access::Tlp::Clear,
    };
    store_capture(&mut *f.store, "late", label, &f.amber);
    let stale = get(&f.app, &second_page.unwrap()).await;
    assert_eq!(stale.status, StatusCode::BAD_REQUEST);
    assert!(stale.body.contains("data changed"), "{}", stale.body);
    let bad = get(&f.app, "/api/v1/metrics?risk=openrecursivedns&limit=0").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn every_page_is_html_with_the_security_headers_and_no_inline_script_or_style() {
    let f = fixture();
    for uri in PAGES {
        assert_public_page(&f.app, uri).await;
    }
}

/// An organisation's answers must not stay in a shared cache: every answer to a request with
/// credentials says `no-store`; public answers and versioned assets keep their caching.
#[tokio::test]
async fn answers_to_credentialed_requests_are_not_stored_by_caches() {
    let mut f = fixture();
    let (cookie, _) = sign_in(&mut *f.store, "ana@cert-b", "cert-b", Role::Member, 1);
    for uri in ["/", "/api/v1/overview", "/account", "/api/v1/alerts"] {
        let reply = get_as(&f.app, uri, Some(&cookie)).await;
        assert_eq!(
            reply
                .headers
                .get(header::CACHE_CONTROL)
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{uri} as a member"
        );
        let public = get(&f.app, uri).await;
        assert_ne!(
            public
                .headers
                .get(header::CACHE_CONTROL)
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{uri} for the public"
        );
    }
    let page = get_as(&f.app, "/", Some(&cookie)).await;
    let asset = asset_links(&page.body)
        .into_iter()
        .find(|a| a.contains("?v="))
        .expect("a versioned asset");
    let reply = get_as(&f.app, &asset, Some(&cookie)).await;
    assert!(
        reply.headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable"),
        "{asset}"
    );
}

#[tokio::test]
async fn the_overview_page_holds_its_tables_and_chart_data() {
    let f = fixture();
    let page = unescape(&get(&f.app, "/").await.body);
    for id in [
        "chart-series",
        "chart-ports",
        "chart-countries",
        "chart-map",
        "chart-heatmap",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "no {id}");
    }
    assert_eq!(page.matches("<details>").count(), 4);
    for part in ["series", "ports", "countries", "heatmap", "dos"] {
        assert!(page.contains(&format!("/api/v1/overview.csv?part={part}&from=2026-10-05")));
    }
    let start = page.find("id=\"overview-data\">").unwrap() + "id=\"overview-data\">".len();
    let end = start + page[start..].find("</script>").unwrap();
    let island: Value = serde_json::from_str(&page[start..end]).unwrap();
    let mut api = get(&f.app, "/api/v1/overview").await.json();
    // The API's answer is the island plus its TLP marking.
    assert_eq!(
        api.as_object_mut().unwrap().remove("tlp"),
        Some("CLEAR".into())
    );
    assert_eq!(island, api);
    assert!(
        page.contains("<span class=\"cc\">US</span> United States"),
        "country names in the table"
    );
    assert!(
        page.contains("US-NET") || !page.contains("AS64502"),
        "AS names with DoS victims"
    );
}

#[tokio::test]
async fn the_risk_page_ranks_countries_and_maps_them() {
    let f = fixture();
    let page = unescape(&get(&f.app, "/risks/openrecursivedns").await.body);
    assert!(page.contains("2026-10"), "the latest period by default");
    assert!(page.contains("<span class=\"cc\">CN</span> China"));
    assert!(page.contains("id=\"risk-data\""));
    assert!(page
        .contains("/api/v1/metrics.csv?risk=openrecursivedns&by=country&period=month&at=2026-10"));
    let missing = get(&f.app, "/risks/nosuchrisk").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.content_type().starts_with("text/html"));
}

#[tokio::test]
async fn the_risk_page_follows_its_top_countries_and_maps_share_and_density() {
    let f = fixture();
    // Resolvers are reported on five days: by day, the last one is complete and the trend
    // follows the days before it.
    let page = unescape(&get(&f.app, "/risks/openrecursivedns?period=day").await.body);
    assert!(page.contains("id=\"chart-trend\""), "a trend chart");
    assert!(
        page.contains("id=\"map-metric\""),
        "the map's metric can be chosen"
    );
    assert!(
        page.contains("href=\"/countries/CN\""),
        "countries link their pages"
    );
    assert!(!page.contains("href=\"/countries/ZZ\""));
    let start = page.find("id=\"risk-data\">").unwrap() + "id=\"risk-data\">".len();
    let end = start + page[start..].find("</script>").unwrap();
    let island: serde_json::Value = serde_json::from_str(&page[start..end]).unwrap();
    let periods = island["trend"]["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 5, "{periods:?}");
    assert_eq!(periods.last().unwrap(), "2026-10-05");
    let cn = island["trend"]["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["country"] == "CN")
        .expect("CN, the top country, is followed");
    // 30 CN resolvers, reported on the five days in turn: 6 a day.
    assert_eq!(cn["hosts"], serde_json::json!([6, 6, 6, 6, 6]));
    let map_cn = island["map"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["country"] == "CN")
        .unwrap();
    assert!(map_cn["share"].as_f64().unwrap() > 0.5);
    assert!(map_cn["density"].as_f64().unwrap() > 0.0);
}

#[tokio::test]
async fn assets_have_their_content_types_and_versioned_urls_are_immutable() {
    let f = fixture();
    let page = get(&f.app, "/").await.body;
    let links = asset_links(&page);
    for (suffix, content_type) in [
        ("portal.css", "text/css; charset=utf-8"),
        ("echarts.min.js", "text/javascript; charset=utf-8"),
        ("overview.js", "text/javascript; charset=utf-8"),
        ("countries-110m.json", "application/json"),
        ("country-codes.json", "application/json"),
        ("favicon.svg", "image/svg+xml"),
    ] {
        let url = links
            .iter()
            .find(|l| l.split('?').next().unwrap().ends_with(suffix))
            .unwrap_or_else(|| panic!("the overview does not link {suffix}"));
        assert!(url.contains("?v="), "{url} is not versioned");
        let reply = get(&f.app, url).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.content_type(), content_type, "{url}");
        assert_eq!(
            reply.headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert!(reply.headers.contains_key("content-security-policy"));
        // Unversioned: revalidate, and the ETag answers 304.
        let bare = url.split('?').next().unwrap();
        let reply = get(&f.app, bare).await;
        assert_eq!(reply.headers[header::CACHE_CONTROL], "no-cache");
        let etag = reply.headers[header::ETAG].clone();
        let request = Request::get(bare)
            .header(header::IF_NONE_MATCH, etag)
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&f.app, request).await.status, StatusCode::NOT_MODIFIED);
    }
    assert_eq!(
        get(&f.app, "/assets/nothing.js").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn unknown_routes_are_404_problem_json_under_api_and_html_elsewhere() {
    let f = fixture();
    let api = get(&f.app, "/api/v1/nothing").await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.content_type(), "application/problem+json");
    assert_eq!(api.json()["status"], 404);
    assert!(api.headers.contains_key("content-security-policy"));
    let page = get(&f.app, "/nothing").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(page.content_type(), "text/html; charset=utf-8");
    assert!(page.body.contains("404"));
    let post = send(
        &f.app,
        Request::post("/api/v1/overview")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.content_type(), "application/problem+json");
}

#[tokio::test]
async fn healthz_answers_ok() {
    let f = fixture();
    let reply = get(&f.app, "/healthz").await;
    assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, "ok"));
}

#[tokio::test]
async fn an_empty_store_shows_an_empty_overview() {
    let dir = tempfile::tempdir().unwrap();
    let app = router(AppState::new(
        dir.path().to_path_buf(),
        NetDb::from_snapshots(Vec::new()),
        Catalogue::shipped(),
    ));
    let overview = get(&app, "/api/v1/overview").await.json();
    assert_eq!(overview["from"], Value::Null);
    assert_eq!(overview["totals"]["packets"], 0);
    let page = get(&app, "/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No observations in this window"));
    assert_eq!(
        get(&app, "/risks/openrecursivedns").await.status,
        StatusCode::OK
    );
    assert_eq!(get(&app, "/api/v1/metrics").await.body, "[]");
}

#[test]
fn the_store_is_shared_by_concurrent_requests() {
    // Many requests at once on a multi-threaded runtime: the pool opens connections as needed.
    let f = fixture();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let requests: Vec<_> = (0..16)
            .map(|_| {
                let app = f.app.clone();
                tokio::spawn(async move { get(&app, "/api/v1/overview").await.status })
            })
            .collect();
        for r in requests {
            assert_eq!(r.await.unwrap(), StatusCode::OK);
        }
    });
}

#[tokio::test]
async fn the_overview_says_how_much_darknet_it_covers_how_fresh_it_is_and_splits_countries_by_class(
) {
    let f = fixture();
    let overview = get(&f.app, "/api/v1/overview").await.json();
    let nets: std::collections::BTreeSet<String> = f
        .clear
        .flows()
        .filter(|flow| flow.dst_net.is_ipv4())
        .map(|flow| flow.dst_net.to_string())
        .collect();
    assert_eq!(overview["darknet_v4_24s"], nets.len() as u64);
    let last = f.clear.flows().map(|flow| flow.bucket).max().unwrap();
    assert_eq!(
        overview["newest_data"],
        Timestamp::from_secs(last + 3600).to_rfc3339()
    );
    let by_class = overview["countries_by_class"].as_array().unwrap();
    assert_eq!(by_class.len(), 4);
    let scan = by_class.iter().find(|c| c["class"] == "scan").unwrap();
    let scan_packets: u64 = scan["countries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["packets"].as_u64().unwrap())
        .sum();
    assert_eq!(scan_packets, overview["totals"]["by_class"]["scan"]);
    let page = get(&f.app, "/").await.body;
    assert!(page.contains("id=\"country-class\""));
    assert!(page.contains("Darknet seen") && page.contains("Newest data"));
}
