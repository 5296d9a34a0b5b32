//! The pages around the data: downloads, the method, and the pages still to come.

use crate::data::MIN_HOSTS;
use crate::error::PageError;
use crate::views::{render, Layout, MethodPage, Nav};
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use greenwatch_model::PeriodKind;

pub struct DownloadRisk {
    pub slug: String,
    pub coverage: String,
}

#[derive(Template)]
#[template(path = "downloads.html")]
pub struct DownloadsPage {
    pub layout: Layout,
    pub min_hosts: u64,
    pub kinds: Vec<&'static str>,
    pub risks: Vec<DownloadRisk>,
    pub overview_parts: Vec<(&'static str, &'static str)>,
}

/// `GET /downloads`.
pub async fn downloads(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let layout = Layout::new("Downloads", Some(Nav::Downloads), Some(&visitor));
    let risks = state.reads(&visitor.viewer).await?.risks().await?;
    let risks = risks
        .iter()
        .filter_map(|r| {
            Some(DownloadRisk {
                coverage: format!("{} to {}", r.first_day?, r.last_day?),
                slug: r.slug.clone(),
            })
        })
        .collect();
    Ok(render(&DownloadsPage {
        layout,
        min_hosts: MIN_HOSTS,
        kinds: PeriodKind::ALL.map(|k| k.as_str()).to_vec(),
        risks,
        overview_parts: vec![
            ("series", "packets per hour by class"),
            ("ports", "top ports"),
            ("countries", "source countries"),
            ("heatmap", "ports by hour of day"),
            ("dos", "DoS attacks"),
        ],
    }))
}

/// `GET /method`: the metrics method shipped with every export.
pub async fn method(visitor: Visitor) -> Response {
    render(&MethodPage {
        layout: Layout::new("Method", Some(Nav::Method), Some(&visitor)),
        method: greenwatch_metrics::export::METHOD,
    })
}
