//! Registered sensors, their latest health and the collector's refusal counts in the
//! embedded store.

use super::accounts::{append_audit, entry};
use super::SqliteStore;
use crate::sensors::{NewSensor, RejectionCount, SensorStore};
use crate::StoreError;
use greenwatch_model::sensor::{Sensor, SensorHealth};
use greenwatch_model::Timestamp;
use rusqlite::{params, OptionalExtension, Row};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sensors (
    name TEXT PRIMARY KEY,
    org TEXT NOT NULL REFERENCES orgs(slug),
    address_block TEXT NOT NULL,
    location TEXT NOT NULL,
    tlp TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    last_seen INTEGER,
    health TEXT
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
        let tx = self.conn.transaction()?;
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
                "a sensor named {:?} already exists",
                s.name
            )));
        }
        append_audit(
            &tx,
            &entry(
                now,
                actor,
                "sensor.register",
                &s.name,
                format!("org {} block {} tlp {}", s.org, s.address_block, s.tlp),
            ),
        )?;
        tx.commit()?;
        Ok(())
    }

    fn sensors(&self) -> Result<Vec<Sensor>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT * FROM sensors ORDER BY name")?;
        let rows = stmt.query_map([], sensor_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn sensor(&self, name: &str) -> Result<Option<Sensor>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT * FROM sensors WHERE name = ?1",
                [name],
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

    fn revoke_sensor(&mut self, name: &str, actor: &str, now: Timestamp) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let changed = tx.execute(
            "UPDATE sensors SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
            params![name, now.0],
        )?;
        if changed == 0 {
            return Err(StoreError::Conflict(format!(
                "no sensor {name:?} with a live token"
            )));
        }
        append_audit(
            &tx,
            &entry(now, actor, "sensor.revoke", name, String::new()),
        )?;
        tx.commit()?;
        Ok(())
    }

    fn record_sensor_health(
        &mut self,
        name: &str,
        health: &SensorHealth,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let health = serde_json::to_string(health).expect("health serialises");
        self.conn.execute(
            "UPDATE sensors SET last_seen = ?2, health = ?3 WHERE name = ?1",
            params![name, now.0, health],
        )?;
        Ok(())
    }

    fn count_rejection(
        &mut self,
        sensor: Option<&str>,
        reason: &str,
        error: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO sensor_rejections (sensor, reason, count, last_at, last_error)
             VALUES (?1, ?2, 1, ?3, ?4)
             ON CONFLICT (sensor, reason) DO UPDATE SET
                 count = count + 1, last_at = excluded.last_at, last_error = excluded.last_error",
            params![sensor.unwrap_or(UNKNOWN_SENSOR), reason, now.0, error],
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
    use crate::AccountStore;
    use greenwatch_model::access::Tlp;
    use greenwatch_model::account::Organisation;

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("s.sqlite")).unwrap();
        let org = Organisation {
            slug: "cert-jp".into(),
            name: "JPCERT/CC".into(),
            created_at: Timestamp(0),
        };
        store.create_org(&org, "test").unwrap();
        (dir, store)
    }

    fn new_sensor(name: &str, token_hash: &str) -> NewSensor {
        NewSensor {
            name: name.into(),
            org: "cert-jp".into(),
            address_block: "198.51.100.0/24".parse().unwrap(),
            location: "Tokyo".into(),
            tlp: Tlp::Green,
            token_hash: token_hash.into(),
        }
    }

    #[test]
    fn sensors_register_once_are_found_by_token_hash_and_revocation_is_audited() {
        let (_dir, mut store) = store();
        store
            .register_sensor(&new_sensor("tokyo-1", "h1"), "admin", Timestamp(5))
            .unwrap();
        let taken = store.register_sensor(&new_sensor("tokyo-1", "h2"), "admin", Timestamp(6));
        assert!(matches!(taken, Err(StoreError::Conflict(_))));
        let mut unknown_org = new_sensor("x", "h3");
        unknown_org.org = "nobody".into();
        assert!(store
            .register_sensor(&unknown_org, "admin", Timestamp(6))
            .is_err());

        let found = store.sensor_by_token("h1").unwrap().unwrap();
        assert_eq!(found.name, "tokyo-1");
        assert_eq!(found.address_block.to_string(), "198.51.100.0/24");
        assert_eq!(found.revoked_at, None);
        assert!(store.sensor_by_token("h2").unwrap().is_none());

        store
            .revoke_sensor("tokyo-1", "admin", Timestamp(9))
            .unwrap();
        assert_eq!(
            store.sensor("tokyo-1").unwrap().unwrap().revoked_at,
            Some(Timestamp(9))
        );
        assert!(store
            .revoke_sensor("tokyo-1", "admin", Timestamp(10))
            .is_err());
        let actions: Vec<String> = store
            .audit_log(10)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(actions, ["sensor.revoke", "sensor.register", "org.create"]);
    }

    #[test]
    fn health_is_the_latest_report_and_rejections_are_counted_per_reason() {
        let (_dir, mut store) = store();
        store
            .register_sensor(&new_sensor("tokyo-1", "h1"), "admin", Timestamp(5))
            .unwrap();
        for packets in [10, 20] {
            let health = SensorHealth {
                packets_seen: packets,
                ..SensorHealth::default()
            };
            store
                .record_sensor_health("tokyo-1", &health, Timestamp(packets as i64))
                .unwrap();
        }
        let sensor = store.sensor("tokyo-1").unwrap().unwrap();
        assert_eq!(sensor.health.unwrap().packets_seen, 20);
        assert_eq!(sensor.last_seen, Some(Timestamp(20)));

        store
            .count_rejection(None, "bad_token", "unknown token", Timestamp(1))
            .unwrap();
        store
            .count_rejection(None, "bad_token", "unknown token again", Timestamp(2))
            .unwrap();
        store
            .count_rejection(Some("tokyo-1"), "malformed", "bad magic", Timestamp(3))
            .unwrap();
        let counts = store.rejections().unwrap();
        assert_eq!(counts.len(), 2);
        assert_eq!(counts[0].sensor, None);
        assert_eq!(counts[0].count, 2);
        assert_eq!(counts[0].last_error, "unknown token again");
        assert_eq!(counts[1].sensor.as_deref(), Some("tokyo-1"));
        assert_eq!(counts[1].reason, "malformed");
    }
}
