//! One address: `GET /ips/{ip}` and `GET /api/v1/ips/{ip}` (`?from=&to=`, at most 31 days;
//! by default the last 31 days of the data the viewer may see). What the sensors saw it send,
//! the risk feeds listing it, DoS attacks on it and alerts naming it, as `data::ip` finds
//! them for the viewer: data the viewer sees anonymised is matched against the typed address
//! as an anonymised image only.

use super::overview::describe_window;
use crate::error::{ApiError, PageError, PortalError};
use crate::views::{self, render, Layout};
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use greenwatch_analytics::ip::{alerts_naming, AlertNaming, IpReport, Sightings};
use greenwatch_analytics::window::{self, Window, WindowQuery};
use greenwatch_model::Timestamp;
use serde::Serialize;
use std::net::IpAddr;
use std::sync::Arc;

fn address(text: &str) -> Result<IpAddr, PortalError> {
    text.trim().parse().map_err(|_| {
        PortalError::BadRequest(format!(
            "{text:?} is not an IP address (192.0.2.1, 2001:db8::1)"
        ))
    })
}

/// The stored data of the page (cached) and the alerts naming the address (read fresh).
async fn read(
    state: &AppState,
    visitor: &Visitor,
    ip: IpAddr,
    query: &WindowQuery,
) -> Result<(Arc<IpReport>, Vec<AlertNaming>), PortalError> {
    let report = state.reads(&visitor.viewer).await?.ip(ip, query).await?;
    let viewer = visitor.viewer.clone();
    let alerts = state
        .analyse(move |s| alerts_naming(s, &viewer, ip))
        .await?;
    Ok((report, alerts))
}

#[derive(Serialize)]
struct IpAnswer<'a> {
    #[serde(flatten)]
    report: &'a IpReport,
    /// Alerts naming the address as the viewer sees them, newest first.
    alerts: Vec<AlertNaming>,
}

/// `GET /api/v1/ips/{ip}?from=&to=`.
pub async fn api(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(ip): Path<String>,
    Query(query): Query<WindowQuery>,
) -> Result<Response, ApiError> {
    let ip = address(&ip)?;
    let (report, alerts) = read(&state, &visitor, ip, &query).await?;
    Ok(Json(IpAnswer {
        report: &report,
        alerts,
    })
    .into_response())
}

/// One kind of sightings, formatted for the page.
struct SightingsView {
    observed: Option<ObservedView>,
    risks: Vec<(String, String, String, String)>,
    dos: Vec<Vec<String>>,
}

struct ObservedView {
    stats: Vec<(&'static str, String)>,
    sensors: Vec<(String, String, String, String)>,
    ports: Vec<(String, String, String)>,
    classes: Vec<(String, String)>,
    fingerprints: Vec<(String, String)>,
}

fn at(t: Timestamp) -> String {
    t.to_rfc3339()
}

fn sightings_view(s: &Sightings) -> SightingsView {
    SightingsView {
        observed: s.observed.as_ref().map(|o| ObservedView {
            stats: vec![
                ("Packets", views::int(o.packets)),
                ("Bytes", views::bytes(o.bytes)),
                ("First seen (hour)", at(o.first_seen)),
                ("Last seen (hour)", at(o.last_seen)),
                ("AS (at the time)", format!("AS{}", o.asn)),
                ("Country (at the time)", o.country.to_string()),
            ],
            sensors: o
                .sensors
                .iter()
                .map(|x| {
                    (
                        x.sensor.to_string(),
                        views::int(x.packets),
                        at(x.first_seen),
                        at(x.last_seen),
                    )
                })
                .collect(),
            ports: o
                .ports
                .iter()
                .map(|p| {
                    let name = p.protocol.name();
                    (
                        format!("/ports/{name}/{}", p.port),
                        format!("{}/{name}", p.port),
                        views::int(p.packets),
                    )
                })
                .collect(),
            classes: o
                .classes
                .iter()
                .map(|(c, n)| (c.as_str().to_string(), views::int(*n)))
                .collect(),
            fingerprints: o
                .fingerprints
                .iter()
                .map(|(f, n)| (f.as_str().to_string(), views::int(*n)))
                .collect(),
        }),
        risks: s
            .risks
            .iter()
            .map(|r| {
                let days: Vec<String> = r.days.iter().map(|d| d.to_string()).collect();
                let ports: Vec<String> = r.ports.iter().map(u16::to_string).collect();
                (
                    r.risk.clone(),
                    r.title.clone(),
                    days.join(", "),
                    ports.join(", "),
                )
            })
            .collect(),
        dos: s
            .dos
            .iter()
            .map(|a| {
                vec![
                    a.victim.to_string(),
                    a.protocol.name(),
                    at(a.first),
                    at(a.last),
                    views::int(a.packets),
                ]
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "ip.html")]
struct IpPage {
    layout: Layout,
    ip: String,
    path: String,
    window: String,
    from: String,
    to: String,
    network: Vec<(String, String, String)>,
    in_clear: SightingsView,
    as_anonymised: SightingsView,
    anonymised_empty: bool,
    clear_empty: bool,
    alerts: Vec<AlertNaming>,
}

/// `GET /ips/{ip}?from=&to=`.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(ip): Path<String>,
    Query(query): Query<WindowQuery>,
) -> Result<Response, PageError> {
    let ip = address(&ip)?;
    let (report, alerts) = read(&state, &visitor, ip, &query).await?;
    let window = report.from.zip(report.to).map(|(from, to)| Window {
        from: from.secs(),
        to: to.secs(),
    });
    let n = &report.network;
    let mut network = Vec::new();
    if let Some(asn) = n.asn {
        let name = format!("AS{asn} {}", n.as_name.as_deref().unwrap_or(""));
        network.push(("AS".into(), format!("/asns/{asn}"), name.trim().to_string()));
    }
    if let Some(cc) = n.country {
        let name = format!("{cc} {}", n.country_name.unwrap_or(""));
        network.push(("Country".into(), format!("/countries/{cc}"), name));
    }
    let page = IpPage {
        layout: Layout::new(format!("IP {ip}"), None, Some(&visitor)),
        ip: ip.to_string(),
        path: format!("/ips/{ip}"),
        window: window.map_or_else(String::new, describe_window),
        from: window.map_or_else(String::new, |w| window::display(w.from)),
        to: window.map_or_else(String::new, |w| window::display(w.to)),
        network,
        clear_empty: report.in_clear.is_empty(),
        anonymised_empty: report.as_anonymised.is_empty(),
        in_clear: sightings_view(&report.in_clear),
        as_anonymised: sightings_view(&report.as_anonymised),
        alerts,
    };
    Ok(render(&page))
}
