//! Early warning inside `serve`: after every change of the stored data, the detection pass
//! (`greenwatch_warn::watch_recent` over traffic and `watch_recent_risks` over risk metrics,
//! the recent weeks only) raises what it finds, and
//! every stored subscription gets its pending alerts, right after new alerts and on a retry
//! timer. One task runs both, so there is never more than one pass at a time, and each pass
//! runs on the blocking pool, so requests are never held up by it.

use crate::error::PortalError;
use crate::AppState;
use greenwatch_alert::{Outbound, Retry};
use greenwatch_model::access::Label;
use greenwatch_store::ObservationStore;
use greenwatch_warn::{
    allowlist_path, deliver_all, load_allowlist, watch_recent, watch_recent_risks, RecentPass,
};
use std::time::{Duration, Instant};

/// How often the data generation is checked.
const CHECK_EVERY: Duration = Duration::from_secs(15);

/// What `serve`'s early warning needs beyond the data directory.
#[derive(Clone, Debug)]
pub struct EarlyWarning {
    /// Owner and TLP of the alerts the detector raises.
    pub label: Label,
    /// How subscriptions reach their receivers (the SMTP relay, internal webhooks).
    pub outbound: Outbound,
    /// Pending deliveries (failed ones, hand-written alerts, new subscriptions) are tried
    /// again this often even when no new alert was raised.
    pub deliver_every: Duration,
}

/// Runs forever: a detection pass now and after every data change, deliveries after new
/// alerts and every `deliver_every`.
pub async fn keep_watching(state: AppState, config: EarlyWarning) {
    let mut watched = None;
    let mut delivered_at: Option<Instant> = None;
    loop {
        let mut deliver = delivered_at.is_none_or(|t| t.elapsed() >= config.deliver_every);
        match pass_once(&state, &config, watched).await {
            Ok((generation, raised)) => {
                watched = Some(generation);
                deliver |= raised > 0;
            }
            Err(e) => tracing::warn!("early-warning detection pass: {e}"),
        }
        if deliver {
            if let Err(e) = deliver_once(&state, &config).await {
                tracing::warn!("early-warning deliveries: {e}");
            }
            delivered_at = Some(Instant::now());
        }
        tokio::time::sleep(CHECK_EVERY).await;
    }
}

/// Runs the detection pass unless `done` is the current data generation; returns the
/// generation it covered and how many alerts it raised.
async fn pass_once(
    state: &AppState,
    config: &EarlyWarning,
    done: Option<u64>,
) -> Result<(u64, usize), PortalError> {
    // Read before the pass: data stored during it moves the generation and brings another.
    let generation = state.read(|s| Ok(s.store.data_generation()?)).await?;
    if done == Some(generation) {
        return Ok((generation, 0));
    }
    let allowlist_path = allowlist_path(state.data_dir());
    let label = config.label.clone();
    let (catalogue, netdb) = (state.catalogue(), state.netdb());
    let outcome = state
        .write(move |store| {
            let allowlist = load_allowlist(&allowlist_path)
                .map_err(|e| PortalError::Internal(e.to_string()))?;
            let pass = RecentPass::hourly(allowlist, label);
            let started = Instant::now();
            let traffic = watch_recent(store, &pass, crate::routes::now())?;
            let risks = watch_recent_risks(store, &catalogue, &netdb, &pass, crate::routes::now())
                .map_err(|e| PortalError::Internal(e.to_string()))?;
            tracing::info!(
                generation,
                seconds = started.elapsed().as_secs_f64(),
                findings = traffic.findings,
                raised = traffic.raised,
                risk_findings = risks.findings,
                risk_raised = risks.raised,
                "detection pass"
            );
            Ok(traffic.raised + risks.raised)
        })
        .await?;
    Ok((generation, outcome))
}

/// One delivery round to every stored subscription.
async fn deliver_once(state: &AppState, config: &EarlyWarning) -> Result<(), PortalError> {
    let outbound = config.outbound.clone();
    let pan = state.anonymiser()?.clone();
    let round = state
        .write(move |store| {
            let retry = Retry {
                attempts: 3,
                first_backoff: Duration::from_secs(1),
            };
            Ok(deliver_all(
                store,
                &pan,
                &outbound,
                &retry,
                crate::routes::now,
            )?)
        })
        .await?;
    if round.delivered + round.failed > 0 {
        tracing::info!(
            delivered = round.delivered,
            failed = round.failed,
            "alert deliveries"
        );
    }
    Ok(())
}
