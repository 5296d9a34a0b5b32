//! `greenwatch serve`: the web portal over the data directory, until Ctrl-C or SIGTERM. The
//! first start (no user yet) creates the operator's administrator and prints its password once.

use crate::commands::accounts::ensure_first_admin;
use crate::data_dir::DataDir;
use clap::Args;
use greenwatch_portal::{ensure_self_signed, PortalConfig, TlsFiles};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Organisation and login of the administrator created on first start.
const FIRST_ORG: &str = "operator";
const FIRST_ADMIN: &str = "admin";

#[derive(Args)]
pub struct ServeArgs {
    /// Address and port to listen on (without TLS, put a reverse proxy in front of it before
    /// listening beyond loopback).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    tls: TlsArgs,
}

/// HTTPS: sensors ship batches to `/api/v1/sensor/batches` only over HTTPS.
#[derive(Args)]
struct TlsArgs {
    /// PEM certificate chain to serve HTTPS with (with --tls-key).
    #[arg(long, requires = "tls_key", conflicts_with = "tls_self_signed")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve HTTPS with a certificate from a CA of our own, made once in <data>/tls/ for
    /// these host names or addresses (comma-separated); sensors trust <data>/tls/ca.crt.
    #[arg(long, value_delimiter = ',')]
    tls_self_signed: Vec<String>,
}

impl TlsArgs {
    fn files(self, data: &DataDir) -> anyhow::Result<Option<TlsFiles>> {
        if let (Some(cert), Some(key)) = (self.tls_cert, self.tls_key) {
            return Ok(Some(TlsFiles { cert, key }));
        }
        if self.tls_self_signed.is_empty() {
            return Ok(None);
        }
        let made = ensure_self_signed(&data.root().join("tls"), &self.tls_self_signed)?;
        eprintln!(
            "HTTPS with a certificate of our own CA: sensors trust {} (--ca)",
            made.ca_cert.display()
        );
        Ok(Some(made.files))
    }
}

pub fn run(data: &DataDir, args: ServeArgs) -> anyhow::Result<ExitCode> {
    if let Some(first) = ensure_first_admin(&mut data.open_store()?, FIRST_ORG, FIRST_ADMIN)? {
        println!(
            "Created the first administrator (organisation {FIRST_ORG}).\n  \
             login:    {}\n  password: {}\nThis password is shown only once; change it with \
             `greenwatch user passwd {}`.",
            first.login, first.password, first.login
        );
    }
    greenwatch_portal::run(PortalConfig {
        data_dir: data.root().to_path_buf(),
        listen: args.listen,
        tls: args.tls.files(data)?,
    })?;
    Ok(ExitCode::SUCCESS)
}
