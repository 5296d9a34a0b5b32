//! `greenwatch serve`: the web portal over the data directory, until Ctrl-C or SIGTERM, with
//! detection and alert delivery running in the background. The first start (no user yet)
//! creates the operator's administrator and prints its password once.

use crate::commands::accounts::ensure_first_admin;
use crate::commands::alert::SmtpTlsArgs;
use crate::data_dir::DataDir;
use anyhow::Context;
use clap::Args;
use greenwatch_alert::{Outbound, Smtp, SmtpCredentials};
use greenwatch_model::access::{Label, Tlp};
use greenwatch_model::sensor::AddressBlock;
use greenwatch_portal::{
    ensure_self_signed, trusted_proxy, EarlyWarning, PortalConfig, TlsFiles, TrustedProxies,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Organisation and login of the administrator created on first start.
const FIRST_ORG: &str = greenwatch_model::access::OPERATOR_ORG;
const FIRST_ADMIN: &str = "admin";

#[derive(Args)]
pub struct ServeArgs {
    /// Address and port to listen on (without TLS, put a reverse proxy in front of it before
    /// listening beyond loopback, and name it with --trusted-proxy).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// A reverse proxy (address or block, e.g. 10.0.0.0/8; repeatable) whose X-Forwarded-For
    /// names the client: login limits count per client, and without this every client
    /// behind the proxy is the proxy. The header is ignored from anyone else.
    #[arg(long = "trusted-proxy", value_name = "ADDR", value_parser = trusted_proxy)]
    trusted_proxies: Vec<AddressBlock>,
    /// The address people and feed readers reach the portal at (e.g. https://gw.cert.example),
    /// for absolute links such as the Atom feed's; default: the listening address. Links are
    /// never taken from a request's Host header.
    #[arg(long, env = "GREENWATCH_PUBLIC_URL")]
    public_url: Option<String>,
    #[command(flatten)]
    tls: TlsArgs,
    #[command(flatten)]
    warn: WarnArgs,
}

/// Detection after every data change, and deliveries to the stored subscriptions.
#[derive(Args)]
struct WarnArgs {
    /// Owner of the alerts the detector finds in shared (CLEAR, GREEN) data; alerts on an
    /// organisation's own AMBER/RED data belong to that organisation.
    #[arg(long, default_value = FIRST_ORG)]
    alert_org: String,
    /// Least TLP of the alerts the detector raises (stricter when the data read is).
    #[arg(long, default_value = "amber")]
    alert_tlp: Tlp,
    /// Seconds between delivery rounds when no new alert was raised (retries, hand-written
    /// alerts, new subscriptions).
    #[arg(long, default_value_t = 60)]
    deliver_every: u64,
    /// SMTP relay (host:port) e-mail subscriptions are sent through.
    #[arg(long)]
    smtp_relay: Option<String>,
    #[arg(long, default_value = "greenwatch@localhost")]
    smtp_from: String,
    /// SMTP login; the password comes from --smtp-password-file or GREENWATCH_SMTP_PASSWORD,
    /// never from the command line.
    #[arg(long, requires = "smtp_relay")]
    smtp_user: Option<String>,
    #[arg(long, requires = "smtp_user")]
    smtp_password_file: Option<PathBuf>,
    #[command(flatten)]
    smtp_tls: SmtpTlsArgs,
    /// Let subscriptions' webhooks go to loopback and private addresses (by default a webhook
    /// whose host is internal is refused, so members cannot reach into this server's networks).
    #[arg(long)]
    webhooks_to_internal: bool,
}

impl WarnArgs {
    fn early_warning(self) -> anyhow::Result<EarlyWarning> {
        let credentials = match self.smtp_user {
            Some(user) => Some(SmtpCredentials {
                user,
                password: smtp_password(self.smtp_password_file)?,
            }),
            None => None,
        };
        Ok(EarlyWarning {
            label: Label {
                owner: self.alert_org,
                tlp: self.alert_tlp,
            },
            outbound: Outbound {
                relay: match self.smtp_relay {
                    Some(relay) => Some(Smtp {
                        relay,
                        from: self.smtp_from,
                        to: Vec::new(),
                        credentials,
                        security: self.smtp_tls.security()?,
                    }),
                    None => None,
                },
                webhooks_to_internal: self.webhooks_to_internal,
            },
            deliver_every: Duration::from_secs(self.deliver_every.max(1)),
        })
    }
}

fn smtp_password(file: Option<PathBuf>) -> anyhow::Result<String> {
    match file {
        Some(path) => Ok(std::fs::read_to_string(&path)
            .with_context(|| format!("reading the SMTP password from {}", path.display()))?
            .trim_end_matches(['\r', '\n'])
            .to_string()),
        None => std::env::var("GREENWATCH_SMTP_PASSWORD").map_err(|_| {
            anyhow::anyhow!("--smtp-user needs --smtp-password-file or GREENWATCH_SMTP_PASSWORD")
        }),
    }
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
        let made = ensure_self_signed(&data.layout().tls_dir(), &self.tls_self_signed)?;
        eprintln!(
            "HTTPS with a certificate of our own CA: sensors trust {} (--ca)",
            made.ca_cert.display()
        );
        Ok(Some(made.files))
    }
}

/// Creates the operator's first administrator when the store has no user yet, and prints its
/// password once (also `demo`'s first step, before it adds users of its own).
pub fn ensure_operator_admin(data: &DataDir) -> anyhow::Result<()> {
    if let Some(first) =
        ensure_first_admin(&mut *data.open_store()?, FIRST_ORG, FIRST_ADMIN, data.now())?
    {
        println!(
            "Created the first administrator (organisation {FIRST_ORG}).\n  \
             login:    {}\n  password: {}\nThis password is shown only once; change it with \
             `greenwatch user passwd {}`.",
            first.login, first.password, first.login
        );
    }
    Ok(())
}

pub fn run(data: &DataDir, args: ServeArgs) -> anyhow::Result<ExitCode> {
    // An empty directory made on purpose starts an empty portal; a mistyped path does not.
    data.require_dir()?;
    ensure_operator_admin(data)?;
    greenwatch_portal::run(PortalConfig {
        data_dir: data.root().to_path_buf(),
        store: data.store_location().clone(),
        listen: args.listen,
        public_url: args.public_url,
        tls: args.tls.files(data)?,
        early_warning: args.warn.early_warning()?,
        trusted_proxies: TrustedProxies::new(args.trusted_proxies),
    })?;
    Ok(ExitCode::SUCCESS)
}
