//! Alerts in the embedded store: the alert as JSON beside the columns it is filtered and
//! sorted by, and one row per (alert, delivery channel) recording what was delivered.

use super::SqliteStore;
use crate::{AlertStore, Delivery, FailedDelivery, StoreError};
use greenwatch_model::access::{Label, Viewer};
use greenwatch_model::account::AuditEntry;
use greenwatch_model::alert::{
    Alert, NewAlert, NewSubscription, Subscription, SubscriptionChannel,
};
use greenwatch_model::Timestamp;
use rusqlite::{params, OptionalExtension};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY,
    key TEXT UNIQUE,
    owner TEXT NOT NULL,
    tlp TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    body TEXT NOT NULL
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

fn alert_from_row(id: i64, body: &str) -> Result<Alert, StoreError> {
    let alert: NewAlert =
        serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("alert {id}: {e}")))?;
    Ok(Alert { id, alert })
}

impl SqliteStore {
    /// Every alert whose label `viewer` may see, newest first, passing `keep`.
    fn visible_alerts(
        &self,
        viewer: &Viewer,
        limit: usize,
        keep: impl Fn(i64) -> bool,
    ) -> Result<Vec<Alert>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, owner, tlp, body FROM alerts ORDER BY first_seen DESC, id DESC",
        )?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            if out.len() == limit {
                break;
            }
            if !keep(id) || !viewer.can_see(&super::label_from_row(row)?) {
                continue;
            }
            out.push(alert_from_row(
                id,
                row.get_ref(3)?.as_str().map_err(rusqlite::Error::from)?,
            )?);
        }
        Ok(out)
    }
}

/// Inserts an alert row (in the caller's transaction, if any); returns its id.
fn insert_alert(conn: &rusqlite::Connection, alert: &NewAlert) -> Result<i64, StoreError> {
    let body = serde_json::to_string(alert).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let Label { owner, tlp } = &alert.label;
    conn.execute(
        "INSERT INTO alerts (key, owner, tlp, first_seen, body) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![alert.key, owner, tlp.as_str(), alert.first_seen.0, body],
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
        if let Some(key) = &alert.key {
            let existing: Option<i64> = self
                .conn
                .query_row("SELECT id FROM alerts WHERE key = ?1", [key], |r| r.get(0))
                .optional()?;
            if let Some(id) = existing {
                return Ok((id, false));
            }
        }
        Ok((insert_alert(&self.conn, alert)?, true))
    }

    fn write_alert(&mut self, alert: &NewAlert, audit: &AuditEntry) -> Result<i64, StoreError> {
        let tx = super::write_transaction(&mut self.conn)?;
        let id = insert_alert(&tx, alert)?;
        let entry = AuditEntry {
            target: id.to_string(),
            ..audit.clone()
        };
        super::accounts::append_audit(&tx, &entry)?;
        tx.commit()?;
        Ok(id)
    }

    fn alerts(&self, viewer: &Viewer, limit: usize) -> Result<Vec<Alert>, StoreError> {
        self.visible_alerts(viewer, limit, |_| true)
    }

    fn alert(&self, viewer: &Viewer, id: i64) -> Result<Option<Alert>, StoreError> {
        Ok(self.visible_alerts(viewer, 1, |i| i == id)?.pop())
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
        let tx = super::write_transaction(&mut self.conn)?;
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
        super::accounts::append_audit(
            &tx,
            &AuditEntry {
                at: new.created_at,
                actor: new.created_by.clone(),
                action: "alert.subscribe".into(),
                target: id.to_string(),
                detail: format!(
                    "{} {} {} from {}",
                    new.org,
                    new.channel.kind(),
                    new.channel.target(),
                    new.min_severity
                ),
            },
        )?;
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
        let tx = super::write_transaction(&mut self.conn)?;
        let removed = tx.execute(
            "DELETE FROM alert_subscriptions WHERE id = ?1 AND (?2 IS NULL OR org = ?2)",
            params![id, org],
        )?;
        if removed > 0 {
            super::accounts::append_audit(
                &tx,
                &AuditEntry {
                    at,
                    actor: actor.to_string(),
                    action: "alert.unsubscribe".into(),
                    target: id.to_string(),
                    detail: String::new(),
                },
            )?;
        }
        tx.commit()?;
        Ok(removed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccountStore;
    use greenwatch_model::access::Tlp;
    use greenwatch_model::alert::Severity;
    use greenwatch_model::Timestamp;

    /// A detector alert of cert-a keyed by its title, seen at `at`.
    fn detector_alert(title: &str, tlp: Tlp, at: Timestamp) -> NewAlert {
        NewAlert {
            key: Some(title.into()),
            severity: Severity::High,
            title: title.into(),
            summary: String::new(),
            affected: Vec::new(),
            first_seen: at,
            last_seen: at,
            author: "detector".into(),
            label: Label {
                owner: "cert-a".into(),
                tlp,
            },
            evidence: None,
            created_at: at,
        }
    }

    #[test]
    fn a_written_alert_and_its_audit_entry_are_stored_together() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("s.sqlite")).unwrap();
        let alert = NewAlert {
            key: None,
            severity: Severity::High,
            title: "Telnet scans from a new botnet".into(),
            summary: "written by hand".into(),
            affected: Vec::new(),
            first_seen: Timestamp::from_secs(1_791_158_400),
            last_seen: Timestamp::from_secs(1_791_158_400),
            author: "ana@cert-a".into(),
            label: Label {
                owner: "cert-a".into(),
                tlp: Tlp::Amber,
            },
            evidence: None,
            created_at: Timestamp::from_secs(1_791_158_400),
        };
        let audit = AuditEntry {
            at: alert.created_at,
            actor: alert.author.clone(),
            action: "alert.create".into(),
            target: String::new(),
            detail: alert.title.clone(),
        };
        let id = store.write_alert(&alert, &audit).unwrap();
        let owner = Viewer::User {
            org: "cert-a".into(),
            role: greenwatch_model::access::Role::Analyst,
        };
        assert_eq!(
            store.alert(&owner, id).unwrap().unwrap().alert.title,
            alert.title
        );
        assert!(store.alert(&Viewer::Anonymous, id).unwrap().is_none());
        let logged = &store.audit_log(1).unwrap()[0];
        assert_eq!(
            (logged.action.as_str(), logged.target.clone()),
            ("alert.create", id.to_string())
        );
    }

    #[test]
    fn failed_deliveries_add_up_their_attempts_until_one_succeeds() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("s.sqlite")).unwrap();
        let at = Timestamp::from_secs(1_791_158_400);
        let alert = |title: &str| detector_alert(title, Tlp::Clear, at);
        let (first, _) = store.raise_alert(&alert("first")).unwrap();
        let (second, _) = store.raise_alert(&alert("second")).unwrap();
        let failed = |attempts, error: &str| Delivery {
            attempts,
            outcome: Err(error.into()),
        };
        store
            .record_delivery(first, "subscription:1", &failed(3, "HTTP 500"))
            .unwrap();
        store
            .record_delivery(first, "subscription:1", &failed(2, "timed out"))
            .unwrap();
        store
            .record_delivery(second, "subscription:1", &failed(1, "HTTP 502"))
            .unwrap();
        store
            .record_delivery(second, "subscription:2", &failed(1, "refused"))
            .unwrap();
        assert_eq!(
            store.failed_deliveries("subscription:1").unwrap(),
            [
                FailedDelivery {
                    alert_id: first,
                    attempts: 5,
                    last_error: "timed out".into()
                },
                FailedDelivery {
                    alert_id: second,
                    attempts: 1,
                    last_error: "HTTP 502".into()
                }
            ]
        );
        let delivered = Delivery {
            attempts: 1,
            outcome: Ok(at),
        };
        store
            .record_delivery(first, "subscription:1", &delivered)
            .unwrap();
        let left: Vec<i64> = store
            .failed_deliveries("subscription:1")
            .unwrap()
            .iter()
            .map(|f| f.alert_id)
            .collect();
        assert_eq!(left, [second]);
    }

    #[test]
    fn a_subscription_gets_later_alerts_only_and_is_audited_without_its_secret() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("s.sqlite")).unwrap();
        let at = Timestamp::from_secs(1_791_158_400);
        let org = greenwatch_model::account::Organisation {
            slug: "cert-a".into(),
            name: "CERT A".into(),
            created_at: at,
        };
        store.create_org(&org, "cli").unwrap();
        let alert = |title: &str| detector_alert(title, Tlp::Amber, at);
        let (before, _) = store.raise_alert(&alert("before")).unwrap();
        let new = NewSubscription {
            org: "cert-a".into(),
            channel: SubscriptionChannel::Webhook {
                url: "https://soc.example.org/hook".into(),
                secret: "s3cret-value".into(),
            },
            min_severity: Severity::Medium,
            created_by: "ana".into(),
            created_at: at,
        };
        let made = store.subscribe(&new).unwrap();
        assert_eq!(made.after_alert, before);
        let (after, _) = store.raise_alert(&alert("after")).unwrap();
        let stored = store.subscriptions(Some("cert-a")).unwrap();
        assert_eq!(stored, vec![made.clone()]);
        let wanted: Vec<i64> = store
            .alerts(&Viewer::Local, 10)
            .unwrap()
            .iter()
            .filter(|a| made.wants(a))
            .map(|a| a.id)
            .collect();
        assert_eq!(wanted, [after]);
        assert!(store.subscriptions(Some("cert-b")).unwrap().is_empty());
        let logged = &store.audit_log(1).unwrap()[0];
        assert_eq!(logged.action, "alert.subscribe");
        assert!(!format!("{logged:?}").contains("s3cret"));

        assert!(matches!(
            store.subscribe(&NewSubscription {
                org: "nobody".into(),
                ..new
            }),
            Err(StoreError::Conflict(_))
        ));
        assert!(!store
            .unsubscribe(made.id, Some("cert-b"), "bob", at)
            .unwrap());
        assert!(store
            .unsubscribe(made.id, Some("cert-a"), "ana", at)
            .unwrap());
        assert!(store.subscriptions(None).unwrap().is_empty());
        assert_eq!(store.audit_log(1).unwrap()[0].action, "alert.unsubscribe");
    }
}
