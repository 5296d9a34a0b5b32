//! Scheduled public reports: whenever the stored data changes, every ISO week, quarter and
//! month (observation report) that the public's data has finished (data exists after its last
//! day) and that has no report yet is written to `<data>/reports/<label>/`, computed as
//! `Viewer::Anonymous`, so it holds TLP:CLEAR data only and may be served to everyone at
//! `/reports`. The schedule follows the data, not the clock: a period is done once later
//! traffic has been stored. A report is written once; delete its directory to rebuild it.

use super::JobLease;
use crate::error::PortalError;
use crate::AppState;
use chrono::NaiveDate;
use greenwatch_model::access::Viewer;
use greenwatch_model::{Period, Timestamp};
use greenwatch_report::{build, write_report_dir, ReportFiles, ReportKind};
use std::path::PathBuf;
use std::time::Duration;

/// How often the data generation is checked.
const EVERY: Duration = Duration::from_secs(60);
/// Newest finished periods per kind written in one pass (older ones follow in later passes).
const PER_PASS: usize = 4;
pub(crate) const KINDS: [ReportKind; 3] = [
    ReportKind::Weekly,
    ReportKind::Quarterly,
    ReportKind::Observation,
];

pub(crate) fn reports_dir(state: &AppState) -> PathBuf {
    greenwatch_datadir::DataLayout::new(state.data_dir()).reports_dir()
}

/// Runs forever: writes the missing public reports now and after every change of the data,
/// while this process holds the report schedule's `lease`.
pub(crate) async fn keep_reports(state: AppState, lease: JobLease) {
    let mut done = None;
    loop {
        if !lease.hold(&state).await {
            done = None;
            tokio::time::sleep(EVERY).await;
            continue;
        }
        match state.read(|s| Ok(s.store.data_generation()?)).await {
            Ok(generation) if done != Some(generation) => match write_missing(&state).await {
                Ok(()) => done = Some(generation),
                Err(e) => tracing::warn!("writing the scheduled reports: {e}"),
            },
            Ok(_) => {}
            Err(e) => tracing::warn!("reading the data generation: {e}"),
        }
        tokio::time::sleep(EVERY).await;
    }
}

/// The finished periods of `kind` between the first stored day and `last`, the last day the
/// data covers completely, newest first: a period ending on `last` is finished (the last
/// complete week gets its report), one running past it is not.
pub fn finished_periods(kind: ReportKind, first: NaiveDate, last: NaiveDate) -> Vec<Period> {
    let mut period = Period::containing(kind.period_kind(), last);
    if period.end() - chrono::Days::new(1) > last {
        period = period.previous();
    }
    let mut out = Vec::new();
    while period.end() > first {
        out.push(period);
        period = period.previous();
    }
    out
}

fn day(secs: i64) -> NaiveDate {
    Timestamp::from_secs(secs).to_rfc3339()[..10]
        .parse()
        .expect("an RFC 3339 date")
}

/// Writes the public report of every finished period that has none yet.
pub async fn write_missing(state: &AppState) -> Result<(), PortalError> {
    let root = reports_dir(state);
    state
        .read(move |s| {
            let Some((first, last)) = s.store.flow_bucket_range(&Viewer::Anonymous)? else {
                return Ok(());
            };
            let sources = greenwatch_report::ReportInputs {
                observations: s.store,
                risks: s.store,
                alerts: s.store,
                catalogue: s.catalogue,
                netdb: s.netdb,
                pan: s.pan,
            };
            for kind in KINDS {
                // The last day whose every hour has passed in the data (the newest bucket is
                // an hour wide).
                let complete_until = day(last + 3600) - chrono::Days::new(1);
                for period in finished_periods(kind, day(first), complete_until)
                    .into_iter()
                    .take(PER_PASS)
                {
                    let dir = root.join(period.label());
                    if dir.join(ReportFiles::JSON).exists() {
                        continue;
                    }
                    let report = build(&sources, &Viewer::Anonymous, kind, period, &mut |_| {})
                        .map_err(|e| PortalError::Internal(format!("report {period}: {e}")))?;
                    // Written aside and renamed, so a half-written report is never served.
                    let partial = root.join(format!(".{}.partial", period.label()));
                    let _ = std::fs::remove_dir_all(&partial);
                    write_report_dir(&report, &partial)
                        .and_then(|()| Ok(std::fs::rename(&partial, &dir)?))
                        .map_err(|e| PortalError::Internal(format!("report {period}: {e}")))?;
                    tracing::info!(period = %period, "scheduled public report written");
                }
            }
            Ok(())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn only_periods_the_data_has_moved_past_are_finished() {
        let weeks = finished_periods(ReportKind::Weekly, date("2026-10-05"), date("2026-10-20"));
        let labels: Vec<String> = weeks.iter().map(|p| p.label()).collect();
        assert_eq!(
            labels,
            ["2026-W42", "2026-W41"],
            "W43 (19-25 Oct) is still running"
        );
        let quarters = finished_periods(
            ReportKind::Quarterly,
            date("2026-10-05"),
            date("2026-12-31"),
        );
        let labels: Vec<String> = quarters.iter().map(|p| p.label()).collect();
        assert_eq!(labels, ["2026-Q4"], "Q4 ends with the data: complete");
        let weeks = finished_periods(ReportKind::Weekly, date("2026-10-05"), date("2026-11-01"));
        assert_eq!(
            weeks[0].label(),
            "2026-W44",
            "the last complete week has its report"
        );
        let quarters = finished_periods(
            ReportKind::Quarterly,
            date("2026-09-30"),
            date("2027-01-01"),
        );
        let labels: Vec<String> = quarters.iter().map(|p| p.label()).collect();
        assert_eq!(labels, ["2026-Q4", "2026-Q3"], "Q1 2027 is running");
    }
}
