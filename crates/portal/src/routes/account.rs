//! `/account`: the logged-in user's own page: who they are, a password change, and their API
//! tokens (created with the secret shown once, revoked one by one).
//!
//! Every form carries the session's CSRF token ([`SessionCsrf`]), compared in constant time;
//! a POST without it (or without a session: an API token cannot use the forms) is a 403.
//! Every write goes to the audit log with the logged-in login as actor (the store's methods
//! record it in the same transaction). Refused input (a weak password, a missing name) is
//! shown on the page with a 400, never a 500.

use crate::auth::{SessionCsrf, SESSION_COOKIE};
use crate::error::{PageError, PortalError};
use crate::views::{render, Layout};
use crate::visitor::ClientAddress;
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use greenwatch_auth::{
    check_password, hash_password, new_secret, secret_hash, tokens_match, AuthError,
};
use greenwatch_model::access::{Role, Viewer};
use greenwatch_model::account::{
    parse_token_lifetime, token_expiry, NewApiToken, TokenScope, TokensOnNewPassword,
    TOKEN_DEFAULT_LIFETIME_DAYS,
};
use greenwatch_model::Timestamp;
use greenwatch_store::StoreError;

pub(crate) fn now() -> Timestamp {
    Timestamp(chrono::Utc::now().timestamp_micros())
}

/// `2026-10-05 14:03 UTC`.
pub(super) fn when(t: Timestamp) -> String {
    t.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A store refusal (duplicate, unknown reference, invalid slug) is the client's mistake: 400
/// with the store's reason. Anything else stays an internal error.
pub(super) fn refused(e: StoreError) -> PortalError {
    match e {
        StoreError::Conflict(reason) => PortalError::BadRequest(reason),
        other => other.into(),
    }
}

pub(super) fn auth_failure(e: AuthError) -> PortalError {
    match e {
        AuthError::WeakPassword => PortalError::BadRequest(e.to_string()),
        other => PortalError::Internal(other.to_string()),
    }
}

/// The logged-in user of a browser session.
pub(super) struct Member {
    pub visitor: Visitor,
    pub login: String,
    pub org: String,
    pub role: Role,
    /// The session's CSRF token, for the page's forms.
    pub csrf: String,
}

impl Member {
    /// The session's user, or `None` for the public and for API tokens (no session).
    pub fn of(visitor: Visitor, csrf: Option<Extension<SessionCsrf>>) -> Option<Member> {
        let Extension(SessionCsrf(csrf)) = csrf?;
        let login = visitor.name.clone()?;
        let Viewer::User { org, role } = visitor.viewer.clone() else {
            return None;
        };
        Some(Member {
            visitor,
            login,
            org,
            role,
            csrf,
        })
    }

    /// The member behind a POST whose form echoed `given`: 403 without a session or with a
    /// token that is not the session's.
    pub fn posting(
        visitor: Visitor,
        csrf: Option<Extension<SessionCsrf>>,
        given: &str,
    ) -> Result<Member, PortalError> {
        match Member::of(visitor, csrf) {
            Some(member) if tokens_match(&member.csrf, given) => Ok(member),
            _ => Err(PortalError::Forbidden(
                "The form did not come from this session; reload the page and try again.".into(),
            )),
        }
    }
}

impl Member {
    /// The user behind a JSON API write: an API token's user (its scope was checked by
    /// [`crate::auth::scope_needed`]), or a browser session that sent its CSRF token as
    /// `X-CSRF-Token`; 401 for the public.
    pub fn calling_api(
        visitor: Visitor,
        csrf: Option<Extension<SessionCsrf>>,
        headers: &axum::http::HeaderMap,
    ) -> Result<Member, PortalError> {
        let session = csrf.is_some();
        if let Some(Extension(SessionCsrf(expected))) = &csrf {
            let given = headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !tokens_match(expected, given) {
                return Err(PortalError::Forbidden(
                    "A browser session must send its CSRF token as X-CSRF-Token.".into(),
                ));
            }
        }
        let (Some(login), Viewer::User { org, role }) =
            (visitor.name.clone(), visitor.viewer.clone())
        else {
            return Err(PortalError::Unauthorized(
                "Send an API token (Authorization: Bearer …) to change anything.".into(),
            ));
        };
        Ok(Member {
            csrf: if session {
                visitor.csrf.clone().unwrap_or_default()
            } else {
                String::new()
            },
            visitor,
            login,
            org,
            role,
        })
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

/// What a POST did, for the page that answers it.
#[derive(Default)]
pub(super) struct Outcome {
    pub notice: Option<String>,
    pub error: Option<String>,
    /// Something created whose secret is shown once: (name, secret).
    pub created: Option<(String, String)>,
}

impl Outcome {
    /// The status of the page showing it: 400 when the POST was refused.
    pub fn status(&self) -> StatusCode {
        if self.error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        }
    }
}

/// A refusal (400) becomes an outcome showing its reason on the page; other errors stay errors.
pub(super) fn shown(done: Result<Outcome, PortalError>) -> Result<Outcome, PortalError> {
    match done {
        Err(PortalError::BadRequest(reason)) => Ok(Outcome {
            error: Some(reason),
            ..Outcome::default()
        }),
        other => other,
    }
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
    let at = now();
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
        .begin(&member.login, address, now())
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
    state
        .write(move |store| {
            store
                .set_password(id, &hash, tokens, &actor, now())
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
    let member = Member::posting(visitor, csrf, &form.csrf)?;
    let at = now();
    let done = match form.token(at) {
        Err(e) => Err(e),
        Ok(token) => {
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
                .await
                .map(|_| Outcome {
                    notice: Some(format!(
                        "Token “{}” created with scopes {}, expiring {}.",
                        token.name,
                        TokenScope::list(&token.scopes),
                        token.expires_at.map_or_else(|| "never".into(), when)
                    )),
                    created: Some((token.name, secret)),
                    ..Outcome::default()
                })
        }
    };
    account_page(&state, member, shown(done)?).await
}

#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub(super) csrf: String,
}

pub async fn revoke_token(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    Path(id): Path<i64>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    let member = Member::posting(visitor, csrf, &form.csrf)?;
    let login = member.login.clone();
    let done = state
        .write(move |store| {
            let user = store
                .user_by_login(&login)?
                .ok_or_else(|| PortalError::Forbidden("This account no longer exists.".into()))?;
            // Own tokens only: someone else's token answers as if it did not exist.
            let owned = store.tokens(user.id)?.into_iter().find(|t| t.id == id);
            match owned {
                None => Err(PortalError::BadRequest(format!("You have no token {id}."))),
                Some(t) if t.revoked => Err(PortalError::BadRequest(format!(
                    "Token “{}” is already revoked.",
                    t.name
                ))),
                Some(t) => {
                    store.revoke_token(id, &login, now()).map_err(refused)?;
                    Ok(Outcome {
                        notice: Some(format!("Token “{}” revoked.", t.name)),
                        ..Outcome::default()
                    })
                }
            }
        })
        .await;
    account_page(&state, member, shown(done)?).await
}
