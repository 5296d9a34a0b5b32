//! The data directory: where the embedded store and the imported IP data live.

use anyhow::Context;
use greenwatch_clock::Clock;
use greenwatch_datadir::DataLayout;
use greenwatch_feeds::{Catalogue, CatalogueError};
use greenwatch_model::Timestamp;
use greenwatch_netdb::NetDb;
use greenwatch_store::{Store, StoreLocation};
use std::path::{Path, PathBuf};

/// How a data directory comes to hold a store, for the errors of commands that only read.
const HOW_TO_CREATE: &str =
    "store data there first with `greenwatch --data <dir> ingest pcap|feed ...`, \
     or build a demo directory with `greenwatch --data <dir> demo`";

/// The data directory `--data` names: its layout (`greenwatch_datadir`), opened as each
/// command needs it, and the store `--store` names (the directory's embedded one by default).
pub struct DataDir {
    root: PathBuf,
    layout: DataLayout,
    store: StoreLocation,
    /// Where every command's "now" comes from (audit times, expiries, detection windows).
    clock: Clock,
}

impl DataDir {
    /// The data directory at `root` with the store `--store` names, else the one its
    /// `greenwatch.toml` names, else its embedded one.
    pub fn new(root: PathBuf, store: Option<StoreLocation>) -> anyhow::Result<DataDir> {
        let layout = DataLayout::new(&root);
        let store = match store {
            Some(store) => store,
            None => layout
                .configured_store()?
                .unwrap_or_else(|| layout.default_store()),
        };
        Ok(DataDir {
            store,
            layout,
            root,
            clock: Clock::system(),
        })
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The current instant of the commands' clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Where the store lives.
    pub fn store_location(&self) -> &StoreLocation {
        &self.store
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where each file of the deployment lives.
    pub fn layout(&self) -> &DataLayout {
        &self.layout
    }

    pub fn netdb_dir(&self) -> PathBuf {
        self.layout.netdb_dir()
    }

    fn ensure(&self) -> anyhow::Result<&Path> {
        std::fs::create_dir_all(&self.root)
            .with_context(|| format!("creating data directory {}", self.root.display()))?;
        Ok(&self.root)
    }

    /// The store, made (with the directory) when there is none yet: for the commands that
    /// create data (`ingest`, `demo`, `org add`, ...).
    pub fn open_store(&self) -> anyhow::Result<Box<dyn Store>> {
        self.ensure()?;
        greenwatch_store_open::open(&self.store)
            .with_context(|| format!("opening store {}", self.store))
    }

    /// The store of a directory that already holds one, for the commands that only read: a
    /// mistyped `--data` is refused, naming the path, instead of reading a new empty store.
    pub fn open_existing_store(&self) -> anyhow::Result<Box<dyn Store>> {
        self.require_store()?;
        self.open_store()
    }

    /// Refuses a data directory that does not exist, or holds no store yet.
    pub fn require_store(&self) -> anyhow::Result<()> {
        self.require_dir()?;
        if !greenwatch_store_open::exists(&self.store)? {
            anyhow::bail!(
                "data directory {} holds no store yet (no {}): {}",
                self.root.display(),
                self.store,
                HOW_TO_CREATE
            );
        }
        Ok(())
    }

    /// Refuses a data directory that does not exist (`serve` may start on an empty one).
    pub fn require_dir(&self) -> anyhow::Result<()> {
        if !self.root.is_dir() {
            anyhow::bail!(
                "data directory {} does not exist: check --data (or GREENWATCH_DATA), {}",
                self.root.display(),
                HOW_TO_CREATE
            );
        }
        Ok(())
    }

    pub fn open_netdb(&self) -> anyhow::Result<NetDb> {
        let dir = self.netdb_dir();
        NetDb::open(&dir).with_context(|| format!("opening IP data in {}", dir.display()))
    }

    /// The shipped risk catalogue with the operator's `<data>/risks.toml` laid over it.
    pub fn catalogue(&self) -> Result<Catalogue, CatalogueError> {
        Catalogue::shipped_with_overrides(&self.layout.risks_file())
    }
}
