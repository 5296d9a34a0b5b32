//! Sensor registration, health and rejected batches.

use super::*;
use greenwatch_model::access::Tlp;
use greenwatch_model::account::Organisation;

fn store(backend: &dyn Backend) -> Box<dyn Store> {
    let mut store = backend.connect();
    let org = Organisation {
        slug: "cert-jp".into(),
        name: "JPCERT/CC".into(),
        created_at: Timestamp(0),
    };
    store.create_org(&org, "test").unwrap();
    store
}

fn tokyo() -> SensorRef {
    SensorRef::new("cert-jp", "tokyo-1")
}

pub fn sensor_names_are_per_organisation(backend: &dyn Backend) {
    let mut store = store(backend);
    let org = Organisation {
        slug: "cert-kr".into(),
        name: "KrCERT/CC".into(),
        created_at: Timestamp(0),
    };
    store.create_org(&org, "test").unwrap();
    store
        .register_sensor(&new_sensor("tokyo-1", "h1"), "admin", Timestamp(5))
        .unwrap();
    let mut other = new_sensor("tokyo-1", "h2");
    other.org = "cert-kr".into();
    store
        .register_sensor(&other, "admin", Timestamp(6))
        .expect("another organisation's name is no conflict");
    let again = store.register_sensor(&new_sensor("tokyo-1", "h3"), "admin", Timestamp(7));
    let Err(StoreError::Conflict(message)) = again else {
        panic!("{again:?}")
    };
    assert_eq!(message, "cert-jp already has a sensor named \"tokyo-1\"");
    store
        .revoke_sensor(&SensorRef::new("cert-kr", "tokyo-1"), "admin", Timestamp(8))
        .unwrap();
    assert!(store
        .sensor(&tokyo())
        .unwrap()
        .unwrap()
        .revoked_at
        .is_none());
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

pub fn sensors_register_once_are_found_by_token_hash_and_revocation_is_audited(
    backend: &dyn Backend,
) {
    let mut store = store(backend);
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
        .revoke_sensor(&tokyo(), "admin", Timestamp(9))
        .unwrap();
    assert_eq!(
        store.sensor(&tokyo()).unwrap().unwrap().revoked_at,
        Some(Timestamp(9))
    );
    assert!(store
        .revoke_sensor(&tokyo(), "admin", Timestamp(10))
        .is_err());
    let actions: Vec<String> = store
        .audit_log(10)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["sensor.revoke", "sensor.register", "org.create"]);
}

pub fn health_is_the_latest_report_and_rejections_are_counted_per_reason(backend: &dyn Backend) {
    let mut store = store(backend);
    store
        .register_sensor(&new_sensor("tokyo-1", "h1"), "admin", Timestamp(5))
        .unwrap();
    for packets in [10, 20] {
        let health = SensorHealth {
            packets_seen: packets,
            ..SensorHealth::default()
        };
        store
            .record_sensor_health(&tokyo(), &health, Timestamp(packets as i64))
            .unwrap();
    }
    let sensor = store.sensor(&tokyo()).unwrap().unwrap();
    assert_eq!(sensor.health.unwrap().packets_seen, 20);
    assert_eq!(sensor.last_seen, Some(Timestamp(20)));

    store
        .count_rejection(None, "bad_token", "unknown token", Timestamp(1))
        .unwrap();
    store
        .count_rejection(None, "bad_token", "unknown token again", Timestamp(2))
        .unwrap();
    store
        .count_rejection(Some(&tokyo()), "malformed", "bad magic", Timestamp(3))
        .unwrap();
    let counts = store.rejections().unwrap();
    assert_eq!(counts.len(), 2);
    assert_eq!(counts[0].sensor, None);
    assert_eq!(counts[0].count, 2);
    assert_eq!(counts[0].last_error, "unknown token again");
    assert_eq!(counts[1].sensor.as_deref(), Some("cert-jp/tokyo-1"));
    assert_eq!(counts[1].reason, "malformed");
}
