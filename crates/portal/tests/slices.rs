//! Port and AS pages: their numbers equal the same computation done directly over the
//! capture's flow tuples (and the metric engine's ASN rows); bad ports and ASes are 400s.

mod common;

use axum::http::StatusCode;
use common::*;
use greenwatch_model::{TrafficClass, Transport};
use greenwatch_observe::{FlowTuple, Observations};
use serde_json::Value;
use std::collections::HashSet;

/// Packets, bytes and distinct sources of the flows `keep` holds.
fn totals(obs: &Observations, keep: impl Fn(&FlowTuple) -> bool) -> (u64, u64, u64) {
    let mut sources = HashSet::new();
    let (mut packets, mut bytes) = (0, 0);
    for f in obs.flows().filter(|f| keep(f)) {
        packets += f.packets;
        bytes += f.bytes;
        sources.insert(f.src);
    }
    (packets, bytes, sources.len() as u64)
}

fn check_totals(report: &Value, want: (u64, u64, u64)) {
    assert_eq!(report["totals"]["packets"].as_u64().unwrap(), want.0);
    assert_eq!(report["totals"]["bytes"].as_u64().unwrap(), want.1);
    assert_eq!(report["sources"].as_u64().unwrap(), want.2);
}

#[tokio::test]
async fn a_port_report_counts_exactly_the_flows_to_that_port() {
    let f = fixture();
    let reply = get(&f.app, "/api/v1/ports/tcp/23").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let report = reply.json();
    let telnet = |x: &FlowTuple| x.dst_port == 23 && x.transport == Transport::TCP;
    let want = totals(&f.clear, telnet);
    assert!(want.0 > 0, "the generator scans telnet");
    check_totals(&report, want);
    assert_eq!(report["kind"], "port");
    // Countries sum to the port's packets; series sum to the same.
    let by_country: u64 = report["countries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["packets"].as_u64().unwrap())
        .sum();
    assert!(by_country <= want.0);
    let hourly: u64 = report["series"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["points"].as_array().unwrap().iter())
        .map(|p| p["packets"].as_u64().unwrap())
        .sum();
    assert_eq!(hourly, want.0);
    // Mirai scans telnet: its fingerprint shows, with no more packets than the port has.
    let tools = report["tools"].as_array().unwrap();
    let mirai = tools.iter().find(|t| t["fingerprint"] == "mirai").unwrap();
    let want_mirai = totals(&f.clear, |x| {
        telnet(x) && x.fingerprint == Some(greenwatch_model::Fingerprint::Mirai)
    });
    assert_eq!(mirai["packets"].as_u64().unwrap(), want_mirai.0);
    assert_eq!(mirai["sources"].as_u64().unwrap(), want_mirai.2);
    // The ports index ranks scans by port; telnet's row agrees with its page.
    let ports = get(&f.app, "/api/v1/ports").await.json();
    let row = ports
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["port"] == 23 && r["protocol"] == "tcp")
        .unwrap();
    let scans = totals(&f.clear, |x| telnet(x) && x.class == TrafficClass::Scan);
    assert_eq!(row["packets"].as_u64().unwrap(), scans.0);
}

#[tokio::test]
async fn an_as_report_counts_its_flows_and_shows_its_risk_rows() {
    let f = fixture();
    let report = get(&f.app, "/api/v1/asns/AS64502").await.json();
    check_totals(&report, totals(&f.clear, |x| x.src_asn == 64502));
    assert_eq!(report["as_name"], "US-NET");
    let countries = report["countries"].as_array().unwrap();
    assert_eq!(countries.len(), 1, "AS64502 is all in the US");
    assert_eq!(countries[0]["country"], "US");
    // 12 open resolvers in AS64502 (published: above the threshold of 10), and the observed
    // risks (scanners, Mirai) of its sources; every row equals the metrics API's.
    let risks = report["risks"].as_array().unwrap();
    let resolvers = risks
        .iter()
        .find(|r| r["risk"] == "openrecursivedns")
        .unwrap();
    assert_eq!(resolvers["hosts"], 12);
    for risk in risks {
        let slug = risk["risk"].as_str().unwrap();
        let uri = format!("/api/v1/metrics?risk={slug}&by=asn");
        let metrics = get(&f.app, &uri).await.json();
        let row = metrics
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["asn"] == 64502)
            .unwrap();
        for field in ["hosts", "rank", "share", "period"] {
            assert_eq!(risk[field], row[field], "{slug} {field}");
        }
    }
    // AS64503 (NL) has 3 resolvers: under the threshold, not shown.
    let nl = get(&f.app, "/api/v1/asns/64503").await.json();
    assert!(nl["risks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["risk"] != "openrecursivedns"));

    let page = get(&f.app, "/asns/64502").await;
    assert!(page.body.contains("AS64502 US-NET"), "{}", page.body);
    assert!(page.body.contains("href=\"/risks/openrecursivedns\""));
}

#[tokio::test]
async fn bad_ports_and_ases_are_400_problems() {
    let f = fixture();
    for uri in [
        "/api/v1/ports/icmp/0",
        "/api/v1/ports/tcp/65536",
        "/api/v1/ports/sctp2/80",
        "/api/v1/asns/AS-1",
        "/api/v1/asns/google",
        "/api/v1/ports/tcp/23?from=yesterday",
    ] {
        let reply = get(&f.app, uri).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{uri}: {}",
            reply.body
        );
        assert_eq!(reply.content_type(), "application/problem+json");
    }
    let page = get(&f.app, "/ports/icmp/0").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("ICMP has no ports"));
}

/// The port index ranks the top 100 ports: asking for more is a 400 that says so, not a
/// silently shorter answer.
#[tokio::test]
async fn asking_the_port_index_for_more_than_it_ranks_is_said() {
    let f = fixture();
    let reply = get(&f.app, "/api/v1/ports?limit=1000").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.body.contains("top 100 scanned ports"),
        "{}",
        reply.body
    );
    assert_eq!(
        get(&f.app, "/api/v1/ports?limit=100").await.status,
        StatusCode::OK
    );
}

/// `/asns` is an index of the scanning source ASes (it was a 404), each linking to its page,
/// with the same rows as JSON.
#[tokio::test]
async fn the_as_index_ranks_scanning_source_networks_and_links_them() {
    let f = fixture();
    let api = get(&f.app, "/api/v1/asns").await;
    assert_eq!(api.status, StatusCode::OK);
    let rows: Vec<Value> = api.json().as_array().unwrap().clone();
    assert!(!rows.is_empty());
    let first = rows[0]["asn"].as_u64().unwrap();
    let packets: Vec<u64> = rows
        .iter()
        .map(|r| r["packets"].as_u64().unwrap())
        .collect();
    assert!(
        packets.windows(2).all(|w| w[0] >= w[1]),
        "ranked by packets"
    );
    let page = get(&f.app, "/asns").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&format!("href=\"/asns/{first}?")),
        "{}",
        page.body
    );
}

/// An AS page's breadcrumb leads to the AS index (it said "Countries", linking to
/// `/countries`); a port page's to the port index.
#[tokio::test]
async fn an_as_page_breadcrumb_leads_to_the_as_index() {
    let f = fixture();
    let page = get(&f.app, "/asns/64502").await;
    assert_eq!(page.status, StatusCode::OK);
    let crumbs = page
        .body
        .lines()
        .find(|l| l.contains("class=\"crumbs\""))
        .unwrap_or_else(|| panic!("no breadcrumb: {}", page.body));
    assert!(crumbs.contains("<a href=\"/asns\">ASes</a>"), "{crumbs}");
    assert!(!crumbs.contains("Countries"), "{crumbs}");
    let port = get(&f.app, "/ports/tcp/23").await;
    assert!(port
        .body
        .contains("<p class=\"crumbs\"><a href=\"/ports\">Ports</a>"));
}
