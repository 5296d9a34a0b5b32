//! `greenwatch generate traffic`: a darknet capture with ground truth, sources drawn from the
//! routed address space of the imported IP data.

use crate::data_dir::DataDir;
use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use greenwatch_generate::{generate, SourcePool, TrafficSpec};
use greenwatch_model::{GroundTruth, Timestamp};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct GenerateArgs {
    #[command(subcommand)]
    command: GenerateCommand,
}

#[derive(Subcommand)]
enum GenerateCommand {
    /// Write a realistic darknet pcap and its ground truth (JSON).
    Traffic(TrafficArgs),
}

#[derive(Args, Clone)]
pub struct TrafficArgs {
    /// Capture to write (pcap, Ethernet).
    #[arg(long)]
    pub out: PathBuf,
    /// Ground truth to write (JSON).
    #[arg(long)]
    pub truth: PathBuf,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value_t = 1_000_000)]
    pub packets: u64,
    /// First packet time (RFC 3339 or a date).
    #[arg(long, default_value = "2026-10-05T00:00:00Z")]
    pub start: Timestamp,
    #[arg(long, default_value_t = 24)]
    pub hours: u32,
}

pub fn run(data: &DataDir, args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let GenerateCommand::Traffic(args) = args.command;
    let truth = write_traffic(data, &args)?;
    eprintln!(
        "wrote {} packets to {} (truth in {}): {} DoS victims, surge on port {} at {}",
        truth.packets,
        args.out.display(),
        args.truth.display(),
        truth.dos_victims.len(),
        truth.anomaly.port,
        truth.anomaly.start
    );
    Ok(ExitCode::SUCCESS)
}

/// Generates the capture and truth files; shared with `demo`.
pub fn write_traffic(data: &DataDir, args: &TrafficArgs) -> anyhow::Result<GroundTruth> {
    let netdb = data.open_netdb()?;
    let date = args.start.to_datetime().date_naive();
    let Some(snapshot) = netdb.snapshot_at(date) else {
        bail!(
            "no IP data imported in {}: sources are drawn from real routed address space, so run `greenwatch netdb import` first",
            data.netdb_dir().display()
        );
    };
    let pool = SourcePool::new(snapshot.routed_v4(), snapshot.routed_v6());
    let spec = TrafficSpec::new(args.seed, args.packets, args.start, args.hours);
    let file = create(&args.out)?;
    let truth = generate(&spec, &pool, BufWriter::with_capacity(1 << 20, file))
        .with_context(|| format!("generating {}", args.out.display()))?;
    let truth_file = create(&args.truth)?;
    serde_json::to_writer_pretty(truth_file, &truth)?;
    Ok(truth)
}

fn create(path: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))
}
