//! `greenwatch detect` and `greenwatch allowlist`: early warning over the stored observations,
//! and the research-scanner allowlist it leaves out.

use crate::data_dir::DataDir;
use crate::table;
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use greenwatch_detect::{AllowedNetwork, Allowlist, AllowlistEntry, DetectorConfig, Window};
use greenwatch_model::access::{Label, Tlp, Viewer};
use greenwatch_model::Timestamp;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Copy, Clone, ValueEnum)]
enum DetectBucket {
    Hour,
    Day,
}

#[derive(Args)]
pub struct DetectArgs {
    /// Start of the range watched (default: the first stored bucket). The first three days
    /// only build the baseline.
    #[arg(long)]
    from: Option<Timestamp>,
    /// End of the range (default: after the last stored bucket).
    #[arg(long)]
    to: Option<Timestamp>,
    /// Bucket width of the watched series.
    #[arg(long, value_enum, default_value = "hour")]
    bucket: DetectBucket,
    /// Store each finding as an alert (a finding already raised is not raised twice).
    #[arg(long)]
    raise: bool,
    /// Owner organisation of raised alerts.
    #[arg(long, default_value = greenwatch_model::access::OPERATOR_ORG)]
    org: String,
    /// TLP of raised alerts.
    #[arg(long, default_value = "amber")]
    tlp: Tlp,
    /// Half-width of the prediction interval in robust standard deviations.
    #[arg(long)]
    sigmas: Option<f64>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Parser)]
pub struct AllowlistArgs {
    #[command(subcommand)]
    command: AllowlistCommand,
}

#[derive(Subcommand)]
enum AllowlistCommand {
    /// Show the allowlist in use (<data>/allowlist.txt, else the shipped one).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Leave out an AS (AS398324) or prefix (192.0.2.0/24) from detection.
    Add {
        network: AllowedNetwork,
        /// Who scans from it.
        #[arg(default_value = "")]
        name: String,
    },
    /// Watch an AS or prefix again.
    Remove { network: AllowedNetwork },
}

fn allowlist_path(data: &DataDir) -> PathBuf {
    data.layout().allowlist_file()
}

fn load_allowlist(data: &DataDir) -> anyhow::Result<Allowlist> {
    Ok(greenwatch_early_warning::load_allowlist(&allowlist_path(
        data,
    ))?)
}

pub fn run_allowlist(data: &DataDir, args: AllowlistArgs) -> anyhow::Result<ExitCode> {
    let mut list = load_allowlist(data)?;
    match args.command {
        AllowlistCommand::List { json } => {
            if json {
                table::print_json(&list.entries())?;
            } else {
                let rows: Vec<Vec<String>> = list
                    .entries()
                    .iter()
                    .map(|e| vec![e.network.to_string(), e.name.clone()])
                    .collect();
                table::print(&["NETWORK", "SCANNER"], &rows);
            }
            return Ok(ExitCode::SUCCESS);
        }
        AllowlistCommand::Add { network, name } => list.add(AllowlistEntry { network, name }),
        AllowlistCommand::Remove { network } => {
            if !list.remove(&network) {
                anyhow::bail!("{network} is not on the allowlist");
            }
        }
    }
    let path = allowlist_path(data);
    std::fs::create_dir_all(data.root())?;
    std::fs::write(&path, list.to_text()).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("{} entries in {}", list.entries().len(), path.display());
    Ok(ExitCode::SUCCESS)
}

pub fn run(data: &DataDir, args: DetectArgs) -> anyhow::Result<ExitCode> {
    let mut store = data.open_existing_store()?;
    let allowlist = load_allowlist(data)?;
    let width = match args.bucket {
        DetectBucket::Hour => 3600,
        DetectBucket::Day => 86_400,
    };
    let Some((first, last)) = store.flow_bucket_range(&Viewer::Local)? else {
        anyhow::bail!("no observations stored: ingest captures first");
    };
    let window = Window {
        from: args.from.map_or(first, Timestamp::secs),
        to: args.to.map_or(last + width, Timestamp::secs),
        width,
    };
    let mut config = DetectorConfig::default();
    if let Some(sigmas) = args.sigmas {
        config.interval_sigmas = sigmas;
    }
    let mut pass = 0;
    let findings =
        greenwatch_early_warning::find(&*store, window, &allowlist, &config, &mut |from, to| {
            pass += 1;
            eprintln!(
                "detect: pass {pass} of 2, reading flows {} to {}",
                Timestamp::from_secs(from).to_rfc3339(),
                Timestamp::from_secs(to).to_rfc3339()
            );
        })?;
    if args.raise {
        let label = Label {
            owner: args.org.clone(),
            tlp: args.tlp,
        };
        let now = data.now();
        let alerts = findings.iter().map(|f| f.to_alert(label.clone(), now));
        let raised = greenwatch_early_warning::raise(&mut *store, alerts)?;
        eprintln!("detect: {raised} new alerts of {} findings", findings.len());
    }
    if args.json {
        table::print_json(&findings)?;
    } else {
        let rows: Vec<Vec<String>> = findings
            .iter()
            .map(|f| {
                vec![
                    f.first.to_rfc3339(),
                    f.last.to_rfc3339(),
                    f.kind.as_str().into(),
                    f.severity.to_string(),
                    f.name.clone(),
                    format!("{:.1}", f.ratio),
                    f.series
                        .iter()
                        .map(|s| format!("{:.0}/{:.0}", s.observed, s.expected))
                        .collect::<Vec<_>>()
                        .join(" "),
                    f.explanation
                        .countries
                        .iter()
                        .take(3)
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                ]
            })
            .collect();
        table::print(
            &[
                "FIRST",
                "LAST",
                "KIND",
                "SEVERITY",
                "SERIES",
                "RATIO",
                "OBSERVED/EXPECTED",
                "TOP COUNTRIES",
            ],
            &rows,
        );
    }
    Ok(ExitCode::SUCCESS)
}
