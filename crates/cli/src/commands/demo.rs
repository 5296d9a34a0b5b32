//! `greenwatch demo`: imports the IP data, generates a day of darknet traffic, ingests it and
//! prints what an analyst would look at first. Later this becomes the portal's demo.

use crate::commands::generate::{write_traffic, TrafficArgs};
use crate::commands::ingest::{ingest_files, PcapArgs};
use crate::commands::query::{self, QueryArgs};
use crate::data_dir::DataDir;
use anyhow::{bail, Context};
use clap::{Args, Parser};
use greenwatch_model::Timestamp;
use greenwatch_netdb::NetDb;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct DemoArgs {
    /// Directory with ip-location-db CSV files (asn-ipv4.csv, geo-whois-asn-country-ipv4.csv, ...).
    #[arg(long)]
    ip_data: PathBuf,
    #[arg(long, default_value_t = 2_000_000)]
    packets: u64,
    #[arg(long, default_value_t = 48)]
    hours: u32,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

pub fn run(data: &DataDir, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let start = Timestamp::parse("2026-10-05T00:00:00Z").expect("valid literal");
    if data.open_netdb()?.snapshots().is_empty() {
        let files = ip_data_files(&args.ip_data)?;
        std::fs::create_dir_all(data.netdb_dir())?;
        let report = NetDb::import(&data.netdb_dir(), &files, start.to_datetime().date_naive())?;
        println!(
            "imported IP data: {} ASN ranges, {} country ranges",
            report.asn_ranges, report.country_ranges
        );
    }
    let capture_dir = data.netdb_dir().with_file_name("captures");
    std::fs::create_dir_all(&capture_dir)?;
    let traffic = TrafficArgs {
        out: capture_dir.join(format!("demo-seed{}.pcap", args.seed)),
        truth: capture_dir.join(format!("demo-seed{}.truth.json", args.seed)),
        seed: args.seed,
        packets: args.packets,
        start,
        hours: args.hours,
    };
    if !traffic.out.exists() {
        let truth = write_traffic(data, &traffic)?;
        println!(
            "generated {} packets of darknet traffic in {}",
            truth.packets,
            traffic.out.display()
        );
    }
    let ingest = PcapArgs {
        files: vec![traffic.out.clone()],
        sensor: "demo-sensor".into(),
        bucket: "1h".parse().expect("valid literal"),
        json: false,
    };
    let summary = ingest_files(data, &ingest)?;
    println!(
        "ingested {} packets in {:.2} s ({:.1} M packets/s)\n",
        summary.counts.packets,
        summary.seconds,
        summary.packets_per_second / 1e6
    );
    for (title, argv) in [
        (
            "Top destination ports (scans)",
            vec!["top", "--by", "port", "--class", "scan"],
        ),
        ("Top source countries", vec!["top", "--by", "country"]),
        ("DoS attacks inferred from backscatter", vec!["dos"]),
    ] {
        println!("== {title}");
        let args = QueryArgs::try_parse_from(std::iter::once("query").chain(argv))
            .expect("valid demo query");
        query::run(data, args)?;
        println!();
    }
    Ok(ExitCode::SUCCESS)
}

fn ip_data_files(dir: &PathBuf) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".csv") && !name.contains("-num")
        })
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no ip-location-db CSV files in {}", dir.display());
    }
    Ok(files)
}
