//! Risk metrics: the list of risks (`/risks`), one risk's world map and country ranking for a
//! period (`/risks/{slug}`), and the metrics API (`/api/v1/metrics`, the rows of
//! `greenwatch metrics --json`; `/api/v1/metrics.csv`, the open-data CSV columns).

use super::overview::csv_response;
use crate::error::{ApiError, PageError, PortalError};
use crate::paging::{self, PageQuery};
use crate::views::{self, json_island, render, Layout, Nav};
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::Response;
use greenwatch_analytics::countries;
use greenwatch_analytics::{self as analytics, MetricsQuery, RiskSummary};
use greenwatch_metrics::{export::write_csv, GroupBy, MetricRow, MetricTable};
use greenwatch_model::{Period, PeriodKind};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Clone, Debug, Default, Deserialize)]
pub struct MetricsParams {
    risk: Option<String>,
    by: Option<String>,
    period: Option<String>,
    at: Option<String>,
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl MetricsParams {
    /// The query: `risk` defaults to `all`, `by` to country, `period` to month, `at` to the
    /// period of the latest data.
    fn query(&self, risk: Option<&str>) -> Result<MetricsQuery, PortalError> {
        let by = match non_empty(&self.by) {
            None => GroupBy::Country,
            Some(by) => by.parse().map_err(PortalError::BadRequest)?,
        };
        let period = match non_empty(&self.period) {
            None => PeriodKind::Month,
            Some(kind) => kind
                .parse()
                .map_err(|e| PortalError::BadRequest(format!("period: {e}")))?,
        };
        Ok(MetricsQuery {
            risk: risk.or(non_empty(&self.risk)).unwrap_or("all").to_string(),
            by,
            period,
            at: non_empty(&self.at).map(str::to_string),
        })
    }
}

async fn tables(
    state: &AppState,
    visitor: Visitor,
    query: MetricsQuery,
) -> Result<Arc<Vec<MetricTable>>, PortalError> {
    state
        .reads(&visitor.viewer)
        .await?
        .metric_tables(query)
        .await
}

/// `GET /api/v1/metrics?risk=&by=&period=&at=&limit=&cursor=`: publishable rows, as
/// `greenwatch metrics --json`, paginated.
pub async fn api(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(params): Query<MetricsParams>,
    Query(paging): Query<PageQuery>,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, ApiError> {
    let query = params.query(None)?;
    let reads = state.reads(&visitor.viewer).await?;
    let tables = reads.metric_tables(query.clone()).await?;
    let rows = analytics::publishable(&tables);
    if paging.is_whole(rows.len()) {
        return Ok(reads.metric_rows_json(query).await?.response());
    }
    Ok(paging::page(&rows, &paging, reads.generation(), &uri)?)
}

/// `GET /api/v1/metrics.csv?risk=&by=&period=&at=`: the same rows in the open-data columns.
pub async fn csv(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(params): Query<MetricsParams>,
) -> Result<Response, ApiError> {
    let query = params.query(None)?;
    let by = query.by;
    let name = format!(
        "greenwatch-{}-{}-{}{}.csv",
        query.risk,
        by.as_str(),
        query.period,
        query
            .at
            .as_deref()
            .map(|a| format!("-{a}"))
            .unwrap_or_default()
    );
    let tables = tables(&state, visitor, query).await?;
    let mut body = Vec::new();
    write_csv(&analytics::publishable(&tables), by, &mut body)
        .map_err(|e| PortalError::Internal(format!("writing CSV: {e}")))?;
    Ok(csv_response(&name, body))
}

/// `GET /api/v1/risks`: the risk catalogue with the days each risk has data for.
pub async fn api_list(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, ApiError> {
    let json = state.reads(&visitor.viewer).await?.risks_json().await?;
    Ok(json.response())
}

// ---------------------------------------------------------------------------------------
// Pages.
// ---------------------------------------------------------------------------------------

pub struct RiskItem {
    pub slug: String,
    pub title: String,
    pub amplification: String,
    pub coverage: String,
    pub has_data: bool,
}

#[derive(Template)]
#[template(path = "risks.html")]
pub struct RisksPage {
    pub layout: Layout,
    pub risks: Vec<RiskItem>,
}

/// `GET /risks`: every risk of the catalogue.
pub async fn index(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    let layout = Layout::new("Risks", Some(Nav::Risks), Some(&visitor));
    let risks = state.reads(&visitor.viewer).await?.risks().await?;
    let risks = risks
        .iter()
        .map(|r| RiskItem {
            has_data: r.last_day.is_some(),
            coverage: match (r.first_day, r.last_day) {
                (Some(first), Some(last)) => format!("{first} to {last}"),
                _ => "no data yet".into(),
            },
            amplification: r
                .amplification
                .map_or_else(String::new, |a| format!("×{a}")),
            slug: r.slug.clone(),
            title: r.title.clone(),
        })
        .collect();
    Ok(render(&RisksPage { layout, risks }))
}

pub struct RowView {
    pub rank: String,
    pub code: String,
    pub name: &'static str,
    pub hosts: String,
    pub ipv6: String,
    pub share: String,
    pub density: String,
    pub ddos: String,
    pub trend: String,
    pub change: String,
}

pub struct KindOption {
    pub value: &'static str,
    pub selected: bool,
}

/// The map's data: hosts, share and density per country.
#[derive(Serialize)]
struct MapPoint<'a> {
    country: &'a str,
    name: &'static str,
    hosts: u64,
    share: f64,
    density: Option<f64>,
}

/// Hosts per period of the top countries of the page's period.
#[derive(Serialize, Default)]
struct Trend {
    periods: Vec<String>,
    series: Vec<TrendSeries>,
}

#[derive(Serialize)]
struct TrendSeries {
    country: String,
    name: &'static str,
    hosts: Vec<u64>,
}

/// Periods the trend chart spans, the page's included.
const TREND_PERIODS: usize = 12;
/// Countries the trend chart follows.
const TREND_COUNTRIES: usize = 5;

/// The trend of the top countries of `tables[last]` over `tables` (one table per period,
/// oldest first).
fn trend(tables: &[Arc<Vec<MetricTable>>]) -> Trend {
    let Some(current) = tables.last().and_then(|t| t.first()) else {
        return Trend::default();
    };
    let top: Vec<&str> = current
        .rows
        .iter()
        .filter(|r| !r.is_world() && r.rank.is_some())
        .filter_map(|r| r.country.as_deref())
        .take(TREND_COUNTRIES)
        .collect();
    let periods: Vec<&MetricTable> = tables.iter().filter_map(|t| t.first()).collect();
    Trend {
        periods: periods.iter().map(|t| t.period.clone()).collect(),
        series: top
            .iter()
            .map(|&code| TrendSeries {
                country: code.to_string(),
                name: countries::name_of(code),
                hosts: periods
                    .iter()
                    .map(|t| {
                        t.rows
                            .iter()
                            .find(|r| r.country.as_deref() == Some(code))
                            .map_or(0, |r| r.hosts)
                    })
                    .collect(),
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "risk.html")]
pub struct RiskPage {
    pub layout: Layout,
    pub slug: String,
    pub title: String,
    pub amplification: String,
    pub kinds: Vec<KindOption>,
    pub period: String,
    pub period_range: String,
    /// Why the period is partial (empty when complete).
    pub partial: String,
    pub previous: String,
    pub next: String,
    pub base: String,
    pub address_space: String,
    pub world: Option<RowView>,
    pub rows: Vec<RowView>,
    /// `risk=…&by=country&period=…&at=…`, for the CSV and JSON links.
    pub query: String,
    pub island: String,
    /// Whether the trend chart has more than one period to show.
    pub has_trend: bool,
    pub trend_periods: usize,
    pub kind: &'static str,
}

/// `GET /risks/{slug}?period=month&at=`: the world map and country ranking of one risk.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(slug): Path<String>,
    Query(params): Query<MetricsParams>,
) -> Result<Response, PageError> {
    let mut query = params.query(Some(&slug))?;
    query.by = GroupBy::Country;
    let layout = Layout::new(slug.clone(), Some(Nav::Risks), Some(&visitor));
    let kind = query.period;
    let reads = state.reads(&visitor.viewer).await?;
    let summary = reads
        .risks()
        .await?
        .iter()
        .find(|r| r.slug == slug)
        .cloned()
        .ok_or_else(|| PortalError::NotFound(format!("No risk {slug:?}.")))?;
    let tables = reads.metric_tables(query.clone()).await?;
    // The same table for the periods before, oldest first, for the trend chart; only periods
    // the risk has data for.
    let mut history = Vec::new();
    if let Some(table) = tables.first() {
        let first_day = summary.first_day;
        let mut period = Period::parse(kind, &table.period).ok();
        for _ in 1..TREND_PERIODS {
            period = period
                .map(|p| p.previous())
                .filter(|p| first_day.is_some_and(|first| p.end() > first));
            let Some(p) = period else { break };
            let query = MetricsQuery {
                at: Some(p.label()),
                ..query.clone()
            };
            history.push(reads.metric_tables(query).await?);
        }
    }
    history.reverse();
    history.push(tables.clone());
    Ok(render(&risk_page(
        layout,
        summary,
        kind,
        tables.first(),
        trend(&history),
    )))
}

fn row_view(r: &MetricRow) -> RowView {
    let code = r.country.clone().unwrap_or_default();
    RowView {
        rank: r.rank.map_or_else(|| "-".into(), |x| x.to_string()),
        name: if r.is_world() {
            "World"
        } else {
            countries::name_of(&code)
        },
        code,
        hosts: views::int(r.hosts),
        ipv6: views::int(r.hosts_ipv6),
        share: format!("{:.2} %", r.share * 100.0),
        density: views::opt(r.density, 2),
        ddos: r
            .ddos_potential
            .map_or_else(|| "-".into(), |d| views::int(d.round() as u64)),
        trend: views::opt(r.trend, 1),
        change: views::change(r.change),
    }
}

fn risk_page(
    layout: Layout,
    risk: RiskSummary,
    kind: PeriodKind,
    table: Option<&MetricTable>,
    trend: Trend,
) -> RiskPage {
    let period = table.and_then(|t| Period::parse(kind, &t.period).ok());
    let link = |p: Period| format!("/risks/{}?period={kind}&at={}", risk.slug, p.label());
    let (world, rows): (Vec<&MetricRow>, Vec<&MetricRow>) = table
        .map(|t| t.rows.iter().partition(|r| r.is_world()))
        .unwrap_or_default();
    let map: Vec<MapPoint> = rows
        .iter()
        .filter_map(|r| {
            let code = r.country.as_deref()?;
            Some(MapPoint {
                country: code,
                name: countries::name_of(code),
                hosts: r.hosts,
                share: r.share,
                density: r.density,
            })
        })
        .collect();
    RiskPage {
        layout,
        title: risk.title,
        amplification: risk
            .amplification
            .map_or_else(String::new, |a| format!("{a}")),
        kinds: PeriodKind::ALL
            .into_iter()
            .map(|k| KindOption {
                value: k.as_str(),
                selected: k == kind,
            })
            .collect(),
        period: period.map_or_else(String::new, |p| p.label()),
        period_range: period.map_or_else(String::new, |p| {
            format!("{} to {}", p.start, p.end() - chrono::Days::new(1))
        }),
        partial: match world.first() {
            Some(w) if !w.complete => format!(
                "the data covers {} of its {} days (it starts inside it or the period is still \
                 running), so it is not compared with other periods.",
                w.days_with_data, w.days_in_period
            ),
            _ => String::new(),
        },
        previous: period.map_or_else(String::new, |p| link(p.previous())),
        next: period
            .filter(|p| risk.last_day.is_some_and(|last| p.end() <= last))
            .map_or_else(String::new, |p| link(p.next())),
        base: table.map_or_else(String::new, |t| t.base.clone()),
        address_space: table
            .and_then(|t| t.address_space_as_of)
            .map_or_else(String::new, |d| d.to_string()),
        world: world.first().map(|r| row_view(r)),
        rows: rows.iter().map(|r| row_view(r)).collect(),
        query: format!(
            "risk={}&by=country&period={kind}{}",
            risk.slug,
            period.map_or_else(String::new, |p| format!("&at={}", p.label()))
        ),
        has_trend: trend.periods.len() > 1 && !trend.series.is_empty(),
        trend_periods: trend.periods.len(),
        kind: kind.as_str(),
        island: json_island(&serde_json::json!({"map": map, "trend": trend})),
        slug: risk.slug,
    }
}
