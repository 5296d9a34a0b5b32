//! The public overview (`/`) and its API: packets per hour by class, top scanned ports, source
//! countries and their world map, scans by port and hour of day, and inferred DoS attacks,
//! for a time window. The page renders the same [`Overview`] the API returns: its tables on
//! the server, its charts in the browser from a JSON data island.

use crate::error::{ApiError, PageError, PortalError};
use crate::reads::Reads;
use crate::views::{self, render, Layout, Nav};
use crate::{AppState, Visitor};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use greenwatch_analytics::sensors::SensorView;
use greenwatch_analytics::window::{self, Window, WindowQuery};
use greenwatch_analytics::{ClassSeries, Overview};
use greenwatch_model::sensor::SensorRef;
use greenwatch_model::{neutralise_csv_formula, Timestamp, TrafficClass};
use greenwatch_observe::TopRow;
use serde::Deserialize;

#[derive(Clone, Debug, Default, Deserialize)]
pub struct OverviewParams {
    from: Option<String>,
    to: Option<String>,
    /// Which table a CSV download holds.
    part: Option<String>,
    /// One sensor's traffic only (`ORGANISATION/NAME`; empty: every sensor).
    sensor: Option<String>,
}

impl OverviewParams {
    fn window(&self) -> WindowQuery {
        WindowQuery {
            from: self.from.clone(),
            to: self.to.clone(),
        }
    }

    /// The sensor asked for, among the `visible` ones: a sensor the viewer may not see is
    /// answered as one that does not exist.
    fn sensor(&self, visible: &[SensorView]) -> Result<Option<SensorRef>, PortalError> {
        let Some(asked) = self.sensor.as_deref().filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let sensor: SensorRef = asked.parse().map_err(PortalError::BadRequest)?;
        if visible.iter().any(|s| s.id == sensor) {
            Ok(Some(sensor))
        } else {
            Err(PortalError::NotFound(format!("no sensor {sensor}")))
        }
    }
}

/// The sensor `params` asks for, checked against the sensors the viewer may see (read only
/// when one is asked for).
async fn asked_sensor(
    reads: &Reads<'_>,
    params: &OverviewParams,
) -> Result<Option<SensorRef>, PortalError> {
    if params.sensor.as_deref().is_none_or(str::is_empty) {
        return Ok(None);
    }
    params.sensor(&reads.sensors().await?)
}

/// `GET /api/v1/overview?from=&to=&sensor=`.
pub async fn api(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(params): Query<OverviewParams>,
) -> Result<Response, ApiError> {
    let reads = state.reads(&visitor.viewer).await?;
    let sensor = asked_sensor(&reads, &params).await?;
    let json = reads
        .overview_json(&params.window(), sensor.as_ref())
        .await?;
    Ok(json.response())
}

/// The tables a CSV download can hold.
const PARTS: [&str; 5] = ["series", "ports", "countries", "heatmap", "dos"];

/// `GET /api/v1/overview.csv?part=series|ports|countries|heatmap|dos&from=&to=`.
pub async fn csv(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(params): Query<OverviewParams>,
) -> Result<Response, ApiError> {
    let part = params.part.as_deref().unwrap_or("");
    if !PARTS.contains(&part) {
        return Err(PortalError::BadRequest(format!(
            "part {part:?}: expected one of {}",
            PARTS.join(", ")
        ))
        .into());
    }
    let reads = state.reads(&visitor.viewer).await?;
    let sensor = asked_sensor(&reads, &params).await?;
    let overview = reads.overview(&params.window(), sensor.as_ref()).await?;
    let body = write_csv(&overview, part)
        .map_err(|e| PortalError::Internal(format!("writing CSV: {e}")))?;
    let day = |t: Option<Timestamp>| t.map_or("none".into(), |t| window::display(t.secs()));
    let of_sensor = sensor.map_or(String::new(), |s| format!("-{}-{}", s.org, s.name));
    let name = format!(
        "greenwatch-overview-{part}{of_sensor}-{}-{}.csv",
        day(overview.from),
        day(overview.to)
    );
    Ok(csv_response(&name, body))
}

pub fn csv_response(file_name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file_name.replace(':', "")),
            ),
        ],
        body,
    )
        .into_response()
}

fn write_csv(o: &Overview, part: &str) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    match part {
        "series" => {
            write_row(&mut w, ["bucket", "class", "packets", "bytes", "sources"])?;
            for s in &o.series {
                for p in &s.points {
                    write_row(
                        &mut w,
                        [
                            p.bucket.to_rfc3339(),
                            s.class.to_string(),
                            p.packets.to_string(),
                            p.bytes.to_string(),
                            p.sources.to_string(),
                        ],
                    )?;
                }
            }
        }
        "ports" => {
            write_row(
                &mut w,
                ["rank", "port", "protocol", "packets", "bytes", "sources"],
            )?;
            for r in &o.top_ports {
                write_row(
                    &mut w,
                    [
                        r.rank.to_string(),
                        r.port.map(|p| p.to_string()).unwrap_or_default(),
                        r.protocol.map(|p| p.name()).unwrap_or_default(),
                        r.packets.to_string(),
                        r.bytes.to_string(),
                        r.sources.to_string(),
                    ],
                )?;
            }
        }
        "countries" => {
            write_row(
                &mut w,
                ["rank", "country", "name", "packets", "bytes", "sources"],
            )?;
            for r in &o.countries {
                write_row(
                    &mut w,
                    [
                        r.rank.map(|n| n.to_string()).unwrap_or_default(),
                        r.country.as_str().unwrap_or("").to_string(),
                        r.name.to_string(),
                        r.packets.to_string(),
                        r.bytes.to_string(),
                        r.sources.to_string(),
                    ],
                )?;
            }
        }
        "heatmap" => {
            write_row(&mut w, ["port", "protocol", "hour_utc", "packets"])?;
            for (port, hours) in o.heatmap.ports.iter().zip(&o.heatmap.packets) {
                for (hour, packets) in hours.iter().enumerate() {
                    write_row(
                        &mut w,
                        [
                            port.port.to_string(),
                            port.protocol.name(),
                            hour.to_string(),
                            packets.to_string(),
                        ],
                    )?;
                }
            }
        }
        _ => {
            write_row(
                &mut w,
                [
                    "victim",
                    "protocol",
                    "country",
                    "asn",
                    "as_name",
                    "first",
                    "last",
                    "duration_secs",
                    "packets",
                    "bytes",
                    "peak_packets_per_minute",
                    "mean_pps",
                ],
            )?;
            for row in &o.dos {
                write_row(
                    &mut w,
                    [
                        row.attack.victim.to_string(),
                        row.attack.protocol.name(),
                        row.attack.country.as_str().unwrap_or("").to_string(),
                        row.attack.asn.to_string(),
                        row.as_name.clone().unwrap_or_default(),
                        row.attack.first.to_rfc3339(),
                        row.attack.last.to_rfc3339(),
                        format!("{:.1}", row.attack.duration_secs),
                        row.attack.packets.to_string(),
                        row.attack.bytes.to_string(),
                        row.attack.peak_packets_per_minute.to_string(),
                        format!("{:.3}", row.attack.mean_pps),
                    ],
                )?;
            }
        }
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// One CSV row, every cell through [`neutralise_csv_formula`] (AS names and other stored text
/// must not run as spreadsheet formulas).
fn write_row<S: AsRef<str>>(
    w: &mut csv::Writer<Vec<u8>>,
    cells: impl IntoIterator<Item = S>,
) -> Result<(), csv::Error> {
    w.write_record(
        cells
            .into_iter()
            .map(|c| neutralise_csv_formula(c.as_ref()).into_owned()),
    )
}

// ---------------------------------------------------------------------------------------
// The page.
// ---------------------------------------------------------------------------------------

/// Rows shown in the country table (the CSV has them all).
const COUNTRY_ROWS: usize = 20;
/// DoS attacks shown in the table (the CSV has them all).
const DOS_ROWS: usize = 25;

/// What an anonymised address beside its AS and country means, said wherever a page shows one.
pub(crate) const ANONYMISED_NOTE: &str = "Anonymised address (Crypto-PAn, prefix-preserving): \
     the country and network shown are those of the real address, not of the address shown.";

pub struct Stat {
    pub label: String,
    pub value: String,
    pub note: String,
}

pub struct PortView {
    pub rank: u32,
    pub port: String,
    /// The port's page.
    pub href: String,
    pub packets: String,
    pub bytes: String,
    pub sources: String,
}

pub struct CountryView {
    pub rank: u32,
    pub code: String,
    pub name: &'static str,
    pub packets: String,
    pub share: String,
    pub sources: String,
}

pub struct UnplacedView {
    pub packets: String,
    pub share: String,
    pub sources: String,
}

pub struct DayView {
    pub day: String,
    pub by_class: Vec<String>,
    pub total: String,
}

pub struct HeatView {
    pub port: String,
    pub cells: Vec<String>,
}

pub struct DosView {
    pub victim: String,
    /// The victim is shown anonymised (its country and AS are still the real address's).
    pub anonymised: bool,
    pub protocol: String,
    pub country: String,
    pub asn: String,
    pub first: String,
    pub duration: String,
    pub packets: String,
    pub peak: String,
}

/// A sensor of the sensor picker.
pub struct SensorChoice {
    /// `ORGANISATION/NAME`.
    pub value: String,
    pub selected: bool,
}

/// A link of the range picker.
pub struct Preset {
    pub label: &'static str,
    pub href: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
pub struct OverviewPage {
    pub layout: Layout,
    pub has_data: bool,
    pub window: String,
    pub from: String,
    pub to: String,
    pub presets: Vec<Preset>,
    pub stats: Vec<Stat>,
    pub classes: Vec<&'static str>,
    pub days: Vec<DayView>,
    pub ports: Vec<PortView>,
    pub countries: Vec<CountryView>,
    pub countries_total: usize,
    /// The packets of sources no IP data places in a country, under the table, unranked.
    pub unplaced: Option<UnplacedView>,
    pub hours: Vec<String>,
    pub heat: Vec<HeatView>,
    pub dos: Vec<DosView>,
    pub dos_total: usize,
    /// Some victim shown is anonymised: the table says what that means.
    pub dos_anonymised: bool,
    /// `from=…&to=…` of the window shown, for the CSV links.
    pub query: String,
    /// `&sensor=…` when one sensor is shown: kept by the CSV links and the range picker.
    pub sensor_query: String,
    /// The sensors the visitor may see, for the sensor picker.
    pub sensors: Vec<SensorChoice>,
    pub island: String,
    /// The newest alerts the visitor may see (read past the cache: alerts do not move the
    /// data generation).
    pub latest_alerts: Vec<super::alerts::AlertRow>,
}

/// `GET /?from=&to=&sensor=`: the overview page.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(params): Query<OverviewParams>,
) -> Result<Response, PageError> {
    let layout = Layout::new("Overview", Some(Nav::Overview), Some(&visitor));
    let reads = state.reads(&visitor.viewer).await?;
    let stored = reads.stored_range().await?;
    let visible = reads.sensors().await?;
    let sensor = params.sensor(&visible)?;
    let overview = reads.overview(&params.window(), sensor.as_ref()).await?;
    let json = reads
        .overview_json(&params.window(), sensor.as_ref())
        .await?;
    let mut page = overview_page(layout, &overview, stored, json.island(), state.now());
    if let Some(sensor) = &sensor {
        let value = super::alerts::percent_encode(&sensor.to_string());
        page.sensor_query = format!("&sensor={value}");
        for preset in &mut page.presets {
            let joint = if preset.href.contains('?') { '&' } else { '?' };
            preset.href = format!("{}{joint}sensor={value}", preset.href);
        }
    }
    page.sensors = visible
        .iter()
        .map(|s| SensorChoice {
            value: s.id.to_string(),
            selected: sensor.as_ref() == Some(&s.id),
        })
        .collect();
    page.latest_alerts = super::alerts::latest(&state, &visitor.viewer).await?;
    Ok(render(&page))
}

pub(super) fn window_query(w: Window) -> String {
    format!(
        "from={}&to={}",
        window::display(w.from),
        window::display(w.to)
    )
}

fn overview_page(
    layout: Layout,
    o: &Overview,
    stored: Option<(i64, i64)>,
    island: String,
    now: Timestamp,
) -> OverviewPage {
    let window = match (o.from, o.to) {
        (Some(from), Some(to)) => Some(Window {
            from: from.secs(),
            to: to.secs(),
        }),
        _ => None,
    };
    let total = o.totals.packets;
    let class_packets = |c: TrafficClass| o.totals.by_class.get(&c).copied().unwrap_or(0);
    let mut stats = vec![Stat {
        label: "Packets".into(),
        value: views::int(total),
        note: views::bytes(o.totals.bytes),
    }];
    stats.extend(TrafficClass::ALL.map(|c| Stat {
        label: capitalised(c.as_str()),
        value: views::int(class_packets(c)),
        note: views::percent(class_packets(c), total),
    }));
    // The sources of no known country are no country: counted neither here nor in the table.
    let known_countries = o.countries.iter().filter(|c| c.rank.is_some()).count();
    stats.push(Stat {
        label: "Source countries".into(),
        value: views::int(known_countries as u64),
        note: String::new(),
    });
    stats.push(Stat {
        label: "DoS attacks".into(),
        value: o.dos.len().to_string(),
        note: "inferred from backscatter".into(),
    });
    // How much of the darknet the viewer's sensors make up, and how fresh their data is.
    stats.push(Stat {
        label: "Darknet seen".into(),
        value: format!("{} /24", views::int(o.darknet_v4_24s)),
        note: if o.darknet_v6_64s > 0 {
            format!(
                "{} IPv4 addresses, {} IPv6 /64",
                views::int(o.darknet_v4_24s * 256),
                views::int(o.darknet_v6_64s)
            )
        } else {
            format!("{} IPv4 addresses", views::int(o.darknet_v4_24s * 256))
        },
    });
    if let Some(newest) = o.newest_data {
        let age = (now.secs() - newest.secs()).max(0);
        stats.push(Stat {
            label: "Newest data".into(),
            value: window::display(newest.secs()),
            note: match age / 3600 {
                0 => "within the hour".into(),
                h if h < 48 => format!("{h} hours ago"),
                h => format!("{} days ago", h / 24),
            },
        });
    }
    OverviewPage {
        layout,
        has_data: window.is_some() && total > 0,
        window: window.map_or_else(String::new, describe_window),
        from: window.map_or_else(String::new, |w| window::display(w.from)),
        to: window.map_or_else(String::new, |w| window::display(w.to)),
        presets: presets(stored),
        stats,
        classes: TrafficClass::ALL.map(|c| c.as_str()).to_vec(),
        days: days(&o.series),
        ports: o
            .top_ports
            .iter()
            .map(|r| PortView {
                rank: r.rank,
                href: port_href(r),
                port: port_label(r.port.unwrap_or(0), r.protocol.map(|p| p.name())),
                packets: views::int(r.packets),
                bytes: views::bytes(r.bytes),
                sources: views::int(r.sources),
            })
            .collect(),
        countries: o
            .countries
            .iter()
            .filter_map(|r| Some((r.rank?, r)))
            .take(COUNTRY_ROWS)
            .map(|(rank, r)| CountryView {
                rank,
                code: r.country.to_string(),
                name: r.name,
                packets: views::int(r.packets),
                share: views::percent(r.packets, total),
                sources: views::int(r.sources),
            })
            .collect(),
        countries_total: known_countries,
        unplaced: o
            .countries
            .iter()
            .find(|r| r.rank.is_none())
            .map(|r| UnplacedView {
                packets: views::int(r.packets),
                share: views::percent(r.packets, total),
                sources: views::int(r.sources),
            }),
        hours: (0..24).map(|h| format!("{h:02}")).collect(),
        heat: o
            .heatmap
            .ports
            .iter()
            .zip(&o.heatmap.packets)
            .map(|(p, hours)| HeatView {
                port: port_label(p.port, Some(p.protocol.name())),
                cells: hours.iter().map(|&n| views::int(n)).collect(),
            })
            .collect(),
        dos: o
            .dos
            .iter()
            .take(DOS_ROWS)
            .map(|row| DosView {
                victim: row.attack.victim.to_string(),
                anonymised: row.attack.victim.anonymised(),
                protocol: row.attack.protocol.name(),
                country: format!("{} {}", row.attack.country, row.country_name),
                asn: match &row.as_name {
                    Some(name) => format!("AS{} {name}", row.attack.asn),
                    None => format!("AS{}", row.attack.asn),
                },
                first: row
                    .attack
                    .first
                    .to_datetime()
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string(),
                duration: duration(row.attack.duration_secs),
                packets: views::int(row.attack.packets),
                peak: views::int(row.attack.peak_packets_per_minute),
            })
            .collect(),
        dos_total: o.dos.len(),
        dos_anonymised: o
            .dos
            .iter()
            .take(DOS_ROWS)
            .any(|d| d.attack.victim.anonymised()),
        query: window.map(window_query).unwrap_or_default(),
        sensor_query: String::new(),
        sensors: Vec::new(),
        island,
        latest_alerts: Vec::new(),
    }
}

pub(super) fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The page of a top-ports row's port.
pub(super) fn port_href(r: &TopRow) -> String {
    let protocol = r.protocol.map(|p| p.name()).unwrap_or_default();
    format!("/ports/{protocol}/{}", r.port.unwrap_or_default())
}

pub(super) fn port_label(port: u16, protocol: Option<String>) -> String {
    format!("{port}/{}", protocol.unwrap_or_else(|| "?".into()))
}

/// `5 Oct 2026 00:00 – 7 Oct 2026 00:00 UTC (48 hours)`.
pub(super) fn describe_window(w: Window) -> String {
    let at = |s: i64| {
        Timestamp::from_secs(s)
            .to_datetime()
            .format("%-d %b %Y %H:%M")
            .to_string()
    };
    let hours = (w.to - w.from) / 3600;
    let length = if hours % 24 == 0 {
        format!("{} days", hours / 24)
    } else {
        format!("{hours} hours")
    };
    format!("{} – {} UTC ({length})", at(w.from), at(w.to))
}

fn duration(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        _ => format!("{:.1} h", secs / 3600.0),
    }
}

/// Daily packets per class: the table behind the hourly chart.
pub(super) fn days(series: &[ClassSeries]) -> Vec<DayView> {
    let mut days: Vec<(i64, Vec<u64>)> = Vec::new();
    for (i, s) in series.iter().enumerate() {
        for p in &s.points {
            let day = p.bucket.secs().div_euclid(86_400);
            let slot = match days.binary_search_by_key(&day, |d| d.0) {
                Ok(slot) => slot,
                Err(slot) => {
                    days.insert(slot, (day, vec![0; series.len()]));
                    slot
                }
            };
            days[slot].1[i] += p.packets;
        }
    }
    days.into_iter()
        .map(|(day, counts)| DayView {
            day: window::display(day * 86_400),
            total: views::int(counts.iter().sum()),
            by_class: counts.into_iter().map(views::int).collect(),
        })
        .collect()
}

/// Quick windows relative to the latest stored data.
fn presets(stored: Option<(i64, i64)>) -> Vec<Preset> {
    window::presets(stored)
        .into_iter()
        .map(|(label, window)| Preset {
            label,
            href: if label == "Last 7 days" {
                "/".into()
            } else {
                format!("/?{}", window_query(window))
            },
        })
        .collect()
}
