//! Delivers early-warning alerts beyond the portal: an Atom feed ([`atom_feed`]), webhooks
//! (JSON POST signed with HMAC-SHA256 over the body, [`Webhook`]) and e-mail over SMTP
//! ([`Smtp`]). Each push channel is one [`Channel`]; [`deliver_pending`] sends a channel every
//! alert its subscriber may see and has not received yet, retrying with backoff ([`Retry`]),
//! and records the outcome in the store, so an alert is delivered at least once per channel.
//! A stored subscription's share of a round is a [`Due`]: read from the store, sent without
//! it, within the [`Persistence`] (retries, a time budget per round, a limit after which an
//! alert is given up), the outcomes recorded by the caller.
//!
//! Invariants: a channel only ever receives alerts `Viewer::can_see` allows its subscriber,
//! with the sources they name as `Disclosure::for_viewer` shows them to it; webhook secrets and SMTP passwords are never logged or put in an error message.

mod atom;
mod retry;
mod smtp;
mod subscribe;
mod webhook;

pub use atom::{atom_feed, FeedInfo};
pub use retry::Retry;
pub use smtp::{valid_address, Smtp, SmtpCredentials, SmtpSecurity};
pub use subscribe::{
    subscribe, SubscribeError, MAX_RECIPIENTS, MAX_WEBHOOK_URL, SUBSCRIPTIONS_PER_ORGANISATION,
};
pub use webhook::{
    check_internet_destination, signature, DestinationError, Webhook, SIGNATURE_HEADER,
};

use greenwatch_model::access::{Role, Viewer};
use greenwatch_model::alert::{Alert, AlertState, Subscription, SubscriptionChannel};
use greenwatch_model::anonymise::{alert_as_seen, CryptoPan};
use greenwatch_model::Timestamp;
use greenwatch_store::{AlertStore, Delivery, StoreError};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use webhook::Destinations;

/// What a triage request did: how many alerts changed state, and which of the ids asked for
/// were refused (not found, not visible, or not the actor's organisation's to triage; the
/// three look the same, so no answer tells whether an invisible alert exists).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Triaged {
    pub changed: usize,
    pub refused: Vec<i64>,
}

/// Most alerts one triage request may name.
pub const MAX_TRIAGE: usize = 500;

/// Moves the alerts `ids` to `state` for `viewer` (acknowledge, resolve, reopen), each only
/// if `Viewer::may_triage` allows it on that alert's label; audited as `alert.state` by
/// `actor` in one transaction.
pub fn triage(
    store: &mut dyn AlertStore,
    viewer: &Viewer,
    ids: &[i64],
    state: AlertState,
    actor: &str,
    at: Timestamp,
) -> Result<Triaged, StoreError> {
    let mut allowed = Vec::new();
    let mut refused = Vec::new();
    for &id in ids.iter().take(MAX_TRIAGE) {
        match store.alert(viewer, id)? {
            Some(alert) if viewer.may_triage(&alert.alert.label) => allowed.push(id),
            _ => refused.push(id),
        }
    }
    allowed.sort_unstable();
    allowed.dedup();
    let audit = greenwatch_model::account::AuditEntry {
        at,
        actor: actor.to_string(),
        action: "alert.state".into(),
        target: String::new(),
        detail: String::new(),
    };
    let changed = store.set_alert_state(&allowed, state, &audit)?;
    Ok(Triaged { changed, refused })
}

/// Somewhere alerts are pushed to.
pub trait Channel {
    /// Identifies the channel in the delivery records (`webhook:<url>`, `smtp:<recipients>`);
    /// never contains a secret.
    fn name(&self) -> String;
    /// One attempt to deliver one alert.
    fn send(&self, alert: &Alert) -> Result<(), String>;
}

/// Delivers every alert `subscriber` may see that `channel` has not received, its sources
/// anonymised with `pan` where the subscriber is an outsider; returns the outcome per alert
/// id. `now` stamps successful deliveries.
pub fn deliver_pending(
    store: &mut dyn AlertStore,
    subscriber: &Viewer,
    pan: &CryptoPan,
    channel: &dyn Channel,
    retry: &Retry,
    now: impl Fn() -> Timestamp,
) -> Result<Vec<(i64, Delivery)>, StoreError> {
    let name = channel.name();
    let alerts = pending(&*store, subscriber, pan, &name, |_| true, None)?;
    let mut outcomes = Vec::new();
    for (alert, _) in alerts {
        let (attempts, result) = retry.run(|| channel.send(&alert));
        let delivery = Delivery {
            attempts,
            outcome: result.map(|()| now()),
        };
        if let Err(e) = &delivery.outcome {
            tracing::warn!(alert = alert.id, channel = %name, attempts, "delivery failed: {e}");
        }
        store.record_delivery(alert.id, &name, &delivery)?;
        outcomes.push((alert.id, delivery));
    }
    Ok(outcomes)
}

/// Why a subscription could not be served at all (its alerts stay pending).
#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    #[error("subscription {0} sends e-mail, but no SMTP relay is configured")]
    NoRelay(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How stored subscriptions reach their receivers.
#[derive(Clone, Debug, Default)]
pub struct Outbound {
    /// The relay e-mail subscriptions go through; without one they stay pending.
    pub relay: Option<Smtp>,
    /// Whether webhooks may go to internal addresses (loopback, private networks): off, so a
    /// member's subscription cannot reach into the server's own networks.
    pub webhooks_to_internal: bool,
}

/// How hard alerts are pushed to a stored subscription.
#[derive(Clone, Debug, PartialEq)]
pub struct Persistence {
    /// Attempts per alert within one round, with backoff.
    pub retry: Retry,
    /// Attempts per alert in all, over every round: then the alert is given up for that
    /// subscription (its last error recorded as such) and never tried again, so a dead
    /// receiver does not cost every round forever.
    pub give_up_after: u32,
    /// How long one round may spend on one subscription: alerts not started by then wait
    /// for the next round.
    pub round_budget: Duration,
}

/// A subscription's webhook, refused at each POST when its host is internal and the
/// deployment does not allow that.
struct SubscriptionWebhook {
    hook: Webhook,
    destinations: Destinations,
}

impl Channel for SubscriptionWebhook {
    fn name(&self) -> String {
        self.hook.name()
    }

    fn send(&self, alert: &Alert) -> Result<(), String> {
        self.hook.post(alert, self.destinations)
    }
}

/// One alert's delivery to a subscription, for the caller to record
/// ([`Outcome::record`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub subscription: i64,
    pub alert_id: i64,
    /// The name the delivery is recorded under (`subscription:<id>`).
    pub channel: String,
    pub delivery: Delivery,
}

impl Outcome {
    pub fn record(&self, store: &mut dyn AlertStore) -> Result<(), StoreError> {
        store.record_delivery(self.alert_id, &self.channel, &self.delivery)
    }
}

/// What a stored subscription is due in one round: every alert raised after it was made, of
/// at least its severity, that its organisation's members may see, it has not received and
/// has not given up on, as those members may see it, and the channel it goes over (e-mail
/// through the outbound relay, its recipients replaced by the subscription's). Read from the
/// store, then sent without it ([`Due::send`]), so a slow receiver holds no store.
pub struct Due {
    subscription: i64,
    name: String,
    channel: Box<dyn Channel + Send>,
    /// Each alert with the attempts already made to deliver it.
    alerts: Vec<(Alert, u32)>,
}

impl std::fmt::Debug for Due {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Due")
            .field("subscription", &self.subscription)
            .field("alerts", &self.alerts.len())
            .finish_non_exhaustive()
    }
}

impl Due {
    pub fn of(
        store: &dyn AlertStore,
        subscription: &Subscription,
        pan: &CryptoPan,
        outbound: &Outbound,
        persistence: &Persistence,
    ) -> Result<Due, SubscriptionError> {
        let channel: Box<dyn Channel + Send> = match &subscription.subscription.channel {
            SubscriptionChannel::Webhook { url, secret } => Box::new(SubscriptionWebhook {
                hook: Webhook {
                    url: url.clone(),
                    secret: secret.clone(),
                },
                destinations: if outbound.webhooks_to_internal {
                    Destinations::Any
                } else {
                    Destinations::InternetOnly
                },
            }),
            SubscriptionChannel::Email { to } => Box::new(Smtp {
                to: to.clone(),
                ..outbound
                    .relay
                    .clone()
                    .ok_or(SubscriptionError::NoRelay(subscription.id))?
            }),
        };
        let member = Viewer::User {
            org: subscription.subscription.org.clone(),
            role: Role::Member,
        };
        let name = subscription.channel_name();
        let alerts = pending(
            store,
            &member,
            pan,
            &name,
            |alert| subscription.wants(alert),
            Some(persistence.give_up_after),
        )?;
        Ok(Due {
            subscription: subscription.id,
            name,
            channel,
            alerts,
        })
    }

    pub fn subscription(&self) -> i64 {
        self.subscription
    }

    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }

    /// Sends the alerts in order, each retried as `persistence` says, until they are all sent
    /// or the round's budget is spent; hands each outcome to `outcome` as it comes. `now`
    /// stamps successful deliveries.
    pub fn send(
        self,
        persistence: &Persistence,
        now: impl Fn() -> Timestamp,
        mut outcome: impl FnMut(Outcome),
    ) {
        let deadline = Instant::now() + persistence.round_budget;
        for (alert, tried) in self.alerts {
            if Instant::now() >= deadline {
                tracing::info!(
                    subscription = self.subscription,
                    "round budget spent; the remaining alerts wait for the next round"
                );
                break;
            }
            let left = persistence.give_up_after.saturating_sub(tried);
            let (attempts, result) = persistence
                .retry
                .run_within(left, Some(deadline), || self.channel.send(&alert));
            let delivery = Delivery {
                attempts,
                outcome: result.map(|()| now()).map_err(|e| {
                    let total = tried + attempts;
                    tracing::warn!(alert = alert.id, channel = %self.name, total, "delivery failed: {e}");
                    if total >= persistence.give_up_after {
                        format!("given up after {total} attempts: {e}")
                    } else {
                        e
                    }
                }),
            };
            outcome(Outcome {
                subscription: self.subscription,
                alert_id: alert.id,
                channel: self.name.clone(),
                delivery,
            });
        }
    }
}

/// The alerts `subscriber` may see, `wanted` keeps, `name` has not received and (with a
/// limit) has tried fewer than `give_up_after` times, as the subscriber may see them, each
/// with the attempts made so far.
fn pending(
    store: &dyn AlertStore,
    subscriber: &Viewer,
    pan: &CryptoPan,
    name: &str,
    wanted: impl Fn(&Alert) -> bool,
    give_up_after: Option<u32>,
) -> Result<Vec<(Alert, u32)>, StoreError> {
    let tried: HashMap<i64, u32> = store
        .failed_deliveries(name)?
        .into_iter()
        .map(|f| (f.alert_id, f.attempts))
        .collect();
    Ok(store
        .undelivered(subscriber, name)?
        .into_iter()
        .filter(|alert| wanted(alert))
        .map(|alert| {
            let tried = tried.get(&alert.id).copied().unwrap_or(0);
            (alert, tried)
        })
        .filter(|(_, tried)| give_up_after.is_none_or(|limit| *tried < limit))
        .map(|(alert, tried)| (alert_as_seen(subscriber, pan, alert), tried))
        .collect())
}

/// The text body of an alert as e-mail and feed entries carry it.
pub(crate) fn alert_text(alert: &Alert) -> String {
    let a = &alert.alert;
    format!(
        "{title}\n\nSeverity: {severity}\n{tlp}\nFirst seen: {first}\nLast seen: {last}\nAffected: {affected}\n\n{summary}\n",
        title = a.title,
        severity = a.severity,
        tlp = a.label.tlp,
        first = a.first_seen.to_rfc3339(),
        last = a.last_seen.to_rfc3339(),
        affected = a.affected.join(", "),
        summary = a.summary,
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use greenwatch_model::access::{Label, Tlp};
    use greenwatch_model::alert::{Alert, NewAlert, Severity};
    use greenwatch_model::Timestamp;

    pub(crate) fn alert(id: i64, title: &str, tlp: Tlp) -> Alert {
        Alert {
            id,
            alert: NewAlert {
                key: None,
                severity: Severity::High,
                title: title.into(),
                summary: "port 5555/tcp: 125 observed, 23 expected".into(),
                affected: vec!["port 5555/tcp packets".into()],
                first_seen: Timestamp::from_secs(1_791_158_400),
                last_seen: Timestamp::from_secs(1_791_162_000),
                author: "detector".into(),
                label: Label {
                    owner: "cert-x".into(),
                    tlp,
                },
                evidence: None,
                created_at: Timestamp::from_secs(1_791_165_600),
            },
            triage: Default::default(),
        }
    }
}
