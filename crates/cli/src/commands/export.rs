//! `greenwatch export metrics`: the open-data export (CSV, JSON, Frictionless data package,
//! METHOD.md).

use crate::data_dir::DataDir;
use crate::table;
use clap::{Args, Subcommand};
use greenwatch_metrics::export::{export, ExportOptions};
use greenwatch_metrics::Engine;
use greenwatch_model::access::Viewer;
use greenwatch_model::PeriodKind;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Parser)]
pub struct ExportArgs {
    #[command(subcommand)]
    command: ExportCommand,
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Metrics of every risk with data as CSV + JSON per risk, period and grouping, with a
    /// Frictionless datapackage.json and METHOD.md.
    Metrics(MetricsExportArgs),
}

#[derive(Args)]
struct MetricsExportArgs {
    /// Output directory (created if missing; files in it are replaced).
    #[arg(long)]
    out: PathBuf,
    /// Period kinds to export, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "week,month,quarter,year")]
    periods: Vec<PeriodKind>,
    /// Publication threshold: ASN rows with fewer hosts are left out of the files (not of totals).
    #[arg(long, default_value_t = greenwatch_metrics::PUBLICATION_MIN_HOSTS)]
    min_hosts: u64,
    /// Export every dataset, whatever its TLP label (for internal use). Without it the export
    /// is open data: only TLP:CLEAR datasets are counted.
    #[arg(long)]
    all_data: bool,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
}

pub fn run(data: &DataDir, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let ExportCommand::Metrics(args) = args.command;
    let catalogue = data.catalogue()?;
    let store = data.open_existing_store()?;
    let netdb = data.open_netdb()?;
    let viewer = if args.all_data {
        Viewer::Local
    } else {
        Viewer::Anonymous
    };
    let engine = Engine::new(&catalogue, &*store, &*store, &netdb, viewer);
    let options = ExportOptions {
        kinds: args.periods,
        min_hosts: args.min_hosts,
        created: data.now(),
    };
    let report = export(&engine, &args.out, &options)?;
    if args.json {
        table::print_json(&report)?;
    } else {
        println!(
            "wrote {} files ({} rows; {} ASN rows under the threshold of {} hosts left out) to {}",
            report.files.len(),
            report.rows,
            report.hidden_rows,
            args.min_hosts,
            report.directory.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
