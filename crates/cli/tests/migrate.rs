//! `greenwatch migrate --from sqlite:… --to postgres://…` moves a whole embedded deployment:
//! afterwards every answer the CLI gives (accounts, sensors, alerts, subscriptions, the audit
//! log, traffic, DoS attacks, risk metrics) is the same from either store, and a second copy
//! into the now non-empty target is refused without touching it.

mod common;

use common::{assert_success, fresh_postgres_schema, ip_data, Env};
use serde_json::Value;

/// The PostgreSQL server of this run; `None` (skip) only outside CI.
fn postgres_server() -> bool {
    if std::env::var_os("GREENWATCH_TEST_POSTGRES").is_some() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run the migration test: set GREENWATCH_TEST_POSTGRES"
    );
    eprintln!("skipped: GREENWATCH_TEST_POSTGRES is unset (scripts/test.sh sets it)");
    false
}

#[test]
fn an_embedded_deployment_moves_to_postgres_with_every_answer_unchanged() {
    if !postgres_server() {
        return;
    }
    let embedded = Env {
        dir: tempfile::tempdir().unwrap(),
        store: None,
    };
    let ip_data = ip_data(&embedded);
    assert_success(&embedded.small_demo(&ip_data));
    let sqlite = format!(
        "sqlite:{}",
        embedded.data().join("greenwatch.sqlite").display()
    );
    let postgres = fresh_postgres_schema();

    let moved = embedded.json(&["migrate", "--from", &sqlite, "--to", &postgres, "--json"]);
    let rows = moved["rows"].as_object().unwrap();
    for table in [
        "captures",
        "flow_segments",
        "feed_files",
        "users",
        "alerts",
        "sensors",
    ] {
        assert!(rows[table].as_u64().unwrap() > 0, "{table} copied: {moved}");
    }
    assert!(
        !moved.to_string().contains("password"),
        "no secret in the report"
    );
    let shared = Env {
        dir: tempfile::tempdir().unwrap(),
        store: Some(postgres.clone()),
    };
    // The same data directory (IP data, catalogue) over the other store.
    let on = |store: &str, args: &[&str]| -> Value {
        let mut all = vec!["--store", store];
        all.extend_from_slice(args);
        embedded.json(&all)
    };
    let questions: [&[&str]; 11] = [
        &["org", "list", "--json"],
        &["user", "list", "--json"],
        &["sensor", "list", "--json"],
        &["alert", "list", "--limit", "1000", "--json"],
        &["alert", "subscriptions", "--json"],
        &["audit", "--json"],
        &["query", "top", "--by", "port", "--limit", "50", "--json"],
        &["query", "top", "--by", "source", "--limit", "50", "--json"],
        &["query", "top", "--by", "country", "--json"],
        &["query", "dos", "--json"],
        &["metrics", "--risk", "all", "--min-hosts", "0", "--json"],
    ];
    for question in questions {
        let before = on(&sqlite, question);
        let after = on(&postgres, question);
        assert!(
            before.as_array().is_none_or(|a| !a.is_empty()),
            "{question:?} has something to compare"
        );
        assert_eq!(before, after, "{question:?}");
    }
    // The migrated store keeps working: it takes new accounts after the copied ones.
    assert_success(&shared.run(&["org", "add", "cert-new", "--name", "New"]));
    assert!(shared.has_org("cert-new") && shared.has_org("demo-cert"));

    // A second copy into a store that holds data is refused, and changes nothing.
    let again = embedded.run(&["migrate", "--from", &sqlite, "--to", &postgres]);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already holds data"), "{stderr}");
    assert_eq!(
        on(&sqlite, &["query", "dos", "--json"]),
        on(&postgres, &["query", "dos", "--json"])
    );
}
