//! The Greenwatch web portal: server-rendered pages with charts, and the JSON API behind them,
//! over the same store and IP data the command line uses. One binary serves everything: the
//! templates are compiled in (askama) and every script, style sheet and map is embedded
//! (rust-embed), so the portal works without any CDN.
//!
//! ```no_run
//! let config = greenwatch_portal::PortalConfig {
//!     data_dir: "greenwatch-data".into(),
//!     store: "sqlite:greenwatch-data/greenwatch.sqlite".parse().unwrap(),
//!     listen: "127.0.0.1:8080".parse().unwrap(),
//!     tls: None,
//!     early_warning: greenwatch_portal::EarlyWarning {
//!         label: greenwatch_model::access::Label {
//!             owner: "local".into(),
//!             tlp: greenwatch_model::access::Tlp::Amber,
//!         },
//!         outbound: Default::default(),
//!         deliver_every: std::time::Duration::from_secs(60),
//!     },
//!     public_url: None,
//!     trusted_proxies: Default::default(),
//! };
//! greenwatch_portal::run(config).unwrap(); // until Ctrl-C or SIGTERM
//! ```
//!
//! Architecture invariants:
//! - no handler reads stored data except through the `data` module (and `sensor_data` for the
//!   sensor network), whose functions take the
//!   [`Viewer`](greenwatch_model::access::Viewer) asking (from the request's [`Visitor`]) and
//!   pass it to the store, which returns only what that viewer may see;
//! - every response carries the security headers of the `security` module; no page has inline
//!   scripts or styles (page data travels in `<script type="application/json">` islands);
//! - the store is blocking (SQLite): every query runs on the blocking thread pool.

mod assets;
mod auth;
mod cache;
mod error;
mod jobs;
mod marking;
mod paging;
mod reads;
mod routes;
mod security;
mod state;
mod tls;
mod uploads;
mod views;
mod visitor;

pub use jobs::early_warning::EarlyWarning;
pub use state::AppState;
pub use tls::{ensure_self_signed, SelfSigned, TlsFiles};
pub use visitor::{trusted_proxy, TrustedProxies, Visitor};

use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Where the portal finds its data and where it listens.
#[derive(Clone, Debug)]
pub struct PortalConfig {
    /// The data directory (`greenwatch --data`): store, IP data, `risks.toml`.
    pub data_dir: PathBuf,
    /// Where the store lives (`--store`; the data directory's embedded database by default).
    pub store: greenwatch_store::StoreLocation,
    pub listen: SocketAddr,
    /// The portal's public address for absolute links (`--public-url`); `None` for the
    /// listening address.
    pub public_url: Option<String>,
    /// Serve HTTPS with this certificate and key (sensors ship batches only over HTTPS).
    pub tls: Option<TlsFiles>,
    /// Detection and alert delivery in the background.
    pub early_warning: EarlyWarning,
    /// Reverse proxies whose `X-Forwarded-For` names the client (login limits count per
    /// client address).
    pub trusted_proxies: TrustedProxies,
}

/// Every route of the portal, with uniform errors, compression and the security headers
/// around them.
pub fn router(state: AppState) -> axum::Router {
    routes::all()
        // Inside authentication: the marking depends on who asks.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            marking::mark,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        // Sensors authenticate with sensor tokens, not user credentials.
        .merge(routes::collector::routes())
        .with_state(state)
        .layer(axum::middleware::from_fn(error::uniform_errors))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(security::add_headers))
}

/// Serves the portal until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub async fn serve(config: PortalConfig) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let address = listener.local_addr()?;
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{address}"));
    // Opening reads the data directory and connects to the store: blocking work, which a
    // store driver may refuse on a thread that drives async tasks.
    let (data_dir, store) = (config.data_dir.clone(), config.store.clone());
    let state = tokio::task::spawn_blocking(move || AppState::open(&data_dir)?.with_store(store))
        .await
        .context("opening the data directory")??
        .with_internal_webhooks(config.early_warning.outbound.webhooks_to_internal)
        .with_public_url(&public_url)
        .with_trusted_proxies(config.trusted_proxies.clone());
    tracing::info!(%address, data = %config.data_dir.display(), store = %config.store, "portal listening");
    eprintln!("Greenwatch portal on {scheme}://{address}/ (Ctrl-C to stop)");
    jobs::start(&state, config.early_warning.clone());
    // Connection info lets the login limiter count failures per client address.
    match &config.tls {
        None => axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving the portal")?,
        Some(files) => axum::serve(
            tls::TlsListener::new(listener, files)?,
            tls::with_peer_address(router(state))
                .into_make_service_with_connect_info::<tls::TlsPeer>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving the portal over HTTPS")?,
    }
    tracing::info!("portal stopped");
    Ok(())
}

/// [`serve`] on a multi-threaded runtime of its own, for callers without one (the CLI).
pub fn run(config: PortalConfig) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let served = runtime.block_on(serve(config));
    // A detection pass or delivery round still running on the blocking pool cannot be
    // interrupted; dropping the runtime would wait for it (a pass can take minutes). Its
    // writes are transactions, so stopping the process leaves the store as before the
    // unfinished one, and the next start redoes it.
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    served
}

/// How long shutdown waits for background work after the last request is answered.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Resolves on the first Ctrl-C or (on Unix) SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    eprintln!("shutting down");
}
