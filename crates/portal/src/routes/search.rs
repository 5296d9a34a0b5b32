//! The search box of every page's header: `GET /search?q=` lands on the one page that knows
//! what was typed (303) or lists the candidates; `GET /api/v1/search?q=` answers the matches
//! as JSON. What a query means is `data::search`.

use crate::error::{ApiError, PageError};
use crate::views::{render, Layout};
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use greenwatch_analytics::search::{search, Match, SearchResult};

#[derive(serde::Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    layout: Layout,
    query: String,
    /// The same search in the API.
    api: String,
    matches: Vec<Match>,
    truncated: bool,
}

/// `GET /search?q=`.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let SearchResult {
        query,
        mut matches,
        truncated,
    } = search(&state.netdb(), &query.q)?;
    if matches.len() == 1 && !truncated {
        let only = matches.remove(0);
        return Ok(Redirect::to(&only.url).into_response());
    }
    let page = SearchPage {
        layout: Layout::new(format!("Search: {query}"), None, Some(&visitor)),
        api: format!(
            "/api/v1/search?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("q", &query)
                .finish()
        ),
        query,
        matches,
        truncated,
    };
    Ok(render(&page))
}

/// `GET /api/v1/search?q=`.
pub async fn api(
    State(state): State<AppState>,
    Query(query): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    Ok(Json(search(&state.netdb(), &query.q)?).into_response())
}
