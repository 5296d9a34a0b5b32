//! The storage interface for the sensor network: registered sensors (token by hash), the
//! health they report, and the batches the collector refused. The batches it accepts are
//! captures of the [`ObservationStore`](crate::ObservationStore).

use crate::StoreError;
use greenwatch_model::access::Tlp;
use greenwatch_model::sensor::{AddressBlock, Sensor, SensorHealth, SensorRef};
use greenwatch_model::Timestamp;
use serde::Serialize;

/// A sensor being registered.
#[derive(Clone, Debug)]
pub struct NewSensor {
    pub name: String,
    pub org: String,
    pub address_block: AddressBlock,
    pub location: String,
    pub tlp: Tlp,
    /// `greenwatch_auth::secret_hash` of its token; the token itself is never stored.
    pub token_hash: String,
}

/// How often the collector refused something for one reason (and sensor, when known).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RejectionCount {
    /// The sensor as `org/name`; `None` when the request did not authenticate as any sensor.
    pub sensor: Option<String>,
    /// A stable key such as `bad_token`, `revoked_token`, `malformed`, `oversized`.
    pub reason: String,
    pub count: u64,
    pub last_at: Timestamp,
    /// The last refusal's message.
    pub last_error: String,
}

pub trait SensorStore {
    /// Registers a sensor of an existing organisation; a name its organisation already uses
    /// is a conflict (names are per organisation: another organisation's sensor of the same
    /// name is no conflict, so the answer never tells of a sensor the caller cannot see).
    /// Audited.
    fn register_sensor(
        &mut self,
        sensor: &NewSensor,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Every sensor, by name, then organisation.
    fn sensors(&self) -> Result<Vec<Sensor>, StoreError>;

    fn sensor(&self, sensor: &SensorRef) -> Result<Option<Sensor>, StoreError>;

    /// The sensor whose token has this hash, revoked or not (the caller tells which).
    fn sensor_by_token(&self, token_hash: &str) -> Result<Option<Sensor>, StoreError>;

    /// Revokes the sensor's token: it can ship nothing more. Its data stays. Audited.
    fn revoke_sensor(
        &mut self,
        sensor: &SensorRef,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Records an accepted batch's health report as the sensor's latest.
    fn record_sensor_health(
        &mut self,
        sensor: &SensorRef,
        health: &SensorHealth,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Counts one refused request.
    fn count_rejection(
        &mut self,
        sensor: Option<&SensorRef>,
        reason: &str,
        error: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Every refusal count, by sensor and reason.
    fn rejections(&self) -> Result<Vec<RejectionCount>, StoreError>;
}
