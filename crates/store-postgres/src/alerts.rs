//! Alerts on PostgreSQL: the alert as JSON beside the columns it is filtered and sorted by,
//! one row per (alert, delivery channel) recording what was delivered, and subscriptions.
//!
//! Every transaction that inserts an alert takes [`crate::ALERT_ID_LOCK`] before its INSERT
//! and keeps it until it commits, so ids are handed out in commit order across connections
//! (cursors and "new since" lists page by id).

use crate::accounts::append_audit;
use crate::{pg, PostgresStore};
use greenwatch_model::access::{Label, Viewer};
use greenwatch_model::account::AuditEntry;
use greenwatch_model::alert::{
    Alert, AlertPage, AlertQuery, AlertState, NewAlert, NewSubscription, Severity, Subscription,
    SubscriptionChannel, Triage,
};
use greenwatch_model::Timestamp;
use greenwatch_store::{audit, AlertStore, Delivery, FailedDelivery, StoreError};
use postgres::types::ToSql;
use postgres::{GenericClient, Row, Transaction};

// `key` is byte-ordered (COLLATE "C") so that `alerts_keyed`'s prefix range over its unique
// index holds whatever the database's collation.
pub(crate) const SCHEMA: &str = r#"
CREATE TABLE alerts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT COLLATE "C" UNIQUE,
    owner TEXT NOT NULL,
    tlp TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open',
    severity_rank BIGINT NOT NULL DEFAULT 0,
    kind TEXT NOT NULL DEFAULT 'manual',
    subjects TEXT NOT NULL DEFAULT '',
    state_by TEXT,
    state_at BIGINT
);
-- Pages are ordered by (first_seen, id), newest first.
CREATE INDEX alerts_by_time ON alerts(first_seen, id);
CREATE INDEX alerts_by_label ON alerts(owner, tlp);
CREATE INDEX alerts_by_state ON alerts(state, first_seen, id);
CREATE TABLE alert_deliveries (
    alert_id BIGINT NOT NULL REFERENCES alerts(id),
    channel TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error TEXT,
    PRIMARY KEY (alert_id, channel)
);
CREATE TABLE alert_subscriptions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    secret TEXT,
    min_severity TEXT NOT NULL,
    after_alert BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
"#;

fn severity_rank(severity: Severity) -> i64 {
    Severity::ALL
        .iter()
        .position(|s| *s == severity)
        .unwrap_or(0) as i64
}

/// The affected series of an alert, one per line, lower case: what a subject filter searches.
fn subjects(alert: &NewAlert) -> String {
    alert.affected.join("\n").to_lowercase()
}

fn alert_from_row(id: i64, body: &str, triage: Triage) -> Result<Alert, StoreError> {
    let alert: NewAlert =
        serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("alert {id}: {e}")))?;
    Ok(Alert { id, alert, triage })
}

/// The columns [`alert_of_row`] reads, in its order.
const ALERT_COLUMNS: &str = "id, body, state, state_by, state_at";

fn alert_of_row(row: &Row) -> Result<Alert, StoreError> {
    let id: i64 = row.get(0);
    let state: &str = row.get(2);
    let triage = Triage {
        state: state
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("alert {id}: {e}")))?,
        state_by: row.get(3),
        state_at: row.get::<_, Option<i64>>(4).map(Timestamp),
    };
    alert_from_row(id, row.get(1), triage)
}

impl PostgresStore {
    /// The labels of stored alerts `viewer` may see, and whether any stored alert is hidden
    /// from them. The decision is `Viewer::can_see`'s; the query of a page only filters by
    /// the labels it allowed.
    fn visible_alert_labels(&self, viewer: &Viewer) -> Result<(Vec<Label>, bool), StoreError> {
        let rows = self
            .client()?
            .query("SELECT DISTINCT owner, tlp FROM alerts", &[])
            .map_err(pg)?;
        let (mut labels, mut hidden) = (Vec::new(), false);
        for row in rows {
            let label = crate::label_from_row(&row)?;
            if viewer.can_see(&label) {
                labels.push(label);
            } else {
                hidden = true;
            }
        }
        Ok((labels, hidden))
    }
}

/// Waits for the alert id lock: held until the caller's transaction ends, so the ids its
/// inserts take are the next ones to commit.
fn lock_alert_ids(tx: &mut Transaction<'_>) -> Result<(), StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&crate::ALERT_ID_LOCK])
        .map_err(pg)?;
    Ok(())
}

/// Inserts an alert row in the caller's transaction, which holds the alert id lock; returns
/// its id.
fn insert_alert(tx: &mut Transaction<'_>, alert: &NewAlert) -> Result<i64, StoreError> {
    let body = serde_json::to_string(alert).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let Label { owner, tlp } = &alert.label;
    let row = tx
        .query_one(
            "INSERT INTO alerts (key, owner, tlp, first_seen, body, severity_rank, kind, subjects)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            &[
                &alert.key,
                owner,
                &tlp.as_str(),
                &alert.first_seen.0,
                &body,
                &severity_rank(alert.severity),
                &alert.kind(),
                &subjects(alert),
            ],
        )
        .map_err(pg)?;
    Ok(row.get(0))
}

/// The id of the alert stored under `key`, if any.
fn alert_keyed(client: &mut impl GenericClient, key: &str) -> Result<Option<i64>, StoreError> {
    Ok(client
        .query_opt("SELECT id FROM alerts WHERE key = $1", &[&key])
        .map_err(pg)?
        .map(|r| r.get(0)))
}

/// A subscription row: `kind`, `target` (URL, or recipients separated by commas) and the
/// webhook's secret. The secret is kept in clear because signing needs it (unlike tokens,
/// which are only ever compared and so stored by hash).
fn subscription_from_row(row: &Row) -> Result<Subscription, StoreError> {
    let id: i64 = row.get(0);
    let kind: String = row.get(2);
    let target: String = row.get(3);
    let channel = match (kind.as_str(), row.get::<_, Option<String>>(4)) {
        ("webhook", Some(secret)) => SubscriptionChannel::Webhook {
            url: target,
            secret,
        },
        ("email", _) => SubscriptionChannel::Email {
            to: target.split(',').map(str::to_string).collect(),
        },
        _ => {
            return Err(StoreError::Corrupt(format!(
                "subscription {id}: kind {kind}"
            )))
        }
    };
    let severity: &str = row.get(5);
    Ok(Subscription {
        id,
        after_alert: row.get(6),
        subscription: NewSubscription {
            org: row.get(1),
            channel,
            min_severity: severity
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("subscription {id}: {e}")))?,
            created_by: row.get(7),
            created_at: Timestamp(row.get(8)),
        },
    })
}

/// Parameters of a query built piece by piece: each bound value gives its placeholder.
#[derive(Default)]
struct Params(Vec<Box<dyn ToSql + Sync>>);

impl Params {
    fn bind(&mut self, value: impl ToSql + Sync + 'static) -> String {
        self.0.push(Box::new(value));
        format!("${}", self.0.len())
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.0.iter().map(|v| &**v).collect()
    }
}

impl AlertStore for PostgresStore {
    fn raise_alert(&mut self, alert: &NewAlert) -> Result<(i64, bool), StoreError> {
        let mut tx = self.client_mut()?.transaction().map_err(pg)?;
        if let Some(key) = &alert.key {
            // Most raises are of findings raised before: answered without the lock.
            if let Some(id) = alert_keyed(&mut tx, key)? {
                return Ok((id, false));
            }
        }
        lock_alert_ids(&mut tx)?;
        if let Some(key) = &alert.key {
            // Raised by another connection while this one waited for the lock.
            if let Some(id) = alert_keyed(&mut tx, key)? {
                return Ok((id, false));
            }
        }
        let id = insert_alert(&mut tx, alert)?;
        tx.commit().map_err(pg)?;
        Ok((id, true))
    }

    fn write_alert(&mut self, alert: &NewAlert, audit: &AuditEntry) -> Result<i64, StoreError> {
        let mut tx = self.client_mut()?.transaction().map_err(pg)?;
        lock_alert_ids(&mut tx)?;
        let id = insert_alert(&mut tx, alert)?;
        append_audit(&mut tx, &audit::alert_written(id, audit))?;
        tx.commit().map_err(pg)?;
        Ok(id)
    }

    fn alerts(&self, viewer: &Viewer, limit: usize) -> Result<Vec<Alert>, StoreError> {
        let query = AlertQuery {
            limit,
            ..AlertQuery::default()
        };
        Ok(self.alert_page(viewer, &query)?.alerts)
    }

    fn alert_page(&self, viewer: &Viewer, query: &AlertQuery) -> Result<AlertPage, StoreError> {
        let (labels, hidden) = self.visible_alert_labels(viewer)?;
        if labels.is_empty() {
            return Ok(AlertPage::default());
        }
        let mut conditions: Vec<String> = Vec::new();
        let mut params = Params::default();
        if hidden {
            let pairs: Vec<String> = labels
                .iter()
                .map(|l| {
                    let owner = params.bind(l.owner.clone());
                    let tlp = params.bind(l.tlp.as_str().to_string());
                    format!("({owner}::TEXT, {tlp}::TEXT)")
                })
                .collect();
            conditions.push(format!("(owner, tlp) IN (VALUES {})", pairs.join(", ")));
        }
        if let Some(severity) = query.min_severity {
            let p = params.bind(severity_rank(severity));
            conditions.push(format!("severity_rank >= {p}"));
        }
        if let Some(kind) = &query.kind {
            let p = params.bind(kind.clone());
            conditions.push(format!("kind = {p}"));
        }
        if let Some(subject) = query.subject.as_deref().filter(|s| !s.trim().is_empty()) {
            let p = params.bind(subject.trim().to_lowercase());
            conditions.push(format!("strpos(subjects, {p}) > 0"));
        }
        if let Some(state) = query.state {
            let p = params.bind(state.as_str().to_string());
            conditions.push(format!("state = {p}"));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let mut client = self.client()?;
        let counted = client
            .query_one(
                &format!("SELECT count(*), max(id) FROM alerts {filter}"),
                &params.refs(),
            )
            .map_err(pg)?;
        let (total, newest_id): (i64, Option<i64>) = (counted.get(0), counted.get(1));
        let limit = params.bind(query.limit.min(i64::MAX as usize) as i64);
        let offset = params.bind(query.offset.min(i64::MAX as usize) as i64);
        let rows = client
            .query(
                &format!(
                    "SELECT {ALERT_COLUMNS} FROM alerts {filter}
                     ORDER BY first_seen DESC, id DESC LIMIT {limit} OFFSET {offset}"
                ),
                &params.refs(),
            )
            .map_err(pg)?;
        let alerts = rows.iter().map(alert_of_row).collect::<Result<_, _>>()?;
        Ok(AlertPage {
            alerts,
            total: total as usize,
            newest_id: newest_id.unwrap_or(0),
        })
    }

    fn alert(&self, viewer: &Viewer, id: i64) -> Result<Option<Alert>, StoreError> {
        let row = self
            .client()?
            .query_opt(
                &format!("SELECT {ALERT_COLUMNS}, owner, tlp FROM alerts WHERE id = $1"),
                &[&id],
            )
            .map_err(pg)?;
        let Some(row) = row else { return Ok(None) };
        let label = crate::label_from_row(&row)?;
        if !viewer.can_see(&label) {
            return Ok(None);
        }
        alert_of_row(&row).map(Some)
    }

    fn alerts_keyed(&self, key_prefix: &str) -> Result<Vec<Alert>, StoreError> {
        // A range over the unique index on `key` (byte-ordered): every key starting with the
        // prefix sorts between it and the prefix followed by the highest character.
        let rows = self
            .client()?
            .query(
                &format!(
                    "SELECT {ALERT_COLUMNS} FROM alerts WHERE key >= $1 AND key < $2 ORDER BY id"
                ),
                &[&key_prefix, &format!("{key_prefix}{}", char::MAX)],
            )
            .map_err(pg)?;
        rows.iter().map(alert_of_row).collect()
    }

    fn set_alert_state(
        &mut self,
        ids: &[i64],
        state: AlertState,
        audit: &AuditEntry,
    ) -> Result<usize, StoreError> {
        let mut tx = self.client_mut()?.transaction().map_err(pg)?;
        let mut changed = 0;
        for &id in ids {
            let n = tx
                .execute(
                    "UPDATE alerts SET state = $2, state_by = $3, state_at = $4
                     WHERE id = $1 AND state <> $2",
                    &[&id, &state.as_str(), &audit.actor, &audit.at.0],
                )
                .map_err(pg)?;
            if n > 0 {
                changed += n as usize;
                let entry = audit::alert_state_changed(id, state, audit);
                append_audit(&mut tx, &entry)?;
            }
        }
        tx.commit().map_err(pg)?;
        Ok(changed)
    }

    fn undelivered(&self, viewer: &Viewer, channel: &str) -> Result<Vec<Alert>, StoreError> {
        // Oldest first; visibility is decided per alert by `Viewer::can_see`.
        let sql = format!(
            "SELECT {ALERT_COLUMNS}, owner, tlp FROM alerts
             WHERE NOT EXISTS (SELECT 1 FROM alert_deliveries d
                               WHERE d.alert_id = alerts.id AND d.channel = $1
                                 AND d.delivered_at IS NOT NULL)
             ORDER BY first_seen, id"
        );
        let mut out = Vec::new();
        crate::stream(&mut *self.client()?, &sql, &[&channel], |row| {
            if viewer.can_see(&crate::label_from_row(row)?) {
                out.push(alert_of_row(row)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    fn record_delivery(
        &mut self,
        alert_id: i64,
        channel: &str,
        delivery: &Delivery,
    ) -> Result<(), StoreError> {
        let (delivered_at, error) = match &delivery.outcome {
            Ok(at) => (Some(at.0), None),
            Err(e) => (None, Some(e.as_str())),
        };
        self.client()?
            .execute(
                "INSERT INTO alert_deliveries (alert_id, channel, attempts, delivered_at, last_error)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (alert_id, channel) DO UPDATE
                 SET attempts = alert_deliveries.attempts + EXCLUDED.attempts,
                     delivered_at = EXCLUDED.delivered_at, last_error = EXCLUDED.last_error",
                &[
                    &alert_id,
                    &channel,
                    &i64::from(delivery.attempts),
                    &delivered_at,
                    &error,
                ],
            )
            .map_err(pg)?;
        Ok(())
    }

    fn failed_deliveries(&self, channel: &str) -> Result<Vec<FailedDelivery>, StoreError> {
        let rows = self
            .client()?
            .query(
                "SELECT alert_id, attempts, coalesce(last_error, '') FROM alert_deliveries
                 WHERE channel = $1 AND delivered_at IS NULL ORDER BY alert_id",
                &[&channel],
            )
            .map_err(pg)?;
        rows.iter()
            .map(|r| {
                let alert_id: i64 = r.get(0);
                let attempts = u32::try_from(r.get::<_, i64>(1)).map_err(|e| {
                    StoreError::Corrupt(format!("delivery attempts of alert {alert_id}: {e}"))
                })?;
                Ok(FailedDelivery {
                    alert_id,
                    attempts,
                    last_error: r.get(2),
                })
            })
            .collect()
    }

    fn subscribe(&mut self, new: &NewSubscription) -> Result<Subscription, StoreError> {
        let (target, secret) = match &new.channel {
            SubscriptionChannel::Webhook { url, secret } => (url.clone(), Some(secret.as_str())),
            SubscriptionChannel::Email { to } => (to.join(","), None),
        };
        let mut tx = self.client_mut()?.transaction().map_err(pg)?;
        let org_exists = tx
            .query_opt("SELECT 1 FROM orgs WHERE slug = $1", &[&new.org])
            .map_err(pg)?
            .is_some();
        if !org_exists {
            return Err(StoreError::Conflict(format!(
                "no organisation {:?} to subscribe",
                new.org
            )));
        }
        // Under the alert id lock no alert is being inserted: every alert with an id up to
        // the newest is committed, every later one will have a greater id.
        lock_alert_ids(&mut tx)?;
        let after_alert: i64 = tx
            .query_one("SELECT coalesce(max(id), 0) FROM alerts", &[])
            .map_err(pg)?
            .get(0);
        let id: i64 = tx
            .query_one(
                "INSERT INTO alert_subscriptions
                     (org, kind, target, secret, min_severity, after_alert, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                &[
                    &new.org,
                    &new.channel.kind(),
                    &target,
                    &secret,
                    &new.min_severity.as_str(),
                    &after_alert,
                    &new.created_by,
                    &new.created_at.0,
                ],
            )
            .map_err(pg)?
            .get(0);
        append_audit(&mut tx, &audit::subscribed(id, new))?;
        tx.commit().map_err(pg)?;
        Ok(Subscription {
            id,
            after_alert,
            subscription: new.clone(),
        })
    }

    fn subscriptions(&self, org: Option<&str>) -> Result<Vec<Subscription>, StoreError> {
        let rows = self
            .client()?
            .query(
                "SELECT id, org, kind, target, secret, min_severity, after_alert, created_by,
                        created_at
                 FROM alert_subscriptions WHERE $1::TEXT IS NULL OR org = $1 ORDER BY id",
                &[&org],
            )
            .map_err(pg)?;
        rows.iter().map(subscription_from_row).collect()
    }

    fn unsubscribe(
        &mut self,
        id: i64,
        org: Option<&str>,
        actor: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.client_mut()?.transaction().map_err(pg)?;
        let removed = tx
            .execute(
                "DELETE FROM alert_subscriptions WHERE id = $1 AND ($2::TEXT IS NULL OR org = $2)",
                &[&id, &org],
            )
            .map_err(pg)?;
        if removed > 0 {
            append_audit(&mut tx, &audit::unsubscribed(id, actor, at))?;
        }
        tx.commit().map_err(pg)?;
        Ok(removed > 0)
    }
}
