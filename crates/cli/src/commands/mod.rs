//! One module per subcommand.

pub mod accounts;
pub mod alert;
pub mod demo;
pub mod detect;
pub mod export;
pub mod generate;
pub mod ingest;
pub mod ingest_feed;
pub mod label;
pub mod metrics;
pub mod migrate;
pub mod netdb;
pub mod query;
pub mod report;
pub mod sensor;
pub mod serve;
