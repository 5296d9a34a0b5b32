//! Port and AS pages: everything one destination port drew (`/ports/{protocol}/{port}`), or
//! everything one source AS sent (`/asns/{asn}`), in a time window, with the JSON behind them
//! (`/api/v1/ports/...`, `/api/v1/asns/...`). `/ports` ranks the scanned ports of a window.
//! Charts are drawn in the browser from the same JSON (a data island).

use super::overview::{capitalised, days, describe_window, port_label, window_query, DayView};
use crate::error::{ApiError, PageError, PortalError};
use crate::paging::{self, PageQuery};
use crate::views::{self, render, Layout, Nav};
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::Response;
use greenwatch_analytics::window::{self, Window, WindowQuery};
use greenwatch_analytics::{PortKey, Slice, SliceReport, PORT_INDEX_ROWS};
use greenwatch_model::{TrafficClass, Transport};
use greenwatch_observe::{TopBy, TopRow};

fn port_key(protocol: &str, port: &str) -> Result<PortKey, PortalError> {
    let protocol: Transport = protocol.parse().map_err(PortalError::BadRequest)?;
    if protocol.is_icmp() {
        return Err(PortalError::BadRequest(
            "ICMP has no ports; ask for tcp or udp".into(),
        ));
    }
    let port = port
        .parse::<u16>()
        .map_err(|_| PortalError::BadRequest(format!("port {port:?}: expected 0-65535")))?;
    Ok(PortKey { port, protocol })
}

fn asn_of(text: &str) -> Result<u32, PortalError> {
    let digits = text
        .strip_prefix("AS")
        .or_else(|| text.strip_prefix("as"))
        .unwrap_or(text);
    digits.parse::<u32>().map_err(|_| {
        PortalError::BadRequest(format!(
            "AS {text:?}: expected a number such as 64500 or AS64500"
        ))
    })
}

/// `GET /api/v1/ports/{protocol}/{port}?from=&to=`.
pub async fn port_api(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((protocol, port)): Path<(String, String)>,
    Query(window): Query<WindowQuery>,
) -> Result<Response, ApiError> {
    let slice = Slice::Port(port_key(&protocol, &port)?);
    let (_, json) = state
        .reads(&visitor.viewer)
        .await?
        .slice(slice, &window)
        .await?;
    Ok(json.response())
}

/// `GET /api/v1/asns/{asn}?from=&to=`.
pub async fn asn_api(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(asn): Path<String>,
    Query(window): Query<WindowQuery>,
) -> Result<Response, ApiError> {
    let slice = Slice::Asn(asn_of(&asn)?);
    let (_, json) = state
        .reads(&visitor.viewer)
        .await?
        .slice(slice, &window)
        .await?;
    Ok(json.response())
}

/// An index ranks its top [`PORT_INDEX_ROWS`] rows: asking for more is said, not cut short
/// silently.
fn within_index(what: &str, paging: &PageQuery) -> Result<(), PortalError> {
    let asked = paging.limit.as_deref().map(str::trim).unwrap_or("");
    if asked.parse::<usize>().is_ok_and(|n| n > PORT_INDEX_ROWS) {
        return Err(PortalError::BadRequest(format!(
            "limit {asked}: the index ranks the top {PORT_INDEX_ROWS} {what}; ask for at most \
             {PORT_INDEX_ROWS} (each row's own page has its details)"
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Pages.
// ---------------------------------------------------------------------------------------

/// A ranked row of a page's table, with where it links.
pub struct RankedRow {
    /// The rank, or "–" for the row of no known country (which is not ranked).
    pub rank: String,
    pub href: String,
    pub label: String,
    pub packets: String,
    pub share: String,
    pub sources: String,
}

/// A table row: `(rank, packets, sources)` of `total` packets, linking `href` (none: empty).
fn ranked_row(
    (rank, packets, sources): (Option<u32>, u64, u64),
    total: u64,
    (href, label): (String, String),
) -> RankedRow {
    RankedRow {
        rank: rank.map_or_else(|| "–".into(), |r| r.to_string()),
        href,
        label,
        packets: views::int(packets),
        share: views::percent(packets, total),
        sources: views::int(sources),
    }
}

fn ranked_ports(rows: &[TopRow], total: u64) -> Vec<RankedRow> {
    rows.iter()
        .map(|r| ranked_row((Some(r.rank), r.packets, r.sources), total, port_link(r)))
        .collect()
}

fn port_link(r: &TopRow) -> (String, String) {
    let protocol = r.protocol.map(|p| p.name()).unwrap_or_default();
    let port = r.port.unwrap_or_default();
    (
        format!("/ports/{protocol}/{port}"),
        port_label(port, Some(protocol)),
    )
}

/// An index of what scans (ports hit, source ASes), ranked by packets.
#[derive(Template)]
#[template(path = "scan-index.html")]
struct ScanIndexPage {
    layout: Layout,
    title: &'static str,
    lead: &'static str,
    /// The page's path; its JSON is under `/api/v1` with the same path.
    path: &'static str,
    /// The ranked column's heading.
    column: &'static str,
    window: String,
    from: String,
    to: String,
    rows: Vec<RankedRow>,
    query: String,
}

/// An index of what scans, ranked by packets: one page and one API each.
#[derive(Copy, Clone)]
enum ScanIndex {
    /// The destination ports scans hit.
    Ports,
    /// The source ASes scans come from.
    Asns,
}

impl ScanIndex {
    fn by(self) -> TopBy {
        match self {
            ScanIndex::Ports => TopBy::Port,
            ScanIndex::Asns => TopBy::Asn,
        }
    }

    /// What the index ranks, for the bound's message.
    fn ranks(self) -> &'static str {
        match self {
            ScanIndex::Ports => "scanned ports",
            ScanIndex::Asns => "scanning source ASes",
        }
    }
}

/// `GET /ports?from=&to=`: the scanned ports of the window, each linking to its page.
pub async fn ports_page(
    state: State<AppState>,
    visitor: Visitor,
    query: Query<WindowQuery>,
) -> Result<Response, PageError> {
    index_page(state, visitor, query, ScanIndex::Ports).await
}

/// `GET /asns?from=&to=`: the source ASes of scans, each linking to its AS page.
pub async fn asns_page(
    state: State<AppState>,
    visitor: Visitor,
    query: Query<WindowQuery>,
) -> Result<Response, PageError> {
    index_page(state, visitor, query, ScanIndex::Asns).await
}

/// `GET /api/v1/ports?from=&to=&limit=&cursor=`: scan ports by packets, paginated.
pub async fn ports_api(
    state: State<AppState>,
    visitor: Visitor,
    window: Query<WindowQuery>,
    paging: Query<PageQuery>,
    uri: OriginalUri,
) -> Result<Response, ApiError> {
    index_api(state, visitor, window, paging, uri, ScanIndex::Ports).await
}

/// `GET /api/v1/asns?from=&to=&limit=&cursor=`: scanning source ASes by packets, paginated.
pub async fn asns_api(
    state: State<AppState>,
    visitor: Visitor,
    window: Query<WindowQuery>,
    paging: Query<PageQuery>,
    uri: OriginalUri,
) -> Result<Response, ApiError> {
    index_api(state, visitor, window, paging, uri, ScanIndex::Asns).await
}

async fn index_api(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(window): Query<WindowQuery>,
    Query(paging): Query<PageQuery>,
    OriginalUri(uri): OriginalUri,
    index: ScanIndex,
) -> Result<Response, ApiError> {
    within_index(index.ranks(), &paging)?;
    let reads = state.reads(&visitor.viewer).await?;
    let (rows, json) = reads.scan_index(&window, index.by()).await?;
    if paging.is_whole(rows.len()) {
        return Ok(json.response());
    }
    Ok(paging::page(&rows, &paging, reads.generation(), &uri)?)
}

async fn index_page(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<WindowQuery>,
    index: ScanIndex,
) -> Result<Response, PageError> {
    let reads = state.reads(&visitor.viewer).await?;
    let window = query.resolve(reads.stored_range().await?)?;
    let (ranked, _) = reads.scan_index(&query, index.by()).await?;
    let total: u64 = ranked.iter().map(|r| r.packets).sum();
    let netdb = state.netdb();
    let names = netdb.snapshots().last();
    let link = |r: &TopRow| match index {
        ScanIndex::Ports => port_link(r),
        ScanIndex::Asns => {
            let asn = r.asn.unwrap_or_default();
            let name = names.and_then(|s| s.as_name(asn)).unwrap_or("");
            (format!("/asns/{asn}"), format!("AS{asn} {name}"))
        }
    };
    let rows = ranked
        .iter()
        .map(|r| ranked_row((Some(r.rank), r.packets, r.sources), total, link(r)))
        .collect();
    let (title, nav, lead, path, column) = match index {
        ScanIndex::Ports => (
            "Ports",
            Nav::Ports,
            "The destination ports that scans hit, by packets: each links to its page with its \
             traffic over time, the countries and networks that scan it and the tools they use.",
            "/ports",
            "Port",
        ),
        ScanIndex::Asns => (
            "Source networks",
            Nav::Countries,
            "The autonomous systems that scans come from, by packets: each links to its page \
             with its traffic, the ports it scans and its hosts of each risk.",
            "/asns",
            "AS",
        ),
    };
    Ok(render(&ScanIndexPage {
        layout: Layout::new(title, Some(nav), Some(&visitor)),
        title,
        lead,
        path,
        column,
        window: window.map_or_else(String::new, describe_window),
        from: window.map_or_else(String::new, |w| window::display(w.from)),
        to: window.map_or_else(String::new, |w| window::display(w.to)),
        rows,
        query: window.map(window_query).unwrap_or_default(),
    }))
}

pub struct ToolView {
    pub name: &'static str,
    pub packets: String,
    pub share: String,
    pub sources: String,
}

pub struct RiskView {
    pub risk: String,
    pub title: String,
    pub period: String,
    pub hosts: String,
    pub share: String,
    pub rank: String,
    pub change: String,
}

#[derive(Template)]
#[template(path = "slice.html")]
struct SlicePage {
    layout: Layout,
    /// `/ports/tcp/23` or `/asns/64500`: the form's action.
    path: String,
    api: String,
    heading: String,
    lead: String,
    window: String,
    from: String,
    to: String,
    has_data: bool,
    stats: Vec<(String, String)>,
    classes: Vec<&'static str>,
    days: Vec<DayView>,
    countries: Vec<RankedRow>,
    asns: Vec<RankedRow>,
    ports: Vec<RankedRow>,
    tools: Vec<ToolView>,
    risks: Vec<RiskView>,
    is_asn: bool,
    query: String,
    island: String,
}

fn slice_page(
    layout: Layout,
    path: String,
    api: String,
    r: &SliceReport,
    island: String,
) -> SlicePage {
    let window = match (r.from, r.to) {
        (Some(from), Some(to)) => Some(Window {
            from: from.secs(),
            to: to.secs(),
        }),
        _ => None,
    };
    let total = r.totals.packets;
    let (heading, lead) = match (r.port, r.asn) {
        (Some(p), _) => (
            format!("Port {}", port_label(p.port, Some(p.protocol.name()))),
            "Packets to this destination port: who sends them, from where, with which tools."
                .to_string(),
        ),
        (_, Some(asn)) => (
            format!("AS{asn} {}", r.as_name.as_deref().unwrap_or(""))
                .trim()
                .to_string(),
            "Packets from this network to our sensors, and its hosts of each risk.".to_string(),
        ),
        _ => (String::new(), String::new()),
    };
    let mut stats = vec![
        ("Packets".to_string(), views::int(total)),
        ("Bytes".to_string(), views::bytes(r.totals.bytes)),
        ("Sources".to_string(), views::int(r.sources)),
    ];
    let at = |t: Option<greenwatch_model::Timestamp>| {
        t.map(|t| t.to_rfc3339()).unwrap_or_else(|| "-".into())
    };
    stats.push(("First seen (hour)".into(), at(r.first_seen)));
    stats.push(("Last seen (hour)".into(), at(r.last_seen)));
    SlicePage {
        layout,
        path,
        api,
        heading,
        lead,
        window: window.map_or_else(String::new, describe_window),
        from: window.map_or_else(String::new, |w| window::display(w.from)),
        to: window.map_or_else(String::new, |w| window::display(w.to)),
        has_data: total > 0,
        stats,
        classes: TrafficClass::ALL.iter().map(|c| c.as_str()).collect(),
        days: days(&r.series),
        countries: r
            .countries
            .iter()
            .map(|c| {
                let link = if c.country.is_known() {
                    (
                        format!("/countries/{}", c.country),
                        format!("{} {}", c.country, c.name),
                    )
                } else {
                    (String::new(), c.name.to_string())
                };
                ranked_row((c.rank, c.packets, c.sources), total, link)
            })
            .collect(),
        asns: r
            .asns
            .iter()
            .map(|a| {
                let asn = a.row.asn.unwrap_or_default();
                let name = format!("AS{asn} {}", a.as_name.as_deref().unwrap_or(""));
                let link = (format!("/asns/{asn}"), name.trim().to_string());
                ranked_row(
                    (Some(a.row.rank), a.row.packets, a.row.sources),
                    total,
                    link,
                )
            })
            .collect(),
        ports: ranked_ports(&r.top_ports, total),
        tools: r
            .tools
            .iter()
            .map(|t| ToolView {
                name: t.fingerprint.as_str(),
                packets: views::int(t.packets),
                share: views::percent(t.packets, total),
                sources: views::int(t.sources),
            })
            .collect(),
        risks: r
            .risks
            .iter()
            .map(|k| RiskView {
                risk: k.risk.clone(),
                title: k.title.clone(),
                period: k.period.clone(),
                hosts: views::int(k.hosts),
                share: format!("{:.2} %", k.share * 100.0),
                rank: k.rank.map_or_else(|| "-".into(), |x| x.to_string()),
                change: views::opt(k.change.map(|c| c * 100.0), 1),
            })
            .collect(),
        is_asn: r.asn.is_some(),
        query: window.map(window_query).unwrap_or_default(),
        island,
    }
}

/// `GET /ports/{protocol}/{port}?from=&to=`.
pub async fn port_page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((protocol, port)): Path<(String, String)>,
    Query(query): Query<WindowQuery>,
) -> Result<Response, PageError> {
    let key = port_key(&protocol, &port)?;
    let layout = Layout::new(
        format!("Port {}", port_label(key.port, Some(key.protocol.name()))),
        Some(Nav::Ports),
        Some(&visitor),
    );
    let (report, json) = state
        .reads(&visitor.viewer)
        .await?
        .slice(Slice::Port(key), &query)
        .await?;
    let path = format!("/ports/{}/{}", key.protocol.name(), key.port);
    let api = format!("/api/v1{path}");
    Ok(render(&slice_page(
        layout,
        path,
        api,
        &report,
        json.island(),
    )))
}

/// `GET /asns/{asn}?from=&to=`.
pub async fn asn_page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(asn): Path<String>,
    Query(query): Query<WindowQuery>,
) -> Result<Response, PageError> {
    let asn = asn_of(&asn)?;
    let layout = Layout::new(format!("AS{asn}"), Some(Nav::Countries), Some(&visitor));
    let (report, json) = state
        .reads(&visitor.viewer)
        .await?
        .slice(Slice::Asn(asn), &query)
        .await?;
    let path = format!("/asns/{asn}");
    let api = format!("/api/v1{path}");
    let mut page = slice_page(layout, path, api, &report, json.island());
    page.layout.title = capitalised(&page.heading);
    Ok(render(&page))
}
