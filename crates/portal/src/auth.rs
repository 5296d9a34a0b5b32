//! The members area's front door: login and logout pages, browser sessions and API tokens.
//!
//! - A session is a 256-bit random cookie (`gw_session`: HttpOnly, Secure, SameSite=Strict);
//!   the store keeps only its hash, with the session's CSRF token and expiry (12 h).
//! - Scripts send `Authorization: Bearer <token>`; a wrong, revoked or expired token is a
//!   401, never a silent fall-back to anonymous. A token acts only within its scopes
//!   ([`scope_needed`]): a request outside them is a 403 that names the scope it needs.
//! - Every form that changes something carries a CSRF token checked in constant time: the
//!   session's token, or before login a double-submit cookie (`gw_login_csrf`).
//! - Failed logins are rate-limited per client address and per login from an address (slowed
//!   down, never locked: `greenwatch_auth::LoginLimiter`), each attempt reserved before its
//!   password is checked; the client address is the peer's, or a trusted proxy's
//!   `X-Forwarded-For` ([`ClientAddress`]); an unknown login costs the same time as a wrong password,
//!   and at most a few password checks run at once (argon2id takes 19 MiB each). Logins and failures go to the audit log, never with
//!   the password.

use crate::error::{PageError, PortalError};
use crate::views::{render, Layout};
use crate::visitor::ClientAddress;
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use greenwatch_auth::{check_password, new_secret, secret_hash, tokens_match, CheckMemory};
use greenwatch_model::access::Viewer;
use greenwatch_model::account::{AuditEntry, Session, TokenScope, User};
use greenwatch_model::Timestamp;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

pub const SESSION_COOKIE: &str = "gw_session";
const LOGIN_CSRF_COOKIE: &str = "gw_login_csrf";
const SESSION_MICROS: i64 = 12 * 3600 * 1_000_000;
/// How long a password check waits for a free slot (see [`PasswordChecks::run`]).
const PASSWORD_CHECK_WAIT: Duration = Duration::from_secs(2);

/// The CSRF token of the logged-in session, for forms that change something.
#[derive(Clone, Debug)]
pub struct SessionCsrf(pub String);

fn visitor_of(user: &User) -> Visitor {
    Visitor {
        name: Some(user.login.clone()),
        viewer: Viewer::User {
            org: user.org.clone(),
            role: user.role,
        },
        ..Visitor::anonymous()
    }
}

/// The cookie of a browser session looking at the public view.
pub const PUBLIC_VIEW_COOKIE: &str = "gw_view";

/// The value of cookie `name`, if the request has it.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn set_cookie(name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; Secure; SameSite=Strict"
    ))
    .expect("cookie values are hex")
}

/// The scope an API token needs for `method` on `path`: `read` for every GET, the write
/// scope of each API write route, and `None` for every other write (forms belong to
/// browser sessions and their CSRF tokens; a token never posts them). The one place that
/// says what a token may do: a new API write route is added here, or no token reaches it.
pub fn scope_needed(method: &Method, path: &str) -> Option<TokenScope> {
    if method == Method::GET || method == Method::HEAD {
        return Some(TokenScope::Read);
    }
    if method != Method::POST {
        return None;
    }
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    match parts.as_slice() {
        ["", "api", "v1", "uploads"] => Some(TokenScope::Upload),
        ["", "api", "v1", "alerts", "triage"] => Some(TokenScope::Triage),
        ["", "api", "v1", "sensors"] | ["", "api", "v1", "sensors", _, _, "revoke"] => {
            Some(TokenScope::Sensor)
        }
        _ => None,
    }
}

/// Middleware: turns a bearer token or a session cookie into the request's [`Visitor`].
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(value) = request.headers().get(header::AUTHORIZATION) {
        let Some(token) = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) else {
            return PortalError::Unauthorized("Authorization must be `Bearer <API token>`.".into())
                .into_problem();
        };
        let hash = secret_hash(token.trim());
        let at = state.now();
        match state
            .write(move |store| Ok(store.use_token(&hash, at)?))
            .await
        {
            Ok(Some((token, user))) => {
                if token.expired(at) {
                    let when = token.expires_at.map(|t| t.to_string()).unwrap_or_default();
                    return PortalError::Unauthorized(format!(
                        "API token {} expired at {when}; create a new one on /account.",
                        token.id
                    ))
                    .into_problem();
                }
                match scope_needed(request.method(), request.uri().path()) {
                    Some(scope) if token.allows(scope) => {}
                    Some(scope) => {
                        return PortalError::Forbidden(format!(
                            "API token {} has scopes {}; this request needs scope {scope}.",
                            token.id,
                            TokenScope::list(&token.scopes)
                        ))
                        .into_problem()
                    }
                    None => {
                        return PortalError::Forbidden(
                            "API tokens cannot post forms; use the JSON API (/api/docs).".into(),
                        )
                        .into_problem()
                    }
                }
                request.extensions_mut().insert(visitor_of(&user));
            }
            Ok(None) => {
                return PortalError::Unauthorized("Unknown or revoked API token.".into())
                    .into_problem()
            }
            Err(e) => return e.into_problem(),
        }
    } else if let Some(secret) = cookie(request.headers(), SESSION_COOKIE) {
        let hash = secret_hash(&secret);
        let at = state.now();
        match state.read(move |s| Ok(s.store.session(&hash, at)?)).await {
            Ok(Some((session, user))) => {
                let mut visitor = visitor_of(&user);
                visitor.csrf = Some(session.csrf_token.clone());
                // The public view: exactly the public's viewer, so every read, export and
                // feed answers as it would without a session; only the way back remains.
                if cookie(request.headers(), PUBLIC_VIEW_COOKIE).as_deref() == Some("public") {
                    visitor.viewer = Viewer::Anonymous;
                    visitor.public_view = true;
                }
                request.extensions_mut().insert(visitor);
                request
                    .extensions_mut()
                    .insert(SessionCsrf(session.csrf_token));
            }
            // Expired or ended elsewhere: the visitor is anonymous again.
            Ok(None) => {}
            Err(e) => return e.into_page(),
        }
    }
    next.run(request).await
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    csrf: String,
    login: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage {
    layout: Layout,
    csrf: String,
}

/// The login form, with a fresh double-submit CSRF token.
pub async fn login_page(visitor: Visitor) -> Result<Response, PageError> {
    if visitor.name.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let csrf = new_secret().map_err(|e| PortalError::Internal(e.to_string()))?;
    Ok(login_form(StatusCode::OK, csrf, String::new(), None))
}

fn login_form(status: StatusCode, csrf: String, login: String, error: Option<String>) -> Response {
    let page = LoginPage {
        layout: Layout::new("Log in", None, None),
        csrf: csrf.clone(),
        login,
        error,
    };
    let mut response = (status, render(&page)).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(LOGIN_CSRF_COOKIE, &csrf, 3600),
    );
    response
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    csrf: String,
}

fn audit(at: Timestamp, actor: &str, action: &str, target: &str, detail: String) -> AuditEntry {
    AuditEntry {
        at,
        actor: actor.into(),
        action: action.into(),
        target: target.into(),
        detail,
    }
}

/// Password checks at once: argon2id takes 19 MiB and tens of milliseconds of a core each, so
/// 4 keep 76 MiB however many logins arrive together, and more would not finish sooner on a
/// few cores anyway.
const PASSWORD_CHECKS_AT_ONCE: usize = 4;

/// The slots password checks run in, each with its memory kept for the next check.
pub(crate) struct PasswordChecks {
    slots: Arc<Semaphore>,
    /// As many as slots: a check takes one out and puts it back.
    memory: Mutex<Vec<CheckMemory>>,
}

impl Default for PasswordChecks {
    fn default() -> Self {
        PasswordChecks {
            slots: Arc::new(Semaphore::new(PASSWORD_CHECKS_AT_ONCE)),
            memory: Mutex::new(
                (0..PASSWORD_CHECKS_AT_ONCE)
                    .map(|_| CheckMemory::default())
                    .collect(),
            ),
        }
    }
}

impl PasswordChecks {
    /// Runs `check` on the blocking pool in a free slot, which it holds until done even if
    /// the client hangs up. When no slot frees up within [`PASSWORD_CHECK_WAIT`] the answer
    /// is "busy" (503 with `Retry-After`): waiting without bound would pile up requests, not
    /// get through them sooner.
    pub(crate) async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        check: impl FnOnce(&mut CheckMemory) -> T + Send + 'static,
    ) -> Result<T, PortalError> {
        let wait = Arc::clone(&self.slots).acquire_owned();
        let slot = match tokio::time::timeout(PASSWORD_CHECK_WAIT, wait).await {
            Ok(Ok(slot)) => slot,
            Ok(Err(closed)) => {
                return Err(PortalError::Internal(format!(
                    "password check slots: {closed}"
                )))
            }
            Err(_) => return Err(PortalError::Busy(PASSWORD_CHECK_WAIT.as_secs())),
        };
        let checks = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let take = || {
                checks
                    .memory
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .pop()
            };
            // Only a check that panicked loses its memory; the next one starts afresh.
            let mut memory = take().unwrap_or_default();
            let checked = check(&mut memory);
            let mut kept = checks.memory.lock().unwrap_or_else(|e| e.into_inner());
            kept.push(memory);
            drop(kept);
            drop(slot);
            checked
        })
        .await
        .map_err(|e| PortalError::Internal(format!("password check failed: {e}")))
    }
}

pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !tokens_match(&expected, &form.csrf) {
        return Err(PortalError::Forbidden(
            "The form expired or did not come from this site; reload the login page.".into(),
        )
        .into());
    }
    let login = form.login.trim().to_string();
    let attempt = match state.limiter().begin(&login, address, state.now()) {
        Ok(attempt) => attempt,
        Err(retry) => return Err(PortalError::TooManyAttempts(retry.0).into()),
    };
    let lookup = login.clone();
    let user = state
        .read(move |s| Ok(s.store.user_by_login(&lookup)?))
        .await?
        .filter(|u| !u.disabled);
    let password = form.password;
    let verified = state
        .password_checks()
        .run(move |memory| {
            // An unknown login is checked against a dummy hash: it takes as long as a wrong password.
            let hash = user.as_ref().map(|u| u.password_hash.as_str());
            let right = check_password(memory, hash, &password);
            let verified = user.filter(|_| right);
            // Settled beside the check: a client hanging up cannot leave its guess uncounted.
            match verified {
                Some(_) => attempt.succeeded(),
                None => attempt.failed(),
            }
            verified
        })
        .await?;
    let Some(user) = verified else {
        let entry = audit(
            state.now(),
            &login,
            "login.failure",
            &login,
            format!("from {address}"),
        );
        state.write(move |store| Ok(store.audit(&entry)?)).await?;
        let csrf = new_secret().map_err(|e| PortalError::Internal(e.to_string()))?;
        let error = Some("Wrong login or password.".to_string());
        return Ok(login_form(StatusCode::UNAUTHORIZED, csrf, login, error));
    };
    let secret = new_secret().map_err(|e| PortalError::Internal(e.to_string()))?;
    let csrf = new_secret().map_err(|e| PortalError::Internal(e.to_string()))?;
    let created = state.now();
    let session = Session {
        token_hash: secret_hash(&secret),
        user_id: user.id,
        csrf_token: csrf,
        created_at: created,
        expires_at: Timestamp(created.0 + SESSION_MICROS),
    };
    let entry = audit(
        state.now(),
        &user.login,
        "login",
        &user.login,
        format!("from {address}"),
    );
    state
        .write(move |store| {
            store.create_session(&session)?;
            Ok(store.audit(&entry)?)
        })
        .await?;
    let mut response = Redirect::to("/").into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &secret, SESSION_MICROS / 1_000_000),
    );
    headers.append(header::SET_COOKIE, set_cookie(LOGIN_CSRF_COOKIE, "", 0));
    Ok(response)
}

/// "Log out?" with a POST form: logging out changes state, so it is not a link.
pub async fn logout_page(
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
) -> Result<Response, PageError> {
    let Some(Extension(SessionCsrf(csrf))) = csrf else {
        return Ok(Redirect::to("/login").into_response());
    };
    let page = LogoutPage {
        layout: Layout::new("Log out", None, Some(&visitor)),
        csrf,
    };
    Ok(render(&page).into_response())
}

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

#[derive(serde::Deserialize)]
pub struct ViewForm {
    csrf: String,
    /// `public` or `member`.
    view: String,
}

/// `POST /view`: a member switches to the public view (exactly what the public sees, so they
/// know what they may share) or back, for this browser session. The browser goes back to the
/// page it came from.
pub async fn switch_view(
    csrf: Option<Extension<SessionCsrf>>,
    headers: HeaderMap,
    Form(form): Form<ViewForm>,
) -> Result<Response, PageError> {
    let Some(Extension(SessionCsrf(expected))) = csrf else {
        return Ok(Redirect::to("/login").into_response());
    };
    if !tokens_match(&expected, &form.csrf) {
        return Err(
            PortalError::Forbidden("The form did not come from this session.".into()).into(),
        );
    }
    let cookie = match form.view.as_str() {
        "public" => set_cookie(PUBLIC_VIEW_COOKIE, "public", SESSION_MICROS / 1_000_000),
        "member" => set_cookie(PUBLIC_VIEW_COOKIE, "", 0),
        other => {
            return Err(PortalError::BadRequest(format!(
                "view {other:?}: expected public or member"
            ))
            .into())
        }
    };
    let mut response = Redirect::to(&same_site_path(&headers)).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// The path of the page a form was sent from (its `Referer`, when it is this site's), else
/// `/`: never another site, so the switch cannot be used to redirect anywhere.
fn same_site_path(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|referer| {
            let rest = referer.split_once("://")?.1;
            let (authority, path) = rest.split_at(rest.find('/')?);
            (Some(authority) == host && !path.starts_with("//")).then(|| path.to_string())
        })
        .unwrap_or_else(|| "/".into())
}

pub async fn logout(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let Some(Extension(SessionCsrf(expected))) = csrf else {
        return Ok(Redirect::to("/").into_response());
    };
    if !tokens_match(&expected, &form.csrf) {
        return Err(
            PortalError::Forbidden("The form did not come from this session.".into()).into(),
        );
    }
    let secret = cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    let login = visitor.name.unwrap_or_default();
    let entry = audit(state.now(), &login, "logout", &login, String::new());
    state
        .write(move |store| {
            store.delete_session(&secret_hash(&secret))?;
            Ok(store.audit(&entry)?)
        })
        .await?;
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0));
    Ok(response)
}
