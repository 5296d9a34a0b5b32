//! Registered sensors, their latest health and the collector's refusal counts in the
//! embedded store.

use crate::accounts::append_org_audit;
use crate::SqliteStore;
use greenwatch_model::sensor::{Sensor, SensorHealth, SensorRef};
use greenwatch_model::Timestamp;
use greenwatch_store::audit;
use greenwatch_store::StoreError;
use greenwatch_store::{NewSensor, RejectionCount, SensorStore};
use rusqlite::{params, OptionalExtension, Row};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sensors (
    org TEXT NOT NULL REFERENCES orgs(slug),
    name TEXT NOT NULL,
    address_block TEXT NOT NULL,
    location TEXT NOT NULL,
    tlp TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    last_seen INTEGER,
    health TEXT,
    PRIMARY KEY (org, name)
);
CREATE TABLE IF NOT EXISTS sensor_rejections (
    sensor TEXT NOT NULL,
    reason TEXT NOT NULL,
    count INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    PRIMARY KEY (sensor, reason)
);
";

/// Stores made while sensor names were unique across organisations keyed `sensors` by name
/// alone; names are per organisation now (one organisation's name must not tell another that
/// a hidden sensor exists), so the table is rebuilt with its (org, name) key.
pub(super) fn migrate(conn: &rusqlite::Connection) -> Result<(), StoreError> {
    let sql: Option<String> = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sensors'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if sql.is_some_and(|sql| sql.contains("name TEXT PRIMARY KEY")) {
        conn.execute_batch(
            "BEGIN;
             ALTER TABLE sensors RENAME TO sensors_by_name;",
        )?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(
            "INSERT INTO sensors (org, name, address_block, location, tlp, token_hash,
                                  created_at, revoked_at, last_seen, health)
             SELECT org, name, address_block, location, tlp, token_hash,
                    created_at, revoked_at, last_seen, health FROM sensors_by_name;
             DROP TABLE sensors_by_name;
             COMMIT;",
        )?;
    }
    Ok(())
}

/// `sensor_rejections.sensor` for requests that named no sensor (a primary key column
/// cannot hold NULL usefully).
const UNKNOWN_SENSOR: &str = "";

fn conversion_error(e: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
}

fn sensor_from_row(row: &Row<'_>) -> rusqlite::Result<Sensor> {
    let block: String = row.get("address_block")?;
    let tlp: String = row.get("tlp")?;
    let health: Option<String> = row.get("health")?;
    Ok(Sensor {
        name: row.get("name")?,
        org: row.get("org")?,
        address_block: block.parse().map_err(conversion_error)?,
        location: row.get("location")?,
        tlp: tlp.parse().map_err(conversion_error)?,
        created_at: Timestamp(row.get("created_at")?),
        revoked_at: row.get::<_, Option<i64>>("revoked_at")?.map(Timestamp),
        last_seen: row.get::<_, Option<i64>>("last_seen")?.map(Timestamp),
        health: health
            .map(|h| serde_json::from_str::<SensorHealth>(&h))
            .transpose()
            .map_err(|e| conversion_error(format!("sensor health: {e}")))?,
    })
}

impl SensorStore for SqliteStore {
    fn register_sensor(
        &mut self,
        s: &NewSensor,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let tx = crate::write_transaction(&mut self.conn)?;
        let org_exists: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM orgs WHERE slug = ?1)",
            [&s.org],
            |r| r.get(0),
        )?;
        if !org_exists {
            return Err(StoreError::Conflict(format!("no organisation {:?}", s.org)));
        }
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO sensors (name, org, address_block, location, tlp, token_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                s.name,
                s.org,
                s.address_block.to_string(),
                s.location,
                s.tlp.as_str(),
                s.token_hash,
                now.0
            ],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "{} already has a sensor named {:?}",
                s.org, s.name
            )));
        }
        // Filed under the sensor's organisation, whoever registered it.
        append_org_audit(&tx, &audit::sensor_registered(s, actor, now), Some(&s.org))?;
        tx.commit()?;
        Ok(())
    }

    fn sensors(&self) -> Result<Vec<Sensor>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT * FROM sensors ORDER BY name, org")?;
        let rows = stmt.query_map([], sensor_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn sensor(&self, sensor: &SensorRef) -> Result<Option<Sensor>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT * FROM sensors WHERE org = ?1 AND name = ?2",
                [&sensor.org, &sensor.name],
                sensor_from_row,
            )
            .optional()?)
    }

    fn sensor_by_token(&self, token_hash: &str) -> Result<Option<Sensor>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT * FROM sensors WHERE token_hash = ?1",
                [token_hash],
                sensor_from_row,
            )
            .optional()?)
    }

    fn revoke_sensor(
        &mut self,
        sensor: &SensorRef,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let tx = crate::write_transaction(&mut self.conn)?;
        let changed = tx.execute(
            "UPDATE sensors SET revoked_at = ?3
             WHERE org = ?1 AND name = ?2 AND revoked_at IS NULL",
            params![sensor.org, sensor.name, now.0],
        )?;
        if changed == 0 {
            return Err(StoreError::Conflict(format!(
                "no sensor {sensor} with a live token"
            )));
        }
        append_org_audit(
            &tx,
            &audit::sensor_revoked(sensor, actor, now),
            Some(&sensor.org),
        )?;
        tx.commit()?;
        Ok(())
    }

    fn record_sensor_health(
        &mut self,
        sensor: &SensorRef,
        health: &SensorHealth,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let health = serde_json::to_string(health).expect("health serialises");
        self.conn.execute(
            "UPDATE sensors SET last_seen = ?3, health = ?4 WHERE org = ?1 AND name = ?2",
            params![sensor.org, sensor.name, now.0, health],
        )?;
        Ok(())
    }

    fn count_rejection(
        &mut self,
        sensor: Option<&SensorRef>,
        reason: &str,
        error: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let sensor = sensor.map(SensorRef::to_string);
        self.conn.execute(
            "INSERT INTO sensor_rejections (sensor, reason, count, last_at, last_error)
             VALUES (?1, ?2, 1, ?3, ?4)
             ON CONFLICT (sensor, reason) DO UPDATE SET
                 count = count + 1, last_at = excluded.last_at, last_error = excluded.last_error",
            params![
                sensor.as_deref().unwrap_or(UNKNOWN_SENSOR),
                reason,
                now.0,
                error
            ],
        )?;
        Ok(())
    }

    fn rejections(&self) -> Result<Vec<RejectionCount>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT sensor, reason, count, last_at, last_error FROM sensor_rejections
             ORDER BY sensor, reason",
        )?;
        let rows = stmt.query_map([], |r| {
            let sensor: String = r.get(0)?;
            Ok(RejectionCount {
                sensor: (sensor != UNKNOWN_SENSOR).then_some(sensor),
                reason: r.get(1)?,
                count: r.get::<_, i64>(2)? as u64,
                last_at: Timestamp(r.get(3)?),
                last_error: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_made_when_sensor_names_were_unique_keys_them_by_organisation() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.sqlite");
        {
            let conn = rusqlite::Connection::open(&old).unwrap();
            conn.execute_batch(
                "CREATE TABLE orgs (slug TEXT PRIMARY KEY);
                 INSERT INTO orgs VALUES ('cert-jp');
                 CREATE TABLE sensors (name TEXT PRIMARY KEY, org TEXT NOT NULL REFERENCES orgs(slug),
                     address_block TEXT NOT NULL, location TEXT NOT NULL, tlp TEXT NOT NULL,
                     token_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL,
                     revoked_at INTEGER, last_seen INTEGER, health TEXT);
                 INSERT INTO sensors (name, org, address_block, location, tlp, token_hash, created_at)
                     VALUES ('tokyo-1', 'cert-jp', '198.51.100.0/24', 'Tokyo', 'GREEN', 'h', 1);",
            )
            .unwrap();
        }
        migrate(&rusqlite::Connection::open(&old).unwrap()).unwrap();
        let conn = rusqlite::Connection::open(&old).unwrap();
        let sql: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'sensors'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(sql.contains("PRIMARY KEY (org, name)"), "{sql}");
        let kept: (String, String) = conn
            .query_row("SELECT org, name FROM sensors", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(kept, ("cert-jp".into(), "tokyo-1".into()));
    }
}
