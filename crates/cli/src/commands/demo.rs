//! `greenwatch demo`: imports the IP data, generates four weeks of darknet traffic seen by
//! three sensors of two organisations and a month of risk feeds, ingests them, prints what an
//! analyst would look at first, exports the open metrics and serves the portal.

use crate::commands::generate::{self, write_traffic, GenerateArgs, TrafficArgs};
use crate::commands::ingest::{ingest_files, LabelArgs, PcapArgs};
use crate::commands::metrics::{self, MetricsArgs};
use crate::commands::query::{self, QueryArgs};
use crate::commands::{export, ingest};
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
    /// Packets per sensor.
    #[arg(long, default_value_t = 2_000_000)]
    packets: u64,
    /// Hours of traffic per sensor (672: four weeks).
    #[arg(long, default_value_t = 672)]
    hours: u32,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Build the demo data only; do not start the portal.
    #[arg(long)]
    no_serve: bool,
    #[command(flatten)]
    serve: super::serve::ServeArgs,
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
    for (i, (sensor, org, tlp)) in DEMO_SENSORS.into_iter().enumerate() {
        let seed = args.seed + i as u64;
        let traffic = TrafficArgs {
            out: capture_dir.join(format!("demo-{sensor}-seed{seed}.pcap")),
            truth: capture_dir.join(format!("demo-{sensor}-seed{seed}.truth.json")),
            seed,
            packets: args.packets,
            start,
            hours: args.hours,
        };
        if !traffic.out.exists() {
            let truth = write_traffic(data, &traffic)?;
            println!(
                "generated {} packets of darknet traffic for sensor {sensor} in {}",
                truth.packets,
                traffic.out.display()
            );
        }
        let ingest = PcapArgs {
            files: vec![traffic.out.clone()],
            sensor: sensor.into(),
            bucket: "1h".parse().expect("valid literal"),
            label: LabelArgs {
                org: org.into(),
                tlp: tlp.parse().expect("valid literal"),
            },
            json: false,
        };
        let summary = ingest_files(data, &ingest)?;
        println!(
            "ingested {} packets of sensor {sensor} ({org}, TLP:{}) in {:.2} s ({:.1} M packets/s)\n",
            summary.counts.packets,
            tlp.to_uppercase(),
            summary.seconds,
            summary.packets_per_second / 1e6
        );
    }
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
    demo_feeds(data, &capture_dir)?;
    if args.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    super::serve::run(data, args.serve)
}

/// The demo's sensors: (name, owner organisation, TLP). Two publish what they see; the
/// third's data is AMBER: only its organisation's members see it after logging in.
const DEMO_SENSORS: [(&str, &str, &str); 3] = [
    ("tokyo", "demo-cert", "clear"),
    ("berlin", "cert-de", "clear"),
    ("lab", "demo-cert", "amber"),
];

/// Feeds of October 2026 for the demo: (report type, rows, seed, IntelMQ, TLP). Scan results
/// are public; the infected-host feed is AMBER: only the owner organisation sees it.
const DEMO_FEEDS: [(&str, u64, u64, bool, &str); 5] = [
    ("scan_dns", 300_000, 11, false, "clear"),
    ("scan_ntpmonitor", 60_000, 12, false, "clear"),
    ("scan_ssdp", 120_000, 13, false, "clear"),
    ("scan6_dns", 20_000, 14, false, "clear"),
    ("event4_sinkhole", 80_000, 15, true, "amber"),
];

/// Generates a month of risk feeds (once), ingests them, prints metrics and exports them.
fn demo_feeds(data: &DataDir, dir: &std::path::Path) -> anyhow::Result<()> {
    let mut files = Vec::new();
    for (report, rows, seed, intelmq, tlp) in DEMO_FEEDS {
        let name = if intelmq {
            format!("2026-10-01-{report}-demo.jsonl")
        } else {
            format!("2026-10-01-{report}-demo-asn.csv")
        };
        let out = dir.join(name);
        if !out.exists() {
            let rows = rows.to_string();
            let seed = seed.to_string();
            let mut argv = vec![
                "generate",
                "feed",
                "--report",
                report,
                "--rows",
                &rows,
                "--days",
                "31",
                "--start",
                "2026-10-01",
                "--seed",
                &seed,
                "--bad-per-mille",
                "1",
                "--disagree-per-mille",
                "20",
                "--no-truth",
                "--out",
            ];
            let out_arg = out.to_str().context("non-UTF-8 data directory")?;
            argv.push(out_arg);
            if intelmq {
                argv.push("--intelmq");
            }
            generate::run(
                data,
                GenerateArgs::try_parse_from(argv).expect("valid demo feed"),
            )?;
        }
        files.push((
            out.to_str()
                .context("non-UTF-8 data directory")?
                .to_string(),
            tlp,
        ));
    }
    println!("== Risk feeds (Shadowserver CSV and IntelMQ events, October 2026)");
    for (file, tlp) in &files {
        let argv = ["ingest", "feed", "--org", "demo-cert", "--tlp", tlp, file];
        ingest::run(
            data,
            ingest::IngestArgs::try_parse_from(argv).expect("valid demo ingest"),
        )?;
    }
    println!();
    for argv in [
        vec![
            "metrics",
            "--risk",
            "openrecursivedns",
            "--period",
            "month",
            "--at",
            "2026-10",
            "--limit",
            "10",
        ],
        vec![
            "metrics", "--risk", "infected", "--by", "asn", "--period", "week", "--at", "2026-W41",
            "--limit", "10",
        ],
    ] {
        metrics::run(
            data,
            MetricsArgs::try_parse_from(argv).expect("valid demo metrics"),
        )?;
    }
    let export_dir = data.netdb_dir().with_file_name("export");
    let export_dir = export_dir.to_str().context("non-UTF-8 data directory")?;
    let argv = ["export", "metrics", "--out", export_dir];
    export::run(
        data,
        export::ExportArgs::try_parse_from(argv).expect("valid demo export"),
    )?;
    Ok(())
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
