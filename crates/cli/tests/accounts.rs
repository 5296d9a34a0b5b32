//! End-to-end tests of portal accounts from the command line.

mod common;

use common::{assert_success, Env};
use std::io::Write;
use std::process::Stdio;

fn with_stdin(env: &Env, args: &[&str], input: &str) -> std::process::Output {
    let mut child = env
        .command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn organisations_users_and_tokens_are_created_listed_and_audited_without_secrets() {
    let env = Env::empty();
    assert_success(&env.run(&["org", "add", "cert-a", "--name", "CERT A"]));
    let out = with_stdin(
        &env,
        &[
            "user",
            "add",
            "ana@cert-a.example",
            "--org",
            "cert-a",
            "--role",
            "analyst",
            "--password-stdin",
        ],
        "a long enough password\n",
    );
    assert_success(&out);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("password (shown once)"));
    // Without --password-stdin a password is generated and shown once.
    let out = env.run(&["user", "add", "bo@cert-a.example", "--org", "cert-a"]);
    assert_success(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let generated = stdout
        .lines()
        .find_map(|l| l.strip_prefix("password (shown once): "))
        .unwrap();
    assert_eq!(generated.len(), 20);

    let users = env.json(&["user", "list", "--json"]);
    let text = users.to_string();
    assert!(text.contains("ana@cert-a.example") && text.contains("\"analyst\""));
    assert!(
        !text.contains("argon2"),
        "hashes never leave the store: {text}"
    );

    let out = env.run(&["token", "add", "ana@cert-a.example", "--name", "nightly"]);
    assert_success(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let secret = stdout
        .rsplit("(shown once): ")
        .next()
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(secret.len(), 64);
    let tokens = env.json(&["token", "list", "ana@cert-a.example", "--json"]);
    assert!(!tokens.to_string().contains(&secret));
    assert_eq!(
        tokens[0]["scopes"],
        serde_json::json!(["read"]),
        "read by default"
    );
    assert!(tokens[0]["expires_at"].is_string(), "expires by default");
    let out = env.run(&[
        "token",
        "add",
        "ana@cert-a.example",
        "--name",
        "uploads",
        "--scope",
        "upload,read",
        "--expires",
        "never",
    ]);
    assert_success(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("scopes read,upload, never expires"));
    let bad = env.run(&[
        "token",
        "add",
        "ana@cert-a.example",
        "--name",
        "x",
        "--scope",
        "admin",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown token scope \"admin\""));
    let long = env.run(&[
        "token",
        "add",
        "ana@cert-a.example",
        "--name",
        "x",
        "--expires",
        "5y",
    ]);
    assert!(String::from_utf8_lossy(&long.stderr).contains("1 to 366 days"));
    let tokens = env.json(&["token", "list", "ana@cert-a.example", "--json"]);
    assert_eq!(tokens[1]["expires_at"], serde_json::Value::Null);
    assert_success(&env.run(&["token", "revoke", &tokens[1]["id"].to_string()]));
    assert_success(&env.run(&["token", "revoke", &tokens[0]["id"].to_string()]));

    let audit = env.json(&["audit", "--json"]);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "token.revoke",
            "token.revoke",
            "token.create",
            "token.create",
            "user.create",
            "user.create",
            "org.create"
        ]
    );
    let log = audit.to_string();
    assert!(!log.contains(&secret) && !log.contains(generated) && !log.contains("a long enough"));
    // The database file holds no secret in clear either (the embedded store's file; a
    // PostgreSQL store keeps the same columns, by hash, through the same code).
    if env.store.is_none() {
        let db = std::fs::read(env.data().join("greenwatch.sqlite")).unwrap();
        let db = String::from_utf8_lossy(&db);
        assert!(!db.contains(&secret) && !db.contains("a long enough password"));
    }
}

#[test]
fn bad_account_requests_are_refused_with_the_reason() {
    let env = Env::empty();
    assert_success(&env.run(&["org", "add", "cert-a", "--name", "A"]));
    let out = env.run(&["user", "add", "x@y.example", "--org", "nowhere"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no organisation \"nowhere\""));
    let out = env.run(&["org", "add", "cert-a", "--name", "A again"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists"));
    let out = with_stdin(
        &env,
        &[
            "user",
            "add",
            "x@y.example",
            "--org",
            "cert-a",
            "--password-stdin",
        ],
        "short\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 12"));
    let out = env.run(&[
        "user",
        "add",
        "x@y.example",
        "--org",
        "cert-a",
        "--role",
        "root",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("member, analyst or admin"));
}

#[test]
fn sensors_are_registered_inside_the_constituency_unless_the_operator_says_otherwise() {
    let env = Env::empty();
    assert_success(&env.run(&["org", "add", "cert-jp", "--name", "CERT JP"]));
    let add = |name: &str, block: &str, extra: &[&str]| {
        let mut args = vec!["sensor", "add", name, "--org", "cert-jp", "--block", block];
        args.extend(extra);
        env.run(&args)
    };
    let none = add("tokyo-1", "198.51.100.0/24", &[]);
    assert!(!none.status.success());
    let stderr = String::from_utf8_lossy(&none.stderr);
    assert!(
        stderr.contains("198.51.100.0/24 is outside the constituency of cert-jp (no networks yet)"),
        "{stderr}"
    );
    let set = env.run(&[
        "org",
        "networks",
        "cert-jp",
        "--network",
        "198.51.100.0/22",
        "--network",
        "2001:db8::/32",
    ]);
    assert_success(&set);
    assert_eq!(
        String::from_utf8_lossy(&set.stdout),
        "198.51.100.0/22\n2001:db8::/32\n"
    );
    assert_success(&add("tokyo-1", "198.51.101.0/24", &[]));
    assert_success(&add("tokyo-6", "2001:db8:40::/48", &[]));
    let outside = add("osaka-1", "203.0.113.0/24", &[]);
    let stderr = String::from_utf8_lossy(&outside.stderr);
    assert!(
        !outside.status.success()
            && stderr.contains(
                "203.0.113.0/24 is outside the constituency of cert-jp (198.51.100.0/22, 2001:db8::/32)"
            ),
        "{stderr}"
    );
    assert_success(&add(
        "osaka-1",
        "203.0.113.0/24",
        &["--outside-constituency"],
    ));
    let audit = env.run(&["audit", "--json"]);
    assert!(String::from_utf8_lossy(&audit.stdout).contains("org.constituency"));
}
