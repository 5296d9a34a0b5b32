//! Making a subscription: the one check every way in (the portal's form, the CLI) applies
//! before a subscription is stored.

use crate::valid_address;
use crate::webhook::{check_internet_destination, DestinationError};
use greenwatch_model::alert::{NewSubscription, Subscription, SubscriptionChannel};
use greenwatch_store::{AlertStore, StoreError};

/// Subscriptions one organisation may have: each is a delivery every round, so their number
/// bounds the work one organisation puts on the delivery loop.
pub const SUBSCRIPTIONS_PER_ORGANISATION: usize = 32;
/// Longest webhook URL accepted.
pub const MAX_WEBHOOK_URL: usize = 2000;
/// Most recipients of one e-mail subscription.
pub const MAX_RECIPIENTS: usize = 20;

/// Why a subscription was not made.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    /// The request itself is refused; the reason is for the person who asked.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks `new` and stores it with its audit entry (`AlertStore::subscribe`):
/// - a webhook has an http(s) URL of at most [`MAX_WEBHOOK_URL`] characters whose host is not
///   an internal address, unless `webhooks_to_internal` (a host that does not resolve yet is
///   accepted: every POST checks the destination again);
/// - an e-mail subscription has 1 to [`MAX_RECIPIENTS`] valid addresses;
/// - the organisation holds fewer than [`SUBSCRIPTIONS_PER_ORGANISATION`] subscriptions.
///
/// It may resolve a host name: call it where blocking is allowed.
pub fn subscribe(
    store: &mut dyn AlertStore,
    new: &NewSubscription,
    webhooks_to_internal: bool,
) -> Result<Subscription, SubscribeError> {
    check_channel(&new.channel, webhooks_to_internal)?;
    let made = store.subscriptions(Some(&new.org))?.len();
    if made >= SUBSCRIPTIONS_PER_ORGANISATION {
        return Err(SubscribeError::Refused(format!(
            "{} has {made} subscriptions, the most one organisation may have; remove one first",
            new.org
        )));
    }
    store.subscribe(new).map_err(|e| match e {
        StoreError::Conflict(reason) => SubscribeError::Refused(reason),
        other => other.into(),
    })
}

fn check_channel(
    channel: &SubscriptionChannel,
    webhooks_to_internal: bool,
) -> Result<(), SubscribeError> {
    match channel {
        SubscriptionChannel::Webhook { url, .. } => {
            let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
            if !scheme_ok || url.len() > MAX_WEBHOOK_URL || url.chars().any(char::is_whitespace) {
                return Err(SubscribeError::Refused(format!(
                    "A webhook needs an http:// or https:// URL of at most {MAX_WEBHOOK_URL} \
                     characters."
                )));
            }
            if webhooks_to_internal {
                return Ok(());
            }
            match check_internet_destination(url) {
                Ok(()) | Err(DestinationError::Unresolved { .. }) => Ok(()),
                Err(e) => Err(SubscribeError::Refused(e.to_string())),
            }
        }
        SubscriptionChannel::Email { to } => {
            if to.is_empty() || to.len() > MAX_RECIPIENTS {
                return Err(SubscribeError::Refused(format!(
                    "E-mail needs 1 to {MAX_RECIPIENTS} recipients."
                )));
            }
            match to.iter().find(|a| !valid_address(a)) {
                Some(bad) => Err(SubscribeError::Refused(format!(
                    "{bad:?} is not an e-mail address."
                ))),
                None => Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenwatch_model::alert::Severity;
    use greenwatch_model::Timestamp;

    fn webhook(url: &str) -> NewSubscription {
        NewSubscription {
            org: "cert-a".into(),
            channel: SubscriptionChannel::Webhook {
                url: url.into(),
                secret: "s".into(),
            },
            min_severity: Severity::Low,
            created_by: "cli".into(),
            created_at: Timestamp(0),
        }
    }

    #[test]
    fn internal_and_malformed_destinations_are_refused_before_anything_is_stored() {
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://[::1]/hook",
            "https://10.1.2.3/hook",
            "http://169.254.169.254/latest/meta-data",
        ] {
            let refused = check_channel(&webhook(url).channel, false).unwrap_err();
            assert!(refused.to_string().contains("internal"), "{url}: {refused}");
            // The operator may allow it.
            check_channel(&webhook(url).channel, true).unwrap();
        }
        for url in [
            "ftp://example.net/hook",
            "http://exa mple.net/",
            "example.net",
        ] {
            let refused = check_channel(&webhook(url).channel, true).unwrap_err();
            assert!(refused.to_string().contains("http://"), "{url}: {refused}");
        }
        check_channel(&webhook("https://93.184.215.14/hook").channel, false).unwrap();
        let email = |to: &[&str]| SubscriptionChannel::Email {
            to: to.iter().map(|a| a.to_string()).collect(),
        };
        assert!(check_channel(&email(&[]), false).is_err());
        assert!(check_channel(&email(&["not an address"]), false).is_err());
        check_channel(&email(&["soc@cert.example"]), false).unwrap();
    }
}
