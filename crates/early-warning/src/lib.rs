//! Early warning over a store: the detection pass (read flows, run
//! [`greenwatch_detect::watch`], raise each finding as an alert once) and the deliveries to
//! the stored subscriptions, each subscription on a thread of its own ([`Deliveries`]).
//! `greenwatch detect` runs the pass on demand; `greenwatch serve` runs both in the
//! background, the pass after every data change.
//! `greenwatch-detect` stays pure (series in, findings out); this crate is where it meets the
//! store.
//!
//! ```no_run
//! use greenwatch_early_warning::{watch_recent, RecentPass};
//! # fn f(store: &mut dyn greenwatch_store::Store, pass: &RecentPass) {
//! let outcome = watch_recent(store, pass, greenwatch_model::Timestamp::from_secs(0)).unwrap();
//! println!("{} new alerts of {} findings", outcome.raised, outcome.findings);
//! # }
//! ```

use greenwatch_alert::{Due, Outbound, Outcome, Persistence, SubscriptionError};
use greenwatch_detect::{
    watch, watch_risks, Allowlist, AllowlistError, DetectorConfig, Finding, RiskFinding,
    RiskSeries, Window,
};
use greenwatch_feeds::Catalogue;
use greenwatch_metrics::{Engine, MetricsError};
use greenwatch_model::access::{Label, Role, Tlp, Viewer};
use greenwatch_model::alert::NewAlert;
use greenwatch_model::anonymise::CryptoPan;
use greenwatch_model::{Period, PeriodKind, Timestamp};
use greenwatch_netdb::NetDb;
use greenwatch_store::{AlertStore, ObservationStore, Store, StoreError, TimeRange};
use rustc_hash::FxHashMap;
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// How much history the background pass reads: at least five weeks before the newest bucket.
/// The baseline's medians use four weeks (`DetectorConfig::history_weeks`) and level shifts
/// need two weeks of warm-up, so five weeks leave three weeks in which findings are raised.
pub const RECENT_DAYS: i64 = 35;
/// The start of the window moves in whole weeks, so that passes between two moves read the
/// same history and find each anomaly at the same first bucket (its alert key).
const WINDOW_STEP_SECS: i64 = 7 * 86_400;
const DAY: i64 = 86_400;

#[derive(Debug, thiserror::Error)]
pub enum WarnError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    #[error("reading the allowlist {path}: {source}")]
    ReadAllowlist {
        path: String,
        source: std::io::Error,
    },
    #[error("in {path}: {source}")]
    Allowlist {
        path: String,
        source: AllowlistError,
    },
}

/// The operator's allowlist at `path` (`DataLayout::allowlist_file`) if there is one, else the shipped
/// list.
pub fn load_allowlist(path: &Path) -> Result<Allowlist, WarnError> {
    let shown = || path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Allowlist::shipped_text().into(),
        Err(source) => {
            return Err(WarnError::ReadAllowlist {
                path: shown(),
                source,
            })
        }
    };
    Allowlist::parse(&text).map_err(|source| WarnError::Allowlist {
        path: shown(),
        source,
    })
}

/// Runs the detector over `window` of every stored flow (the operator's view, as the alerts'
/// label is the operator's choice). `progress` hears each range read.
pub fn find(
    store: &(impl ObservationStore + ?Sized),
    window: Window,
    allowlist: &Allowlist,
    config: &DetectorConfig,
    progress: &mut dyn FnMut(i64, i64),
) -> Result<Vec<Finding>, StoreError> {
    find_as(store, &Viewer::Local, window, allowlist, config, progress)
}

/// [`find`] over the flows of the datasets `viewer` may see.
fn find_as(
    store: &(impl ObservationStore + ?Sized),
    viewer: &Viewer,
    window: Window,
    allowlist: &Allowlist,
    config: &DetectorConfig,
    progress: &mut dyn FnMut(i64, i64),
) -> Result<Vec<Finding>, StoreError> {
    watch(
        |from, to, visit| {
            progress(from, to);
            let range = TimeRange {
                from: Some(from),
                to: Some(to),
            };
            store.scan_flows(viewer, range, None, visit)
        },
        window,
        allowlist,
        config,
    )
}

/// Stores each alert; returns how many were new (an alert whose key was raised before is
/// left as it is).
pub fn raise(
    store: &mut (impl AlertStore + ?Sized),
    alerts: impl IntoIterator<Item = NewAlert>,
) -> Result<usize, StoreError> {
    let mut raised = 0;
    for alert in alerts {
        raised += store.raise_alert(&alert)?.1 as usize;
    }
    Ok(raised)
}

/// What the background detection pass needs.
#[derive(Clone, Debug)]
pub struct RecentPass {
    pub allowlist: Allowlist,
    pub config: DetectorConfig,
    /// Owner of the alerts found in the shared (CLEAR, GREEN) data, and the least TLP of every
    /// alert raised; an organisation's own data raises alerts owned by it.
    pub label: Label,
    /// Bucket width of the watched series, seconds.
    pub width: i64,
}

impl RecentPass {
    /// Hourly series with the detector's default settings, as `greenwatch detect` watches.
    pub fn hourly(allowlist: Allowlist, label: Label) -> RecentPass {
        RecentPass {
            allowlist,
            config: DetectorConfig::default(),
            label,
            width: 3600,
        }
    }
}

/// Whose data one detection pass reads, so that its alerts carry only data their readers may
/// see (`docs/detection.md`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Scope {
    /// Every organisation's CLEAR and GREEN datasets, which every member of the community may
    /// see: alerts owned by the configured owner.
    Shared,
    /// One organisation's own datasets, of every TLP, and nobody else's: alerts owned by it.
    /// Its members see its alerts' sources in clear, so no other organisation's data may
    /// reach them (another's GREEN sources would be anonymised for them everywhere else).
    Organisation(String),
}

impl Scope {
    /// The scopes of datasets with `labels`: the shared one when any is CLEAR or GREEN, then
    /// one per organisation owning a dataset of a stricter TLP.
    fn of(labels: &[Label]) -> Vec<Scope> {
        let shared = labels.iter().any(|l| l.tlp <= Tlp::Green);
        let mut owners: Vec<&str> = labels
            .iter()
            .filter(|l| l.tlp > Tlp::Green)
            .map(|l| l.owner.as_str())
            .collect();
        owners.sort_unstable();
        owners.dedup();
        shared
            .then_some(Scope::Shared)
            .into_iter()
            .chain(owners.into_iter().map(|o| Scope::Organisation(o.into())))
            .collect()
    }

    /// Who sees exactly this scope's datasets.
    fn viewer(&self) -> Viewer {
        match self {
            // A member of no organisation (no slug is empty): the shared data, nobody's own.
            Scope::Shared => Viewer::User {
                org: String::new(),
                role: Role::Member,
            },
            Scope::Organisation(org) => Viewer::OwnData { org: org.clone() },
        }
    }

    /// The label of this scope's alerts, among datasets with `labels`: its owner (`shared_owner`
    /// for the shared scope) and the strictest TLP of the datasets it reads, at least
    /// `least`. None for a shared scope that would read a dataset of a stricter TLP (one
    /// owned by the empty name), which no shared alert may carry.
    fn label(&self, labels: &[Label], shared_owner: &str, least: Tlp) -> Option<Label> {
        let viewer = self.viewer();
        let strictest = labels
            .iter()
            .filter(|l| viewer.can_see(l))
            .map(|l| l.tlp)
            .max()?;
        let owner = match self {
            Scope::Shared if strictest > Tlp::Green => {
                tracing::warn!(
                    "a dataset owned by the empty name is not CLEAR or GREEN; \
                     the shared data is not watched until it is relabelled"
                );
                return None;
            }
            Scope::Shared => shared_owner.to_string(),
            Scope::Organisation(org) => org.clone(),
        };
        Some(Label {
            owner,
            tlp: strictest.max(least),
        })
    }

    /// An alert of this scope: an organisation's alerts are keyed apart from the shared
    /// ones and from each other's.
    fn keyed(&self, mut alert: NewAlert) -> NewAlert {
        if let Scope::Organisation(org) = self {
            alert.key = alert.key.map(|key| format!("{org}:{key}"));
        }
        alert
    }
}

/// Raises the findings of each scope as its alerts. Scopes read disjoint data (the shared
/// CLEAR/GREEN datasets, or one organisation's own), so the same surge in two scopes is two
/// alerts, keyed apart, each naming only its scope's sources. A finding that overlaps (within
/// `slack` seconds) one raised before for the same series and kind is that alert, seen again
/// with more data around it (a late upload moves a baseline and with it where an anomaly
/// starts by a bucket or two): it is not raised a second time.
fn raise_scoped<S: AlertStore + ?Sized>(
    store: &mut S,
    scoped: Vec<(Scope, Vec<NewAlert>)>,
    slack: i64,
) -> Result<PassOutcome, StoreError> {
    let mut outcome = PassOutcome::default();
    for (scope, alerts) in scoped {
        let mut fresh = Vec::new();
        for alert in alerts.into_iter().map(|a| scope.keyed(a)) {
            outcome.findings += 1;
            if !raised_before(store, &alert, slack)? {
                fresh.push(alert);
            }
        }
        outcome.raised += raise(store, fresh)?;
    }
    Ok(outcome)
}

/// Whether an alert of the same scope, series and kind (its key up to the first bucket)
/// overlaps `alert` in time, within `slack` seconds.
fn raised_before<S: AlertStore + ?Sized>(
    store: &S,
    alert: &NewAlert,
    slack: i64,
) -> Result<bool, StoreError> {
    let Some((prefix, _)) = alert.key.as_deref().and_then(|k| k.rsplit_once(':')) else {
        return Ok(false);
    };
    let (first, last) = (alert.first_seen.secs(), alert.last_seen.secs());
    Ok(store
        .alerts_keyed(&format!("{prefix}:"))?
        .iter()
        .any(|old| {
            let old = &old.alert;
            first <= old.last_seen.secs() + slack && old.first_seen.secs() <= last + slack
        }))
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PassOutcome {
    /// Findings in the part of the window where they are raised.
    pub findings: usize,
    /// Alerts stored for the first time.
    pub raised: usize,
}

/// The window the background pass reads when the stored flows span `[first, last]` (bucket
/// starts), and from when its findings are raised: findings in the first two weeks of a
/// window that does not start with the data would rest on a baseline still warming up.
pub fn recent_window(first: i64, last: i64, width: i64, config: &DetectorConfig) -> (Window, i64) {
    let to = last + width;
    let from = (to - RECENT_DAYS * DAY).div_euclid(WINDOW_STEP_SECS) * WINDOW_STEP_SECS;
    if from <= first {
        return (
            Window {
                from: first,
                to,
                width,
            },
            first,
        );
    }
    let raise_from = from + config.change_warm_up_days as i64 * DAY;
    (Window { from, to, width }, raise_from)
}

/// The background detection pass: per [`Scope`] of the stored captures, watches the recent
/// window (not the whole history) of the flows that scope may see and raises what it finds,
/// labelled for that scope. Running it again over the same data raises nothing new.
pub fn watch_recent<S>(
    store: &mut S,
    pass: &RecentPass,
    now: Timestamp,
) -> Result<PassOutcome, StoreError>
where
    S: ObservationStore + AlertStore + ?Sized,
{
    let labels: Vec<Label> = store.captures()?.into_iter().map(|c| c.label).collect();
    let mut scoped = Vec::new();
    for scope in Scope::of(&labels) {
        let Some(label) = scope.label(&labels, &pass.label.owner, pass.label.tlp) else {
            continue;
        };
        let viewer = scope.viewer();
        let Some((first, last)) = store.flow_bucket_range(&viewer)? else {
            continue;
        };
        let (window, raise_from) = recent_window(first, last, pass.width, &pass.config);
        let alerts = find_as(
            store,
            &viewer,
            window,
            &pass.allowlist,
            &pass.config,
            &mut |_, _| {},
        )?
        .into_iter()
        .filter(|f| f.first.secs() >= raise_from)
        .map(|f| f.to_alert(label.clone(), now))
        .collect();
        scoped.push((scope, alerts));
    }
    raise_scoped(store, scoped, pass.width)
}

/// The background pass over risk metrics: per [`Scope`] of the stored feed files, the daily
/// distinct hosts of every feed risk per country that scope may see over each risk's recent
/// window (as [`recent_window`] chooses it, in days), through the metric engine, so the
/// numbers are the portal's. Risks observed from flows (`mirai`) are left out: their traffic
/// is watched per fingerprint already.
pub fn watch_recent_risks(
    store: &mut dyn Store,
    catalogue: &Catalogue,
    netdb: &NetDb,
    pass: &RecentPass,
    now: Timestamp,
) -> Result<PassOutcome, WarnError> {
    let labels: Vec<Label> = store.feed_files()?.into_iter().map(|f| f.label).collect();
    let mut scoped = Vec::new();
    for scope in Scope::of(&labels) {
        let Some(label) = scope.label(&labels, &pass.label.owner, pass.label.tlp) else {
            continue;
        };
        let engine = Engine::new(catalogue, &*store, &*store, netdb, scope.viewer());
        let alerts = recent_risk_findings(&engine, &pass.config)?
            .iter()
            .map(|f| f.to_alert(label.clone(), now))
            .collect();
        scoped.push((scope, alerts));
    }
    Ok(raise_scoped(store, scoped, DAY)?)
}

fn recent_risk_findings(
    engine: &Engine,
    config: &DetectorConfig,
) -> Result<Vec<RiskFinding>, MetricsError> {
    let mut findings = Vec::new();
    for risk in engine.risks_with_data()? {
        let entry = engine.catalogue().get(risk);
        if entry.observed.is_some() {
            continue;
        }
        let Some((first, last)) = engine.coverage(risk)? else {
            continue;
        };
        let secs = |d: chrono::NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp();
        let (window, raise_from) = recent_window(secs(first), secs(last), DAY, config);
        let days = ((window.to - window.from) / DAY) as usize;
        let mut by_country: FxHashMap<String, Vec<f64>> = FxHashMap::default();
        // A day on which no feed reported any host of the risk anywhere was not observed (no
        // report came), which is not a day of zero hosts.
        let mut reported = vec![false; days];
        for (i, reported) in reported.iter_mut().enumerate() {
            let Some(date) = chrono::DateTime::from_timestamp(window.from + i as i64 * DAY, 0)
            else {
                continue;
            };
            let period = Period::containing(PeriodKind::Day, date.date_naive());
            for host in engine.hosts(risk, period)? {
                *reported = true;
                if let Some(country) = host.country.as_str() {
                    by_country
                        .entry(country.to_string())
                        .or_insert_with(|| vec![0.0; days])[i] += 1.0;
                }
            }
        }
        let series: Vec<RiskSeries> = by_country
            .into_iter()
            .map(|(country, hosts)| RiskSeries {
                risk: entry.slug.clone(),
                country,
                first_day: window.from,
                hosts: hosts
                    .into_iter()
                    .zip(&reported)
                    .map(|(n, &reported)| reported.then_some(n))
                    .collect(),
            })
            .collect();
        findings.extend(
            watch_risks(&series, config)
                .into_iter()
                .filter(|f| f.first.secs() >= raise_from),
        );
    }
    Ok(findings)
}

/// Deliveries to the stored subscriptions, each subscription on a thread of its own and never
/// two threads for one: a slow or dead receiver holds up its own subscription only. No store
/// is held while sending: what is due is read first, and each outcome is handed to the
/// caller to record.
#[derive(Clone, Debug, Default)]
pub struct Deliveries {
    /// Subscriptions with a delivery thread running.
    busy: Arc<Mutex<HashSet<i64>>>,
}

/// A subscription marked busy until dropped.
struct Claim {
    busy: Arc<Mutex<HashSet<i64>>>,
    subscription: i64,
}

impl Drop for Claim {
    fn drop(&mut self) {
        lock(&self.busy).remove(&self.subscription);
    }
}

/// The busy set; a delivery thread that panicked leaves it consistent (its claim is dropped
/// while unwinding), so a poisoned lock is still good.
fn lock(busy: &Mutex<HashSet<i64>>) -> std::sync::MutexGuard<'_, HashSet<i64>> {
    busy.lock().unwrap_or_else(|e| e.into_inner())
}

impl Deliveries {
    fn claim(&self, subscription: i64) -> Option<Claim> {
        lock(&self.busy).insert(subscription).then(|| Claim {
            busy: Arc::clone(&self.busy),
            subscription,
        })
    }

    /// Starts a delivery thread (see [`Due::send`]) for every stored subscription that has
    /// alerts due and no thread running yet; `record` hears each outcome, from that thread,
    /// as it comes. A subscription that cannot be served is logged and the others still get
    /// theirs. Returns the threads started, for a caller that waits for the round to end.
    pub fn start_round(
        &self,
        store: &dyn AlertStore,
        pan: &CryptoPan,
        outbound: &Outbound,
        persistence: &Persistence,
        now: impl Fn() -> Timestamp + Clone + Send + 'static,
        record: impl Fn(Outcome) + Clone + Send + 'static,
    ) -> Result<Vec<JoinHandle<()>>, StoreError> {
        let mut started = Vec::new();
        for subscription in store.subscriptions(None)? {
            let Some(claim) = self.claim(subscription.id) else {
                continue;
            };
            let due = match Due::of(store, &subscription, pan, outbound, persistence) {
                Ok(due) if due.is_empty() => continue,
                Ok(due) => due,
                Err(SubscriptionError::Store(e)) => return Err(e),
                Err(e) => {
                    tracing::warn!("{e}");
                    continue;
                }
            };
            let (persistence, record, now) = (persistence.clone(), record.clone(), now.clone());
            let thread = std::thread::Builder::new()
                .name(format!("delivery-{}", subscription.id))
                .spawn(move || {
                    let _claim = claim;
                    due.send(&persistence, now, record);
                });
            match thread {
                Ok(thread) => started.push(thread),
                Err(e) => tracing::warn!(
                    subscription = subscription.id,
                    "starting a delivery thread: {e}"
                ),
            }
        }
        Ok(started)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recent_window_moves_in_weeks_and_raises_after_the_warm_up() {
        let config = DetectorConfig::default();
        let hour = 3600;
        // Ten days of data: the window is all of it, raised from the start.
        let (window, raise_from) = recent_window(0, 10 * DAY, hour, &config);
        assert_eq!((window.from, raise_from), (0, 0));
        // A year of data: five to six weeks, the same start for a whole week of new data.
        let year = 365 * DAY;
        let (a, raise_a) = recent_window(0, year, hour, &config);
        let (b, _) = recent_window(0, year + 3 * DAY, hour, &config);
        assert!(year + hour - a.from >= RECENT_DAYS * DAY);
        assert!(year + hour - a.from < (RECENT_DAYS + 7) * DAY);
        assert_eq!(a.from % WINDOW_STEP_SECS, 0);
        assert!(a.from == b.from || b.from == a.from + WINDOW_STEP_SECS);
        assert_eq!(raise_a, a.from + 14 * DAY);
    }
}
