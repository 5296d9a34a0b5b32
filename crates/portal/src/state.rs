//! What every handler shares: the IP data and risk catalogue (read once at start) and a small
//! pool of store connections. SQLite is blocking, so queries run on tokio's blocking pool,
//! each on a connection checked out of the pool (WAL lets readers run side by side).

use crate::auth::PasswordChecks;
use crate::cache::ResultCache;
use crate::error::PortalError;
use crate::uploads::Uploads;
use crate::visitor::TrustedProxies;
use anyhow::Context;
use greenwatch_analytics::{AnalyticsError, DataAccess};
use greenwatch_auth::LoginLimiter;
use greenwatch_clock::Clock;
use greenwatch_datadir::DataLayout;
use greenwatch_feeds::Catalogue;
use greenwatch_model::anonymise::CryptoPan;
use greenwatch_model::Timestamp;
use greenwatch_netdb::NetDb;
use greenwatch_store::{Store, StoreLocation};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Idle connections kept for reuse; more are opened when requests need them.
const MAX_IDLE: usize = 8;

/// Query results computed at once (cache misses). One computation can cost a pass over
/// millions of flow tuples; without a bound, a few dozen distinct questions asked together
/// exhaust the CPU and memory and no request completes.
const COMPUTING_AT_ONCE: usize = 4;
/// How long a cache miss waits for a computation slot before it is answered 503.
pub(crate) const COMPUTING_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Clone)]
pub struct AppState {
    data_dir: PathBuf,
    netdb: Arc<NetDb>,
    catalogue: Arc<Catalogue>,
    pool: Arc<StorePool>,
    limiter: Arc<LoginLimiter>,
    password_checks: Arc<PasswordChecks>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    trusted_proxies: Arc<TrustedProxies>,
    cache: Arc<ResultCache>,
    /// Slots for computing query results (`COMPUTING_AT_ONCE`).
    computing: Arc<tokio::sync::Semaphore>,
    uploads: Arc<Uploads>,
    /// The deployment's Crypto-PAn, its key read (or made) on first use.
    anonymiser: Arc<OnceLock<CryptoPan>>,
    /// Whether subscriptions' webhooks may go to internal addresses (`--webhooks-to-internal`).
    webhooks_to_internal: bool,
    /// Where people reach the portal (`--public-url`), for absolute links, without a
    /// trailing `/`.
    public_url: Arc<str>,
    /// Where "now" comes from (session and token expiry, audit times, alert windows).
    clock: Clock,
}

impl AppState {
    /// Opens what the data directory holds (`greenwatch_datadir::DataLayout`).
    pub fn open(data_dir: &Path) -> anyhow::Result<AppState> {
        anyhow::ensure!(
            data_dir.is_dir(),
            "no data directory at {} (create one with `greenwatch demo` or `greenwatch ingest`)",
            data_dir.display()
        );
        let layout = DataLayout::new(data_dir);
        let netdb_dir = layout.netdb_dir();
        let netdb = NetDb::open(&netdb_dir)
            .with_context(|| format!("opening IP data in {}", netdb_dir.display()))?;
        let catalogue = Catalogue::shipped_with_overrides(&layout.risks_file())?;
        Ok(AppState::new(data_dir.to_path_buf(), netdb, catalogue))
    }

    /// Uses the store at `location` instead of the data directory's default one; fails (at
    /// start, not on the first request) when it cannot be opened.
    pub fn with_store(mut self, location: StoreLocation) -> anyhow::Result<AppState> {
        self.pool = Arc::new(StorePool {
            location,
            idle: Mutex::new(Vec::new()),
        });
        self.pool
            .checkout()
            .with_context(|| format!("opening store {}", self.pool.location))?;
        Ok(self)
    }

    /// State over an already loaded netdb and catalogue (tests build these in memory); the
    /// store is the data directory's.
    pub fn new(data_dir: PathBuf, netdb: NetDb, catalogue: Catalogue) -> AppState {
        let pool = StorePool {
            location: DataLayout::new(&data_dir).default_store(),
            idle: Mutex::new(Vec::new()),
        };
        AppState {
            data_dir,
            netdb: Arc::new(netdb),
            catalogue: Arc::new(catalogue),
            pool: Arc::new(pool),
            limiter: Arc::new(LoginLimiter::default()),
            password_checks: Arc::default(),
            trusted_proxies: Arc::default(),
            cache: Arc::new(ResultCache::default()),
            computing: Arc::new(tokio::sync::Semaphore::new(COMPUTING_AT_ONCE)),
            uploads: Arc::new(Uploads::default()),
            anonymiser: Arc::default(),
            webhooks_to_internal: false,
            public_url: Arc::from("http://localhost"),
            clock: Clock::system(),
        }
    }

    /// Takes the time from `clock` (tests pass a manual one and move it) instead of the system.
    pub fn with_clock(mut self, clock: Clock) -> AppState {
        self.clock = clock;
        self
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The current instant of the state's clock.
    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The portal's public address for absolute links (e.g. the Atom feed's).
    pub fn with_public_url(mut self, url: &str) -> AppState {
        self.public_url = Arc::from(url.trim_end_matches('/'));
        self
    }

    pub(crate) fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Lets subscriptions' webhooks go to internal addresses (off by default).
    pub fn with_internal_webhooks(mut self, allowed: bool) -> AppState {
        self.webhooks_to_internal = allowed;
        self
    }

    pub(crate) fn webhooks_to_internal(&self) -> bool {
        self.webhooks_to_internal
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Runs `change` on the blocking pool with a store connection it may write through.
    pub(crate) async fn write<T, F>(&self, change: F) -> Result<T, PortalError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Store) -> Result<T, PortalError> + Send + 'static,
    {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = state.pool.checkout()?;
            change(&mut **store.store.as_mut().expect("present until drop"))
        })
        .await
        .map_err(|e| PortalError::Internal(format!("write task failed: {e}")))?
    }

    pub(crate) fn uploads(&self) -> &Uploads {
        &self.uploads
    }

    pub(crate) fn netdb(&self) -> Arc<NetDb> {
        Arc::clone(&self.netdb)
    }

    pub(crate) fn catalogue(&self) -> Arc<Catalogue> {
        Arc::clone(&self.catalogue)
    }

    pub(crate) fn cache(&self) -> &ResultCache {
        &self.cache
    }

    /// A slot for computing one query result, waiting at most [`COMPUTING_WAIT`]: a server
    /// at its bound answers 503 with `Retry-After` instead of queueing work without end.
    pub(crate) async fn computing_slot(
        &self,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, PortalError> {
        let wait = Arc::clone(&self.computing).acquire_owned();
        match tokio::time::timeout(COMPUTING_WAIT, wait).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(closed)) => Err(PortalError::Internal(format!("computing slots: {closed}"))),
            Err(_) => Err(PortalError::Busy(COMPUTING_WAIT.as_secs())),
        }
    }

    /// The deployment's Crypto-PAn; the first call reads the key, or makes it.
    pub(crate) fn anonymiser(&self) -> Result<&CryptoPan, PortalError> {
        if let Some(pan) = self.anonymiser.get() {
            return Ok(pan);
        }
        let pan = DataLayout::new(&self.data_dir)
            .anonymiser()
            .map_err(|e| PortalError::Internal(e.to_string()))?;
        Ok(self.anonymiser.get_or_init(|| pan))
    }

    pub(crate) fn limiter(&self) -> &LoginLimiter {
        &self.limiter
    }

    /// Believes these reverse proxies' `X-Forwarded-For` (none by default).
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> AppState {
        self.trusted_proxies = Arc::new(proxies);
        self
    }

    pub(crate) fn trusted_proxies(&self) -> &TrustedProxies {
        &self.trusted_proxies
    }

    /// Where logins and password changes check passwords.
    pub(crate) fn password_checks(&self) -> &Arc<PasswordChecks> {
        &self.password_checks
    }

    /// [`AppState::read`] for a question of `greenwatch_analytics`.
    pub(crate) async fn analyse<T, F>(&self, question: F) -> Result<T, PortalError>
    where
        T: Send + 'static,
        F: FnOnce(&DataAccess) -> Result<T, AnalyticsError> + Send + 'static,
    {
        self.read(move |data| question(data).map_err(PortalError::from))
            .await
    }

    /// Runs `query` on the blocking pool with a store connection.
    pub(crate) async fn read<T, F>(&self, query: F) -> Result<T, PortalError>
    where
        T: Send + 'static,
        F: FnOnce(&DataAccess) -> Result<T, PortalError> + Send + 'static,
    {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let store = state.pool.checkout()?;
            query(&DataAccess {
                store: &*store,
                netdb: &state.netdb,
                catalogue: &state.catalogue,
                pan: state.anonymiser()?,
            })
        })
        .await
        .map_err(|e| PortalError::Internal(format!("query task failed: {e}")))?
    }
}

struct StorePool {
    location: StoreLocation,
    idle: Mutex<Vec<Box<dyn Store>>>,
}

impl StorePool {
    /// An idle connection, or a new one.
    fn checkout(self: &Arc<Self>) -> Result<PooledStore, PortalError> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let store = match idle {
            Some(store) => store,
            None => greenwatch_store_open::open(&self.location)?,
        };
        Ok(PooledStore {
            store: Some(store),
            pool: Arc::clone(self),
        })
    }
}

/// A checked-out connection; goes back to the pool when dropped.
struct PooledStore {
    store: Option<Box<dyn Store>>,
    pool: Arc<StorePool>,
}

impl Deref for PooledStore {
    type Target = dyn Store;
    fn deref(&self) -> &(dyn Store + 'static) {
        &**self.store.as_ref().expect("present until drop")
    }
}

impl Drop for PooledStore {
    fn drop(&mut self) {
        if let Some(store) = self.store.take() {
            let mut idle = self.pool.idle.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < MAX_IDLE {
                idle.push(store);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With every computing slot taken, the next cache miss is answered "busy" after the
    /// wait instead of queueing; a slot given back is taken again.
    #[tokio::test(start_paused = true)]
    async fn computations_past_the_bound_are_refused_busy_not_queued() {
        let dir = tempfile::tempdir().unwrap();
        let state = AppState::new(
            dir.path().to_path_buf(),
            NetDb::from_snapshots(Vec::new()),
            Catalogue::shipped(),
        );
        let mut held = Vec::new();
        for _ in 0..COMPUTING_AT_ONCE {
            held.push(state.computing_slot().await.unwrap());
        }
        let busy = state.computing_slot().await.unwrap_err();
        assert!(matches!(busy, PortalError::Busy(5)), "{busy:?}");
        assert_eq!(busy.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        held.pop();
        assert!(state.computing_slot().await.is_ok());
    }
}
