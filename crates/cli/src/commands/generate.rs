//! `greenwatch generate traffic`: a darknet capture with ground truth; `greenwatch generate
//! feed`: a Shadowserver / IntelMQ risk feed with ground truth. Addresses are drawn from the
//! routed address space of the imported IP data, weighted by country like a darknet's
//! sources, and the same data attributes them.

use crate::data_dir::DataDir;
use anyhow::{bail, Context};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use greenwatch_generate::{
    feed_report_types, generate, generate_feed, AddressInfo, FeedOutput, FeedSpec, FeedTruth,
    SourcePool, TrafficSpec,
};
use greenwatch_model::sensor::AddressBlock;
use greenwatch_model::{Enrichment, GroundTruth, Timestamp};
use greenwatch_netdb::{NetDb, Snapshot};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{BufWriter, IsTerminal};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Parser)]
pub struct GenerateArgs {
    #[command(subcommand)]
    command: GenerateCommand,
}

#[derive(Subcommand)]
enum GenerateCommand {
    /// Write a realistic darknet pcap and its ground truth (JSON).
    Traffic(TrafficArgs),
    /// Write a risk feed (Shadowserver report CSV or IntelMQ JSON lines) and its ground truth:
    /// distinct hosts per day, ISO week and month, by country and ASN.
    Feed(FeedArgs),
}

#[derive(Args, Clone)]
pub struct TrafficArgs {
    /// Capture to write (pcap, Ethernet).
    #[arg(long)]
    pub out: PathBuf,
    /// Ground truth to write (JSON).
    #[arg(long)]
    pub truth: PathBuf,
    /// Random seed: the same seed and options write the same capture.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Packets to write.
    #[arg(long, default_value_t = 1_000_000)]
    pub packets: u64,
    /// First packet time (RFC 3339 or a date).
    #[arg(long, default_value = "2026-10-05T00:00:00Z")]
    pub start: Timestamp,
    /// Hours the capture spans.
    #[arg(long, default_value_t = 24)]
    pub hours: u32,
    /// The sensor's IPv4 darknet block: the destinations of the traffic.
    #[arg(long, default_value = "198.18.0.0/16")]
    pub block: AddressBlock,
    /// The sensor's IPv6 darknet block.
    #[arg(long, default_value = "2001:db8:5e::/48")]
    pub block6: AddressBlock,
}

#[derive(Args)]
pub struct FeedArgs {
    /// Shadowserver report type to imitate: scan_dns, scan6_dns, scan_ntp, scan6_ntp,
    /// scan_ntpmonitor, scan6_ntpmonitor, scan_ssdp, scan_snmp, scan6_snmp, scan_chargen,
    /// scan_memcached, event4_sinkhole or event6_sinkhole.
    #[arg(long, value_name = "TYPE")]
    pub report: String,
    /// Write IntelMQ events (JSON lines, flat harmonization keys) instead of the report's CSV.
    #[arg(long)]
    pub intelmq: bool,
    /// Good rows in the file, spread over the days.
    #[arg(long, default_value_t = 100_000)]
    pub rows: u64,
    /// Days covered, from --start on, written in time order into the one file.
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// First day (YYYY-MM-DD, UTC); the IP data valid on it attributes every host.
    #[arg(long, default_value = "2026-10-05")]
    pub start: NaiveDate,
    /// Random seed: the same seed and options write the same file.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Broken rows (invalid ip, invalid timestamp, short row; for IntelMQ invalid JSON, missing
    /// source.ip) to interleave, per thousand good rows; their line numbers go to the truth.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub bad_per_mille: u32,
    /// Hosts whose feed ASN and/or country deliberately differ from the IP data, per thousand.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub disagree_per_mille: u32,
    /// IPv6 hosts per thousand, for report types whose name has a 6 and for --intelmq only
    /// [default: 1000 for report types with a 6, else 0].
    #[arg(long, value_name = "N")]
    pub ipv6_per_mille: Option<u32>,
    /// Feed file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Ground truth to write (JSON).
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Do not count distinct hosts (faster and smaller for big files): the truth then has row,
    /// bad-line and disagreement counts only.
    #[arg(long)]
    pub no_truth: bool,
}

pub fn run(data: &DataDir, args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let args = match args.command {
        GenerateCommand::Traffic(args) => args,
        GenerateCommand::Feed(args) => return run_feed(data, &args),
    };
    let truth = write_traffic(data, &args)?;
    eprintln!(
        "wrote {} packets to {} (truth in {}): {} DoS victims, surges: {}",
        truth.packets,
        args.out.display(),
        args.truth.display(),
        truth.dos_victims.len(),
        truth
            .surges
            .iter()
            .map(|s| format!(
                "port {} at {} ({}x, {} h)",
                s.port, s.start, s.factor, s.hours
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// Generates the capture and truth files; shared with `demo`.
pub fn write_traffic(data: &DataDir, args: &TrafficArgs) -> anyhow::Result<GroundTruth> {
    let netdb = data.open_netdb()?;
    let snapshot = snapshot_at(data, &netdb, args.start.to_datetime().date_naive())?;
    let pool = darknet_pool(snapshot);
    let mut spec = TrafficSpec::new(args.seed, args.packets, args.start, args.hours);
    spec.sensor_v4 = match args.block.network {
        IpAddr::V4(a) => (a, args.block.prefix_len),
        IpAddr::V6(_) => bail!("--block {} is not an IPv4 block", args.block),
    };
    spec.sensor_v6 = match args.block6.network {
        IpAddr::V6(a) => (a, args.block6.prefix_len),
        IpAddr::V4(_) => bail!("--block6 {} is not an IPv6 block", args.block6),
    };
    let file = create(&args.out)?;
    let truth = generate(&spec, &pool, BufWriter::with_capacity(1 << 20, file))
        .with_context(|| format!("generating {}", args.out.display()))?;
    let truth_file = create(&args.truth)?;
    serde_json::to_writer_pretty(truth_file, &truth)?;
    Ok(truth)
}

/// The snapshot's routed ranges as sources, weighted by country like a darknet's.
fn darknet_pool(snapshot: &Snapshot) -> SourcePool {
    let v4 = snapshot
        .routed_v4()
        .into_iter()
        .map(|(first, last)| (first, last, snapshot.enrich_v4(first).country))
        .collect();
    SourcePool::darknet(v4, snapshot.routed_v6())
}

fn create(path: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))
}

/// The IP data valid at `date`, or an error saying to import some.
fn snapshot_at<'a>(
    data: &DataDir,
    netdb: &'a NetDb,
    date: NaiveDate,
) -> anyhow::Result<&'a Snapshot> {
    match netdb.snapshot_at(date) {
        Some(snapshot) => Ok(snapshot),
        None => bail!(
            "no IP data imported in {}: addresses are drawn from real routed address space, so run `greenwatch netdb import` first",
            data.netdb_dir().display()
        ),
    }
}

/// A netdb snapshot as the feed generator's attribution (ASN, country, AS name).
struct SnapshotInfo<'a>(&'a Snapshot);

impl AddressInfo for SnapshotInfo<'_> {
    fn enrich(&self, ip: IpAddr) -> Enrichment {
        self.0.enrich(ip)
    }

    fn as_name(&self, asn: u32) -> Option<&str> {
        self.0.as_name(asn)
    }
}

fn run_feed(data: &DataDir, args: &FeedArgs) -> anyhow::Result<ExitCode> {
    if !feed_report_types().any(|t| t == args.report) {
        let known: Vec<&str> = feed_report_types().collect();
        bail!(
            "cannot generate report type {:?}; choose one of: {}",
            args.report,
            known.join(", ")
        );
    }
    let netdb = data.open_netdb()?;
    let snapshot = snapshot_at(data, &netdb, args.start)?;
    let pool = darknet_pool(snapshot);
    let spec = feed_spec(args);
    let file = create(&args.out)?;
    let progress = feed_progress(args.rows);
    let started = Instant::now();
    let truth = generate_feed(
        &spec,
        &pool,
        &SnapshotInfo(snapshot),
        BufWriter::with_capacity(1 << 20, file),
        &mut |rows| progress.set_position(rows),
    )
    .with_context(|| format!("generating {}", args.out.display()))?;
    progress.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    if let Some(path) = &args.truth {
        serde_json::to_writer_pretty(BufWriter::new(create(path)?), &truth)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    print_feed_summary(args, &truth, snapshot.as_of, seconds);
    Ok(ExitCode::SUCCESS)
}

fn feed_spec(args: &FeedArgs) -> FeedSpec {
    let format = if args.intelmq {
        FeedOutput::Intelmq
    } else {
        FeedOutput::Shadowserver
    };
    let mut spec = FeedSpec::new(
        args.seed,
        &args.report,
        format,
        args.start,
        args.days,
        args.rows,
    );
    spec.bad_rows_per_mille = args.bad_per_mille;
    spec.disagree_per_mille = args.disagree_per_mille;
    spec.ipv6_per_mille =
        args.ipv6_per_mille
            .unwrap_or(if args.report.contains('6') { 1000 } else { 0 });
    spec.host_truth = !args.no_truth;
    spec
}

/// Rows written so far, on stderr when it is a terminal.
fn feed_progress(rows: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(rows);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} rows {per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message("generating");
    bar
}

fn print_feed_summary(args: &FeedArgs, truth: &FeedTruth, as_of: NaiveDate, seconds: f64) {
    eprintln!(
        "wrote {} {} rows ({} IPv6) and {} broken lines to {} in {:.2} s ({:.0} rows/s); {} / {} rows disagree on country / ASN; hosts attributed with IP data as of {}",
        truth.rows_written,
        truth.report_type,
        truth.ipv6_rows,
        truth.bad_rows.len(),
        args.out.display(),
        seconds,
        truth.rows_written as f64 / seconds.max(1e-9),
        truth.feed_country_disagreements,
        truth.feed_asn_disagreements,
        as_of
    );
    if let Some(path) = &args.truth {
        let weeks: Vec<String> = truth
            .week
            .iter()
            .map(|(label, p)| format!("{label} {}", p.hosts))
            .collect();
        eprintln!(
            "truth in {}; distinct hosts per week: {}",
            path.display(),
            weeks.join(", ")
        );
    }
}
