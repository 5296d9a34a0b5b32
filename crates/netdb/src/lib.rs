//! The IP database ("netdb"): imports IP→ASN and IP→country range tables (ip-location-db CSV,
//! iptoasn TSV, MaxMind MMDB), keeps them as dated snapshots in the data directory, and answers
//! lookups fast enough for the packet hot path.

use chrono::NaiveDate;
use greenwatch_model::Enrichment;
use serde::Serialize;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Every imported snapshot under `<data>/netdb/`.
pub struct NetDb {
    snapshots: Vec<Snapshot>,
}

/// The IP data valid from `as_of` until the next snapshot.
pub struct Snapshot {
    pub as_of: NaiveDate,
}

/// What `netdb import` did.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub as_of: NaiveDate,
    pub files: Vec<String>,
    pub asn_ranges: u64,
    pub country_ranges: u64,
    /// Bad rows by reason; each also logged with file and line.
    pub skipped_rows: u64,
}

/// Full answer for one address, as printed by `netdb lookup --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lookup {
    pub ip: IpAddr,
    pub asn: Option<u32>,
    pub as_name: Option<String>,
    pub country: Option<String>,
    /// Matched ASN range as `first-last`.
    pub asn_range: Option<String>,
    pub country_range: Option<String>,
    pub as_of: Option<NaiveDate>,
}

#[derive(Debug, thiserror::Error)]
pub enum NetDbError {
    #[error("{path}: {reason}")]
    Input { path: PathBuf, reason: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl NetDb {
    /// Loads every snapshot stored under `dir` (an empty or missing dir gives an empty NetDb).
    pub fn open(dir: &Path) -> Result<NetDb, NetDbError> {
        let _ = dir;
        todo!("helper: netdb")
    }

    /// Imports `paths` (format detected per file) as the snapshot dated `as_of` into `dir`.
    pub fn import(dir: &Path, paths: &[PathBuf], as_of: NaiveDate) -> Result<ImportReport, NetDbError> {
        let _ = (dir, paths, as_of);
        todo!("helper: netdb")
    }

    pub fn snapshots(&self) -> &[Snapshot] {
        &self.snapshots
    }

    /// The snapshot valid at `date`: the latest with `as_of <= date`, else the earliest.
    pub fn snapshot_at(&self, date: NaiveDate) -> Option<&Snapshot> {
        let _ = date;
        todo!("helper: netdb")
    }
}

impl Snapshot {
    /// Hot path: ASN and country of an IPv4 address (zeros when unknown).
    pub fn enrich_v4(&self, ip: u32) -> Enrichment {
        let _ = ip;
        todo!("helper: netdb")
    }

    pub fn enrich(&self, ip: IpAddr) -> Enrichment {
        let _ = ip;
        todo!("helper: netdb")
    }

    pub fn lookup(&self, ip: IpAddr) -> Lookup {
        let _ = ip;
        todo!("helper: netdb")
    }

    pub fn as_name(&self, asn: u32) -> Option<&str> {
        let _ = asn;
        todo!("helper: netdb")
    }

    /// IPv4 ranges (first, last) that have both an ASN and a country: "routed, allocated space".
    pub fn routed_v4(&self) -> Vec<(u32, u32)> {
        todo!("helper: netdb")
    }

    /// IPv6 ranges (first, last) that have both an ASN and a country.
    pub fn routed_v6(&self) -> Vec<(u128, u128)> {
        todo!("helper: netdb")
    }
}
