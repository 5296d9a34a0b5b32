//! Registering a sensor: the one check every way in (the portal's form and API, the CLI)
//! applies before a sensor is stored.

use greenwatch_model::sensor::Sensor;
use greenwatch_model::Timestamp;
use greenwatch_store::{AccountStore, NewSensor, SensorStore, StoreError};

/// Sensors one organisation may register through the portal (the operator's CLI is not
/// bounded): every sensor is a token, a row on every sensor page and comparison.
pub const SENSORS_PER_ORGANISATION: usize = 256;

/// Whether whoever registers may put a sensor on a block outside the organisation's
/// constituency: the operator may (`sensor add --outside-constituency`, an admin of the
/// `operator` organisation in the portal); an organisation's own members may not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutsideConstituency {
    Allowed,
    Refused,
}

/// Why a sensor was not registered.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// A malformed or reserved name, a name the organisation has already, too many sensors.
    #[error("{0}")]
    Refused(String),
    /// The block lies outside the organisation's constituency and the registrar may not
    /// register it there; the reason names the block, the organisation and its networks.
    #[error("{0}")]
    OutsideConstituency(String),
    #[error(transparent)]
    Store(StoreError),
}

/// What one registrar may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registrar {
    pub outside: OutsideConstituency,
    /// The most sensors an organisation may hold ([`SENSORS_PER_ORGANISATION`] through the
    /// portal; none for the operator's CLI).
    pub limit: Option<usize>,
}

/// Checks `sensor` and stores it with its audit entry (`SensorStore::register_sensor`): a
/// well-formed, unreserved name; fewer sensors of its organisation than the registrar's
/// limit; a block within the organisation's constituency unless the registrar may register
/// outside it.
pub fn register_sensor<S: AccountStore + SensorStore + ?Sized>(
    store: &mut S,
    sensor: &NewSensor,
    registrar: Registrar,
    actor: &str,
    at: Timestamp,
) -> Result<(), RegistrationError> {
    Sensor::check_name(&sensor.name).map_err(RegistrationError::Refused)?;
    if let Some(limit) = registrar.limit {
        check_limit(store, &sensor.org, limit)?;
    }
    if registrar.outside == OutsideConstituency::Refused {
        store
            .constituency(&sensor.org)
            .map_err(RegistrationError::Store)?
            .admit(&sensor.org, sensor.address_block)
            .map_err(RegistrationError::OutsideConstituency)?;
    }
    store
        .register_sensor(sensor, actor, at)
        .map_err(|e| match e {
            StoreError::Conflict(reason) => RegistrationError::Refused(reason),
            other => RegistrationError::Store(other),
        })
}

fn check_limit<S: SensorStore + ?Sized>(
    store: &S,
    org: &str,
    limit: usize,
) -> Result<(), RegistrationError> {
    let registered = store
        .sensors()
        .map_err(RegistrationError::Store)?
        .iter()
        .filter(|s| s.org == org)
        .count();
    if registered >= limit {
        return Err(RegistrationError::Refused(format!(
            "{org} has {registered} sensors, the most one organisation may register here; \
             revoke unused ones or ask the operator"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenwatch_model::access::Tlp;
    use greenwatch_model::account::{Constituency, Organisation};
    use greenwatch_store::StoreLocation;

    fn sensor(name: &str, block: &str) -> NewSensor {
        NewSensor {
            name: name.into(),
            org: "cert-jp".into(),
            address_block: block.parse().unwrap(),
            location: "Tokyo".into(),
            tlp: Tlp::Green,
            token_hash: format!("hash-{name}"),
        }
    }

    #[test]
    fn names_constituency_and_limit_are_checked_before_anything_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let location = StoreLocation::Sqlite(dir.path().join("g.sqlite"));
        let mut store = greenwatch_store_open::open(&location).unwrap();
        let org = Organisation {
            slug: "cert-jp".into(),
            name: "JPCERT/CC".into(),
            created_at: Timestamp(0),
        };
        store.create_org(&org, "cli").unwrap();
        let networks = Constituency {
            networks: vec!["198.51.100.0/24".parse().unwrap()],
        };
        store
            .set_constituency("cert-jp", &networks, "cli", Timestamp(0))
            .unwrap();
        let member = Registrar {
            outside: OutsideConstituency::Refused,
            limit: Some(2),
        };
        let at = Timestamp(1);
        let inside = sensor("tokyo-1", "198.51.100.0/25");
        register_sensor(&mut *store, &inside, member, "ana", at).unwrap();
        let outside = sensor("osaka-1", "203.0.113.0/24");
        let refused = register_sensor(&mut *store, &outside, member, "ana", at).unwrap_err();
        assert!(
            matches!(refused, RegistrationError::OutsideConstituency(ref m)
            if m.contains("203.0.113.0/24") && m.contains("cert-jp"))
        );
        let bad = register_sensor(
            &mut *store,
            &sensor("-x", "198.51.100.0/26"),
            member,
            "ana",
            at,
        );
        assert!(matches!(bad, Err(RegistrationError::Refused(_))));
        let twice = register_sensor(&mut *store, &inside, member, "ana", at);
        assert!(matches!(twice, Err(RegistrationError::Refused(ref m)) if m.contains("already")));
        let operator = Registrar {
            outside: OutsideConstituency::Allowed,
            limit: None,
        };
        register_sensor(&mut *store, &outside, operator, "cli", at).unwrap();
        // cert-jp holds two now: a member may register no third, the operator may.
        let third = sensor("nagoya-1", "198.51.100.128/25");
        let limited = register_sensor(&mut *store, &third, member, "ana", at).unwrap_err();
        assert!(limited.to_string().contains("has 2 sensors"), "{limited}");
        register_sensor(&mut *store, &third, operator, "cli", at).unwrap();
        assert_eq!(store.sensors().unwrap().len(), 3);
    }
}
