//! `greenwatch ingest pcap`: capture files → decode → classify → enrich → aggregate → store
//! (`greenwatch-ingest`, the same code the portal's upload runs), one transaction per file,
//! skipping files whose content is already stored. Data belongs to an existing organisation
//! (`--org`; an unknown one is refused before anything is read).
//! (`ingest feed` lives in `ingest_feed.rs`.)

use super::label::LabelArgs;
use crate::data_dir::DataDir;
use crate::progress::Bar;
use crate::table;
use clap::{Args, Subcommand};
use greenwatch_ingest::{ingest_capture, CaptureOptions, FileOutcome};
use greenwatch_model::BucketWidth;
use greenwatch_observe::{infer_dos, IngestCounts};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Parser)]
pub struct IngestArgs {
    #[command(subcommand)]
    command: IngestCommand,
}

#[derive(Subcommand)]
enum IngestCommand {
    /// Ingest pcap / pcapng captures (Ethernet, Linux cooked, raw IP; IPv4 and IPv6).
    Pcap(PcapArgs),
    /// Ingest risk feeds: Shadowserver report CSVs, IntelMQ JSON lines, or mapped CSV/JSON
    /// (gzip accepted). Bad rows are counted with their line and skipped.
    Feed(super::ingest_feed::FeedArgs),
}

#[derive(Args, Clone)]
pub struct PcapArgs {
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Sensor that recorded the captures (a name of the owner organisation's; with `--org`,
    /// organisation and name make the sensor).
    #[arg(long, default_value = greenwatch_model::sensor::Sensor::INGESTED)]
    pub sensor: String,
    /// Aggregation bucket width (e.g. 5m, 1h, 1d).
    #[arg(long, default_value = "1h")]
    pub bucket: BucketWidth,
    #[command(flatten)]
    pub label: LabelArgs,
    /// Print a JSON summary instead of a progress bar and text.
    #[arg(long)]
    pub json: bool,
}

/// The `--json` summary: the ground-truth keys plus errors, timing and per-file outcomes.
#[derive(Debug, Serialize)]
pub struct IngestSummary {
    #[serde(flatten)]
    pub counts: IngestCounts,
    pub flows: u64,
    pub dos_attacks: u64,
    pub seconds: f64,
    pub packets_per_second: f64,
    pub files: Vec<FileOutcome>,
}

pub fn run(data: &DataDir, args: IngestArgs) -> anyhow::Result<ExitCode> {
    let args = match args.command {
        IngestCommand::Pcap(args) => args,
        IngestCommand::Feed(args) => return super::ingest_feed::run(data, args),
    };
    let summary = ingest_files(data, &args)?;
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

/// Ingests every file; a bad file is reported and does not stop the others.
pub fn ingest_files(data: &DataDir, args: &PcapArgs) -> anyhow::Result<IngestSummary> {
    let mut store = data.open_store()?;
    let label = args.label.label(&*store)?;
    let netdb = data.open_netdb()?;
    if netdb.snapshots().is_empty() {
        tracing::warn!(
            "no IP data imported: sources will not be enriched (run `greenwatch netdb import`)"
        );
    }
    let options = CaptureOptions {
        sensor: args.sensor.clone(),
        bucket: args.bucket,
        label,
        clock: data.clock().clone(),
    };
    let started = Instant::now();
    let mut total = IngestCounts::default();
    let mut flows = 0;
    let mut dos_attacks = 0;
    let mut files = Vec::new();
    for path in &args.files {
        let name = path.display().to_string();
        let progress = Bar::new(args.json);
        let outcome = match ingest_capture(&mut *store, &netdb, path, &name, &options, &progress) {
            Ok((outcome, ingested)) => {
                if let Some(file) = ingested {
                    total.merge(&file.counts);
                    flows += file.flows as u64;
                    dos_attacks += infer_dos(file.backscatter).len() as u64;
                }
                outcome
            }
            Err(e) => FileOutcome::failed(name, format!("{e:#}")),
        };
        if let Some(err) = &outcome.error {
            eprintln!("error: {}: {err}", outcome.path);
        }
        files.push(outcome);
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(IngestSummary {
        packets_per_second: total.packets as f64 / seconds.max(1e-9),
        counts: total,
        flows,
        dos_attacks,
        seconds,
        files,
    })
}

fn print_text(s: &IngestSummary) {
    for f in &s.files {
        let note = f.error.as_deref().unwrap_or("");
        println!("{:<17} {} {}", f.status.as_str(), f.path, note);
    }
    let c = &s.counts;
    println!(
        "{} packets ({} bytes, {} IPv6) in {:.2} s, {:.0} packets/s; {} flow tuples; {} DoS attacks",
        c.packets, c.bytes, c.ipv6_packets, s.seconds, s.packets_per_second, s.flows, s.dos_attacks
    );
    println!(
        "classes: scan {}, backscatter {}, spoofed {}, other {}; fingerprints: mirai {}, masscan {}, zmap {}",
        c.by_class.scan,
        c.by_class.backscatter,
        c.by_class.spoofed,
        c.by_class.other,
        c.by_fingerprint.mirai,
        c.by_fingerprint.masscan,
        c.by_fingerprint.zmap
    );
    for (reason, n) in &c.errors {
        println!("skipped {n} records: {reason}");
    }
}
