//! `greenwatch query top|series|dos`: questions over the stored observations.

use crate::data_dir::DataDir;
use crate::table;
use clap::{Args, Subcommand, ValueEnum};
use greenwatch_analytics::countries;
use greenwatch_model::access::Viewer;
use greenwatch_model::sensor::SensorRef;
use greenwatch_model::{CountryCode, Timestamp, TrafficClass, Transport};
use greenwatch_netdb::NetDb;
use greenwatch_observe::{infer_dos, FlowFilter, Series, Top, TopBy};
use greenwatch_store::{ObservationStore, TimeRange};
use serde::Serialize;
use std::process::ExitCode;

#[derive(clap::Parser)]
pub struct QueryArgs {
    #[command(subcommand)]
    command: QueryCommand,
}

/// Options every query shares.
#[derive(Args, Clone)]
struct Window {
    /// Start of the range (RFC 3339 or a date): buckets starting at or after it.
    #[arg(long)]
    from: Option<Timestamp>,
    /// End of the range (RFC 3339 or a date): buckets starting before it.
    #[arg(long)]
    to: Option<Timestamp>,
    /// Only data from this sensor: ORGANISATION/NAME (e.g. cert-jp/tokyo-1), or NAME when
    /// only one organisation stored captures under it.
    #[arg(long)]
    sensor: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

impl Window {
    /// The sensor asked for. A bare name is resolved from the stored captures, and refused
    /// when captures of several organisations carry it (they are different sensors).
    fn sensor(&self, store: &dyn ObservationStore) -> anyhow::Result<Option<SensorRef>> {
        let Some(text) = &self.sensor else {
            return Ok(None);
        };
        if text.contains('/') {
            return Ok(Some(text.parse().map_err(anyhow::Error::msg)?));
        }
        let mut owners: Vec<String> = store
            .captures()?
            .into_iter()
            .filter(|c| c.sensor == *text)
            .map(|c| c.label.owner)
            .collect();
        owners.sort();
        owners.dedup();
        match owners.as_slice() {
            [] => anyhow::bail!("no capture was stored from a sensor named {text:?}"),
            [org] => Ok(Some(SensorRef::new(org, text))),
            several => anyhow::bail!(
                "several organisations have a sensor named {text:?}; name one of: {}",
                several
                    .iter()
                    .map(|org| format!("{org}/{text}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn range(&self) -> TimeRange {
        TimeRange {
            from: self.from.map(Timestamp::secs),
            to: self.to.map(Timestamp::secs),
        }
    }
}

#[derive(Copy, Clone, ValueEnum)]
enum TopDimension {
    Port,
    Country,
    Asn,
    Source,
}

#[derive(Copy, Clone, ValueEnum)]
enum SeriesBucket {
    Hour,
    Day,
}

#[derive(Subcommand)]
enum QueryCommand {
    /// Top destination ports, source countries, source ASNs or source addresses by packets.
    Top {
        /// What to rank: destination port, source country, source ASN or source address.
        #[arg(long, value_enum)]
        by: TopDimension,
        /// Only this class (scan, backscatter, spoofed, other).
        #[arg(long)]
        class: Option<TrafficClass>,
        /// Rows to print.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        #[command(flatten)]
        window: Window,
    },
    /// Packets, bytes and distinct sources per hour or day for one destination port.
    Series {
        #[arg(long)]
        port: u16,
        #[arg(long)]
        proto: Option<Transport>,
        /// Only sources from this country (ISO 3166 alpha-2).
        #[arg(long)]
        country: Option<CountryCode>,
        #[arg(long, value_enum, default_value = "hour")]
        bucket: SeriesBucket,
        #[command(flatten)]
        window: Window,
    },
    /// DoS attacks inferred from backscatter (CAIDA RS-DoS thresholds).
    Dos {
        #[command(flatten)]
        window: Window,
    },
}

pub fn run(data: &DataDir, args: QueryArgs) -> anyhow::Result<ExitCode> {
    let store = data.open_existing_store()?;
    let netdb = data.open_netdb()?;
    match args.command {
        QueryCommand::Top {
            by,
            class,
            limit,
            window,
        } => {
            let by = match by {
                TopDimension::Port => TopBy::Port,
                TopDimension::Country => TopBy::Country,
                TopDimension::Asn => TopBy::Asn,
                TopDimension::Source => TopBy::Source,
            };
            let filter = FlowFilter {
                class,
                ..FlowFilter::default()
            };
            let mut top = Top::new(by, filter);
            store.scan_flows(
                &Viewer::Local,
                window.range(),
                window.sensor(&*store)?.as_ref(),
                &mut |f| top.add(f),
            )?;
            let rows: Vec<NamedRow<_>> = top
                .finish(limit)
                .into_iter()
                .map(|row| NamedRow {
                    as_name: row.asn.and_then(|a| as_name(&netdb, a)),
                    country_name: country_name(row.country),
                    row,
                })
                .collect();
            if window.json {
                table::print_json(&rows)?;
            } else {
                print_top(by, &rows);
            }
        }
        QueryCommand::Series {
            port,
            proto,
            country,
            bucket,
            window,
        } => {
            let width = match bucket {
                SeriesBucket::Hour => 3600,
                SeriesBucket::Day => 86_400,
            };
            let range = window.range();
            let filter = FlowFilter {
                from: range.from,
                to: range.to,
                port: Some(port),
                transport: proto,
                country,
                class: None,
            };
            let mut series = Series::new(filter, width);
            let sensor = window.sensor(&*store)?;
            store.scan_flows(&Viewer::Local, range, sensor.as_ref(), &mut |f| {
                series.add(f)
            })?;
            let points = series.finish();
            if window.json {
                table::print_json(&points)?;
            } else {
                let rows: Vec<Vec<String>> = points
                    .iter()
                    .map(|p| {
                        vec![
                            p.bucket.to_rfc3339(),
                            p.packets.to_string(),
                            p.bytes.to_string(),
                            p.sources.to_string(),
                        ]
                    })
                    .collect();
                table::print(&["BUCKET", "PACKETS", "BYTES", "SOURCES"], &rows);
            }
        }
        QueryCommand::Dos { window } => {
            let slots = store.backscatter_slots(
                &Viewer::Local,
                window.range(),
                window.sensor(&*store)?.as_ref(),
            )?;
            let attacks: Vec<NamedRow<_>> = infer_dos(slots)
                .into_iter()
                .map(|row| NamedRow {
                    as_name: as_name(&netdb, row.asn),
                    country_name: country_name(Some(row.country)),
                    row,
                })
                .collect();
            if window.json {
                table::print_json(&attacks)?;
            } else {
                let rows: Vec<Vec<String>> = attacks
                    .iter()
                    .map(|a| {
                        let r = &a.row;
                        vec![
                            r.victim.to_string(),
                            r.country.to_string(),
                            format!("AS{} {}", r.asn, a.as_name.as_deref().unwrap_or("")),
                            r.protocol.to_string(),
                            r.first.to_rfc3339(),
                            format!("{:.0}", r.duration_secs),
                            r.packets.to_string(),
                            format!("{:.2}", r.mean_pps),
                        ]
                    })
                    .collect();
                table::print(
                    &[
                        "VICTIM", "CC", "ASN", "PROTO", "FIRST", "SECONDS", "PACKETS", "PPS",
                    ],
                    &rows,
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A result row with the AS name added from the newest IP data and the country's name.
#[derive(Serialize)]
struct NamedRow<T> {
    #[serde(flatten)]
    row: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    as_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    country_name: Option<&'static str>,
}

/// The name of `country` as the portal and the reports show it.
fn country_name(country: Option<CountryCode>) -> Option<&'static str> {
    country.map(countries::name).filter(|name| !name.is_empty())
}

fn as_name(netdb: &NetDb, asn: u32) -> Option<String> {
    netdb.snapshots().last()?.as_name(asn).map(str::to_owned)
}

fn print_top(by: TopBy, rows: &[NamedRow<greenwatch_observe::TopRow>]) {
    let key = |r: &NamedRow<greenwatch_observe::TopRow>| -> Vec<String> {
        let row = &r.row;
        let cc = || {
            row.country
                .map_or("-".into(), |c| countries::labelled(&c.to_string()))
        };
        let asn = || {
            row.asn.map_or("-".into(), |a| {
                format!("AS{a} {}", r.as_name.as_deref().unwrap_or(""))
            })
        };
        match by {
            TopBy::Port => vec![format!(
                "{}/{}",
                row.port.unwrap_or_default(),
                row.protocol.map_or("?".into(), |p| p.name())
            )],
            TopBy::Country => vec![cc()],
            TopBy::Asn => vec![asn()],
            TopBy::Source => vec![row.ip.map_or("-".into(), |i| i.to_string()), cc(), asn()],
        }
    };
    let mut header = vec!["RANK"];
    header.extend(match by {
        TopBy::Port => vec!["PORT"],
        TopBy::Country => vec!["COUNTRY"],
        TopBy::Asn => vec!["ASN"],
        TopBy::Source => vec!["SOURCE", "COUNTRY", "ASN"],
    });
    header.extend(["PACKETS", "BYTES", "SOURCES"]);
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut cells = vec![r.row.rank.to_string()];
            cells.extend(key(r));
            cells.extend([
                r.row.packets.to_string(),
                r.row.bytes.to_string(),
                r.row.sources.to_string(),
            ]);
            cells
        })
        .collect();
    table::print(&header, &rows);
}
