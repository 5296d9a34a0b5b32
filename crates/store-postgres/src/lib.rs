//! The PostgreSQL backend: every store trait on one PostgreSQL 15 database, for deployments
//! where several `serve` processes (web nodes, collectors) share one store. Every rule of the
//! store contract is kept by the database itself, not by a process: a dataset's key is a
//! UNIQUE constraint (racing writers in any process store it once), the data generation is a
//! row moved in each dataset's commit, and alert ids are taken under a transaction lock so
//! they follow commit order.
//!
//! The schema is versioned ([`MIGRATIONS`]): opening a store applies the versions it lacks in
//! one transaction under an advisory lock (processes starting together migrate once),
//! and refuses a database whose version is newer than this binary knows.

mod accounts;
mod alerts;
mod risk;
mod sensors;

use greenwatch_model::access::{Label, Viewer};
use greenwatch_model::sensor::SensorRef;
use greenwatch_model::Timestamp;
use greenwatch_observe::{build_rollups, BackscatterSlot, ClosedBucket, FlowTuple, Rollup};
use greenwatch_store::codec::{decode, encode};
use greenwatch_store::{dataset, rollups_of_visible_flows};
use greenwatch_store::{
    CaptureRecord, CaptureWriter, FlowOrigin, LeaseStore, ObservationStore, StoreError, TimeRange,
};
use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Transaction};
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::collections::HashMap;

/// Flows per stored segment: bounds the memory of one read and the size of one value.
const SEGMENT_FLOWS: usize = 65_536;

const OBSERVATIONS: &str = "
CREATE TABLE captures (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- `owner/hash`: one copy per organisation (`greenwatch_store::dataset::key`).
    content_hash TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    sensor TEXT NOT NULL,
    owner TEXT NOT NULL,
    tlp TEXT NOT NULL DEFAULT 'AMBER',
    status TEXT NOT NULL,
    error TEXT,
    counts TEXT NOT NULL,
    ingested_at BIGINT NOT NULL
);
CREATE TABLE flow_segments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    capture_id BIGINT NOT NULL REFERENCES captures(id),
    sensor TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    part BIGINT NOT NULL,
    flows BIGINT NOT NULL,
    data BYTEA NOT NULL,
    UNIQUE (capture_id, bucket, part)
);
CREATE INDEX flow_segments_by_bucket ON flow_segments(bucket, capture_id);
-- Rollups of one bucket written by one capture part only (see the SQLite backend).
CREATE TABLE rollup_segments (
    bucket BIGINT PRIMARY KEY,
    data BYTEA NOT NULL
);
CREATE TABLE backscatter_segments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    capture_id BIGINT NOT NULL REFERENCES captures(id),
    sensor TEXT NOT NULL,
    hour BIGINT NOT NULL,
    data BYTEA NOT NULL
);
CREATE INDEX backscatter_segments_by_hour ON backscatter_segments(hour);
CREATE TABLE job_leases (
    job TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until BIGINT NOT NULL
);
CREATE TABLE data_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO data_generation (id, value) VALUES (1, 0);
";

/// The schema's versions, oldest first: version N is `MIGRATIONS[N - 1]`. A released version
/// is never edited; a change is a new version.
pub const MIGRATIONS: &[&[&str]] = &[&[
    OBSERVATIONS,
    risk::SCHEMA,
    accounts::SCHEMA,
    alerts::SCHEMA,
    sensors::SCHEMA,
]];

/// The advisory lock key that serialises migrations of one database (any number; fixed).
const MIGRATION_LOCK: i64 = 0x6772_6565_6e77_0001;

/// The lock key under which alert ids are taken, so they follow commit order.
pub(crate) const ALERT_ID_LOCK: i64 = 0x6772_6565_6e77_0002;

/// One connection to a PostgreSQL store.
pub struct PostgresStore {
    /// Reads take `&self` in the store traits; a connection is one process's, never shared
    /// between threads, so a `RefCell` is all the exclusivity a query needs.
    /// `None` only while being dropped.
    client: RefCell<Option<Client>>,
    /// Where to connect again when the connection was lost (the server restarted).
    url: String,
}

/// Closing a connection blocks on the driver's own runtime, which panics on a thread that
/// drives async tasks (a server's pool of stores is dropped there when it stops): the
/// connection is closed on a thread of its own instead.
impl Drop for PostgresStore {
    fn drop(&mut self) {
        let closing = self.client.get_mut().take();
        let _ = std::thread::Builder::new()
            .name("postgres-close".into())
            .spawn(move || drop(closing));
    }
}

/// A PostgreSQL error as the backend-neutral error: a lost connection or a server shutting
/// down or starting is `Unavailable` (try again), anything else the backend's own error.
pub(crate) fn pg(e: postgres::Error) -> StoreError {
    let server_going = [
        SqlState::ADMIN_SHUTDOWN,
        SqlState::CRASH_SHUTDOWN,
        SqlState::CANNOT_CONNECT_NOW,
        SqlState::CONNECTION_FAILURE,
    ];
    let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
    if e.is_closed() || io || e.code().is_some_and(|c| server_going.contains(c)) {
        StoreError::Unavailable(format!("PostgreSQL: {e}"))
    } else {
        StoreError::Backend(Box::new(e))
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`, libpq's URL form)
    /// and brings its schema to this binary's version.
    pub fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let mut client = connect(url)?;
        migrate(&mut client)?;
        Ok(PostgresStore {
            client: RefCell::new(Some(client)),
            url: url.to_string(),
        })
    }

    /// The schema version of the database at `url` and the newest this binary knows.
    pub fn schema_version(url: &str) -> Result<(i64, i64), StoreError> {
        let mut client = connect(url)?;
        Ok((stored_version(&mut client)?, MIGRATIONS.len() as i64))
    }

    /// Brings the schema of the database at `url` to this binary's version: the version
    /// before and after (`greenwatch migrate`).
    pub fn migrate(url: &str) -> Result<(i64, i64), StoreError> {
        let before = migrate(&mut connect(url)?)?;
        Ok((before, MIGRATIONS.len() as i64))
    }

    /// The connection, made again first when the server closed it (a restart, a cut): the
    /// request that saw the cut failed as `Unavailable`, the next one works again.
    pub(crate) fn client(&self) -> Result<std::cell::RefMut<'_, Client>, StoreError> {
        let mut slot = self.client.borrow_mut();
        live(&mut slot, &self.url)?;
        Ok(std::cell::RefMut::map(slot, |c| {
            c.as_mut().expect("connected by `live`")
        }))
    }

    /// [`PostgresStore::client`] for writes that hold a transaction across calls.
    pub(crate) fn client_mut(&mut self) -> Result<&mut Client, StoreError> {
        live(self.client.get_mut(), &self.url)
    }

    /// The labels of the rows of `table` (captures or feed_files) `viewer` may see, by id,
    /// and whether any row is hidden from them.
    pub(crate) fn visible_labels(
        &self,
        table: &str,
        viewer: &Viewer,
    ) -> Result<(HashMap<i64, Label>, bool), StoreError> {
        let rows = self
            .client()?
            .query(&format!("SELECT id, owner, tlp FROM {table}"), &[])
            .map_err(pg)?;
        let (mut labels, mut hidden) = (HashMap::new(), false);
        for row in rows {
            let label = label_from_row(&row)?;
            if viewer.can_see(&label) {
                labels.insert(row.get(0), label);
            } else {
                hidden = true;
            }
        }
        Ok((labels, hidden))
    }

    /// Ids of the rows of `table` (captures or feed_files) whose label `viewer` may see;
    /// `None` when that is every row.
    pub(crate) fn visible(
        &self,
        table: &str,
        viewer: &Viewer,
    ) -> Result<Option<Vec<i64>>, StoreError> {
        let (labels, hidden) = self.visible_labels(table, viewer)?;
        Ok(hidden.then(|| labels.into_keys().collect()))
    }
}

/// The connection in `slot`, made again when there is none or the server closed it.
fn live<'a>(slot: &'a mut Option<Client>, url: &str) -> Result<&'a mut Client, StoreError> {
    if slot.as_ref().is_none_or(Client::is_closed) {
        *slot = Some(connect(url)?);
    }
    Ok(slot.as_mut().expect("connected above"))
}

/// A connection, or an error naming the server (without its password) and why.
fn connect(url: &str) -> Result<Client, StoreError> {
    Client::connect(url, NoTls).map_err(|e| {
        let shown = greenwatch_store::StoreLocation::Postgres(url.to_string());
        StoreError::Unavailable(format!("cannot connect to PostgreSQL at {shown}: {e}"))
    })
}

/// The schema version stored in the database (0: none yet).
fn stored_version(client: &mut impl postgres::GenericClient) -> Result<i64, StoreError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_version (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 version BIGINT NOT NULL
             )",
        )
        .map_err(pg)?;
    let row = client
        .query_opt("SELECT version FROM schema_version WHERE id = 1", &[])
        .map_err(pg)?;
    Ok(row.map_or(0, |r| r.get(0)))
}

/// Applies the versions the database lacks, in one transaction, under an advisory lock;
/// refuses a database newer than this binary. Returns the version found.
fn migrate(client: &mut Client) -> Result<i64, StoreError> {
    let known = MIGRATIONS.len() as i64;
    let mut tx = client.transaction().map_err(pg)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(pg)?;
    let found = stored_version(&mut tx)?;
    let mut version = found;
    if version > known {
        return Err(StoreError::Conflict(format!(
            "the PostgreSQL store's schema is version {version}, newer than this binary's \
             {known}: run a newer greenwatch"
        )));
    }
    while version < known {
        for part in MIGRATIONS[version as usize] {
            tx.batch_execute(part).map_err(pg)?;
        }
        version += 1;
        tx.execute(
            "INSERT INTO schema_version (id, version) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version",
            &[&version],
        )
        .map_err(pg)?;
    }
    tx.commit().map_err(pg)?;
    Ok(found)
}

/// Moves the data generation inside the transaction that commits a dataset, so the new
/// generation is visible exactly when the new facts are.
pub(crate) fn advance_data_generation(tx: &mut Transaction<'_>) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE data_generation SET value = value + 1 WHERE id = 1",
        &[],
    )
    .map_err(pg)?;
    Ok(())
}

/// The `owner` and `tlp` columns of a row as a label.
pub(crate) fn label_from_row(row: &Row) -> Result<Label, StoreError> {
    let tlp: String = row.get("tlp");
    let tlp = tlp
        .parse()
        .map_err(|e: String| StoreError::Corrupt(format!("label: {e}")))?;
    Ok(Label {
        owner: row.get("owner"),
        tlp,
    })
}

/// SQL restricting `column` to the visible ids (`TRUE` when everything is visible).
pub(crate) fn visible_sql(column: &str, ids: &Option<Vec<i64>>) -> String {
    match ids {
        None => "TRUE".to_string(),
        Some(ids) if ids.is_empty() => "FALSE".to_string(),
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

/// Whether `e` is a UNIQUE violation (another writer stored the row first).
pub(crate) fn is_unique_violation(e: &postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

/// A UNIQUE violation on a dataset's key: another writer stored it first (the insert waited
/// for its transaction), or it was stored before.
pub(crate) fn already_stored(e: postgres::Error, owner: &str, content_hash: &str) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::AlreadyStored {
            owner: owner.to_string(),
            content_hash: content_hash.to_string(),
        }
    } else {
        pg(e)
    }
}

fn capture_from_row(row: &Row) -> Result<CaptureRecord, StoreError> {
    let status: String = row.get("status");
    let error: Option<String> = row.get("error");
    let counts: String = row.get("counts");
    let content_hash = dataset::content_hash_of(row.get("content_hash"));
    let counts = serde_json::from_str(&counts)
        .map_err(|e| StoreError::Corrupt(format!("counts of capture {content_hash}: {e}")))?;
    Ok(CaptureRecord {
        content_hash,
        path: row.get("path"),
        sensor: row.get("sensor"),
        label: label_from_row(row)?,
        status: dataset::status_from_columns(&status, error),
        counts,
        ingested_at: Timestamp(row.get("ingested_at")),
    })
}

/// All flows stored for `bucket`, from every capture.
fn flows_of_bucket(client: &mut Client, bucket: i64) -> Result<Vec<FlowTuple>, StoreError> {
    let rows = client
        .query(
            "SELECT data FROM flow_segments WHERE bucket = $1",
            &[&bucket],
        )
        .map_err(pg)?;
    let mut flows = Vec::new();
    for row in rows {
        decode(
            "flow",
            bucket,
            row.get::<_, &[u8]>(0),
            &mut |f: &FlowTuple| flows.push(f.clone()),
        )?;
    }
    Ok(flows)
}

/// Streams the rows of `sql`, handing each to `each` as it arrives (a window of flows does not
/// have to fit in memory).
pub(crate) fn stream(
    client: &mut Client,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    mut each: impl FnMut(&Row) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut rows = client.query_raw(sql, params.iter().copied()).map_err(pg)?;
    while let Some(row) = rows.next().map_err(pg)? {
        each(&row)?;
    }
    Ok(())
}

/// A segment of one sensor's: stored under its name by a capture of its organisation
/// (`$1` name, `$2` organisation; both NULL for every sensor).
const SENSOR_SQL: &str = "($1::TEXT IS NULL OR (sensor = $1
     AND capture_id IN (SELECT id FROM captures WHERE owner = $2::TEXT AND sensor = $1)))";

fn sensor_params(sensor: Option<&SensorRef>) -> [Option<&str>; 2] {
    [
        sensor.map(|s| s.name.as_str()),
        sensor.map(|s| s.org.as_str()),
    ]
}

impl ObservationStore for PostgresStore {
    fn find_capture(
        &self,
        owner: &str,
        content_hash: &str,
    ) -> Result<Option<CaptureRecord>, StoreError> {
        let row = self
            .client()?
            .query_opt(
                "SELECT * FROM captures WHERE content_hash = $1",
                &[&dataset::key(owner, content_hash)],
            )
            .map_err(pg)?;
        row.as_ref().map(capture_from_row).transpose()
    }

    fn begin_capture(
        &mut self,
        owner: &str,
        content_hash: &str,
        sensor: &str,
    ) -> Result<Box<dyn CaptureWriter + '_>, StoreError> {
        let mut tx = self.client_mut()?.transaction().map_err(pg)?;
        let capture_id: i64 = tx
            .query_one(
                "INSERT INTO captures (content_hash, path, sensor, status, counts, ingested_at, owner)
                 VALUES ($1, '', $2, 'ingesting', '{}', 0, $3) RETURNING id",
                &[&dataset::key(owner, content_hash), &sensor, &owner],
            )
            .map_err(|e| already_stored(e, owner, content_hash))?
            .get(0);
        let statements = BucketStatements::prepare(&mut tx)?;
        Ok(Box::new(PgCaptureWriter {
            tx,
            statements,
            owner: owner.to_string(),
            sensor: sensor.to_string(),
            capture_id,
            parts: FxHashMap::default(),
            buf: Vec::new(),
        }))
    }

    fn captures(&self) -> Result<Vec<CaptureRecord>, StoreError> {
        let rows = self
            .client()?
            .query("SELECT * FROM captures ORDER BY id", &[])
            .map_err(pg)?;
        rows.iter().map(capture_from_row).collect()
    }

    fn scan_flows(
        &self,
        viewer: &Viewer,
        range: TimeRange,
        sensor: Option<&SensorRef>,
        visit: &mut dyn FnMut(&FlowTuple),
    ) -> Result<(), StoreError> {
        let visible = self.visible("captures", viewer)?;
        let sql = format!(
            "SELECT bucket, data FROM flow_segments WHERE {} AND {} AND {} ORDER BY bucket",
            range_sql("bucket", range),
            visible_sql("capture_id", &visible),
            SENSOR_SQL
        );
        let [name, org] = sensor_params(sensor);
        stream(&mut *self.client()?, &sql, &[&name, &org], |row| {
            decode("flow", row.get(0), row.get::<_, &[u8]>(1), visit)
        })
    }

    fn scan_labelled_flows(
        &self,
        viewer: &Viewer,
        range: TimeRange,
        visit: &mut dyn FnMut(&FlowOrigin, &FlowTuple),
    ) -> Result<(), StoreError> {
        let (labels, hidden) = self.visible_labels("captures", viewer)?;
        let mut origins: HashMap<i64, FlowOrigin> = HashMap::new();
        for row in self
            .client()?
            .query("SELECT id, sensor FROM captures", &[])
            .map_err(pg)?
        {
            let id: i64 = row.get(0);
            if let Some(label) = labels.get(&id) {
                let sensor = SensorRef {
                    org: label.owner.clone(),
                    name: row.get(1),
                };
                let label = label.clone();
                origins.insert(id, FlowOrigin { label, sensor });
            }
        }
        let visible = hidden.then(|| labels.keys().copied().collect());
        let sql = format!(
            "SELECT capture_id, bucket, data FROM flow_segments WHERE {} AND {} ORDER BY bucket",
            range_sql("bucket", range),
            visible_sql("capture_id", &visible),
        );
        stream(&mut *self.client()?, &sql, &[], |row| {
            let capture: i64 = row.get(0);
            let origin = origins.get(&capture).ok_or_else(|| {
                StoreError::Corrupt(format!("flows of unknown capture {capture}"))
            })?;
            decode(
                "flow",
                row.get(1),
                row.get::<_, &[u8]>(2),
                &mut |f: &FlowTuple| visit(origin, f),
            )
        })
    }

    fn data_generation(&self) -> Result<u64, StoreError> {
        let value: i64 = self
            .client()?
            .query_one("SELECT value FROM data_generation WHERE id = 1", &[])
            .map_err(pg)?
            .get(0);
        Ok(value as u64)
    }

    fn flow_bucket_range(&self, viewer: &Viewer) -> Result<Option<(i64, i64)>, StoreError> {
        let visible = self.visible("captures", viewer)?;
        let row = self
            .client()?
            .query_one(
                &format!(
                    "SELECT MIN(bucket), MAX(bucket) FROM flow_segments WHERE {}",
                    visible_sql("capture_id", &visible)
                ),
                &[],
            )
            .map_err(pg)?;
        let (first, last): (Option<i64>, Option<i64>) = (row.get(0), row.get(1));
        Ok(first.zip(last))
    }

    fn rollups(&self, viewer: &Viewer, range: TimeRange) -> Result<Vec<Rollup>, StoreError> {
        if self.visible("captures", viewer)?.is_some() {
            // Stored rollups mix every capture: rebuild from the flows this viewer may see.
            return rollups_of_visible_flows(self, viewer, range);
        }
        let mut client = self.client()?;
        let mut out = Vec::new();
        let sql = format!(
            "SELECT bucket, data FROM rollup_segments WHERE {} ORDER BY bucket",
            range_sql("bucket", range)
        );
        stream(&mut client, &sql, &[], |row| {
            decode(
                "rollup",
                row.get(0),
                row.get::<_, &[u8]>(1),
                &mut |r: &Rollup| out.push(r.clone()),
            )
        })?;
        let shared_buckets = format!(
            "SELECT DISTINCT bucket FROM flow_segments WHERE {}
             AND bucket NOT IN (SELECT bucket FROM rollup_segments)",
            range_sql("bucket", range)
        );
        let shared: Vec<i64> = client
            .query(&shared_buckets, &[])
            .map_err(pg)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        for bucket in shared {
            out.extend(build_rollups(&flows_of_bucket(&mut client, bucket)?));
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
        let [name, org] = sensor_params(sensor);
        let mut by_label: HashMap<Label, Vec<BackscatterSlot>> = HashMap::new();
        let (from, to) = (range.from.unwrap_or(i64::MIN), range.to.unwrap_or(i64::MAX));
        stream(&mut *self.client()?, &sql, &[&name, &org], |row| {
            let capture: i64 = row.get(0);
            let label = labels.get(&capture).ok_or_else(|| {
                StoreError::Corrupt(format!("backscatter of unknown capture {capture}"))
            })?;
            let out = by_label.entry(label.clone()).or_default();
            decode(
                "backscatter",
                row.get(1),
                row.get::<_, &[u8]>(2),
                &mut |s: &BackscatterSlot| {
                    if s.slot >= from && s.slot < to {
                        out.push(s.clone());
                    }
                },
            )
        })?;
        Ok(by_label.into_iter().collect())
    }
}

impl LeaseStore for PostgresStore {
    fn take_lease(
        &mut self,
        job: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        // One statement: the row lock of the upsert makes racing holders take turns, and the
        // loser's WHERE then sees the winner's lease.
        let changed = self
            .client()?
            .execute(
                "INSERT INTO job_leases (job, holder, until) VALUES ($1, $2, $4)
                 ON CONFLICT (job) DO UPDATE SET holder = EXCLUDED.holder, until = EXCLUDED.until
                 WHERE job_leases.holder = EXCLUDED.holder OR job_leases.until < $3",
                &[&job, &holder, &now.0, &until.0],
            )
            .map_err(pg)?;
        Ok(changed == 1)
    }

    fn release_lease(&mut self, job: &str, holder: &str) -> Result<(), StoreError> {
        self.client()?
            .execute(
                "DELETE FROM job_leases WHERE job = $1 AND holder = $2",
                &[&job, &holder],
            )
            .map_err(pg)?;
        Ok(())
    }
}

/// A capture being written inside one PostgreSQL transaction: its row holds the dataset's key
/// from the start, so a second writer of the same key waits on it and then finds it stored.
struct PgCaptureWriter<'a> {
    tx: Transaction<'a>,
    statements: BucketStatements,
    /// The organisation the capture was begun for (its key holds it).
    owner: String,
    sensor: String,
    capture_id: i64,
    /// Segment parts written so far per bucket.
    parts: FxHashMap<i64, i64>,
    buf: Vec<u8>,
}

/// What a capture writer runs for every bucket, prepared once per capture: an unprepared
/// statement costs a round trip of its own to be parsed, per bucket.
struct BucketStatements {
    insert_segment: postgres::Statement,
    shared_with_others: postgres::Statement,
    put_rollups: postgres::Statement,
    drop_rollups: postgres::Statement,
}

impl BucketStatements {
    fn prepare(tx: &mut Transaction<'_>) -> Result<BucketStatements, StoreError> {
        let mut prepare = |sql: &str| tx.prepare(sql).map_err(pg);
        Ok(BucketStatements {
            insert_segment: prepare(
                "INSERT INTO flow_segments (capture_id, sensor, bucket, part, flows, data)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )?,
            shared_with_others: prepare(
                "SELECT EXISTS(SELECT 1 FROM flow_segments WHERE bucket = $1 AND capture_id <> $2)",
            )?,
            put_rollups: prepare(
                "INSERT INTO rollup_segments (bucket, data) VALUES ($1, $2)
                 ON CONFLICT (bucket) DO UPDATE SET data = EXCLUDED.data",
            )?,
            drop_rollups: prepare("DELETE FROM rollup_segments WHERE bucket = $1")?,
        })
    }
}

impl CaptureWriter for PgCaptureWriter<'_> {
    fn write_bucket(&mut self, closed: &ClosedBucket) -> Result<(), StoreError> {
        let bucket = closed.bucket;
        let part = self.parts.entry(bucket).or_insert(0);
        let first_part = *part == 0;
        for segment in closed.flows.chunks(SEGMENT_FLOWS) {
            encode(segment, &mut self.buf);
            self.tx
                .execute(
                    &self.statements.insert_segment,
                    &[
                        &self.capture_id,
                        &self.sensor,
                        &bucket,
                        &*part,
                        &(segment.len() as i64),
                        &self.buf,
                    ],
                )
                .map_err(pg)?;
            *part += 1;
        }
        let shared = !first_part
            || self
                .tx
                .query_one(
                    &self.statements.shared_with_others,
                    &[&bucket, &self.capture_id],
                )
                .map_err(pg)?
                .get::<_, bool>(0);
        if shared {
            // Distinct sources do not add up across captures or parts: the rollups of a
            // shared bucket are built from all of its flows when read.
            self.tx
                .execute(&self.statements.drop_rollups, &[&bucket])
                .map_err(pg)?;
        } else {
            encode(&build_rollups(&closed.flows), &mut self.buf);
            self.tx
                .execute(&self.statements.put_rollups, &[&bucket, &self.buf])
                .map_err(pg)?;
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
        let mut tx = self.tx;
        tx.execute(
            "UPDATE captures SET path = $2, status = $3, error = $4, counts = $5,
             ingested_at = $6, owner = $7, tlp = $8 WHERE id = $1",
            &[
                &self.capture_id,
                &capture.path,
                &status,
                &error,
                &counts,
                &capture.ingested_at.0,
                &capture.label.owner,
                &capture.label.tlp.as_str(),
            ],
        )
        .map_err(pg)?;
        let mut by_hour: Vec<&BackscatterSlot> = backscatter.iter().collect();
        by_hour.sort_by_key(|s| (dataset::hour_of(s.slot), s.victim, s.transport, s.slot));
        let mut data = Vec::new();
        for hour in by_hour.chunk_by(|a, b| dataset::hour_of(a.slot) == dataset::hour_of(b.slot)) {
            let slots: Vec<BackscatterSlot> = hour.iter().map(|s| (*s).clone()).collect();
            encode(&slots, &mut data);
            tx.execute(
                "INSERT INTO backscatter_segments (capture_id, sensor, hour, data)
                 VALUES ($1, $2, $3, $4)",
                &[
                    &self.capture_id,
                    &capture.sensor,
                    &dataset::hour_of(hour[0].slot),
                    &data,
                ],
            )
            .map_err(pg)?;
        }
        advance_data_generation(&mut tx)?;
        tx.commit().map_err(pg)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use greenwatch_store::conformance::Backend;
    use greenwatch_store::AccountStore;
    use greenwatch_store::Store;

    /// A store of its own: a fresh schema in the test server's database
    /// (`GREENWATCH_TEST_POSTGRES`, which `scripts/test.sh` sets after starting PostgreSQL).
    pub(crate) struct TempPostgres {
        url: String,
    }

    impl TempPostgres {
        pub(crate) fn new() -> Option<TempPostgres> {
            let Ok(base) = std::env::var("GREENWATCH_TEST_POSTGRES") else {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CI must run the PostgreSQL backend's tests: set GREENWATCH_TEST_POSTGRES"
                );
                eprintln!("skipped: GREENWATCH_TEST_POSTGRES is unset (scripts/test.sh sets it)");
                return None;
            };
            static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let schema = format!(
                "t{}_{}_{}",
                std::process::id(),
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .subsec_nanos()
            );
            Client::connect(&base, NoTls)
                .unwrap()
                .batch_execute(&format!("CREATE SCHEMA {schema}"))
                .unwrap();
            let sep = if base.contains('?') { '&' } else { '?' };
            Some(TempPostgres {
                url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
            })
        }

        pub(crate) fn url(&self) -> &str {
            &self.url
        }
    }

    impl Backend for TempPostgres {
        fn connect(&self) -> Box<dyn Store> {
            Box::new(PostgresStore::open(&self.url).unwrap())
        }
    }

    // Outside CI without a server, each check returns at once (`TempPostgres::new` says so).
    greenwatch_store::conformance_tests!(match TempPostgres::new() {
        Some(db) => db,
        None => return,
    });

    #[test]
    fn a_database_newer_than_the_binary_is_refused_and_an_older_one_is_brought_up_to_date() {
        let Some(db) = TempPostgres::new() else {
            return;
        };
        drop(PostgresStore::open(db.url()).unwrap());
        assert_eq!(
            PostgresStore::schema_version(db.url()).unwrap(),
            (MIGRATIONS.len() as i64, MIGRATIONS.len() as i64)
        );
        let mut client = Client::connect(db.url(), NoTls).unwrap();
        client
            .execute("UPDATE schema_version SET version = version + 1", &[])
            .unwrap();
        let err = PostgresStore::open(db.url()).err().expect("refused");
        assert!(err.to_string().contains("newer than this binary"), "{err}");
    }

    #[test]
    fn a_cut_connection_is_unavailable_then_made_again_and_a_dead_server_names_itself() {
        let Some(db) = TempPostgres::new() else {
            return;
        };
        let name = format!("cut{}", std::process::id());
        let url = format!("{}&application_name={name}", db.url());
        let store = PostgresStore::open(&url).unwrap();
        assert!(store.orgs().unwrap().is_empty());
        let mut admin = Client::connect(db.url(), NoTls).unwrap();
        let cut = admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                &[&name],
            )
            .unwrap();
        assert_eq!(cut, 1);
        // The call that meets the cut may fail, but only as "try again"; the next one works.
        match store.orgs() {
            Ok(_) | Err(StoreError::Unavailable(_)) => {}
            Err(other) => panic!("a cut connection is not {other:?}"),
        }
        assert!(store.orgs().unwrap().is_empty());
        // A server that is not there: unavailable, naming it without its password.
        let err = PostgresStore::open("postgres://gw:s3cret@127.0.0.1:9/g")
            .err()
            .unwrap();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        let shown = err.to_string();
        assert!(
            shown.contains("127.0.0.1:9") && !shown.contains("s3cret"),
            "{shown}"
        );
    }

    #[test]
    fn stores_opened_together_migrate_the_schema_once() {
        let Some(db) = TempPostgres::new() else {
            return;
        };
        let opened: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| PostgresStore::open(db.url()).map(|_| ())))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for result in opened {
            result.unwrap();
        }
        assert_eq!(
            PostgresStore::schema_version(db.url()).unwrap().0,
            MIGRATIONS.len() as i64
        );
    }
}
