//! The embedded backend: one SQLite database in WAL mode inside the data directory.

use crate::codec::{decode_flows, encode_flows};
use crate::{CaptureRecord, CaptureStatus, ObservationStore, StoreError, TimeRange};
use greenwatch_model::{CountryCode, Timestamp, TrafficClass, Transport};
use greenwatch_observe::{
    build_rollups, BackscatterSlot, FlowTuple, Observations, Rollup, RollupDim,
};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use std::path::Path;

/// Flows per stored segment: bounds the memory of one read and the size of one BLOB.
const SEGMENT_FLOWS: usize = 65_536;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS captures (
    id INTEGER PRIMARY KEY,
    content_hash TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    sensor TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    counts TEXT NOT NULL,
    ingested_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS flow_segments (
    capture_id INTEGER NOT NULL REFERENCES captures(id),
    sensor TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    part INTEGER NOT NULL,
    flows INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (capture_id, bucket, part)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS flow_segments_by_bucket ON flow_segments(bucket);
CREATE TABLE IF NOT EXISTS rollups (
    bucket INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    transport INTEGER NOT NULL,
    port INTEGER NOT NULL,
    country TEXT NOT NULL,
    asn INTEGER NOT NULL,
    class INTEGER NOT NULL,
    packets INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    sources INTEGER NOT NULL,
    PRIMARY KEY (bucket, kind, transport, port, country, asn, class)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS backscatter_slots (
    capture_id INTEGER NOT NULL REFERENCES captures(id),
    sensor TEXT NOT NULL,
    victim TEXT NOT NULL,
    transport INTEGER NOT NULL,
    slot INTEGER NOT NULL,
    asn INTEGER NOT NULL,
    country TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    first_us INTEGER NOT NULL,
    last_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS backscatter_slots_by_slot ON backscatter_slots(slot);
";

/// Observation store in `<data>/greenwatch.sqlite`.
pub struct SqliteStore {
    conn: Connection,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.execute_batch(SCHEMA)?;
        Ok(SqliteStore { conn })
    }
}

fn range_sql(column: &str, range: TimeRange) -> String {
    format!(
        "{column} >= {} AND {column} < {}",
        range.from.unwrap_or(i64::MIN),
        range.to.unwrap_or(i64::MAX)
    )
}

fn capture_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(CaptureRecord, String)> {
    let status: String = row.get("status")?;
    let error: Option<String> = row.get("error")?;
    let counts: String = row.get("counts")?;
    Ok((
        CaptureRecord {
            content_hash: row.get("content_hash")?,
            path: row.get("path")?,
            sensor: row.get("sensor")?,
            status: match status.as_str() {
                "complete" => CaptureStatus::Complete,
                _ => CaptureStatus::Partial(error.unwrap_or_default()),
            },
            counts: Default::default(),
            ingested_at: Timestamp(row.get("ingested_at")?),
        },
        counts,
    ))
}

fn with_counts((mut record, counts): (CaptureRecord, String)) -> Result<CaptureRecord, StoreError> {
    record.counts = serde_json::from_str(&counts).map_err(|e| {
        StoreError::Corrupt(format!("counts of capture {}: {e}", record.content_hash))
    })?;
    Ok(record)
}

fn country_from_text(s: &str) -> CountryCode {
    s.parse().unwrap_or(CountryCode::UNKNOWN)
}

fn insert_rollups(tx: &Transaction<'_>, rollups: &[Rollup]) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO rollups (bucket, kind, transport, port, country, asn, class, packets, bytes, sources)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for r in rollups {
        let (kind, transport, port, country, asn) = match r.dim {
            RollupDim::Port { transport, port } => (0, transport.0, port, String::new(), 0),
            RollupDim::Country { country } => {
                (1, 0, 0, country.as_str().unwrap_or("").to_string(), 0)
            }
            RollupDim::Asn { asn } => (2, 0, 0, String::new(), asn),
        };
        stmt.execute(params![
            r.bucket,
            kind,
            transport,
            port,
            country,
            asn,
            r.class.code(),
            r.packets as i64,
            r.bytes as i64,
            r.sources as i64
        ])?;
    }
    Ok(())
}

/// All flows stored for `bucket`, from every capture.
fn flows_of_bucket(conn: &Connection, bucket: i64) -> Result<Vec<FlowTuple>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT data FROM flow_segments WHERE bucket = ?1")?;
    let mut rows = stmt.query([bucket])?;
    let mut flows = Vec::new();
    while let Some(row) = rows.next()? {
        let data: Vec<u8> = row.get(0)?;
        decode_flows(bucket, &data, &mut |f| flows.push(f.clone()))?;
    }
    Ok(flows)
}

impl ObservationStore for SqliteStore {
    fn find_capture(&self, content_hash: &str) -> Result<Option<CaptureRecord>, StoreError> {
        self.conn
            .query_row(
                "SELECT * FROM captures WHERE content_hash = ?1",
                [content_hash],
                capture_from_row,
            )
            .optional()?
            .map(with_counts)
            .transpose()
    }

    fn write_capture(
        &mut self,
        capture: &CaptureRecord,
        obs: &Observations,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let (status, error) = match &capture.status {
            CaptureStatus::Complete => ("complete", None),
            CaptureStatus::Partial(e) => ("partial", Some(e.as_str())),
        };
        let counts = serde_json::to_string(&capture.counts).expect("counts serialise");
        tx.execute(
            "INSERT INTO captures (content_hash, path, sensor, status, error, counts, ingested_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                capture.content_hash,
                capture.path,
                capture.sensor,
                status,
                error,
                counts,
                capture.ingested_at.0
            ],
        )?;
        let capture_id = tx.last_insert_rowid();
        let mut buf = Vec::new();
        let mut touched = Vec::new();
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO flow_segments (capture_id, sensor, bucket, part, flows, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for bucket_flows in obs.flows.chunk_by(|a, b| a.bucket == b.bucket) {
                let bucket = bucket_flows[0].bucket;
                touched.push(bucket);
                for (part, segment) in bucket_flows.chunks(SEGMENT_FLOWS).enumerate() {
                    buf.clear();
                    encode_flows(segment, &mut buf);
                    insert.execute(params![
                        capture_id,
                        capture.sensor,
                        bucket,
                        part as i64,
                        segment.len() as i64,
                        buf
                    ])?;
                }
            }
        }
        for bucket in touched {
            let shared: bool = tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM flow_segments WHERE bucket = ?1 AND capture_id <> ?2)",
                params![bucket, capture_id],
                |r| r.get(0),
            )?;
            if shared {
                // Another capture already has flows in this bucket: distinct sources only stay
                // exact if the bucket's rollups are rebuilt from all of its flows.
                tx.execute("DELETE FROM rollups WHERE bucket = ?1", [bucket])?;
                let rebuilt = build_rollups(&flows_of_bucket(&tx, bucket)?);
                insert_rollups(&tx, &rebuilt)?;
            } else {
                let start = obs.rollups.partition_point(|r| r.bucket < bucket);
                let end = obs.rollups.partition_point(|r| r.bucket <= bucket);
                insert_rollups(&tx, &obs.rollups[start..end])?;
            }
        }
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO backscatter_slots (capture_id, sensor, victim, transport, slot, asn, country, packets, bytes, first_us, last_us)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            for s in &obs.backscatter {
                insert.execute(params![
                    capture_id,
                    capture.sensor,
                    s.victim.to_string(),
                    s.transport.0,
                    s.slot,
                    s.victim_asn,
                    s.victim_country.as_str().unwrap_or(""),
                    s.packets as i64,
                    s.bytes as i64,
                    s.first.0,
                    s.last.0
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn captures(&self) -> Result<Vec<CaptureRecord>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT * FROM captures ORDER BY id")?;
        let rows = stmt.query_map([], capture_from_row)?;
        rows.map(|r| with_counts(r?)).collect()
    }

    fn scan_flows(
        &self,
        range: TimeRange,
        sensor: Option<&str>,
        visit: &mut dyn FnMut(&FlowTuple),
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT bucket, data FROM flow_segments WHERE {} AND (?1 IS NULL OR sensor = ?1) ORDER BY bucket",
            range_sql("bucket", range)
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query([sensor])?;
        while let Some(row) = rows.next()? {
            let bucket: i64 = row.get(0)?;
            let data = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
            decode_flows(bucket, data, visit)?;
        }
        Ok(())
    }

    fn rollups(&self, range: TimeRange) -> Result<Vec<Rollup>, StoreError> {
        let sql = format!(
            "SELECT bucket, kind, transport, port, country, asn, class, packets, bytes, sources
             FROM rollups WHERE {} ORDER BY bucket, kind, transport, port, country, asn, class",
            range_sql("bucket", range)
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let kind: i64 = row.get(1)?;
            let dim = match kind {
                0 => RollupDim::Port {
                    transport: Transport(row.get(2)?),
                    port: row.get(3)?,
                },
                1 => RollupDim::Country {
                    country: country_from_text(&row.get::<_, String>(4)?),
                },
                2 => RollupDim::Asn { asn: row.get(5)? },
                other => return Err(StoreError::Corrupt(format!("rollup kind {other}"))),
            };
            let class: u8 = row.get(6)?;
            out.push(Rollup {
                bucket: row.get(0)?,
                dim,
                class: TrafficClass::from_code(class)
                    .ok_or_else(|| StoreError::Corrupt(format!("rollup class {class}")))?,
                packets: row.get::<_, i64>(7)? as u64,
                bytes: row.get::<_, i64>(8)? as u64,
                sources: row.get::<_, i64>(9)? as u64,
            });
        }
        Ok(out)
    }

    fn backscatter_slots(
        &self,
        range: TimeRange,
        sensor: Option<&str>,
    ) -> Result<Vec<BackscatterSlot>, StoreError> {
        let sql = format!(
            "SELECT victim, transport, slot, asn, country, packets, bytes, first_us, last_us
             FROM backscatter_slots WHERE {} AND (?1 IS NULL OR sensor = ?1)",
            range_sql("slot", range)
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query([sensor])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let victim: String = row.get(0)?;
            out.push(BackscatterSlot {
                victim: victim
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("backscatter victim {victim:?}")))?,
                transport: Transport(row.get(1)?),
                slot: row.get(2)?,
                victim_asn: row.get(3)?,
                victim_country: country_from_text(&row.get::<_, String>(4)?),
                packets: row.get::<_, i64>(5)? as u64,
                bytes: row.get::<_, i64>(6)? as u64,
                first: Timestamp(row.get(7)?),
                last: Timestamp(row.get(8)?),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenwatch_model::{BucketWidth, Enrichment, TrafficClass};
    use greenwatch_observe::{Aggregator, IngestCounts};
    use greenwatch_packet::Packet;
    use std::net::IpAddr;

    fn scan(src: &str, dst: &str, port: u16, secs: i64) -> Packet {
        Packet {
            ts: Timestamp::from_secs(secs),
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            transport: Transport::TCP,
            src_port: 40000,
            dst_port: port,
            wire_len: 60,
            ttl: 50,
            ip_id: 1,
            tcp_flags: 0x02,
            tcp_window: 1024,
            tcp_seq: 7,
            class: TrafficClass::Scan,
            fingerprint: None,
            spoof_reason: None,
        }
    }

    fn observe(packets: &[Packet]) -> Observations {
        let enrich = |_: IpAddr, _: Timestamp| Enrichment {
            asn: 64500,
            country: "NL".parse().unwrap(),
        };
        let mut agg = Aggregator::new(BucketWidth::HOUR, enrich);
        for p in packets {
            agg.add(p);
        }
        agg.finish()
    }

    fn record(hash: &str, counts: IngestCounts, status: CaptureStatus) -> CaptureRecord {
        CaptureRecord {
            content_hash: hash.into(),
            path: format!("/captures/{hash}.pcap"),
            sensor: "tokyo-1".into(),
            status,
            counts,
            ingested_at: Timestamp::from_secs(1_800_000_000),
        }
    }

    fn all_flows(store: &SqliteStore, sensor: Option<&str>) -> Vec<FlowTuple> {
        let mut out = Vec::new();
        store
            .scan_flows(TimeRange::default(), sensor, &mut |f| out.push(f.clone()))
            .unwrap();
        out
    }

    #[test]
    fn written_capture_reads_back_identically_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let mut packets: Vec<Packet> = (0..300)
            .map(|i| {
                scan(
                    "1.2.3.4",
                    &format!("198.18.{}.{}", i % 7, i % 250),
                    23,
                    i * 30,
                )
            })
            .collect();
        packets.push(scan("2001:db8::1", "2001:db8:5e::9", 445, 50));
        let obs = observe(&packets);
        let rec = record(
            "h1",
            obs.counts.clone(),
            CaptureStatus::Partial("at byte offset 9: cut".into()),
        );
        {
            let mut store = SqliteStore::open(&path).unwrap();
            store.write_capture(&rec, &obs).unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.find_capture("h1").unwrap(), Some(rec.clone()));
        assert_eq!(store.find_capture("other").unwrap(), None);
        assert_eq!(all_flows(&store, None), obs.flows);
        assert!(all_flows(&store, Some("elsewhere")).is_empty());
        assert_eq!(store.rollups(TimeRange::default()).unwrap(), obs.rollups);
        let mut first_hour = Vec::new();
        store
            .scan_flows(
                TimeRange {
                    from: Some(0),
                    to: Some(3600),
                },
                None,
                &mut |f| first_hour.push(f.bucket),
            )
            .unwrap();
        assert!(!first_hour.is_empty() && first_hour.iter().all(|b| *b == 0));
    }

    #[test]
    fn same_content_hash_cannot_be_stored_twice() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("s.sqlite")).unwrap();
        let obs = observe(&[scan("1.2.3.4", "198.18.0.1", 23, 0)]);
        let rec = record("h1", obs.counts.clone(), CaptureStatus::Complete);
        store.write_capture(&rec, &obs).unwrap();
        assert!(store.write_capture(&rec, &obs).is_err());
        // The failed second write rolled back entirely: still one capture, one flow.
        assert_eq!(store.captures().unwrap().len(), 1);
        assert_eq!(all_flows(&store, None).len(), 1);
    }

    #[test]
    fn rollups_stay_exact_when_two_captures_share_a_bucket() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("s.sqlite")).unwrap();
        let a = observe(&[
            scan("1.2.3.4", "198.18.0.1", 23, 10),
            scan("5.6.7.8", "198.18.0.1", 23, 20),
        ]);
        let b = observe(&[
            scan("1.2.3.4", "198.18.0.2", 23, 30),
            scan("9.9.9.9", "198.18.0.3", 23, 40),
        ]);
        store
            .write_capture(&record("a", a.counts.clone(), CaptureStatus::Complete), &a)
            .unwrap();
        store
            .write_capture(&record("b", b.counts.clone(), CaptureStatus::Complete), &b)
            .unwrap();
        let rollups = store.rollups(TimeRange::default()).unwrap();
        let port = rollups
            .iter()
            .find(|r| matches!(r.dim, RollupDim::Port { port: 23, .. }))
            .unwrap();
        // 1.2.3.4 appears in both captures but is one source.
        assert_eq!((port.packets, port.sources), (4, 3));
        assert_eq!(rollups, build_rollups(&all_flows(&store, None)));
    }

    #[test]
    fn backscatter_slots_round_trip_with_victim_enrichment() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&dir.path().join("s.sqlite")).unwrap();
        let mut packets = Vec::new();
        for i in 0..40 {
            let mut p = scan("203.0.113.9", "198.18.0.1", 40000, 100 + i * 2);
            p.class = TrafficClass::Backscatter;
            p.tcp_flags = 0x12;
            packets.push(p);
        }
        let obs = observe(&packets);
        store
            .write_capture(
                &record("a", obs.counts.clone(), CaptureStatus::Complete),
                &obs,
            )
            .unwrap();
        let slots = store.backscatter_slots(TimeRange::default(), None).unwrap();
        let mut sorted = slots.clone();
        sorted.sort_by_key(|s| s.slot);
        assert_eq!(sorted, obs.backscatter);
        assert_eq!(slots[0].victim_country.as_str(), Some("NL"));
        assert!(store
            .backscatter_slots(
                TimeRange {
                    from: Some(10_000),
                    to: None
                },
                None
            )
            .unwrap()
            .is_empty());
    }
}
