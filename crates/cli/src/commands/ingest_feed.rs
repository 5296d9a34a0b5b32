//! `greenwatch ingest feed`: risk feed files → parse (greenwatch-feeds) → enrich from the netdb
//! snapshot of each event's date → store as risk events, one transaction per file, skipping
//! files whose content is already stored. Reading and parsing run on one thread, enrichment
//! and storage on another.

use super::ingest::{hash_label, LabelArgs};
use crate::data_dir::DataDir;
use crate::table;
use anyhow::Context;
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use greenwatch_feeds::{
    open_feed, BadRows, Catalogue, FeedError, FeedFormat, FeedInfo, FeedRow, Mapping, RiskIndex,
};
use greenwatch_model::{Enrichment, FeedCounts, RiskEvent, Timestamp};
use greenwatch_netdb::NetDb;
use greenwatch_store::{FeedFileRecord, FeedFileWriter, RiskStore, SqliteStore};
use indicatif::{ProgressBar, ProgressStyle};
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Instant;

#[derive(Copy, Clone, Debug, ValueEnum)]
enum FormatArg {
    /// Decide from the file name and first line (a --mapping implies csv).
    Auto,
    /// Shadowserver report CSV.
    Shadowserver,
    /// IntelMQ events, JSON lines.
    Intelmq,
    /// Generic CSV or JSON lines described by --mapping.
    Csv,
}

#[derive(Args)]
pub struct FeedArgs {
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Input format.
    #[arg(long, value_enum, default_value = "auto")]
    format: FormatArg,
    /// TOML mapping for generic CSV/JSON: which column is the IP, time, port, ASN, country, risk.
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// Shadowserver report type (e.g. scan_dns) when the file name does not say it.
    #[arg(long)]
    report: Option<String>,
    #[command(flatten)]
    label: LabelArgs,
    /// Print a JSON summary instead of a progress bar and text.
    #[arg(long)]
    json: bool,
}

/// What happened to one file.
#[derive(Debug, Serialize)]
struct FileOutcome {
    path: String,
    content_hash: Option<String>,
    /// `ingested`, `already_ingested` or `failed`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    info: Option<FeedInfo>,
    counts: FeedCounts,
    /// The first bad rows, with line numbers.
    bad_examples: Vec<greenwatch_feeds::BadRow>,
}

#[derive(Debug, Serialize)]
struct FeedSummary {
    rows: u64,
    events: u64,
    bad_rows: u64,
    seconds: f64,
    rows_per_second: f64,
    files: Vec<FileOutcome>,
}

pub fn run(data: &DataDir, args: FeedArgs) -> anyhow::Result<ExitCode> {
    let catalogue = data.catalogue()?;
    let mapping = args.mapping.as_deref().map(Mapping::load).transpose()?;
    let format = match (args.format, &mapping) {
        (FormatArg::Csv, None) => anyhow::bail!("--format csv needs --mapping FILE.toml"),
        (FormatArg::Auto, Some(_)) | (FormatArg::Csv, Some(_)) => FeedFormat::Mapped,
        (FormatArg::Auto, None) => FeedFormat::Auto,
        (FormatArg::Shadowserver, _) => FeedFormat::Shadowserver,
        (FormatArg::Intelmq, _) => FeedFormat::Intelmq,
    };
    let mut store = data.open_store()?;
    let netdb = data.open_netdb()?;
    if netdb.snapshots().is_empty() {
        tracing::warn!(
            "no IP data imported: events will not be enriched (run `greenwatch netdb import`)"
        );
    }
    let started = Instant::now();
    let mut files = Vec::new();
    for path in &args.files {
        let input = Input {
            path,
            format,
            mapping: mapping.as_ref(),
            report: args.report.as_deref(),
            label: &args.label,
            catalogue: &catalogue,
            quiet: args.json,
        };
        let outcome = ingest_file(&mut store, &netdb, &input).unwrap_or_else(|e| FileOutcome {
            path: path.display().to_string(),
            content_hash: None,
            status: "failed",
            // Feed errors name the file (and line) themselves.
            error: Some(match e.downcast_ref::<FeedError>() {
                Some(_) => format!("{e:#}"),
                None => format!("{}: {e:#}", path.display()),
            }),
            info: None,
            counts: FeedCounts::default(),
            bad_examples: Vec::new(),
        });
        if let Some(err) = &outcome.error {
            eprintln!("error: {err}");
        }
        for bad in &outcome.bad_examples {
            eprintln!("{}:{}: skipped: {}", outcome.path, bad.line, bad.reason);
        }
        let unreported = outcome.counts.bad_rows - outcome.bad_examples.len() as u64;
        if unreported > 0 {
            eprintln!(
                "{}: {unreported} more bad rows skipped (see the counts)",
                outcome.path
            );
        }
        files.push(outcome);
    }
    let seconds = started.elapsed().as_secs_f64();
    let total = |f: fn(&FeedCounts) -> u64| files.iter().map(|o| f(&o.counts)).sum::<u64>();
    let summary = FeedSummary {
        rows: total(|c| c.rows),
        events: total(|c| c.events),
        bad_rows: total(|c| c.bad_rows),
        rows_per_second: total(|c| c.rows) as f64 / seconds.max(1e-9),
        seconds,
        files,
    };
    let failed = summary.files.iter().any(|f| f.status == "failed");
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

struct Input<'a> {
    path: &'a Path,
    format: FeedFormat,
    mapping: Option<&'a Mapping>,
    report: Option<&'a str>,
    label: &'a LabelArgs,
    catalogue: &'a Catalogue,
    quiet: bool,
}

/// Rows per batch handed from the parser thread to the store thread.
const BATCH_ROWS: usize = 32_768;
/// Events buffered per (risk, day) before they are written as a segment.
const SEGMENT_EVENTS: usize = 32_768;

fn ingest_file(
    store: &mut SqliteStore,
    netdb: &NetDb,
    input: &Input<'_>,
) -> anyhow::Result<FileOutcome> {
    let path = input.path;
    let display = path.display().to_string();
    // Streamed, not memory-mapped: a mapping would hold the whole file in the resident set,
    // and ingest promises memory that does not grow with the file.
    let content_hash = {
        let file = std::fs::File::open(path).with_context(|| format!("opening {display}"))?;
        let mut hasher = blake3::Hasher::new();
        std::io::copy(
            &mut std::io::BufReader::with_capacity(1 << 20, file),
            &mut hasher,
        )
        .with_context(|| format!("reading {display}"))?;
        hash_label(hasher.finalize())
    };
    if let Some(existing) = store.find_feed_file(&content_hash)? {
        return Ok(FileOutcome {
            path: display,
            content_hash: Some(content_hash),
            status: "already_ingested",
            error: None,
            info: None,
            counts: existing.counts,
            bad_examples: Vec::new(),
        });
    }
    let mut source = open_feed(
        path,
        input.format,
        input.mapping,
        input.report,
        input.catalogue,
    )?;
    let info = source.info().clone();
    let progress = progress_spinner(input.quiet, &display);
    let (to_store, from_parser) = mpsc::sync_channel::<ToStore>(4);
    let (returned, recycled) = mpsc::channel::<Vec<FeedRow>>();
    let record = FeedFileRecord {
        content_hash: content_hash.clone(),
        path: display.clone(),
        format: info.format.to_string(),
        report_type: info.report_type.clone(),
        label: input.label.label(),
        counts: FeedCounts::default(),
        ingested_at: Timestamp(0),
    };
    let (bad, counts) = std::thread::scope(|scope| -> anyhow::Result<_> {
        // The transaction cannot leave its thread: the store stage owns it from begin to commit.
        let store_stage = scope.spawn(|| {
            let mut writer = store.begin_feed_file(&content_hash)?;
            let mut stage = StoreStage::new(netdb, input.catalogue);
            for message in from_parser {
                match message {
                    ToStore::Rows(batch) => {
                        stage.add(&batch, writer.as_mut())?;
                        let _ = returned.send(batch);
                    }
                    ToStore::Commit(bad) => {
                        stage.flush(writer.as_mut())?;
                        let mut counts = stage.counts;
                        counts.bad_rows = bad.total;
                        counts.bad_by_reason = bad.by_reason.clone();
                        counts.rows = counts.events + bad.total;
                        let record = FeedFileRecord {
                            counts: counts.clone(),
                            ingested_at: Timestamp(chrono::Utc::now().timestamp_micros()),
                            ..record
                        };
                        writer.commit(&record)?;
                        return Ok((bad, counts));
                    }
                }
            }
            anyhow::bail!("ingest stopped before the file was complete; nothing of it was stored")
        });
        let mut bad = BadRows::default();
        let mut rows = 0u64;
        let parsed = loop {
            let mut batch = recycled.try_recv().unwrap_or_default();
            batch.clear();
            match source.read_batch(&mut batch, &mut bad, BATCH_ROWS) {
                Ok(more) => {
                    rows += batch.len() as u64;
                    if !batch.is_empty() && to_store.send(ToStore::Rows(batch)).is_err() {
                        break Ok(()); // the store stage failed; its error is reported below
                    }
                    progress.set_position(rows + bad.total);
                    if !more {
                        // Only a fully read file is committed.
                        let _ = to_store.send(ToStore::Commit(bad));
                        break Ok(());
                    }
                }
                Err(e) => break Err(e),
            }
        };
        drop(to_store);
        progress.finish_and_clear();
        let stored = store_stage.join().expect("store stage does not panic");
        parsed?;
        stored
    })?;
    Ok(FileOutcome {
        path: display,
        content_hash: Some(content_hash),
        status: "ingested",
        error: None,
        info: Some(info),
        counts,
        bad_examples: bad.examples,
    })
}

/// Work handed from the parser thread to the store thread.
enum ToStore {
    Rows(Vec<FeedRow>),
    /// The whole file was read: commit, with the bad rows counted while parsing.
    Commit(BadRows),
}

/// Enriches parsed rows and writes them per (risk, day) in segments.
struct StoreStage<'a> {
    netdb: &'a NetDb,
    catalogue: &'a Catalogue,
    pending: FxHashMap<(RiskIndex, NaiveDate), Vec<RiskEvent>>,
    counts: FeedCounts,
    events_by_risk: FxHashMap<RiskIndex, u64>,
}

impl<'a> StoreStage<'a> {
    fn new(netdb: &'a NetDb, catalogue: &'a Catalogue) -> Self {
        StoreStage {
            netdb,
            catalogue,
            pending: FxHashMap::default(),
            counts: FeedCounts::default(),
            events_by_risk: FxHashMap::default(),
        }
    }

    fn add(&mut self, rows: &[FeedRow], writer: &mut dyn FeedFileWriter) -> anyhow::Result<()> {
        for row in rows {
            let c = &mut self.counts;
            c.events += 1;
            c.ipv6_events += u64::from(row.ip.is_ipv6());
            c.first_event = Some(c.first_event.map_or(row.time, |t| t.min(row.time)));
            c.last_event = Some(c.last_event.map_or(row.time, |t| t.max(row.time)));
            *self.events_by_risk.entry(row.risk).or_default() += 1;
            let key = (row.risk, row.time.to_datetime().date_naive());
            let buffer = self.pending.entry(key).or_default();
            buffer.push(RiskEvent {
                ip: row.ip,
                port: row.port,
                time: row.time,
                line: row.line,
                feed_asn: row.feed_asn,
                feed_country: row.feed_country,
                enrichment: Enrichment::default(),
            });
            if buffer.len() >= SEGMENT_EVENTS {
                let mut events = std::mem::take(buffer);
                self.write_segment(key, &mut events, writer)?;
                events.clear();
                *self.pending.get_mut(&key).expect("buffer exists") = events;
            }
        }
        Ok(())
    }

    /// Enriches and writes one (risk, day) buffer. Sorting by address first makes the netdb
    /// lookups walk its tables in order: random lookups miss the cache on every row.
    fn write_segment(
        &mut self,
        (risk, day): (RiskIndex, NaiveDate),
        events: &mut [RiskEvent],
        writer: &mut dyn FeedFileWriter,
    ) -> anyhow::Result<()> {
        events.sort_unstable_by_key(|e| (e.ip_key(), e.time, e.line));
        let snapshot = self.netdb.snapshot_at(day);
        let c = &mut self.counts;
        for e in events.iter_mut() {
            let enrichment = snapshot.map_or_else(Enrichment::default, |s| s.enrich(e.ip));
            c.asn_disagreements +=
                u64::from(e.feed_asn != 0 && enrichment.asn != 0 && e.feed_asn != enrichment.asn);
            c.country_disagreements += u64::from(
                e.feed_country.is_known()
                    && enrichment.country.is_known()
                    && e.feed_country != enrichment.country,
            );
            c.no_country += u64::from(!enrichment.country.is_known());
            e.enrichment = enrichment;
        }
        writer.write_events(&self.catalogue.get(risk).slug, day, events)?;
        Ok(())
    }

    fn flush(&mut self, writer: &mut dyn FeedFileWriter) -> anyhow::Result<()> {
        let mut pending: Vec<_> = std::mem::take(&mut self.pending).into_iter().collect();
        pending.sort_unstable_by_key(|(key, _)| *key);
        for (key, mut events) in pending {
            if !events.is_empty() {
                self.write_segment(key, &mut events, writer)?;
            }
        }
        self.counts.events_by_risk = self
            .events_by_risk
            .iter()
            .map(|(r, n)| (self.catalogue.get(*r).slug.clone(), *n))
            .collect();
        Ok(())
    }
}

fn progress_spinner(hidden: bool, name: &str) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}: {human_pos} rows, {per_sec}, {elapsed}")
            .expect("valid template"),
    );
    bar.set_message(name.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

fn print_text(s: &FeedSummary) {
    for f in &s.files {
        let what = f
            .info
            .as_ref()
            .map(|i| {
                format!(
                    "{}{}",
                    i.format,
                    i.report_type
                        .as_deref()
                        .map(|r| format!(" {r}"))
                        .unwrap_or_default()
                )
            })
            .unwrap_or_default();
        match &f.error {
            Some(e) => println!("{:<17} {e}", f.status),
            None => println!("{:<17} {} {what}", f.status, f.path),
        }
        let c = &f.counts;
        if f.status == "ingested" {
            let risks: Vec<String> = c
                .events_by_risk
                .iter()
                .map(|(r, n)| format!("{r} {n}"))
                .collect();
            println!(
                "  {} events ({} IPv6) [{}]; {} bad rows; feed vs netdb disagreements: ASN {}, country {}",
                c.events, c.ipv6_events, risks.join(", "), c.bad_rows, c.asn_disagreements, c.country_disagreements
            );
            for (reason, n) in &c.bad_by_reason {
                println!("  skipped {n} rows: {reason}");
            }
        }
    }
    println!(
        "{} rows ({} events, {} bad) in {:.2} s, {:.0} rows/s",
        s.rows, s.events, s.bad_rows, s.seconds, s.rows_per_second
    );
}
