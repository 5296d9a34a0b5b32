//! Why a question could not be answered.

use greenwatch_metrics::MetricsError;
use greenwatch_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// The question cannot be answered as asked (a window too long, a bad search term): the
    /// message says what and why, for the person who asked.
    #[error("{0}")]
    Query(String),
    /// The question names something that does not exist or that the viewer may not see.
    #[error("{0}")]
    NotFound(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl From<MetricsError> for AnalyticsError {
    fn from(e: MetricsError) -> Self {
        match e {
            MetricsError::Query(msg) => AnalyticsError::Query(msg),
            MetricsError::Store(e) => AnalyticsError::Store(e),
        }
    }
}
