//! Risk-feed events in the embedded store: one row per feed file, events as LZ4 segments per
//! (file, risk, day), sorted by address so a period's distinct hosts merge cheaply.

use crate::{visible_sql, SqliteStore};
use chrono::NaiveDate;
use greenwatch_model::access::{Label, Viewer};
use greenwatch_model::{RiskEvent, Timestamp};
use greenwatch_store::codec::{decode, encode};
use greenwatch_store::{
    day_from_number, day_number, FeedFileRecord, FeedFileWriter, RiskCoverage, RiskStore,
    StoreError,
};
use rusqlite::{params, OptionalExtension, Transaction};

/// Events per stored segment.
const SEGMENT_EVENTS: usize = 65_536;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS feed_files (
    id INTEGER PRIMARY KEY,
    content_hash TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    format TEXT NOT NULL,
    report_type TEXT,
    owner TEXT NOT NULL DEFAULT 'local',
    tlp TEXT NOT NULL DEFAULT 'AMBER',
    counts TEXT NOT NULL,
    ingested_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS risk_event_segments (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES feed_files(id),
    risk TEXT NOT NULL,
    day INTEGER NOT NULL,
    events INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS risk_event_segments_by_day ON risk_event_segments(risk, day);
";

fn feed_file_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(FeedFileRecord, String)> {
    Ok((
        FeedFileRecord {
            content_hash: greenwatch_store::dataset::content_hash_of(row.get("content_hash")?),
            path: row.get("path")?,
            format: row.get("format")?,
            report_type: row.get("report_type")?,
            label: crate::label_from_row(row)?,
            counts: Default::default(),
            ingested_at: Timestamp(row.get("ingested_at")?),
        },
        row.get("counts")?,
    ))
}

fn with_counts(
    (mut record, counts): (FeedFileRecord, String),
) -> Result<FeedFileRecord, StoreError> {
    record.counts = serde_json::from_str(&counts).map_err(|e| {
        StoreError::Corrupt(format!("counts of feed file {}: {e}", record.content_hash))
    })?;
    Ok(record)
}

fn day_of(n: i64) -> Result<NaiveDate, StoreError> {
    day_from_number(n).ok_or_else(|| StoreError::Corrupt(format!("day number {n} out of range")))
}

impl RiskStore for SqliteStore {
    fn find_feed_file(
        &self,
        owner: &str,
        content_hash: &str,
    ) -> Result<Option<FeedFileRecord>, StoreError> {
        self.conn
            .query_row(
                "SELECT * FROM feed_files WHERE content_hash = ?1",
                [greenwatch_store::dataset::key(owner, content_hash)],
                feed_file_from_row,
            )
            .optional()?
            .map(with_counts)
            .transpose()
    }

    fn begin_feed_file(
        &mut self,
        owner: &str,
        content_hash: &str,
    ) -> Result<Box<dyn FeedFileWriter + '_>, StoreError> {
        let tx = crate::write_transaction(&mut self.conn)?;
        tx.execute(
            "INSERT INTO feed_files (content_hash, path, format, counts, ingested_at, owner)
             VALUES (?1, '', '', '{}', 0, ?2)",
            [&greenwatch_store::dataset::key(owner, content_hash), owner],
        )
        .map_err(|e| crate::already_stored(e, owner, content_hash))?;
        let file_id = tx.last_insert_rowid();
        Ok(Box::new(SqliteFeedFileWriter {
            tx,
            owner: owner.to_string(),
            file_id,
            sorted: Vec::new(),
            buf: Vec::new(),
        }))
    }

    fn feed_files(&self) -> Result<Vec<FeedFileRecord>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT * FROM feed_files ORDER BY id")?;
        let rows = stmt.query_map([], feed_file_from_row)?;
        rows.map(|r| with_counts(r?)).collect()
    }

    fn risk_coverage(&self, viewer: &Viewer) -> Result<Vec<RiskCoverage>, StoreError> {
        let visible = self.visible("feed_files", viewer)?;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT risk, MIN(day), MAX(day), SUM(events) FROM risk_event_segments
             WHERE {} GROUP BY risk ORDER BY risk",
            visible_sql("file_id", &visible)
        ))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(RiskCoverage {
                risk: row.get(0)?,
                first_day: day_of(row.get(1)?)?,
                last_day: day_of(row.get(2)?)?,
                events: row.get::<_, i64>(3)? as u64,
            });
        }
        Ok(out)
    }

    fn scan_risk_events(
        &self,
        viewer: &Viewer,
        risk: &str,
        from: NaiveDate,
        to: NaiveDate,
        visit: &mut dyn FnMut(&RiskEvent),
    ) -> Result<(), StoreError> {
        let visible = self.visible("feed_files", viewer)?;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT day, data FROM risk_event_segments
             WHERE risk = ?1 AND day >= ?2 AND day < ?3 AND {} ORDER BY day, id",
            visible_sql("file_id", &visible)
        ))?;
        let mut rows = stmt.query(params![risk, day_number(from), day_number(to)])?;
        while let Some(row) = rows.next()? {
            let day: i64 = row.get(0)?;
            let data = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
            decode("risk event", day, data, visit)?;
        }
        Ok(())
    }

    fn scan_labelled_risk_events(
        &self,
        viewer: &Viewer,
        risk: &str,
        from: NaiveDate,
        to: NaiveDate,
        visit: &mut dyn FnMut(&Label, &RiskEvent),
    ) -> Result<(), StoreError> {
        scan_labelled(self, viewer, risk, (from, to), visit)
    }
}

/// [`RiskStore::scan_labelled_risk_events`] of the sqlite store.
pub(crate) fn scan_labelled(
    store: &SqliteStore,
    viewer: &Viewer,
    risk: &str,
    (from, to): (NaiveDate, NaiveDate),
    visit: &mut dyn FnMut(&Label, &RiskEvent),
) -> Result<(), StoreError> {
    let (labels, hidden) = store.visible_labels("feed_files", viewer)?;
    let visible = hidden.then(|| labels.keys().copied().collect());
    let mut stmt = store.conn.prepare(&format!(
        "SELECT file_id, day, data FROM risk_event_segments
         WHERE risk = ?1 AND day >= ?2 AND day < ?3 AND {} ORDER BY day, id",
        visible_sql("file_id", &visible)
    ))?;
    let mut rows = stmt.query(params![risk, day_number(from), day_number(to)])?;
    while let Some(row) = rows.next()? {
        let file: i64 = row.get(0)?;
        let label = labels
            .get(&file)
            .ok_or_else(|| StoreError::Corrupt(format!("events of unknown feed file {file}")))?;
        let day: i64 = row.get(1)?;
        let data = row.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?;
        decode("risk event", day, data, &mut |e: &RiskEvent| {
            visit(label, e)
        })?;
    }
    Ok(())
}

/// A feed file being written inside one SQLite transaction.
struct SqliteFeedFileWriter<'a> {
    tx: Transaction<'a>,
    /// The organisation the file was begun for (its key holds it).
    owner: String,
    file_id: i64,
    sorted: Vec<RiskEvent>,
    buf: Vec<u8>,
}

impl FeedFileWriter for SqliteFeedFileWriter<'_> {
    fn write_events(
        &mut self,
        risk: &str,
        day: NaiveDate,
        events: &[RiskEvent],
    ) -> Result<(), StoreError> {
        let mut insert = self.tx.prepare_cached(
            "INSERT INTO risk_event_segments (file_id, risk, day, events, data)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for chunk in events.chunks(SEGMENT_EVENTS) {
            // Sorted by address: neighbouring records share prefixes (better compression) and
            // readers can merge segments instead of sorting them. `ingest feed` already hands
            // over sorted events (it sorts to enrich in address order): no copy then.
            let key = |e: &RiskEvent| (e.ip_key(), e.time, e.line);
            let segment = if chunk.is_sorted_by_key(key) {
                chunk
            } else {
                self.sorted.clear();
                self.sorted.extend_from_slice(chunk);
                self.sorted.sort_unstable_by_key(key);
                &self.sorted
            };
            encode(segment, &mut self.buf);
            insert.execute(params![
                self.file_id,
                risk,
                day_number(day),
                chunk.len() as i64,
                self.buf
            ])?;
        }
        Ok(())
    }

    fn commit(self: Box<Self>, record: &FeedFileRecord) -> Result<(), StoreError> {
        greenwatch_store::dataset::same_owner(&self.owner, &record.label)?;
        let counts = serde_json::to_string(&record.counts).expect("counts serialise");
        self.tx.execute(
            "UPDATE feed_files SET path = ?2, format = ?3, report_type = ?4, counts = ?5,
             ingested_at = ?6, owner = ?7, tlp = ?8 WHERE id = ?1",
            params![
                self.file_id,
                record.path,
                record.format,
                record.report_type,
                counts,
                record.ingested_at.0,
                record.label.owner,
                record.label.tlp.as_str()
            ],
        )?;
        crate::advance_data_generation(&self.tx)?;
        self.tx.commit()?;
        Ok(())
    }
}
