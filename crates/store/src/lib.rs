//! Storage of observations.
