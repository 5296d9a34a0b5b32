//! Capture files: read (memory-mapped) → decode → classify → enrich → aggregate → store.

use crate::{content_hash, FileOutcome, FileStatus, Progress};
use anyhow::Context;
use greenwatch_clock::Clock;
use greenwatch_model::access::Label;
use greenwatch_model::{BucketWidth, Enrichment, Timestamp};
use greenwatch_netdb::{NetDb, Snapshot};
use greenwatch_observe::{
    no_enrichment, Aggregator, BackscatterSlot, ClosedBucket, Enricher, IngestCounts, Observations,
    SealedBucket,
};
use greenwatch_packet::{decode, CaptureReader};
use greenwatch_store::{CaptureRecord, CaptureStatus, ObservationStore};
use std::cell::Cell;
use std::net::IpAddr;
use std::path::Path;
use std::sync::mpsc;
use std::time::Instant;

/// How a capture is stored.
#[derive(Clone, Debug)]
pub struct CaptureOptions {
    /// The sensor that recorded it.
    pub sensor: String,
    pub bucket: BucketWidth,
    /// Owner organisation and TLP of the data.
    pub label: Label,
    /// When the capture counts as stored (`CaptureRecord::ingested_at`).
    pub clock: Clock,
}

/// What one newly stored capture contributed.
#[derive(Debug)]
pub struct IngestedCapture {
    pub counts: IngestCounts,
    pub flows: usize,
    pub backscatter: Vec<BackscatterSlot>,
}

/// Enriches from the snapshot valid at each observation's date; the snapshot is looked up
/// again only when the day changes.
pub struct NetDbEnricher<'a> {
    netdb: &'a NetDb,
    day: Cell<Option<(i64, Option<&'a Snapshot>)>>,
}

impl<'a> NetDbEnricher<'a> {
    pub fn new(netdb: &'a NetDb) -> Self {
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

/// Ingests one capture file (pcap or pcapng) named `name` in outcomes and the store.
/// `Err` only when the file cannot be opened or is not a capture at all (nothing stored).
pub fn ingest_capture<S: ObservationStore + Send + ?Sized>(
    store: &mut S,
    netdb: &NetDb,
    path: &Path,
    name: &str,
    options: &CaptureOptions,
    progress: &dyn Progress,
) -> anyhow::Result<(FileOutcome, Option<IngestedCapture>)> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {name}"))?;
    // SAFETY: the map is read-only and we do not modify the file; a file truncated under us
    // by another process is the documented hazard of mmap and is not something we cause.
    let bytes = unsafe { memmap2::Mmap::map(&file) }.with_context(|| format!("mapping {name}"))?;
    // Read once, front to back: let the kernel read ahead and drop pages behind us, so
    // memory stays flat however large the capture.
    let _ = bytes.advise(memmap2::Advice::Sequential);
    let started = Instant::now();
    let content_hash = content_hash(&bytes);
    tracing::info!(
        file = name,
        hash_secs = started.elapsed().as_secs_f64(),
        "hashed"
    );
    let outcome = |status, error, packets| FileOutcome {
        status,
        error,
        packets: Some(packets),
        ..FileOutcome::failed(name.to_string(), String::new())
    };
    // Per organisation: another organisation's copy of these bytes is neither found nor told.
    if let Some(existing) = store.find_capture(&options.label.owner, &content_hash)? {
        let (status, error) = match existing.status {
            CaptureStatus::Complete => (FileStatus::AlreadyIngested, None),
            CaptureStatus::Partial(e) => (
                FileStatus::Partial,
                Some(format!("already ingested up to an error: {e}")),
            ),
        };
        let mut found = outcome(status, error, 0);
        found.content_hash = Some(content_hash);
        return Ok((found, None));
    }
    let reader =
        CaptureReader::new(&bytes).map_err(|e| anyhow::anyhow!("not a readable capture: {e}"))?;
    progress.start(name, Some(bytes.len() as u64));
    // Two stages on two threads: this one reads, decodes, aggregates and seals (sorts)
    // buckets; the store stage closes them (runs, enrichment), encodes them and
    // writes them in one transaction. The bounded channel keeps at most a few buckets in flight.
    let (to_store, from_reader) = mpsc::sync_channel::<StoreStage>(2);
    let (ingested, status) = std::thread::scope(|scope| -> anyhow::Result<_> {
        let store_stage = scope.spawn(|| {
            write_stage(
                store,
                netdb,
                &options.label.owner,
                &content_hash,
                &options.sensor,
                from_reader,
            )
        });
        let mut aggregator = Aggregator::new(options.bucket, NetDbEnricher::new(netdb));
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
                    tracing::debug!(file = name, offset = frame.offset, "undecodable frame: {e}");
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
                progress.set(frame.offset);
            }
        }
        progress.finish();
        let Observations {
            counts,
            buckets,
            backscatter,
        } = aggregator.finish();
        let record = CaptureRecord {
            content_hash: content_hash.clone(),
            path: name.to_string(),
            sensor: options.sensor.clone(),
            label: options.label.clone(),
            status: status.clone(),
            counts: counts.clone(),
            ingested_at: options.clock.now(),
        };
        // If the store stage already failed these sends fail too; its join gives the error.
        for bucket in buckets {
            let _ = to_store.send(StoreStage::Closed(bucket));
        }
        let _ = to_store.send(StoreStage::Commit(Box::new(record), backscatter.clone()));
        drop(to_store);
        let flows = store_stage.join().expect("store stage does not panic")?;
        Ok((
            IngestedCapture {
                counts,
                flows,
                backscatter,
            },
            status,
        ))
    })?;
    tracing::info!(
        file = name,
        seconds = started.elapsed().as_secs_f64(),
        flows = ingested.flows,
        "ingested"
    );
    let (status, error) = match status {
        CaptureStatus::Complete => (FileStatus::Ingested, None),
        CaptureStatus::Partial(e) => (
            FileStatus::Partial,
            Some(format!("{name}: {e} (everything before it was stored)")),
        ),
    };
    let mut stored = outcome(status, error, ingested.counts.packets);
    stored.content_hash = Some(content_hash);
    Ok((stored, Some(ingested)))
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
fn write_stage<S: ObservationStore + ?Sized>(
    store: &mut S,
    netdb: &NetDb,
    owner: &str,
    content_hash: &str,
    sensor: &str,
    work: mpsc::Receiver<StoreStage>,
) -> anyhow::Result<usize> {
    let enricher = NetDbEnricher::new(netdb);
    let mut writer = store.begin_capture(owner, content_hash, sensor)?;
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
