//! The sensor's disk spool: every batch is written here before it is sent and removed only
//! once the collector has acknowledged it, so an outage of the link or the collector, or a
//! restart of the sensor, loses nothing that reached the spool.
//!
//! Layout: `state.json` (stream id, next sequence number, replay progress, drop counts) and
//! one `<seq>.batch` file per pending batch. Both are written to a temporary name, synced and
//! renamed, so a crash leaves either the old or the new file. The state file is the commit
//! point: a batch file whose sequence number the state does not yet count (a crash between
//! the two renames) is removed on open, and its packets are made again from the replay
//! position the state still holds.
//!
//! `lock` holds an exclusive lock (flock) while a sensor has the spool open: two sensors on one
//! spool would reuse sequence numbers and delete each other's batches.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const STATE_FILE: &str = "state.json";
const LOCK_FILE: &str = "lock";
const BATCH_SUFFIX: &str = ".batch";
/// Where batches the collector refused as malformed go, kept for inspection.
pub const REJECTED_DIR: &str = "rejected";

/// How far the replay of one capture file got: its first `records` records are in batches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayMark {
    /// Identity of the capture file (BLAKE3 of its length and first MiB), so another file
    /// starts from its beginning.
    pub capture_hash: String,
    pub records: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct SpoolState {
    stream: String,
    next_seq: u64,
    replay: Option<ReplayMark>,
    dropped_batches: u64,
    dropped_packets: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("spool {path} is damaged: {reason}")]
    Damaged { path: PathBuf, reason: String },
    #[error("spool {path} is in use by another sensor ({holder}); every sensor needs a spool directory of its own")]
    Locked { path: PathBuf, holder: String },
    #[error("spool full: {pending_bytes} bytes pending, {batch_bytes} more would pass the limit of {max_bytes}")]
    Full {
        pending_bytes: u64,
        batch_bytes: u64,
        max_bytes: u64,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Pending batches and their sizes, in sequence order.
pub struct Spool {
    dir: PathBuf,
    /// Holds the spool's lock for as long as the spool is open.
    _lock: File,
    max_bytes: u64,
    state: SpoolState,
    pending: BTreeMap<u64, u64>,
    pending_bytes: u64,
}

impl Spool {
    /// Opens the spool in `dir` (created if needed) holding at most `max_bytes` of batches.
    /// `new_stream` names the stream of a new spool (32 hex digits).
    pub fn open(dir: &Path, max_bytes: u64, new_stream: &str) -> Result<Spool, SpoolError> {
        fs::create_dir_all(dir).map_err(io_error(dir))?;
        let lock = lock(dir)?;
        let state_path = dir.join(STATE_FILE);
        let state = match fs::read(&state_path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| SpoolError::Damaged {
                path: state_path.clone(),
                reason: e.to_string(),
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => SpoolState {
                stream: new_stream.to_string(),
                next_seq: 0,
                replay: None,
                dropped_batches: 0,
                dropped_packets: 0,
            },
            Err(e) => return Err(io_error(&state_path)(e)),
        };
        let mut spool = Spool {
            dir: dir.to_path_buf(),
            _lock: lock,
            max_bytes,
            state,
            pending: BTreeMap::new(),
            pending_bytes: 0,
        };
        spool.write_state()?;
        spool.load_pending()?;
        Ok(spool)
    }

    fn load_pending(&mut self) -> Result<(), SpoolError> {
        for entry in fs::read_dir(&self.dir).map_err(io_error(&self.dir))? {
            let entry = entry.map_err(io_error(&self.dir))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".tmp") {
                fs::remove_file(&path).map_err(io_error(&path))?;
                continue;
            }
            let Some(seq) = name
                .strip_suffix(BATCH_SUFFIX)
                .and_then(|s| s.parse::<u64>().ok())
            else {
                continue;
            };
            if seq >= self.state.next_seq {
                tracing::warn!(file = %path.display(), "removing a batch the spool never committed (the sensor stopped while writing it)");
                fs::remove_file(&path).map_err(io_error(&path))?;
                continue;
            }
            let size = entry.metadata().map_err(io_error(&path))?.len();
            self.pending.insert(seq, size);
            self.pending_bytes += size;
        }
        Ok(())
    }

    pub fn stream(&self) -> &str {
        &self.state.stream
    }

    /// The sequence number the next batch gets.
    pub fn next_seq(&self) -> u64 {
        self.state.next_seq
    }

    /// How far the replay of the capture with this hash got (0 for another capture).
    pub fn replay_position(&self, capture_hash: &str) -> u64 {
        match &self.state.replay {
            Some(mark) if mark.capture_hash == capture_hash => mark.records,
            _ => 0,
        }
    }

    /// Writes batch `next_seq()` and commits it with the replay position it reaches.
    pub fn append(&mut self, bytes: &[u8], replay: Option<ReplayMark>) -> Result<u64, SpoolError> {
        let batch_bytes = bytes.len() as u64;
        if self.pending_bytes + batch_bytes > self.max_bytes {
            return Err(SpoolError::Full {
                pending_bytes: self.pending_bytes,
                batch_bytes,
                max_bytes: self.max_bytes,
            });
        }
        let seq = self.state.next_seq;
        write_atomically(&self.batch_path(seq), bytes)?;
        self.state.next_seq += 1;
        if replay.is_some() {
            self.state.replay = replay;
        }
        self.write_state()?;
        self.pending.insert(seq, batch_bytes);
        self.pending_bytes += batch_bytes;
        Ok(seq)
    }

    /// Records a batch thrown away because the spool was full (the replay still moves on).
    pub fn record_drop(
        &mut self,
        packets: u64,
        replay: Option<ReplayMark>,
    ) -> Result<(), SpoolError> {
        self.state.dropped_batches += 1;
        self.state.dropped_packets += packets;
        if replay.is_some() {
            self.state.replay = replay;
        }
        self.write_state()
    }

    /// The oldest pending batch.
    pub fn oldest(&self) -> Option<u64> {
        self.pending.keys().next().copied()
    }

    pub fn read(&self, seq: u64) -> Result<Vec<u8>, SpoolError> {
        let path = self.batch_path(seq);
        fs::read(&path).map_err(io_error(&path))
    }

    /// The collector has the batch: forget it.
    pub fn acknowledge(&mut self, seq: u64) -> Result<(), SpoolError> {
        let path = self.batch_path(seq);
        fs::remove_file(&path).map_err(io_error(&path))?;
        self.forget(seq);
        Ok(())
    }

    /// The collector refused the batch for good: keep it under `rejected/` for inspection.
    pub fn set_aside(&mut self, seq: u64) -> Result<PathBuf, SpoolError> {
        let dir = self.dir.join(REJECTED_DIR);
        fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        let to = dir.join(batch_name(seq));
        let from = self.batch_path(seq);
        fs::rename(&from, &to).map_err(io_error(&from))?;
        self.forget(seq);
        Ok(to)
    }

    fn forget(&mut self, seq: u64) {
        if let Some(size) = self.pending.remove(&seq) {
            self.pending_bytes -= size;
        }
    }

    pub fn pending_batches(&self) -> u64 {
        self.pending.len() as u64
    }

    pub fn pending_bytes(&self) -> u64 {
        self.pending_bytes
    }

    pub fn dropped(&self) -> (u64, u64) {
        (self.state.dropped_batches, self.state.dropped_packets)
    }

    fn batch_path(&self, seq: u64) -> PathBuf {
        self.dir.join(batch_name(seq))
    }

    fn write_state(&self) -> Result<(), SpoolError> {
        let json = serde_json::to_vec_pretty(&self.state).expect("state serialises");
        write_atomically(&self.dir.join(STATE_FILE), &json)
    }
}

/// Takes the spool's exclusive lock and writes who holds it into the lock file, for the error
/// another sensor gets. The kernel releases the lock when the process ends, however it ends.
fn lock(dir: &Path) -> Result<File, SpoolError> {
    let path = dir.join(LOCK_FILE);
    let mut file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_error(&path))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let holder = fs::read_to_string(&path).unwrap_or_default();
            let holder = match holder.trim() {
                "" => "holder unknown".to_string(),
                known => known.to_string(),
            };
            return Err(SpoolError::Locked {
                path: dir.to_path_buf(),
                holder,
            });
        }
        Err(fs::TryLockError::Error(e)) => return Err(io_error(&path)(e)),
    }
    file.set_len(0)
        .and_then(|()| write!(file, "pid {}", std::process::id()))
        .map_err(io_error(&path))?;
    Ok(file)
}

fn batch_name(seq: u64) -> String {
    // Zero-padded so that a directory listing is in sequence order.
    format!("{seq:020}{BATCH_SUFFIX}")
}

/// Writes `path` through a synced temporary file and a rename, then syncs the directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SpoolError> {
    let tmp = path.with_extension("tmp");
    let mut file = File::create(&tmp).map_err(io_error(&tmp))?;
    file.write_all(bytes).map_err(io_error(&tmp))?;
    file.sync_all().map_err(io_error(&tmp))?;
    fs::rename(&tmp, path).map_err(io_error(path))?;
    let dir = path
        .parent()
        .expect("spool files live in the spool directory");
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = "00112233445566778899aabbccddeeff";

    fn mark(records: u64) -> Option<ReplayMark> {
        Some(ReplayMark {
            capture_hash: "abc".into(),
            records,
        })
    }

    #[test]
    fn batches_stay_until_acknowledged_and_survive_a_restart_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), 1 << 20, STREAM).unwrap();
        for (i, body) in [b"one".as_slice(), b"two", b"three"].iter().enumerate() {
            assert_eq!(
                spool.append(body, mark(10 * (i as u64 + 1))).unwrap(),
                i as u64
            );
        }
        spool.acknowledge(0).unwrap();
        drop(spool);

        let reopened =
            Spool::open(dir.path(), 1 << 20, "ffffffffffffffffffffffffffffffff").unwrap();
        assert_eq!(
            reopened.stream(),
            STREAM,
            "a restarted sensor keeps its stream"
        );
        assert_eq!(reopened.next_seq(), 3);
        assert_eq!(reopened.oldest(), Some(1));
        assert_eq!(reopened.read(1).unwrap(), b"two");
        assert_eq!(reopened.pending_batches(), 2);
        assert_eq!(reopened.pending_bytes(), 8);
        assert_eq!(reopened.replay_position("abc"), 30);
        assert_eq!(reopened.replay_position("another capture"), 0);
    }

    #[test]
    fn a_full_spool_refuses_the_batch_and_counts_what_was_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), 10, STREAM).unwrap();
        spool.append(b"12345678", None).unwrap();
        let err = spool.append(b"123", None).unwrap_err();
        assert!(matches!(
            err,
            SpoolError::Full {
                pending_bytes: 8,
                batch_bytes: 3,
                max_bytes: 10
            }
        ));
        spool.record_drop(1500, mark(99)).unwrap();
        assert_eq!(
            spool.next_seq(),
            1,
            "a dropped batch takes no sequence number"
        );
        drop(spool);
        let reopened = Spool::open(dir.path(), 10, STREAM).unwrap();
        assert_eq!(reopened.dropped(), (1, 1500));
        assert_eq!(reopened.replay_position("abc"), 99);
    }

    #[test]
    fn an_uncommitted_batch_file_is_removed_and_its_data_made_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), 1 << 20, STREAM).unwrap();
        spool.append(b"kept", mark(5)).unwrap();
        drop(spool);
        // A crash after the batch file's rename but before the state's.
        fs::write(dir.path().join(batch_name(1)), b"orphan").unwrap();
        fs::write(dir.path().join("state.json.tmp"), b"half").unwrap();
        let reopened = Spool::open(dir.path(), 1 << 20, STREAM).unwrap();
        assert_eq!(reopened.pending_batches(), 1);
        assert_eq!(reopened.next_seq(), 1);
        assert_eq!(reopened.replay_position("abc"), 5);
        assert!(!dir.path().join(batch_name(1)).exists());
        assert!(!dir.path().join("state.json.tmp").exists());
    }

    #[test]
    fn refused_batches_are_set_aside_not_resent() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), 1 << 20, STREAM).unwrap();
        spool.append(b"bad", None).unwrap();
        let kept = spool.set_aside(0).unwrap();
        assert_eq!(fs::read(kept).unwrap(), b"bad");
        assert_eq!(spool.oldest(), None);
        assert_eq!(spool.pending_bytes(), 0);
    }

    #[test]
    fn a_second_spool_on_the_same_directory_is_refused_naming_it_and_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = Spool::open(dir.path(), 1 << 20, STREAM).unwrap();
        let err = Spool::open(dir.path(), 1 << 20, STREAM).err().unwrap();
        let message = err.to_string();
        assert!(matches!(err, SpoolError::Locked { .. }), "{message}");
        assert!(
            message.contains(&dir.path().display().to_string())
                && message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
        drop(first);
        // Closing the spool releases it.
        Spool::open(dir.path(), 1 << 20, STREAM).unwrap();
    }

    #[test]
    fn a_damaged_state_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(STATE_FILE), b"{").unwrap();
        let err = Spool::open(dir.path(), 1, STREAM)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("state.json") && err.contains("damaged"),
            "{err}"
        );
    }
}
