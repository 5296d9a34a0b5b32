//! Alerts as the viewer may see them. Read from the store on every request, never through
//! the result cache: the cache is keyed by the data generation, which raising an alert does
//! not move, so a cached list would hide new alerts. The sources an alert names are shown as
//! `Disclosure::for_viewer` says for the alert's label (`docs/anonymisation.md`).

use super::Sources;
use crate::error::PortalError;
use greenwatch_model::access::Viewer;
use greenwatch_model::alert::Alert;
use greenwatch_model::anonymise::alert_as_seen;
use greenwatch_store::AlertStore;

/// The newest `limit` alerts `viewer` may see, newest first.
pub fn alerts(sources: &Sources, viewer: &Viewer, limit: usize) -> Result<Vec<Alert>, PortalError> {
    Ok(sources
        .store
        .alerts(viewer, limit)?
        .into_iter()
        .map(|a| alert_as_seen(viewer, sources.pan, a))
        .collect())
}

/// Alert `id`, or `None` when it does not exist or `viewer` may not see it (the two must look
/// the same to the viewer).
pub fn alert(sources: &Sources, viewer: &Viewer, id: i64) -> Result<Option<Alert>, PortalError> {
    Ok(sources
        .store
        .alert(viewer, id)?
        .map(|a| alert_as_seen(viewer, sources.pan, a)))
}

/// What a page cursor over `alerts` is valid for: the highest id among them. Ids only grow
/// and alerts are never deleted, so a new visible alert (the only thing that shifts the list)
/// changes it and makes older cursors stale instead of skipping or repeating an item.
pub fn list_generation(alerts: &[Alert]) -> u64 {
    alerts.iter().map(|a| a.id).max().unwrap_or(0) as u64
}
