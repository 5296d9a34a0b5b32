//! Risk feeds: the risk catalogue, and readers that turn the files CSIRTs receive into rows
//! attributed to a risk. One module per input format under `sources/`, behind [`FeedSource`]:
//!
//! - `shadowserver`: Shadowserver report CSV; the report type comes from the file name
//!   (`YYYY-MM-DD-<type>-...csv`) or from the header (the published column lists are embedded,
//!   `data/shadowserver-reports.json`).
//! - `intelmq`: IntelMQ events as JSON lines (harmonization field names, flat or nested).
//! - `mapped`: any CSV or JSON-lines file, with a TOML [`Mapping`] saying which column is what.
//!
//! Every input may be gzip-compressed (detected by its magic bytes). Reading streams: memory
//! does not grow with the file. A bad row is counted in [`BadRows`] with its line and reason and
//! skipped; it never stops the rest of the file.
//!
//! ```no_run
//! use greenwatch_feeds::{open_feed, BadRows, Catalogue, FeedFormat};
//! use std::path::Path;
//!
//! let catalogue = Catalogue::shipped();
//! let path = Path::new("2026-10-05-scan_dns-example-asn.csv");
//! let mut feed = open_feed(path, FeedFormat::Auto, None, None, &catalogue)?;
//! let (mut rows, mut bad) = (Vec::new(), BadRows::default());
//! loop {
//!     let more = feed.read_batch(&mut rows, &mut bad, 65_536)?;
//!     for row in &rows {
//!         println!("{} {} {}", catalogue.get(row.risk).slug, row.ip, row.time);
//!     }
//!     rows.clear();
//!     if !more {
//!         break;
//!     }
//! }
//! println!("{} bad rows", bad.total);
//! # Ok::<(), greenwatch_feeds::FeedError>(())
//! ```
//!
//! Architecture invariant: this crate does no enrichment and no storage; it only parses.

pub mod catalogue;
mod sources;

pub use catalogue::{Amplification, Catalogue, CatalogueError, ObservedRule, Risk, RiskIndex};
pub use sources::mapped::Mapping;
pub use sources::shadowserver::{report_columns, report_types};

use chrono::NaiveDate;
use greenwatch_model::{CountryCode, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The format of a feed file, as chosen on the command line.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FeedFormat {
    /// Decide from the file name and the first line.
    Auto,
    Shadowserver,
    Intelmq,
    /// Generic CSV or JSON lines with a [`Mapping`].
    Mapped,
}

/// One parsed record, before enrichment.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FeedRow {
    pub risk: RiskIndex,
    pub ip: IpAddr,
    /// 0 when the feed gives no port.
    pub port: u16,
    pub time: Timestamp,
    /// 1-based line number in the (decompressed) file; the header is line 1.
    pub line: u64,
    /// ASN and country as the feed reported them (0 / unknown when absent).
    pub feed_asn: u32,
    pub feed_country: CountryCode,
}

/// What was learnt about a file when it was opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FeedInfo {
    /// `shadowserver`, `intelmq` or `mapped`.
    pub format: &'static str,
    /// The Shadowserver report type, when the format has one.
    pub report_type: Option<String>,
    /// The date in the file name (`YYYY-MM-DD-...`), if any.
    pub date_from_name: Option<NaiveDate>,
    pub gzip: bool,
}

/// Reads one format. `read_batch` appends up to `max` rows to `out` and records bad rows in
/// `bad`; it returns `Ok(false)` once the input is exhausted. Rows appended by the call that
/// returns `Ok(false)` count too; bad rows do not count towards `max`. An `Err` (an I/O error
/// such as a truncated gzip stream) ends the file; rows returned before it stay valid.
pub trait FeedSource: Send {
    fn info(&self) -> &FeedInfo;
    fn read_batch(
        &mut self,
        out: &mut Vec<FeedRow>,
        bad: &mut BadRows,
        max: usize,
    ) -> Result<bool, FeedError>;
}

/// Opens `path` in `format` (detected when `Auto`). `mapping` is required for `Mapped` and
/// makes `Auto` choose it; `report_type` forces the Shadowserver report type.
pub fn open_feed(
    path: &Path,
    format: FeedFormat,
    mapping: Option<&Mapping>,
    report_type: Option<&str>,
    catalogue: &Catalogue,
) -> Result<Box<dyn FeedSource>, FeedError> {
    sources::open(path, format, mapping, report_type, catalogue)
}

/// Why a file could not be read at all (bad rows are not errors: see [`BadRows`]).
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{path}: {reason}")]
    Input { path: PathBuf, reason: String },
    #[error("{path}: line {line}: {reason}")]
    Line {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    #[error("mapping {path}: {reason}")]
    Mapping { path: PathBuf, reason: String },
}

/// Bad rows seen so far: counted per reason, the first [`BadRows::EXAMPLES`] kept with their
/// line numbers for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BadRows {
    pub total: u64,
    /// Count per reason category (e.g. `invalid ip`).
    pub by_reason: BTreeMap<String, u64>,
    pub examples: Vec<BadRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BadRow {
    pub line: u64,
    pub reason: String,
}

impl BadRows {
    pub const EXAMPLES: usize = 50;

    /// Counts one bad row: `category` is the short reason it is counted under, `detail` the
    /// full explanation (kept for the first examples only).
    pub fn add(&mut self, line: u64, category: &str, detail: impl FnOnce() -> String) {
        self.total += 1;
        match self.by_reason.get_mut(category) {
            Some(n) => *n += 1,
            None => {
                self.by_reason.insert(category.to_string(), 1);
            }
        }
        if self.examples.len() < Self::EXAMPLES {
            self.examples.push(BadRow {
                line,
                reason: format!("{category}: {}", detail()),
            });
        }
    }
}
