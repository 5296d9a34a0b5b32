//! The account and admin pages: roles, CSRF on every form, secrets shown once, the audit log.

mod common;

use axum::http::StatusCode;
use common::*;
use greenwatch_model::access::Role;
use greenwatch_model::Timestamp;

/// An admin of the operator's organisation.
const ADMIN: &str = "root@operator.example";
/// An admin of cert-a, and a member of it.
const ADMIN_A: &str = "ada@cert-a.example";
const MEMBER: &str = "mia@cert-a.example";

/// The secret a page shows once, in its `<code class="secret">`.
fn shown_secret(html: &str) -> String {
    html.split("<code class=\"secret\">")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .expect("a secret on the page")
        .to_string()
}

fn csrf_form(csrf: &str, fields: &str) -> String {
    format!("csrf={csrf}&{fields}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_an_organisation_and_a_user_who_can_then_log_in() {
    let mut f = fixture();
    let (admin, csrf) = sign_in(&mut *f.store, ADMIN, "operator", Role::Admin, 1);
    let page = get_as(&f.app, "/admin", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        form_csrf(&page.body),
        csrf,
        "the forms carry the session's token"
    );
    assert!(
        page.body.contains("href=\"/admin\""),
        "admins see the Admin link"
    );

    let form = csrf_form(&csrf, "slug=cert-x&name=CERT+X");
    let added = post_form(&f.app, "/admin/orgs", Some(&admin), &form).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert!(added.body.contains("<td>cert-x</td><td>CERT X</td>"));

    // Refusals are shown on the page with their reason, never a 500.
    let again = post_form(&f.app, "/admin/orgs", Some(&admin), &form).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("class=\"error\""), "{}", again.body);
    assert!(again.body.contains("exists"), "{}", again.body);
    let bad_slug = csrf_form(&csrf, "slug=Not+A+Slug&name=x");
    let bad = post_form(&f.app, "/admin/orgs", Some(&admin), &bad_slug).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("invalid organisation slug"),
        "{}",
        bad.body
    );
    let unknown_org = csrf_form(&csrf, "login=x%40y.example&org=nowhere&role=member");
    let bad = post_form(&f.app, "/admin/users", Some(&admin), &unknown_org).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("no organisation"), "{}", bad.body);
    let bad_role = csrf_form(&csrf, "login=x%40y.example&org=cert-x&role=root");
    let bad = post_form(&f.app, "/admin/users", Some(&admin), &bad_role).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let form = csrf_form(&csrf, "login=eve%40cert-x.example&org=cert-x&role=analyst");
    let created = post_form(&f.app, "/admin/users", Some(&admin), &form).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let password = shown_secret(&created.body);
    assert_eq!(password.len(), 20);
    let duplicate = post_form(&f.app, "/admin/users", Some(&admin), &form).await;
    assert_eq!(duplicate.status, StatusCode::BAD_REQUEST);

    // The new user logs in through the login form and sees their account.
    let login = log_in(&f.app, "eve@cert-x.example", &password).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    let session = cookie_set(&login, "gw_session").expect("a session");
    let account = get_as(&f.app, "/account", Some(&format!("gw_session={session}"))).await;
    assert_eq!(account.status, StatusCode::OK);
    for shown in ["eve@cert-x.example", "cert-x", "analyst"] {
        assert!(account.body.contains(shown), "{shown}");
    }
    assert!(
        !account.body.contains("href=\"/admin\""),
        "no Admin link for analysts"
    );

    // The audit log names the admin as actor, and never the password.
    let log = get_as(&f.app, "/admin", Some(&admin)).await;
    assert!(
        !log.body.contains(&password),
        "the password is shown once only"
    );
    for action in ["org.create", "user.create"] {
        let row = format!("<td>{ADMIN}</td><td>{action}</td>");
        assert!(log.body.contains(&row), "{row}");
    }
    assert!(log
        .body
        .contains("<td>login</td><td>eve@cert-x.example</td>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_and_analysts_cannot_administer() {
    let mut f = fixture();
    let (member, member_csrf) = sign_in(&mut *f.store, MEMBER, "cert-a", Role::Member, 1);
    let (analyst, analyst_csrf) = sign_in(
        &mut *f.store,
        "al@cert-a.example",
        "cert-a",
        Role::Analyst,
        2,
    );
    let users = f.store.users().unwrap().len();
    let orgs = f.store.orgs().unwrap().len();
    for (cookie, csrf) in [(&member, &member_csrf), (&analyst, &analyst_csrf)] {
        assert_eq!(
            get_as(&f.app, "/admin", Some(cookie)).await.status,
            StatusCode::FORBIDDEN
        );
        let form = csrf_form(csrf, "login=evil%40x.example&org=cert-a&role=admin");
        let reply = post_form(&f.app, "/admin/users", Some(cookie), &form).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        let form = csrf_form(csrf, "slug=evil&name=Evil");
        let reply = post_form(&f.app, "/admin/orgs", Some(cookie), &form).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(f.store.users().unwrap().len(), users);
    assert_eq!(f.store.orgs().unwrap().len(), orgs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_without_the_sessions_csrf_token_change_nothing() {
    let mut f = fixture();
    let (admin, csrf) = sign_in(&mut *f.store, ADMIN, "operator", Role::Admin, 1);
    let users = f.store.users().unwrap().len();
    let orgs = f.store.orgs().unwrap().len();
    let audit = f.store.audit_log(1000).unwrap().len();
    let wrong = format!("{csrf}x");
    let tries = [
        ("/admin/orgs", "slug=cert-x&name=X".to_string()),
        (
            "/admin/users",
            "login=a%40b.example&org=operator&role=admin".to_string(),
        ),
        ("/account/tokens", "name=script".to_string()),
        (
            "/account/password",
            format!("current={PASSWORD}&new=another+long+password&repeat=another+long+password")
                .replace(' ', "+"),
        ),
    ];
    for (uri, fields) in &tries {
        for form in [
            fields.clone(),
            format!("csrf=&{fields}"),
            format!("csrf={wrong}&{fields}"),
        ] {
            let reply = post_form(&f.app, uri, Some(&admin), &form).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{uri} {form}");
        }
        // Nor does anyone without a session.
        let form = format!("csrf={csrf}&{fields}");
        let reply = post_form(&f.app, uri, None, &form).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{uri} anonymous");
    }
    let id = f.store.user_by_login(ADMIN).unwrap().unwrap().id;
    assert_eq!(f.store.users().unwrap().len(), users);
    assert_eq!(f.store.orgs().unwrap().len(), orgs);
    assert!(f.store.tokens(id).unwrap().is_empty());
    assert_eq!(f.store.audit_log(1000).unwrap().len(), audit);
    let still = get_as(&f.app, "/account", Some(&admin)).await;
    assert_eq!(still.status, StatusCode::OK, "the password did not change");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_token_is_shown_once_works_as_bearer_and_stops_when_revoked() {
    let mut f = fixture();
    let (member, csrf) = sign_in(&mut *f.store, MEMBER, "cert-a", Role::Member, 1);
    let (other, other_csrf) = sign_in(
        &mut *f.store,
        "oz@cert-a.example",
        "cert-a",
        Role::Member,
        2,
    );
    let (admin, _) = sign_in(&mut *f.store, ADMIN, "operator", Role::Admin, 3);

    let empty = post_form(
        &f.app,
        "/account/tokens",
        Some(&member),
        &csrf_form(&csrf, "name=+"),
    )
    .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let created = post_form(
        &f.app,
        "/account/tokens",
        Some(&member),
        &csrf_form(&csrf, "name=nightly+script&scope_read=on"),
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let secret = shown_secret(&created.body);
    assert_eq!(created.body.matches(&secret).count(), 1, "shown once");
    let page = get_as(&f.app, "/account", Some(&member)).await;
    assert!(page.body.contains("nightly script"));
    assert!(!page.body.contains(&secret), "never shown again");

    let bearer = |token: &str| {
        axum::http::Request::get("/api/v1/overview")
            .header("authorization", format!("Bearer {token}"))
            .body(axum::body::Body::empty())
            .unwrap()
    };
    assert_eq!(send(&f.app, bearer(&secret)).await.status, StatusCode::OK);

    let id = f.store.user_by_login(MEMBER).unwrap().unwrap().id;
    let token = f.store.tokens(id).unwrap()[0].id;
    let revoke = format!("/account/tokens/{token}/revoke");
    // Someone else's token is not theirs to revoke.
    let theirs = post_form(&f.app, &revoke, Some(&other), &csrf_form(&other_csrf, "")).await;
    assert_eq!(theirs.status, StatusCode::BAD_REQUEST);
    assert_eq!(send(&f.app, bearer(&secret)).await.status, StatusCode::OK);

    let revoked = post_form(&f.app, &revoke, Some(&member), &csrf_form(&csrf, "")).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert!(revoked.body.contains("revoked"));
    assert_eq!(
        send(&f.app, bearer(&secret)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let twice = post_form(&f.app, &revoke, Some(&member), &csrf_form(&csrf, "")).await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);

    // The audit log has both writes by the member, and no secret.
    let log = get_as(&f.app, "/admin", Some(&admin)).await;
    assert_eq!(log.status, StatusCode::OK);
    for action in ["token.create", "token.revoke"] {
        let row = format!("<td>{MEMBER}</td><td>{action}</td>");
        assert!(log.body.contains(&row), "{row}");
    }
    assert!(!log.body.contains(&secret));
    assert!(!log.body.contains(&greenwatch_auth::secret_hash(&secret)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_ends_the_session() {
    let mut f = fixture();
    let (member, csrf) = sign_in(&mut *f.store, MEMBER, "cert-a", Role::Member, 1);
    let new = "a brand new long password";
    let change = |current: &str, new: &str, repeat: &str| {
        format!(
            "csrf={csrf}&current={}&new={}&repeat={}",
            form_value(current),
            form_value(new),
            form_value(repeat)
        )
    };
    for (form, reason) in [
        (
            change("wrong password!", new, new),
            "current password is wrong",
        ),
        (change(PASSWORD, new, "something else entirely"), "differ"),
        (change(PASSWORD, "short", "short"), "too short"),
    ] {
        let reply = post_form(&f.app, "/account/password", Some(&member), &form).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reason}");
        assert!(reply.body.contains(reason), "{reason}: {}", reply.body);
    }
    assert_eq!(
        get_as(&f.app, "/account", Some(&member)).await.status,
        StatusCode::OK
    );

    let done = post_form(
        &f.app,
        "/account/password",
        Some(&member),
        &change(PASSWORD, new, new),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("Log in again"));
    assert_eq!(cookie_set(&done, "gw_session").as_deref(), Some(""));
    let after = get_as(&f.app, "/account", Some(&member)).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "the session ended");
    assert_eq!(after.headers["location"], "/login");

    assert_eq!(
        log_in(&f.app, MEMBER, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        log_in(&f.app, MEMBER, new).await.status,
        StatusCode::SEE_OTHER
    );
    let log = f.store.audit_log(10).unwrap();
    assert!(
        log.iter()
            .any(|e| e.actor == MEMBER && e.action.starts_with("user.password")),
        "{log:?}"
    );
    assert!(log.iter().all(|e| !e.detail.contains(new)));
}

/// A new password ends the account's API tokens (a token made while the old password was
/// known is as good as it), unless the user keeps them on purpose.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_ends_api_tokens_unless_kept() {
    let mut f = fixture();
    sign_in(&mut *f.store, MEMBER, "cert-a", Role::Member, 1);
    let id = f.store.user_by_login(MEMBER).unwrap().unwrap().id;
    let token_works = |secret: &'static str| {
        let app = f.app.clone();
        async move {
            let request = axum::http::Request::get("/api/v1/overview")
                .header("authorization", format!("Bearer {secret}"))
                .body(axum::body::Body::empty())
                .unwrap();
            send(&app, request).await.status == StatusCode::OK
        }
    };
    let mut password = PASSWORD.to_string();
    for (n, (keep, secret, next)) in [
        (
            false,
            "token-one-of-the-member-0123456789",
            "first new long password",
        ),
        (
            true,
            "token-two-of-the-member-0123456789",
            "second new long password",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        // The change before ended every session: a fresh one for this round.
        let session_secret = format!("{:064}", n + 7);
        let csrf = format!("csrf-round-{n}");
        f.store
            .create_session(&greenwatch_model::account::Session {
                token_hash: greenwatch_auth::secret_hash(&session_secret),
                user_id: id,
                csrf_token: csrf.clone(),
                created_at: Timestamp(1),
                expires_at: Timestamp(i64::MAX / 2),
            })
            .unwrap();
        let member = format!("gw_session={session_secret}");
        f.store
            .create_token(
                id,
                &greenwatch_model::account::NewApiToken::new(
                    "export",
                    &greenwatch_model::account::TokenScope::ALL,
                    None,
                ),
                &greenwatch_auth::secret_hash(secret),
                "t",
                Timestamp(1),
            )
            .unwrap();
        assert!(token_works(secret).await);
        let form = format!(
            "csrf={csrf}&current={}&new={}&repeat={}{}",
            form_value(&password),
            form_value(next),
            form_value(next),
            if keep { "&keep_tokens=on" } else { "" }
        );
        let done = post_form(&f.app, "/account/password", Some(&member), &form).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert_eq!(token_works(secret).await, keep, "kept: {keep}");
        password = next.to_string();
    }
}

/// `/account` and `/admin` as every kind of viewer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_and_admin_pages_answer_each_viewer_kind() {
    let mut f = fixture();
    let viewers = [
        ("anonymous", None),
        ("member", Some(("cert-a", Role::Member))),
        ("analyst", Some(("cert-a", Role::Analyst))),
        ("admin", Some(("operator", Role::Admin))),
        ("org-admin", Some(("cert-a", Role::Admin))),
    ];
    for (i, (name, who)) in viewers.into_iter().enumerate() {
        let cookie = who.map(|(org, role)| {
            sign_in(
                &mut *f.store,
                &format!("{name}@{org}.example"),
                org,
                role,
                i,
            )
            .0
        });
        let cookie = cookie.as_deref();
        let expected = match name {
            "anonymous" => [StatusCode::SEE_OTHER, StatusCode::SEE_OTHER],
            "admin" | "org-admin" => [StatusCode::OK, StatusCode::OK],
            _ => [StatusCode::OK, StatusCode::FORBIDDEN],
        };
        for (uri, status) in ["/account", "/admin"].into_iter().zip(expected) {
            let reply = get_as(&f.app, uri, cookie).await;
            assert_eq!(reply.status, status, "{uri} as {name}");
            if status == StatusCode::SEE_OTHER {
                assert_eq!(reply.headers["location"], "/login", "{uri} as {name}");
            }
            if status == StatusCode::OK {
                assert_eq!(inline_scripts(&reply.body), Vec::<String>::new());
                assert!(!reply.body.contains(" style="), "{uri}: inline style");
                assert!(
                    reply.body.contains("href=\"/account\""),
                    "{uri}: Account link"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisations_admin_disables_enables_and_resets_its_user() {
    let mut f = fixture();
    let (admin, csrf) = sign_in(&mut *f.store, ADMIN_A, "cert-a", Role::Admin, 1);
    let (member, _) = sign_in(&mut *f.store, MEMBER, "cert-a", Role::Member, 2);
    let id = f.store.user_by_login(MEMBER).unwrap().unwrap().id;
    let me = f.store.user_by_login(ADMIN_A).unwrap().unwrap().id;
    assert_eq!(
        get_as(&f.app, "/account", Some(&member)).await.status,
        StatusCode::OK
    );

    let form = csrf_form(&csrf, "");
    let disabled = post_form(
        &f.app,
        &format!("/admin/users/{id}/disable"),
        Some(&admin),
        &form,
    )
    .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    assert!(disabled
        .body
        .contains(&format!("action=\"/admin/users/{id}/enable\"")));
    // Their session ended: the account page sends them to log in; so does logging in again.
    let account = get_as(&f.app, "/account", Some(&member)).await;
    assert_eq!(account.status, StatusCode::SEE_OTHER);
    assert_eq!(
        log_in(&f.app, MEMBER, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );

    let enabled = post_form(
        &f.app,
        &format!("/admin/users/{id}/enable"),
        Some(&admin),
        &form,
    )
    .await;
    assert_eq!(enabled.status, StatusCode::OK);
    assert_eq!(
        log_in(&f.app, MEMBER, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );

    // A reset shows a new password once; the old one stops working, the new one works.
    let reset = post_form(
        &f.app,
        &format!("/admin/users/{id}/password"),
        Some(&admin),
        &form,
    )
    .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    let password = shown_secret(&reset.body);
    assert_eq!(
        log_in(&f.app, MEMBER, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        log_in(&f.app, MEMBER, &password).await.status,
        StatusCode::SEE_OTHER
    );

    // An admin cannot lock themselves out; a forged form changes nothing.
    let own = post_form(
        &f.app,
        &format!("/admin/users/{me}/disable"),
        Some(&admin),
        &form,
    )
    .await;
    assert_eq!(own.status, StatusCode::BAD_REQUEST);
    let forged = post_form(
        &f.app,
        &format!("/admin/users/{id}/disable"),
        Some(&admin),
        "csrf=nope",
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!f.store.user(id).unwrap().unwrap().disabled);
    let log = f.store.audit_log(10).unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    for action in ["user.disable", "user.enable", "user.password"] {
        assert!(actions.contains(&action), "{action}: {actions:?}");
    }
    assert!(log.iter().all(|e| !e.detail.contains(&password)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_operator_sets_an_organisations_constituency_networks() {
    let mut f = fixture();
    ensure_org(&mut *f.store, "cert-b");
    let (admin, csrf) = sign_in(&mut *f.store, ADMIN, "operator", Role::Admin, 1);
    let (member, member_csrf) = sign_in(&mut *f.store, MEMBER, "cert-a", Role::Member, 2);
    let (admin_b, admin_b_csrf) = sign_in(
        &mut *f.store,
        "bea@cert-b.example",
        "cert-b",
        Role::Admin,
        3,
    );
    let set = |csrf: &str, networks: &str| {
        csrf_form(csrf, &format!("networks={}", networks.replace('/', "%2F")))
    };
    let uri = "/admin/orgs/cert-b/networks";

    let refused = post_form(&f.app, uri, Some(&member), &set(&member_csrf, "0.0.0.0/0")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // Not even its own organisation's admin: sensor blocks are checked against these networks.
    let own = set(&admin_b_csrf, "0.0.0.0/0");
    let refused = post_form(&f.app, uri, Some(&admin_b), &own).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let forged = post_form(&f.app, uri, Some(&admin), &set("wrong", "0.0.0.0/0")).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let bad = post_form(&f.app, uri, Some(&admin), &set(&csrf, "198.51.100.7/24")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        unescape(&bad.body).contains("host bits set"),
        "{}",
        bad.body
    );
    let nowhere = "/admin/orgs/nowhere/networks";
    let unknown = post_form(&f.app, nowhere, Some(&admin), &set(&csrf, "10.0.0.0/8")).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(f.store.constituency("cert-b").unwrap().networks.is_empty());

    let networks = "198.51.100.0/22, 2001:db8::/32";
    let done = post_form(&f.app, uri, Some(&admin), &set(&csrf, networks)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let stored: Vec<String> = f
        .store
        .constituency("cert-b")
        .unwrap()
        .networks
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(stored, ["198.51.100.0/22", "2001:db8::/32"]);
    assert!(unescape(&done.body).contains("value=\"198.51.100.0/22 2001:db8::/32\""));
    let entry = &f.store.audit_log(1).unwrap()[0];
    assert_eq!(
        (
            entry.action.as_str(),
            entry.actor.as_str(),
            entry.target.as_str()
        ),
        ("org.constituency", ADMIN, "cert-b")
    );
}

/// What `/admin` shows an organisation's admin and the operator's: only what they may see, and
/// only the forms they may use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_page_shows_each_admin_only_what_they_may_see_and_use() {
    let mut f = fixture();
    let (root, _) = sign_in(&mut *f.store, ADMIN, "operator", Role::Admin, 1);
    let (ada, _) = sign_in(&mut *f.store, ADMIN_A, "cert-a", Role::Admin, 2);
    sign_in(&mut *f.store, MEMBER, "cert-a", Role::Member, 3);
    sign_in(
        &mut *f.store,
        "bo@cert-b.example",
        "cert-b",
        Role::Member,
        4,
    );
    ensure_org(&mut *f.store, "cert-c");
    let networks = greenwatch_model::account::Constituency {
        networks: vec!["198.51.100.0/22".parse().unwrap()],
    };
    for org in ["cert-a", "cert-b"] {
        f.store
            .set_constituency(org, &networks, "cli", greenwatch_model::Timestamp(2))
            .unwrap();
    }
    let user_id = |f: &Fixture, login: &str| f.store.user_by_login(login).unwrap().unwrap().id;
    let (mia, bo) = (user_id(&f, MEMBER), user_id(&f, "bo@cert-b.example"));
    let button = |id: i64, change: &str| format!("action=\"/admin/users/{id}/{change}\"");
    let option = |org: &str| format!("<option value=\"{org}\">");

    // cert-a's admin: its users with every button, its networks read-only, its audit entries;
    // nothing of cert-b, no organisation or constituency forms.
    let page = get_as(&f.app, "/admin", Some(&ada)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert!(body.contains(MEMBER) && !body.contains("bo@cert-b.example"));
    assert!(body.contains(&button(mia, "disable")) && body.contains(&button(mia, "password")));
    assert!(!body.contains(&button(bo, "disable")));
    assert!(
        !body.contains("action=\"/admin/orgs"),
        "no organisation forms"
    );
    assert!(body.contains("<td>cert-a</td>") && !body.contains("<td>cert-b</td>"));
    assert!(
        body.contains("198.51.100.0/22"),
        "its own networks, to read"
    );
    assert!(body.contains(&option("cert-a")) && !body.contains(&option("cert-b")));
    assert!(body.contains("Audit log of cert-a"));
    assert!(body.contains("<td>org.constituency</td><td>cert-a</td>"));
    assert!(!body.contains("<td>org.constituency</td><td>cert-b</td>"));

    // The operator's admin: every organisation and user, the organisation and constituency
    // forms, the whole audit log; a disable button on another organisation's user but no reset,
    // and users added only to its own organisation and to those without an admin yet.
    let page = get_as(&f.app, "/admin", Some(&root)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert!(body.contains(MEMBER) && body.contains("bo@cert-b.example"));
    assert!(body.contains(&button(bo, "disable")) && !body.contains(&button(bo, "password")));
    assert!(body.contains("action=\"/admin/orgs\""));
    assert!(body.contains("action=\"/admin/orgs/cert-b/networks\""));
    for (org, listed) in [
        ("operator", true),
        ("cert-a", false),
        ("cert-b", true),
        ("cert-c", true),
    ] {
        assert_eq!(body.contains(&option(org)), listed, "add a user to {org}");
    }
    assert!(body.contains("<td>org.constituency</td><td>cert-b</td>"));

    // A disabled user of another organisation: the operator may not enable them again.
    let form = format!("csrf={}", form_csrf(body));
    let disabled = post_form(
        &f.app,
        &format!("/admin/users/{bo}/disable"),
        Some(&root),
        &form,
    )
    .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    assert!(!disabled.body.contains(&button(bo, "enable")));
}
