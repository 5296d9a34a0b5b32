//! The sensor network: the agent members run on unused address space ([`agent::run`]),
//! the batch it ships ([`Batch`]), its disk spool ([`Spool`]) and the collector's side of the
//! exchange ([`collector::accept_batch`]).
//!
//! ```no_run
//! use greenwatch_sensor::{agent, ship::Collector, PacketSource};
//! let config = agent::AgentConfig {
//!     spool_dir: "spool".into(),
//!     spool_max_bytes: 1 << 30,
//!     batch_records: 100_000,
//!     batch_interval: std::time::Duration::from_secs(10),
//!     bucket: greenwatch_model::BucketWidth::HOUR,
//!     retry_max: std::time::Duration::from_secs(30),
//!     health_interval: std::time::Duration::from_secs(60),
//!     drain_timeout: std::time::Duration::from_secs(10),
//! };
//! let collector = Collector::new("https://collector.example:8443", "token", None).unwrap();
//! let source = PacketSource::Replay { path: "day.pcap".into(), speed: None };
//! let stop = std::sync::atomic::AtomicBool::new(false);
//! let summary = agent::run(&config, &source, collector, &stop).unwrap();
//! println!("{} records in {} batches", summary.records, summary.batches_made);
//! ```
//!
//! Delivery guarantee: exactly once into the store for everything that reached the spool.
//! The sensor retries a batch until the collector acknowledges it (at least once); the
//! collector stores a batch id at most once (a retry is acknowledged as `duplicate`).

#[cfg(target_os = "linux")]
pub mod afpacket;
pub mod agent;
mod batch;
mod batch_maker;
pub mod collector;
pub mod registration;
pub mod ship;
mod source;
mod spool;
#[cfg(test)]
mod test_packets;

pub use batch::{Batch, BatchError, BatchHeader, BatchId, MAX_BATCH_BYTES};
pub use source::PacketSource;
pub use spool::{ReplayMark, Spool, SpoolError};
