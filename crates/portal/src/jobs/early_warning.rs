//! Early warning inside `serve`, as two tasks that never wait on each other. The detection
//! task runs the pass (`greenwatch_early_warning::watch_recent` over traffic and `watch_recent_risks`
//! over risk metrics, the recent weeks only) now and after every change of the stored data,
//! on the blocking pool, so requests are never held up by it. The delivery task starts a
//! round right after new alerts and on a retry timer: every subscription with alerts due
//! gets a thread of its own (`greenwatch_early_warning::Deliveries`; none while its previous one still
//! runs), so a slow receiver delays only its own subscription. Sending holds no store: what is
//! due is read first, and each outcome is recorded as it comes.

use super::JobLease;
use crate::error::PortalError;
use crate::AppState;
use greenwatch_alert::{Outbound, Outcome, Persistence, Retry};
use greenwatch_early_warning::{
    load_allowlist, watch_recent, watch_recent_risks, Deliveries, RecentPass,
};
use greenwatch_model::access::Label;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Notify};

/// How often the data generation is checked.
const CHECK_EVERY: Duration = Duration::from_secs(15);

/// Per alert and subscription: three attempts a round, given up after three rounds; one round
/// spends at most a minute on one subscription.
const PERSISTENCE: Persistence = Persistence {
    retry: Retry {
        attempts: 3,
        first_backoff: Duration::from_secs(1),
    },
    give_up_after: 9,
    round_budget: Duration::from_secs(60),
};

/// What `serve`'s early warning needs beyond the data directory.
#[derive(Clone, Debug)]
pub struct EarlyWarning {
    /// Owner of the alerts the detector finds in the shared (CLEAR, GREEN) data, and the least
    /// TLP of every alert it raises; an organisation's own data raises alerts owned by it
    /// (`greenwatch_early_warning::watch_recent`).
    pub label: Label,
    /// How subscriptions reach their receivers (the SMTP relay, internal webhooks).
    pub outbound: Outbound,
    /// Pending deliveries (failed ones, hand-written alerts, new subscriptions) are tried
    /// again this often even when no new alert was raised.
    pub deliver_every: Duration,
}

/// Runs forever: a detection pass now and after every data change, and, beside it, delivery
/// rounds now, after new alerts and every `deliver_every`; both only while this process holds
/// the early-warning `lease` (one detector and one sender per deployment).
pub(crate) async fn keep_watching(state: AppState, config: EarlyWarning, lease: JobLease) {
    let raised = Arc::new(Notify::new());
    tokio::spawn(keep_delivering(
        state.clone(),
        config.clone(),
        Arc::clone(&raised),
        lease.clone(),
    ));
    let mut watched = None;
    loop {
        if !lease.hold(&state).await {
            // Another process detects; when this one takes over, it starts from scratch.
            watched = None;
            tokio::time::sleep(CHECK_EVERY).await;
            continue;
        }
        match pass_once(&state, &config, watched).await {
            Ok((generation, new)) => {
                watched = Some(generation);
                if new > 0 {
                    raised.notify_one();
                }
            }
            Err(e) => tracing::warn!("early-warning detection pass: {e}"),
        }
        tokio::time::sleep(CHECK_EVERY).await;
    }
}

/// Starts a delivery round now, then whenever `raised` is notified or `deliver_every` has
/// passed; records the outcomes in a task of their own.
async fn keep_delivering(
    state: AppState,
    config: EarlyWarning,
    raised: Arc<Notify>,
    lease: JobLease,
) {
    let deliveries = Deliveries::default();
    let (outcomes, received) = mpsc::unbounded_channel();
    tokio::spawn(record_outcomes(state.clone(), received));
    loop {
        if lease.hold(&state).await {
            if let Err(e) = start_round(&state, &config, &deliveries, outcomes.clone()).await {
                tracing::warn!("early-warning deliveries: {e}");
            }
        }
        tokio::select! {
            _ = raised.notified() => {}
            _ = tokio::time::sleep(config.deliver_every) => {}
        }
    }
}

/// Reads what every subscription is due and starts its delivery thread; the threads send
/// their outcomes to `outcomes`.
async fn start_round(
    state: &AppState,
    config: &EarlyWarning,
    deliveries: &Deliveries,
    outcomes: mpsc::UnboundedSender<Outcome>,
) -> Result<(), PortalError> {
    let (outbound, deliveries) = (config.outbound.clone(), deliveries.clone());
    let clock = state.clock().clone();
    let started = state
        .read(move |s| {
            let threads = deliveries.start_round(
                s.store,
                s.pan,
                &outbound,
                &PERSISTENCE,
                move || clock.now(),
                move |outcome| {
                    // Closed only when serve stops.
                    let _ = outcomes.send(outcome);
                },
            )?;
            Ok(threads.len())
        })
        .await?;
    if started > 0 {
        tracing::info!(subscriptions = started, "alert delivery round");
    }
    Ok(())
}

/// Records each delivery outcome as it comes, each in a short write of its own.
async fn record_outcomes(state: AppState, mut outcomes: mpsc::UnboundedReceiver<Outcome>) {
    while let Some(outcome) = outcomes.recv().await {
        let (subscription, alert) = (outcome.subscription, outcome.alert_id);
        let delivered = outcome.delivery.outcome.is_ok();
        match state.write(move |store| Ok(outcome.record(store)?)).await {
            Ok(()) => tracing::info!(subscription, alert, delivered, "alert delivery"),
            // Not recorded as delivered: it is sent again next round.
            Err(e) => tracing::warn!(subscription, alert, "recording an alert delivery: {e}"),
        }
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
    let allowlist_path = greenwatch_datadir::DataLayout::new(state.data_dir()).allowlist_file();
    let label = config.label.clone();
    let (catalogue, netdb, now) = (state.catalogue(), state.netdb(), state.now());
    let outcome = state
        .write(move |store| {
            let allowlist = load_allowlist(&allowlist_path)
                .map_err(|e| PortalError::Internal(e.to_string()))?;
            let pass = RecentPass::hourly(allowlist, label);
            let started = Instant::now();
            let traffic = watch_recent(store, &pass, now)?;
            let risks = watch_recent_risks(store, &catalogue, &netdb, &pass, now)
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
