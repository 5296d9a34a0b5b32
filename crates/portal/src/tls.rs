//! HTTPS for the portal and its sensor collector: rustls with the ring provider over the
//! same axum service. TLS handshakes run in their own tasks, so a slow or broken client never
//! holds up the others. `ensure_self_signed` makes a small CA and a server certificate for
//! deployments without a PKI; sensors then trust `ca.crt`.

use anyhow::Context;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request};
use axum::serve::IncomingStream;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// PEM files of the server's certificate chain and private key.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What [`ensure_self_signed`] made or found.
#[derive(Clone, Debug)]
pub struct SelfSigned {
    pub files: TlsFiles,
    /// The CA certificate sensors must trust (`greenwatch sensor run --ca`).
    pub ca_cert: PathBuf,
}

/// The CA and server certificate in `dir` (`ca.crt`, `server.crt`, `server.key`), made on
/// first use for the host `names` (DNS names or IP addresses) and kept afterwards.
pub fn ensure_self_signed(dir: &Path, names: &[String]) -> anyhow::Result<SelfSigned> {
    let out = SelfSigned {
        files: TlsFiles {
            cert: dir.join("server.crt"),
            key: dir.join("server.key"),
        },
        ca_cert: dir.join("ca.crt"),
    };
    if out.files.cert.exists() && out.files.key.exists() && out.ca_cert.exists() {
        return Ok(out);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let ca_key = rcgen::KeyPair::generate()?;
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Greenwatch collector CA");
    let ca = ca_params.self_signed(&ca_key)?;
    let server_key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(names.to_vec())
        .context("the TLS names must be DNS names or IP addresses")?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Greenwatch collector");
    let server = params.signed_by(&server_key, &ca, &ca_key)?;
    write_private(&out.files.key, server_key.serialize_pem().as_bytes())?;
    std::fs::write(&out.files.cert, server.pem())?;
    std::fs::write(&out.ca_cert, ca.pem())?;
    Ok(out)
}

/// Writes a private key readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

fn server_config(files: &TlsFiles) -> anyhow::Result<rustls::ServerConfig> {
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("reading certificates from {}", files.cert.display()))?;
    anyhow::ensure!(
        !certs.is_empty(),
        "{} holds no certificate",
        files.cert.display()
    );
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .with_context(|| format!("reading the private key from {}", files.key.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .context("the certificate does not match the key")?;
    Ok(config)
}

/// A TCP listener whose connections come out TLS-wrapped and handshaken.
pub(crate) struct TlsListener {
    connections: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    pub(crate) fn new(listener: TcpListener, files: &TlsFiles) -> anyhow::Result<TlsListener> {
        let acceptor = TlsAcceptor::from(Arc::new(server_config(files)?));
        let local = listener.local_addr()?;
        let (to_server, connections) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        tracing::warn!("accepting a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let (acceptor, to_server) = (acceptor.clone(), to_server.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            let _ = to_server.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { connections, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.connections.recv().await {
            Some(connection) => connection,
            // The accepting task never ends while the runtime runs.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// The client address of a TLS connection. The handlers (the login limiter) read the same
/// `ConnectInfo<SocketAddr>` as over plain HTTP: [`with_peer_address`] copies it there.
#[derive(Copy, Clone, Debug)]
pub(crate) struct TlsPeer(SocketAddr);

impl Connected<IncomingStream<'_, TlsListener>> for TlsPeer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        TlsPeer(*stream.remote_addr())
    }
}

/// `router` with each request's `ConnectInfo<TlsPeer>` also given as `ConnectInfo<SocketAddr>`.
pub(crate) fn with_peer_address(router: axum::Router) -> axum::Router {
    router.layer(axum::middleware::map_request(copy_peer))
}

async fn copy_peer(ConnectInfo(peer): ConnectInfo<TlsPeer>, mut request: Request) -> Request {
    request.extensions_mut().insert(ConnectInfo(peer.0));
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_material_is_made_once_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let made = ensure_self_signed(dir.path(), &names).unwrap();
        let first = std::fs::read(&made.files.cert).unwrap();
        server_config(&made.files).unwrap();
        let again = ensure_self_signed(dir.path(), &names).unwrap();
        assert_eq!(std::fs::read(&again.files.cert).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&made.files.key)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the key is private");
        }
        let wrong = TlsFiles {
            cert: made.ca_cert.clone(),
            key: made.files.key.clone(),
        };
        assert!(server_config(&wrong).is_err());
    }
}
