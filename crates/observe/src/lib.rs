//! Aggregation of classified packets into flow tuples, rollups and DoS attacks.
