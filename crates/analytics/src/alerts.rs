//! Alerts as the viewer may see them. Read from the store on every request, never through
//! the result cache: the cache is keyed by the data generation, which raising an alert does
//! not move, so a cached list would hide new alerts. The sources an alert names are shown as
//! `Disclosure::for_viewer` says for the alert's label (`docs/anonymisation.md`).

use crate::AnalyticsError;
use crate::DataAccess;
use greenwatch_model::access::Viewer;
use greenwatch_model::alert::{Alert, AlertPage, AlertQuery};
use greenwatch_model::anonymise::alert_as_seen;

/// The newest `limit` alerts `viewer` may see, newest first.
pub fn alerts(
    sources: &DataAccess,
    viewer: &Viewer,
    limit: usize,
) -> Result<Vec<Alert>, AnalyticsError> {
    Ok(sources
        .store
        .alerts(viewer, limit)?
        .into_iter()
        .map(|a| alert_as_seen(viewer, sources.pan, a))
        .collect())
}

/// One page of the alerts `viewer` may see matching `query`: filtered and paged in the store,
/// and only the page's alerts anonymised, so a list costs the same however many alerts are
/// stored.
pub fn alert_page(
    sources: &DataAccess,
    viewer: &Viewer,
    query: &AlertQuery,
) -> Result<AlertPage, AnalyticsError> {
    let mut page = sources.store.alert_page(viewer, query)?;
    page.alerts = page
        .alerts
        .into_iter()
        .map(|a| alert_as_seen(viewer, sources.pan, a))
        .collect();
    Ok(page)
}

/// Alert `id`, or `None` when it does not exist or `viewer` may not see it (the two must look
/// the same to the viewer).
pub fn alert(
    sources: &DataAccess,
    viewer: &Viewer,
    id: i64,
) -> Result<Option<Alert>, AnalyticsError> {
    Ok(sources
        .store
        .alert(viewer, id)?
        .map(|a| alert_as_seen(viewer, sources.pan, a)))
}
