//! Early-warning alerts: `/alerts` (the list, and for analysts and admins a form to write one
//! by hand), `/alerts/{id}` (one alert: what was observed against what was expected, who
//! carried it, its chart), `/alerts.atom` and the API behind them.
//!
//! Every read goes through `data::alerts` with the request's viewer; an alert the viewer may
//! not see answers exactly like one that does not exist. Alerts are read from the store on
//! every request (see `data/alerts.rs` for why not through the cache).

use super::account::when;
use super::forms::{anyone, contributor, post, refused, Member, Outcome};
use crate::auth::SessionCsrf;
use crate::error::{ApiError, PageError, PortalError};
use crate::marking::Marking;
use crate::paging::{self, PageQuery};
use crate::views::{self, json_island, render, Layout, Nav};
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form, Json};
use greenwatch_alert::{atom_feed, FeedInfo};
use greenwatch_analytics::alerts as data;
use greenwatch_model::access::{Label, Tlp, Viewer};
use greenwatch_model::account::AuditEntry;
use greenwatch_model::alert::{Alert, AlertQuery, AlertState, Contributor, NewAlert, Severity};

/// Alerts in the overview's "latest alerts" card.
pub const LATEST_ON_OVERVIEW: usize = 5;
/// Alerts per page of `/alerts`.
const LIST_ROWS: usize = 50;
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
    pub state: AlertState,
    /// `acknowledged by ana@cert-a, 2026-10-05 14:03 UTC`, when someone moved it.
    pub state_note: String,
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
            state: alert.triage.state,
            state_note: match (&alert.triage.state_by, alert.triage.state_at) {
                (Some(by), Some(at)) => format!("{} by {by}, {}", alert.triage.state, when(at)),
                _ => String::new(),
            },
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
        .analyse(move |s| data::alerts(s, &viewer, LATEST_ON_OVERVIEW))
        .await?;
    Ok(alerts.iter().map(AlertRow::of).collect())
}

/// `response` marked with the strictest label of the alerts it shows (`marking.rs`).
fn marked(mut response: Response, alerts: &[Alert]) -> Response {
    if let Some(marking) = Marking::strictest(alerts.iter().map(|a| &a.alert.label)) {
        response.extensions_mut().insert(marking);
    }
    response
}

/// An alert id from the path; anything that is not one is simply not found.
async fn visible_alert(state: &AppState, viewer: &Viewer, id: &str) -> Result<Alert, PortalError> {
    let missing = || PortalError::NotFound("There is no such alert.".to_string());
    let number: i64 = id.parse().map_err(|_| missing())?;
    let viewer = viewer.clone();
    state
        .analyse(move |s| data::alert(s, &viewer, number))
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

/// Alert kinds a list may be filtered by, as `NewAlert::kind` names them.
const KINDS: [&str; 4] = ["surge", "level-up", "level-down", "manual"];
/// Longest subject filter, in characters.
const MAX_SUBJECT: usize = 100;

/// `?severity=&kind=&subject=&state=` (and `page=` on `/alerts`, `limit=&cursor=` in the API):
/// which alerts a list shows. Empty fields filter nothing.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct AlertFilter {
    #[serde(default)]
    severity: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

impl AlertFilter {
    /// The store query for these filters (no page yet); a 400 naming the bad field.
    fn query(&self) -> Result<AlertQuery, PortalError> {
        let given = |v: &str| Some(v.trim()).filter(|v| !v.is_empty()).map(str::to_string);
        let kind = given(&self.kind);
        if let Some(kind) = kind.as_deref().filter(|k| !KINDS.contains(k)) {
            return Err(PortalError::BadRequest(format!(
                "kind {kind:?}: expected one of {}",
                KINDS.join(", ")
            )));
        }
        let subject = given(&self.subject);
        if subject
            .as_deref()
            .is_some_and(|s| s.chars().count() > MAX_SUBJECT)
        {
            return Err(PortalError::BadRequest(format!(
                "subject: at most {MAX_SUBJECT} characters"
            )));
        }
        Ok(AlertQuery {
            min_severity: given(&self.severity)
                .map(|s| s.parse())
                .transpose()
                .map_err(PortalError::BadRequest)?,
            kind,
            subject,
            state: given(&self.state)
                .map(|s| s.parse())
                .transpose()
                .map_err(PortalError::BadRequest)?,
            offset: 0,
            limit: 0,
        })
    }

    /// The filters as a query string (without the page), for links and for coming back.
    fn query_string(&self) -> String {
        [
            ("severity", &self.severity),
            ("kind", &self.kind),
            ("subject", &self.subject),
            ("state", &self.state),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", percent_encode(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub(super) fn percent_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    layout: Layout,
    alerts: Vec<AlertRow>,
    /// The session's CSRF token when the visitor may write and triage alerts (analysts and
    /// admins).
    csrf: Option<String>,
    org: String,
    severities: [Severity; 4],
    states: [AlertState; 3],
    kinds: [&'static str; 4],
    tlps: Vec<String>,
    notice: Option<String>,
    error: Option<String>,
    filter: AlertFilter,
    /// `Alerts 51–100 of 2,218`.
    showing: String,
    previous: Option<String>,
    next: Option<String>,
    /// The filters as a query string, for the triage form to come back to.
    back: String,
}

async fn alerts_page(
    state: &AppState,
    visitor: &Visitor,
    member: Option<Member>,
    filter: AlertFilter,
    outcome: Outcome,
) -> Result<Response, PageError> {
    let mut query = filter.query()?;
    let page: usize =
        match filter.page.trim() {
            "" => 1,
            text => text.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                PortalError::BadRequest(format!("page {text:?}: expected 1 or more"))
            })?,
        };
    query.offset = (page - 1).saturating_mul(LIST_ROWS);
    query.limit = LIST_ROWS;
    let viewer = visitor.viewer.clone();
    let found = state
        .analyse(move |s| data::alert_page(s, &viewer, &query))
        .await?;
    let writer = member.filter(|m| m.role.may_contribute());
    let status = outcome.status();
    let back = filter.query_string();
    let link = |page: usize| {
        let filters = if back.is_empty() {
            String::new()
        } else {
            format!("{back}&")
        };
        format!("/alerts?{filters}page={page}")
    };
    let first = (page - 1) * LIST_ROWS;
    let showing = if found.alerts.is_empty() {
        format!("No alerts of {} match.", views::int(found.total as u64))
    } else {
        format!(
            "Alerts {}–{} of {}",
            views::int(first as u64 + 1),
            views::int((first + found.alerts.len()) as u64),
            views::int(found.total as u64)
        )
    };
    let mut layout = Layout::new("Alerts", Some(Nav::Alerts), Some(visitor));
    layout.mark(Marking::strictest(
        found.alerts.iter().map(|a| &a.alert.label),
    ));
    let page = AlertsPage {
        layout,
        alerts: found.alerts.iter().map(AlertRow::of).collect(),
        org: writer.as_ref().map(|m| m.org.clone()).unwrap_or_default(),
        csrf: writer.map(|m| m.csrf),
        severities: Severity::ALL,
        states: AlertState::ALL,
        kinds: KINDS,
        tlps: Tlp::ALL.iter().map(|t| t.as_str().to_string()).collect(),
        notice: outcome.notice,
        error: outcome.error,
        showing,
        previous: (page > 1).then(|| link(page - 1)),
        next: (first + found.alerts.len() < found.total).then(|| link(page + 1)),
        back: back.clone(),
        filter,
    };
    Ok(marked(
        (status, render(&page)).into_response(),
        &found.alerts,
    ))
}

/// `GET /alerts?severity=&kind=&subject=&state=&page=`.
pub async fn index(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    Query(filter): Query<AlertFilter>,
) -> Result<Response, PageError> {
    let member = Member::of(visitor.clone(), csrf);
    alerts_page(&state, &visitor, member, filter, Outcome::default()).await
}

/// The fields of a triage form: `csrf`, `state`, one `id` per alert and where to go back to
/// (`back`: the list's filters; `from=alert`: the one alert's page). Parsed by hand because a
/// checkbox list repeats its field.
struct TriageForm {
    csrf: String,
    state: String,
    ids: Vec<String>,
    back: String,
    from_alert: bool,
}

impl TriageForm {
    fn parse(body: &[u8]) -> TriageForm {
        let mut form = TriageForm {
            csrf: String::new(),
            state: String::new(),
            ids: Vec::new(),
            back: String::new(),
            from_alert: false,
        };
        for (key, value) in form_urlencoded::parse(body) {
            match key.as_ref() {
                "csrf" => form.csrf = value.into_owned(),
                "state" => form.state = value.into_owned(),
                "id" if form.ids.len() <= greenwatch_alert::MAX_TRIAGE => {
                    form.ids.push(value.into_owned())
                }
                "back" => form.back = value.into_owned(),
                "from" => form.from_alert = value == "alert",
                _ => {}
            }
        }
        form
    }
}

/// Alert ids and the state to move them to, as a request gave them; a 400 naming what is
/// wrong.
fn triage_request(ids: &[String], state: &str) -> Result<(Vec<i64>, AlertState), PortalError> {
    let state: AlertState = state.parse().map_err(PortalError::BadRequest)?;
    if ids.is_empty() {
        return Err(PortalError::BadRequest("Choose at least one alert.".into()));
    }
    if ids.len() > greenwatch_alert::MAX_TRIAGE {
        return Err(PortalError::BadRequest(format!(
            "At most {} alerts at once.",
            greenwatch_alert::MAX_TRIAGE
        )));
    }
    let ids = ids
        .iter()
        .map(|id| {
            id.trim()
                .parse::<i64>()
                .map_err(|_| PortalError::BadRequest(format!("alert id {id:?} is not a number")))
        })
        .collect::<Result<_, _>>()?;
    Ok((ids, state))
}

/// Moves the alerts for `viewer`, audited as `actor`.
async fn run_triage(
    state: &AppState,
    viewer: &Viewer,
    actor: &str,
    ids: Vec<i64>,
    to: AlertState,
) -> Result<greenwatch_alert::Triaged, PortalError> {
    let (viewer, actor) = (viewer.clone(), actor.to_string());
    let at = state.now();
    state
        .write(move |store| {
            Ok(greenwatch_alert::triage(
                store, &viewer, &ids, to, &actor, at,
            )?)
        })
        .await
}

/// `POST /alerts/triage`: an analyst or admin acknowledges, resolves or reopens the checked
/// alerts of their organisation; the browser goes back to the list (or the alert) it came from.
pub async fn triage(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let form = TriageForm::parse(&body);
    let seen_by = visitor.clone();
    let change = async |member: &Member| {
        let (ids, to) = triage_request(&form.ids, &form.state)?;
        let single = (form.from_alert && ids.len() == 1).then(|| ids[0]);
        let done = run_triage(&state, &seen_by.viewer, &member.login, ids, to).await?;
        let mut notice = format!("{} alert(s) {to}.", done.changed);
        if !done.refused.is_empty() {
            notice += &format!(
                " {} left as they were: only your organisation's analysts and admins change its own alerts.",
                done.refused.len()
            );
        }
        Ok(Outcome {
            notice: Some(notice),
            // Triaged from its own page: back to it.
            location: single.map(|id| format!("/alerts/{id}")),
            ..Outcome::default()
        })
    };
    let page = async |member, outcome| {
        let filter = back_filter(&form.back);
        alerts_page(&state, &seen_by, Some(member), filter, outcome).await
    };
    post(visitor, csrf, &form.csrf, anyone, change, page).await
}

/// The list filters a triage form came from (`back`: a query string this page wrote).
fn back_filter(back: &str) -> AlertFilter {
    serde_urlencoded_filter(back).unwrap_or_default()
}

fn serde_urlencoded_filter(query: &str) -> Option<AlertFilter> {
    let uri: Uri = format!("/alerts?{query}").parse().ok()?;
    Query::<AlertFilter>::try_from_uri(&uri).ok().map(|q| q.0)
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
    let admit = |member: &Member| contributor(member, "Writing alerts");
    let change = async |member: &Member| {
        let at = state.now();
        let alert = form.to_alert(member, at)?;
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
        Ok(Outcome {
            location: Some(format!("/alerts/{id}")),
            ..Outcome::default()
        })
    };
    let seen_by = visitor.clone();
    let page = async |member, outcome| {
        alerts_page(
            &state,
            &seen_by,
            Some(member),
            AlertFilter::default(),
            outcome,
        )
        .await
    };
    post(visitor, csrf, &form.csrf, admit, change, page).await
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
    /// The session's CSRF token when the visitor may change this alert's state.
    triage_csrf: Option<String>,
    states: [AlertState; 3],
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

fn alert_page(visitor: &Visitor, alert: &Alert, triage_csrf: Option<String>) -> AlertPage {
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
        triage_csrf,
        states: AlertState::ALL,
    }
}

/// `GET /alerts/{id}`.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let alert = visible_alert(&state, &visitor.viewer, &id).await?;
    let triage_csrf = Member::of(visitor.clone(), csrf)
        .filter(|_| visitor.viewer.may_triage(&alert.alert.label))
        .map(|m| m.csrf);
    let mut page = alert_page(&visitor, &alert, triage_csrf);
    page.layout.mark(Marking::strictest([&alert.alert.label]));
    Ok(marked(render(&page), std::slice::from_ref(&alert)))
}

// ---------------------------------------------------------------------------------------
// The API and the feed.
// ---------------------------------------------------------------------------------------

/// `GET /api/v1/alerts?severity=&kind=&subject=&state=&limit=&cursor=`: the alerts the caller
/// may see that match, newest first, paged in the store.
pub async fn api_list(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(filter): Query<AlertFilter>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let mut query = filter.query()?;
    let paging = PageQuery {
        limit: filter.limit.clone(),
        cursor: filter.cursor.clone(),
    };
    let asked = paging.asked()?;
    (query.offset, query.limit) = (asked.offset, asked.limit);
    let viewer = visitor.viewer.clone();
    let found = state
        .analyse(move |s| data::alert_page(s, &viewer, &query))
        .await?;
    // The cursor's generation is the newest matching id: a cursor from before a new alert is
    // refused rather than skipping one.
    asked.check_generation(found.newest_id as u64)?;
    let response = paging::cut_page(
        &found.alerts,
        asked.offset,
        found.total,
        asked.limit,
        found.newest_id as u64,
        &uri,
    )?;
    Ok(marked(response, &found.alerts))
}

/// `{"ids": [..], "state": "acknowledged"}`.
#[derive(serde::Deserialize)]
pub struct TriageBody {
    ids: Vec<serde_json::Value>,
    state: String,
}

/// `POST /api/v1/alerts/triage`: as the form, for scripts with an API token (a browser
/// session must send its CSRF token as `X-CSRF-Token`). Answers what changed and which ids
/// were refused.
pub async fn api_triage(
    State(state): State<AppState>,
    visitor: Visitor,
    csrf: Option<Extension<SessionCsrf>>,
    headers: axum::http::HeaderMap,
    Json(body): Json<TriageBody>,
) -> Result<Json<greenwatch_alert::Triaged>, ApiError> {
    let login = Member::calling_api(visitor.clone(), csrf, &headers)?.login;
    let ids: Vec<String> = body
        .ids
        .iter()
        .map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let (ids, to) = triage_request(&ids, &body.state)?;
    Ok(Json(
        run_triage(&state, &visitor.viewer, &login, ids, to).await?,
    ))
}

/// `GET /api/v1/alerts/{id}`.
pub async fn api_one(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let alert = visible_alert(&state, &visitor.viewer, &id).await?;
    let response = Json(&alert).into_response();
    Ok(marked(response, std::slice::from_ref(&alert)))
}

/// Alerts in the feed.
const FEED_ENTRIES: usize = 100;

/// `GET /alerts.atom`: the public gets TLP:CLEAR alerts; an API token (feed readers send
/// `Authorization: Bearer`) gets what its organisation may see.
pub async fn atom(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    let viewer = visitor.viewer.clone();
    let at = state.now();
    let alerts = state
        .analyse(move |s| data::alerts(s, &viewer, FEED_ENTRIES))
        .await?;
    // Links come from the configured address, never from the Host header: a forged Host
    // would otherwise put an attacker's address into every reader's feed.
    let info = FeedInfo {
        base_url: state.public_url(),
        path: "/alerts.atom",
        title: "Greenwatch alerts",
        generated: at,
    };
    let response = (
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        atom_feed(&info, &alerts),
    )
        .into_response();
    Ok(marked(response, &alerts))
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
