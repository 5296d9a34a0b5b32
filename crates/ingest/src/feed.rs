//! Risk-feed files: parse (greenwatch-feeds) → enrich from the netdb snapshot of each event's
//! date → store as risk events. Reading and parsing run on one thread, enrichment and storage
//! on another.

use crate::{hash_label, FileOutcome, FileStatus, Progress};
use anyhow::Context;
use chrono::NaiveDate;
use greenwatch_clock::Clock;
use greenwatch_feeds::{open_feed, BadRows, Catalogue, FeedFormat, FeedRow, Mapping, RiskIndex};
use greenwatch_model::access::Label;
use greenwatch_model::{Enrichment, FeedCounts, RiskEvent, Timestamp};
use greenwatch_netdb::NetDb;
use greenwatch_store::{FeedFileRecord, FeedFileWriter, RiskStore};
use rustc_hash::FxHashMap;
use std::path::Path;
use std::sync::mpsc;

/// How a feed file is read and stored.
pub struct FeedOptions<'a> {
    pub format: FeedFormat,
    pub mapping: Option<&'a Mapping>,
    /// The Shadowserver report type, when the file name does not say it.
    pub report: Option<&'a str>,
    pub label: Label,
    pub catalogue: &'a Catalogue,
    /// When the file counts as stored (`FeedFileRecord::ingested_at`).
    pub clock: Clock,
}

/// Rows per batch handed from the parser thread to the store thread.
const BATCH_ROWS: usize = 32_768;
/// Events buffered per (risk, day) before they are written as a segment.
const SEGMENT_EVENTS: usize = 32_768;

/// Ingests one feed file, named `name` in outcomes and the store (the file name is also how
/// a Shadowserver report type is recognised). `Err` when nothing of it was stored: unreadable,
/// of no known format, or failing mid-read (the error names the line).
pub fn ingest_feed<S: RiskStore + Send + ?Sized>(
    store: &mut S,
    netdb: &NetDb,
    path: &Path,
    name: &str,
    options: &FeedOptions<'_>,
    progress: &dyn Progress,
) -> anyhow::Result<FileOutcome> {
    // Streamed, not memory-mapped: a mapping would hold the whole file in the resident set,
    // and ingest promises memory that does not grow with the file.
    let content_hash = {
        let file = std::fs::File::open(path).with_context(|| format!("opening {name}"))?;
        let mut hasher = blake3::Hasher::new();
        std::io::copy(
            &mut std::io::BufReader::with_capacity(1 << 20, file),
            &mut hasher,
        )
        .with_context(|| format!("reading {name}"))?;
        hash_label(hasher.finalize())
    };
    let outcome = |status, counts| FileOutcome {
        content_hash: Some(content_hash.clone()),
        status,
        error: None,
        counts: Some(counts),
        ..FileOutcome::failed(name.to_string(), String::new())
    };
    // Per organisation: another organisation's copy of these bytes is neither found nor told.
    if let Some(existing) = store.find_feed_file(&options.label.owner, &content_hash)? {
        return Ok(outcome(FileStatus::AlreadyIngested, existing.counts));
    }
    let mut source = open_feed(
        path,
        options.format,
        options.mapping,
        options.report,
        options.catalogue,
    )?;
    let info = source.info().clone();
    progress.start(name, None);
    let (to_store, from_parser) = mpsc::sync_channel::<ToStore>(4);
    let (returned, recycled) = mpsc::channel::<Vec<FeedRow>>();
    let record = FeedFileRecord {
        content_hash: content_hash.clone(),
        path: name.to_string(),
        format: info.format.to_string(),
        report_type: info.report_type.clone(),
        label: options.label.clone(),
        counts: FeedCounts::default(),
        ingested_at: Timestamp(0),
    };
    let (bad, counts) = std::thread::scope(|scope| -> anyhow::Result<_> {
        // The transaction cannot leave its thread: the store stage owns it from begin to commit.
        let store_stage = scope.spawn(|| {
            let mut writer = store.begin_feed_file(&options.label.owner, &content_hash)?;
            let mut stage = StoreStage::new(netdb, options.catalogue);
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
                            ingested_at: options.clock.now(),
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
                    progress.set(rows + bad.total);
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
        progress.finish();
        let stored = store_stage.join().expect("store stage does not panic");
        parsed?;
        stored
    })?;
    Ok(FileOutcome {
        info: Some(info),
        bad_examples: bad.examples,
        ..outcome(FileStatus::Ingested, counts)
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
