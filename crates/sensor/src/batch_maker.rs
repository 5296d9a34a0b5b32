//! The capture thread's side of the agent: frames folded into batches, batches cut into the
//! spool, and the state the agent's threads share. The capture sources (`source.rs`) feed a
//! [`BatchMaker`]; the agent (`agent.rs`) starts them and ships what they spool.

use crate::agent::AgentConfig;
use crate::batch::Batch;
use crate::spool::{ReplayMark, Spool, SpoolError};
use greenwatch_model::sensor::SensorHealth;
use greenwatch_model::{BucketWidth, Enrichment, Timestamp};
use greenwatch_observe::{no_enrichment, Aggregator};
use greenwatch_packet::{decode, Frame};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What the capture thread does when the spool is full.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum WhenFull {
    /// Live traffic cannot wait: drop the new batch, count it, warn.
    Drop,
    /// A capture file can: wait until the collector takes some of the spool.
    Wait,
}

/// State shared by the agent's threads.
pub(crate) struct Shared {
    pub(crate) spool: Mutex<Spool>,
    /// Signalled when a batch is spooled or acknowledged.
    pub(crate) changed: Condvar,
    pub(crate) capture_done: AtomicBool,
    pub(crate) stop: AtomicBool,
    pub(crate) packets_seen: AtomicU64,
    pub(crate) kernel_drops: AtomicU64,
    pub(crate) clock_offset_ms: AtomicI64,
    pub(crate) has_clock_offset: AtomicBool,
    pub(crate) acknowledged: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) refused: AtomicU64,
}

impl Shared {
    pub(crate) fn spool(&self) -> MutexGuard<'_, Spool> {
        self.spool.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Relaxed)
    }

    pub(crate) fn health(&self) -> SensorHealth {
        let spool = self.spool();
        let (dropped_batches, dropped_packets) = spool.dropped();
        SensorHealth {
            at: now(),
            packets_seen: self.packets_seen.load(Relaxed),
            kernel_drops: self.kernel_drops.load(Relaxed),
            batches_pending: spool.pending_batches(),
            spool_bytes: spool.pending_bytes(),
            dropped_batches,
            dropped_packets,
            clock_offset_ms: self
                .has_clock_offset
                .load(Relaxed)
                .then(|| self.clock_offset_ms.load(Relaxed)),
        }
    }
}

pub(crate) fn now() -> Timestamp {
    Timestamp(chrono::Utc::now().timestamp_micros())
}

/// Why capture ended before its source did.
pub(crate) enum CaptureStop {
    /// The input itself is bad (corrupt capture): what came before is shipped.
    InputError(String),
    /// The sensor cannot go on (spool or device failure).
    Failed(anyhow::Error),
}

impl From<SpoolError> for CaptureStop {
    fn from(e: SpoolError) -> Self {
        CaptureStop::Failed(e.into())
    }
}

type Enrich = fn(IpAddr, Timestamp) -> Enrichment;

/// Folds frames into the current batch's aggregator and cuts batches into the spool.
pub(crate) struct BatchMaker<'a> {
    shared: &'a Shared,
    bucket: BucketWidth,
    batch_records: u64,
    interval: Duration,
    when_full: WhenFull,
    aggregator: Aggregator<Enrich>,
    records: u64,
    cut_at: Instant,
    pub(crate) total_records: u64,
    pub(crate) made: u64,
    warned_full: bool,
}

impl<'a> BatchMaker<'a> {
    pub(crate) fn new(shared: &'a Shared, config: &AgentConfig, when_full: WhenFull) -> Self {
        BatchMaker {
            shared,
            bucket: config.bucket,
            batch_records: config.batch_records,
            interval: config.batch_interval,
            when_full,
            aggregator: Aggregator::new(config.bucket, no_enrichment as Enrich),
            records: 0,
            cut_at: Instant::now(),
            total_records: 0,
            made: 0,
            warned_full: false,
        }
    }

    /// The records already in batches of the capture with this hash (replay resumes there).
    pub(crate) fn replay_position(&self, capture_hash: &str) -> u64 {
        self.shared.spool().replay_position(capture_hash)
    }

    pub(crate) fn add(&mut self, frame: &Frame<'_>) {
        match decode(frame) {
            Ok(packet) => self.aggregator.add(&packet),
            Err(e) => self.aggregator.add_error(e.key(), frame.wire_len),
        }
        self.records += 1;
    }

    /// Whether the current batch is full or old enough to cut (cheap: checks the clock
    /// every 1024 records, and whenever `check_clock`: a live capture after each block of
    /// frames and each wait for one).
    pub(crate) fn due(&self, check_clock: bool) -> bool {
        self.records >= self.batch_records
            || ((check_clock || self.records.is_multiple_of(1024))
                && self.cut_at.elapsed() >= self.interval)
    }

    /// Cuts the current batch into the spool. `replay` is the position it reaches in the
    /// capture file being replayed. An empty batch is cut only as a heartbeat (`keepalive`).
    pub(crate) fn cut(
        &mut self,
        replay: Option<ReplayMark>,
        keepalive: bool,
    ) -> Result<(), CaptureStop> {
        self.cut_at = Instant::now();
        if self.records == 0 && !keepalive {
            return Ok(());
        }
        let aggregator = std::mem::replace(
            &mut self.aggregator,
            Aggregator::new(self.bucket, no_enrichment as Enrich),
        );
        let observations = aggregator.finish();
        let packets = observations.counts.packets;
        let (stream, seq) = {
            let spool = self.shared.spool();
            (spool.stream().to_string(), spool.next_seq())
        };
        let bytes = Batch::from_observations(&stream, seq, self.bucket, observations).encode();
        self.shared.packets_seen.fetch_add(self.records, Relaxed);
        self.total_records += self.records;
        self.records = 0;
        let mut spool = self.shared.spool();
        loop {
            match spool.append(&bytes, replay.clone()) {
                Ok(appended) => {
                    debug_assert_eq!(appended, seq);
                    self.made += 1;
                    self.shared.changed.notify_all();
                    return Ok(());
                }
                Err(SpoolError::Full {
                    pending_bytes,
                    max_bytes,
                    ..
                }) => {
                    let can_wait = self.when_full == WhenFull::Wait
                        && spool.pending_batches() > 0
                        && !self.shared.stopping();
                    if can_wait {
                        if !self.warned_full {
                            eprintln!("sensor: WARNING spool full ({pending_bytes} of {max_bytes} bytes); replay waits for the collector");
                            self.warned_full = true;
                        }
                        spool = self
                            .shared
                            .changed
                            .wait_timeout(spool, Duration::from_millis(500))
                            .unwrap_or_else(|e| e.into_inner())
                            .0;
                        continue;
                    }
                    spool.record_drop(packets, replay)?;
                    let (batches, dropped) = spool.dropped();
                    eprintln!("sensor: WARNING spool full ({pending_bytes} of {max_bytes} bytes): dropped a batch of {packets} packets ({batches} batches, {dropped} packets dropped so far)");
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}
