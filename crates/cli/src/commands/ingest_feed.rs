//! `greenwatch ingest feed`: risk feed files → parse → enrich → store as risk events
//! (`greenwatch-ingest`, the same code the portal's upload runs), one transaction per file,
//! skipping files whose content is already stored.

use super::label::LabelArgs;
use crate::data_dir::DataDir;
use crate::progress::Bar;
use crate::table;
use clap::{Args, ValueEnum};
use greenwatch_feeds::{FeedError, FeedFormat, Mapping};
use greenwatch_ingest::{ingest_feed, FeedOptions, FileOutcome, FileStatus};
use greenwatch_model::FeedCounts;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Copy, Clone, Debug, ValueEnum)]
enum FormatArg {
    /// Decide from the file name and first line (a --mapping implies csv).
    Auto,
    /// Shadowserver report CSV.
    Shadowserver,
    /// IntelMQ events, JSON lines.
    Intelmq,
    /// Generic CSV or JSON lines described by --mapping.
    Csv,
}

#[derive(Args)]
pub struct FeedArgs {
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Input format.
    #[arg(long, value_enum, default_value = "auto")]
    format: FormatArg,
    /// TOML mapping for generic CSV/JSON: which column is the IP, time, port, ASN, country, risk.
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// Shadowserver report type (e.g. scan_dns) when the file name does not say it.
    #[arg(long)]
    report: Option<String>,
    #[command(flatten)]
    label: LabelArgs,
    /// Print a JSON summary instead of a progress bar and text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct FeedSummary {
    rows: u64,
    events: u64,
    bad_rows: u64,
    seconds: f64,
    rows_per_second: f64,
    files: Vec<FileOutcome>,
}

pub fn run(data: &DataDir, args: FeedArgs) -> anyhow::Result<ExitCode> {
    let catalogue = data.catalogue()?;
    let mapping = args.mapping.as_deref().map(Mapping::load).transpose()?;
    let format = match (args.format, &mapping) {
        (FormatArg::Csv, None) => anyhow::bail!("--format csv needs --mapping FILE.toml"),
        (FormatArg::Auto, Some(_)) | (FormatArg::Csv, Some(_)) => FeedFormat::Mapped,
        (FormatArg::Auto, None) => FeedFormat::Auto,
        (FormatArg::Shadowserver, _) => FeedFormat::Shadowserver,
        (FormatArg::Intelmq, _) => FeedFormat::Intelmq,
    };
    let mut store = data.open_store()?;
    let label = args.label.label(&*store)?;
    let netdb = data.open_netdb()?;
    if netdb.snapshots().is_empty() {
        tracing::warn!(
            "no IP data imported: events will not be enriched (run `greenwatch netdb import`)"
        );
    }
    let started = Instant::now();
    let mut files = Vec::new();
    let options = FeedOptions {
        format,
        mapping: mapping.as_ref(),
        report: args.report.as_deref(),
        label,
        catalogue: &catalogue,
        clock: data.clock().clone(),
    };
    for path in &args.files {
        let name = path.display().to_string();
        let progress = Bar::new(args.json);
        let outcome = ingest_feed(&mut *store, &netdb, path, &name, &options, &progress)
            .unwrap_or_else(|e| {
                // Feed errors name the file (and line) themselves.
                let error = match e.downcast_ref::<FeedError>() {
                    Some(_) => format!("{e:#}"),
                    None => format!("{name}: {e:#}"),
                };
                FileOutcome {
                    counts: Some(FeedCounts::default()),
                    ..FileOutcome::failed(name.clone(), error)
                }
            });
        if let Some(err) = &outcome.error {
            eprintln!("error: {err}");
        }
        for bad in &outcome.bad_examples {
            eprintln!("{}:{}: skipped: {}", outcome.path, bad.line, bad.reason);
        }
        let bad_rows = outcome.counts.as_ref().map_or(0, |c| c.bad_rows);
        let unreported = bad_rows - outcome.bad_examples.len() as u64;
        if unreported > 0 {
            eprintln!(
                "{}: {unreported} more bad rows skipped (see the counts)",
                outcome.path
            );
        }
        files.push(outcome);
    }
    let seconds = started.elapsed().as_secs_f64();
    let total = |f: fn(&FeedCounts) -> u64| {
        files
            .iter()
            .filter_map(|o| o.counts.as_ref())
            .map(f)
            .sum::<u64>()
    };
    let summary = FeedSummary {
        rows: total(|c| c.rows),
        events: total(|c| c.events),
        bad_rows: total(|c| c.bad_rows),
        rows_per_second: total(|c| c.rows) as f64 / seconds.max(1e-9),
        seconds,
        files,
    };
    let failed = summary.files.iter().any(|f| f.status.is_failure());
    if args.json {
        table::print_json(&summary)?;
    } else {
        print_text(&summary);
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_text(s: &FeedSummary) {
    for f in &s.files {
        let what = f
            .info
            .as_ref()
            .map(|i| {
                format!(
                    "{}{}",
                    i.format,
                    i.report_type
                        .as_deref()
                        .map(|r| format!(" {r}"))
                        .unwrap_or_default()
                )
            })
            .unwrap_or_default();
        match &f.error {
            Some(e) => println!("{:<17} {e}", f.status.as_str()),
            None => println!("{:<17} {} {what}", f.status.as_str(), f.path),
        }
        if let (FileStatus::Ingested, Some(c)) = (&f.status, &f.counts) {
            let risks: Vec<String> = c
                .events_by_risk
                .iter()
                .map(|(r, n)| format!("{r} {n}"))
                .collect();
            println!(
                "  {} events ({} IPv6) [{}]; {} bad rows; feed vs netdb disagreements: ASN {}, country {}",
                c.events, c.ipv6_events, risks.join(", "), c.bad_rows, c.asn_disagreements, c.country_disagreements
            );
            for (reason, n) in &c.bad_by_reason {
                println!("  skipped {n} rows: {reason}");
            }
        }
    }
    println!(
        "{} rows ({} events, {} bad) in {:.2} s, {:.0} rows/s",
        s.rows, s.events, s.bad_rows, s.seconds, s.rows_per_second
    );
}
