//! The collector's side of the exchange: check a batch, enrich it with the collector's IP
//! data and store it once, as a capture labelled with its sensor's organisation and TLP.
//! HTTP and tokens are the portal's business; this module gets an authenticated sensor.

use crate::batch::{Batch, BatchError, BatchId};
use greenwatch_model::access::Label;
use greenwatch_model::sensor::{Sensor, SensorHealth};
use greenwatch_model::{Enrichment, Timestamp};
use greenwatch_netdb::NetDb;
use greenwatch_observe::{build_rollups, BackscatterSlot, ClosedBucket, FlowTuple};
use greenwatch_store::{CaptureRecord, CaptureStatus, ObservationStore, SensorStore, StoreError};
use serde::Serialize;
use std::net::IpAddr;
use std::sync::Mutex;

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
/// batch finds its first copy whatever else changed.
pub fn batch_capture_hash(sensor: &str, id: &BatchId) -> String {
    let key = format!(
        "greenwatch sensor batch\0{sensor}\0{}\0{}",
        id.stream, id.seq
    );
    blake3::hash(key.as_bytes()).to_hex().to_string()
}

/// One batch at a time between "is it stored?" and "store it", across the store's
/// connections, so two copies of a batch arriving together are stored once.
static ONE_WRITER: Mutex<()> = Mutex::new(());

/// Stores `bytes` from `sensor` unless that batch id is stored already, and records the
/// sensor's health. A malformed batch changes nothing.
pub fn accept_batch<S: ObservationStore + SensorStore>(
    store: &mut S,
    netdb: &NetDb,
    sensor: &Sensor,
    bytes: &[u8],
    health: Option<&SensorHealth>,
    now: Timestamp,
) -> Result<Accepted, Refusal> {
    let batch = Batch::decode(bytes)?;
    let id = batch.id();
    let hash = batch_capture_hash(&sensor.name, &id);
    let packets = batch.header.counts.packets;
    let status = {
        let _one_writer = ONE_WRITER.lock().unwrap_or_else(|e| e.into_inner());
        if store.find_capture(&hash)?.is_some() {
            "duplicate"
        } else {
            store_batch(store, netdb, sensor, &hash, batch, now)?;
            "stored"
        }
    };
    if let Some(health) = health {
        store.record_sensor_health(&sensor.name, health, now)?;
    }
    Ok(Accepted {
        batch: id.to_string(),
        status,
        packets,
        received_at: now,
    })
}

fn store_batch<S: ObservationStore>(
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
    let mut writer = store.begin_capture(hash, &sensor.name)?;
    for (bucket, flows) in batch.buckets {
        writer.write_bucket(&enriched_bucket(netdb, bucket, flows))?;
    }
    let mut backscatter = batch.backscatter;
    enrich_victims(netdb, &mut backscatter);
    writer.commit(&record, &backscatter)
}

/// Looks up runs of equal addresses once, with the snapshot valid at `at`.
fn enricher(netdb: &NetDb, at: Timestamp) -> impl FnMut(IpAddr) -> Enrichment + '_ {
    let snapshot = netdb.snapshot_at(at.to_datetime().date_naive());
    let mut last: Option<(IpAddr, Enrichment)> = None;
    move |ip| match last {
        Some((seen, e)) if seen == ip => e,
        _ => {
            let e = snapshot.map_or_else(
                || greenwatch_observe::no_enrichment(ip, at),
                |s| s.enrich(ip),
            );
            last = Some((ip, e));
            e
        }
    }
}

/// The sensor ships flow tuples without ASN and country: the collector's dated IP data
/// decides them, as `ingest pcap` does (snapshot valid at the bucket's start).
fn enriched_bucket(netdb: &NetDb, bucket: i64, mut flows: Vec<FlowTuple>) -> ClosedBucket {
    let mut enrich = enricher(netdb, Timestamp::from_secs(bucket));
    for flow in &mut flows {
        let e = enrich(flow.src);
        (flow.src_asn, flow.src_country) = (e.asn, e.country);
    }
    ClosedBucket {
        bucket,
        rollups: build_rollups(&flows),
        flows,
    }
}

fn enrich_victims(netdb: &NetDb, slots: &mut [BackscatterSlot]) {
    for slot in slots {
        let e = enricher(netdb, slot.first)(slot.victim);
        (slot.victim_asn, slot.victim_country) = (e.asn, e.country);
    }
}
