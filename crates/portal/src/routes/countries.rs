//! Countries: the source countries of a window (`/countries`), one country's observations and
//! risk metrics compared with up to three other countries and the world (`/countries/{cc}`),
//! and the API behind it (`/api/v1/countries/{cc}`). The page renders the same
//! [`CountryReport`] the API returns: its tables on the server, its charts in the browser
//! from a JSON data island.

use super::overview::{
    capitalised, days, describe_window, port_href, port_label, window_query, DayView,
};
use crate::error::{ApiError, PageError, PortalError};
use crate::views::{self, render, Layout, Nav};
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use greenwatch_analytics::countries;
use greenwatch_analytics::window::{self, Window, WindowQuery};
use greenwatch_analytics::{CountryReport, MAX_COMPARE};
use greenwatch_model::{CountryCode, TrafficClass};
use serde::Deserialize;

#[derive(Clone, Debug, Default, Deserialize)]
pub struct CountryParams {
    from: Option<String>,
    to: Option<String>,
    /// Up to [`MAX_COMPARE`] country codes, comma separated.
    compare: Option<String>,
}

impl CountryParams {
    fn window(&self) -> WindowQuery {
        WindowQuery {
            from: self.from.clone(),
            to: self.to.clone(),
        }
    }
}

/// An ISO 3166-1 alpha-2 code in any case; codes outside the standard are bad requests.
fn parse_code(text: &str) -> Result<CountryCode, PortalError> {
    let code: CountryCode = text.parse().map_err(PortalError::BadRequest)?;
    if code.as_str() == Some("ZZ") || countries::name(code).is_empty() {
        return Err(PortalError::BadRequest(format!(
            "unknown country code {:?}: expected an ISO 3166-1 alpha-2 code such as DE",
            text.trim()
        )));
    }
    Ok(code)
}

/// The countries to compare `country` with: at most [`MAX_COMPARE`] codes once duplicates and
/// the country itself are dropped.
fn parse_compare(
    country: CountryCode,
    text: Option<&str>,
) -> Result<Vec<CountryCode>, PortalError> {
    let mut out: Vec<CountryCode> = Vec::new();
    for text in text.unwrap_or("").split(',').map(str::trim) {
        if text.is_empty() {
            continue;
        }
        let code =
            parse_code(text).map_err(|e| PortalError::BadRequest(format!("compare: {e}")))?;
        if code != country && !out.contains(&code) {
            out.push(code);
        }
    }
    if out.len() > MAX_COMPARE {
        return Err(PortalError::BadRequest(format!(
            "compare: {} countries given, at most {MAX_COMPARE} can be compared",
            out.len()
        )));
    }
    Ok(out)
}

/// The country and the countries to compare it with, as asked for.
fn countries_asked(
    code: &str,
    params: &CountryParams,
) -> Result<(CountryCode, Vec<CountryCode>), PortalError> {
    let country = parse_code(code)?;
    let compare = parse_compare(country, params.compare.as_deref())?;
    Ok((country, compare))
}

/// `GET /api/v1/countries/{cc}?compare=DE,FR,US&from=&to=`.
pub async fn api(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(code): Path<String>,
    Query(params): Query<CountryParams>,
) -> Result<Response, ApiError> {
    let (country, compare) = countries_asked(&code, &params)?;
    let json = state
        .reads(&visitor.viewer)
        .await?
        .country_json(country, compare, &params.window())
        .await?;
    Ok(json.response())
}

// ---------------------------------------------------------------------------------------
// The index.
// ---------------------------------------------------------------------------------------

pub struct IndexRow {
    pub rank: u32,
    pub code: String,
    pub name: &'static str,
    pub packets: String,
    pub share: String,
    pub sources: String,
}

#[derive(Template)]
#[template(path = "countries.html")]
pub struct CountriesPage {
    pub layout: Layout,
    pub window: String,
    pub from: String,
    pub to: String,
    pub rows: Vec<IndexRow>,
    /// Packets of the sources no IP data places in a country (not ranked), said under the
    /// table; empty when there are none.
    pub unplaced: String,
    /// `from=…&to=…` of the window shown, for the country links.
    pub query: String,
}

/// `GET /countries?from=&to=`: every source country of the window, each linking to its page.
pub async fn index(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(params): Query<CountryParams>,
) -> Result<Response, PageError> {
    let layout = Layout::new("Countries", Some(Nav::Countries), Some(&visitor));
    let overview = state
        .reads(&visitor.viewer)
        .await?
        .overview(&params.window(), None)
        .await?;
    let window = window_of(overview.from, overview.to);
    let total = overview.totals.packets;
    Ok(render(&CountriesPage {
        layout,
        window: window.map_or_else(String::new, describe_window),
        from: window.map_or_else(String::new, |w| window::display(w.from)),
        to: window.map_or_else(String::new, |w| window::display(w.to)),
        rows: overview
            .countries
            .iter()
            .filter_map(|r| Some((r.rank?, r)))
            .map(|(rank, r)| IndexRow {
                rank,
                code: r.country.to_string(),
                name: r.name,
                packets: views::int(r.packets),
                share: views::percent(r.packets, total),
                sources: views::int(r.sources),
            })
            .collect(),
        unplaced: overview
            .countries
            .iter()
            .find(|r| r.rank.is_none())
            .map(|r| {
                format!(
                    "{} packets ({}) from {} sources that no IP data places in a country are not ranked.",
                    views::int(r.packets),
                    views::percent(r.packets, total),
                    views::int(r.sources)
                )
            })
            .unwrap_or_default(),
        query: window.map(window_query).unwrap_or_default(),
    }))
}

fn window_of(
    from: Option<greenwatch_model::Timestamp>,
    to: Option<greenwatch_model::Timestamp>,
) -> Option<Window> {
    Some(Window {
        from: from?.secs(),
        to: to?.secs(),
    })
}

// ---------------------------------------------------------------------------------------
// One country.
// ---------------------------------------------------------------------------------------

pub struct PacketView {
    pub code: String,
    pub name: &'static str,
    pub link: bool,
    pub packets: String,
    pub bytes: String,
    pub share: String,
    pub by_class: Vec<String>,
}

pub struct PortView {
    pub rank: u32,
    pub port: String,
    /// The port's page.
    pub href: String,
    pub packets: String,
    pub sources: String,
}

pub struct CellView {
    pub code: String,
    pub name: &'static str,
    pub world: bool,
    pub hosts: String,
    pub share: String,
    pub density: String,
    pub ddos: String,
    pub rank: String,
    pub change: String,
}

pub struct RiskView {
    pub slug: String,
    pub title: String,
    pub period: String,
    pub rows: Vec<CellView>,
}

#[derive(Template)]
#[template(path = "country.html")]
pub struct CountryPage {
    pub layout: Layout,
    pub code: String,
    pub name: &'static str,
    pub window: String,
    pub from: String,
    pub to: String,
    pub compare: String,
    pub has_data: bool,
    pub classes: Vec<&'static str>,
    pub packets: Vec<PacketView>,
    pub days: Vec<DayView>,
    pub ports: Vec<PortView>,
    pub risks: Vec<RiskView>,
    /// `compare=…&from=…&to=…` of the page, for the JSON link.
    pub query: String,
    pub island: String,
}

/// `GET /countries/{cc}?compare=DE,FR,US&from=&to=`: one country's page.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(code): Path<String>,
    Query(params): Query<CountryParams>,
) -> Result<Response, PageError> {
    let mut layout = Layout::new("Countries", Some(Nav::Countries), Some(&visitor));
    let (country, compare) = countries_asked(&code, &params)?;
    let reads = state.reads(&visitor.viewer).await?;
    let report = reads
        .country(country, compare.clone(), &params.window())
        .await?;
    let json = reads
        .country_json(country, compare, &params.window())
        .await?;
    layout.title = format!("{} ({})", report.name, report.country);
    Ok(render(&country_page(layout, &report, json.island())))
}

fn country_page(layout: Layout, r: &CountryReport, island: String) -> CountryPage {
    let window = window_of(r.from, r.to);
    let compare = r
        .compare
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let mut query = Vec::new();
    if !compare.is_empty() {
        query.push(format!("compare={compare}"));
    }
    if let Some(w) = window {
        query.push(window_query(w));
    }
    CountryPage {
        layout,
        code: r.country.to_string(),
        name: r.name,
        window: window.map_or_else(String::new, describe_window),
        from: window.map_or_else(String::new, |w| window::display(w.from)),
        to: window.map_or_else(String::new, |w| window::display(w.to)),
        compare,
        has_data: r.totals.packets > 0,
        classes: TrafficClass::ALL.map(|c| c.as_str()).to_vec(),
        packets: r
            .packets
            .iter()
            .map(|p| PacketView {
                link: p.country != r.country.to_string() && p.country != greenwatch_metrics::WORLD,
                code: p.country.clone(),
                name: p.name,
                packets: views::int(p.totals.packets),
                bytes: views::bytes(p.totals.bytes),
                share: format!("{:.2} %", p.share * 100.0),
                by_class: TrafficClass::ALL
                    .map(|c| views::int(p.totals.by_class.get(&c).copied().unwrap_or(0)))
                    .to_vec(),
            })
            .collect(),
        days: days(&r.series),
        ports: r
            .top_ports
            .iter()
            .map(|p| PortView {
                rank: p.rank,
                port: port_label(p.port.unwrap_or(0), p.protocol.map(|p| p.name())),
                href: port_href(p),
                packets: views::int(p.packets),
                sources: views::int(p.sources),
            })
            .collect(),
        risks: r
            .risks
            .iter()
            .map(|risk| RiskView {
                slug: risk.risk.clone(),
                title: if risk.title.is_empty() {
                    capitalised(&risk.risk)
                } else {
                    risk.title.clone()
                },
                period: risk.period.clone(),
                rows: risk
                    .rows
                    .iter()
                    .map(|c| CellView {
                        world: c.country == greenwatch_metrics::WORLD,
                        code: c.country.clone(),
                        name: c.name,
                        hosts: views::int(c.hosts),
                        share: format!("{:.2} %", c.share * 100.0),
                        density: views::opt(c.density, 2),
                        ddos: c
                            .ddos_potential
                            .map_or_else(|| "-".into(), |d| views::int(d.round() as u64)),
                        rank: c.rank.map_or_else(|| "-".into(), |x| x.to_string()),
                        change: views::change(c.change),
                    })
                    .collect(),
            })
            .collect(),
        query: query.join("&"),
        island,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_iso_alpha2_in_any_case() {
        assert_eq!(parse_code(" de ").unwrap().to_string(), "DE");
        for bad in ["", "D", "DEU", "D1", "XX", "ZZ"] {
            assert!(
                matches!(parse_code(bad), Err(PortalError::BadRequest(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn at_most_three_others_are_compared() {
        let cn = parse_code("CN").unwrap();
        let codes = |text| {
            parse_compare(cn, Some(text))
                .unwrap()
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(codes("us, fr,,US,CN,nl"), ["US", "FR", "NL"]);
        assert!(codes("").is_empty());
        let err = parse_compare(cn, Some("US,FR,NL,DE")).unwrap_err();
        assert!(err.to_string().contains("at most 3"), "{err}");
    }
}
