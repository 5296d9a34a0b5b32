//! `/reports`: the public reports the schedule (`jobs/report_schedule.rs`) has written,
//! listed by kind with their totals, and each report's files served from its directory.

use crate::error::{PageError, PortalError};
use crate::jobs::report_schedule::{reports_dir, KINDS};
use crate::views::{self, render, Layout, Nav};
use crate::visitor::Visitor;
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use greenwatch_report::{Report, ReportFiles, ReportKind};

/// A report label as written by the schedule: `2026-W41`, `2026-Q4`, `2026-10`.
fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 10
        && label.starts_with(|c: char| c.is_ascii_digit())
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// One finished report in the `/reports` list.
struct ReportRow {
    label: String,
    days: String,
    packets: String,
    sources: String,
    change: String,
}

/// The reports of one kind, newest first.
struct ReportGroup {
    title: &'static str,
    noun: &'static str,
    rows: Vec<ReportRow>,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    layout: Layout,
    groups: Vec<ReportGroup>,
}

/// The reports written so far, by kind, newest first; a directory whose JSON cannot be read
/// is left out of the list (and logged) rather than failing the page.
fn written_reports(root: &std::path::Path) -> Vec<ReportGroup> {
    let mut reports: Vec<Report> = match std::fs::read_dir(root) {
        Ok(entries) => entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|l| is_label(l))
            .filter_map(|l| {
                let path = root.join(&l).join(ReportFiles::JSON);
                let parsed = std::fs::read(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|b| serde_json::from_slice::<Report>(&b).map_err(|e| e.to_string()));
                parsed
                    .inspect_err(|e| tracing::warn!("report {}: {e}", path.display()))
                    .ok()
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    reports.sort_by_key(|r| std::cmp::Reverse(r.first_day));
    KINDS
        .into_iter()
        .map(|kind| ReportGroup {
            title: match kind {
                ReportKind::Weekly => "Weekly reports",
                ReportKind::Quarterly => "Quarterly reports",
                ReportKind::Observation => "Monthly observation reports",
            },
            noun: match kind {
                ReportKind::Weekly => "week",
                ReportKind::Quarterly => "quarter",
                ReportKind::Observation => "month",
            },
            rows: reports
                .iter()
                .filter(|r| r.kind == kind)
                .map(|r| ReportRow {
                    label: r.period.clone(),
                    days: format!(
                        "{} to {}",
                        r.first_day,
                        r.end_day.pred_opt().unwrap_or(r.end_day)
                    ),
                    packets: views::int(r.totals.packets),
                    sources: views::int(r.totals.sources),
                    change: views::change(r.totals.change),
                })
                .collect(),
        })
        .collect()
}

/// `/reports`: the public reports written so far, by kind, newest first.
pub async fn index(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    let root = reports_dir(&state);
    let groups = tokio::task::spawn_blocking(move || written_reports(&root))
        .await
        .map_err(|e| PortalError::Internal(format!("listing reports: {e}")))?;
    Ok(render(&ReportsPage {
        layout: Layout::new("Reports", Some(Nav::Reports), Some(&visitor)),
        groups,
    }))
}

/// `/reports/{label}/{file}`: one file of a public report.
pub async fn file(
    State(state): State<AppState>,
    Path((label, name)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let not_found = || PortalError::NotFound(format!("no report file {label}/{name}"));
    if !is_label(&label) || !ReportFiles::ALL.contains(&name.as_str()) {
        return Err(not_found().into());
    }
    let path = reports_dir(&state).join(&label).join(&name);
    let bytes = tokio::fs::read(&path).await.map_err(|_| not_found())?;
    let content_type = match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "text/markdown; charset=utf-8",
    };
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_paths_accept_labels_only() {
        assert!(is_label("2026-W41") && is_label("2026-Q4") && is_label("2026-10"));
        assert!(!is_label("..") && !is_label(".2026-Q4.partial") && !is_label("a/b"));
    }
}
