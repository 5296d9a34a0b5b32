//! The one POST routine of the portal's forms ([`post`]): the member behind the form (403
//! without a session, or with a CSRF token that is not the session's, compared in constant
//! time; an API token cannot use the forms), who may do it, the change on a store connection
//! (the store writes its audit entry in the same transaction, with the member's login as
//! actor), its outcome (a refusal is shown on the page with a 400, never a 500), and the page
//! or redirect that answers it. Every form handler is a call of it; cases and intake add
//! theirs the same way.

use crate::auth::SessionCsrf;
use crate::error::{PageError, PortalError};
use crate::Visitor;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use greenwatch_auth::tokens_match;
use greenwatch_model::access::{Role, Viewer};
use greenwatch_store::StoreError;

/// Answers a form POST: the member behind it (`Member::posting`), `admit`'s check of what
/// they may do (its error is the answer), `change` (a `BadRequest` becomes the outcome's
/// error, shown with a 400; other errors stay errors), then the outcome's `location` as a
/// 303, or `page` showing it.
pub(super) async fn post(
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    given: &str,
    admit: impl FnOnce(&Member) -> Result<(), PortalError>,
    change: impl AsyncFnOnce(&Member) -> Result<Outcome, PortalError>,
    page: impl AsyncFnOnce(Member, Outcome) -> Result<Response, PageError>,
) -> Result<Response, PageError> {
    let member = Member::posting(visitor, csrf, given)?;
    admit(&member)?;
    let outcome = shown(change(&member).await)?;
    match &outcome.location {
        Some(location) if outcome.error.is_none() => Ok(Redirect::to(location).into_response()),
        _ => page(member, outcome).await,
    }
}

/// `Ok` for analysts and admins, else the 403 saying that `doing` needs one of those roles.
pub(super) fn contributor(member: &Member, doing: &str) -> Result<(), PortalError> {
    if member.role.may_contribute() {
        return Ok(());
    }
    Err(PortalError::Forbidden(format!(
        "{doing} needs the analyst or admin role; {} is a {}.",
        member.login,
        member.role.as_str()
    )))
}

/// Every member may post the form.
pub(super) fn anyone(_: &Member) -> Result<(), PortalError> {
    Ok(())
}

/// A store refusal (duplicate, unknown reference, invalid slug) is the client's mistake: 400
/// with the store's reason. Anything else stays an internal error.
pub(super) fn refused(e: StoreError) -> PortalError {
    match e {
        StoreError::Conflict(reason) => PortalError::BadRequest(reason),
        other => other.into(),
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

/// What a POST did, for the page that answers it.
#[derive(Default)]
pub(super) struct Outcome {
    /// Where the browser goes next (303) instead of the page, after a change that has a
    /// page of its own (a new alert, one alert triaged from its page).
    pub location: Option<String>,
    pub notice: Option<String>,
    pub error: Option<String>,
    /// Something created whose secret is shown once: (name, secret).
    pub created: Option<(String, String)>,
}

impl Outcome {
    /// A change done, saying what it did.
    pub fn notice(notice: impl Into<String>) -> Outcome {
        Outcome {
            notice: Some(notice.into()),
            ..Outcome::default()
        }
    }

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

#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub(super) csrf: String,
}
