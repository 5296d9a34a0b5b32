//! `serve`'s background work, in one place and apart from the routes: the early-warning
//! detection pass and alert deliveries (`early_warning`), the schedule of public reports
//! (`report_schedule`) and the warming of the public's first pages (`warm`). Each follows
//! the data generation, not a timer of its own, and reads and writes through the same
//! `AppState` (store connections, IP data, clock) as the pages. `start` is the one place
//! that starts them; the routes never do.
//!
//! Early warning and the report schedule are the deployment's work, done once however many
//! `serve` processes share the store: each pass runs only in the process holding the job's
//! lease (`lease`). Warming fills this process's own cache, so every process does it.

pub mod early_warning;
mod lease;
pub mod report_schedule;
mod warm;

use crate::AppState;
use early_warning::EarlyWarning;
use lease::JobLease;
use std::time::Duration;

/// How long a job's lease lasts unrenewed: a dead holder's job moves to another process
/// after at most this long. Every job renews far more often (its pause is 15 s to 60 s).
const LEASE: Duration = Duration::from_secs(300);

/// Starts every background job of one `serve` process on the current runtime.
pub fn start(state: &AppState, early_warning: EarlyWarning) {
    let holder = lease::holder_name();
    tracing::info!(%holder, "background jobs start (early warning and reports where this process holds their lease)");
    tokio::spawn(warm::keep_warm(state.clone()));
    tokio::spawn(report_schedule::keep_reports(
        state.clone(),
        JobLease::new("report-schedule", holder.clone(), LEASE),
    ));
    tokio::spawn(early_warning::keep_watching(
        state.clone(),
        early_warning,
        JobLease::new("early-warning", holder, LEASE),
    ));
}
