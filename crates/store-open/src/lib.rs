//! Opens a [`Store`] from its [`StoreLocation`] (`--store sqlite:PATH`). This is the one place
//! that names backends: everything else holds a `Box<dyn Store>` and speaks the traits of
//! `greenwatch-store`, so adding a backend changes this crate and no caller.

use greenwatch_store::{Store, StoreError, StoreLocation};
use greenwatch_store_sqlite::SqliteStore;

/// Opens (creating when needed) the store at `location`.
pub fn open(location: &StoreLocation) -> Result<Box<dyn Store>, StoreError> {
    match location {
        StoreLocation::Sqlite(path) => Ok(Box::new(SqliteStore::open(path)?)),
    }
}

/// Whether a store exists at `location` already (commands that only read or change
/// accounts refuse to create one by mistake).
pub fn exists(location: &StoreLocation) -> bool {
    match location {
        StoreLocation::Sqlite(path) => path.is_file(),
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
        assert!(!exists(&location));
        let store = open(&location).unwrap();
        assert!(store.orgs().unwrap().is_empty());
        assert!(exists(&location));
    }

    #[test]
    fn a_location_without_a_known_backend_says_what_is_expected() {
        let err = "postgres://db/greenwatch"
            .parse::<StoreLocation>()
            .unwrap_err();
        assert!(err.contains("expected sqlite:PATH"), "{err}");
        let err = "sqlite:".parse::<StoreLocation>().unwrap_err();
        assert!(err.contains("needs the database file's path"), "{err}");
    }
}
