//! How backends key and check datasets (captures and feed files) and bucket their backscatter,
//! alike in every backend so that a store moves between them row for row.

use crate::{CaptureStatus, StoreError};
use greenwatch_model::access::Label;

/// A dataset's stored key, `owner/hash`: datasets are identified per organisation (a unique
/// key on it keeps one copy per organisation, and another organisation's copy of the same
/// bytes is its own dataset).
pub fn key(owner: &str, content_hash: &str) -> String {
    format!("{owner}/{content_hash}")
}

/// The content hash of a stored [`key`].
pub fn content_hash_of(key: String) -> String {
    match key.split_once('/') {
        Some((_, hash)) => hash.to_string(),
        None => key,
    }
}

/// A writer's label must name the owner it began with: the dataset's key holds it.
pub fn same_owner(began: &str, label: &Label) -> Result<(), StoreError> {
    if began == label.owner {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!(
            "a dataset begun for {began} cannot be committed as {}'s",
            label.owner
        )))
    }
}

/// A capture's status as its `status` and `error` columns hold it.
pub fn status_columns(status: &CaptureStatus) -> (&'static str, Option<&str>) {
    match status {
        CaptureStatus::Complete => ("complete", None),
        CaptureStatus::Partial(e) => ("partial", Some(e.as_str())),
    }
}

/// The status held in a capture's `status` and `error` columns ([`status_columns`]).
pub fn status_from_columns(status: &str, error: Option<String>) -> CaptureStatus {
    match status {
        "complete" => CaptureStatus::Complete,
        _ => CaptureStatus::Partial(error.unwrap_or_default()),
    }
}

/// Backscatter is stored per hour, whatever the flow bucket width: the hour of `secs`.
pub fn hour_of(secs: i64) -> i64 {
    secs.div_euclid(3600) * 3600
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hold_the_owner_and_give_back_the_hash() {
        assert_eq!(key("cert-a", "ab12"), "cert-a/ab12");
        assert_eq!(content_hash_of(key("cert-a", "ab12")), "ab12");
        assert_eq!(content_hash_of("legacy".into()), "legacy");
        assert_eq!(hour_of(7199), 3600);
        assert_eq!(hour_of(-1), -3600);
        for status in [
            CaptureStatus::Complete,
            CaptureStatus::Partial("cut".into()),
        ] {
            let (text, error) = status_columns(&status);
            assert_eq!(status_from_columns(text, error.map(str::to_string)), status);
        }
    }
}
