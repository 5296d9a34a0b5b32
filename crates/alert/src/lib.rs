//! Delivers early-warning alerts beyond the portal: an Atom feed ([`atom_feed`]), webhooks
//! (JSON POST signed with HMAC-SHA256 over the body, [`Webhook`]) and e-mail over SMTP
//! ([`Smtp`]). Each push channel is one [`Channel`]; [`deliver_pending`] sends a channel every
//! alert its subscriber may see and has not received yet, retrying with backoff ([`Retry`]),
//! and records the outcome in the store, so an alert is delivered at least once per channel.
//!
//! Invariants: a channel only ever receives alerts `Viewer::can_see` allows its subscriber,
//! with the sources they name as `Disclosure::for_viewer` shows them to it; webhook secrets and SMTP passwords are never logged or put in an error message.

mod atom;
mod retry;
mod smtp;
mod webhook;

pub use atom::{atom_feed, FeedInfo};
pub use retry::Retry;
pub use smtp::{valid_address, Smtp, SmtpCredentials, SmtpSecurity};
pub use webhook::{
    check_internet_destination, signature, DestinationError, Webhook, SIGNATURE_HEADER,
};

use greenwatch_model::access::{Role, Viewer};
use greenwatch_model::alert::{Alert, Subscription, SubscriptionChannel};
use greenwatch_model::anonymise::{alert_as_seen, CryptoPan};
use greenwatch_model::Timestamp;
use greenwatch_store::{AlertStore, Delivery, StoreError};
use webhook::Destinations;

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
    let target = Target {
        name: &channel.name(),
        channel,
    };
    deliver_matching(store, subscriber, pan, target, |_| true, retry, now)
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

/// Delivers to a stored subscription every alert raised after it was made, of at least its
/// severity, that its organisation's members may see and it has not received. E-mail goes
/// through the outbound relay (its recipients replaced by the subscription's).
pub fn deliver_subscription(
    store: &mut dyn AlertStore,
    subscription: &Subscription,
    pan: &CryptoPan,
    outbound: &Outbound,
    retry: &Retry,
    now: impl Fn() -> Timestamp,
) -> Result<Vec<(i64, Delivery)>, SubscriptionError> {
    let channel: Box<dyn Channel> = match &subscription.subscription.channel {
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
    let target = Target {
        name: &subscription.channel_name(),
        channel: channel.as_ref(),
    };
    Ok(deliver_matching(
        store,
        &member,
        pan,
        target,
        |alert| subscription.wants(alert),
        retry,
        now,
    )?)
}

/// A channel and the name its deliveries are recorded under.
struct Target<'a> {
    name: &'a str,
    channel: &'a dyn Channel,
}

/// Delivers the alerts `subscriber` may see, `wanted` keeps and `target` has not received,
/// as the subscriber may see them.
fn deliver_matching(
    store: &mut dyn AlertStore,
    subscriber: &Viewer,
    pan: &CryptoPan,
    Target { name, channel }: Target,
    wanted: impl Fn(&Alert) -> bool,
    retry: &Retry,
    now: impl Fn() -> Timestamp,
) -> Result<Vec<(i64, Delivery)>, StoreError> {
    let mut outcomes = Vec::new();
    for alert in store.undelivered(subscriber, name)? {
        if !wanted(&alert) {
            continue;
        }
        let shown = alert_as_seen(subscriber, pan, alert);
        let (attempts, result) = retry.run(|| channel.send(&shown));
        let delivery = Delivery {
            attempts,
            outcome: result.map(|()| now()),
        };
        if let Err(e) = &delivery.outcome {
            tracing::warn!(alert = shown.id, channel = %name, attempts, "delivery failed: {e}");
        }
        store.record_delivery(shown.id, name, &delivery)?;
        outcomes.push((shown.id, delivery));
    }
    Ok(outcomes)
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
        }
    }
}
