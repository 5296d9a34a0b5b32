//! The access-control walk: every route, as every kind of viewer, against data of every TLP
//! label. A viewer who may not see a dataset must get exactly the answer they would get if
//! the dataset did not exist: not a count, not a row, not a day of coverage more.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use common::*;
use greenwatch_model::access::{Label, Role, Tlp};
use greenwatch_model::{CountryCode, RiskEvent, Timestamp};
use greenwatch_store::{FeedFileRecord, RiskStore, SqliteStore};
use std::net::IpAddr;
use tower::ServiceExt;

/// Every GET route the portal serves, with the query strings that reach its data.
const ROUTES: &[&str] = &[
    "/",
    "/?from=2026-10-05&to=2026-10-06",
    "/api/v1/overview",
    "/api/v1/overview?from=2026-10-05T02:00:00Z&to=2026-10-05T04:00:00Z",
    "/api/v1/overview.csv?part=series",
    "/api/v1/overview.csv?part=ports",
    "/api/v1/overview.csv?part=countries",
    "/api/v1/overview.csv?part=heatmap",
    "/api/v1/overview.csv?part=dos",
    "/risks",
    "/reports",
    "/risks/openrecursivedns",
    "/risks/openrecursivedns?period=day&at=2026-10-02",
    "/risks/openrecursivedns?period=week&at=2026-10-05",
    "/api/v1/risks",
    "/api/v1/metrics?risk=openrecursivedns",
    "/api/v1/metrics?risk=openrecursivedns&by=asn&period=week&at=2026-W40",
    "/api/v1/metrics.csv?risk=openrecursivedns",
    "/api/v1/metrics.csv?risk=openrecursivedns&by=asn",
    "/downloads",
    "/method",
    "/ports",
    "/countries",
    "/countries?from=2026-10-05&to=2026-10-06",
    "/countries/CN",
    "/countries/CN?compare=US,FR",
    "/countries/fr?compare=CN,US,NL&from=2026-10-05",
    "/api/v1/countries/CN?compare=US",
    "/api/v1/countries/FR?compare=US,NL",
    "/api/v1/countries/FR?compare=CN&from=2026-10-05T02:00:00Z&to=2026-10-05T04:00:00Z",
    "/ports/tcp/23",
    "/ports/tcp/23?from=2026-10-05T02:00:00Z",
    "/asns/64500",
    "/asns/64502",
    "/api/v1/ports",
    "/api/v1/ports/tcp/23",
    "/api/v1/ports/udp/53",
    "/api/v1/asns/64500",
    "/api/v1/asns/64501",
    "/api/v1/asns/64502",
    "/alerts",
    "/alerts/1",
    "/alerts.atom",
    "/api/v1/alerts",
    "/api/v1/alerts?limit=1",
    "/api/v1/alerts/1",
    "/healthz",
];

/// The viewers: (name, organisation, role); `None` is the public.
const VIEWERS: &[(&str, Option<(&str, Role)>)] = &[
    ("anonymous", None),
    ("member of cert-a", Some(("cert-a", Role::Member))),
    ("analyst of cert-a", Some(("cert-a", Role::Analyst))),
    ("admin of the operator", Some(("operator", Role::Admin))),
    (
        "member of cert-b (the owner)",
        Some(("cert-b", Role::Member)),
    ),
];

/// Open resolvers of cert-b in FR (2.0.0.x), on 1-7 October, labelled `tlp`.
fn store_restricted_feed(
    store: &mut SqliteStore,
    fixture_netdb: &greenwatch_netdb::NetDb,
    tlp: Tlp,
) {
    let mut w = store.begin_feed_file("restricted").unwrap();
    for host in 0..20u64 {
        let ip: IpAddr = format!("2.0.0.{}", host + 1).parse().unwrap();
        let day = format!("2026-10-0{}", host % 7 + 1);
        let event = RiskEvent {
            ip,
            port: 53,
            time: Timestamp::parse(&day).unwrap(),
            line: host + 2,
            feed_asn: 0,
            feed_country: CountryCode::UNKNOWN,
            enrichment: fixture_netdb.snapshots()[0].enrich(ip),
        };
        w.write_events("openrecursivedns", day.parse().unwrap(), &[event])
            .unwrap();
    }
    w.commit(&FeedFileRecord {
        content_hash: "restricted".into(),
        path: "2026-10-01-scan_dns-b.csv".into(),
        format: "shadowserver".into(),
        report_type: Some("scan_dns".into()),
        label: Label {
            owner: "cert-b".into(),
            tlp,
        },
        counts: Default::default(),
        ingested_at: Timestamp(1),
    })
    .unwrap();
}

/// Users and live sessions for every viewer; returns the session cookie per viewer.
fn sign_in_everyone(store: &mut SqliteStore) -> Vec<Option<String>> {
    for slug in ["cert-a", "cert-b", "operator"] {
        ensure_org(store, slug);
    }
    VIEWERS
        .iter()
        .enumerate()
        .map(|(i, (_, who))| {
            let (org, role) = (*who)?;
            let login = format!("user{i}@{org}.example");
            Some(sign_in(store, &login, org, role, i).0)
        })
        .collect()
}

/// A data directory where cert-b's capture, feed and alert carry `tlp` (`None`: they do not
/// exist). A public alert of cert-a (id 1) exists in every world.
fn world(tlp: Option<Tlp>) -> (Fixture, Vec<Option<String>>) {
    let mut f = fixture_with(tlp);
    store_alert(
        &mut f.store,
        "cert-a",
        Tlp::Clear,
        "Public surge",
        "2026-10-05T02:00:00Z",
    );
    if let Some(tlp) = tlp {
        let netdb = &f.netdb;
        store_restricted_feed(&mut f.store, netdb, tlp);
        store_alert(
            &mut f.store,
            "cert-b",
            tlp,
            "Restricted surge",
            "2026-10-05T03:00:00Z",
        );
    }
    let cookies = sign_in_everyone(&mut f.store);
    (f, cookies)
}

async fn body(app: &Router, uri: &str, cookie: &Option<String>) -> (StatusCode, String) {
    let mut request = Request::get(uri);
    if let Some(c) = cookie {
        request = request.header(header::COOKIE, c);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 26)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_route_shows_anyone_data_their_organisation_and_the_label_do_not_allow() {
    let (without, without_cookies) = world(None);
    for tlp in Tlp::ALL {
        let (with, cookies) = world(Some(tlp));
        // Forwards, then backwards: results are cached per viewer scope, and an answer cached
        // for the owner must never reach a later viewer (nor the public's reach the owner).
        let walk = VIEWERS.iter().enumerate();
        for (v, (name, who)) in walk.clone().chain(walk.rev()) {
            // The rule of docs/access-control.md, written out independently of the code.
            let visible = match (tlp, who) {
                (Tlp::Clear, _) => true,
                (_, None) => false,
                (Tlp::Green, Some(_)) => true,
                (_, Some((org, _))) => *org == "cert-b",
            };
            let mut differs = 0;
            for route in ROUTES {
                let (status, seen) = body(&with.app, route, &cookies[v]).await;
                let (base_status, baseline) = body(&without.app, route, &without_cookies[v]).await;
                assert_eq!(status, StatusCode::OK, "{route} as {name}: {seen}");
                assert_eq!(status, base_status);
                if visible {
                    differs += usize::from(seen != baseline);
                } else {
                    assert!(
                        seen == baseline,
                        "{route} as {name} shows {tlp} data of cert-b (it must answer as if the data did not exist)"
                    );
                }
            }
            if visible {
                // Seeing the data must show: the overview, its CSVs and the risk tables change.
                assert!(
                    differs >= 10,
                    "{name} may see {tlp} data but only {differs} routes show it"
                );
            }
        }
    }
}

/// The sensor network's routes, for cert-a's public sensor and cert-b's sensor `b-tokyo`.
const SENSOR_ROUTES: &[&str] = &[
    "/sensors",
    "/api/v1/sensors",
    "/sensors/b-tokyo",
    "/api/v1/sensors/b-tokyo",
    "/sensors/compare",
    "/api/v1/sensors/compare",
    "/sensors/a-paris",
    "/api/v1/sensors/a-paris",
];

const B_BLOCK: &str = "198.51.100.0/24";

/// [`world`] plus cert-a's CLEAR sensor and, when `tlp` is given, cert-b's sensor with its
/// observations, both labelled `tlp`.
fn sensor_world(tlp: Option<Tlp>) -> (Fixture, Vec<Option<String>>) {
    use greenwatch_store::{NewSensor, SensorStore};
    let (mut f, cookies) = world(tlp);
    // Both worlds are the same deployment: the same anonymisation key.
    std::fs::write(f._dir.path().join("anonymisation.key"), "ab".repeat(32)).unwrap();
    let mut register = |name: &str, org: &str, block: &str, tlp: Tlp| {
        let sensor = NewSensor {
            name: name.into(),
            org: org.into(),
            address_block: block.parse().unwrap(),
            location: "somewhere".into(),
            tlp,
            token_hash: format!("hash of {name}"),
        };
        f.store
            .register_sensor(&sensor, "test", Timestamp(1))
            .unwrap();
    };
    register("a-paris", "cert-a", "203.0.113.0/24", Tlp::Clear);
    if let Some(tlp) = tlp {
        register("b-tokyo", "cert-b", B_BLOCK, tlp);
    }
    let label = |owner: &str, tlp| Label {
        owner: owner.into(),
        tlp,
    };
    let clear = f.clear.clone();
    store_sensor_capture(
        &mut f.store,
        "a-paris",
        "a-paris",
        label("cert-a", Tlp::Clear),
        &clear,
    );
    if let Some(tlp) = tlp {
        let amber = f.amber.clone();
        store_sensor_capture(
            &mut f.store,
            "b-tokyo",
            "b-tokyo",
            label("cert-b", tlp),
            &amber,
        );
    }
    (f, cookies)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensor_routes_show_only_visible_sensors_and_anonymise_addresses_for_outsiders() {
    let (without, without_cookies) = sensor_world(None);
    for tlp in Tlp::ALL {
        let (with, cookies) = sensor_world(Some(tlp));
        let real_sources: Vec<String> = with
            .amber
            .flows()
            .map(|f| format!("\"{}\"", f.src))
            .collect();
        for (v, (name, who)) in VIEWERS.iter().enumerate() {
            let visible = match (tlp, who) {
                (Tlp::Clear, _) => true,
                (_, None) => false,
                (Tlp::Green, Some(_)) => true,
                (_, Some((org, _))) => *org == "cert-b",
            };
            let owner = matches!(who, Some(("cert-b", _)));
            let mut differs = 0;
            for route in SENSOR_ROUTES {
                let (status, seen) = body(&with.app, route, &cookies[v]).await;
                let (base_status, baseline) = body(&without.app, route, &without_cookies[v]).await;
                if !visible {
                    assert_eq!(status, base_status, "{route} as {name}");
                    assert!(
                        seen == baseline,
                        "{route} as {name} shows cert-b's {tlp} sensor (it must answer as if it did not exist)"
                    );
                    continue;
                }
                differs += usize::from(seen != baseline);
                assert_eq!(
                    seen.contains(B_BLOCK),
                    owner && route.contains("b-tokyo")
                        || owner && !route.contains("a-paris") && !route.contains("compare"),
                    "{route} as {name}: the real block of cert-b's sensor is for cert-b only"
                );
                if !owner
                    && matches!(tlp, Tlp::Clear | Tlp::Green)
                    && route.starts_with("/api/v1/sensors/b-tokyo")
                {
                    let leaked: Vec<&String> = real_sources
                        .iter()
                        .filter(|ip| seen.contains(ip.as_str()))
                        .collect();
                    assert!(
                        leaked.is_empty(),
                        "{route} as {name} shows real sources of {tlp} data: {leaked:?}"
                    );
                }
            }
            if visible {
                assert!(
                    differs >= 4,
                    "{name} may see cert-b's {tlp} sensor but only {differs} routes show it"
                );
            }
        }
    }
}
