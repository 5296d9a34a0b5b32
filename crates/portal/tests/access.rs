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
use greenwatch_store::{FeedFileRecord, Store};
use std::collections::HashSet;
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
    "/asns",
    "/api/v1/asns",
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
    "/api/v1/alerts?state=open&severity=high&subject=23%2Ftcp",
    "/alerts?state=open&kind=surge&page=1",
    "/api/v1/alerts/1",
    "/search?q=land",
    "/api/v1/search?q=AS64500",
    "/api/v1/search?q=acme",
    // 1.0.0.7 is named by both worlds' alerts; 8.0.243.255 is its image under the fixtures'
    // key, 8.0.243.249 that of the open resolver 1.0.0.1.
    "/ips/1.0.0.7",
    "/ips/8.0.243.255",
    "/api/v1/ips/1.0.0.7",
    "/api/v1/ips/8.0.243.255",
    "/api/v1/ips/2.0.0.1",
    "/api/v1/ips/8.0.243.249?from=2026-10-01&to=2026-10-06",
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
fn store_restricted_feed(store: &mut dyn Store, fixture_netdb: &greenwatch_netdb::NetDb, tlp: Tlp) {
    let mut w = store.begin_feed_file("cert-b", "restricted").unwrap();
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
fn sign_in_everyone(store: &mut dyn Store) -> Vec<Option<String>> {
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
        &mut *f.store,
        "cert-a",
        Tlp::Clear,
        "Public surge",
        "2026-10-05T02:00:00Z",
    );
    if let Some(tlp) = tlp {
        let netdb = &f.netdb;
        store_restricted_feed(&mut *f.store, netdb, tlp);
        store_alert(
            &mut *f.store,
            "cert-b",
            tlp,
            "Restricted surge",
            "2026-10-05T03:00:00Z",
        );
    }
    let cookies = sign_in_everyone(&mut *f.store);
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
    "/sensors/cert-b/b-tokyo",
    "/api/v1/sensors/cert-b/b-tokyo",
    "/sensors/compare",
    "/api/v1/sensors/compare",
    "/sensors/cert-a/a-paris",
    "/api/v1/sensors/cert-a/a-paris",
];

/// The overview of one sensor (cert-b's `b-tokyo`): its page, API and a CSV.
const SENSOR_OVERVIEW_ROUTES: &[&str] = &[
    "/?sensor=cert-b/b-tokyo",
    "/api/v1/overview?sensor=cert-b/b-tokyo",
    "/api/v1/overview.csv?part=countries&sensor=cert-b/b-tokyo",
];

const B_BLOCK: &str = "198.51.100.0/24";

/// [`world`] plus cert-a's CLEAR sensor and, when `tlp` is given, cert-b's sensor with its
/// observations, both labelled `tlp`.
fn sensor_world(tlp: Option<Tlp>) -> (Fixture, Vec<Option<String>>) {
    let (mut f, cookies) = world(tlp);
    register_sensor(
        &mut *f.store,
        "cert-a",
        "a-paris",
        "203.0.113.0/24",
        Tlp::Clear,
    );
    if let Some(tlp) = tlp {
        register_sensor(&mut *f.store, "cert-b", "b-tokyo", B_BLOCK, tlp);
    }
    let label = |owner: &str, tlp| Label {
        owner: owner.into(),
        tlp,
    };
    let clear = f.clear.clone();
    store_sensor_capture(
        &mut *f.store,
        "a-paris",
        "a-paris",
        label("cert-a", Tlp::Clear),
        &clear,
    );
    if let Some(tlp) = tlp {
        let amber = f.amber.clone();
        store_sensor_capture(
            &mut *f.store,
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
                    && route.starts_with("/api/v1/sensors/cert-b/b-tokyo")
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
            // One sensor's overview: as if the sensor did not exist unless it is visible,
            // and never its real block outside cert-b.
            for route in SENSOR_OVERVIEW_ROUTES {
                let (status, seen) = body(&with.app, route, &cookies[v]).await;
                let (base_status, baseline) = body(&without.app, route, &without_cookies[v]).await;
                if visible {
                    assert_eq!(status, StatusCode::OK, "{route} as {name}: {seen}");
                    assert_eq!(base_status, StatusCode::NOT_FOUND, "{route} as {name}");
                } else {
                    assert_eq!(status, base_status, "{route} as {name}");
                    assert!(
                        seen == baseline,
                        "{route} as {name} shows cert-b's {tlp} sensor (it must answer as if it did not exist)"
                    );
                }
                assert!(
                    owner || !seen.contains(B_BLOCK),
                    "{route} as {name}: the real block of cert-b's sensor is for cert-b only"
                );
            }
        }
    }
}

/// A sensor is its organisation's: another organisation's captures stored under the same name
/// (an upload's default, a registered name of someone else's) never join its pages, and its
/// name tells nothing of sensors the viewer cannot see.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensor_names_shared_across_organisations_never_join_their_data() {
    for tlp in [Tlp::Clear, Tlp::Green, Tlp::Amber] {
        let (mut f, cookies) = world(None);
        // cert-b registers `shared`; cert-a has captures under the same name. The same name
        // in two organisations is no conflict (names are per organisation).
        for org in ["cert-b", "cert-a"] {
            register_sensor(&mut *f.store, org, "shared", B_BLOCK, Tlp::Green);
        }
        let amber = f.amber.clone();
        let label = Label {
            owner: "cert-a".into(),
            tlp,
        };
        store_sensor_capture(&mut *f.store, "a-shared", "shared", label, &amber);
        let real_sources: Vec<String> = amber.flows().map(|f| format!("\"{}\"", f.src)).collect();
        for (v, (name, who)) in VIEWERS.iter().enumerate() {
            let (status, seen) = body(&f.app, "/api/v1/sensors/cert-b/shared", &cookies[v]).await;
            if who.is_none() {
                assert_eq!(
                    status,
                    StatusCode::NOT_FOUND,
                    "{name}: cert-b's sensor is GREEN"
                );
                continue;
            }
            assert_eq!(status, StatusCode::OK, "{name}: {seen}");
            let detail: serde_json::Value = serde_json::from_str(&seen).unwrap();
            assert_eq!(
                detail["packets"], 0,
                "{name}: cert-a's {tlp} capture named `shared` is not cert-b's sensor's data"
            );
            let leaked: Vec<&String> = real_sources
                .iter()
                .filter(|ip| seen.contains(ip.as_str()))
                .collect();
            assert!(
                leaked.is_empty(),
                "{name} sees cert-a's sources: {leaked:?}"
            );
            // cert-a's own sensor of that name holds cert-a's capture for those who see it.
            let (_, own) = body(&f.app, "/api/v1/sensors/cert-a/shared", &cookies[v]).await;
            let own: serde_json::Value = serde_json::from_str(&own).unwrap();
            let sees_capture = tlp != Tlp::Amber || matches!(who, Some(("cert-a", _)));
            assert_eq!(
                own["packets"].as_u64().unwrap() > 0,
                sees_capture,
                "{name}: cert-a/shared over a {tlp} capture"
            );
        }
    }
}

/// Every address literal (IPv4 or IPv6) in `text`: runs of hex digits, `.` and `:` that parse
/// as an address once a sentence's trailing `.` or `:` is left off.
fn address_literals(text: &str) -> HashSet<IpAddr> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
        .filter_map(|run| run.trim_end_matches(['.', ':']).parse().ok())
        .collect()
}

/// The addresses stored in one dataset: (sources and DoS victims, the sensor's block address).
struct Dataset {
    owner: &'static str,
    tlp: Tlp,
    sources: HashSet<IpAddr>,
    block: Option<IpAddr>,
}

fn sources_of(obs: &greenwatch_observe::Observations) -> HashSet<IpAddr> {
    obs.flows()
        .map(|f| f.src)
        .chain(obs.backscatter.iter().map(|s| s.victim))
        .collect()
}

/// What [`sensor_world`] stores, dataset by dataset, including the alerts' named sources.
fn stored_datasets(f: &Fixture, tlp: Tlp) -> Vec<Dataset> {
    let alert_source: IpAddr = "1.0.0.7".parse().unwrap();
    let block = |b: &str| {
        Some(
            b.parse::<greenwatch_model::sensor::AddressBlock>()
                .unwrap()
                .network,
        )
    };
    vec![
        Dataset {
            owner: "cert-a",
            tlp: Tlp::Clear,
            sources: sources_of(&f.clear)
                .into_iter()
                .chain([alert_source])
                .collect(),
            block: block("203.0.113.0/24"),
        },
        Dataset {
            owner: "cert-b",
            tlp,
            sources: sources_of(&f.amber)
                .into_iter()
                .chain([alert_source])
                .collect(),
            block: block(B_BLOCK),
        },
    ]
}

/// The rule of docs/anonymisation.md, written out independently of the code: (sources are
/// hidden, the sensor's block is hidden) from `who` in a dataset of `owner` labelled `tlp`.
/// Data the viewer may not see at all is hidden entirely.
fn hidden(who: Option<(&str, Role)>, owner: &str, tlp: Tlp) -> (bool, bool) {
    let visible = match (tlp, who) {
        (Tlp::Clear, _) => true,
        (_, None) => false,
        (Tlp::Green, Some(_)) => true,
        (_, Some((org, _))) => org == owner,
    };
    let outsider = who.is_none_or(|(org, _)| org != owner);
    let widely_shared = matches!(tlp, Tlp::Clear | Tlp::Green);
    (!visible || outsider && widely_shared, !visible || outsider)
}

/// Every route that carries addresses, in one list: the access walk's and the sensors'.
fn address_routes() -> impl Iterator<Item = &'static str> {
    ROUTES.iter().chain(SENSOR_ROUTES).copied()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_route_shows_an_outsider_a_stored_address_the_rule_hides() {
    let pan = anonymiser();
    for tlp in Tlp::ALL {
        let (world, cookies) = sensor_world(Some(tlp));
        let datasets = stored_datasets(&world, tlp);
        let walk = VIEWERS.iter().enumerate();
        for (v, (name, who)) in walk.clone().chain(walk.rev()) {
            // An address is hidden when every dataset holding it hides it from this viewer.
            let mut hide = HashSet::new();
            let mut show = HashSet::new();
            for d in &datasets {
                let (sources, block) = hidden(*who, d.owner, d.tlp);
                for (hidden, addrs) in [
                    (sources, d.sources.clone()),
                    (block, d.block.into_iter().collect()),
                ] {
                    if hidden { &mut hide } else { &mut show }.extend(addrs);
                }
            }
            let hide: HashSet<IpAddr> = hide.difference(&show).copied().collect();
            let mut seen = HashSet::new();
            for route in address_routes() {
                // A sensor the viewer may not see answers 404; its body is checked all the same.
                let (_, text) = body(&world.app, route, &cookies[v]).await;
                // The address a viewer asks about (an IP page's) is what they typed, not a
                // disclosure; what the page says about it is checked all the same.
                let literals: HashSet<IpAddr> = address_literals(&text)
                    .difference(&address_literals(route))
                    .copied()
                    .collect();
                let leaked: Vec<&IpAddr> = literals.intersection(&hide).collect();
                assert!(
                    leaked.is_empty(),
                    "{route} as {name} ({tlp} world) shows stored addresses the rule hides: {leaked:?}"
                );
                seen.extend(literals);
            }
            // Hidden is not dropped: the public's DoS victims of cert-a's CLEAR capture are
            // there, anonymised; cert-a's own members see them as they are.
            let victims: HashSet<IpAddr> =
                world.clear.backscatter.iter().map(|s| s.victim).collect();
            assert!(!victims.is_empty());
            let images: HashSet<IpAddr> = victims.iter().map(|a| pan.anonymise(*a)).collect();
            if matches!(who, Some(("cert-a", _))) {
                assert!(!seen.is_disjoint(&victims), "{name} sees its own victims");
            } else {
                assert!(
                    !seen.is_disjoint(&images),
                    "{name} sees cert-a's victims anonymised"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymised_sources_keep_their_shared_prefixes() {
    let pan = anonymiser();
    let (world, cookies) = sensor_world(Some(Tlp::Clear));
    let top = |v: usize| {
        let cookies = &cookies;
        let world = &world;
        async move {
            let (_, text) = body(&world.app, "/api/v1/sensors/cert-a/a-paris", &cookies[v]).await;
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            json["top_sources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["ip"].as_str().unwrap().parse::<IpAddr>().unwrap())
                .collect::<Vec<IpAddr>>()
        }
    };
    // Viewer 1 is a member of cert-a (the owner), viewer 0 the public.
    let (real, shown) = (top(1).await, top(0).await);
    assert!(real.len() > 2);
    assert_eq!(
        shown,
        real.iter().map(|a| pan.anonymise(*a)).collect::<Vec<_>>()
    );
    let prefix = |a: &IpAddr, b: &IpAddr| match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(*a) ^ u32::from(*b)).leading_zeros(),
        _ => 0,
    };
    let mut shared = 0;
    for i in 0..real.len() {
        for j in i + 1..real.len() {
            assert_eq!(prefix(&real[i], &real[j]), prefix(&shown[i], &shown[j]));
            shared += usize::from(prefix(&real[i], &real[j]) >= 8);
        }
    }
    assert!(shared > 0, "some top sources share a network");
}

/// The administration walk: every admin action of `/admin`, by every kind of actor, on every
/// organisation, allowed or refused exactly as the table of `docs/access-control.md` says. A
/// refused POST is a 403 that changes nothing and writes no audit entry; an allowed one
/// changes what it says and writes one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_action_on_every_organisation_is_allowed_exactly_as_the_table_says() {
    use greenwatch_model::account::Constituency;

    // The actors (login, organisation, role) and the organisations acted on; cert-c has no
    // admin yet.
    let actors = [
        ("root", "operator", Role::Admin),
        ("ada", "cert-a", Role::Admin),
        ("bea", "cert-b", Role::Admin),
        ("mia", "cert-a", Role::Member),
        ("otto", "operator", Role::Analyst),
    ];
    let targets = ["operator", "cert-a", "cert-b", "cert-c"];
    // Who may do what to whom: "actor:organisation" (`*`: every organisation).
    let table: &[(&str, &[&str])] = &[
        ("add organisation", &["root:*"]),
        ("set constituency", &["root:*"]),
        ("see accounts", &["root:*", "ada:cert-a", "bea:cert-b"]),
        (
            "add user",
            &["root:operator", "root:cert-c", "ada:cert-a", "bea:cert-b"],
        ),
        (
            "reset password",
            &["root:operator", "ada:cert-a", "bea:cert-b"],
        ),
        ("disable user", &["root:*", "ada:cert-a", "bea:cert-b"]),
        (
            "enable user",
            &["root:operator", "ada:cert-a", "bea:cert-b"],
        ),
        ("read audit", &["root:*", "ada:cert-a", "bea:cert-b"]),
    ];
    let allowed = |action: &str, actor: &str, org: &str| {
        let (_, pairs) = table.iter().find(|(a, _)| *a == action).unwrap();
        pairs
            .iter()
            .any(|p| *p == format!("{actor}:*") || *p == format!("{actor}:{org}"))
    };

    let mut f = fixture();
    let mut sessions = Vec::new();
    for (i, (name, org, role)) in actors.iter().enumerate() {
        let login = format!("{name}@{org}.example");
        sessions.push(sign_in(&mut *f.store, &login, org, *role, i + 1));
    }
    // In every organisation a member the admin actions are done to, and one audit entry.
    let mut victims = Vec::new();
    for org in targets {
        let login = format!("victim@{org}.example");
        let (_, csrf) = sign_in(
            &mut *f.store,
            &login,
            org,
            Role::Member,
            100 + victims.len(),
        );
        drop(csrf);
        f.store
            .audit(&greenwatch_model::account::AuditEntry {
                at: Timestamp(2),
                actor: login.clone(),
                action: "login".into(),
                target: format!("marker-of-{org}"),
                detail: String::new(),
            })
            .unwrap();
        victims.push(f.store.user_by_login(&login).unwrap().unwrap());
    }

    let mut attempt = 0;
    for (a, (name, _, _)) in actors.iter().enumerate() {
        let (cookie, csrf) = &sessions[a];
        let page = get_as(&f.app, "/admin", Some(cookie)).await;
        for (t, org) in targets.iter().enumerate() {
            let victim = &victims[t];
            let who = format!("{name} on {org}");
            // What the page shows.
            let shown = page.status == StatusCode::OK;
            assert_eq!(
                shown && page.body.contains(&victim.login),
                allowed("see accounts", name, org),
                "see accounts: {who}"
            );
            assert_eq!(
                shown && page.body.contains(&format!("marker-of-{org}")),
                allowed("read audit", name, org),
                "read audit: {who}"
            );

            // What a POST does: (action, uri, fields, whether it took effect).
            attempt += 1;
            let new_org = format!("org-{attempt}");
            let new_login = format!("new-{attempt}@{org}.example");
            let network = format!("192.0.2.{attempt}/32");
            let id = victim.id;
            let posts: [(&str, String, String); 6] = [
                (
                    "add organisation",
                    "/admin/orgs".into(),
                    format!("slug={new_org}&name=New"),
                ),
                (
                    "set constituency",
                    format!("/admin/orgs/{org}/networks"),
                    format!("networks={}", form_value(&network)),
                ),
                (
                    "add user",
                    "/admin/users".into(),
                    format!("login={}&org={org}&role=member", form_value(&new_login)),
                ),
                (
                    "reset password",
                    format!("/admin/users/{id}/password"),
                    String::new(),
                ),
                (
                    "disable user",
                    format!("/admin/users/{id}/disable"),
                    String::new(),
                ),
                (
                    "enable user",
                    format!("/admin/users/{id}/enable"),
                    String::new(),
                ),
            ];
            for (action, uri, fields) in posts {
                if action == "enable user" {
                    f.store
                        .set_user_disabled(id, true, "test", Timestamp(3))
                        .unwrap();
                }
                let audited = f.store.audit_log(100_000).unwrap().len();
                let form = format!("csrf={csrf}&{fields}");
                let reply = post_form(&f.app, &uri, Some(cookie), &form).await;
                let user = f.store.user(id).unwrap().unwrap();
                let took_effect = match action {
                    "add organisation" => f.store.orgs().unwrap().iter().any(|o| o.slug == new_org),
                    "set constituency" => {
                        f.store.constituency(org).unwrap()
                            == Constituency {
                                networks: vec![network.parse().unwrap()],
                            }
                    }
                    "add user" => f.store.user_by_login(&new_login).unwrap().is_some(),
                    "reset password" => user.password_hash != victim.password_hash,
                    "disable user" => user.disabled,
                    _ => !user.disabled,
                };
                let expected = allowed(action, name, org);
                let status = if expected {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(reply.status, status, "{action}: {who}: {}", reply.body);
                assert_eq!(took_effect, expected, "{action}: {who}");
                assert_eq!(
                    f.store.audit_log(100_000).unwrap().len(),
                    audited + usize::from(expected),
                    "{action}: {who}: audited once when done, never when refused"
                );
                // Back to the world every attempt starts from.
                if action == "reset password" {
                    f.store
                        .set_password(
                            id,
                            &victim.password_hash,
                            greenwatch_model::account::TokensOnNewPassword::Keep,
                            "test",
                            Timestamp(4),
                        )
                        .unwrap();
                }
                f.store
                    .set_user_disabled(id, false, "test", Timestamp(4))
                    .unwrap();
            }
        }
    }

    // The operator adds an organisation's first admin, and then no more of its users: not
    // even once that admin is disabled (else disabling it would open the way in again).
    let (root, root_csrf) = &sessions[0];
    let add = |login: &str, role: &str| {
        format!(
            "csrf={root_csrf}&login={}&org=cert-c&role={role}",
            form_value(login)
        )
    };
    let first = add("first-admin@cert-c.example", "admin");
    let reply = post_form(&f.app, "/admin/users", Some(root), &first).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let second = add("second@cert-c.example", "member");
    let reply = post_form(&f.app, "/admin/users", Some(root), &second).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let admin_c = f
        .store
        .user_by_login("first-admin@cert-c.example")
        .unwrap()
        .unwrap();
    let disable = format!("/admin/users/{}/disable", admin_c.id);
    let reply = post_form(&f.app, &disable, Some(root), &format!("csrf={root_csrf}")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = post_form(&f.app, "/admin/users", Some(root), &second).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(f
        .store
        .user_by_login("second@cert-c.example")
        .unwrap()
        .is_none());
}
