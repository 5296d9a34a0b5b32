//! Risk-feed events on PostgreSQL: one row per feed file, events as LZ4 segments per
//! (file, risk, day), sorted by address so a period's distinct hosts merge cheaply. A feed
//! file's row holds its dataset key from `begin_feed_file` on, inside the writer's
//! transaction: a second writer of the same key waits on it and then finds it stored.

use crate::{pg, stream, visible_sql, PostgresStore};
use chrono::NaiveDate;
use greenwatch_model::access::{Label, Viewer};
use greenwatch_model::{RiskEvent, Timestamp};
use greenwatch_store::codec::{decode, encode};
use greenwatch_store::{
    day_from_number, day_number, FeedFileRecord, FeedFileWriter, RiskCoverage, RiskStore,
    StoreError,
};
use postgres::{Row, Statement, Transaction};

/// Events per stored segment.
const SEGMENT_EVENTS: usize = 65_536;

pub(crate) const SCHEMA: &str = "
CREATE TABLE feed_files (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- `owner/hash`: one copy per organisation (see `dataset_key`).
    content_hash TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    format TEXT NOT NULL,
    report_type TEXT,
    owner TEXT NOT NULL DEFAULT 'local',
    tlp TEXT NOT NULL DEFAULT 'AMBER',
    counts TEXT NOT NULL,
    ingested_at BIGINT NOT NULL
);
CREATE TABLE risk_event_segments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_id BIGINT NOT NULL REFERENCES feed_files(id),
    risk TEXT NOT NULL,
    day BIGINT NOT NULL,
    events BIGINT NOT NULL,
    data BYTEA NOT NULL
);
CREATE INDEX risk_event_segments_by_day ON risk_event_segments(risk, day);
";

fn feed_file_from_row(row: &Row) -> Result<FeedFileRecord, StoreError> {
    let content_hash = greenwatch_store::dataset::content_hash_of(row.get("content_hash"));
    let counts: String = row.get("counts");
    let counts = serde_json::from_str(&counts)
        .map_err(|e| StoreError::Corrupt(format!("counts of feed file {content_hash}: {e}")))?;
    Ok(FeedFileRecord {
        content_hash,
        path: row.get("path"),
        format: row.get("format"),
        report_type: row.get("report_type"),
        label: crate::label_from_row(row)?,
        counts,
        ingested_at: Timestamp(row.get("ingested_at")),
    })
}

fn day_of(n: i64) -> Result<NaiveDate, StoreError> {
    day_from_number(n).ok_or_else(|| StoreError::Corrupt(format!("day number {n} out of range")))
}

impl RiskStore for PostgresStore {
    fn find_feed_file(
        &self,
        owner: &str,
        content_hash: &str,
    ) -> Result<Option<FeedFileRecord>, StoreError> {
        let row = self
            .client()?
            .query_opt(
                "SELECT * FROM feed_files WHERE content_hash = $1",
                &[&greenwatch_store::dataset::key(owner, content_hash)],
            )
            .map_err(pg)?;
        row.as_ref().map(feed_file_from_row).transpose()
    }

    fn begin_feed_file(
        &mut self,
        owner: &str,
        content_hash: &str,
    ) -> Result<Box<dyn FeedFileWriter + '_>, StoreError> {
        let mut tx = self.client_mut()?.transaction().map_err(pg)?;
        let file_id: i64 = tx
            .query_one(
                "INSERT INTO feed_files (content_hash, path, format, counts, ingested_at, owner)
                 VALUES ($1, '', '', '{}', 0, $2) RETURNING id",
                &[&greenwatch_store::dataset::key(owner, content_hash), &owner],
            )
            .map_err(|e| crate::already_stored(e, owner, content_hash))?
            .get(0);
        Ok(Box::new(PgFeedFileWriter {
            tx,
            owner: owner.to_string(),
            file_id,
            insert: None,
            sorted: Vec::new(),
            buf: Vec::new(),
        }))
    }

    fn feed_files(&self) -> Result<Vec<FeedFileRecord>, StoreError> {
        let rows = self
            .client()?
            .query("SELECT * FROM feed_files ORDER BY id", &[])
            .map_err(pg)?;
        rows.iter().map(feed_file_from_row).collect()
    }

    fn risk_coverage(&self, viewer: &Viewer) -> Result<Vec<RiskCoverage>, StoreError> {
        let visible = self.visible("feed_files", viewer)?;
        let rows = self
            .client()?
            .query(
                &format!(
                    "SELECT risk, MIN(day), MAX(day), SUM(events)::BIGINT FROM risk_event_segments
                     WHERE {} GROUP BY risk ORDER BY risk",
                    visible_sql("file_id", &visible)
                ),
                &[],
            )
            .map_err(pg)?;
        rows.iter()
            .map(|row| {
                Ok(RiskCoverage {
                    risk: row.get(0),
                    first_day: day_of(row.get(1))?,
                    last_day: day_of(row.get(2))?,
                    events: row.get::<_, i64>(3) as u64,
                })
            })
            .collect()
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
        let sql = format!(
            "SELECT day, data FROM risk_event_segments
             WHERE risk = $1 AND day >= $2 AND day < $3 AND {} ORDER BY day, id",
            visible_sql("file_id", &visible)
        );
        let (from, to) = (day_number(from), day_number(to));
        stream(&mut *self.client()?, &sql, &[&risk, &from, &to], |row| {
            decode("risk event", row.get(0), row.get::<_, &[u8]>(1), visit)
        })
    }

    fn scan_labelled_risk_events(
        &self,
        viewer: &Viewer,
        risk: &str,
        from: NaiveDate,
        to: NaiveDate,
        visit: &mut dyn FnMut(&Label, &RiskEvent),
    ) -> Result<(), StoreError> {
        let (labels, hidden) = self.visible_labels("feed_files", viewer)?;
        let visible = hidden.then(|| labels.keys().copied().collect());
        let sql = format!(
            "SELECT file_id, day, data FROM risk_event_segments
             WHERE risk = $1 AND day >= $2 AND day < $3 AND {} ORDER BY day, id",
            visible_sql("file_id", &visible)
        );
        let (from, to) = (day_number(from), day_number(to));
        stream(&mut *self.client()?, &sql, &[&risk, &from, &to], |row| {
            let file: i64 = row.get(0);
            let label = labels.get(&file).ok_or_else(|| {
                StoreError::Corrupt(format!("events of unknown feed file {file}"))
            })?;
            decode(
                "risk event",
                row.get(1),
                row.get::<_, &[u8]>(2),
                &mut |e: &RiskEvent| visit(label, e),
            )
        })
    }
}

/// A feed file being written inside one PostgreSQL transaction; dropped without commit, the
/// transaction rolls back and nothing of it remains.
struct PgFeedFileWriter<'a> {
    tx: Transaction<'a>,
    /// The organisation the file was begun for (its key holds it).
    owner: String,
    file_id: i64,
    /// The segment insert, prepared on first use.
    insert: Option<Statement>,
    sorted: Vec<RiskEvent>,
    buf: Vec<u8>,
}

impl FeedFileWriter for PgFeedFileWriter<'_> {
    fn write_events(
        &mut self,
        risk: &str,
        day: NaiveDate,
        events: &[RiskEvent],
    ) -> Result<(), StoreError> {
        let insert = match &self.insert {
            Some(insert) => insert.clone(),
            None => {
                let insert = self
                    .tx
                    .prepare(
                        "INSERT INTO risk_event_segments (file_id, risk, day, events, data)
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .map_err(pg)?;
                self.insert = Some(insert.clone());
                insert
            }
        };
        let day = day_number(day);
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
            self.tx
                .execute(
                    &insert,
                    &[&self.file_id, &risk, &day, &(chunk.len() as i64), &self.buf],
                )
                .map_err(pg)?;
        }
        Ok(())
    }

    fn commit(self: Box<Self>, record: &FeedFileRecord) -> Result<(), StoreError> {
        greenwatch_store::dataset::same_owner(&self.owner, &record.label)?;
        let counts = serde_json::to_string(&record.counts).expect("counts serialise");
        let mut tx = self.tx;
        tx.execute(
            "UPDATE feed_files SET path = $2, format = $3, report_type = $4, counts = $5,
             ingested_at = $6, owner = $7, tlp = $8 WHERE id = $1",
            &[
                &self.file_id,
                &record.path,
                &record.format,
                &record.report_type,
                &counts,
                &record.ingested_at.0,
                &record.label.owner,
                &record.label.tlp.as_str(),
            ],
        )
        .map_err(pg)?;
        crate::advance_data_generation(&mut tx)?;
        tx.commit().map_err(pg)
    }
}
