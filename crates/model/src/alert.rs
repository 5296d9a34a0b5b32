//! Early-warning alerts: what the detector (or an analyst) tells people, with the evidence
//! behind it. An alert carries a [`Label`] like every other object, so it travels only as far
//! as its TLP allows.

use crate::access::Label;
use crate::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown severity {s:?}: expected low, medium, high or critical")
            })
    }
}

/// One contributor to an anomaly and its share of the anomaly's packets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contributor {
    /// `203.0.113.7`, `CN`, `AS4134`, `23/tcp`, `mirai`.
    pub name: String,
    pub packets: u64,
    pub share: f64,
    /// For sources: their first bucket within the look-back window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<Timestamp>,
}

/// Who carried an anomaly's traffic.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub packets: u64,
    pub sources: Vec<Contributor>,
    pub countries: Vec<Contributor>,
    pub asns: Vec<Contributor>,
    pub ports: Vec<Contributor>,
    pub fingerprints: Vec<Contributor>,
}

/// One bucket of an affected series as the alert's chart draws it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChartPoint {
    pub bucket: Timestamp,
    pub observed: f64,
    /// The baseline band (absent during the detector's warm-up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper: Option<f64>,
}

/// Observed against expected over one affected series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesEvidence {
    /// `port 5555/tcp packets`.
    pub series: String,
    /// `surge`, `level-up`, `level-down`.
    pub kind: String,
    pub observed: f64,
    pub expected: f64,
    /// The prediction interval of the peak bucket.
    pub peak_observed: f64,
    pub peak_lower: f64,
    pub peak_upper: f64,
    pub chart: Vec<ChartPoint>,
}

/// What the detector measured; absent on alerts written by hand.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub series: Vec<SeriesEvidence>,
    pub explanation: Explanation,
}

/// An alert before the store gives it an id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewAlert {
    /// Identifies what the alert is about (`detect:port/5555/tcp:surge:<first bucket>`), so that
    /// running the detector again does not raise it twice; `None` for hand-written alerts.
    pub key: Option<String>,
    pub severity: Severity,
    pub title: String,
    /// Plain text a person reads first.
    pub summary: String,
    /// The affected series, e.g. `port 5555/tcp packets`.
    pub affected: Vec<String>,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// `detector` or the login of the analyst who wrote it.
    pub author: String,
    pub label: Label,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    pub created_at: Timestamp,
}

/// A stored alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: i64,
    #[serde(flatten)]
    pub alert: NewAlert,
    #[serde(flatten)]
    pub triage: Triage,
}

impl NewAlert {
    /// `surge`, `level-up` or `level-down` for the detector's alerts (of its first affected
    /// series), `manual` for one an analyst wrote.
    pub fn kind(&self) -> &str {
        self.evidence
            .as_ref()
            .and_then(|e| e.series.first())
            .map_or("manual", |s| s.kind.as_str())
    }
}

/// Where an alert stands in its owner organisation's handling, as in an incident tracker's
/// queue: new alerts are open; an analyst acknowledges one (someone is on it) or resolves it.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    #[default]
    Open,
    Acknowledged,
    Resolved,
}

impl AlertState {
    pub const ALL: [AlertState; 3] = [
        AlertState::Open,
        AlertState::Acknowledged,
        AlertState::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Resolved => "resolved",
        }
    }
}

impl fmt::Display for AlertState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        AlertState::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown alert state {s:?}: expected open, acknowledged or resolved")
            })
    }
}

/// An alert's state and who set it last, when.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Triage {
    #[serde(default)]
    pub state: AlertState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_at: Option<Timestamp>,
}

/// Which alerts a list shows: every condition given must hold. Pages are `offset`..`+limit`
/// of the matching alerts, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AlertQuery {
    /// This severity or a higher one.
    pub min_severity: Option<Severity>,
    /// As [`NewAlert::kind`] names it.
    pub kind: Option<String>,
    /// Text an affected series contains, case-insensitively (`5555/tcp`, `country CN`).
    pub subject: Option<String>,
    pub state: Option<AlertState>,
    pub offset: usize,
    pub limit: usize,
}

/// One page of the alerts a viewer may see that match an [`AlertQuery`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertPage {
    pub alerts: Vec<Alert>,
    /// Matching alerts in all pages.
    pub total: usize,
    /// The highest id among all matching alerts: ids only grow, so a new alert changes it.
    pub newest_id: i64,
}

/// Where a subscription's alerts go.
#[derive(Clone, PartialEq)]
pub enum SubscriptionChannel {
    /// A JSON POST signed with HMAC-SHA256 under the shared secret.
    Webhook {
        url: String,
        /// Shared with the receiver; never shown again after the subscription is made, never
        /// logged, never in `Debug` output.
        secret: String,
    },
    /// E-mail to these recipients through the deployment's SMTP relay.
    Email { to: Vec<String> },
}

impl SubscriptionChannel {
    /// `webhook` or `email`.
    pub fn kind(&self) -> &'static str {
        match self {
            SubscriptionChannel::Webhook { .. } => "webhook",
            SubscriptionChannel::Email { .. } => "email",
        }
    }

    /// Where it delivers to, without the secret: the URL or the recipients.
    pub fn target(&self) -> String {
        match self {
            SubscriptionChannel::Webhook { url, .. } => url.clone(),
            SubscriptionChannel::Email { to } => to.join(", "),
        }
    }
}

impl fmt::Debug for SubscriptionChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.target())
    }
}

/// An organisation's standing order for alerts, before the store gives it an id.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSubscription {
    /// Receives what this organisation's members may see, never more.
    pub org: String,
    pub channel: SubscriptionChannel,
    /// Alerts below this severity are not sent.
    pub min_severity: Severity,
    /// Login (or `cli`) of who made it.
    pub created_by: String,
    pub created_at: Timestamp,
}

/// A stored subscription.
#[derive(Clone, Debug, PartialEq)]
pub struct Subscription {
    pub id: i64,
    /// The newest alert id when it was made: only later alerts are sent, so a new subscriber
    /// is not flooded with the history.
    pub after_alert: i64,
    pub subscription: NewSubscription,
}

impl Subscription {
    /// Whether `alert` is one this subscription asks for (visibility is checked by the store).
    pub fn wants(&self, alert: &Alert) -> bool {
        alert.id > self.after_alert && alert.alert.severity >= self.subscription.min_severity
    }

    /// Its name in the delivery records: each subscription keeps its own, so two
    /// organisations sending to one URL are two deliveries, each checked against its viewer.
    pub fn channel_name(&self) -> String {
        format!("subscription:{}", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_parse_in_any_case_and_order_by_urgency() {
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("urgent".parse::<Severity>().is_err());
        assert!(Severity::Critical > Severity::Low);
    }

    #[test]
    fn a_webhook_secret_stays_out_of_debug_output() {
        let channel = SubscriptionChannel::Webhook {
            url: "https://soc.example.org/hook".into(),
            secret: "s3cret-value".into(),
        };
        let shown = format!("{channel:?} {}", channel.target());
        assert!(shown.contains("soc.example.org") && !shown.contains("s3cret"));
    }
}
