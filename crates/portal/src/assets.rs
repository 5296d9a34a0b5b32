//! The browser files (style sheet, scripts, vendored ECharts and world map), embedded in the
//! binary and served under `/assets/`. Pages link them with their content hash in the URL
//! (`/assets/portal.css?v=1a2b3c4d5e6f`), so a versioned URL can be cached for a year.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Embed)]
#[folder = "assets/"]
struct Assets;

/// Files the browser loads that another crate owns, because the server reads them too.
const OWNED_ELSEWHERE: [(&str, &[u8]); 1] = [(
    "country-codes.json",
    greenwatch_analytics::countries::TABLE_JSON,
)];

/// The content of the asset at `path` and its content hash.
fn file(path: &str) -> Option<(Cow<'static, [u8]>, [u8; 32])> {
    if let Some((_, data)) = OWNED_ELSEWHERE.iter().find(|(name, _)| *name == path) {
        return Some((Cow::Borrowed(*data), *blake3::hash(data).as_bytes()));
    }
    Assets::get(path).map(|f| (f.data, f.metadata.sha256_hash()))
}

/// Cache lifetime of a URL carrying the asset's current hash.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Unversioned (or stale-versioned) URLs: revalidate every time (cheap with the ETag).
const REVALIDATE: &str = "no-cache";

/// Short content hash of every embedded file, computed once.
fn versions() -> &'static HashMap<String, String> {
    static VERSIONS: OnceLock<HashMap<String, String>> = OnceLock::new();
    VERSIONS.get_or_init(|| {
        Assets::iter()
            .chain(OWNED_ELSEWHERE.map(|(name, _)| Cow::Borrowed(name)))
            .filter_map(|path| {
                let (_, hash) = file(&path)?;
                let short: String = hash[..6].iter().map(|b| format!("{b:02x}")).collect();
                Some((path.into_owned(), short))
            })
            .collect()
    })
}

/// The URL of an embedded file with its version, e.g. `/assets/js/overview.js?v=…`.
/// A path that is not embedded still gets a URL (it answers 404), so a typo shows in tests.
pub fn url(path: &str) -> String {
    match versions().get(path) {
        Some(v) => format!("/assets/{path}?v={v}"),
        None => format!("/assets/{path}"),
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "md" => "text/markdown; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[derive(Deserialize)]
pub struct Version {
    pub v: Option<String>,
}

/// The answer to `GET /assets/{path}?v=`: the file with its caching headers, or `None` when
/// there is no such asset (the route answers the 404 page).
pub fn answer(path: &str, version: Option<&str>, headers: &HeaderMap) -> Option<Response> {
    let ((data, _), current) = (file(path)?, versions().get(path)?);
    let etag = format!("\"{current}\"");
    let cache = if version == Some(current.as_str()) {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = match data {
            Cow::Borrowed(data) => Body::from(Bytes::from_static(data)),
            Cow::Owned(data) => Body::from(data),
        };
        ([(header::CONTENT_TYPE, content_type(path))], body).into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(tag) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, tag);
    }
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_asset_is_embedded_with_a_version() {
        for path in [
            "portal.css",
            "favicon.svg",
            "country-codes.json",
            "js/common.js",
            "js/overview.js",
            "js/risk.js",
            "vendor/echarts.min.js",
            "vendor/topojson-client.min.js",
            "vendor/countries-110m.json",
        ] {
            assert!(url(path).contains("?v="), "{path} is not embedded");
        }
    }
}
