//! Cursor pagination of the API's lists. A list answers at most `limit` items (default
//! [`DEFAULT_LIMIT`], at most [`MAX_LIMIT`]); when more follow, the response carries
//! `Link: <…&cursor=…>; rel="next"` (RFC 8288) and `X-Next-Cursor`, and always `X-Total-Count`.
//! The body stays a plain JSON array, as `greenwatch … --json` prints it.
//!
//! A cursor is opaque to clients; it holds the data generation it was issued at, so a cursor
//! used after the data changed is refused (400) rather than silently skipping or repeating
//! items.

use crate::error::PortalError;
use axum::http::{header, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

pub const DEFAULT_LIMIT: usize = 1000;
pub const MAX_LIMIT: usize = 10_000;

/// `?limit=&cursor=`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PageQuery {
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// Where a page starts, at which data generation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Cursor {
    generation: u64,
    offset: usize,
}

impl Cursor {
    fn encode(self) -> String {
        format!("g{:x}o{:x}", self.generation, self.offset)
    }

    fn decode(text: &str) -> Option<Cursor> {
        let (generation, offset) = text.strip_prefix('g')?.split_once('o')?;
        Some(Cursor {
            generation: u64::from_str_radix(generation, 16).ok()?,
            offset: usize::from_str_radix(offset, 16).ok()?,
        })
    }
}

impl PageQuery {
    /// Whether the whole list is asked for in one answer (no cursor, default limit) and
    /// `total` items fit in it: then a cached document can be sent as it is.
    pub fn is_whole(&self, total: usize) -> bool {
        self.cursor.is_none() && self.limit.is_none() && total <= DEFAULT_LIMIT
    }

    /// The (offset, limit) of the page asked for, at data generation `generation`.
    pub fn bounds(&self, generation: u64) -> Result<(usize, usize), PortalError> {
        let asked = self.asked()?;
        asked.check_generation(generation)?;
        Ok((asked.offset, asked.limit))
    }

    /// The page asked for, its cursor's generation not yet checked: for a list cut by the
    /// store, whose generation is known only with the page ([`Asked::check_generation`]).
    pub fn asked(&self) -> Result<Asked, PortalError> {
        let limit = match self.limit.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_LIMIT,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(PortalError::BadRequest(format!(
                        "limit {text:?}: expected 1 to {MAX_LIMIT}"
                    )))
                }
            },
        };
        let cursor = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(text) => Some(Cursor::decode(text).ok_or_else(|| {
                PortalError::BadRequest(format!("cursor {text:?} is not one this API issued"))
            })?),
        };
        Ok(Asked {
            offset: cursor.map_or(0, |c| c.offset),
            limit,
            generation: cursor.map(|c| c.generation),
        })
    }
}

/// A page asked for: where it starts, how long it is, and the generation its cursor was
/// issued at (none for the first page).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Asked {
    pub offset: usize,
    pub limit: usize,
    generation: Option<u64>,
}

impl Asked {
    /// A 400 when the cursor was issued at another generation than `generation`.
    pub fn check_generation(&self, generation: u64) -> Result<(), PortalError> {
        match self.generation {
            Some(issued) if issued != generation => Err(PortalError::BadRequest(
                "the data changed since this cursor was issued; start again without a cursor"
                    .into(),
            )),
            _ => Ok(()),
        }
    }
}

/// The page of `items` asked for by `query` as a JSON array response, with the link to the
/// next page when there is one. `uri` is the request's, for the link.
pub fn page<T: Serialize>(
    items: &[T],
    query: &PageQuery,
    generation: u64,
    uri: &Uri,
) -> Result<Response, PortalError> {
    let (offset, limit) = query.bounds(generation)?;
    let start = offset.min(items.len());
    let end = start.saturating_add(limit).min(items.len());
    cut_page(
        &items[start..end],
        start,
        items.len(),
        limit,
        generation,
        uri,
    )
}

/// A page the store already cut: `items` start at `offset` of `total` matching items, at
/// most `limit` of them ([`PageQuery::bounds`]).
pub fn cut_page<T: Serialize>(
    items: &[T],
    offset: usize,
    total: usize,
    limit: usize,
    generation: u64,
    uri: &Uri,
) -> Result<Response, PortalError> {
    let end = offset + items.len();
    let body = serde_json::to_vec(items)
        .map_err(|e| PortalError::Internal(format!("serialising a page: {e}")))?;
    let mut response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert("x-total-count", HeaderValue::from(total));
    if end < total {
        let next = Cursor {
            generation,
            offset: end,
        }
        .encode();
        let kept: Vec<&str> = uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("cursor=") && !p.starts_with("limit="))
            .collect();
        let mut query: Vec<String> = kept.iter().map(|p| p.to_string()).collect();
        query.push(format!("limit={limit}"));
        query.push(format!("cursor={next}"));
        let link = format!("<{}?{}>; rel=\"next\"", uri.path(), query.join("&"));
        if let Ok(value) = HeaderValue::from_str(&link) {
            headers.insert(header::LINK, value);
        }
        headers.insert(
            "x-next-cursor",
            HeaderValue::from_str(&next).expect("a cursor is ASCII"),
        );
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(limit: Option<&str>, cursor: Option<&str>) -> PageQuery {
        PageQuery {
            limit: limit.map(str::to_string),
            cursor: cursor.map(str::to_string),
        }
    }

    async fn body(response: Response) -> Vec<u32> {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn following_the_links_visits_every_item_once() {
        let items: Vec<u32> = (0..25).collect();
        let mut uri: Uri = "/api/v1/metrics?risk=x&limit=10".parse().unwrap();
        let mut seen = Vec::new();
        loop {
            let q: PageQuery = serde_urlencoded_query(&uri);
            let response = page(&items, &q, 7, &uri).unwrap();
            let total = response.headers()["x-total-count"]
                .to_str()
                .unwrap()
                .to_string();
            assert_eq!(total, "25");
            let link = response
                .headers()
                .get(header::LINK)
                .map(|l| l.to_str().unwrap().to_string());
            seen.extend(body(response).await);
            let Some(link) = link else { break };
            let next = link.trim_start_matches('<').split('>').next().unwrap();
            assert!(
                next.starts_with("/api/v1/metrics?risk=x&limit=10&cursor="),
                "{next}"
            );
            uri = next.parse().unwrap();
        }
        assert_eq!(seen, items);
    }

    /// The page query of a URI, as axum's `Query` extracts it.
    fn serde_urlencoded_query(uri: &Uri) -> PageQuery {
        axum::extract::Query::<PageQuery>::try_from_uri(uri)
            .unwrap()
            .0
    }

    #[test]
    fn bad_limits_foreign_cursors_and_stale_cursors_are_refused() {
        for (limit, cursor) in [
            (Some("0"), None),
            (Some("10001"), None),
            (Some("ten"), None),
            (None, Some("abc")),
            (None, Some("g7oZZ")),
        ] {
            assert!(
                query(limit, cursor).bounds(7).is_err(),
                "{limit:?} {cursor:?}"
            );
        }
        let issued = Cursor {
            generation: 7,
            offset: 10,
        }
        .encode();
        assert_eq!(
            query(None, Some(&issued)).bounds(7).unwrap(),
            (10, DEFAULT_LIMIT)
        );
        let stale = query(None, Some(&issued))
            .bounds(8)
            .unwrap_err()
            .to_string();
        assert!(stale.contains("data changed"), "{stale}");
    }

    #[test]
    fn small_whole_lists_may_be_sent_from_the_cache() {
        assert!(query(None, None).is_whole(DEFAULT_LIMIT));
        assert!(!query(None, None).is_whole(DEFAULT_LIMIT + 1));
        assert!(!query(Some("5"), None).is_whole(3));
    }
}
