//! The analytics that the portal, the command line and the reports share: overview tables
//! (top ports, countries, series, DoS), port / AS / country slices, an address's history,
//! sensor views and comparisons, metric tables, search and country names. Each public
//! function takes the [`Viewer`] asking and hands it to the store, which returns only the
//! datasets whose label (owner organisation, TLP) that viewer may see
//! (`docs/access-control.md`): the public sees TLP:CLEAR data only. No caller reads the
//! store for these answers itself, and nothing here knows HTTP.
//!
//! The computations reuse the analytics of `greenwatch-observe` ([`Top`], [`Series`],
//! [`infer_dos`]) and `greenwatch-metrics` ([`Engine`]), the same functions behind
//! `greenwatch query` and `greenwatch metrics`, so the portal and the command line agree.

pub mod alerts;
pub mod countries;
mod error;
pub mod ip;
pub mod search;
pub mod sensors;
mod slices;
mod tally;
pub mod window;

pub use error::AnalyticsError;
pub use slices::{scan_index, slice, Slice, SliceReport, PORT_INDEX_ROWS};

use crate::window::Window;
use greenwatch_feeds::{Catalogue, RiskIndex};
use greenwatch_metrics::{Engine, GroupBy, MetricRow, MetricTable, PUBLICATION_MIN_HOSTS, WORLD};
use greenwatch_model::access::{Label, Viewer};
use greenwatch_model::anonymise::{CryptoPan, Disclosure, Shown};
use greenwatch_model::sensor::SensorRef;
use greenwatch_model::{CountryCode, Period, PeriodKind, Timestamp, TrafficClass, Transport};
use greenwatch_netdb::NetDb;
use greenwatch_observe::{
    infer_dos, BackscatterSlot, DosAttack, FlowFilter, FlowTuple, SeriesPoint, Top, TopBy, TopRow,
};
use greenwatch_store::{ObservationStore, RiskStore, Store, TimeRange};
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What the data functions read from: one store connection, the IP data and the risks, and
/// the deployment's anonymiser for every address they return.
pub struct DataAccess<'a> {
    pub store: &'a dyn Store,
    pub netdb: &'a NetDb,
    pub catalogue: &'a Catalogue,
    pub pan: &'a CryptoPan,
}

/// A metrics engine counting only the datasets `viewer` may see.
fn metrics_engine<'a>(sources: &DataAccess<'a>, viewer: &Viewer) -> Engine<'a> {
    let risks: &'a dyn RiskStore = sources.store;
    let observations: &'a dyn ObservationStore = sources.store;
    Engine::new(
        sources.catalogue,
        risks,
        observations,
        sources.netdb,
        viewer.clone(),
    )
}

// ---------------------------------------------------------------------------------------
// Observations: the overview.
// ---------------------------------------------------------------------------------------

/// Scan ports listed in the overview.
pub const TOP_PORTS: usize = 20;
/// Ports (the top scan ports) in the port × hour-of-day heatmap.
pub const HEATMAP_PORTS: usize = 10;
/// Width of the overview's time series.
pub const SERIES_SECS: i64 = 3600;

/// First and last stored bucket start (seconds) that `viewer` may see.
pub fn stored_range(
    sources: &DataAccess,
    viewer: &Viewer,
) -> Result<Option<(i64, i64)>, AnalyticsError> {
    Ok(sources.store.flow_bucket_range(viewer)?)
}

/// Packets and bytes of a window, in total and per class.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Totals {
    pub packets: u64,
    pub bytes: u64,
    pub by_class: BTreeMap<TrafficClass, u64>,
}

impl Totals {
    fn add(&mut self, f: &FlowTuple) {
        self.packets += f.packets;
        self.bytes += f.bytes;
        *self.by_class.entry(f.class).or_default() += f.packets;
    }
}

/// [`Totals`] summed in arrays, for passes over millions of flow tuples.
#[derive(Clone, Copy, Default)]
struct ClassSums {
    packets: [u64; 4],
    bytes: u64,
    /// Bit `class.code()`: the class had a flow.
    seen: u8,
}

impl ClassSums {
    fn add(&mut self, f: &FlowTuple) {
        let class = f.class.code();
        self.packets[class as usize] += f.packets;
        self.bytes += f.bytes;
        self.seen |= 1 << class;
    }

    fn totals(&self) -> Totals {
        Totals {
            packets: self.packets.iter().sum(),
            bytes: self.bytes,
            by_class: TrafficClass::ALL
                .into_iter()
                .filter(|c| self.seen & (1 << c.code()) != 0)
                .map(|c| (c, self.packets[c.code() as usize]))
                .collect(),
        }
    }
}

/// Packets, bytes and distinct sources per hour of one class.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassSeries {
    pub class: TrafficClass,
    pub points: Vec<SeriesPoint>,
}

/// One source country (all classes), ranked by packets.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CountryRow {
    /// Among the known countries, 1 for the most packets; `null` for the row of sources no IP
    /// data places in a country, which is no country and is neither ranked nor counted as one.
    pub rank: Option<u32>,
    /// ISO 3166-1 alpha-2; `null` when unknown.
    pub country: CountryCode,
    pub name: &'static str,
    pub packets: u64,
    pub bytes: u64,
    pub sources: u64,
}

/// A destination port with its transport.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct PortKey {
    pub port: u16,
    pub protocol: Transport,
}

/// Scan packets per port and hour of day (UTC, from the hourly bucket starts).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Heatmap {
    pub ports: Vec<PortKey>,
    /// `packets[i][h]`: packets to `ports[i]` in hour `h` (0-23) of any day of the window.
    pub packets: Vec<[u64; 24]>,
}

/// An inferred DoS attack with the victim's AS name, the victim as the viewer may see it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DosRow {
    #[serde(flatten)]
    pub attack: DosAttack<Shown<IpAddr>>,
    pub country_name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_name: Option<String>,
}

/// Everything the overview page shows, for one window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Overview {
    /// The window, `from` inclusive, `to` exclusive; both `null` when nothing is stored.
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub totals: Totals,
    /// One series per class, hourly, every hour of the window.
    pub series: Vec<ClassSeries>,
    /// Top destination ports of scans (ICMP has no port), by packets.
    pub top_ports: Vec<TopRow>,
    /// Every source country of the window (all classes), by packets.
    pub countries: Vec<CountryRow>,
    pub heatmap: Heatmap,
    /// Attacks inferred from backscatter, most recent first.
    pub dos: Vec<DosRow>,
    /// The source countries of each class apart (scanners and DoS victims are not one
    /// population), by packets.
    pub countries_by_class: Vec<ClassCountries>,
    /// How much address space received the traffic: distinct IPv4 /24 and IPv6 /64
    /// destination networks in the window.
    pub darknet_v4_24s: u64,
    pub darknet_v6_64s: u64,
    /// The end of the newest stored hour the viewer may see (not only of the window).
    pub newest_data: Option<Timestamp>,
}

/// The source countries of one traffic class.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassCountries {
    pub class: TrafficClass,
    pub countries: Vec<CountryRow>,
}

impl Overview {
    fn empty() -> Overview {
        Overview {
            from: None,
            to: None,
            totals: Totals::default(),
            series: Vec::new(),
            top_ports: Vec::new(),
            countries: Vec::new(),
            heatmap: Heatmap::default(),
            dos: Vec::new(),
            countries_by_class: Vec::new(),
            darknet_v4_24s: 0,
            darknet_v6_64s: 0,
            newest_data: None,
        }
    }
}

/// The overview of `window` (`None`: nothing stored) as `viewer` may see it, of every sensor
/// or of one (`sensor`: the captures stored under it, as `scan_flows` selects them). One pass
/// over the window's flow tuples feeds every table: packets and bytes are sums per key, and
/// the distinct sources of each row (country, class and country, scanned port, hour) come from
/// packed pairs sorted once ([`tally::SourceBook`]) instead of one hash set per table
/// (`observe::Top`), which made a month's overview cost seconds.
pub fn overview(
    sources: &DataAccess,
    viewer: &Viewer,
    window: Option<Window>,
    sensor: Option<&SensorRef>,
) -> Result<Overview, AnalyticsError> {
    let Some(window) = window else {
        return Ok(Overview::empty());
    };
    let (range, all) = window_scope(window);
    let mut hourly = tally::HourlyClasses::new(window.from, window.to);
    let mut book = tally::SourceBook::default();
    let mut ports: FxHashMap<(Transport, u16), (u64, u64)> = FxHashMap::default();
    let mut countries: FxHashMap<CountryCode, (u64, u64)> = FxHashMap::default();
    let mut class_countries: FxHashMap<(TrafficClass, CountryCode), (u64, u64)> =
        FxHashMap::default();
    let mut port_hours: FxHashMap<PortKey, [u64; 24]> = FxHashMap::default();
    let mut totals = ClassSums::default();
    let mut networks = tally::Networks::default();
    sources.store.scan_flows(viewer, range, sensor, &mut |f| {
        if !all.matches(f) {
            return;
        }
        hourly.add(f.bucket, f.class, f.src, f.packets, f.bytes);
        let add = |t: &mut (u64, u64)| {
            t.0 += f.packets;
            t.1 += f.bytes;
        };
        add(countries.entry(f.src_country).or_default());
        add(class_countries.entry((f.class, f.src_country)).or_default());
        networks.add(f.dst_net);
        let scan_port =
            (f.class == TrafficClass::Scan && !f.transport.is_icmp()).then_some(PortKey {
                port: f.dst_port,
                protocol: f.transport,
            });
        if let Some(key) = scan_port {
            add(ports.entry((f.transport, f.dst_port)).or_default());
            let hour = f.bucket.rem_euclid(86_400) / 3600;
            port_hours.entry(key).or_default()[hour as usize] += f.packets;
        }
        book.add(f.src, f.src_country, f.class, scan_port);
        totals.add(f);
    })?;
    let counted = book.counts();
    let port_sources = &counted.by_port;
    let top_ports = tally::ranked(
        ports,
        TOP_PORTS,
        |(protocol, port)| port_sources[&PortKey { port, protocol }],
        |row, (protocol, port)| TopRow {
            port: Some(port),
            protocol: Some(protocol),
            ..row
        },
    );
    let heatmap = heatmap(&top_ports, &port_hours);
    let countries = country_top_rows(countries, |c| counted.by_country[&c]);
    let class_sources = &counted.by_class_country;
    let countries_by_class = TrafficClass::ALL
        .into_iter()
        .map(|class| {
            let mine: FxHashMap<CountryCode, (u64, u64)> = class_countries
                .iter()
                .filter(|((c, _), _)| *c == class)
                .map(|((_, country), t)| (*country, *t))
                .collect();
            ClassCountries {
                class,
                countries: country_rows(country_top_rows(mine, |c| class_sources[&(class, c)])),
            }
        })
        .collect();
    let slots = sources
        .store
        .labelled_backscatter_slots(viewer, range, sensor)?;
    let (darknet_v4_24s, darknet_v6_64s) = networks.counts();
    Ok(Overview {
        from: Some(Timestamp::from_secs(window.from)),
        to: Some(Timestamp::from_secs(window.to)),
        totals: totals.totals(),
        series: hourly.finish(),
        top_ports,
        countries: country_rows(countries),
        heatmap,
        dos: dos_rows(sources, viewer, slots),
        countries_by_class,
        darknet_v4_24s,
        darknet_v6_64s,
        newest_data: sources
            .store
            .flow_bucket_range(viewer)?
            .map(|(_, last)| Timestamp::from_secs(last + 3600)),
    })
}

/// Country rows of `observe::Top` (by packets, ties by country), every country.
fn country_top_rows(
    totals: FxHashMap<CountryCode, (u64, u64)>,
    sources: impl Fn(CountryCode) -> u64,
) -> Vec<TopRow> {
    tally::ranked(totals, usize::MAX, sources, |row, country| TopRow {
        country: Some(country),
        ..row
    })
}

/// The store range of a window and the filter of every flow in it.
fn window_scope(window: Window) -> (TimeRange, FlowFilter) {
    let range = TimeRange {
        from: Some(window.from),
        to: Some(window.to),
    };
    let all = FlowFilter {
        from: range.from,
        to: range.to,
        ..FlowFilter::default()
    };
    (range, all)
}

/// The source countries by packets, the known ones ranked 1, 2, 3, ... (the sources of no
/// known country keep their place by packets, unranked: ranking them left a gap in the ranks
/// of the countries, and counting them made one country too many).
fn country_rows(rows: Vec<TopRow>) -> Vec<CountryRow> {
    let mut rank = 0;
    rows.into_iter()
        .map(|row| {
            let known = row.country.unwrap_or_default().is_known();
            if known {
                rank += 1;
            }
            country_row(row, known.then_some(rank))
        })
        .collect()
}

fn country_row(row: TopRow, rank: Option<u32>) -> CountryRow {
    let country = row.country.unwrap_or_default();
    CountryRow {
        rank,
        country,
        name: countries::name(country),
        packets: row.packets,
        bytes: row.bytes,
        sources: row.sources,
    }
}

fn heatmap(top_ports: &[TopRow], port_hours: &FxHashMap<PortKey, [u64; 24]>) -> Heatmap {
    let ports: Vec<PortKey> = top_ports
        .iter()
        .take(HEATMAP_PORTS)
        .filter_map(|r| {
            Some(PortKey {
                port: r.port?,
                protocol: r.protocol?,
            })
        })
        .collect();
    let packets = ports
        .iter()
        .map(|p| port_hours.get(p).copied().unwrap_or_default())
        .collect();
    Heatmap { ports, packets }
}

/// Attacks from the slots, most recent first, with the AS name of the newest IP data. A
/// victim is shown as the strictest disclosure of the datasets that saw it says.
fn dos_rows(
    sources: &DataAccess,
    viewer: &Viewer,
    labelled: Vec<(Label, Vec<BackscatterSlot>)>,
) -> Vec<DosRow> {
    let names = sources.netdb.snapshots().last();
    let mut disclosures: FxHashMap<IpAddr, Disclosure> = FxHashMap::default();
    let mut slots = Vec::new();
    for (label, part) in labelled {
        let disclosure = Disclosure::for_viewer(viewer, &label);
        for slot in &part {
            disclosures
                .entry(slot.victim)
                .and_modify(|d| *d = d.strictest(disclosure))
                .or_insert(disclosure);
        }
        slots.extend(part);
    }
    let mut rows: Vec<DosRow> = infer_dos(slots)
        .into_iter()
        .map(|a| DosRow {
            country_name: countries::name(a.country),
            as_name: names.and_then(|s| s.as_name(a.asn)).map(str::to_owned),
            attack: {
                let shown = disclosures[&a.victim].source(sources.pan, a.victim);
                a.with_victim(shown)
            },
        })
        .collect();
    rows.reverse();
    rows
}

// ---------------------------------------------------------------------------------------
// Risk metrics.
// ---------------------------------------------------------------------------------------

/// A risk of the catalogue with the days it has data for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RiskSummary {
    pub slug: String,
    pub title: String,
    pub amplification: Option<f64>,
    pub first_day: Option<chrono::NaiveDate>,
    pub last_day: Option<chrono::NaiveDate>,
}

/// Every risk of the catalogue, with what `viewer` may see of its coverage.
pub fn risks(sources: &DataAccess, viewer: &Viewer) -> Result<Vec<RiskSummary>, AnalyticsError> {
    let engine = metrics_engine(sources, viewer);
    let mut out = Vec::new();
    for (i, risk) in sources.catalogue.risks().iter().enumerate() {
        let coverage = engine.coverage(RiskIndex(i as u16))?;
        out.push(RiskSummary {
            slug: risk.slug.clone(),
            title: risk.title.clone(),
            amplification: risk.amplification.as_ref().map(|a| a.factor),
            first_day: coverage.map(|c| c.0),
            last_day: coverage.map(|c| c.1),
        });
    }
    Ok(out)
}

/// Which metric tables to compute: `risk` is a slug or `all` (every risk with data); `at`
/// is a date or period label, by default each risk's last complete period (the running one
/// while none is complete).
#[derive(Clone, Debug)]
pub struct MetricsQuery {
    pub risk: String,
    pub by: GroupBy,
    pub period: PeriodKind,
    pub at: Option<String>,
}

/// The metric tables of a query (a risk without data gives no table).
pub fn metric_tables(
    sources: &DataAccess,
    viewer: &Viewer,
    query: &MetricsQuery,
) -> Result<Vec<MetricTable>, AnalyticsError> {
    let engine = metrics_engine(sources, viewer);
    let catalogue = sources.catalogue;
    let risks = if query.risk == "all" {
        engine.risks_with_data()?
    } else {
        vec![catalogue
            .by_slug(&query.risk)
            .ok_or_else(|| AnalyticsError::NotFound(format!("unknown risk {:?}", query.risk)))?]
    };
    let at = match query.at.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(
            Period::parse(query.period, text)
                .map_err(|e| AnalyticsError::Query(format!("at: {e}")))?,
        ),
    };
    let mut tables = Vec::new();
    for risk in risks {
        let period = match at {
            Some(period) => period,
            None => match engine.latest_period(risk, query.period)? {
                Some(period) => period,
                None => continue,
            },
        };
        tables.push(engine.table(risk, query.by, period, None)?);
    }
    Ok(tables)
}

/// The rows of `tables` fit for publication (see [`PUBLICATION_MIN_HOSTS`]), in table order.
pub fn publishable(tables: &[MetricTable]) -> Vec<&MetricRow> {
    tables
        .iter()
        .flat_map(|t| t.publishable(PUBLICATION_MIN_HOSTS).0)
        .collect()
}

// ---------------------------------------------------------------------------------------
// One country: its observations and its risk metrics, compared with others and the world.
// ---------------------------------------------------------------------------------------

/// Countries a country page may be compared with.
pub const MAX_COMPARE: usize = 3;

/// Packets and bytes of one country (or the world) in the window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PacketTotals {
    /// ISO 3166-1 alpha-2, or `WORLD`.
    pub country: String,
    pub name: &'static str,
    #[serde(flatten)]
    pub totals: Totals,
    /// Packets of this row / packets of the world.
    pub share: f64,
}

/// One country's (or the world's) metrics for a risk; zero hosts when it has none.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RiskCell {
    /// ISO 3166-1 alpha-2, or `WORLD`.
    pub country: String,
    pub name: &'static str,
    pub hosts: u64,
    pub hosts_ipv6: u64,
    pub share: f64,
    pub density: Option<f64>,
    pub ddos_potential: Option<f64>,
    pub rank: Option<u32>,
    pub previous_hosts: u64,
    pub change: Option<f64>,
}

/// A risk's metrics for the latest month with data: the country, the countries compared and
/// the world, in that order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RiskComparison {
    pub risk: String,
    pub title: String,
    pub period: String,
    pub first_day: chrono::NaiveDate,
    pub last_day: chrono::NaiveDate,
    pub rows: Vec<RiskCell>,
}

/// Everything a country page shows, for one window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CountryReport {
    pub country: CountryCode,
    pub name: &'static str,
    /// The countries compared, as asked (without duplicates or the country itself).
    pub compare: Vec<CountryCode>,
    /// The window, `from` inclusive, `to` exclusive; both `null` when nothing is stored.
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Packets from the country, by class.
    pub totals: Totals,
    /// Packets from the country, the countries compared and the world.
    pub packets: Vec<PacketTotals>,
    /// Packets from the country per hour, one series per class.
    pub series: Vec<ClassSeries>,
    /// Top destination ports of the country's scans, by packets.
    pub top_ports: Vec<TopRow>,
    /// Every risk with data, latest month.
    pub risks: Vec<RiskComparison>,
}

fn name_or_world(code: &str) -> &'static str {
    if code == WORLD {
        "World"
    } else {
        countries::name_of(code)
    }
}

/// The metric tables of every risk per country (or AS) for each risk's default month, which
/// country (AS) pages take their risk rows from: one computation shared by all of them.
pub fn all_risks_by(by: GroupBy) -> MetricsQuery {
    MetricsQuery {
        risk: "all".into(),
        by,
        period: PeriodKind::Month,
        at: None,
    }
}

/// The report of `country` compared with `compare` over `window` (`None`: nothing stored), as
/// `viewer` may see it. The observations are one pass over the window's flow tuples, with the
/// overview's accumulators filtered by source country; the risk rows come from `risk_tables`
/// (the viewer's [`all_risks_by`] country tables).
pub fn country(
    sources: &DataAccess,
    viewer: &Viewer,
    country: CountryCode,
    compare: &[CountryCode],
    window: Option<Window>,
    risk_tables: &[MetricTable],
) -> Result<CountryReport, AnalyticsError> {
    let mut report = CountryReport {
        country,
        name: countries::name(country),
        compare: compare.to_vec(),
        from: None,
        to: None,
        totals: Totals::default(),
        packets: Vec::new(),
        series: Vec::new(),
        top_ports: Vec::new(),
        risks: Vec::new(),
    };
    if let Some(window) = window {
        let (range, all) = window_scope(window);
        let mine = FlowFilter {
            country: Some(country),
            ..all.clone()
        };
        let mut hourly = tally::HourlyClasses::new(window.from, window.to);
        let mut ports = Top::new(
            TopBy::Port,
            FlowFilter {
                class: Some(TrafficClass::Scan),
                ..mine.clone()
            },
        );
        let mut world = ClassSums::default();
        let mut per_country: Vec<(CountryCode, ClassSums)> = std::iter::once(country)
            .chain(compare.iter().copied())
            .map(|c| (c, ClassSums::default()))
            .collect();
        sources.store.scan_flows(viewer, range, None, &mut |f| {
            if !all.matches(f) {
                return;
            }
            world.add(f);
            if let Some((_, t)) = per_country.iter_mut().find(|(c, _)| *c == f.src_country) {
                t.add(f);
            }
            if f.src_country == country {
                hourly.add(f.bucket, f.class, f.src, f.packets, f.bytes);
                ports.add(f);
            }
        })?;
        let world = world.totals();
        let per_country: Vec<(CountryCode, Totals)> = per_country
            .into_iter()
            .map(|(c, sums)| (c, sums.totals()))
            .collect();
        let share = |t: &Totals| {
            if world.packets == 0 {
                0.0
            } else {
                t.packets as f64 / world.packets as f64
            }
        };
        report.from = Some(Timestamp::from_secs(window.from));
        report.to = Some(Timestamp::from_secs(window.to));
        report.totals = per_country[0].1.clone();
        report.packets = per_country
            .iter()
            .map(|(c, t)| PacketTotals {
                country: c.to_string(),
                name: countries::name(*c),
                share: share(t),
                totals: t.clone(),
            })
            .collect();
        report.packets.push(PacketTotals {
            country: WORLD.into(),
            name: "World",
            share: share(&world),
            totals: world,
        });
        report.series = hourly.finish();
        report.top_ports = ports.finish(TOP_PORTS);
    }
    let codes: Vec<String> = std::iter::once(country)
        .chain(compare.iter().copied())
        .map(|c| c.to_string())
        .chain(std::iter::once(WORLD.to_string()))
        .collect();
    for table in risk_tables {
        let (rows, _) = table.publishable(PUBLICATION_MIN_HOSTS);
        let Some(first) = rows.first() else {
            continue;
        };
        let title = sources
            .catalogue
            .by_slug(&table.risk)
            .map(|r| sources.catalogue.get(r).title.clone())
            .unwrap_or_default();
        report.risks.push(RiskComparison {
            risk: table.risk.clone(),
            title,
            period: table.period.clone(),
            first_day: first.first_day,
            last_day: first.last_day,
            rows: codes
                .iter()
                .map(|code| risk_cell(code, rows.iter().find(|r| r.country.as_ref() == Some(code))))
                .collect(),
        });
    }
    Ok(report)
}

fn risk_cell(code: &str, row: Option<&&MetricRow>) -> RiskCell {
    RiskCell {
        country: code.to_string(),
        name: name_or_world(code),
        hosts: row.map_or(0, |r| r.hosts),
        hosts_ipv6: row.map_or(0, |r| r.hosts_ipv6),
        share: row.map_or(0.0, |r| r.share),
        density: row.and_then(|r| r.density),
        ddos_potential: row.and_then(|r| r.ddos_potential),
        rank: row.and_then(|r| r.rank),
        previous_hosts: row.map_or(0, |r| r.previous_hosts),
        change: row.and_then(|r| r.change),
    }
}
