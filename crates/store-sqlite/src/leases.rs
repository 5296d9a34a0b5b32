//! Job leases in the embedded store (several processes may share one database file).

use crate::{write_transaction, SqliteStore};
use greenwatch_model::Timestamp;
use greenwatch_store::{LeaseStore, StoreError};
use rusqlite::params;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS job_leases (
    job TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until INTEGER NOT NULL
);
";

impl LeaseStore for SqliteStore {
    fn take_lease(
        &mut self,
        job: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        let tx = write_transaction(&mut self.conn)?;
        let changed = tx.execute(
            "INSERT INTO job_leases (job, holder, until) VALUES (?1, ?2, ?4)
             ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, until = excluded.until
             WHERE job_leases.holder = excluded.holder OR job_leases.until < ?3",
            params![job, holder, now.0, until.0],
        )?;
        tx.commit()?;
        Ok(changed == 1)
    }

    fn release_lease(&mut self, job: &str, holder: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM job_leases WHERE job = ?1 AND holder = ?2",
            params![job, holder],
        )?;
        Ok(())
    }
}
