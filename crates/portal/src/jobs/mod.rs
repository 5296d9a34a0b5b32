//! `serve`'s background work, in one place and apart from the routes: the early-warning
//! detection pass and alert deliveries (`early_warning`), the schedule of public reports
//! (`report_schedule`) and the warming of the public's first pages (`warm`). Each follows
//! the data generation, not a timer of its own, and reads and writes through the same
//! `AppState` (store connections, IP data, clock) as the pages. `start` is the one place
//! that starts them; the routes never do.

pub mod early_warning;
pub mod report_schedule;
mod warm;

use crate::AppState;
use early_warning::EarlyWarning;

/// Starts every background job of one `serve` process on the current runtime.
pub fn start(state: &AppState, early_warning: EarlyWarning) {
    tokio::spawn(warm::keep_warm(state.clone()));
    tokio::spawn(report_schedule::keep_reports(state.clone()));
    tokio::spawn(early_warning::keep_watching(state.clone(), early_warning));
}
