//! What can go wrong in a request, and how it is shown: `application/problem+json`
//! (RFC 9457) under `/api/`, an HTML page everywhere else. Internal errors are logged with
//! their cause and shown without it.

use crate::views::{render, ErrorPage, Layout};
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use greenwatch_analytics::AnalyticsError;
use greenwatch_metrics::MetricsError;
use greenwatch_store::StoreError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// The request asks for something that cannot be: the message says what and why.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// Missing or wrong credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated but not allowed, or a failed CSRF check.
    #[error("{0}")]
    Forbidden(String),
    /// Too many failed logins: retry after this many seconds.
    #[error("too many failed logins; try again in {0} s")]
    TooManyAttempts(u64),
    /// The server is at its bound of expensive work (queries computed at once); the client
    /// should retry after this many seconds (503 with `Retry-After`).
    #[error("the server is busy answering other questions; try again in {0} s")]
    Busy(u64),
    /// The store's server cannot be reached (restarting, down): nothing was changed, and the
    /// client should retry (503 with `Retry-After`); the cause goes to the log.
    #[error("{0}")]
    StoreUnavailable(String),
    /// A request the framework turned away before a handler ran (an extractor's rejection).
    #[error("{detail}")]
    Rejected { status: StatusCode, detail: String },
    /// A failure of ours (store, thread pool); the cause goes to the log, not to the client.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for PortalError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => PortalError::StoreUnavailable(cause),
            e => PortalError::Internal(format!("store: {e}")),
        }
    }
}

/// Seconds a client is asked to wait when the store is unavailable.
const STORE_RETRY_SECS: u64 = 5;

impl From<AnalyticsError> for PortalError {
    fn from(e: AnalyticsError) -> Self {
        match e {
            AnalyticsError::Query(msg) => PortalError::BadRequest(msg),
            AnalyticsError::NotFound(msg) => PortalError::NotFound(msg),
            AnalyticsError::Store(e) => e.into(),
        }
    }
}

impl From<MetricsError> for PortalError {
    fn from(e: MetricsError) -> Self {
        match e {
            MetricsError::Query(msg) => PortalError::BadRequest(msg),
            MetricsError::Store(e) => e.into(),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Serialize)]
struct Problem<'a> {
    r#type: &'a str,
    title: &'a str,
    status: u16,
    detail: String,
}

impl PortalError {
    pub fn status(&self) -> StatusCode {
        match self {
            PortalError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PortalError::NotFound(_) => StatusCode::NOT_FOUND,
            PortalError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            PortalError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            PortalError::Forbidden(_) => StatusCode::FORBIDDEN,
            PortalError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            PortalError::Busy(_) | PortalError::StoreUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            PortalError::Rejected { status, .. } => *status,
            PortalError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client is told: everything but the cause of an internal error.
    fn detail(&self) -> String {
        match self {
            PortalError::Internal(cause) => {
                tracing::error!("internal error: {cause}");
                "The server could not answer this request; the cause is in its log.".into()
            }
            PortalError::StoreUnavailable(cause) => {
                tracing::warn!("store unavailable: {cause}");
                format!(
                    "The store is unavailable (restarting or down); nothing was changed. \
                     Try again in {STORE_RETRY_SECS} s."
                )
            }
            other => other.to_string(),
        }
    }

    /// The `Retry-After` header the answer carries, if any.
    fn retry_after(&self) -> Option<(header::HeaderName, header::HeaderValue)> {
        match self {
            PortalError::Busy(secs) | PortalError::TooManyAttempts(secs) => {
                Some((header::RETRY_AFTER, header::HeaderValue::from(*secs)))
            }
            PortalError::StoreUnavailable(_) => Some((
                header::RETRY_AFTER,
                header::HeaderValue::from(STORE_RETRY_SECS),
            )),
            _ => None,
        }
    }

    pub fn into_problem(self) -> Response {
        let status = self.status();
        let retry_after = self.retry_after();
        let problem = Problem {
            r#type: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.detail(),
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        response.headers_mut().extend(retry_after);
        response
    }

    pub fn into_page(self) -> Response {
        let status = self.status();
        let retry_after = self.retry_after();
        let title = status.canonical_reason().unwrap_or("Error");
        let page = ErrorPage {
            layout: Layout::new(title, None, None),
            status: status.as_u16(),
            title,
            detail: self.detail(),
        };
        let mut response = (status, render(&page)).into_response();
        response.headers_mut().extend(retry_after);
        response
    }
}

/// The error of an `/api/` handler: answered as `application/problem+json`.
pub struct ApiError(pub PortalError);

impl<E: Into<PortalError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_problem()
    }
}

/// The error of a page handler: answered as an HTML page.
pub struct PageError(pub PortalError);

impl<E: Into<PortalError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0.into_page()
    }
}

/// Whether a path is answered with problem JSON.
pub fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Middleware giving every error the portal's shape, including those no handler wrote
/// (extractor rejections are plain text): problem JSON under `/api/`, an HTML page elsewhere.
pub async fn uniform_errors(request: Request, next: Next) -> Response {
    let api = is_api(request.uri().path());
    let response = next.run(request).await;
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let shaped = if api {
        content_type == "application/problem+json"
    } else {
        content_type.starts_with("text/html")
    };
    if !(status.is_client_error() || status.is_server_error()) || shaped {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let error = PortalError::Rejected {
        status,
        detail: String::from_utf8_lossy(&body).trim().to_string(),
    };
    if api {
        error.into_problem()
    } else {
        error.into_page()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_store_is_a_503_to_retry_that_keeps_its_cause_to_the_log() {
        let error = PortalError::from(StoreError::Unavailable(
            "cannot connect to PostgreSQL at postgres://gw:***@db:5432/g: refused".into(),
        ));
        let response = error.into_problem();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "5");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        // Any other store failure stays an internal error.
        let other = PortalError::from(StoreError::Corrupt("bad row".into()));
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
