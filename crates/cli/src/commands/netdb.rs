//! `greenwatch netdb import|lookup`.

use crate::data_dir::DataDir;
use crate::table;
use anyhow::{bail, Context};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use greenwatch_netdb::NetDb;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct NetdbArgs {
    #[command(subcommand)]
    command: NetdbCommand,
}

#[derive(Subcommand)]
enum NetdbCommand {
    /// Import IP→ASN and IP→country tables as one dated snapshot.
    ///
    /// Formats (detected per file): ip-location-db CSV (start,end,asn,org and start,end,cc),
    /// iptoasn TSV, MaxMind MMDB (ASN and Country databases).
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Date from which this data is valid (default: today, UTC).
        #[arg(long)]
        as_of: Option<NaiveDate>,
        /// Print the import report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Look up addresses: ASN, AS name, country and the matched ranges.
    Lookup {
        #[arg(required = true)]
        ips: Vec<IpAddr>,
        /// Use the snapshot valid at this date (default: the newest).
        #[arg(long)]
        at: Option<NaiveDate>,
        /// One JSON object per address, one per line.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(data: &DataDir, args: NetdbArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        NetdbCommand::Import { paths, as_of, json } => {
            let as_of = as_of.unwrap_or_else(|| data.now().to_datetime().date_naive());
            let dir = data.netdb_dir();
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let report = NetDb::import(&dir, &paths, as_of)?;
            if json {
                table::print_json(&report)?;
            } else {
                println!(
                    "imported snapshot {}: {} ASN ranges, {} country ranges, {} bad rows skipped",
                    report.as_of, report.asn_ranges, report.country_ranges, report.skipped_rows
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        NetdbCommand::Lookup { ips, at, json } => {
            let netdb = data.open_netdb()?;
            let snapshot = match at {
                Some(date) => netdb.snapshot_at(date),
                None => netdb.snapshots().last(),
            };
            let Some(snapshot) = snapshot else {
                bail!(
                    "no IP data imported in {}: run `greenwatch netdb import` first",
                    data.netdb_dir().display()
                );
            };
            let lookups: Vec<_> = ips.iter().map(|ip| snapshot.lookup(*ip)).collect();
            if json {
                for l in &lookups {
                    println!("{}", serde_json::to_string(l)?);
                }
            } else {
                let rows: Vec<Vec<String>> = lookups
                    .iter()
                    .map(|l| {
                        let opt = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
                        vec![
                            l.ip.to_string(),
                            l.asn.map_or("-".into(), |a| format!("AS{a}")),
                            opt(&l.as_name),
                            opt(&l.country),
                            opt(&l.asn_range),
                        ]
                    })
                    .collect();
                table::print(&["IP", "ASN", "AS NAME", "COUNTRY", "RANGE"], &rows);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
