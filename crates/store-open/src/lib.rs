//! Opens a [`Store`] from its [`StoreLocation`] (`--store sqlite:PATH` or `postgres://…`). This is the one place
//! that names backends: everything else holds a `Box<dyn Store>` and speaks the traits of
//! `greenwatch-store`, so adding a backend changes this crate and no caller.

mod copy;

pub use copy::CopyReport;
use greenwatch_store::{Store, StoreError, StoreLocation};
use greenwatch_store_postgres::PostgresStore;
use greenwatch_store_sqlite::SqliteStore;

/// Opens (creating when needed) the store at `location`.
pub fn open(location: &StoreLocation) -> Result<Box<dyn Store>, StoreError> {
    match location {
        StoreLocation::Sqlite(path) => Ok(Box::new(SqliteStore::open(path)?)),
        StoreLocation::Postgres(url) => Ok(Box::new(PostgresStore::open(url)?)),
    }
}

/// Whether a store exists at `location` already (commands that only read or change
/// accounts refuse to create one by mistake: a mistyped `--data`). A PostgreSQL database is
/// named explicitly and is a store as soon as it can be reached (its schema is made on first
/// open); one that cannot be reached is an error naming it, not "no store".
pub fn exists(location: &StoreLocation) -> Result<bool, StoreError> {
    match location {
        StoreLocation::Sqlite(path) => Ok(path.is_file()),
        StoreLocation::Postgres(url) => PostgresStore::schema_version(url).map(|_| true),
    }
}

/// The schema versions of the store at `location` after bringing it up to date: (before,
/// after). The embedded store migrates itself on open and has no version number: `None`.
pub fn migrate(location: &StoreLocation) -> Result<Option<(i64, i64)>, StoreError> {
    match location {
        StoreLocation::Sqlite(path) => {
            drop(SqliteStore::open(path)?);
            Ok(None)
        }
        StoreLocation::Postgres(url) => PostgresStore::migrate(url).map(Some),
    }
}

/// Copies everything the store at `from` holds into the empty store at `to` (embedded to
/// PostgreSQL: the way a deployment outgrows one machine), reporting rows per table.
pub fn copy_store(
    from: &StoreLocation,
    to: &StoreLocation,
    progress: &mut dyn FnMut(&str, u64),
) -> Result<CopyReport, StoreError> {
    match (from, to) {
        (StoreLocation::Sqlite(path), StoreLocation::Postgres(url)) => {
            copy::copy_sqlite_to_postgres(path, url, progress)
        }
        _ => Err(StoreError::Conflict(format!(
            "cannot copy {from} to {to}: only an embedded store (sqlite:) moves to PostgreSQL"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_location_opens_the_embedded_store_and_then_exists() {
        let dir = tempfile::tempdir().unwrap();
        let location: StoreLocation = format!("sqlite:{}", dir.path().join("g.sqlite").display())
            .parse()
            .unwrap();
        assert!(!exists(&location).unwrap());
        let store = open(&location).unwrap();
        assert!(store.orgs().unwrap().is_empty());
        assert!(exists(&location).unwrap());
    }

    #[test]
    fn an_unreachable_postgres_server_is_an_error_naming_it_not_an_empty_store() {
        // Port 9 (discard) on loopback: nothing listens there in the tests' sandboxes.
        let location: StoreLocation = "postgres://greenwatch@127.0.0.1:9/greenwatch"
            .parse()
            .unwrap();
        let err = exists(&location).unwrap_err().to_string();
        assert!(err.contains("127.0.0.1:9"), "{err}");
        let err = open(&location).err().expect("refused").to_string();
        assert!(err.contains("cannot connect to PostgreSQL"), "{err}");
    }

    #[test]
    fn a_location_without_a_known_backend_says_what_is_expected() {
        let err = "clickhouse://db/greenwatch"
            .parse::<StoreLocation>()
            .unwrap_err();
        assert!(err.contains("expected sqlite:PATH"), "{err}");
        let err = "sqlite:".parse::<StoreLocation>().unwrap_err();
        assert!(err.contains("needs the database file's path"), "{err}");
    }
}
