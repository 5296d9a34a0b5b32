//! Alerts in the embedded store: the alert as JSON beside the columns it is filtered and
//! sorted by, and one row per (alert, delivery channel) recording what was delivered.

use crate::SqliteStore;
use greenwatch_model::access::{Label, Viewer};
use greenwatch_model::account::AuditEntry;
use greenwatch_model::alert::{
    Alert, AlertPage, AlertQuery, AlertState, NewAlert, NewSubscription, Severity, Subscription,
    SubscriptionChannel, Triage,
};
use greenwatch_model::Timestamp;
use greenwatch_store::{AlertStore, Delivery, FailedDelivery, StoreError};
use rusqlite::{params, OptionalExtension};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY,
    key TEXT UNIQUE,
    owner TEXT NOT NULL,
    tlp TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open',
    severity_rank INTEGER NOT NULL DEFAULT 0,
    kind TEXT NOT NULL DEFAULT 'manual',
    subjects TEXT NOT NULL DEFAULT '',
    state_by TEXT,
    state_at INTEGER
);
CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts(first_seen);
CREATE TABLE IF NOT EXISTS alert_deliveries (
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    channel TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    delivered_at INTEGER,
    last_error TEXT,
    PRIMARY KEY (alert_id, channel)
);
CREATE TABLE IF NOT EXISTS alert_subscriptions (
    id INTEGER PRIMARY KEY,
    org TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    secret TEXT,
    min_severity TEXT NOT NULL,
    after_alert INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
";

/// Indexes on the columns added for triage; created after [`migrate`] added them to an
/// older store.
const INDEXES: &str = "
CREATE INDEX IF NOT EXISTS alerts_by_label ON alerts(owner, tlp);
CREATE INDEX IF NOT EXISTS alerts_by_state ON alerts(state, first_seen);
";

/// Stores made before alerts had a state: the columns lists are filtered by are added and
/// filled from each alert's body, once (one lookup of the table's columns on every open).
pub(super) fn migrate(conn: &rusqlite::Connection) -> Result<(), StoreError> {
    let has_state: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM pragma_table_info('alerts') WHERE name = 'state')",
        [],
        |r| r.get(0),
    )?;
    if !has_state {
        conn.execute_batch(
            "BEGIN IMMEDIATE;
             ALTER TABLE alerts ADD COLUMN state TEXT NOT NULL DEFAULT 'open';
             ALTER TABLE alerts ADD COLUMN severity_rank INTEGER NOT NULL DEFAULT 0;
             ALTER TABLE alerts ADD COLUMN kind TEXT NOT NULL DEFAULT 'manual';
             ALTER TABLE alerts ADD COLUMN subjects TEXT NOT NULL DEFAULT '';
             ALTER TABLE alerts ADD COLUMN state_by TEXT;
             ALTER TABLE alerts ADD COLUMN state_at INTEGER;",
        )?;
        let filled = (|| -> Result<(), StoreError> {
            let rows: Vec<(i64, String)> = conn
                .prepare("SELECT id, body FROM alerts")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            for (id, body) in rows {
                let alert = alert_from_row(id, &body, Triage::default())?.alert;
                conn.execute(
                    "UPDATE alerts SET severity_rank = ?2, kind = ?3, subjects = ?4 WHERE id = ?1",
                    params![
                        id,
                        severity_rank(alert.severity),
                        alert.kind(),
                        subjects(&alert)
                    ],
                )?;
            }
            Ok(())
        })();
        match filled {
            Ok(()) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                conn.execute_batch("ROLLBACK")?;
                return Err(e);
            }
        }
    }
    conn.execute_batch(INDEXES)?;
    Ok(())
}

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

fn alert_of_row(row: &rusqlite::Row<'_>) -> Result<Alert, StoreError> {
    let id: i64 = row.get(0)?;
    let state: String = row.get(2)?;
    let triage = Triage {
        state: state
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("alert {id}: {e}")))?,
        state_by: row.get(3)?,
        state_at: row.get::<_, Option<i64>>(4)?.map(Timestamp),
    };
    alert_from_row(
        id,
        row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?,
        triage,
    )
}

impl SqliteStore {
    /// Every alert whose label `viewer` may see, newest first, passing `keep`.
    fn visible_alerts(
        &self,
        viewer: &Viewer,
        limit: usize,
        keep: impl Fn(i64) -> bool,
    ) -> Result<Vec<Alert>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ALERT_COLUMNS}, owner, tlp FROM alerts ORDER BY first_seen DESC, id DESC"
        ))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            if out.len() == limit {
                break;
            }
            let label = crate::label_from_row(row)?;
            if !keep(row.get(0)?) || !viewer.can_see(&label) {
                continue;
            }
            out.push(alert_of_row(row)?);
        }
        Ok(out)
    }

    /// The labels of stored alerts `viewer` may see, and whether any stored alert is hidden
    /// from them. The decision is `Viewer::can_see`'s; the query below only filters by the
    /// labels it allowed.
    fn visible_alert_labels(&self, viewer: &Viewer) -> Result<(Vec<Label>, bool), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT owner, tlp FROM alerts")?;
        let mut rows = stmt.query([])?;
        let (mut labels, mut hidden) = (Vec::new(), false);
        while let Some(row) = rows.next()? {
            let label = crate::label_from_row(row)?;
            if viewer.can_see(&label) {
                labels.push(label);
            } else {
                hidden = true;
            }
        }
        Ok((labels, hidden))
    }
}

/// Inserts an alert row (in the caller's transaction, if any); returns its id.
fn insert_alert(conn: &rusqlite::Connection, alert: &NewAlert) -> Result<i64, StoreError> {
    let body = serde_json::to_string(alert).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let Label { owner, tlp } = &alert.label;
    conn.execute(
        "INSERT INTO alerts (key, owner, tlp, first_seen, body, severity_rank, kind, subjects)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            alert.key,
            owner,
            tlp.as_str(),
            alert.first_seen.0,
            body,
            severity_rank(alert.severity),
            alert.kind(),
            subjects(alert)
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A subscription row: `kind`, `target` (URL, or recipients separated by commas) and the
/// webhook's secret. The secret is kept in clear because signing needs it (unlike tokens,
/// which are only ever compared and so stored by hash).
fn subscription_from_row(row: &rusqlite::Row) -> Result<Subscription, StoreError> {
    let id: i64 = row.get(0)?;
    let kind: String = row.get(2)?;
    let target: String = row.get(3)?;
    let channel = match (kind.as_str(), row.get::<_, Option<String>>(4)?) {
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
    let severity: String = row.get(5)?;
    Ok(Subscription {
        id,
        after_alert: row.get(6)?,
        subscription: NewSubscription {
            org: row.get(1)?,
            channel,
            min_severity: severity
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("subscription {id}: {e}")))?,
            created_by: row.get(7)?,
            created_at: Timestamp(row.get(8)?),
        },
    })
}

impl AlertStore for SqliteStore {
    fn raise_alert(&mut self, alert: &NewAlert) -> Result<(i64, bool), StoreError> {
        let stored = |conn: &rusqlite::Connection| -> Result<Option<i64>, StoreError> {
            let Some(key) = &alert.key else {
                return Ok(None);
            };
            Ok(conn
                .query_row("SELECT id FROM alerts WHERE key = ?1", [key], |r| r.get(0))
                .optional()?)
        };
        // Most raises are of findings stored before: answered without the write lock.
        if let Some(id) = stored(&self.conn)? {
            return Ok((id, false));
        }
        // Looked up again under the write lock: another connection (another process) may
        // have stored the key in between, and a second insert would fail on its UNIQUE key.
        let tx = crate::write_transaction(&mut self.conn)?;
        if let Some(id) = stored(&tx)? {
            return Ok((id, false));
        }
        let id = insert_alert(&tx, alert)?;
        tx.commit()?;
        Ok((id, true))
    }

    fn write_alert(&mut self, alert: &NewAlert, audit: &AuditEntry) -> Result<i64, StoreError> {
        let tx = crate::write_transaction(&mut self.conn)?;
        let id = insert_alert(&tx, alert)?;
        crate::accounts::append_audit(&tx, &greenwatch_store::audit::alert_written(id, audit))?;
        tx.commit()?;
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
        let mut values: Vec<rusqlite::types::Value> = Vec::new();
        let bind = |values: &mut Vec<rusqlite::types::Value>, v: rusqlite::types::Value| {
            values.push(v);
            format!("?{}", values.len())
        };
        if hidden {
            let pairs: Vec<String> = labels
                .iter()
                .map(|l| {
                    let owner = bind(&mut values, l.owner.clone().into());
                    let tlp = bind(&mut values, l.tlp.as_str().to_string().into());
                    format!("({owner}, {tlp})")
                })
                .collect();
            conditions.push(format!("(owner, tlp) IN (VALUES {})", pairs.join(", ")));
        }
        if let Some(severity) = query.min_severity {
            let p = bind(&mut values, severity_rank(severity).into());
            conditions.push(format!("severity_rank >= {p}"));
        }
        if let Some(kind) = &query.kind {
            let p = bind(&mut values, kind.clone().into());
            conditions.push(format!("kind = {p}"));
        }
        if let Some(subject) = query.subject.as_deref().filter(|s| !s.trim().is_empty()) {
            let p = bind(&mut values, subject.trim().to_lowercase().into());
            conditions.push(format!("instr(subjects, {p}) > 0"));
        }
        if let Some(state) = query.state {
            let p = bind(&mut values, state.as_str().to_string().into());
            conditions.push(format!("state = {p}"));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let (total, newest_id): (i64, Option<i64>) = self.conn.query_row(
            &format!("SELECT count(*), max(id) FROM alerts {filter}"),
            rusqlite::params_from_iter(values.iter()),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let limit = bind(
            &mut values,
            (query.limit.min(i64::MAX as usize) as i64).into(),
        );
        let offset = bind(
            &mut values,
            (query.offset.min(i64::MAX as usize) as i64).into(),
        );
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts {filter}
             ORDER BY first_seen DESC, id DESC LIMIT {limit} OFFSET {offset}"
        ))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(values.iter()))?;
        let mut alerts = Vec::new();
        while let Some(row) = rows.next()? {
            alerts.push(alert_of_row(row)?);
        }
        Ok(AlertPage {
            alerts,
            total: total as usize,
            newest_id: newest_id.unwrap_or(0),
        })
    }

    fn alert(&self, viewer: &Viewer, id: i64) -> Result<Option<Alert>, StoreError> {
        let found = self
            .conn
            .query_row(
                &format!("SELECT {ALERT_COLUMNS}, owner, tlp FROM alerts WHERE id = ?1"),
                [id],
                |row| {
                    let label = crate::label_from_row(row)?;
                    Ok(viewer.can_see(&label).then(|| alert_of_row(row)))
                },
            )
            .optional()?
            .flatten()
            .transpose()?;
        Ok(found)
    }

    fn alerts_keyed(&self, key_prefix: &str) -> Result<Vec<Alert>, StoreError> {
        // A range over the unique index on `key`: every key starting with the prefix sorts
        // between it and the prefix followed by the highest character.
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE key >= ?1 AND key < ?2 ORDER BY id"
        ))?;
        let mut rows = stmt.query(params![key_prefix, format!("{key_prefix}{}", char::MAX)])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(alert_of_row(row)?);
        }
        Ok(out)
    }

    fn set_alert_state(
        &mut self,
        ids: &[i64],
        state: AlertState,
        audit: &AuditEntry,
    ) -> Result<usize, StoreError> {
        let tx = crate::write_transaction(&mut self.conn)?;
        let mut changed = 0;
        for &id in ids {
            let n = tx.execute(
                "UPDATE alerts SET state = ?2, state_by = ?3, state_at = ?4
                 WHERE id = ?1 AND state <> ?2",
                params![id, state.as_str(), audit.actor, audit.at.0],
            )?;
            if n > 0 {
                changed += n;
                let entry = greenwatch_store::audit::alert_state_changed(id, state, audit);
                crate::accounts::append_audit(&tx, &entry)?;
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    fn undelivered(&self, viewer: &Viewer, channel: &str) -> Result<Vec<Alert>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT alert_id FROM alert_deliveries WHERE channel = ?1 AND delivered_at IS NOT NULL",
        )?;
        let delivered: std::collections::HashSet<i64> = stmt
            .query_map([channel], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut alerts = self.visible_alerts(viewer, usize::MAX, |id| !delivered.contains(&id))?;
        alerts.reverse();
        Ok(alerts)
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
        self.conn.execute(
            "INSERT INTO alert_deliveries (alert_id, channel, attempts, delivered_at, last_error)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (alert_id, channel) DO UPDATE SET attempts = attempts + excluded.attempts,
                 delivered_at = excluded.delivered_at, last_error = excluded.last_error",
            params![alert_id, channel, delivery.attempts, delivered_at, error],
        )?;
        Ok(())
    }

    fn failed_deliveries(&self, channel: &str) -> Result<Vec<FailedDelivery>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT alert_id, attempts, coalesce(last_error, '') FROM alert_deliveries
             WHERE channel = ?1 AND delivered_at IS NULL ORDER BY alert_id",
        )?;
        let failed = stmt
            .query_map([channel], |r| {
                Ok(FailedDelivery {
                    alert_id: r.get(0)?,
                    attempts: r.get(1)?,
                    last_error: r.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(failed)
    }

    fn subscribe(&mut self, new: &NewSubscription) -> Result<Subscription, StoreError> {
        let (target, secret) = match &new.channel {
            SubscriptionChannel::Webhook { url, secret } => (url.clone(), Some(secret.as_str())),
            SubscriptionChannel::Email { to } => (to.join(","), None),
        };
        let tx = crate::write_transaction(&mut self.conn)?;
        let org_exists: Option<i64> = tx
            .query_row("SELECT 1 FROM orgs WHERE slug = ?1", [&new.org], |r| {
                r.get(0)
            })
            .optional()?;
        if org_exists.is_none() {
            return Err(StoreError::Conflict(format!(
                "no organisation {:?} to subscribe",
                new.org
            )));
        }
        let after_alert: i64 =
            tx.query_row("SELECT coalesce(max(id), 0) FROM alerts", [], |r| r.get(0))?;
        tx.execute(
            "INSERT INTO alert_subscriptions
                 (org, kind, target, secret, min_severity, after_alert, created_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                new.org,
                new.channel.kind(),
                target,
                secret,
                new.min_severity.as_str(),
                after_alert,
                new.created_by,
                new.created_at.0
            ],
        )?;
        let id = tx.last_insert_rowid();
        crate::accounts::append_audit(&tx, &greenwatch_store::audit::subscribed(id, new))?;
        tx.commit()?;
        Ok(Subscription {
            id,
            after_alert,
            subscription: new.clone(),
        })
    }

    fn subscriptions(&self, org: Option<&str>) -> Result<Vec<Subscription>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, org, kind, target, secret, min_severity, after_alert, created_by,
                    created_at
             FROM alert_subscriptions WHERE ?1 IS NULL OR org = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([org])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(subscription_from_row(row)?);
        }
        Ok(out)
    }

    fn unsubscribe(
        &mut self,
        id: i64,
        org: Option<&str>,
        actor: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let tx = crate::write_transaction(&mut self.conn)?;
        let removed = tx.execute(
            "DELETE FROM alert_subscriptions WHERE id = ?1 AND (?2 IS NULL OR org = ?2)",
            params![id, org],
        )?;
        if removed > 0 {
            crate::accounts::append_audit(
                &tx,
                &greenwatch_store::audit::unsubscribed(id, actor, at),
            )?;
        }
        tx.commit()?;
        Ok(removed > 0)
    }
}
