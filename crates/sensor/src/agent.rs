//! The sensor agent: one thread captures, aggregates and cuts batches into the spool; one
//! ships the oldest spooled batch, again and again with backoff until the collector takes
//! it, so batches arrive in order and the spool absorbs any outage; one prints health.

use crate::batch_maker::{BatchMaker, CaptureStop, Shared};
use crate::ship::{Collector, ShipError};
use crate::source::PacketSource;
use crate::spool::Spool;
use greenwatch_model::sensor::SensorHealth;
use greenwatch_model::BucketWidth;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// How the agent runs; the command line fills it.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    pub spool_dir: PathBuf,
    /// Bound of the spool; past it new batches are dropped (live) or wait (replay).
    pub spool_max_bytes: u64,
    /// A batch is cut after this many records...
    pub batch_records: u64,
    /// ...or this long after the previous cut, whichever comes first.
    pub batch_interval: Duration,
    pub bucket: BucketWidth,
    /// Longest wait between two attempts to reach the collector.
    pub retry_max: Duration,
    /// How often a health line is printed (stderr).
    pub health_interval: Duration,
    /// After a stop request, how long to keep sending what is spooled.
    pub drain_timeout: Duration,
}

/// What a run did, for `--json`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunSummary {
    pub stream: String,
    /// Records captured or replayed by this run (a resumed replay skips those already done).
    pub records: u64,
    /// Records per second on the capture thread (decode, aggregate, encode, spool).
    pub records_per_sec: f64,
    pub batches_made: u64,
    pub batches_acknowledged: u64,
    /// Acknowledged batches the collector already had (retries after a lost answer).
    pub batches_duplicate: u64,
    /// Batches the collector refused for good, kept under `<spool>/rejected/`.
    pub batches_refused: u64,
    pub health: SensorHealth,
    /// Why the capture stopped early (a corrupt capture file, a capture device error).
    pub capture_error: Option<String>,
}

/// Runs the sensor until the source ends and the spool is empty, or until `stop` is set
/// (then it cuts a last batch and keeps sending for at most `drain_timeout`).
pub fn run(
    config: &AgentConfig,
    source: &PacketSource,
    collector: Collector,
    stop: &AtomicBool,
) -> anyhow::Result<RunSummary> {
    let stream = greenwatch_auth::new_secret()?[..32].to_string();
    let spool = Spool::open(&config.spool_dir, config.spool_max_bytes, &stream)?;
    let pending = spool.pending_batches();
    if pending > 0 {
        eprintln!(
            "sensor: resuming with {pending} batches ({} bytes) in the spool",
            spool.pending_bytes()
        );
    }
    let shared = Shared {
        spool: Mutex::new(spool),
        changed: Condvar::new(),
        capture_done: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        packets_seen: AtomicU64::new(0),
        kernel_drops: AtomicU64::new(0),
        clock_offset_ms: AtomicI64::new(0),
        has_clock_offset: AtomicBool::new(false),
        acknowledged: AtomicU64::new(0),
        duplicates: AtomicU64::new(0),
        refused: AtomicU64::new(0),
    };
    let started = Instant::now();
    let mut summary = std::thread::scope(|scope| -> anyhow::Result<RunSummary> {
        scope.spawn(|| forward_stop(stop, &shared));
        let shipper = scope.spawn(|| ship(&shared, &collector, config));
        scope.spawn(|| report_health(&shared, config.health_interval));
        let mut maker = BatchMaker::new(&shared, config, source.when_full());
        let captured = source.capture(&mut maker, &shared);
        shared.capture_done.store(true, Relaxed);
        shared.changed.notify_all();
        let capture_secs = started.elapsed().as_secs_f64();
        let shipped = shipper.join().expect("the shipper does not panic");
        shared.stop.store(true, Relaxed);
        shipped?;
        let (records, made) = (maker.total_records, maker.made);
        let capture_error = match captured {
            Ok(()) => None,
            Err(CaptureStop::Failed(e)) => return Err(e),
            Err(CaptureStop::InputError(e)) => Some(e),
        };
        Ok(RunSummary {
            stream: shared.spool().stream().to_string(),
            records,
            records_per_sec: records as f64 / capture_secs.max(1e-9),
            batches_made: made,
            capture_error,
            ..RunSummary::default()
        })
    })?;
    summary.batches_acknowledged = shared.acknowledged.load(Relaxed);
    summary.batches_duplicate = shared.duplicates.load(Relaxed);
    summary.batches_refused = shared.refused.load(Relaxed);
    summary.health = shared.health();
    Ok(summary)
}

/// Copies the caller's stop flag (signals) into the shared one, and ends with the run.
fn forward_stop(stop: &AtomicBool, shared: &Shared) {
    while !shared.stopping() {
        if stop.load(Relaxed) {
            eprintln!("sensor: stopping (a last batch, then sending what is spooled)");
            shared.stop.store(true, Relaxed);
            shared.changed.notify_all();
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Exponential backoff between attempts, from 200 ms up to a ceiling.
struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(200);

    fn new(max: Duration) -> Backoff {
        Backoff {
            next: Self::FIRST.min(max),
            max,
        }
    }

    fn wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(self.max);
        wait
    }

    fn reset(&mut self) {
        self.next = Self::FIRST.min(self.max);
    }
}

/// Sends the oldest spooled batch until the collector takes it, then the next.
fn ship(shared: &Shared, collector: &Collector, config: &AgentConfig) -> anyhow::Result<()> {
    let mut backoff = Backoff::new(config.retry_max);
    let mut outage: Option<(Instant, String)> = None;
    let mut stop_deadline: Option<Instant> = None;
    loop {
        if shared.stopping() {
            let deadline =
                *stop_deadline.get_or_insert_with(|| Instant::now() + config.drain_timeout);
            if Instant::now() >= deadline {
                return Ok(());
            }
        }
        let (seq, bytes) = {
            let mut spool = shared.spool();
            loop {
                if let Some(seq) = spool.oldest() {
                    break (seq, spool.read(seq)?);
                }
                if shared.capture_done.load(Relaxed) {
                    return Ok(());
                }
                spool = shared
                    .changed
                    .wait_timeout(spool, Duration::from_millis(200))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        };
        match collector.send(&bytes, &shared.health()) {
            Ok((ack, offset_ms)) => {
                shared.spool().acknowledge(seq)?;
                shared.changed.notify_all();
                shared.clock_offset_ms.store(offset_ms, Relaxed);
                shared.has_clock_offset.store(true, Relaxed);
                shared.acknowledged.fetch_add(1, Relaxed);
                if ack.status == "duplicate" {
                    shared.duplicates.fetch_add(1, Relaxed);
                }
                if let Some((since, _)) = outage.take() {
                    eprintln!(
                        "sensor: collector reachable again after {:.1} s; catching up ({} batches spooled)",
                        since.elapsed().as_secs_f64(),
                        shared.spool().pending_batches()
                    );
                }
                backoff.reset();
            }
            Err(ShipError::Refused { status, message }) => {
                let kept = shared.spool().set_aside(seq)?;
                shared.refused.fetch_add(1, Relaxed);
                eprintln!(
                    "sensor: ERROR collector refused batch {seq} ({status}: {message}); kept in {}",
                    kept.display()
                );
            }
            Err(e) => {
                let message = e.to_string();
                if outage.as_ref().is_none_or(|(_, last)| *last != message) {
                    eprintln!(
                        "sensor: {message}; batches stay in the spool, retrying with backoff"
                    );
                    outage = Some((
                        outage.map_or_else(Instant::now, |(since, _)| since),
                        message,
                    ));
                }
                // Wake when a stop arrives; after it, wait no longer than the drain allows.
                let wait = match stop_deadline {
                    Some(deadline) => backoff
                        .wait()
                        .min(deadline.saturating_duration_since(Instant::now())),
                    None => backoff.wait(),
                };
                sleep_unless(shared, wait, |s| s.stopping() && stop_deadline.is_none());
            }
        }
    }
}

/// Sleeps `duration` in short steps, returning early once `done` holds.
fn sleep_unless(shared: &Shared, duration: Duration, done: impl Fn(&Shared) -> bool) {
    let until = Instant::now() + duration;
    while Instant::now() < until && !done(shared) {
        std::thread::sleep((until - Instant::now()).min(Duration::from_millis(50)));
    }
}

/// Prints one health line per interval until the run ends.
fn report_health(shared: &Shared, interval: Duration) {
    loop {
        sleep_unless(shared, interval, |s| {
            s.capture_done.load(Relaxed) && s.spool().oldest().is_none() || s.stopping()
        });
        if shared.stopping()
            || shared.capture_done.load(Relaxed) && shared.spool().oldest().is_none()
        {
            return;
        }
        let h = shared.health();
        let offset = h
            .clock_offset_ms
            .map_or_else(|| "unknown".to_string(), |ms| format!("{ms} ms"));
        eprintln!(
            "sensor: health packets_seen={} kernel_drops={} batches_pending={} spool_bytes={} dropped_batches={} dropped_packets={} clock_offset={offset}",
            h.packets_seen, h.kernel_drops, h.batches_pending, h.spool_bytes, h.dropped_batches, h.dropped_packets
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_ceiling_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(1));
        let waits: Vec<u128> = (0..5).map(|_| b.wait().as_millis()).collect();
        assert_eq!(waits, [200, 400, 800, 1000, 1000]);
        b.reset();
        assert_eq!(b.wait().as_millis(), 200);
    }
}
