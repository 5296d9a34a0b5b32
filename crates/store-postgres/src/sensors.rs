//! Registered sensors, their latest health and the collector's refusal counts on PostgreSQL.

use crate::accounts::{append_org_audit, org_exists};
use crate::{pg, PostgresStore};
use greenwatch_model::sensor::{Sensor, SensorHealth, SensorRef};
use greenwatch_model::Timestamp;
use greenwatch_store::audit;
use greenwatch_store::StoreError;
use greenwatch_store::{NewSensor, RejectionCount, SensorStore};
use postgres::Row;

pub(crate) const SCHEMA: &str = "
CREATE TABLE sensors (
    org TEXT NOT NULL REFERENCES orgs(slug),
    name TEXT NOT NULL,
    address_block TEXT NOT NULL,
    location TEXT NOT NULL,
    tlp TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_seen BIGINT,
    health TEXT,
    PRIMARY KEY (org, name)
);
CREATE TABLE sensor_rejections (
    sensor TEXT NOT NULL,
    reason TEXT NOT NULL,
    count BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    last_error TEXT NOT NULL,
    PRIMARY KEY (sensor, reason)
);
";

/// `sensor_rejections.sensor` for requests that named no sensor (a primary key column
/// cannot hold NULL).
const UNKNOWN_SENSOR: &str = "";

const SENSOR_COLUMNS: &str = "org, name, address_block, location, tlp, token_hash, created_at, \
                              revoked_at, last_seen, health";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn sensor_from_row(row: &Row) -> Result<Sensor, StoreError> {
    let name: String = row.try_get("name").map_err(pg)?;
    let block: String = row.try_get("address_block").map_err(pg)?;
    let tlp: String = row.try_get("tlp").map_err(pg)?;
    let health: Option<String> = row.try_get("health").map_err(pg)?;
    Ok(Sensor {
        org: row.try_get("org").map_err(pg)?,
        address_block: block
            .parse()
            .map_err(|e| corrupt(&format!("address block of sensor {name}"), e))?,
        location: row.try_get("location").map_err(pg)?,
        tlp: tlp
            .parse()
            .map_err(|e| corrupt(&format!("tlp of sensor {name}"), e))?,
        created_at: Timestamp(row.try_get("created_at").map_err(pg)?),
        revoked_at: row
            .try_get::<_, Option<i64>>("revoked_at")
            .map_err(pg)?
            .map(Timestamp),
        last_seen: row
            .try_get::<_, Option<i64>>("last_seen")
            .map_err(pg)?
            .map(Timestamp),
        health: health
            .map(|h| serde_json::from_str::<SensorHealth>(&h))
            .transpose()
            .map_err(|e| corrupt(&format!("health of sensor {name}"), e))?,
        name,
    })
}

impl SensorStore for PostgresStore {
    fn register_sensor(
        &mut self,
        s: &NewSensor,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.client_mut()?.transaction().map_err(pg)?;
        if !org_exists(&mut tx, &s.org)? {
            return Err(StoreError::Conflict(format!("no organisation {:?}", s.org)));
        }
        let inserted = tx
            .execute(
                "INSERT INTO sensors (name, org, address_block, location, tlp, token_hash, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT DO NOTHING",
                &[
                    &s.name,
                    &s.org,
                    &s.address_block.to_string(),
                    &s.location,
                    &s.tlp.as_str(),
                    &s.token_hash,
                    &now.0,
                ],
            )
            .map_err(pg)?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "{} already has a sensor named {:?}",
                s.org, s.name
            )));
        }
        // Filed under the sensor's organisation, whoever registered it.
        append_org_audit(
            &mut tx,
            &audit::sensor_registered(s, actor, now),
            Some(&s.org),
        )?;
        tx.commit().map_err(pg)
    }

    fn sensors(&self) -> Result<Vec<Sensor>, StoreError> {
        self.client()?
            .query(
                &format!(
                    "SELECT {SENSOR_COLUMNS} FROM sensors
                     ORDER BY name COLLATE \"C\", org COLLATE \"C\""
                ),
                &[],
            )
            .map_err(pg)?
            .iter()
            .map(sensor_from_row)
            .collect()
    }

    fn sensor(&self, sensor: &SensorRef) -> Result<Option<Sensor>, StoreError> {
        self.client()?
            .query_opt(
                &format!("SELECT {SENSOR_COLUMNS} FROM sensors WHERE org = $1 AND name = $2"),
                &[&sensor.org, &sensor.name],
            )
            .map_err(pg)?
            .as_ref()
            .map(sensor_from_row)
            .transpose()
    }

    fn sensor_by_token(&self, token_hash: &str) -> Result<Option<Sensor>, StoreError> {
        self.client()?
            .query_opt(
                &format!("SELECT {SENSOR_COLUMNS} FROM sensors WHERE token_hash = $1"),
                &[&token_hash],
            )
            .map_err(pg)?
            .as_ref()
            .map(sensor_from_row)
            .transpose()
    }

    fn revoke_sensor(
        &mut self,
        sensor: &SensorRef,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.client_mut()?.transaction().map_err(pg)?;
        let changed = tx
            .execute(
                "UPDATE sensors SET revoked_at = $3
                 WHERE org = $1 AND name = $2 AND revoked_at IS NULL",
                &[&sensor.org, &sensor.name, &now.0],
            )
            .map_err(pg)?;
        if changed == 0 {
            return Err(StoreError::Conflict(format!(
                "no sensor {sensor} with a live token"
            )));
        }
        append_org_audit(
            &mut tx,
            &audit::sensor_revoked(sensor, actor, now),
            Some(&sensor.org),
        )?;
        tx.commit().map_err(pg)
    }

    fn record_sensor_health(
        &mut self,
        sensor: &SensorRef,
        health: &SensorHealth,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let health = serde_json::to_string(health).expect("health serialises");
        self.client_mut()?
            .execute(
                "UPDATE sensors SET last_seen = $3, health = $4 WHERE org = $1 AND name = $2",
                &[&sensor.org, &sensor.name, &now.0, &health],
            )
            .map_err(pg)?;
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
        self.client_mut()?
            .execute(
                "INSERT INTO sensor_rejections (sensor, reason, count, last_at, last_error)
                 VALUES ($1, $2, 1, $3, $4)
                 ON CONFLICT (sensor, reason) DO UPDATE SET
                     count = sensor_rejections.count + 1,
                     last_at = EXCLUDED.last_at,
                     last_error = EXCLUDED.last_error",
                &[
                    &sensor.as_deref().unwrap_or(UNKNOWN_SENSOR),
                    &reason,
                    &now.0,
                    &error,
                ],
            )
            .map_err(pg)?;
        Ok(())
    }

    fn rejections(&self) -> Result<Vec<RejectionCount>, StoreError> {
        let rows = self
            .client()?
            .query(
                "SELECT sensor, reason, count, last_at, last_error FROM sensor_rejections
                 ORDER BY sensor COLLATE \"C\", reason COLLATE \"C\"",
                &[],
            )
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| {
                let sensor: String = r.get(0);
                RejectionCount {
                    sensor: (sensor != UNKNOWN_SENSOR).then_some(sensor),
                    reason: r.get(1),
                    count: r.get::<_, i64>(2) as u64,
                    last_at: Timestamp(r.get(3)),
                    last_error: r.get(4),
                }
            })
            .collect())
    }
}
