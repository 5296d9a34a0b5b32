//! `greenwatch demo` builds a data directory in which every page has something real to show:
//! its organisations exist, each has a member and an analyst (passwords printed once), its
//! sensors are registered and hold their traffic, subscriptions and alerts exist, and every
//! risk of the catalogue has data. Run again, it adds nothing twice.

mod common;

use common::{assert_success, ip_data, Env};
use serde_json::Value;

fn demo(env: &Env, ip_data: &std::path::Path) -> String {
    let out = env.small_demo(ip_data);
    assert_success(&out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn array(v: Value) -> Vec<Value> {
    v.as_array().unwrap().clone()
}

#[test]
fn the_demo_makes_its_organisations_users_sensors_alerts_and_data_for_every_risk() {
    let env = Env::empty();
    let ip_data = ip_data(&env);
    let first = demo(&env, &ip_data);

    let orgs: Vec<String> = array(env.json(&["org", "list", "--json"]))
        .iter()
        .map(|o| o["slug"].as_str().unwrap().to_string())
        .collect();
    for org in ["operator", "demo-cert", "cert-de"] {
        assert!(orgs.iter().any(|o| o == org), "{org} in {orgs:?}");
    }
    let networks = env.run(&["org", "networks", "cert-de"]);
    assert!(String::from_utf8_lossy(&networks.stdout).contains("198.19.0.0/16"));

    // The operator's admin and a member and an analyst of each organisation, each password
    // printed once.
    let users = array(env.json(&["user", "list", "--json"]));
    let role_of = |login: &str| {
        users
            .iter()
            .find(|u| u["login"] == login)
            .map(|u| (u["org"].clone(), u["role"].clone()))
    };
    assert_eq!(role_of("admin"), Some(("operator".into(), "admin".into())));
    for org in ["demo-cert", "cert-de"] {
        for role in ["member", "analyst"] {
            let login = format!("{role}@{org}.example");
            assert_eq!(role_of(&login), Some((org.into(), role.into())), "{login}");
            let line = first
                .lines()
                .find(|l| l.contains(&format!("added user {login}")))
                .unwrap_or_else(|| panic!("{login} added: {first}"));
            assert!(line.contains("password (shown once): "), "{line}");
        }
    }
    assert!(first.contains("login:    admin"), "{first}");

    // Registered sensors hold their own traffic.
    let sensors = env.json(&["sensor", "list", "--json"]);
    let sensors = array(sensors["sensors"].clone());
    for (org, name) in [
        ("demo-cert", "tokyo"),
        ("cert-de", "berlin"),
        ("demo-cert", "lab"),
    ] {
        let s = sensors
            .iter()
            .find(|s| s["org"] == org && s["name"] == name)
            .unwrap_or_else(|| panic!("sensor {org}/{name} in {sensors:?}"));
        assert!(s["batches_stored"].as_u64().unwrap() >= 1, "{s}");
        assert!(s["stored"]["packets"].as_u64().unwrap() > 0, "{s}");
    }

    // Notifications to be, and alerts.
    let subscriptions = array(env.json(&["alert", "subscriptions", "--json"]));
    assert!(subscriptions
        .iter()
        .any(|s| s["org"] == "demo-cert" && s["channel"] == "email"));
    assert!(subscriptions.iter().any(|s| s["org"] == "cert-de"
        && s["channel"] == "webhook"
        && s["target"] == "https://soc.example/hook"));
    let alerts = array(env.json(&["alert", "list", "--json"]));
    assert!(!alerts.is_empty());
    let owners = ["operator", "demo-cert", "cert-de"];
    assert!(alerts
        .iter()
        .all(|a| owners.contains(&a["label"]["owner"].as_str().unwrap())));

    // Every risk of the catalogue has hosts.
    let metrics = array(env.json(&["metrics", "--json"]));
    for risk in array(env.json(&["risks", "--json"])) {
        let slug = risk["slug"].as_str().unwrap();
        let hosts: u64 = metrics
            .iter()
            .filter(|r| r["risk"] == slug && r["rank"].is_null())
            .map(|r| r["hosts"].as_u64().unwrap())
            .sum();
        assert!(hosts > 0, "risk {slug} has no data");
    }

    // Again on the same directory: nothing twice, no password printed again.
    let again = demo(&env, &ip_data);
    assert!(!again.contains("password"), "{again}");
    assert_eq!(
        array(env.json(&["user", "list", "--json"])).len(),
        users.len()
    );
    let sensors_again = env.json(&["sensor", "list", "--json"]);
    assert_eq!(array(sensors_again["sensors"].clone()).len(), sensors.len());
    assert_eq!(
        array(env.json(&["alert", "subscriptions", "--json"])).len(),
        subscriptions.len()
    );
    assert_eq!(
        array(env.json(&["alert", "list", "--json"])).len(),
        alerts.len()
    );
}
