//! A mistyped `--data` is refused by the commands that only read (it silently read a new empty
//! store), naming the path and how to make a data directory; the commands that create data
//! still create it.

mod common;

use common::*;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn reading_commands_refuse_a_data_directory_that_does_not_exist() {
    let env = Env {
        dir: tempfile::tempdir().unwrap(),
        store: None,
    };
    let missing = env.data();
    let shown = missing.display().to_string();
    for args in [
        &["query", "top", "--by", "port"][..],
        &["query", "dos"],
        &["metrics"],
        &["detect"],
        &["detect", "--raise"],
        &[
            "report",
            "weekly",
            "--at",
            "2026-W41",
            "--out",
            "/nonexistent/report",
        ],
        &["export", "metrics", "--out", "/nonexistent/export"],
        &["alert", "list"],
        &["alert", "subscriptions"],
        &["sensor", "list"],
        &["org", "list"],
        &["user", "list"],
        &["user", "add", "ana@cert.example", "--org", "cert-a"],
        &["token", "list", "ana@cert.example"],
        &["audit"],
        &["serve", "--listen", "127.0.0.1:0"],
    ] {
        let out = env.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&shown) && err.contains("does not exist"),
            "{args:?} names the path: {err}"
        );
        assert!(
            err.contains("greenwatch"),
            "{args:?} says how to make one: {err}"
        );
        assert!(!missing.exists(), "{args:?} made the directory");
    }

    // A directory that exists but holds no store yet (IP data only) is refused by readers too.
    std::fs::create_dir_all(missing.join("netdb")).unwrap();
    let out = env.run(&["query", "top", "--by", "port"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("holds no store yet"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("ingest"), "{}", stderr(&out));
    assert!(!missing.join("greenwatch.sqlite").exists());
}

#[test]
fn commands_that_create_data_still_create_the_directory() {
    let env = Env::with_fixture_netdb();
    assert!(env.data().join("netdb").is_dir(), "netdb import made it");
    let (pcap, _) = env.generate(3, 2_000, 2);
    let (out, _) = env.ingest(&[&pcap]);
    assert_success(&out);
    assert!(env.data().join("greenwatch.sqlite").is_file());
    // Now the readers read.
    assert_success(&env.run(&["query", "top", "--by", "port"]));
    assert_success(&env.run(&["sensor", "list"]));
    assert_success(&env.run(&["alert", "list"]));

    let fresh = Env {
        dir: tempfile::tempdir().unwrap(),
        store: None,
    };
    assert_success(&fresh.run(&["org", "add", "cert-x", "--name", "CERT X"]));
    assert!(fresh.data().join("greenwatch.sqlite").is_file());
}

/// `--store` puts the store where it says, and every command reads it there; a location no
/// backend understands is a usage error saying what is expected.
#[test]
fn the_store_lives_where_store_says() {
    let env = Env {
        dir: tempfile::tempdir().unwrap(),
        store: None,
    };
    let elsewhere = env.path("elsewhere.sqlite");
    let store = format!("sqlite:{}", elsewhere.display());
    let with_store = |args: &[&str]| {
        let mut all = vec!["--store", store.as_str()];
        all.extend_from_slice(args);
        env.run(&all)
    };
    assert_success(&with_store(&["org", "add", "cert-x", "--name", "CERT X"]));
    assert!(elsewhere.is_file());
    assert!(!env.data().join("greenwatch.sqlite").exists());
    let listed = String::from_utf8(with_store(&["org", "list"]).stdout).unwrap();
    assert!(listed.contains("cert-x"), "{listed}");
    // Without --store, the data directory's own (empty) store is meant, and it has none.
    let out = env.run(&["org", "list"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("holds no store yet"),
        "{}",
        stderr(&out)
    );

    let out = env.run(&["--store", "mysql://db/greenwatch", "org", "list"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("expected sqlite:PATH"),
        "{}",
        stderr(&out)
    );

    // greenwatch.toml gives every command the store; --store still wins over it.
    std::fs::create_dir_all(env.data()).unwrap();
    let config = env.data().join("greenwatch.toml");
    std::fs::write(&config, format!("store = {:?}\n", store)).unwrap();
    let listed = String::from_utf8(env.run(&["org", "list"]).stdout).unwrap();
    assert!(listed.contains("cert-x"), "{listed}");
    let other = format!("sqlite:{}", env.path("other.sqlite").display());
    assert_success(&env.run(&["--store", &other, "org", "add", "cert-y", "--name", "Y"]));
    let listed = String::from_utf8(env.run(&["org", "list"]).stdout).unwrap();
    assert!(!listed.contains("cert-y"), "{listed}");
    // A setting that is not a store is refused, naming the file.
    std::fs::write(&config, "store = \"mysql://db\"\n").unwrap();
    let out = env.run(&["org", "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("greenwatch.toml"), "{}", stderr(&out));
}
