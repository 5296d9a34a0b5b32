//! Early-warning alerts: `/alerts` (the list, and for analysts and admins a form to write one
//! by hand), `/alerts/{id}` (one alert: what was observed against what was expected, who
//! carried it, its chart), `/alerts.atom` and the API behind them.
//!
//! Every read goes through `data::alerts` with the request's viewer; an alert the viewer may
//! not see answers exactly like one that does not exist. Alerts are read from the store on
//! every request (see `data/alerts.rs` for why not through the cache).

use super::account::{now, refused, shown, when, Member, Outcome};
use crate::auth::SessionCsrf;
use crate::data::alerts as data;
use crate::error::{ApiError, PageError, PortalError};
use crate::paging::{self, PageQuery};
use crate::views::{self, json_island, render, Layout, Nav};
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form, Json};
use greenwatch_alert::{atom_feed, FeedInfo};
use greenwatch_model::access::{Label, Tlp, Viewer};
use greenwatch_model::account::AuditEntry;
use greenwatch_model::alert::{Alert, Contributor, NewAlert, Severity};
use greenwatch_store::AlertStore;

/// Alerts in the overview's "latest alerts" card.
pub const LATEST_ON_OVERVIEW: usize = 5;
/// Alerts listed on `/alerts` (the API pages through all of them).
const LIST_ROWS: usize = 200;
/// Longest title and explanation of a hand-written alert, in characters.
const MAX_TITLE: usize = 200;
const MAX_SUMMARY: usize = 10_000;

/// An alert as a row of a list.
pub struct AlertRow {
    pub id: i64,
    pub severity: Severity,
    pub title: String,
    pub tlp: String,
    pub when: String,
    pub affected: String,
}

impl AlertRow {
    fn of(alert: &Alert) -> AlertRow {
        let a = &alert.alert;
        AlertRow {
            id: alert.id,
            severity: a.severity,
            title: a.title.clone(),
            tlp: a.label.tlp.to_string(),
            when: when(a.first_seen),
            affected: a.affected.join(", "),
        }
    }
}

/// The newest alerts `viewer` may see, as rows of the overview's card.
pub(super) async fn latest(
    state: &AppState,
    viewer: &Viewer,
) -> Result<Vec<AlertRow>, PortalError> {
    let viewer = viewer.clone();
    let alerts = state
        .read(move |s| data::alerts(s, &viewer, LATEST_ON_OVERVIEW))
        .await?;
    Ok(alerts.iter().map(AlertRow::of).collect())
}

/// An alert id from the path; anything that is not one is simply not found.
async fn visible_alert(state: &AppState, viewer: &Viewer, id: &str) -> Result<Alert, PortalError> {
    let missing = || PortalError::NotFound("There is no such alert.".to_string());
    let number: i64 = id.parse().map_err(|_| missing())?;
    let viewer = viewer.clone();
    state
        .read(move |s| data::alert(s, &viewer, number))
        .await?
        .ok_or_else(missing)
}

// ---------------------------------------------------------------------------------------
// Links from what an alert names to the portal's pages.
// ---------------------------------------------------------------------------------------

/// `23/tcp` → `/ports/tcp/23`.
fn port_link(text: &str) -> Option<String> {
    let (port, protocol) = text.split_once('/')?;
    port.parse::<u16>().ok()?;
    matches!(protocol, "tcp" | "udp").then(|| format!("/ports/{protocol}/{port}"))
}

/// `AS64500` → `/asns/64500`.
fn as_link(text: &str) -> Option<String> {
    let asn: u32 = text.strip_prefix("AS")?.parse().ok()?;
    Some(format!("/asns/{asn}"))
}

/// `CN` → `/countries/CN`.
fn country_link(text: &str) -> Option<String> {
    (text.len() == 2 && text.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| format!("/countries/{}", text.to_ascii_uppercase()))
}

/// The page of an affected series as the detector names it (`port 23/tcp packets`,
/// `country CN sources`, `AS64500 packets`); fingerprints have no page.
fn series_link(series: &str) -> Option<String> {
    let mut words = series.split_whitespace();
    match words.next()? {
        "port" => port_link(words.next()?),
        "country" => country_link(words.next()?),
        other => as_link(other),
    }
}

// ---------------------------------------------------------------------------------------
// The list page and the hand-written alert form.
// ---------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    layout: Layout,
    alerts: Vec<AlertRow>,
    /// The session's CSRF token when the visitor may write alerts (analysts and admins).
    csrf: Option<String>,
    org: String,
    severities: [Severity; 4],
    tlps: Vec<String>,
    notice: Option<String>,
    error: Option<String>,
}

async fn alerts_page(
    state: &AppState,
    visitor: &Visitor,
    member: Option<Member>,
    outcome: Outcome,
) -> Result<Response, PageError> {
    let viewer = visitor.viewer.clone();
    let alerts = state
        .read(move |s| data::alerts(s, &viewer, LIST_ROWS))
        .await?;
    let writer = member.filter(|m| m.role.may_contribute());
    let status = outcome.status();
    let page = AlertsPage {
        layout: Layout::new("Alerts", Some(Nav::Alerts), Some(visitor)),
        alerts: alerts.iter().map(AlertRow::of).collect(),
        org: writer.as_ref().map(|m| m.org.clone()).unwrap_or_default(),
        csrf: writer.map(|m| m.csrf),
        severities: Severity::ALL,
        tlps: Tlp::ALL.iter().map(|t| t.as_str().to_string()).collect(),
        notice: outcome.notice,
        error: outcome.error,
    };
    Ok((status, render(&page)).into_response())
}

/// `GET /alerts`.
pub async fn index(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
) -> Result<Response, PageError> {
    let member = Member::of(visitor.clone(), csrf);
    alerts_page(&state, &visitor, member, Outcome::default()).await
}

#[derive(serde::Deserialize)]
pub struct AlertForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    tlp: String,
}

impl AlertForm {
    /// The alert the form describes, written by `member` for their organisation.
    fn to_alert(
        &self,
        member: &Member,
        at: greenwatch_model::Timestamp,
    ) -> Result<NewAlert, PortalError> {
        let title = self.title.trim();
        let summary = self.summary.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE {
            return Err(PortalError::BadRequest(format!(
                "An alert needs a title of 1 to {MAX_TITLE} characters."
            )));
        }
        if summary.is_empty() || summary.chars().count() > MAX_SUMMARY {
            return Err(PortalError::BadRequest(format!(
                "An alert needs an explanation of 1 to {MAX_SUMMARY} characters."
            )));
        }
        let severity: Severity = self.severity.parse().map_err(PortalError::BadRequest)?;
        let tlp: Tlp = self.tlp.parse().map_err(PortalError::BadRequest)?;
        Ok(NewAlert {
            key: None,
            severity,
            title: title.to_string(),
            summary: summary.to_string(),
            affected: Vec::new(),
            first_seen: at,
            last_seen: at,
            author: member.login.clone(),
            label: Label {
                owner: member.org.clone(),
                tlp,
            },
            evidence: None,
            created_at: at,
        })
    }
}

/// `POST /alerts`: an analyst or admin writes an alert for their organisation; it is stored
/// and audited, and the browser goes to its page.
pub async fn create(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    Form(form): Form<AlertForm>,
) -> Result<Response, PageError> {
    let member = Member::posting(visitor.clone(), csrf, &form.csrf)?;
    if !member.role.may_contribute() {
        return Err(PortalError::Forbidden(format!(
            "Writing alerts needs the analyst or admin role; {} is a {}.",
            member.login,
            super::account::role_name(member.role)
        ))
        .into());
    }
    let at = now();
    let alert = match form.to_alert(&member, at) {
        Ok(alert) => alert,
        Err(e) => return alerts_page(&state, &visitor, Some(member), shown(Err(e))?).await,
    };
    let id = state
        .write(move |store| {
            let audit = AuditEntry {
                at,
                actor: alert.author.clone(),
                action: "alert.create".into(),
                target: String::new(),
                detail: format!(
                    "{} {} {}: {}",
                    alert.severity, alert.label.tlp, alert.label.owner, alert.title
                ),
            };
            store.write_alert(&alert, &audit).map_err(refused)
        })
        .await?;
    Ok(Redirect::to(&format!("/alerts/{id}")).into_response())
}

// ---------------------------------------------------------------------------------------
// One alert.
// ---------------------------------------------------------------------------------------

struct SeriesView {
    series: String,
    link: Option<String>,
    kind: String,
    observed: String,
    expected: String,
    peak: String,
    interval: String,
    /// The element its chart is drawn in.
    chart_id: String,
}

struct ContributorView {
    name: String,
    link: Option<String>,
    packets: String,
    share: String,
    first_seen: String,
}

struct ContributorGroup {
    title: &'static str,
    rows: Vec<ContributorView>,
}

#[derive(Template)]
#[template(path = "alert.html")]
struct AlertPage {
    layout: Layout,
    alert: AlertRow,
    summary: String,
    author: String,
    owner: String,
    last_seen: String,
    created: String,
    affected: Vec<(String, Option<String>)>,
    series: Vec<SeriesView>,
    packets: Option<String>,
    groups: Vec<ContributorGroup>,
    island: String,
}

fn contributors(
    title: &'static str,
    list: &[Contributor],
    link: fn(&str) -> Option<String>,
) -> ContributorGroup {
    ContributorGroup {
        title,
        rows: list
            .iter()
            .map(|c| ContributorView {
                name: c.name.clone(),
                link: link(&c.name),
                packets: views::int(c.packets),
                share: format!("{:.1} %", c.share * 100.0),
                first_seen: c.first_seen.map_or_else(String::new, when),
            })
            .collect(),
    }
}

fn alert_page(visitor: &Visitor, alert: &Alert) -> AlertPage {
    let a = &alert.alert;
    let evidence = a.evidence.clone().unwrap_or_default();
    let series = evidence
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| SeriesView {
            series: s.series.clone(),
            link: series_link(&s.series),
            kind: s.kind.clone(),
            observed: format!("{:.0}", s.observed),
            expected: format!("{:.0}", s.expected),
            peak: format!("{:.0}", s.peak_observed),
            interval: format!("{:.0} – {:.0}", s.peak_lower, s.peak_upper),
            chart_id: format!("chart-series-{i}"),
        })
        .collect();
    let x = &evidence.explanation;
    let no_link = |_: &str| None;
    let groups = [
        contributors("Sources", &x.sources, no_link),
        contributors("Countries", &x.countries, country_link),
        contributors("Networks (AS)", &x.asns, as_link),
        contributors("Ports", &x.ports, port_link),
        contributors("Fingerprints", &x.fingerprints, no_link),
    ]
    .into_iter()
    .filter(|g| !g.rows.is_empty())
    .collect();
    AlertPage {
        layout: Layout::new(
            format!("Alert {}", alert.id),
            Some(Nav::Alerts),
            Some(visitor),
        ),
        alert: AlertRow::of(alert),
        summary: a.summary.clone(),
        author: a.author.clone(),
        owner: a.label.owner.clone(),
        last_seen: when(a.last_seen),
        created: when(a.created_at),
        affected: a
            .affected
            .iter()
            .map(|s| (s.clone(), series_link(s)))
            .collect(),
        series,
        packets: (x.packets > 0).then(|| views::int(x.packets)),
        groups,
        island: json_island(&evidence.series),
    }
}

/// `GET /alerts/{id}`.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let alert = visible_alert(&state, &visitor.viewer, &id).await?;
    Ok(render(&alert_page(&visitor, &alert)))
}

// ---------------------------------------------------------------------------------------
// The API and the feed.
// ---------------------------------------------------------------------------------------

/// `GET /api/v1/alerts?limit=&cursor=`: every alert the caller may see, newest first.
pub async fn api_list(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<PageQuery>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let viewer = visitor.viewer.clone();
    let alerts = state
        .read(move |s| data::alerts(s, &viewer, usize::MAX))
        .await?;
    Ok(paging::page(
        &alerts,
        &query,
        data::list_generation(&alerts),
        &uri,
    )?)
}

/// `GET /api/v1/alerts/{id}`.
pub async fn api_one(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    Ok(Json(visible_alert(&state, &visitor.viewer, &id).await?))
}

/// Alerts in the feed.
const FEED_ENTRIES: usize = 100;

/// `GET /alerts.atom`: the public gets TLP:CLEAR alerts; an API token (feed readers send
/// `Authorization: Bearer`) gets what its organisation may see.
pub async fn atom(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    let viewer = visitor.viewer.clone();
    let alerts = state
        .read(move |s| data::alerts(s, &viewer, FEED_ENTRIES))
        .await?;
    // Links come from the configured address, never from the Host header: a forged Host
    // would otherwise put an attacker's address into every reader's feed.
    let info = FeedInfo {
        base_url: state.public_url(),
        path: "/alerts.atom",
        title: "Greenwatch alerts",
        generated: now(),
    };
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        atom_feed(&info, &alerts),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_series_and_contributors_link_to_their_pages() {
        assert_eq!(
            series_link("port 5555/tcp packets").as_deref(),
            Some("/ports/tcp/5555")
        );
        assert_eq!(
            series_link("country cn sources").as_deref(),
            Some("/countries/CN")
        );
        assert_eq!(
            series_link("AS64500 packets").as_deref(),
            Some("/asns/64500")
        );
        assert_eq!(series_link("mirai scanners packets"), None);
        assert_eq!(series_link("port 99999/tcp packets"), None);
        assert_eq!(series_link("country unknown packets"), None);
        assert_eq!(port_link("53/udp").as_deref(), Some("/ports/udp/53"));
        assert_eq!(as_link("ASx"), None);
    }
}
