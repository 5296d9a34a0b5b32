//! Keeps the public's first pages fast: whenever the stored data changes (a new data
//! generation), the answers the public asks for first (the default overview and the overviews
//! of the range picker's presets, the risk list and each risk's default table, the risk rows of
//! country and AS pages, the ports and AS indexes) are computed in the background and land
//! in the result cache, so the first visitor after an ingest does not wait for a pass over
//! millions of flow tuples.

use crate::AppState;
use greenwatch_analytics::window::WindowQuery;
use greenwatch_analytics::MetricsQuery;
use greenwatch_metrics::GroupBy;
use greenwatch_model::access::Viewer;
use greenwatch_model::PeriodKind;
use std::time::Duration;

/// How often the data generation is checked.
const EVERY: Duration = Duration::from_secs(15);

/// Runs forever: warms the public views now and after every change of the data.
pub async fn keep_warm(state: AppState) {
    let mut warmed = None;
    loop {
        match warm_once(&state, warmed).await {
            Ok(generation) => warmed = Some(generation),
            Err(e) => tracing::warn!("warming the public views: {e}"),
        }
        tokio::time::sleep(EVERY).await;
    }
}

/// Warms the public views unless `done` is the current generation; returns the generation.
async fn warm_once(state: &AppState, done: Option<u64>) -> Result<u64, crate::error::PortalError> {
    let reads = state.reads(&Viewer::Anonymous).await?;
    let generation = reads.generation();
    if done == Some(generation) {
        return Ok(generation);
    }
    let started = std::time::Instant::now();
    let window = WindowQuery::default();
    reads.overview_json(&window, None).await?;
    // The risk rows every country and AS page shows.
    reads
        .metric_tables(greenwatch_analytics::all_risks_by(GroupBy::Country))
        .await?;
    reads
        .metric_tables(greenwatch_analytics::all_risks_by(GroupBy::Asn))
        .await?;
    reads.risks_json().await?;
    reads
        .scan_index(&window, greenwatch_observe::TopBy::Port)
        .await?;
    reads
        .scan_index(&window, greenwatch_observe::TopBy::Asn)
        .await?;
    for risk in reads.risks().await?.iter() {
        if risk.last_day.is_none() {
            continue;
        }
        let query = MetricsQuery {
            risk: risk.slug.clone(),
            by: GroupBy::Country,
            period: PeriodKind::Month,
            at: None,
        };
        reads.metric_rows_json(query).await?;
    }
    // Last, the range picker's other presets (the last 24 hours, 30 days, all data): the
    // risk rows above are what every country and AS page waits for.
    for (label, preset) in greenwatch_analytics::window::presets(reads.stored_range().await?) {
        if label != "Last 7 days" {
            let query = WindowQuery {
                from: Some(greenwatch_analytics::window::display(preset.from)),
                to: Some(greenwatch_analytics::window::display(preset.to)),
            };
            reads.overview_json(&query, None).await?;
        }
    }
    tracing::info!(
        generation,
        seconds = started.elapsed().as_secs_f64(),
        "public views warmed"
    );
    Ok(generation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenwatch_feeds::Catalogue;
    use greenwatch_netdb::NetDb;

    #[tokio::test]
    async fn the_public_views_are_cached_once_per_generation() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::new(
            dir.path().to_path_buf(),
            NetDb::from_snapshots(Vec::new()),
            Catalogue::shipped(),
        );
        assert_eq!(state.cache().len(), 0);
        let generation = warm_once(&state, None).await.unwrap();
        let warmed = state.cache().len();
        // The range, overview and its JSON, ports and their JSON, risks and their JSON.
        assert!(warmed >= 7, "{warmed}");
        assert_eq!(
            warm_once(&state, Some(generation)).await.unwrap(),
            generation
        );
        assert_eq!(state.cache().len(), warmed, "nothing recomputed");
    }
}
