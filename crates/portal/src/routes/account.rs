//! `/account`: the logged-in user's own page: who they are, a password change, and their API
//! tokens (created with the secret shown once, revoked one by one).
//!
//! Every form carries the session's CSRF token ([`SessionCsrf`]), compared in constant time;
//! a POST without it (or without a session: an API token cannot use the forms) is a 403.
//! Every write goes to the audit log with the logged-in login as actor (the store's methods
//! record it in the same transaction). Refused input (a weak password, a missing name) is
//! shown on the page with a 400, never a 500.

use super::forms::{anyone, post, refused, shown, CsrfOnly, Member, Outcome};
use crate::auth::{SessionCsrf, SESSION_COOKIE};
use crate::error::{PageError, PortalError};
use crate::views::{render, Layout};
use crate::visitor::ClientAddress;
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use greenwatch_auth::{check_password, hash_password, new_secret, secret_hash, AuthError};
use greenwatch_model::account::{
    parse_token_lifetime, token_expiry, NewApiToken, TokenScope, TokensOnNewPassword,
    TOKEN_DEFAULT_LIFETIME_DAYS,
};
use greenwatch_model::Timestamp;

/// `2026-10-05 14:03 UTC`.
pub(super) fn when(t: Timestamp) -> String {
    t.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string()
}

pub(super) fn auth_failure(e: AuthError) -> PortalError {
    match e {
        AuthError::WeakPassword => PortalError::BadRequest(e.to_string()),
        other => PortalError::Internal(other.to_string()),
    }
}

pub(super) fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

struct TokenRow {
    id: i64,
    name: String,
    scopes: String,
    created: String,
    last_used: String,
    expires: String,
    /// `active`, `expired` or `revoked`.
    status: &'static str,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    login: String,
    org: String,
    role: &'static str,
    csrf: String,
    tokens: Vec<TokenRow>,
    /// Every token scope, for the new-token form.
    scope_choices: Vec<&'static str>,
    notice: Option<String>,
    error: Option<String>,
    /// A token just created: (name, secret), shown this once.
    new_token: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "password-changed.html")]
struct PasswordChangedPage {
    layout: Layout,
}

async fn account_page(
    state: &AppState,
    member: Member,
    outcome: Outcome,
) -> Result<Response, PageError> {
    let login = member.login.clone();
    let tokens = state
        .read(move |s| {
            let Some(user) = s.store.user_by_login(&login)? else {
                return Ok(Vec::new());
            };
            Ok(s.store.tokens(user.id)?)
        })
        .await?;
    let status = outcome.status();
    let at = state.now();
    let page = AccountPage {
        layout: Layout::new("Account", None, Some(&member.visitor)),
        login: member.login,
        org: member.org,
        role: member.role.as_str(),
        csrf: member.csrf,
        tokens: tokens
            .into_iter()
            .rev()
            .map(|t| TokenRow {
                id: t.id,
                scopes: TokenScope::list(&t.scopes).replace(',', ", "),
                created: when(t.created_at),
                last_used: t.last_used_at.map_or_else(|| "never".into(), when),
                expires: t.expires_at.map_or_else(|| "never".into(), when),
                status: if t.revoked {
                    "revoked"
                } else if t.expired(at) {
                    "expired"
                } else {
                    "active"
                },
                name: t.name,
            })
            .collect(),
        scope_choices: TokenScope::ALL.iter().map(|s| s.as_str()).collect(),
        notice: outcome.notice,
        error: outcome.error,
        new_token: outcome.created,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
) -> Result<Response, PageError> {
    let Some(member) = Member::of(visitor, csrf) else {
        return Ok(to_login());
    };
    account_page(&state, member, Outcome::default()).await
}

#[derive(serde::Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
    /// `on` to keep the account's API tokens (by default they end with the old password).
    #[serde(default)]
    keep_tokens: Option<String>,
}

pub async fn change_password(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    ClientAddress(address): ClientAddress,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let member = Member::posting(visitor, csrf, &form.csrf)?;
    let attempt = state
        .limiter()
        .begin(&member.login, address, state.now())
        .map_err(|retry| PortalError::TooManyAttempts(retry.0))?;
    if form.new != form.repeat {
        let done = Err(PortalError::BadRequest(
            "The two new passwords differ; nothing was changed.".into(),
        ));
        return account_page(&state, member, shown(done)?).await;
    }
    let lookup = member.login.clone();
    let user = state
        .read(move |s| Ok(s.store.user_by_login(&lookup)?))
        .await?
        .ok_or_else(|| PortalError::Forbidden("This account no longer exists.".into()))?;
    let (current, new) = (form.current, form.new);
    let hashed = state
        .password_checks()
        .run(move |memory| {
            if !check_password(memory, Some(&user.password_hash), &current) {
                attempt.failed();
                return Ok(None);
            }
            attempt.succeeded();
            hash_password(&new).map(|h| Some((user.id, h)))
        })
        .await?;
    let (id, hash) = match hashed {
        Ok(Some(change)) => change,
        Ok(None) => {
            let done = Err(PortalError::BadRequest(
                "The current password is wrong; nothing was changed.".into(),
            ));
            return account_page(&state, member, shown(done)?).await;
        }
        Err(e) => return account_page(&state, member, shown(Err(auth_failure(e)))?).await,
    };
    let actor = member.login.clone();
    let tokens = if form.keep_tokens.is_some() {
        TokensOnNewPassword::Keep
    } else {
        TokensOnNewPassword::Revoke
    };
    let at = state.now();
    state
        .write(move |store| {
            store
                .set_password(id, &hash, tokens, &actor, at)
                .map_err(refused)
        })
        .await?;
    // The store ended every session of the user, this one included.
    let page = PasswordChangedPage {
        layout: Layout::new("Password changed", None, None),
    };
    let mut response = render(&page).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict"
        ))
        .expect("a valid cookie"),
    );
    Ok(response)
}

#[derive(serde::Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    /// `90d`, `1y`, `never`… ([`parse_token_lifetime`]); empty: the default lifetime.
    #[serde(default)]
    expires: String,
    #[serde(default)]
    scope_read: Option<String>,
    #[serde(default)]
    scope_upload: Option<String>,
    #[serde(default)]
    scope_sensor: Option<String>,
    #[serde(default)]
    scope_triage: Option<String>,
}

impl TokenForm {
    /// The token the form asks for, created at `at`.
    fn token(&self, at: Timestamp) -> Result<NewApiToken, PortalError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(PortalError::BadRequest(
                "A token needs a name of 1 to 100 characters (what it is for).".into(),
            ));
        }
        let ticked = [
            (&self.scope_read, TokenScope::Read),
            (&self.scope_upload, TokenScope::Upload),
            (&self.scope_sensor, TokenScope::Sensor),
            (&self.scope_triage, TokenScope::Triage),
        ];
        let scopes: Vec<TokenScope> = ticked
            .into_iter()
            .filter(|(on, _)| on.is_some())
            .map(|(_, scope)| scope)
            .collect();
        if scopes.is_empty() {
            return Err(PortalError::BadRequest(
                "Tick at least one scope: what the token may do.".into(),
            ));
        }
        let lifetime = match self.expires.trim() {
            "" => Some(TOKEN_DEFAULT_LIFETIME_DAYS),
            other => parse_token_lifetime(other).map_err(PortalError::BadRequest)?,
        };
        Ok(NewApiToken::new(name, &scopes, token_expiry(at, lifetime)))
    }
}

pub async fn create_token(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    let change = async |member: &Member| {
        let at = state.now();
        let token = form.token(at)?;
        let secret = new_secret().map_err(|e| PortalError::Internal(e.to_string()))?;
        let (login, hash, asked) = (member.login.clone(), secret_hash(&secret), token.clone());
        state
            .write(move |store| {
                let user = store.user_by_login(&login)?.ok_or_else(|| {
                    PortalError::Forbidden("This account no longer exists.".into())
                })?;
                store
                    .create_token(user.id, &asked, &hash, &login, at)
                    .map_err(refused)
            })
            .await?;
        Ok(Outcome {
            notice: Some(format!(
                "Token “{}” created with scopes {}, expiring {}.",
                token.name,
                TokenScope::list(&token.scopes),
                token.expires_at.map_or_else(|| "never".into(), when)
            )),
            created: Some((token.name, secret)),
            ..Outcome::default()
        })
    };
    let page = async |member, outcome| account_page(&state, member, outcome).await;
    post(visitor, csrf, &form.csrf, anyone, change, page).await
}

pub async fn revoke_token(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    let change = async |member: &Member| {
        let login = member.login.clone();
        let at = state.now();
        state
            .write(move |store| {
                let user = store.user_by_login(&login)?.ok_or_else(|| {
                    PortalError::Forbidden("This account no longer exists.".into())
                })?;
                // Own tokens only: someone else's token answers as if it did not exist.
                let owned = store.tokens(user.id)?.into_iter().find(|t| t.id == id);
                match owned {
                    None => Err(PortalError::BadRequest(format!("You have no token {id}."))),
                    Some(t) if t.revoked => Err(PortalError::BadRequest(format!(
                        "Token “{}” is already revoked.",
                        t.name
                    ))),
                    Some(t) => {
                        store.revoke_token(id, &login, at).map_err(refused)?;
                        Ok(Outcome::notice(format!("Token “{}” revoked.", t.name)))
                    }
                }
            })
            .await
    };
    let page = async |member, outcome| account_page(&state, member, outcome).await;
    post(visitor, csrf, &form.csrf, anyone, change, page).await
}
