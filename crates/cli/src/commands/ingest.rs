//! `greenwatch ingest pcap`: capture files → decode → classify → enrich → aggregate → store,
//! one transaction per file, skipping files whose content is already stored.
//! (`ingest feed` lives in `ingest_feed.rs`.)

use crate::data_dir::DataDir;
use crate::table;
use anyhow::Context;
use clap::{Args, Subcommand};
use greenwatch_model::access::{Label, Tlp};
use greenwatch_model::{BucketWidth, Enrichment, Timestamp};
use greenwatch_netdb::{NetDb, Snapshot};
use greenwatch_observe::{
    infer_dos, no_enrichment, Aggregator, BackscatterSlot, ClosedBucket, Enricher, IngestCounts,
    Observations, SealedBucket,
};
use greenwatch_packet::{decode, CaptureReader};
use greenwatch_store::{CaptureRecord, CaptureStatus, ObservationStore, SqliteStore};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::cell::Cell;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
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
    /// Sensor that recorded the captures.
    #[arg(long, default_value = "default")]
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

/// Who owns ingested data and how far it may be shared.
#[derive(Args, Clone)]
pub struct LabelArgs {
    /// Owner organisation (slug) of the ingested data.
    #[arg(long, default_value = "local")]
    pub org: String,
    /// TLP 2.0 label: clear, green, amber, amber+strict or red. Only CLEAR data is public.
    #[arg(long, default_value = "amber")]
    pub tlp: Tlp,
}

impl LabelArgs {
    pub fn label(&self) -> Label {
        Label {
            owner: self.org.clone(),
            tlp: self.tlp,
        }
    }
}

/// What happened to one file.
#[derive(Debug, Serialize)]
pub struct FileOutcome {
    pub path: String,
    pub content_hash: Option<String>,
    /// `ingested`, `partial` (stored up to an error), `already_ingested` or `failed`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub packets: u64,
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
    let failed = summary
        .files
        .iter()
        .any(|f| matches!(f.status, "partial" | "failed"));
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
    let netdb = data.open_netdb()?;
    if netdb.snapshots().is_empty() {
        tracing::warn!(
            "no IP data imported: sources will not be enriched (run `greenwatch netdb import`)"
        );
    }
    let started = Instant::now();
    let mut total = IngestCounts::default();
    let mut flows = 0;
    let mut dos_attacks = 0;
    let mut files = Vec::new();
    for path in &args.files {
        let outcome = match ingest_file(&mut store, &netdb, path, args) {
            Ok((outcome, obs)) => {
                if let Some(file) = obs {
                    total.merge(&file.counts);
                    flows += file.flows as u64;
                    dos_attacks += infer_dos(file.backscatter).len() as u64;
                }
                outcome
            }
            Err(e) => FileOutcome {
                path: path.display().to_string(),
                content_hash: None,
                status: "failed",
                error: Some(format!("{e:#}")),
                packets: 0,
            },
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

/// Enriches from the snapshot valid at each observation's date; the snapshot is looked up
/// again only when the day changes.
struct NetDbEnricher<'a> {
    netdb: &'a NetDb,
    day: Cell<Option<(i64, Option<&'a Snapshot>)>>,
}

impl<'a> NetDbEnricher<'a> {
    fn new(netdb: &'a NetDb) -> Self {
        NetDbEnricher {
            netdb,
            day: Cell::new(None),
        }
    }
}

impl Enricher for NetDbEnricher<'_> {
    fn enrich(&self, ip: IpAddr, at: Timestamp) -> Enrichment {
        let day = at.secs().div_euclid(86_400);
        let snapshot = match self.day.get() {
            Some((d, snapshot)) if d == day => snapshot,
            _ => {
                let snapshot = self.netdb.snapshot_at(at.to_datetime().date_naive());
                self.day.set(Some((day, snapshot)));
                snapshot
            }
        };
        snapshot.map_or_else(|| no_enrichment(ip, at), |s| s.enrich(ip))
    }
}

/// Work handed from the reading thread to the store stage.
enum StoreStage {
    /// A bucket to close and write.
    Bucket(SealedBucket),
    /// A bucket already closed (the last ones, closed by `Aggregator::finish`).
    Closed(ClosedBucket),
    /// Everything was sent: store the record and backscatter, then commit.
    Commit(Box<CaptureRecord>, Vec<BackscatterSlot>),
}

/// The store stage: closes and writes buckets as they come and commits at the end. Returns
/// the number of flow tuples written. Without a `Commit` nothing is stored.
fn write_stage(
    store: &mut SqliteStore,
    netdb: &NetDb,
    content_hash: &str,
    sensor: &str,
    work: mpsc::Receiver<StoreStage>,
) -> anyhow::Result<usize> {
    let enricher = NetDbEnricher::new(netdb);
    let mut writer = store.begin_capture(content_hash, sensor)?;
    let mut flows = 0;
    for item in work {
        match item {
            StoreStage::Bucket(sealed) => {
                let closed = sealed.close(&enricher);
                flows += closed.flows.len();
                writer.write_bucket(&closed)?;
            }
            StoreStage::Closed(closed) => {
                flows += closed.flows.len();
                writer.write_bucket(&closed)?;
            }
            StoreStage::Commit(record, backscatter) => {
                writer.commit(&record, &backscatter)?;
                return Ok(flows);
            }
        }
    }
    anyhow::bail!("ingest stopped before the capture was complete; nothing of it was stored")
}

/// What one newly stored file contributed.
struct IngestedFile {
    counts: IngestCounts,
    flows: usize,
    backscatter: Vec<BackscatterSlot>,
}

fn ingest_file(
    store: &mut SqliteStore,
    netdb: &NetDb,
    path: &Path,
    args: &PcapArgs,
) -> anyhow::Result<(FileOutcome, Option<IngestedFile>)> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    // SAFETY: the map is read-only and we do not modify the file; a file truncated under us
    // by another process is the documented hazard of mmap and is not something we cause.
    let bytes = unsafe { memmap2::Mmap::map(&file) }
        .with_context(|| format!("mapping {}", path.display()))?;
    // Read once, front to back: let the kernel read ahead and drop pages behind us, so
    // memory stays flat however large the capture.
    let _ = bytes.advise(memmap2::Advice::Sequential);
    let started = Instant::now();
    let content_hash = content_hash(&bytes);
    tracing::info!(file = %path.display(), hash_secs = started.elapsed().as_secs_f64(), "hashed");
    let display = path.display().to_string();
    if let Some(existing) = store.find_capture(&content_hash)? {
        let error = match existing.status {
            CaptureStatus::Complete => None,
            CaptureStatus::Partial(e) => Some(format!("already ingested up to an error: {e}")),
        };
        let outcome = FileOutcome {
            path: display,
            content_hash: Some(content_hash),
            status: if error.is_some() {
                "partial"
            } else {
                "already_ingested"
            },
            error,
            packets: 0,
        };
        return Ok((outcome, None));
    }
    let reader =
        CaptureReader::new(&bytes).map_err(|e| anyhow::anyhow!("not a readable capture: {e}"))?;
    let progress = progress_bar(args.json, bytes.len() as u64, &display);
    // Two stages on two threads: this one reads, decodes, aggregates and seals (sorts)
    // buckets; the store stage closes them (runs, enrichment, rollups), encodes them and
    // writes them in one transaction. The bounded channel keeps at most a few buckets in flight.
    let (to_store, from_reader) = mpsc::sync_channel::<StoreStage>(2);
    let (ingested, status) = std::thread::scope(|scope| -> anyhow::Result<_> {
        let store_stage =
            scope.spawn(|| write_stage(store, netdb, &content_hash, &args.sensor, from_reader));
        let mut aggregator = Aggregator::new(args.bucket, NetDbEnricher::new(netdb));
        let mut status = CaptureStatus::Complete;
        let mut store_alive = true;
        for (i, frame) in reader.enumerate() {
            let frame = match frame {
                Ok(frame) => frame,
                Err(e) => {
                    status = CaptureStatus::Partial(e.to_string());
                    break;
                }
            };
            match decode(&frame) {
                Ok(packet) => aggregator.add(&packet),
                Err(e) => {
                    tracing::debug!(file = %path.display(), offset = frame.offset, "undecodable frame: {e}");
                    aggregator.add_error(e.key(), frame.wire_len);
                }
            }
            if aggregator.has_sealed() {
                for sealed in aggregator.drain_sealed() {
                    store_alive &= to_store.send(StoreStage::Bucket(sealed)).is_ok();
                }
                if !store_alive {
                    break; // the store stage failed; its error is reported below
                }
            }
            if i % 65_536 == 0 {
                progress.set_position(frame.offset);
            }
        }
        progress.finish_and_clear();
        let Observations {
            counts,
            buckets,
            backscatter,
        } = aggregator.finish();
        let record = CaptureRecord {
            content_hash: content_hash.clone(),
            path: display.clone(),
            sensor: args.sensor.clone(),
            label: args.label.label(),
            status: status.clone(),
            counts: counts.clone(),
            ingested_at: Timestamp(chrono::Utc::now().timestamp_micros()),
        };
        // If the store stage already failed these sends fail too; its join gives the error.
        for bucket in buckets {
            let _ = to_store.send(StoreStage::Closed(bucket));
        }
        let _ = to_store.send(StoreStage::Commit(Box::new(record), backscatter.clone()));
        drop(to_store);
        let flows = store_stage.join().expect("store stage does not panic")?;
        Ok((
            IngestedFile {
                counts,
                flows,
                backscatter,
            },
            status,
        ))
    })?;
    tracing::info!(file = %path.display(), seconds = started.elapsed().as_secs_f64(), flows = ingested.flows, "ingested");
    let (status, error) = match status {
        CaptureStatus::Complete => ("ingested", None),
        CaptureStatus::Partial(e) => (
            "partial",
            Some(format!("{display}: {e} (everything before it was stored)")),
        ),
    };
    let outcome = FileOutcome {
        path: display,
        content_hash: Some(content_hash),
        status,
        error,
        packets: ingested.counts.packets,
    };
    Ok((outcome, Some(ingested)))
}

/// The key under which a file's content is stored: `blake3:<hex>`, hashed on all cores.
pub fn content_hash(bytes: &[u8]) -> String {
    hash_label(blake3::Hasher::new().update_rayon(bytes).finalize())
}

/// How stores name a content hash.
pub fn hash_label(hash: blake3::Hash) -> String {
    format!("blake3:{}", hash.to_hex())
}

fn progress_bar(hidden: bool, len: u64, name: &str) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(name.to_string());
    bar
}

fn print_text(s: &IngestSummary) {
    for f in &s.files {
        let note = f.error.as_deref().unwrap_or("");
        println!("{:<17} {} {}", f.status, f.path, note);
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
