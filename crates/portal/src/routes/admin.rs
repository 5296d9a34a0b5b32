//! `/admin`, for admins only: organisations (with their constituency networks) and users (each
//! with an add form; a new user's generated password is shown once) and the newest entries of
//! the audit log.
//!
//! What an admin sees and may change here is `greenwatch_model::access::may_administer`'s:
//! the operator's admins manage organisations, an organisation's admins its own users and
//! audit entries. The page shows only what the admin may see and the forms they may use; a POST
//! they may not make is a 403 that changes nothing.
//!
//! The same rules as `/account`: the public is sent to the login page, other roles get a 403,
//! every form carries the session's CSRF token, every write is audited with the admin's login
//! as actor, and refused input is shown on the page with a 400.

use super::account::{auth_failure, to_login, when};
use super::forms::{post, refused, Member, Outcome};
use crate::auth::SessionCsrf;
use crate::error::{PageError, PortalError};
use crate::views::{render, Layout};
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use greenwatch_auth::{hash_password, new_password};
use greenwatch_model::access::{may_administer, AdminAction, Role};
use greenwatch_model::account::{Constituency, Organisation, TokensOnNewPassword, User};
use greenwatch_model::sensor::AddressBlock;
use greenwatch_store::NewUser;

/// Audit entries the page shows, newest first.
const AUDIT_ROWS: usize = 200;

struct OrgRow {
    slug: String,
    name: String,
    created: String,
    /// Its constituency's networks, space-separated.
    networks: String,
    /// Whether this admin may set them.
    settable: bool,
}

struct UserRow {
    id: i64,
    login: String,
    org: String,
    role: &'static str,
    disabled: bool,
    created: String,
    /// The buttons this admin may use on the row.
    may_disable: bool,
    may_enable: bool,
    may_reset: bool,
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
    /// Whether this admin may add organisations.
    may_add_org: bool,
    users: Vec<UserRow>,
    /// The organisations this admin may add users to: (slug, name).
    user_orgs: Vec<(String, String)>,
    /// The audit log's heading; `None`: this admin reads no audit entries.
    audit_heading: Option<String>,
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

/// Whether `member` may do `action`.
fn may(member: &Member, action: &AdminAction<'_>) -> bool {
    may_administer(&member.org, member.role, action)
}

/// `Ok` when `member` may do `action`, else the 403 that refuses it.
fn permit(member: &Member, action: &AdminAction<'_>) -> Result<(), PortalError> {
    if may(member, action) {
        Ok(())
    } else {
        Err(PortalError::Forbidden(format!(
            "Your role does not let you {action}; nothing was changed."
        )))
    }
}

/// Which audit entries an admin reads.
enum AuditScope {
    /// The whole log: the deployment's entries and every organisation's.
    Whole,
    Organisation(String),
    Nothing,
}

impl AuditScope {
    fn of(member: &Member) -> AuditScope {
        let org = &member.org;
        if may(member, &AdminAction::ReadDeploymentAudit) {
            AuditScope::Whole
        } else if may(member, &AdminAction::ReadAudit { org }) {
            AuditScope::Organisation(org.clone())
        } else {
            AuditScope::Nothing
        }
    }

    fn heading(&self) -> Option<String> {
        match self {
            AuditScope::Whole => Some("Audit log".into()),
            AuditScope::Organisation(org) => Some(format!("Audit log of {org}")),
            AuditScope::Nothing => None,
        }
    }
}

/// Whether organisation `org` has an admin user, enabled or not (it decides whether the
/// operator may still add its first one).
fn has_admin(users: &[User], org: &str) -> bool {
    users.iter().any(|u| u.org == org && u.role == Role::Admin)
}

/// Admins post the admin forms; other roles get a 403.
fn an_admin(member: &Member) -> Result<(), PortalError> {
    if member.role != Role::Admin {
        return Err(forbidden());
    }
    Ok(())
}

async fn admin_page(
    state: &AppState,
    member: Member,
    outcome: Outcome,
) -> Result<Response, PageError> {
    let scope = AuditScope::of(&member);
    let audit_heading = scope.heading();
    let (actor_org, actor_role) = (member.org.clone(), member.role);
    let (orgs, users, audit) = state
        .read(move |s| {
            let viewable = |org: &str| {
                may_administer(&actor_org, actor_role, &AdminAction::ViewAccounts { org })
            };
            let mut orgs = Vec::new();
            for org in s.store.orgs()? {
                if viewable(&org.slug) {
                    let networks = s.store.constituency(&org.slug)?.networks;
                    orgs.push((org, networks));
                }
            }
            let audit = match &scope {
                AuditScope::Whole => s.store.audit_log(AUDIT_ROWS)?,
                AuditScope::Organisation(org) => s.store.org_audit_log(org, AUDIT_ROWS)?,
                AuditScope::Nothing => Vec::new(),
            };
            Ok((orgs, s.store.users()?, audit))
        })
        .await?;
    let user_orgs = orgs
        .iter()
        .filter(|(o, _)| {
            let org_has_admin = has_admin(&users, &o.slug);
            may(
                &member,
                &AdminAction::CreateUser {
                    org: &o.slug,
                    org_has_admin,
                },
            )
        })
        .map(|(o, _)| (o.slug.clone(), o.name.clone()))
        .collect();
    let users = users
        .into_iter()
        .filter(|u| may(&member, &AdminAction::ViewAccounts { org: &u.org }))
        .map(|u| {
            // Not on their own row: their account page changes their password.
            let other = u.login != member.login;
            UserRow {
                may_disable: other && may(&member, &AdminAction::DisableUser { org: &u.org }),
                may_enable: may(&member, &AdminAction::EnableUser { org: &u.org }),
                may_reset: other && may(&member, &AdminAction::ResetPassword { org: &u.org }),
                id: u.id,
                role: u.role.as_str(),
                disabled: u.disabled,
                created: when(u.created_at),
                login: u.login,
                org: u.org,
            }
        })
        .collect();
    let status = outcome.status();
    let page = AdminPage {
        layout: Layout::new("Admin", None, Some(&member.visitor)),
        may_add_org: may(&member, &AdminAction::CreateOrganisation),
        orgs: orgs
            .into_iter()
            .map(|(o, networks)| OrgRow {
                settable: may(&member, &AdminAction::SetConstituency { org: &o.slug }),
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
        csrf: member.csrf,
        users,
        user_orgs,
        audit_heading,
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
    let admit = |member: &Member| {
        an_admin(member)?;
        permit(member, &AdminAction::CreateOrganisation)
    };
    let change = async |member: &Member| {
        let org = Organisation {
            slug: form.slug.trim().to_string(),
            name: form.name.trim().to_string(),
            created_at: state.now(),
        };
        if org.name.is_empty() || org.name.chars().count() > 200 {
            return Err(PortalError::BadRequest(
                "An organisation needs a name of 1 to 200 characters.".into(),
            ));
        }
        let actor = member.login.clone();
        let notice = format!("Organisation {} ({}) added.", org.slug, org.name);
        state
            .write(move |store| store.create_org(&org, &actor).map_err(refused))
            .await?;
        Ok(Outcome::notice(notice))
    };
    let page = async |member, outcome| admin_page(&state, member, outcome).await;
    post(visitor, csrf, &form.csrf, admit, change, page).await
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
    let admit = |member: &Member| {
        an_admin(member)?;
        permit(member, &AdminAction::SetConstituency { org: &slug })
    };
    let change = async |member: &Member| {
        let networks = form
            .networks
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<AddressBlock>, String>>()
            .map_err(PortalError::BadRequest)?;
        let actor = member.login.clone();
        let notice = format!(
            "The constituency of {slug} has {} networks.",
            networks.len()
        );
        let (org, constituency) = (slug.clone(), Constituency { networks });
        let at = state.now();
        state
            .write(move |store| {
                store
                    .set_constituency(&org, &constituency, &actor, at)
                    .map_err(refused)
            })
            .await?;
        Ok(Outcome::notice(notice))
    };
    let page = async |member, outcome| admin_page(&state, member, outcome).await;
    post(visitor, csrf, &form.csrf, admit, change, page).await
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
    let change = async |member: &Member| {
        let org = form.org.trim().to_string();
        let asked = org.clone();
        let org_has_admin = state
            .read(move |s| Ok(has_admin(&s.store.users()?, &asked)))
            .await?;
        permit(
            member,
            &AdminAction::CreateUser {
                org: &org,
                org_has_admin,
            },
        )?;
        let login = form.login.trim().to_string();
        let role: Option<Role> = form.role.parse().ok();
        match role {
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
            Some(role) => create(&state, member, login, org, role).await,
        }
    };
    let page = async |member, outcome| admin_page(&state, member, outcome).await;
    post(visitor, csrf, &form.csrf, an_admin, change, page).await
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
    let at = state.now();
    state
        .write(move |store| store.create_user(&user, &actor, at).map_err(refused))
        .await?;
    Ok(Outcome {
        notice: Some(format!("User {login} ({}, {org}) added.", role.as_str())),
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
    let org = user.org.as_str();
    permit(
        member,
        &match change {
            UserChange::Disable => AdminAction::DisableUser { org },
            UserChange::Enable => AdminAction::EnableUser { org },
            UserChange::ResetPassword => AdminAction::ResetPassword { org },
        },
    )?;
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
            let at = state.now();
            state
                .write(move |store| {
                    store
                        .set_user_disabled(id, disabled, &actor, at)
                        .map_err(refused)
                })
                .await?;
            let what = if disabled {
                "disabled: their sessions ended and their API tokens stopped working"
            } else {
                "enabled again"
            };
            Ok(Outcome::notice(format!("User {} {what}.", user.login)))
        }
        UserChange::ResetPassword => {
            let (password, hash) = generated_password().await?;
            let at = state.now();
            state
                .write(move |store| {
                    store
                        // A reset suggests the old password is known: its tokens end too.
                        .set_password(id, &hash, TokensOnNewPassword::Revoke, &actor, at)
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
    let admit = |member: &Member| {
        an_admin(member)?;
        match change.as_str() {
            "disable" | "enable" | "password" => Ok(()),
            other => Err(PortalError::NotFound(format!("No user action {other:?}."))),
        }
    };
    let what = match change.as_str() {
        "disable" => UserChange::Disable,
        "enable" => UserChange::Enable,
        _ => UserChange::ResetPassword,
    };
    let change_it = async |member: &Member| change_user(&state, member, id, what).await;
    let page = async |member, outcome| admin_page(&state, member, outcome).await;
    post(visitor, csrf, &form.csrf, admit, change_it, page).await
}
