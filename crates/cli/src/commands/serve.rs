//! `greenwatch serve`: the web portal over the data directory, until Ctrl-C or SIGTERM. The
//! first start (no user yet) creates the operator's administrator and prints its password once.

use crate::commands::accounts::ensure_first_admin;
use crate::data_dir::DataDir;
use clap::Args;
use greenwatch_portal::PortalConfig;
use std::net::SocketAddr;
use std::process::ExitCode;

/// Organisation and login of the administrator created on first start.
const FIRST_ORG: &str = "operator";
const FIRST_ADMIN: &str = "admin";

#[derive(Args)]
pub struct ServeArgs {
    /// Address and port to listen on (the portal has no TLS: put a reverse proxy in front
    /// of it before listening beyond loopback).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
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
    })?;
    Ok(ExitCode::SUCCESS)
}
