//! The vocabulary every Greenwatch crate speaks: traffic classes, scanner fingerprints,
//! timestamps and time buckets, and the summary/ground-truth records that let a generated
//! capture be compared with what ingest measured.
//!
//! Architecture invariant: this crate does no I/O and never reads the clock.

pub mod access;
pub mod account;
pub mod alert;
pub mod anonymise;
mod class;
mod enrich;
mod markup;
mod period;
mod risk;
pub mod sensor;
mod summary;
mod time;

pub use class::{Fingerprint, SpoofReason, TrafficClass, Transport};
pub use enrich::{CountryCode, Enrichment};
pub use markup::{escape_markup, neutralise_csv_formula};
pub use period::{Period, PeriodKind};
pub use risk::{ip_key, FeedCounts, RiskEvent};
pub use summary::{AnomalyTruth, ClassCounts, DosVictim, FingerprintCounts, GroundTruth};
pub use time::{BucketWidth, ParseBucketError, Timestamp};
