//! The sensors page's forms: a member registers a sensor of their organisation and sees its
//! token once (only its hash is stored), forms need the session's CSRF token, and only the
//! owner organisation (or an admin) revokes.

mod common;

use axum::http::StatusCode;
use common::*;
use greenwatch_model::access::Role;
use greenwatch_store::SensorStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_register_their_sensors_see_the_token_once_and_only_owners_revoke() {
    let mut f = fixture();
    let (owner, csrf) = sign_in(
        &mut f.store,
        "ana@cert-b.example",
        "cert-b",
        Role::Member,
        1,
    );
    let (other, other_csrf) = sign_in(&mut f.store, "bo@cert-a.example", "cert-a", Role::Member, 2);

    let page = get_as(&f.app, "/sensors", Some(&owner)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(form_csrf(&page.body), csrf);
    let form = |csrf: &str, name: &str| {
        format!(
            "csrf={csrf}&name={name}&org=cert-a&block=198.51.100.0%2F24&location=Tokyo&tlp=green"
        )
    };
    let forged = post_form(&f.app, "/sensors", Some(&owner), &form("wrong", "b-1")).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(f.store.sensor("b-1").unwrap().is_none());

    let done = post_form(&f.app, "/sensors", Some(&owner), &form(&csrf, "b-1")).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let token = done
        .body
        .split("<code class=\"secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the token is shown")
        .to_string();
    let stored = f
        .store
        .sensor_by_token(&greenwatch_auth::secret_hash(&token))
        .unwrap()
        .unwrap();
    assert_eq!(stored.name, "b-1");
    assert_eq!(
        stored.org, "cert-b",
        "a member registers for their own organisation"
    );
    let again = get_as(&f.app, "/sensors", Some(&owner)).await;
    assert!(!again.body.contains(&token), "the token is shown once");

    let bad = post_form(&f.app, "/sensors", Some(&owner), &form(&csrf, "b-1")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("already exists"));

    let foreign = post_form(
        &f.app,
        "/sensors/b-1/revoke",
        Some(&other),
        &format!("csrf={other_csrf}"),
    )
    .await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST);
    assert!(f.store.sensor("b-1").unwrap().unwrap().revoked_at.is_none());
    let revoked = post_form(
        &f.app,
        "/sensors/b-1/revoke",
        Some(&owner),
        &format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert!(f.store.sensor("b-1").unwrap().unwrap().revoked_at.is_some());
}
