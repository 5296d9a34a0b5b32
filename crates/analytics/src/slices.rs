//! Slices of the observations: everything one destination port drew, or everything one
//! source AS sent, in a window. One pass over the window's flow tuples feeds every
//! accumulator, as for the overview (sums per key, distinct sources as packed pairs counted
//! once at the end, `tally`); the ASN slice adds the AS's hosts of each risk.

use crate::window::Window;
use crate::AnalyticsError;
use crate::{
    country_rows, tally, window_scope, ClassSeries, CountryRow, DataAccess, PortKey, Totals,
    TOP_PORTS,
};
use greenwatch_metrics::{MetricTable, PUBLICATION_MIN_HOSTS};
use greenwatch_model::access::Viewer;
use greenwatch_model::{CountryCode, Fingerprint, Timestamp, TrafficClass, Transport};
use greenwatch_observe::{FlowFilter, FlowTuple, TopBy, TopRow};
use rustc_hash::FxHashMap;
use serde::Serialize;

/// Rows of the top lists of a slice (countries, ASNs, ports).
pub const SLICE_ROWS: usize = 25;
/// Ports listed on the ports index.
pub const PORT_INDEX_ROWS: usize = 100;

/// Which flows a slice holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Slice {
    /// Flows to one destination port (ICMP has none).
    Port(PortKey),
    /// Flows from one source AS.
    Asn(u32),
}

impl Slice {
    fn holds(&self, f: &FlowTuple) -> bool {
        match *self {
            Slice::Port(key) => {
                f.dst_port == key.port && f.transport == key.protocol && !f.transport.is_icmp()
            }
            Slice::Asn(asn) => f.src_asn == asn,
        }
    }
}

/// Packets of one scanning tool (by its packet fingerprint) in a slice.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ToolRow {
    pub fingerprint: Fingerprint,
    pub packets: u64,
    pub sources: u64,
}

/// An AS with its name (of the newest IP data), ranked by packets.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AsnRow {
    #[serde(flatten)]
    pub row: TopRow,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_name: Option<String>,
}

/// The AS's hosts of one risk, latest month with data.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AsnRisk {
    pub risk: String,
    pub title: String,
    pub period: String,
    pub hosts: u64,
    pub hosts_ipv6: u64,
    /// Of the world's hosts of the risk.
    pub share: f64,
    /// Among ASes, 1 = most hosts.
    pub rank: Option<u32>,
    pub change: Option<f64>,
}

/// Everything a port or ASN page shows, for one window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SliceReport {
    /// `port` or `asn`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<PortKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_name: Option<String>,
    /// The window, `from` inclusive, `to` exclusive; both `null` when nothing is stored.
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub totals: Totals,
    /// Distinct source addresses in the window.
    pub sources: u64,
    /// First and last hour with a packet in the slice.
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    /// Per hour, one series per class.
    pub series: Vec<ClassSeries>,
    /// Source countries, by packets.
    pub countries: Vec<CountryRow>,
    /// Source ASes, by packets (port slices).
    pub asns: Vec<AsnRow>,
    /// Destination ports of scans, by packets (ASN slices).
    pub top_ports: Vec<TopRow>,
    /// Packets by scanning tool fingerprint.
    pub tools: Vec<ToolRow>,
    /// Hosts of each risk in the AS (ASN slices).
    pub risks: Vec<AsnRisk>,
}

/// The report of `slice` over `window` (`None`: nothing stored) as `viewer` may see it.
pub fn slice(
    sources: &DataAccess,
    viewer: &Viewer,
    slice: Slice,
    window: Option<Window>,
    risk_tables: &[MetricTable],
) -> Result<SliceReport, AnalyticsError> {
    let names = sources.netdb.snapshots().last();
    let as_name = |asn: u32| names.and_then(|s| s.as_name(asn)).map(str::to_owned);
    let mut report = SliceReport {
        kind: match slice {
            Slice::Port(_) => "port",
            Slice::Asn(_) => "asn",
        },
        port: match slice {
            Slice::Port(key) => Some(key),
            Slice::Asn(_) => None,
        },
        asn: match slice {
            Slice::Asn(asn) => Some(asn),
            Slice::Port(_) => None,
        },
        as_name: match slice {
            Slice::Asn(asn) => as_name(asn),
            Slice::Port(_) => None,
        },
        from: None,
        to: None,
        totals: Totals::default(),
        sources: 0,
        first_seen: None,
        last_seen: None,
        series: Vec::new(),
        countries: Vec::new(),
        asns: Vec::new(),
        top_ports: Vec::new(),
        tools: Vec::new(),
        risks: Vec::new(),
    };
    if let Some(window) = window {
        let (range, all) = window_scope(window);
        let mut hourly = tally::HourlyClasses::new(window.from, window.to);
        let mut countries: FxHashMap<CountryCode, (u64, u64)> = FxHashMap::default();
        let mut asns: FxHashMap<u32, (u64, u64)> = FxHashMap::default();
        let mut ports: FxHashMap<(Transport, u16), (u64, u64)> = FxHashMap::default();
        let mut tools = [0u64; Fingerprint::ALL.len()];
        // Distinct sources per row: packed pairs sorted once (`tally`), not a set per table.
        let mut addresses = tally::PairCounter::default();
        let mut country_sources = tally::PairCounter::default();
        let mut asn_sources = tally::PairCounter::default();
        let mut port_sources = tally::PairCounter::default();
        let mut tool_sources = tally::PairCounter::default();
        let (mut first, mut last) = (i64::MAX, i64::MIN);
        sources.store.scan_flows(viewer, range, None, &mut |f| {
            if !all.matches(f) || !slice.holds(f) {
                return;
            }
            report.totals.add(f);
            addresses.add(0, f.src);
            first = first.min(f.bucket);
            last = last.max(f.bucket);
            hourly.add(f.bucket, f.class, f.src, f.packets, f.bytes);
            let add = |t: &mut (u64, u64)| {
                t.0 += f.packets;
                t.1 += f.bytes;
            };
            add(countries.entry(f.src_country).or_default());
            country_sources.add(tally::country_key(f.src_country), f.src);
            add(asns.entry(f.src_asn).or_default());
            asn_sources.add(f.src_asn, f.src);
            if f.class == TrafficClass::Scan && !f.transport.is_icmp() {
                add(ports.entry((f.transport, f.dst_port)).or_default());
                let key = PortKey {
                    port: f.dst_port,
                    protocol: f.transport,
                };
                port_sources.add(tally::port_key(key), f.src);
            }
            if let Some(tool) = f.fingerprint {
                let i = Fingerprint::ALL
                    .iter()
                    .position(|t| *t == tool)
                    .expect("a known tool");
                tools[i] += f.packets;
                tool_sources.add(i as u32, f.src);
            }
        })?;
        report.from = Some(Timestamp::from_secs(window.from));
        report.to = Some(Timestamp::from_secs(window.to));
        report.sources = addresses.counts().get(&0).copied().unwrap_or(0);
        if first <= last {
            report.first_seen = Some(Timestamp::from_secs(first));
            report.last_seen = Some(Timestamp::from_secs(last));
        }
        report.series = hourly.finish();
        let country_sources = country_sources.counts();
        report.countries = country_rows(tally::ranked(
            countries,
            SLICE_ROWS,
            |c| country_sources[&tally::country_key(c)],
            |row, country| TopRow {
                country: Some(country),
                ..row
            },
        ));
        if let Slice::Port(_) = slice {
            let asn_sources = asn_sources.counts();
            report.asns = tally::ranked(
                asns,
                SLICE_ROWS,
                |asn| asn_sources[&asn],
                |row, asn| TopRow {
                    asn: Some(asn),
                    ..row
                },
            )
            .into_iter()
            .map(|row| AsnRow {
                as_name: row.asn.and_then(as_name),
                row,
            })
            .collect();
        } else {
            let port_sources = port_sources.counts();
            report.top_ports = tally::ranked(
                ports,
                TOP_PORTS,
                |(protocol, port)| port_sources[&tally::port_key(PortKey { port, protocol })],
                |row, (protocol, port)| TopRow {
                    port: Some(port),
                    protocol: Some(protocol),
                    ..row
                },
            );
        }
        let tool_sources = tool_sources.counts();
        report.tools = Fingerprint::ALL
            .iter()
            .zip(tools)
            .enumerate()
            .filter(|(_, (_, packets))| *packets > 0)
            .map(|(i, (fingerprint, packets))| ToolRow {
                fingerprint: *fingerprint,
                packets,
                sources: tool_sources[&(i as u32)],
            })
            .collect();
    }
    if let Slice::Asn(asn) = slice {
        report.risks = asn_risks(sources, risk_tables, asn)?;
    }
    Ok(report)
}

/// The AS's row of every risk with data, latest month (rows under the publication threshold
/// are not shown, as in the ASN ranking).
fn asn_risks(
    sources: &DataAccess,
    risk_tables: &[MetricTable],
    asn: u32,
) -> Result<Vec<AsnRisk>, AnalyticsError> {
    let mut risks = Vec::new();
    for table in risk_tables {
        let (rows, _) = table.publishable(PUBLICATION_MIN_HOSTS);
        let Some(row) = rows.iter().find(|r| r.asn == Some(asn)) else {
            continue;
        };
        let title = sources
            .catalogue
            .by_slug(&table.risk)
            .map(|r| sources.catalogue.get(r).title.clone())
            .unwrap_or_default();
        risks.push(AsnRisk {
            risk: table.risk.clone(),
            title,
            period: table.period.clone(),
            hosts: row.hosts,
            hosts_ipv6: row.hosts_ipv6,
            share: row.share,
            rank: row.rank,
            change: row.change,
        });
    }
    Ok(risks)
}

/// The scans of a window ranked `by` port (the ports index) or source AS (the AS index), by
/// packets, the top [`PORT_INDEX_ROWS`] (`by` is [`TopBy::Port`] or [`TopBy::Asn`]).
pub fn scan_index(
    sources: &DataAccess,
    viewer: &Viewer,
    window: Option<Window>,
    by: TopBy,
) -> Result<Vec<TopRow>, AnalyticsError> {
    let Some(window) = window else {
        return Ok(Vec::new());
    };
    let (range, all) = window_scope(window);
    let scans = FlowFilter {
        class: Some(TrafficClass::Scan),
        ..all
    };
    // Keys: a packed port (`tally::port_key`) or an AS number.
    let mut totals: FxHashMap<u32, (u64, u64)> = FxHashMap::default();
    let mut distinct = tally::PairCounter::default();
    sources.store.scan_flows(viewer, range, None, &mut |f| {
        if !scans.matches(f) {
            return;
        }
        let key = match by {
            TopBy::Port if f.transport.is_icmp() => return,
            TopBy::Port => tally::port_key(PortKey {
                port: f.dst_port,
                protocol: f.transport,
            }),
            _ => f.src_asn,
        };
        let t = totals.entry(key).or_default();
        t.0 += f.packets;
        t.1 += f.bytes;
        distinct.add(key, f.src);
    })?;
    let counts = distinct.counts();
    // Ranked as `observe::Top` ranks them: ties by (transport, port) or AS number, which is the
    // order of the packed keys.
    Ok(tally::ranked(
        totals,
        PORT_INDEX_ROWS,
        |key| counts[&key],
        |row, key| match by {
            TopBy::Port => TopRow {
                port: Some(key as u16),
                protocol: Some(Transport((key >> 16) as u8)),
                ..row
            },
            _ => TopRow {
                asn: Some(key),
                ..row
            },
        },
    ))
}
