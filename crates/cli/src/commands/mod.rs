//! One module per subcommand.

pub mod demo;
pub mod generate;
pub mod ingest;
pub mod netdb;
pub mod query;
