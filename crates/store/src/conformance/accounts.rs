//! Organisations, constituencies, users, sessions, API tokens and the audit log.

use super::*;

fn now(secs: i64) -> Timestamp {
    Timestamp::from_secs(1_800_000_000 + secs)
}

fn store(backend: &dyn Backend) -> Box<dyn Store> {
    let mut store = backend.connect();
    let org = Organisation {
        slug: "cert-a".into(),
        name: "CERT A".into(),
        created_at: now(0),
    };
    store.create_org(&org, "cli").unwrap();
    store
}

fn new_user(login: &str) -> NewUser {
    NewUser {
        login: login.into(),
        org: "cert-a".into(),
        role: Role::Analyst,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
    }
}

pub fn a_constituency_is_replaced_whole_audited_and_only_for_known_orgs(backend: &dyn Backend) {
    let mut store = store(backend);
    assert_eq!(
        store.constituency("cert-a").unwrap(),
        Constituency::default()
    );
    let nets = |list: &[&str]| Constituency {
        networks: list.iter().map(|n| n.parse().unwrap()).collect(),
    };
    let first = nets(&["198.51.100.0/22", "2001:db8::/32"]);
    store
        .set_constituency("cert-a", &first, "cli", now(1))
        .unwrap();
    assert_eq!(store.constituency("cert-a").unwrap(), first);
    let second = nets(&["203.0.113.0/24"]);
    store
        .set_constituency("cert-a", &second, "admin", now(2))
        .unwrap();
    assert_eq!(store.constituency("cert-a").unwrap(), second);
    let log = store.audit_log(10).unwrap();
    assert_eq!(
        (log[0].action.as_str(), log[0].detail.as_str()),
        ("org.constituency", "203.0.113.0/24")
    );
    assert!(matches!(
        store.set_constituency("nowhere", &second, "cli", now(3)),
        Err(StoreError::Conflict(_))
    ));
}

pub fn users_belong_to_existing_orgs_and_logins_are_unique_ignoring_case(backend: &dyn Backend) {
    let mut store = store(backend);
    let id = store
        .create_user(&new_user("Ana@cert-a.example"), "cli", now(1))
        .unwrap();
    let user = store.user_by_login("ana@CERT-A.example").unwrap().unwrap();
    assert_eq!(
        (user.id, user.role, user.org.as_str()),
        (id, Role::Analyst, "cert-a")
    );
    let dup = store.create_user(&new_user("ana@cert-a.example"), "cli", now(2));
    assert!(matches!(dup, Err(StoreError::Conflict(_))));
    let mut stranger = new_user("bo@nowhere.example");
    stranger.org = "nowhere".into();
    assert!(matches!(
        store.create_user(&stranger, "cli", now(3)),
        Err(StoreError::Conflict(_))
    ));
    let bad = Organisation {
        slug: "Bad Slug".into(),
        name: "x".into(),
        created_at: now(0),
    };
    assert!(store.create_org(&bad, "cli").is_err());
    assert!(store
        .create_org(
            &Organisation {
                slug: "cert-a".into(),
                ..bad
            },
            "cli"
        )
        .is_err());
}

pub fn sessions_expire_and_end_with_a_new_password(backend: &dyn Backend) {
    let mut store = store(backend);
    let id = store.create_user(&new_user("ana"), "cli", now(1)).unwrap();
    let session = Session {
        token_hash: "h1".into(),
        user_id: id,
        csrf_token: "c1".into(),
        created_at: now(10),
        expires_at: now(100),
    };
    store.create_session(&session).unwrap();
    let (found, user) = store.session("h1", now(50)).unwrap().unwrap();
    assert_eq!((found, user.login.as_str()), (session.clone(), "ana"));
    assert!(store.session("h1", now(100)).unwrap().is_none(), "expired");
    assert!(store.session("h2", now(50)).unwrap().is_none());
    assert_eq!(store.purge_sessions(now(101)).unwrap(), 1);
    store
        .create_session(&Session {
            token_hash: "h3".into(),
            ..session
        })
        .unwrap();
    let kept = store
        .create_token(
            id,
            &NewApiToken::new("kept", &TokenScope::ALL, None),
            "tokenhash-kept",
            "ana",
            now(55),
        )
        .unwrap();
    store
        .set_password(
            id,
            "$argon2id$new",
            TokensOnNewPassword::Keep,
            "ana",
            now(60),
        )
        .unwrap();
    assert!(
        store.session("h3", now(61)).unwrap().is_none(),
        "a new password logs out"
    );
    assert!(store
        .use_token("tokenhash-kept", now(61))
        .unwrap()
        .is_some());
    store
        .set_password(
            id,
            "$argon2id$newer",
            TokensOnNewPassword::Revoke,
            "ana",
            now(62),
        )
        .unwrap();
    assert!(
        store
            .use_token("tokenhash-kept", now(63))
            .unwrap()
            .is_none(),
        "token {kept} ends with the next password unless kept"
    );
    assert_eq!(
        store.audit_log(1).unwrap()[0].detail,
        "1 API tokens revoked"
    );
}

pub fn tokens_are_found_by_hash_until_revoked_and_every_change_is_audited(backend: &dyn Backend) {
    let mut store = store(backend);
    let id = store
        .create_user(&new_user("ana"), "admin", now(1))
        .unwrap();
    let token = store
        .create_token(
            id,
            &NewApiToken::new("nightly export", &TokenScope::ALL, None),
            "tokenhash-7f3a",
            "ana",
            now(2),
        )
        .unwrap();
    let (t, user) = store.use_token("tokenhash-7f3a", now(3)).unwrap().unwrap();
    assert_eq!((t.id, user.id), (token, id));
    assert_eq!(store.tokens(id).unwrap()[0].last_used_at, Some(now(3)));
    store.revoke_token(token, "ana", now(4)).unwrap();
    assert!(store.use_token("tokenhash-7f3a", now(5)).unwrap().is_none());
    assert!(store.revoke_token(999, "ana", now(6)).is_err());
    let log = store.audit_log(10).unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["token.revoke", "token.create", "user.create", "org.create"]
    );
    assert_eq!(
        (log[2].actor.as_str(), log[2].target.as_str()),
        ("admin", "ana")
    );
    assert!(
        !log.iter()
            .any(|e| e.detail.contains("tokenhash-7f3a") || e.target.contains("tokenhash")),
        "no secrets in the log"
    );
}

pub fn each_audit_entry_concerns_the_organisation_it_was_done_to(backend: &dyn Backend) {
    let mut store = store(backend);
    for slug in ["cert-b", "operator"] {
        let org = Organisation {
            slug: slug.into(),
            name: slug.into(),
            created_at: now(0),
        };
        store.create_org(&org, "cli").unwrap();
    }
    let mut root = new_user("root@operator.example");
    root.org = "operator".into();
    root.role = Role::Admin;
    store.create_user(&root, "system", now(1)).unwrap();
    let ana = store.create_user(&new_user("ana"), "root@operator.example", now(2));
    let ana = ana.unwrap();
    let mut bo = new_user("bo");
    bo.org = "cert-b".into();
    store.create_user(&bo, "cli", now(3)).unwrap();
    store
        .set_user_disabled(ana, true, "root@operator.example", now(4))
        .unwrap();
    let token = store
        .create_token(
            ana,
            &NewApiToken::new("ci", &TokenScope::ALL, None),
            "tok",
            "ana",
            now(5),
        )
        .unwrap();
    store.revoke_token(token, "cli", now(6)).unwrap();
    let constituency = Constituency {
        networks: vec!["198.51.100.0/24".parse().unwrap()],
    };
    store
        .set_constituency("cert-b", &constituency, "root@operator.example", now(7))
        .unwrap();
    // What a user does within their organisation concerns it; the machine's own doings and
    // unknown logins concern no organisation.
    for actor in ["bo", "cli", "nobody@nowhere.example"] {
        let at = now(8);
        let done = AuditEntry {
            at,
            actor: actor.into(),
            action: "login.failure".into(),
            target: actor.into(),
            detail: String::new(),
        };
        store.audit(&done).unwrap();
    }
    let of = |store: &dyn Store, org: &str| -> Vec<(String, String)> {
        let log = store.org_audit_log(org, 100).unwrap();
        log.into_iter()
            .rev()
            .map(|e| (e.action, e.target))
            .collect()
    };
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(a, t)| (a.to_string(), t.to_string()))
            .collect()
    };
    assert_eq!(
        of(&*store, "cert-a"),
        pairs(&[
            ("org.create", "cert-a"),
            ("user.create", "ana"),
            ("user.disable", "ana"),
            ("token.create", "ana"),
            ("token.revoke", &token.to_string()),
        ])
    );
    assert_eq!(
        of(&*store, "cert-b"),
        pairs(&[
            ("org.create", "cert-b"),
            ("user.create", "bo"),
            ("org.constituency", "cert-b"),
            ("login.failure", "bo"),
        ])
    );
    assert_eq!(
        of(&*store, "operator"),
        pairs(&[
            ("org.create", "operator"),
            ("user.create", "root@operator.example"),
        ])
    );
    let whole = store.audit_log(100).unwrap();
    assert_eq!(whole.len(), 13, "the whole log has every entry");
    assert_eq!(store.org_audit_log("cert-a", 2).unwrap().len(), 2);
}

pub fn a_disabled_user_loses_sessions_and_tokens_until_enabled_again(backend: &dyn Backend) {
    let mut store = store(backend);
    let id = store.create_user(&new_user("ana"), "cli", now(1)).unwrap();
    let session = Session {
        token_hash: "h1".into(),
        user_id: id,
        csrf_token: "c1".into(),
        created_at: now(10),
        expires_at: now(1000),
    };
    store.create_session(&session).unwrap();
    store
        .create_token(
            id,
            &NewApiToken::new("ci", &TokenScope::ALL, None),
            "tok",
            "ana",
            now(2),
        )
        .unwrap();
    store.set_user_disabled(id, true, "admin", now(20)).unwrap();
    assert!(store.user(id).unwrap().unwrap().disabled);
    assert!(store.session("h1", now(21)).unwrap().is_none());
    assert!(store.use_token("tok", now(21)).unwrap().is_none());
    store
        .set_user_disabled(id, false, "admin", now(30))
        .unwrap();
    assert!(
        store.use_token("tok", now(31)).unwrap().is_some(),
        "tokens work again"
    );
    assert!(
        store.session("h1", now(31)).unwrap().is_none(),
        "sessions stay ended"
    );
    assert!(store
        .set_user_disabled(999, true, "admin", now(40))
        .is_err());
    let actions: Vec<String> = store
        .audit_log(2)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["user.enable", "user.disable"]);
}
