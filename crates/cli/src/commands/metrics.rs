//! `greenwatch metrics`: ecosystem-health metrics per risk × (country | ASN) × period, and
//! `greenwatch risks`: the risk catalogue.

use crate::data_dir::DataDir;
use crate::table;
use anyhow::Context;
use clap::Args;
use greenwatch_feeds::RiskIndex;
use greenwatch_metrics::{export::write_csv, Engine, GroupBy, MetricRow, MetricTable};
use greenwatch_model::access::Viewer;
use greenwatch_model::{Period, PeriodKind};
use std::process::ExitCode;

#[derive(clap::Parser)]
pub struct MetricsArgs {
    /// Risk slug (see `greenwatch risks`), or `all` for every risk with data.
    #[arg(long, default_value = "all")]
    risk: String,
    /// Group by country or by origin ASN.
    #[arg(long, default_value = "country", value_parser = parse_by)]
    by: GroupBy,
    /// Period length: day, week (ISO), month, quarter or year. Default: what `--at` names
    /// (`2026-W41` is a week, `2026-Q4` a quarter, `2026` a year), else month.
    #[arg(long)]
    period: Option<PeriodKind>,
    /// A date inside the period, or its label (2026-10-05, 2026-W41, 2026-10, 2026-Q4, 2026).
    /// Default: the last complete period (the running one while none is complete).
    #[arg(long)]
    at: Option<String>,
    /// Base period of the trend index (default: the first complete period).
    #[arg(long)]
    base: Option<String>,
    /// Publication threshold: hide ASN rows with fewer hosts (never applied to totals).
    #[arg(long, default_value_t = greenwatch_metrics::PUBLICATION_MIN_HOSTS)]
    min_hosts: u64,
    /// Show at most this many group rows per table (0 = all).
    #[arg(long, default_value_t = 0)]
    limit: usize,
    /// Print a JSON array of row objects.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV.
    #[arg(long)]
    csv: bool,
}

fn parse_by(s: &str) -> Result<GroupBy, String> {
    s.parse()
}

/// The period kind a label names by its shape (`2026-W41`: week, `2026-Q4`: quarter,
/// `2026-10`: month, `2026`: year); a date names none (it lies in a period of every kind).
fn period_kind_of_label(label: &str) -> Option<PeriodKind> {
    let label = label.trim();
    let (year, rest) = label.split_once('-').unwrap_or((label, ""));
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match rest.as_bytes() {
        [] => Some(PeriodKind::Year),
        [b'W' | b'w', ..] => Some(PeriodKind::Week),
        [b'Q' | b'q', ..] => Some(PeriodKind::Quarter),
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Some(PeriodKind::Month),
        _ => None,
    }
}

#[derive(Args)]
pub struct RisksArgs {
    /// Print the catalogue as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(data: &DataDir, args: MetricsArgs) -> anyhow::Result<ExitCode> {
    let catalogue = data.catalogue()?;
    let store = data.open_existing_store()?;
    let netdb = data.open_netdb()?;
    let engine = Engine::new(&catalogue, &*store, &*store, &netdb, Viewer::Local);
    let risks: Vec<RiskIndex> = if args.risk == "all" {
        engine.risks_with_data()?
    } else {
        vec![catalogue.by_slug(&args.risk).with_context(|| {
            format!(
                "unknown risk {:?}; known risks: {}",
                args.risk,
                catalogue
                    .risks()
                    .iter()
                    .map(|r| r.slug.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?]
    };
    let kind = args
        .period
        .or_else(|| args.at.as_deref().and_then(period_kind_of_label))
        .unwrap_or(PeriodKind::Month);
    let parse = |text: &str| Period::parse(kind, text).map_err(anyhow::Error::msg);
    let base = args.base.as_deref().map(parse).transpose()?;
    let mut tables = Vec::new();
    for risk in risks {
        let period = match &args.at {
            Some(at) => parse(at)?,
            None => match engine.latest_period(risk, kind)? {
                Some(period) => period,
                None => {
                    eprintln!("{}: no data stored", catalogue.get(risk).slug);
                    continue;
                }
            },
        };
        tables.push(engine.table(risk, args.by, period, base)?);
    }
    let mut rows: Vec<&MetricRow> = Vec::new();
    let mut hidden = 0;
    for t in &tables {
        let (kept, h) = t.publishable(args.min_hosts);
        hidden += h;
        let limit = if args.limit == 0 {
            usize::MAX
        } else {
            args.limit + 1
        };
        rows.extend(kept.into_iter().take(limit));
    }
    if hidden > 0 {
        eprintln!(
            "{hidden} ASN rows with fewer than {} hosts are hidden (--min-hosts); they are in every total",
            args.min_hosts
        );
    }
    if args.json {
        table::print_json(&rows)?;
    } else if args.csv {
        write_csv(&rows, args.by, std::io::stdout().lock())?;
    } else {
        print_tables(&tables, &rows, args.by);
    }
    Ok(ExitCode::SUCCESS)
}

fn fmt_opt(v: Option<f64>, decimals: usize) -> String {
    v.map(|x| format!("{x:.decimals$}"))
        .unwrap_or_else(|| "-".into())
}

fn print_tables(tables: &[MetricTable], rows: &[&MetricRow], by: GroupBy) {
    for t in tables {
        let partial = match t.rows.first() {
            Some(w) if !w.complete => format!(
                ", PARTIAL: data on {} of {} days, no change or trend",
                w.days_with_data, w.days_in_period
            ),
            _ => String::new(),
        };
        println!(
            "{} per {} for {}{partial} (trend base {}, address space as of {})",
            t.risk,
            by.as_str(),
            t.period,
            t.base,
            t.address_space_as_of
                .map(|d| d.to_string())
                .unwrap_or_else(|| "-".into())
        );
        let group = match by {
            GroupBy::Country => "country",
            GroupBy::Asn => "asn",
        };
        let header = [
            "rank",
            group,
            "hosts",
            "ipv6",
            "share %",
            "density",
            "ddos potential",
            "trend",
            "change %",
        ];
        let body: Vec<Vec<String>> = rows
            .iter()
            .filter(|r| r.risk == t.risk && r.period == t.period)
            .map(|r| {
                let name = match (&r.country, r.asn) {
                    (Some(c), _) => c.clone(),
                    (None, Some(a)) => match &r.as_name {
                        Some(n) => format!("AS{a} {}", n.chars().take(30).collect::<String>()),
                        None => format!("AS{a}"),
                    },
                    (None, None) => "-".into(),
                };
                vec![
                    r.rank.map(|x| x.to_string()).unwrap_or_else(|| "-".into()),
                    name,
                    r.hosts.to_string(),
                    r.hosts_ipv6.to_string(),
                    format!("{:.2}", r.share * 100.0),
                    fmt_opt(r.density, 3),
                    fmt_opt(r.ddos_potential, 0),
                    fmt_opt(r.trend, 1),
                    fmt_opt(r.change.map(|c| c * 100.0), 1),
                ]
            })
            .collect();
        table::print(&header, &body);
        println!();
    }
}

pub fn run_risks(data: &DataDir, args: RisksArgs) -> anyhow::Result<ExitCode> {
    let catalogue = data.catalogue()?;
    if args.json {
        table::print_json(&catalogue.risks())?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = catalogue
        .risks()
        .iter()
        .map(|r| {
            let source = match r.observed {
                Some(rule) => format!("observed {}", rule.as_string()),
                None => {
                    let mut s: Vec<String> = r.shadowserver.clone();
                    s.extend(r.intelmq_identifiers.iter().map(|i| format!("intelmq:{i}")));
                    s.extend(r.intelmq_types.iter().map(|i| format!("intelmq type:{i}")));
                    s.join(" ")
                }
            };
            vec![
                r.slug.clone(),
                r.amplification
                    .as_ref()
                    .map(|a| a.factor.to_string())
                    .unwrap_or_else(|| "-".into()),
                r.title.clone(),
                source,
            ]
        })
        .collect();
    table::print(&["risk", "amplification", "title", "from"], &rows);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_names_its_period_kind_and_a_date_none() {
        assert_eq!(period_kind_of_label("2026-W41"), Some(PeriodKind::Week));
        assert_eq!(period_kind_of_label("2026-Q4"), Some(PeriodKind::Quarter));
        assert_eq!(period_kind_of_label("2026-10"), Some(PeriodKind::Month));
        assert_eq!(period_kind_of_label("2026"), Some(PeriodKind::Year));
        assert_eq!(period_kind_of_label("2026-10-05"), None);
        assert_eq!(period_kind_of_label("W41"), None);
    }
}
