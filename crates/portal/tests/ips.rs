//! The IP page: what the viewer may see of one address, and nothing more. Sources of
//! TLP:CLEAR/GREEN data are anonymised outside their organisation, so such data is found only
//! by its anonymised image; another organisation's AMBER data never appears.

mod common;

use axum::http::StatusCode;
use common::*;
use greenwatch_model::access::{Role, Tlp};
use greenwatch_observe::Observations;
use std::collections::HashMap;
use std::net::IpAddr;

/// Packets per source of a capture.
fn packets_by_source(obs: &Observations) -> HashMap<IpAddr, u64> {
    let mut out = HashMap::new();
    for f in obs.flows() {
        *out.entry(f.src).or_default() += f.packets;
    }
    out
}

/// The busiest source of `obs` that `other` never saw.
fn busiest_own_source(obs: &Observations, other: &Observations) -> (IpAddr, u64) {
    let theirs = packets_by_source(other);
    packets_by_source(obs)
        .into_iter()
        .filter(|(ip, _)| !theirs.contains_key(ip))
        .max_by_key(|(ip, n)| (*n, *ip))
        .unwrap()
}

/// A victim of an attack inferred from the backscatter of `obs`.
fn attacked(obs: &Observations) -> IpAddr {
    greenwatch_observe::infer_dos(obs.backscatter.clone())
        .first()
        .expect("the capture has DoS backscatter")
        .victim
}

async fn ip_json(f: &Fixture, ip: IpAddr, cookie: Option<&str>) -> serde_json::Value {
    let reply = get_as(&f.app, &format!("/api/v1/ips/{ip}"), cookie).await;
    assert_eq!(reply.status, StatusCode::OK, "{ip}: {}", reply.body);
    reply.json()
}

fn observed_packets(json: &serde_json::Value, part: &str) -> Option<u64> {
    json[part]["observed"]["packets"].as_u64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_sees_what_its_organisation_may_see_of_an_address() {
    let mut f = fixture();
    store_alert(
        &mut *f.store,
        "cert-a",
        Tlp::Clear,
        "Public surge",
        "2026-10-05T02:00:00Z",
    );
    let (a_member, _) = sign_in(
        &mut *f.store,
        "ann@cert-a.example",
        "cert-a",
        Role::Member,
        1,
    );
    let (b_member, _) = sign_in(
        &mut *f.store,
        "bob@cert-b.example",
        "cert-b",
        Role::Member,
        2,
    );
    let (a_src, a_packets) = busiest_own_source(&f.clear, &f.amber);
    let (b_src, b_packets) = busiest_own_source(&f.amber, &f.clear);

    // cert-a's own CLEAR capture: in clear, with its sensor, ports and classes.
    let json = ip_json(&f, a_src, Some(&a_member)).await;
    assert_eq!(observed_packets(&json, "in_clear"), Some(a_packets));
    let observed = &json["in_clear"]["observed"];
    assert_eq!(observed["sensors"][0]["sensor"], "cert-a/test-sensor");
    assert!(observed["first_seen"].is_string() && observed["last_seen"].is_string());
    assert!(!observed["classes"].as_object().unwrap().is_empty());
    assert_eq!(json["as_anonymised"]["observed"], serde_json::Value::Null);

    // cert-b's own AMBER capture: in clear for cert-b; cert-a sees nothing of it, neither
    // by the address nor by its image.
    let json = ip_json(&f, b_src, Some(&b_member)).await;
    assert_eq!(observed_packets(&json, "in_clear"), Some(b_packets));
    let pan = anonymiser();
    for ip in [b_src, pan.anonymise(b_src)] {
        for cookie in [Some(a_member.as_str()), None] {
            let json = ip_json(&f, ip, cookie).await;
            for part in ["in_clear", "as_anonymised"] {
                assert_eq!(
                    json[part]["observed"],
                    serde_json::Value::Null,
                    "cert-b's AMBER sighting of {b_src} shown at {ip} ({cookie:?})"
                );
            }
        }
    }

    // cert-a's open resolvers (a CLEAR feed of cert-a): listed in clear for cert-a.
    let json = ip_json(&f, "1.0.0.1".parse().unwrap(), Some(&a_member)).await;
    let risks = json["in_clear"]["risks"].as_array().unwrap();
    let resolver = risks
        .iter()
        .find(|r| r["risk"] == "openrecursivedns")
        .expect("listed as an open resolver");
    assert_eq!(resolver["days"], serde_json::json!(["2026-10-01"]));
    assert_eq!(resolver["ports"], serde_json::json!([53]));

    // The alert naming 1.0.0.7 (cert-a, CLEAR).
    let json = ip_json(&f, "1.0.0.7".parse().unwrap(), Some(&a_member)).await;
    assert_eq!(json["alerts"][0]["title"], "Public surge", "{json}");

    // DoS victims of cert-a's backscatter, in clear for cert-a.
    let victim = attacked(&f.clear);
    let json = ip_json(&f, victim, Some(&a_member)).await;
    let dos = json["in_clear"]["dos"].as_array().unwrap();
    assert!(!dos.is_empty(), "{json}");
    assert_eq!(dos[0]["victim"], victim.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_finds_clear_data_only_by_its_anonymised_image() {
    let mut f = fixture();
    store_alert(
        &mut *f.store,
        "cert-a",
        Tlp::Clear,
        "Public surge",
        "2026-10-05T02:00:00Z",
    );
    let (b_member, _) = sign_in(
        &mut *f.store,
        "bob@cert-b.example",
        "cert-b",
        Role::Member,
        2,
    );
    let pan = anonymiser();
    let (a_src, a_packets) = busiest_own_source(&f.clear, &f.amber);
    let image = pan.anonymise(a_src);
    // The public and another organisation see cert-a's CLEAR sources anonymised: the real
    // address finds nothing, the image finds the source, shown as the image.
    for cookie in [None, Some(b_member.as_str())] {
        let json = ip_json(&f, a_src, cookie).await;
        assert_eq!(
            json["in_clear"]["observed"],
            serde_json::Value::Null,
            "{cookie:?}"
        );
        assert_eq!(json["as_anonymised"]["observed"], serde_json::Value::Null);
        let json = ip_json(&f, image, cookie).await;
        assert_eq!(observed_packets(&json, "as_anonymised"), Some(a_packets));
        assert_eq!(json["in_clear"]["observed"], serde_json::Value::Null);
        assert_eq!(json["ip"], image.to_string());

        let resolver: IpAddr = "1.0.0.1".parse().unwrap();
        let json = ip_json(&f, resolver, cookie).await;
        assert_eq!(json["in_clear"]["risks"], serde_json::json!([]));
        assert_eq!(json["as_anonymised"]["risks"], serde_json::json!([]));
        let json = ip_json(&f, pan.anonymise(resolver), cookie).await;
        assert_eq!(
            json["as_anonymised"]["risks"][0]["risk"],
            "openrecursivedns"
        );

        let named: IpAddr = "1.0.0.7".parse().unwrap();
        let json = ip_json(&f, named, cookie).await;
        assert_eq!(json["alerts"], serde_json::json!([]), "{cookie:?}");
        let json = ip_json(&f, pan.anonymise(named), cookie).await;
        let titles: Vec<&str> = json["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["title"].as_str().unwrap())
            .collect();
        assert!(titles.contains(&"Public surge"), "{cookie:?}: {json}");

        let victim = attacked(&f.clear);
        let json = ip_json(&f, victim, cookie).await;
        assert_eq!(json["in_clear"]["dos"], serde_json::json!([]));
        let json = ip_json(&f, pan.anonymise(victim), cookie).await;
        let dos = json["as_anonymised"]["dos"].as_array().unwrap();
        assert!(!dos.is_empty());
        assert_eq!(dos[0]["victim"], pan.anonymise(victim).to_string());
        // No response names the real address.
        let page = get_as(&f.app, &format!("/ips/{}", pan.anonymise(victim)), cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains(&format!(">{victim}<")));
    }
}

#[tokio::test]
async fn the_page_and_api_refuse_what_is_no_address_or_too_long_a_window() {
    let f = fixture();
    let page = get(&f.app, "/ips/not-an-address").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let api = get(&f.app, "/api/v1/ips/not-an-address").await;
    assert_eq!(api.status, StatusCode::BAD_REQUEST);
    assert_eq!(api.content_type(), "application/problem+json");
    let api = get(&f.app, "/api/v1/ips/1.0.0.7?from=2026-01-01&to=2026-10-01").await;
    assert_eq!(api.status, StatusCode::BAD_REQUEST);
    assert!(api.json()["detail"]
        .as_str()
        .unwrap()
        .contains("at most 31 days"));
    let json = get(&f.app, "/api/v1/ips/1.0.0.7?from=2026-10-05&to=2026-10-06")
        .await
        .json();
    assert_eq!(json["from"], "2026-10-05T00:00:00Z");
    assert_eq!(json["network"]["asn"], 64500);
}

/// A store alert of a second org's AMBER data naming an address never reaches an outsider.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organisations_amber_alert_is_not_found_by_outsiders() {
    let mut f = fixture();
    store_alert(
        &mut *f.store,
        "cert-b",
        Tlp::Amber,
        "Restricted surge",
        "2026-10-05T03:00:00Z",
    );
    let (a_member, _) = sign_in(
        &mut *f.store,
        "ann@cert-a.example",
        "cert-a",
        Role::Member,
        1,
    );
    let (b_member, _) = sign_in(
        &mut *f.store,
        "bob@cert-b.example",
        "cert-b",
        Role::Member,
        2,
    );
    let named: IpAddr = "1.0.0.7".parse().unwrap();
    let pan = anonymiser();
    for ip in [named, pan.anonymise(named)] {
        for cookie in [None, Some(a_member.as_str())] {
            let body = get_as(&f.app, &format!("/api/v1/ips/{ip}"), cookie)
                .await
                .body;
            assert!(!body.contains("Restricted surge"), "{ip} {cookie:?}");
        }
    }
    let json = ip_json(&f, named, Some(&b_member)).await;
    assert_eq!(json["alerts"][0]["title"], "Restricted surge");
}
