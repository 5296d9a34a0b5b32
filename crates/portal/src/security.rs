//! Security headers on every response. The content security policy allows scripts, styles
//! and everything else only from the portal itself: no inline scripts or styles, no frames.

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; \
    base-uri 'self'";

const HEADERS: [(HeaderName, &str); 4] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "same-origin"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

/// Middleware setting every header of [`HEADERS`] (over whatever a handler set), and
/// `Cache-Control: no-store` on every answer to a request that carries credentials (an API
/// token or a session cookie) unless the handler chose its own caching (the versioned
/// assets): an organisation's data must not stay in a shared proxy or a browser's disk cache.
pub async fn add_headers(request: Request, next: Next) -> Response {
    let credentialed = carries_credentials(request.headers());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if credentialed && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

fn carries_credentials(headers: &HeaderMap) -> bool {
    let session = format!("{}=", crate::auth::SESSION_COOKIE);
    headers.contains_key(header::AUTHORIZATION)
        || headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|cookies| cookies.split(';').any(|c| c.trim().starts_with(&session)))
}
