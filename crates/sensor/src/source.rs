//! Where packets come from: a capture file replayed (as fast as possible or at a multiple of
//! its own pace) or a network interface (Linux `AF_PACKET`, [`crate::afpacket`]). Both feed
//! the same [`BatchMaker`]; only the replay can resume where a previous run stopped.

use crate::batch_maker::{BatchMaker, CaptureStop, Shared, WhenFull};
use crate::spool::ReplayMark;
use greenwatch_model::Timestamp;
use greenwatch_packet::CaptureReader;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long live capture waits for the kernel at most before it looks at the stop flag and
/// the batch's age again.
#[cfg(target_os = "linux")]
const IDLE_WAIT: Duration = Duration::from_millis(10);

#[derive(Clone, Debug)]
pub enum PacketSource {
    /// A pcap / pcapng file; `speed` 1.0 replays at the capture's own pace, 10.0 ten times
    /// faster, `None` as fast as possible.
    Replay { path: PathBuf, speed: Option<f64> },
    /// A network interface (Linux only: an `AF_PACKET` ring, promiscuous).
    Live { interface: String },
}

impl PacketSource {
    pub(crate) fn when_full(&self) -> WhenFull {
        match self {
            PacketSource::Replay { .. } => WhenFull::Wait,
            PacketSource::Live { .. } => WhenFull::Drop,
        }
    }

    pub(crate) fn capture(
        &self,
        maker: &mut BatchMaker<'_>,
        shared: &Shared,
    ) -> Result<(), CaptureStop> {
        match self {
            PacketSource::Replay { path, speed } => replay(path, *speed, maker, shared),
            PacketSource::Live { interface } => live(interface, maker, shared),
        }
    }
}

fn replay(
    path: &PathBuf,
    speed: Option<f64>,
    maker: &mut BatchMaker<'_>,
    shared: &Shared,
) -> Result<(), CaptureStop> {
    let failed = |e: String| CaptureStop::Failed(anyhow::anyhow!("{}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| failed(e.to_string()))?;
    // SAFETY: the capture file is only read; a file truncated while mapped is the same
    // hazard every memory-mapped reader of captures accepts (ingest does the same).
    let bytes = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| failed(e.to_string()))?;
    let capture_hash = replay_identity(&bytes);
    let reader =
        CaptureReader::new(&bytes).map_err(|e| failed(format!("not a readable capture: {e}")))?;
    let skip = maker.replay_position(&capture_hash);
    if skip > 0 {
        eprintln!(
            "sensor: resuming the replay of {} after record {skip}",
            path.display()
        );
    }
    let mark = |records| {
        Some(ReplayMark {
            capture_hash: capture_hash.clone(),
            records,
        })
    };
    let mut pace = speed.filter(|s| *s > 0.0).map(Pace::new);
    let mut position = skip;
    for frame in reader.skip(skip as usize) {
        let frame = match frame {
            Ok(frame) => frame,
            Err(e) => {
                maker.cut(mark(position), false)?;
                return Err(CaptureStop::InputError(format!("{}: {e}", path.display())));
            }
        };
        if let Some(pace) = &mut pace {
            pace.wait_for(frame.ts);
        }
        maker.add(&frame);
        position += 1;
        if maker.due(false) {
            maker.cut(mark(position), false)?;
            if shared.stopping() {
                return Ok(());
            }
        }
    }
    maker.cut(mark(position), false)?;
    Ok(())
}

/// Which capture a replay position belongs to: BLAKE3 of its length and first MiB. Enough
/// to tell captures apart (the first MiB holds thousands of timestamped packets) without
/// reading the whole file before the first packet, as a content hash would.
fn replay_identity(bytes: &[u8]) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&(bytes.len() as u64).to_le_bytes());
    hasher.update(&bytes[..bytes.len().min(IDENTITY_PREFIX)]);
    hasher.finalize().to_hex().to_string()
}

/// Bytes of a capture that identify it for resuming a replay.
const IDENTITY_PREFIX: usize = 1 << 20;

/// Holds a replay to `speed` times the capture's own pace.
struct Pace {
    speed: f64,
    start: Instant,
    first: Option<Timestamp>,
}

impl Pace {
    fn new(speed: f64) -> Pace {
        Pace {
            speed,
            start: Instant::now(),
            first: None,
        }
    }

    fn wait_for(&mut self, ts: Timestamp) {
        let first = *self.first.get_or_insert(ts);
        let due = Duration::from_secs_f64(((ts.0 - first.0).max(0) as f64 / 1e6) / self.speed);
        let elapsed = self.start.elapsed();
        if due > elapsed + Duration::from_millis(1) {
            std::thread::sleep(due - elapsed);
        }
    }
}

#[cfg(target_os = "linux")]
fn live(interface: &str, maker: &mut BatchMaker<'_>, shared: &Shared) -> Result<(), CaptureStop> {
    let failed =
        |e: std::io::Error| CaptureStop::Failed(anyhow::anyhow!("capturing on {interface}: {e}"));
    let mut ring = crate::afpacket::Ring::open(interface).map_err(failed)?;
    eprintln!(
        "sensor: capturing on {interface} (link type {})",
        ring.link_type().0
    );
    while !shared.stopping() {
        if let Some(block) = ring.next_block(IDLE_WAIT).map_err(failed)? {
            for frame in block.frames() {
                maker.add(&frame);
                if maker.due(false) {
                    maker.cut(None, true)?;
                }
            }
        }
        shared.kernel_drops.store(
            ring.drops().map_err(failed)?,
            std::sync::atomic::Ordering::Relaxed,
        );
        // After every block or wait: an idle darknet must still cut and ship batches.
        if maker.due(true) {
            maker.cut(None, true)?;
        }
    }
    maker.cut(None, true)?;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn live(interface: &str, _: &mut BatchMaker<'_>, _: &Shared) -> Result<(), CaptureStop> {
    Err(CaptureStop::Failed(anyhow::anyhow!(
        "capturing on {interface}: live capture needs Linux (AF_PACKET); \
         replay a capture file with --pcap instead"
    )))
}
