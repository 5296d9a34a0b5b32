//! `/admin`, for admins only: organisations (with their constituency networks) and users (each
//! with an add form; a new user's generated password is shown once) and the newest entries of
//! the audit log.
//!
//! The same rules as `/account`: the public is sent to the login page, other roles get a 403,
//! every form carries the session's CSRF token, every write is audited with the admin's login
//! as actor, and refused input is shown on the page with a 400.

use super::account::{
    auth_failure, now, refused, role_name, shown, to_login, when, Member, Outcome,
};
use crate::auth::SessionCsrf;
use crate::error::{PageError, PortalError};
use crate::views::{render, Layout};
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use greenwatch_auth::{hash_password, new_password};
use greenwatch_model::access::Role;
use greenwatch_model::account::{Constituency, Organisation};
use greenwatch_model::sensor::AddressBlock;
use greenwatch_store::{AccountStore, NewUser};

/// Audit entries the page shows, newest first.
const AUDIT_ROWS: usize = 200;

struct OrgRow {
    slug: String,
    name: String,
    created: String,
    /// Its constituency's networks, space-separated.
    networks: String,
}

struct UserRow {
    id: i64,
    login: String,
    org: String,
    role: &'static str,
    disabled: bool,
    created: String,
}

struct AuditRow {
    at: String,
    actor: String,
    action: String,
    target: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    layout: Layout,
    csrf: String,
    orgs: Vec<OrgRow>,
    users: Vec<UserRow>,
    audit: Vec<AuditRow>,
    notice: Option<String>,
    error: Option<String>,
    /// A user just created: (login, generated password), shown this once.
    new_user: Option<(String, String)>,
}

/// The admin behind a request: the public goes to the login page, other roles get a 403.
fn admin(
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
) -> Result<Result<Member, Response>, PortalError> {
    let Some(member) = Member::of(visitor, csrf) else {
        return Ok(Err(to_login()));
    };
    if member.role != Role::Admin {
        return Err(forbidden());
    }
    Ok(Ok(member))
}

fn forbidden() -> PortalError {
    PortalError::Forbidden("Only admins may manage organisations and users.".into())
}

/// The admin behind a POST: 403 for other roles, the public and a wrong CSRF token.
fn posting_admin(
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    given: &str,
) -> Result<Member, PortalError> {
    let member = Member::posting(visitor, csrf, given)?;
    if member.role != Role::Admin {
        return Err(forbidden());
    }
    Ok(member)
}

async fn admin_page(
    state: &AppState,
    member: Member,
    outcome: Outcome,
) -> Result<Response, PageError> {
    let (orgs, users, audit) = state
        .read(|s| {
            let mut orgs = Vec::new();
            for org in s.store.orgs()? {
                let networks = s.store.constituency(&org.slug)?.networks;
                orgs.push((org, networks));
            }
            Ok((orgs, s.store.users()?, s.store.audit_log(AUDIT_ROWS)?))
        })
        .await?;
    let status = outcome.status();
    let page = AdminPage {
        layout: Layout::new("Admin", None, Some(&member.visitor)),
        csrf: member.csrf,
        orgs: orgs
            .into_iter()
            .map(|(o, networks)| OrgRow {
                slug: o.slug,
                name: o.name,
                created: when(o.created_at),
                networks: networks
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
            })
            .collect(),
        users: users
            .into_iter()
            .map(|u| UserRow {
                id: u.id,
                login: u.login,
                org: u.org,
                role: role_name(u.role),
                disabled: u.disabled,
                created: when(u.created_at),
            })
            .collect(),
        audit: audit
            .into_iter()
            .map(|e| AuditRow {
                at: when(e.at),
                actor: e.actor,
                action: e.action,
                target: e.target,
                detail: e.detail,
            })
            .collect(),
        notice: outcome.notice,
        error: outcome.error,
        new_user: outcome.created,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
) -> Result<Response, PageError> {
    match admin(visitor, csrf)? {
        Ok(member) => admin_page(&state, member, Outcome::default()).await,
        Err(redirect) => Ok(redirect),
    }
}

#[derive(serde::Deserialize)]
pub struct OrgForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name: String,
}

pub async fn create_org(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    Form(form): Form<OrgForm>,
) -> Result<Response, PageError> {
    let member = posting_admin(visitor, csrf, &form.csrf)?;
    let org = Organisation {
        slug: form.slug.trim().to_string(),
        name: form.name.trim().to_string(),
        created_at: now(),
    };
    let done = if org.name.is_empty() || org.name.chars().count() > 200 {
        Err(PortalError::BadRequest(
            "An organisation needs a name of 1 to 200 characters.".into(),
        ))
    } else {
        let actor = member.login.clone();
        let notice = format!("Organisation {} ({}) added.", org.slug, org.name);
        state
            .write(move |store| store.create_org(&org, &actor).map_err(refused))
            .await
            .map(|()| Outcome {
                notice: Some(notice),
                ..Outcome::default()
            })
    };
    admin_page(&state, member, shown(done)?).await
}

#[derive(serde::Deserialize)]
pub struct NetworksForm {
    #[serde(default)]
    csrf: String,
    /// Address blocks separated by spaces, commas or new lines; empty clears them.
    #[serde(default)]
    networks: String,
}

/// Sets the networks of an organisation's constituency (the blocks its members may register
/// sensors on), replacing the ones it had.
pub async fn set_networks(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    Path(slug): Path<String>,
    Form(form): Form<NetworksForm>,
) -> Result<Response, PageError> {
    let member = posting_admin(visitor, csrf, &form.csrf)?;
    let parsed: Result<Vec<AddressBlock>, String> = form
        .networks
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(str::parse)
        .collect();
    let done = match parsed {
        Err(e) => Err(PortalError::BadRequest(e)),
        Ok(networks) => {
            let actor = member.login.clone();
            let notice = format!(
                "The constituency of {slug} has {} networks.",
                networks.len()
            );
            let constituency = Constituency { networks };
            state
                .write(move |store| {
                    store
                        .set_constituency(&slug, &constituency, &actor, now())
                        .map_err(refused)
                })
                .await
                .map(|()| Outcome {
                    notice: Some(notice),
                    ..Outcome::default()
                })
        }
    };
    admin_page(&state, member, shown(done)?).await
}

#[derive(serde::Deserialize)]
pub struct UserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    role: String,
}

pub async fn create_user(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    Form(form): Form<UserForm>,
) -> Result<Response, PageError> {
    let member = posting_admin(visitor, csrf, &form.csrf)?;
    let login = form.login.trim().to_string();
    let role = match form.role.as_str() {
        "member" => Some(Role::Member),
        "analyst" => Some(Role::Analyst),
        "admin" => Some(Role::Admin),
        _ => None,
    };
    let done = match role {
        _ if login.is_empty()
            || login.chars().count() > 254
            || login.contains(char::is_whitespace) =>
        {
            Err(PortalError::BadRequest(
                "A login is 1 to 254 characters without spaces (an e-mail address in practice)."
                    .into(),
            ))
        }
        None => Err(PortalError::BadRequest(format!(
            "Unknown role {:?}: member, analyst or admin.",
            form.role
        ))),
        Some(role) => create(&state, &member, login, form.org.trim().to_string(), role).await,
    };
    admin_page(&state, member, shown(done)?).await
}

/// A new generated password and its argon2id hash (computed off the async threads).
async fn generated_password() -> Result<(String, String), PortalError> {
    let password = new_password().map_err(|e| PortalError::Internal(e.to_string()))?;
    let plain = password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(&plain))
        .await
        .map_err(|e| PortalError::Internal(format!("password hashing failed: {e}")))?
        .map_err(auth_failure)?;
    Ok((password, hash))
}

async fn create(
    state: &AppState,
    member: &Member,
    login: String,
    org: String,
    role: Role,
) -> Result<Outcome, PortalError> {
    let (password, password_hash) = generated_password().await?;
    let user = NewUser {
        login: login.clone(),
        org: org.clone(),
        role,
        password_hash,
    };
    let actor = member.login.clone();
    state
        .write(move |store| store.create_user(&user, &actor, now()).map_err(refused))
        .await?;
    Ok(Outcome {
        notice: Some(format!("User {login} ({}, {org}) added.", role_name(role))),
        created: Some((login, password)),
        ..Outcome::default()
    })
}

/// A form with nothing but its CSRF token (the buttons of a user row).
#[derive(serde::Deserialize)]
pub struct ButtonForm {
    #[serde(default)]
    csrf: String,
}

/// What an admin button does to a user.
#[derive(Copy, Clone)]
enum UserChange {
    Disable,
    Enable,
    ResetPassword,
}

async fn change_user(
    state: &AppState,
    member: &Member,
    id: i64,
    change: UserChange,
) -> Result<Outcome, PortalError> {
    let user = state
        .read(move |s| Ok(s.store.user(id)?))
        .await?
        .ok_or_else(|| PortalError::BadRequest(format!("No user {id}.")))?;
    if user.login == member.login && !matches!(change, UserChange::Enable) {
        // An admin locking themselves out, or resetting their own password unseen, is a
        // mistake: their own account page changes their password.
        return Err(PortalError::BadRequest(
            "You cannot disable or reset your own account here; use your account page.".into(),
        ));
    }
    let actor = member.login.clone();
    match change {
        UserChange::Disable | UserChange::Enable => {
            let disabled = matches!(change, UserChange::Disable);
            state
                .write(move |store| {
                    store
                        .set_user_disabled(id, disabled, &actor, now())
                        .map_err(refused)
                })
                .await?;
            let what = if disabled {
                "disabled: their sessions ended and their API tokens stopped working"
            } else {
                "enabled again"
            };
            Ok(Outcome {
                notice: Some(format!("User {} {what}.", user.login)),
                ..Outcome::default()
            })
        }
        UserChange::ResetPassword => {
            let (password, hash) = generated_password().await?;
            state
                .write(move |store| {
                    store
                        .set_password(id, &hash, &actor, now())
                        .map_err(refused)
                })
                .await?;
            Ok(Outcome {
                notice: Some(format!(
                    "New password for {}: their sessions ended; give them the password below.",
                    user.login
                )),
                created: Some((user.login, password)),
                ..Outcome::default()
            })
        }
    }
}

/// `POST /admin/users/{id}/{change}`: `disable`, `enable` or `password` (a new generated
/// password, shown once).
pub async fn change_user_button(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    Path((id, change)): Path<(i64, String)>,
    Form(form): Form<ButtonForm>,
) -> Result<Response, PageError> {
    let member = posting_admin(visitor, csrf, &form.csrf)?;
    let change = match change.as_str() {
        "disable" => UserChange::Disable,
        "enable" => UserChange::Enable,
        "password" => UserChange::ResetPassword,
        other => return Err(PortalError::NotFound(format!("No user action {other:?}.")).into()),
    };
    let done = change_user(&state, &member, id, change).await;
    admin_page(&state, member, shown(done)?).await
}
