//! The collector's side of the exchange: check a batch, enrich it with the collector's IP
//! data and store it once, as a capture labelled with its sensor's organisation and TLP.
//! HTTP and tokens are the portal's business; this module gets an authenticated sensor.

use crate::batch::{Batch, BatchError, BatchId};
use greenwatch_ingest::{hash_label, NetDbEnricher};
use greenwatch_model::access::Label;
use greenwatch_model::sensor::{Sensor, SensorHealth, SensorRef};
use greenwatch_model::Timestamp;
use greenwatch_netdb::NetDb;
use greenwatch_observe::{BackscatterSlot, ClosedBucket, Enricher, FlowTuple};
use greenwatch_store::{CaptureRecord, CaptureStatus, ObservationStore, SensorStore, StoreError};
use serde::Serialize;

/// What the collector answers for a stored (or already stored) batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Accepted {
    pub batch: String,
    /// `stored`, or `duplicate` when this batch id was stored before.
    pub status: &'static str,
    pub packets: u64,
    pub received_at: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    Batch(#[from] BatchError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The capture hash a batch is stored under: the batch id is the identity, so a retried
/// batch finds its first copy whatever else changed. Names are per organisation, so the
/// organisation is part of the id.
pub fn batch_capture_hash(sensor: &SensorRef, id: &BatchId) -> String {
    let key = format!(
        "greenwatch sensor batch\0{}\0{}\0{}\0{}",
        sensor.org, sensor.name, id.stream, id.seq
    );
    hash_label(blake3::hash(key.as_bytes()))
}

/// Stores `bytes` from `sensor` unless that batch id is stored already, and records the
/// sensor's health. A malformed batch changes nothing.
pub fn accept_batch<S: ObservationStore + SensorStore + ?Sized>(
    store: &mut S,
    netdb: &NetDb,
    sensor: &Sensor,
    bytes: &[u8],
    health: Option<&SensorHealth>,
    now: Timestamp,
) -> Result<Accepted, Refusal> {
    let batch = Batch::decode(bytes)?;
    let id = batch.id();
    let hash = batch_capture_hash(&sensor.reference(), &id);
    let packets = batch.header.counts.packets;
    // The store keeps a batch id once, however many collectors (threads or processes on one
    // store) race for it: the losers are told it is stored already.
    let status = match store_batch(store, netdb, sensor, &hash, batch, now) {
        Ok(()) => "stored",
        Err(StoreError::AlreadyStored { .. }) => "duplicate",
        Err(e) => return Err(e.into()),
    };
    if let Some(health) = health {
        store.record_sensor_health(&sensor.reference(), health, now)?;
    }
    Ok(Accepted {
        batch: id.to_string(),
        status,
        packets,
        received_at: now,
    })
}

fn store_batch<S: ObservationStore + ?Sized>(
    store: &mut S,
    netdb: &NetDb,
    sensor: &Sensor,
    hash: &str,
    batch: Batch,
    now: Timestamp,
) -> Result<(), StoreError> {
    let record = CaptureRecord {
        content_hash: hash.to_string(),
        path: format!("sensor batch {}", batch.id()),
        sensor: sensor.name.clone(),
        label: Label {
            owner: sensor.org.clone(),
            tlp: sensor.tlp,
        },
        status: CaptureStatus::Complete,
        counts: batch.header.counts,
        ingested_at: now,
    };
    let mut writer = store.begin_capture(&sensor.org, hash, &sensor.name)?;
    for (bucket, flows) in batch.buckets {
        writer.write_bucket(&enriched_bucket(netdb, bucket, flows))?;
    }
    let mut backscatter = batch.backscatter;
    enrich_victims(netdb, &mut backscatter);
    writer.commit(&record, &backscatter)
}

/// The sensor ships flow tuples without ASN and country: the collector's dated IP data
/// decides them, as `ingest pcap` does (snapshot valid at the bucket's start).
fn enriched_bucket(netdb: &NetDb, bucket: i64, mut flows: Vec<FlowTuple>) -> ClosedBucket {
    let enricher = NetDbEnricher::new(netdb);
    let at = Timestamp::from_secs(bucket);
    for flow in &mut flows {
        let e = enricher.enrich(flow.src, at);
        (flow.src_asn, flow.src_country) = (e.asn, e.country);
    }
    ClosedBucket { bucket, flows }
}

fn enrich_victims(netdb: &NetDb, slots: &mut [BackscatterSlot]) {
    let enricher = NetDbEnricher::new(netdb);
    for slot in slots {
        let e = enricher.enrich(slot.victim, slot.first);
        (slot.victim_asn, slot.victim_country) = (e.asn, e.country);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_packets::scan;
    use greenwatch_model::access::{Tlp, Viewer};
    use greenwatch_model::account::Organisation;
    use greenwatch_model::BucketWidth;
    use greenwatch_observe::{no_enrichment, Aggregator};
    use greenwatch_packet::Packet;
    use greenwatch_store::{NewSensor, Store, StoreLocation, TimeRange};

    fn batch(seq: u64, packets: &[Packet]) -> Vec<u8> {
        let mut aggregator = Aggregator::new(BucketWidth::HOUR, no_enrichment);
        for p in packets {
            aggregator.add(p);
        }
        Batch::from_observations(
            "0123456789abcdef0123456789abcdef",
            seq,
            BucketWidth::HOUR,
            aggregator.finish(),
        )
        .encode()
    }

    fn setup() -> (tempfile::TempDir, Box<dyn Store>, Sensor) {
        let dir = tempfile::tempdir().unwrap();
        let mut store =
            greenwatch_store_open::open(&StoreLocation::Sqlite(dir.path().join("s.sqlite")))
                .unwrap();
        let org = Organisation {
            slug: "cert-jp".into(),
            name: "JPCERT/CC".into(),
            created_at: Timestamp(0),
        };
        store.create_org(&org, "test").unwrap();
        let new = NewSensor {
            name: "tokyo-1".into(),
            org: "cert-jp".into(),
            address_block: "198.51.100.0/24".parse().unwrap(),
            location: "Tokyo".into(),
            tlp: Tlp::Green,
            token_hash: "h".into(),
        };
        store.register_sensor(&new, "test", Timestamp(0)).unwrap();
        let sensor = store.sensor(&tokyo()).unwrap().unwrap();
        (dir, store, sensor)
    }

    fn tokyo() -> SensorRef {
        SensorRef::new("cert-jp", "tokyo-1")
    }

    fn stored_packets(store: &dyn Store) -> u64 {
        let mut packets = 0;
        store
            .scan_flows(
                &Viewer::Local,
                TimeRange::default(),
                Some(&tokyo()),
                &mut |f| packets += f.packets,
            )
            .unwrap();
        packets
    }

    #[test]
    fn retried_batch_is_stored_once_under_the_sensors_label() {
        let (_dir, mut store, sensor) = setup();
        let netdb = NetDb::from_snapshots(Vec::new());
        let first = batch(
            0,
            &[
                scan("192.0.2.1", 23, 1_790_000_000),
                scan("192.0.2.2", 23, 1_790_000_001),
            ],
        );
        let health = SensorHealth {
            packets_seen: 2,
            ..SensorHealth::default()
        };
        let now = Timestamp::from_secs(1_790_000_100);
        let stored =
            accept_batch(&mut *store, &netdb, &sensor, &first, Some(&health), now).unwrap();
        assert_eq!((stored.status, stored.packets), ("stored", 2));
        let again = accept_batch(&mut *store, &netdb, &sensor, &first, None, now).unwrap();
        assert_eq!(again.status, "duplicate");
        assert_eq!(stored_packets(&*store), 2);
        let second = batch(1, &[scan("192.0.2.3", 80, 1_790_000_002)]);
        accept_batch(&mut *store, &netdb, &sensor, &second, None, now).unwrap();
        assert_eq!(stored_packets(&*store), 3);

        let captures = store.captures().unwrap();
        assert_eq!(captures.len(), 2);
        assert!(captures
            .iter()
            .all(|c| c.label.owner == "cert-jp" && c.label.tlp == Tlp::Green));
        assert_eq!(
            store.sensor(&tokyo()).unwrap().unwrap().health,
            Some(health)
        );
    }

    #[test]
    fn a_malformed_batch_changes_nothing() {
        let (_dir, mut store, sensor) = setup();
        let netdb = NetDb::from_snapshots(Vec::new());
        let good = batch(0, &[scan("192.0.2.1", 23, 1_790_000_000)]);
        accept_batch(&mut *store, &netdb, &sensor, &good, None, Timestamp(1)).unwrap();
        let mut cut = batch(1, &[scan("192.0.2.9", 22, 1_790_000_000)]);
        cut.truncate(cut.len() - 2);
        let refused = accept_batch(&mut *store, &netdb, &sensor, &cut, None, Timestamp(2));
        assert!(matches!(
            refused,
            Err(Refusal::Batch(BatchError::Malformed { .. }))
        ));
        assert_eq!(stored_packets(&*store), 1);
        assert_eq!(store.captures().unwrap().len(), 1);
    }

    /// Collectors on one store, each with its own connection (as two `serve` processes on
    /// one data directory have), receive the same retried batch at once: it is stored once,
    /// every other copy is answered "duplicate", none is an error.
    #[test]
    fn a_batch_raced_by_collectors_on_one_store_is_stored_once() {
        let (dir, store, sensor) = setup();
        drop(store);
        let path = dir.path().join("s.sqlite");
        let packets: Vec<Packet> = (0..2_000)
            .map(|i| scan(&format!("192.0.2.{}", i % 250), 23, 1_790_000_000 + i))
            .collect();
        let bytes = batch(7, &packets);
        for round in 0..5 {
            let barrier = std::sync::Barrier::new(4);
            let answers: Vec<&str> = std::thread::scope(|scope| {
                let collectors: Vec<_> = (0..4)
                    .map(|_| {
                        scope.spawn(|| {
                            let mut store = greenwatch_store_open::open(&StoreLocation::Sqlite(
                                path.to_path_buf(),
                            ))
                            .unwrap();
                            let netdb = NetDb::from_snapshots(Vec::new());
                            barrier.wait();
                            accept_batch(&mut *store, &netdb, &sensor, &bytes, None, Timestamp(1))
                                .unwrap()
                                .status
                        })
                    })
                    .collect();
                collectors.into_iter().map(|c| c.join().unwrap()).collect()
            });
            let stored = answers.iter().filter(|a| **a == "stored").count();
            assert_eq!(
                stored,
                usize::from(round == 0),
                "round {round}: {answers:?}"
            );
            assert!(answers.iter().all(|a| *a == "stored" || *a == "duplicate"));
        }
        let store =
            greenwatch_store_open::open(&StoreLocation::Sqlite(path.to_path_buf())).unwrap();
        assert_eq!(store.captures().unwrap().len(), 1);
        assert_eq!(stored_packets(&*store), 2_000);
    }
}
