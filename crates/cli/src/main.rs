//! `greenwatch`: the command line. It parses flags and wires the crates together; nothing
//! domain-specific lives here.

mod commands;
mod data_dir;
mod progress;
mod table;

use clap::{Parser, Subcommand};
use data_dir::DataDir;
use std::path::PathBuf;
use std::process::ExitCode;

/// Darknet observation and Internet-health metrics for CSIRTs.
#[derive(Parser)]
#[command(
    name = "greenwatch",
    version,
    about,
    long_about = None,
    after_help = "Exit status: 0 when everything was done; 1 when some input was bad (bad rows, \
                  a truncated capture, a failed delivery) and the rest was processed; 2 when \
                  the command failed or its arguments were wrong."
)]
struct Cli {
    /// Data directory holding the store and imported IP data.
    #[arg(
        long,
        global = true,
        env = "GREENWATCH_DATA",
        default_value = "./greenwatch-data"
    )]
    data: PathBuf,

    /// Where the store lives: sqlite:PATH (the embedded database) or
    /// postgres://USER[:PASSWORD]@HOST:PORT/DATABASE (shared by several serve processes).
    /// Default: the `store` of <data>/greenwatch.toml, else greenwatch.sqlite in the data
    /// directory.
    #[arg(long, global = true, env = "GREENWATCH_STORE", value_name = "LOCATION")]
    store: Option<greenwatch_store::StoreLocation>,

    /// Log more (-v: debug, -vv: trace). Logs go to stderr.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import and look up IP-to-ASN / country data.
    Netdb(commands::netdb::NetdbArgs),
    /// Generate test data with known ground truth.
    Generate(commands::generate::GenerateArgs),
    /// Ingest captures into the store.
    Ingest(commands::ingest::IngestArgs),
    /// Ask the store: top talkers, time series, DoS attacks.
    Query(commands::query::QueryArgs),
    /// Weekly, quarterly and observation reports: HTML with charts, print/PDF, JSON.
    Report(commands::report::ReportArgs),
    /// Early warning: surges and level shifts per port, country, AS and fingerprint.
    Detect(commands::detect::DetectArgs),
    /// Alerts: list them, write one by hand, deliver them by webhook or e-mail.
    Alert(commands::alert::AlertArgs),
    /// The research scanners detection leaves out.
    Allowlist(commands::detect::AllowlistArgs),
    /// Ecosystem-health metrics per risk, country or ASN, and period.
    Metrics(commands::metrics::MetricsArgs),
    /// List the risk catalogue (shipped risks plus <data>/risks.toml).
    Risks(commands::metrics::RisksArgs),
    /// Export open data (metrics as CSV/JSON with a Frictionless data package).
    Export(commands::export::ExportArgs),
    /// Manage organisations (owners of datasets, tenants of the portal).
    Org(commands::accounts::OrgArgs),
    /// Manage portal users and their passwords.
    User(commands::accounts::UserArgs),
    /// Manage API tokens for scripts.
    Token(commands::accounts::TokenArgs),
    /// Show the audit log of account and data changes.
    Audit(commands::accounts::AuditArgs),
    /// Build a demo data directory end to end and show what it found.
    Demo(commands::demo::DemoArgs),
    /// Serve the web portal and its JSON API (all assets embedded).
    Serve(commands::serve::ServeArgs),
    /// Sensors of the observation network: register, list, revoke, and run the agent.
    Sensor(commands::sensor::SensorArgs),
    /// Bring the store's schema up to date, or move an embedded store to PostgreSQL.
    Migrate(commands::migrate::MigrateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "debug",
        _ => "trace",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GREENWATCH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level)),
        )
        .init();
    let data = match DataDir::new(cli.data, cli.store) {
        Ok(data) => data,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Netdb(args) => commands::netdb::run(&data, args),
        Command::Detect(args) => commands::detect::run(&data, args),
        Command::Alert(args) => commands::alert::run(&data, args),
        Command::Allowlist(args) => commands::detect::run_allowlist(&data, args),
        Command::Generate(args) => commands::generate::run(&data, args),
        Command::Ingest(args) => commands::ingest::run(&data, args),
        Command::Query(args) => commands::query::run(&data, args),
        Command::Report(args) => commands::report::run(&data, args),
        Command::Metrics(args) => commands::metrics::run(&data, args),
        Command::Risks(args) => commands::metrics::run_risks(&data, args),
        Command::Export(args) => commands::export::run(&data, args),
        Command::Org(args) => commands::accounts::run_org(&data, args),
        Command::User(args) => commands::accounts::run_user(&data, args),
        Command::Token(args) => commands::accounts::run_token(&data, args),
        Command::Audit(args) => commands::accounts::run_audit(&data, args),
        Command::Demo(args) => commands::demo::run(&data, args),
        Command::Serve(args) => commands::serve::run(&data, args),
        Command::Sensor(args) => commands::sensor::run(&data, args),
        Command::Migrate(args) => commands::migrate::run(&data, args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
