//! Observation analytics: turns classified packets into time-bucketed flow tuples, rollups and
//! backscatter slots ([`Aggregator`]), and answers questions over them: top talkers
//! ([`Top`]), time series ([`Series`]) and DoS attacks inferred from backscatter ([`infer_dos`]).
//!
//! Architecture invariant: no I/O and no clock. Stores hand data in; callers print it.

mod aggregate;
mod dos;
mod flow;
mod query;
mod rollup;

pub use aggregate::{
    no_enrichment, Aggregator, ClosedBucket, Enricher, IngestCounts, Observations, SealedBucket,
};
pub use dos::{infer_dos, BackscatterSlot, DosAttack, DOS_SLOT_SECS};
pub use flow::FlowTuple;
pub use query::{rank_by_packets, FlowFilter, Series, SeriesPoint, Top, TopBy, TopRow};
pub use rollup::{build_rollups, Rollup, RollupDim};
