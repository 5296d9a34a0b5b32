//! Ingest: capture files and risk-feed files into the store, one transaction per file,
//! skipping files whose content is already stored. The command line (`greenwatch ingest`) and
//! the portal's upload run these same functions; each reports progress through [`Progress`]
//! (a progress bar there, a job status here) and returns a [`FileOutcome`].
//!
//! Invariants: a file is stored whole or not at all (a truncated capture stores everything
//! before the error and says where it stopped); a bad feed row is counted with its line and
//! skipped, never fatal; nothing already stored is changed.

mod capture;
mod feed;

pub use capture::{ingest_capture, CaptureOptions, IngestedCapture, NetDbEnricher};
pub use feed::{ingest_feed, FeedOptions};

use greenwatch_feeds::{BadRow, FeedInfo};
use greenwatch_model::FeedCounts;
use serde::Serialize;

/// Where ingest of one file has got to: bytes read of a capture, rows read of a feed.
pub trait Progress: Sync {
    /// Starts a file of `total` units (`None` when unknown, as for a streamed feed).
    fn start(&self, name: &str, total: Option<u64>);
    fn set(&self, done: u64);
    fn finish(&self);
}

/// No progress shown.
impl Progress for () {
    fn start(&self, _: &str, _: Option<u64>) {}
    fn set(&self, _: u64) {}
    fn finish(&self) {}
}

/// What happened to one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Read to the end and stored.
    Ingested,
    /// Cut short or corrupt: everything before the error is stored (captures only).
    Partial,
    /// The same content was stored before; nothing was written.
    AlreadyIngested,
    /// Nothing of it was stored.
    Failed,
}

impl FileStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            FileStatus::Ingested => "ingested",
            FileStatus::Partial => "partial",
            FileStatus::AlreadyIngested => "already_ingested",
            FileStatus::Failed => "failed",
        }
    }

    /// Whether the file did not go in whole.
    pub fn is_failure(&self) -> bool {
        matches!(self, FileStatus::Partial | FileStatus::Failed)
    }
}

/// One file's outcome, as `ingest --json` prints it and the portal's upload shows it.
#[derive(Clone, Debug, Serialize)]
pub struct FileOutcome {
    pub path: String,
    pub content_hash: Option<String>,
    pub status: FileStatus,
    /// Where and why the file failed or stopped (with its byte offset or line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Captures: packets read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packets: Option<u64>,
    /// Feeds: the format and report type found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<FeedInfo>,
    /// Feeds: rows, events and bad rows by reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<FeedCounts>,
    /// Feeds: the first bad rows, with their line numbers.
    pub bad_examples: Vec<BadRow>,
}

impl FileOutcome {
    /// A file of which nothing was stored, with the reason.
    pub fn failed(path: String, error: String) -> FileOutcome {
        FileOutcome {
            path,
            content_hash: None,
            status: FileStatus::Failed,
            error: Some(error),
            packets: None,
            info: None,
            counts: None,
            bad_examples: Vec::new(),
        }
    }
}

/// The key under which a file's content is stored: `blake3:<hex>`.
pub fn hash_label(hash: blake3::Hash) -> String {
    format!("blake3:{}", hash.to_hex())
}

/// The content key of bytes in memory, hashed on all cores.
pub fn content_hash(bytes: &[u8]) -> String {
    hash_label(blake3::Hasher::new().update_rayon(bytes).finalize())
}
