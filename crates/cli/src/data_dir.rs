//! The data directory: where the embedded store and the imported IP data live.

use anyhow::Context;
use greenwatch_feeds::{Catalogue, CatalogueError};
use greenwatch_netdb::NetDb;
use greenwatch_store::SqliteStore;
use std::path::{Path, PathBuf};

pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: PathBuf) -> DataDir {
        DataDir { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn netdb_dir(&self) -> PathBuf {
        self.root.join("netdb")
    }

    fn ensure(&self) -> anyhow::Result<&Path> {
        std::fs::create_dir_all(&self.root)
            .with_context(|| format!("creating data directory {}", self.root.display()))?;
        Ok(&self.root)
    }

    pub fn open_store(&self) -> anyhow::Result<SqliteStore> {
        let path = self.ensure()?.join("greenwatch.sqlite");
        SqliteStore::open(&path).with_context(|| format!("opening store {}", path.display()))
    }

    pub fn open_netdb(&self) -> anyhow::Result<NetDb> {
        let dir = self.netdb_dir();
        NetDb::open(&dir).with_context(|| format!("opening IP data in {}", dir.display()))
    }

    /// The shipped risk catalogue with the operator's `<data>/risks.toml` laid over it.
    pub fn catalogue(&self) -> Result<Catalogue, CatalogueError> {
        Catalogue::shipped_with_overrides(&self.root.join("risks.toml"))
    }
}
