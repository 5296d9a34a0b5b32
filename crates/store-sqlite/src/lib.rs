//! The embedded backend: one SQLite database in WAL mode inside the data directory.

mod accounts;
mod alerts;
mod leases;
mod risk;
mod sensors;

use greenwatch_model::access::{Label, Viewer};
use greenwatch_model::sensor::SensorRef;
use greenwatch_model::Timestamp;
use greenwatch_observe::{build_rollups, BackscatterSlot, ClosedBucket, FlowTuple, Rollup};
use greenwatch_store::codec::{decode, encode};
use greenwatch_store::{dataset, rollups_of_visible_flows};
use greenwatch_store::{
    CaptureRecord, CaptureWriter, FlowOrigin, ObservationStore, StoreError, TimeRange,
};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::path::Path;

/// Flows per stored segment: bounds the memory of one read and the size of one BLOB.
const SEGMENT_FLOWS: usize = 65_536;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS captures (
    id INTEGER PRIMARY KEY,
    content_hash TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    sensor TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT 'local',
    tlp TEXT NOT NULL DEFAULT 'AMBER',
    status TEXT NOT NULL,
    error TEXT,
    counts TEXT NOT NULL,
    ingested_at INTEGER NOT NULL
);
-- A rowid table on purpose: segments are large BLOBs, which WITHOUT ROWID tables would
-- drag through their index b-tree on every lookup.
CREATE TABLE IF NOT EXISTS flow_segments (
    id INTEGER PRIMARY KEY,
    capture_id INTEGER NOT NULL REFERENCES captures(id),
    sensor TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    part INTEGER NOT NULL,
    flows INTEGER NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (capture_id, bucket, part)
);
CREATE INDEX IF NOT EXISTS flow_segments_by_bucket ON flow_segments(bucket, capture_id);
-- Rollups of one bucket, all dimensions, as one BLOB, written with the bucket's first flows.
-- A bucket that more captures or parts write to has no row (distinct sources do not add up):
-- its rollups are built from all of its flows when read.
CREATE TABLE IF NOT EXISTS rollup_segments (
    bucket INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS backscatter_segments (
    id INTEGER PRIMARY KEY,
    capture_id INTEGER NOT NULL REFERENCES captures(id),
    sensor TEXT NOT NULL,
    hour INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS backscatter_segments_by_hour ON backscatter_segments(hour);
";

/// Observation store in `<data>/greenwatch.sqlite`.
pub struct SqliteStore {
    conn: Connection,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path)?;
        // First: the pragmas and schema checks below take locks too, and a portal opening
        // connections while others write must wait for them, not fail with "locked".
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(risk::SCHEMA)?;
        conn.execute_batch(accounts::SCHEMA)?;
        accounts::migrate(&conn)?;
        create_data_generation(&conn)?;
        conn.execute_batch(alerts::SCHEMA)?;
        alerts::migrate(&conn)?;
        sensors::migrate(&conn)?;
        conn.execute_batch(sensors::SCHEMA)?;
        conn.execute_batch(leases::SCHEMA)?;
        // Stores made before datasets had labels: their data becomes AMBER of `local`.
        for table in ["captures", "feed_files"] {
            add_label_columns(&conn, table)?;
        }
        key_datasets_by_organisation(&conn)?;
        Ok(SqliteStore { conn })
    }

    /// The labels of the rows of `table` (captures or feed_files) `viewer` may see, by id,
    /// and whether any row is hidden from them.
    fn visible_labels(
        &self,
        table: &str,
        viewer: &Viewer,
    ) -> Result<(HashMap<i64, Label>, bool), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT id, owner, tlp FROM {table}"))?;
        let mut rows = stmt.query([])?;
        let (mut labels, mut hidden) = (HashMap::new(), false);
        while let Some(row) = rows.next()? {
            let label = label_from_row(row)?;
            if viewer.can_see(&label) {
                labels.insert(row.get(0)?, label);
            } else {
                hidden = true;
            }
        }
        Ok((labels, hidden))
    }

    /// Ids of the rows of `table` (captures or feed_files) whose label `viewer` may see;
    /// `None` when that is every row.
    fn visible(&self, table: &str, viewer: &Viewer) -> Result<Option<Vec<i64>>, StoreError> {
        let (labels, hidden) = self.visible_labels(table, viewer)?;
        Ok(hidden.then(|| labels.into_keys().collect()))
    }
}

/// Tables of facts whose triggers moved the generation in stores made before the writers'
/// commits did: dropped on open, or every commit would count twice.
const FACT_TABLES: [&str; 6] = [
    "captures",
    "flow_segments",
    "rollup_segments",
    "backscatter_segments",
    "feed_files",
    "risk_event_segments",
];

/// One counter that readers key their caches by (`ObservationStore::data_generation`).
fn create_data_generation(conn: &Connection) -> Result<(), StoreError> {
    let mut sql = String::from(
        "CREATE TABLE IF NOT EXISTS data_generation (
             id INTEGER PRIMARY KEY CHECK (id = 1),
             value INTEGER NOT NULL
         );
         INSERT OR IGNORE INTO data_generation (id, value) VALUES (1, 0);",
    );
    for table in FACT_TABLES {
        for event in ["insert", "update", "delete"] {
            sql.push_str(&format!(
                "DROP TRIGGER IF EXISTS {table}_{event}_generation;"
            ));
        }
    }
    conn.execute_batch(&sql)?;
    Ok(())
}

/// Moves the data generation inside the transaction that commits a dataset, so the new
/// generation is visible exactly when the new facts are.
pub(crate) fn advance_data_generation(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.prepare_cached("UPDATE data_generation SET value = value + 1 WHERE id = 1")?
        .execute([])?;
    Ok(())
}

fn add_label_columns(conn: &Connection, table: &str) -> Result<(), StoreError> {
    let has_owner: bool = conn.query_row(
        &format!("SELECT EXISTS(SELECT 1 FROM pragma_table_info('{table}') WHERE name = 'owner')"),
        [],
        |r| r.get(0),
    )?;
    if !has_owner {
        conn.execute_batch(&format!(
            "ALTER TABLE {table} ADD COLUMN owner TEXT NOT NULL DEFAULT 'local';
             ALTER TABLE {table} ADD COLUMN tlp TEXT NOT NULL DEFAULT 'AMBER';"
        ))?;
    }
    Ok(())
}

/// The `owner` and `tlp` columns of a row as a label.
pub(crate) fn label_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Label> {
    let tlp: String = row.get("tlp")?;
    let tlp = tlp.parse().map_err(|e: String| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })?;
    Ok(Label {
        owner: row.get("owner")?,
        tlp,
    })
}

/// SQL restricting `column` to the visible ids (`TRUE` when everything is visible).
pub(crate) fn visible_sql(column: &str, ids: &Option<Vec<i64>>) -> String {
    match ids {
        None => "1".to_string(),
        Some(ids) if ids.is_empty() => "0".to_string(),
        Some(ids) => {
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            format!("{column} IN ({})", list.join(","))
        }
    }
}

fn range_sql(column: &str, range: TimeRange) -> String {
    format!(
        "{column} >= {} AND {column} < {}",
        range.from.unwrap_or(i64::MIN),
        range.to.unwrap_or(i64::MAX)
    )
}

/// A UNIQUE violation on a dataset's key: another writer stored it first (the write
/// transaction waited for it), or it was stored before.
pub(crate) fn already_stored(e: rusqlite::Error, owner: &str, content_hash: &str) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            StoreError::AlreadyStored {
                owner: owner.to_string(),
                content_hash: content_hash.to_string(),
            }
        }
        other => other.into(),
    }
}

/// Stores made while a dataset was identified by its bytes alone: each row's key gets its
/// owner in front, once. The portal opens connections all the time, so whether it is done
/// is one lookup in `migrations`, not a scan of every capture; and a store that needs nothing
/// is not written to (a write on open from many connections at once fails with SQLITE_BUSY).
fn key_datasets_by_organisation(conn: &Connection) -> Result<(), StoreError> {
    const NAME: &str = "datasets keyed by owner";
    conn.execute_batch("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY)")?;
    let done: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM migrations WHERE name = ?1)",
        [NAME],
        |r| r.get(0),
    )?;
    if !done {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;
             UPDATE captures SET content_hash = owner || '/' || content_hash
                 WHERE instr(content_hash, '/') = 0;
             UPDATE feed_files SET content_hash = owner || '/' || content_hash
                 WHERE instr(content_hash, '/') = 0;
             INSERT OR IGNORE INTO migrations (name) VALUES ('{NAME}');
             COMMIT;"
        ))?;
    }
    Ok(())
}

fn capture_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(CaptureRecord, String)> {
    let status: String = row.get("status")?;
    let error: Option<String> = row.get("error")?;
    let counts: String = row.get("counts")?;
    Ok((
        CaptureRecord {
            content_hash: dataset::content_hash_of(row.get("content_hash")?),
            path: row.get("path")?,
            sensor: row.get("sensor")?,
            label: label_from_row(row)?,
            status: dataset::status_from_columns(&status, error),
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

/// Replaces the rollups of one bucket.
fn put_rollups(tx: &Transaction<'_>, bucket: i64, rollups: &[Rollup]) -> Result<(), StoreError> {
    let mut data = Vec::new();
    encode(rollups, &mut data);
    tx.prepare_cached("INSERT OR REPLACE INTO rollup_segments (bucket, data) VALUES (?1, ?2)")?
        .execute(params![bucket, data])?;
    Ok(())
}

/// All flows stored for `bucket`, from every capture.
fn flows_of_bucket(conn: &Connection, bucket: i64) -> Result<Vec<FlowTuple>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT data FROM flow_segments WHERE bucket = ?1")?;
    let mut rows = stmt.query([bucket])?;
    let mut flows = Vec::new();
    while let Some(row) = rows.next()? {
        let data: Vec<u8> = row.get(0)?;
        decode("flow", bucket, &data, &mut |f: &FlowTuple| {
            flows.push(f.clone())
        })?;
    }
    Ok(flows)
}

impl ObservationStore for SqliteStore {
    fn find_capture(
        &self,
        owner: &str,
        content_hash: &str,
    ) -> Result<Option<CaptureRecord>, StoreError> {
        self.conn
            .query_row(
                "SELECT * FROM captures WHERE content_hash = ?1",
                [dataset::key(owner, content_hash)],
                capture_from_row,
            )
            .optional()?
            .map(with_counts)
            .transpose()
    }

    fn begin_capture(
        &mut self,
        owner: &str,
        content_hash: &str,
        sensor: &str,
    ) -> Result<Box<dyn CaptureWriter + '_>, StoreError> {
        let tx = write_transaction(&mut self.conn)?;
        tx.execute(
            "INSERT INTO captures (content_hash, path, sensor, status, counts, ingested_at, owner)
             VALUES (?1, '', ?2, 'ingesting', '{}', 0, ?3)",
            [&dataset::key(owner, content_hash), sensor, owner],
        )
        .map_err(|e| already_stored(e, owner, content_hash))?;
        let capture_id = tx.last_insert_rowid();
        Ok(Box::new(SqliteCaptureWriter {
            tx,
            owner: owner.to_string(),
            capture_id,
            parts: FxHashMap::default(),
            buf: Vec::new(),
        }))
    }

    fn captures(&self) -> Result<Vec<CaptureRecord>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT * FROM captures ORDER BY id")?;
        let rows = stmt.query_map([], capture_from_row)?;
        rows.map(|r| with_counts(r?)).collect()
    }

    fn scan_flows(
        &self,
        viewer: &Viewer,
        range: TimeRange,
        sensor: Option<&SensorRef>,
        visit: &mut dyn FnMut(&FlowTuple),
    ) -> Result<(), StoreError> {
        let visible = self.visible("captures", viewer)?;
        // `+capture_id`: the visibility list must not steer SQLite to the (capture, bucket)
        // index, whose order is not the bucket order asked for: it would then copy every
        // segment BLOB of the window into a temporary sort (spilling to disk), which cost more
        // than decoding them.
        let sql = format!(
            "SELECT bucket, data FROM flow_segments WHERE {} AND {} AND {} ORDER BY bucket",
            range_sql("bucket", range),
            visible_sql("+capture_id", &visible),
            SENSOR_SQL
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query(sensor_params(sensor))?;
        while let Some(row) = rows.next()? {
            let bucket: i64 = row.get(0)?;
            let data = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
            decode("flow", bucket, data, visit)?;
        }
        Ok(())
    }

    fn scan_labelled_flows(
        &self,
        viewer: &Viewer,
        range: TimeRange,
        visit: &mut dyn FnMut(&FlowOrigin, &FlowTuple),
    ) -> Result<(), StoreError> {
        let (labels, hidden) = self.visible_labels("captures", viewer)?;
        let mut origins: HashMap<i64, FlowOrigin> = HashMap::new();
        let mut stmt = self.conn.prepare("SELECT id, sensor FROM captures")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            if let Some(label) = labels.get(&id) {
                let sensor = SensorRef {
                    org: label.owner.clone(),
                    name: row.get(1)?,
                };
                let label = label.clone();
                origins.insert(id, FlowOrigin { label, sensor });
            }
        }
        let visible = hidden.then(|| labels.keys().copied().collect());
        let sql = format!(
            "SELECT capture_id, bucket, data FROM flow_segments WHERE {} AND {} ORDER BY bucket",
            range_sql("bucket", range),
            visible_sql("+capture_id", &visible), // as in `scan_flows`
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let capture: i64 = row.get(0)?;
            let origin = origins.get(&capture).ok_or_else(|| {
                StoreError::Corrupt(format!("flows of unknown capture {capture}"))
            })?;
            let bucket: i64 = row.get(1)?;
            let data = row.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?;
            decode("flow", bucket, data, &mut |f: &FlowTuple| visit(origin, f))?;
        }
        Ok(())
    }

    fn data_generation(&self) -> Result<u64, StoreError> {
        let value: i64 =
            self.conn
                .query_row("SELECT value FROM data_generation WHERE id = 1", [], |r| {
                    r.get(0)
                })?;
        Ok(value as u64)
    }

    fn flow_bucket_range(&self, viewer: &Viewer) -> Result<Option<(i64, i64)>, StoreError> {
        let visible = self.visible("captures", viewer)?;
        let (first, last): (Option<i64>, Option<i64>) = self.conn.query_row(
            &format!(
                "SELECT MIN(bucket), MAX(bucket) FROM flow_segments WHERE {}",
                visible_sql("capture_id", &visible)
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(first.zip(last))
    }

    fn rollups(&self, viewer: &Viewer, range: TimeRange) -> Result<Vec<Rollup>, StoreError> {
        if self.visible("captures", viewer)?.is_some() {
            // Stored rollups mix every capture: rebuild from the flows this viewer may see.
            return rollups_of_visible_flows(self, viewer, range);
        }
        let sql = format!(
            "SELECT bucket, data FROM rollup_segments WHERE {} ORDER BY bucket",
            range_sql("bucket", range)
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let bucket: i64 = row.get(0)?;
            let data = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
            decode("rollup", bucket, data, &mut |r: &Rollup| {
                out.push(r.clone())
            })?;
        }
        let shared_buckets = format!(
            "SELECT DISTINCT bucket FROM flow_segments WHERE {}
             AND bucket NOT IN (SELECT bucket FROM rollup_segments)",
            range_sql("bucket", range)
        );
        let shared: Vec<i64> = self
            .conn
            .prepare(&shared_buckets)?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for bucket in shared {
            out.extend(build_rollups(&flows_of_bucket(&self.conn, bucket)?));
        }
        // Stable: each bucket's rows stay in `build_rollups` order.
        out.sort_by_key(|r| r.bucket);
        Ok(out)
    }

    fn labelled_backscatter_slots(
        &self,
        viewer: &Viewer,
        range: TimeRange,
        sensor: Option<&SensorRef>,
    ) -> Result<Vec<(Label, Vec<BackscatterSlot>)>, StoreError> {
        let (labels, hidden) = self.visible_labels("captures", viewer)?;
        let visible = hidden.then(|| labels.keys().copied().collect());
        let hours = TimeRange {
            from: range.from.map(dataset::hour_of),
            to: range.to,
        };
        let sql = format!(
            "SELECT capture_id, hour, data FROM backscatter_segments WHERE {} AND {} AND {}",
            range_sql("hour", hours),
            visible_sql("capture_id", &visible),
            SENSOR_SQL
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query(sensor_params(sensor))?;
        let mut by_label: HashMap<Label, Vec<BackscatterSlot>> = HashMap::new();
        let (from, to) = (range.from.unwrap_or(i64::MIN), range.to.unwrap_or(i64::MAX));
        while let Some(row) = rows.next()? {
            let capture: i64 = row.get(0)?;
            let label = labels.get(&capture).ok_or_else(|| {
                StoreError::Corrupt(format!("backscatter of unknown capture {capture}"))
            })?;
            let out = by_label.entry(label.clone()).or_default();
            let hour: i64 = row.get(1)?;
            let data = row.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?;
            decode("backscatter", hour, data, &mut |s: &BackscatterSlot| {
                if s.slot >= from && s.slot < to {
                    out.push(s.clone());
                }
            })?;
        }
        Ok(by_label.into_iter().collect())
    }
}

/// A segment of one sensor's: stored under its name by a capture of its organisation
/// (`?1` name, `?2` organisation; both NULL for every sensor).
const SENSOR_SQL: &str = "(?1 IS NULL OR (sensor = ?1
     AND capture_id IN (SELECT id FROM captures WHERE owner = ?2 AND sensor = ?1)))";

fn sensor_params(sensor: Option<&SensorRef>) -> [Option<&str>; 2] {
    [
        sensor.map(|s| s.name.as_str()),
        sensor.map(|s| s.org.as_str()),
    ]
}

/// A write transaction: it takes the write lock at BEGIN, waiting for it under the busy
/// timeout. A deferred one that reads first and writes later fails with "database is locked"
/// at once when another connection committed in between (a WAL read snapshot cannot be
/// upgraded), which many concurrent logins writing audit entries made happen.
pub(crate) fn write_transaction(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
}

/// A capture being written inside one SQLite transaction.
struct SqliteCaptureWriter<'a> {
    tx: Transaction<'a>,
    /// The organisation the capture was begun for (its key holds it).
    owner: String,
    capture_id: i64,
    /// Segment parts written so far per bucket.
    parts: FxHashMap<i64, i64>,
    buf: Vec<u8>,
}

impl CaptureWriter for SqliteCaptureWriter<'_> {
    fn write_bucket(&mut self, closed: &ClosedBucket) -> Result<(), StoreError> {
        let bucket = closed.bucket;
        let part = self.parts.entry(bucket).or_insert(0);
        let first_part = *part == 0;
        {
            let mut insert = self.tx.prepare_cached(
                "INSERT INTO flow_segments (capture_id, sensor, bucket, part, flows, data)
                 VALUES (?1, (SELECT sensor FROM captures WHERE id = ?1), ?2, ?3, ?4, ?5)",
            )?;
            for segment in closed.flows.chunks(SEGMENT_FLOWS) {
                encode(segment, &mut self.buf);
                insert.execute(params![
                    self.capture_id,
                    bucket,
                    *part,
                    segment.len() as i64,
                    self.buf
                ])?;
                *part += 1;
            }
        }
        let shared = !first_part
            || self.tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM flow_segments WHERE bucket = ?1 AND capture_id <> ?2)",
                params![bucket, self.capture_id],
                |r| r.get(0),
            )?;
        if shared {
            // Distinct sources do not add up across captures or parts, and rebuilding from
            // all of the bucket's flows on every write made each write cost the whole bucket
            // (a collector writes many batches into one bucket): the rollups are built when
            // read instead.
            self.tx
                .prepare_cached("DELETE FROM rollup_segments WHERE bucket = ?1")?
                .execute([bucket])?;
        } else {
            put_rollups(&self.tx, bucket, &build_rollups(&closed.flows))?;
        }
        Ok(())
    }

    fn commit(
        self: Box<Self>,
        capture: &CaptureRecord,
        backscatter: &[BackscatterSlot],
    ) -> Result<(), StoreError> {
        let (status, error) = dataset::status_columns(&capture.status);
        dataset::same_owner(&self.owner, &capture.label)?;
        let counts = serde_json::to_string(&capture.counts).expect("counts serialise");
        let tx = self.tx;
        tx.execute(
            "UPDATE captures SET path = ?2, status = ?3, error = ?4, counts = ?5, ingested_at = ?6,
             owner = ?7, tlp = ?8 WHERE id = ?1",
            params![
                self.capture_id,
                capture.path,
                status,
                error,
                counts,
                capture.ingested_at.0,
                capture.label.owner,
                capture.label.tlp.as_str()
            ],
        )?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO backscatter_segments (capture_id, sensor, hour, data) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut by_hour: Vec<&BackscatterSlot> = backscatter.iter().collect();
            by_hour.sort_by_key(|s| (dataset::hour_of(s.slot), s.victim, s.transport, s.slot));
            let mut data = Vec::new();
            for hour in
                by_hour.chunk_by(|a, b| dataset::hour_of(a.slot) == dataset::hour_of(b.slot))
            {
                let slots: Vec<BackscatterSlot> = hour.iter().map(|s| (*s).clone()).collect();
                encode(&slots, &mut data);
                insert.execute(params![
                    self.capture_id,
                    capture.sensor,
                    dataset::hour_of(hour[0].slot),
                    data
                ])?;
            }
        }
        advance_data_generation(&tx)?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenwatch_store::conformance::observations::{observe, record, scan};
    use greenwatch_store::conformance::Backend;
    use greenwatch_store::{CaptureStatus, Store};

    /// A store of its own in a temporary directory.
    struct TempSqlite {
        dir: tempfile::TempDir,
    }

    impl TempSqlite {
        fn new() -> TempSqlite {
            TempSqlite {
                dir: tempfile::tempdir().unwrap(),
            }
        }

        fn path(&self) -> std::path::PathBuf {
            self.dir.path().join("greenwatch.sqlite")
        }
    }

    impl Backend for TempSqlite {
        fn connect(&self) -> Box<dyn Store> {
            Box::new(SqliteStore::open(&self.path()).unwrap())
        }
    }

    greenwatch_store::conformance_tests!(TempSqlite::new());

    #[test]
    fn a_store_made_while_datasets_were_keyed_by_their_bytes_alone_is_rekeyed_on_open() {
        let db = TempSqlite::new();
        let mut store = SqliteStore::open(&db.path()).unwrap();
        let obs = observe(&[scan("1.2.3.4", "198.18.0.1", 23, 0)]);
        store
            .write_capture(
                &record("h1", obs.counts.clone(), CaptureStatus::Complete),
                &obs,
            )
            .unwrap();
        store
            .conn
            .execute_batch(
                "UPDATE captures SET content_hash = 'h1' WHERE owner = 'cert-a';
                 DELETE FROM migrations;",
            )
            .unwrap();
        drop(store);
        let store = SqliteStore::open(&db.path()).unwrap();
        assert!(store.find_capture("cert-a", "h1").unwrap().is_some());
    }

    #[test]
    fn a_store_made_when_triggers_moved_the_generation_counts_each_commit_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("greenwatch.sqlite");
        let store = SqliteStore::open(&path).unwrap();
        // What older versions created on open: one trigger per fact table and event.
        store
            .conn
            .execute_batch(
                "CREATE TRIGGER captures_insert_generation AFTER INSERT ON captures
                 BEGIN UPDATE data_generation SET value = value + 1 WHERE id = 1; END;",
            )
            .unwrap();
        drop(store);
        let mut store = SqliteStore::open(&path).unwrap();
        let before = store.data_generation().unwrap();
        let obs = observe(&[scan("1.2.3.4", "198.18.0.1", 23, 0)]);
        let capture = record("h1", obs.counts.clone(), CaptureStatus::Complete);
        store.write_capture(&capture, &obs).unwrap();
        assert_eq!(store.data_generation().unwrap(), before + 1);
    }
}
