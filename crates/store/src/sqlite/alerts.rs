//! Alerts in the embedded store: the alert as JSON beside the columns it is filtered and
//! sorted by, and one row per (alert, delivery channel) recording what was delivered.

use super::SqliteStore;
use crate::{AlertStore, Delivery, StoreError};
use greenwatch_model::access::{Label, Viewer};
use greenwatch_model::account::AuditEntry;
use greenwatch_model::alert::{Alert, NewAlert};
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
        let tx = self.conn.transaction()?;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccountStore;
    use greenwatch_model::access::Tlp;
    use greenwatch_model::alert::Severity;
    use greenwatch_model::Timestamp;

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
}
