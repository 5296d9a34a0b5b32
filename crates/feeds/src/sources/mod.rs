//! One module per feed format, each implementing [`crate::FeedSource`].

pub mod intelmq;
pub mod mapped;
pub mod shadowserver;
