//! Where observations live. [`ObservationStore`] is the one interface callers use; the
//! embedded SQLite backend ([`SqliteStore`]) is the default, and a ClickHouse (facts) +
//! PostgreSQL (state) backend implements the same trait later without touching callers.
//!
//! Architecture invariants: a capture is written in one transaction (all of it or none), and
//! a capture whose content hash is already stored is never written again.

mod codec;
mod sqlite;

use greenwatch_model::Timestamp;
use greenwatch_observe::{BackscatterSlot, FlowTuple, IngestCounts, Observations, Rollup};
use serde::Serialize;

pub use sqlite::SqliteStore;

/// How far an ingested capture got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "status", content = "error")]
pub enum CaptureStatus {
    /// Every record was read.
    Complete,
    /// The capture was cut short or corrupt; everything before the error is stored.
    Partial(String),
}

/// One ingested capture file, identified by the BLAKE3 hash of its content.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaptureRecord {
    pub content_hash: String,
    pub path: String,
    pub sensor: String,
    pub status: CaptureStatus,
    pub counts: IngestCounts,
    pub ingested_at: Timestamp,
}

/// Time range of bucket starts (seconds): `from` inclusive, `to` exclusive.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("store is corrupt: {0}")]
    Corrupt(String),
}

/// The storage interface for observation facts.
pub trait ObservationStore {
    /// The stored capture with this content hash, if any.
    fn find_capture(&self, content_hash: &str) -> Result<Option<CaptureRecord>, StoreError>;

    /// Stores a capture and everything observed in it, atomically. Rollups of every bucket it
    /// touches are left exact over all captures of that bucket.
    fn write_capture(
        &mut self,
        capture: &CaptureRecord,
        observations: &Observations,
    ) -> Result<(), StoreError>;

    fn captures(&self) -> Result<Vec<CaptureRecord>, StoreError>;

    /// Visits every flow tuple with a bucket in `range` (from `sensor` only, when given).
    fn scan_flows(
        &self,
        range: TimeRange,
        sensor: Option<&str>,
        visit: &mut dyn FnMut(&FlowTuple),
    ) -> Result<(), StoreError>;

    /// Rollup rows (all sensors) with a bucket in `range`, sorted by bucket.
    fn rollups(&self, range: TimeRange) -> Result<Vec<Rollup>, StoreError>;

    /// Backscatter slots with a slot start in `range`.
    fn backscatter_slots(
        &self,
        range: TimeRange,
        sensor: Option<&str>,
    ) -> Result<Vec<BackscatterSlot>, StoreError>;
}
