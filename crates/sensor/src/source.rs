//! Where packets come from: a capture file replayed (as fast as possible or at a multiple of
//! its own pace) or a network interface through libpcap. Both feed the same
//! [`BatchMaker`]; only the replay can resume where a previous run stopped.

use crate::agent::{BatchMaker, CaptureStop, Shared, WhenFull};
use crate::spool::ReplayMark;
use greenwatch_model::Timestamp;
use greenwatch_packet::{CaptureReader, Frame, LinkType};
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

/// Snap length of live capture: enough for every header the decoder reads (ICMP errors
/// quote an inner IP and transport header).
const LIVE_SNAPLEN: i32 = 512;

/// How long live capture sleeps when the kernel has no packet for it.
const IDLE_WAIT: Duration = Duration::from_millis(1);

/// Kernel buffer of live capture: room for bursts while a batch is being cut.
const LIVE_BUFFER_BYTES: i32 = 32 << 20;

#[derive(Clone, Debug)]
pub enum Source {
    /// A pcap / pcapng file; `speed` 1.0 replays at the capture's own pace, 10.0 ten times
    /// faster, `None` as fast as possible.
    Replay { path: PathBuf, speed: Option<f64> },
    /// A network interface (libpcap, promiscuous).
    Live { interface: String },
}

impl Source {
    pub(crate) fn when_full(&self) -> WhenFull {
        match self {
            Source::Replay { .. } => WhenFull::Wait,
            Source::Live { .. } => WhenFull::Drop,
        }
    }

    pub(crate) fn capture(
        &self,
        maker: &mut BatchMaker<'_>,
        shared: &Shared,
    ) -> Result<(), CaptureStop> {
        match self {
            Source::Replay { path, speed } => replay(path, *speed, maker, shared),
            Source::Live { interface } => live(interface, maker, shared),
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

fn live(interface: &str, maker: &mut BatchMaker<'_>, shared: &Shared) -> Result<(), CaptureStop> {
    let failed =
        |e: pcap::Error| CaptureStop::Failed(anyhow::anyhow!("capturing on {interface}: {e}"));
    let mut capture = pcap::Capture::from_device(interface)
        .map_err(failed)?
        .promisc(true)
        .snaplen(LIVE_SNAPLEN)
        .immediate_mode(true)
        .buffer_size(LIVE_BUFFER_BYTES)
        .open()
        .and_then(|c| c.setnonblock())
        .map_err(failed)?;
    let link_type = LinkType(capture.get_datalink().0 as u32);
    eprintln!(
        "sensor: capturing on {interface} (link type {})",
        link_type.0
    );
    loop {
        if shared.stopping() {
            break;
        }
        let idle = match capture.next_packet() {
            Ok(packet) => {
                let ts = packet.header.ts;
                let frame = Frame {
                    ts: Timestamp(ts.tv_sec * 1_000_000 + ts.tv_usec),
                    link_type,
                    data: packet.data,
                    wire_len: packet.header.len,
                    offset: 0,
                };
                maker.add(&frame);
                false
            }
            // Non-blocking: libpcap's read timeout does not end a wait on every platform
            // (Linux keeps polling), and an idle darknet must still cut and ship batches.
            Err(pcap::Error::TimeoutExpired) => {
                std::thread::sleep(IDLE_WAIT);
                true
            }
            Err(e) => return Err(failed(e)),
        };
        if maker.due(idle) {
            if let Ok(stats) = capture.stats() {
                shared
                    .kernel_drops
                    .store(stats.dropped as u64 + stats.if_dropped as u64, Relaxed);
            }
            maker.cut(None, true)?;
        }
    }
    maker.cut(None, true)?;
    Ok(())
}
