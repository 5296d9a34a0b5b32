//! `greenwatch org|user|token|audit`: portal accounts from the command line (the operator on
//! the machine itself). Passwords are read from stdin or generated and shown once; secrets are
//! stored only as hashes and never logged.

use crate::data_dir::DataDir;
use crate::table;
use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use greenwatch_auth::{hash_password, new_password, new_secret, secret_hash};
use greenwatch_model::access::Role;
use greenwatch_model::account::{
    parse_token_lifetime, token_expiry, Constituency, NewApiToken, Organisation, TokenScope,
    TokensOnNewPassword,
};
use greenwatch_model::sensor::AddressBlock;
use greenwatch_model::Timestamp;
use greenwatch_store::{AccountStore, NewUser};
use std::io::BufRead;
use std::process::ExitCode;

/// Who the audit log names for command-line changes.
pub const CLI_ACTOR: &str = "cli";

#[derive(Args)]
pub struct OrgArgs {
    #[command(subcommand)]
    command: OrgCommand,
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Add an organisation.
    Add {
        /// Short name used in dataset labels: lower-case letters, digits and '-'.
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
    },
    /// List organisations.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Set the networks of an organisation's constituency (replacing the ones it had): the
    /// address space its members may register sensors on. Without --network, print them.
    Networks {
        slug: String,
        /// An address block such as 198.51.100.0/22; repeat for several.
        #[arg(long)]
        network: Vec<AddressBlock>,
    },
}

pub fn run_org(data: &DataDir, args: OrgArgs) -> anyhow::Result<ExitCode> {
    // Adding an organisation is how a deployment starts; everything else needs a store that
    // exists already, so a mistyped --data is refused instead of answering from a new one.
    let mut store = match args.command {
        OrgCommand::Add { .. } => data.open_store()?,
        _ => data.open_existing_store()?,
    };
    match args.command {
        OrgCommand::Add { slug, name } => {
            let org = Organisation {
                slug,
                name,
                created_at: data.now(),
            };
            store.create_org(&org, CLI_ACTOR)?;
            println!("added organisation {}", org.slug);
        }
        OrgCommand::Networks { slug, network } => {
            if !network.is_empty() {
                let constituency = Constituency { networks: network };
                store.set_constituency(&slug, &constituency, CLI_ACTOR, data.now())?;
            }
            for n in store.constituency(&slug)?.networks {
                println!("{n}");
            }
        }
        OrgCommand::List { json } => {
            let orgs = store.orgs()?;
            if json {
                table::print_json(&orgs)?;
            } else {
                let rows: Vec<Vec<String>> = orgs
                    .iter()
                    .map(|o| vec![o.slug.clone(), o.name.clone(), o.created_at.to_string()])
                    .collect();
                table::print(&["org", "name", "created"], &rows);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user. Without --password-stdin a random password is generated and printed once.
    Add {
        /// Login name (usually the e-mail address).
        login: String,
        #[arg(long)]
        org: String,
        /// member, analyst or admin.
        #[arg(long, default_value = "member")]
        role: Role,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users (never their password hashes).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Set a user's password (ends the user's sessions and API tokens).
    Passwd {
        login: String,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
        /// Keep the user's API tokens working (by default they end with the old password).
        #[arg(long)]
        keep_tokens: bool,
    },
}

/// The password from stdin, or a generated one that is printed.
fn password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password")?;
        Ok((line.trim_end_matches(['\r', '\n']).to_string(), false))
    } else {
        Ok((new_password()?, true))
    }
}

pub fn run_user(data: &DataDir, args: UserArgs) -> anyhow::Result<ExitCode> {
    let mut store = data.open_existing_store()?;
    match args.command {
        UserCommand::Add {
            login,
            org,
            role,
            password_stdin,
        } => {
            let (password, generated) = password(password_stdin)?;
            let user = NewUser {
                login,
                org,
                role,
                password_hash: hash_password(&password)?,
            };
            store.create_user(&user, CLI_ACTOR, data.now())?;
            println!("added user {}", user.login);
            if generated {
                println!("password (shown once): {password}");
            }
        }
        UserCommand::List { json } => {
            let users = store.users()?;
            if json {
                table::print_json(&users)?;
            } else {
                let rows: Vec<Vec<String>> = users
                    .iter()
                    .map(|u| {
                        vec![
                            u.id.to_string(),
                            u.login.clone(),
                            u.org.clone(),
                            format!("{:?}", u.role).to_lowercase(),
                            if u.disabled { "disabled" } else { "active" }.into(),
                        ]
                    })
                    .collect();
                table::print(&["id", "login", "org", "role", "state"], &rows);
            }
        }
        UserCommand::Passwd {
            login,
            password_stdin,
            keep_tokens,
        } => {
            let Some(user) = store.user_by_login(&login)? else {
                bail!("no user {login:?}");
            };
            let (password, generated) = password(password_stdin)?;
            let tokens = if keep_tokens {
                TokensOnNewPassword::Keep
            } else {
                TokensOnNewPassword::Revoke
            };
            store.set_password(
                user.id,
                &hash_password(&password)?,
                tokens,
                CLI_ACTOR,
                data.now(),
            )?;
            println!(
                "password of {} changed; its sessions{} have ended",
                user.login,
                if keep_tokens { "" } else { " and API tokens" }
            );
            if generated {
                println!("password (shown once): {password}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user; the secret is printed once and stored only as a hash.
    Add {
        login: String,
        /// What the token is for.
        #[arg(long)]
        name: String,
        /// What it may do, comma-separated: read (every GET), upload (captures and feed
        /// files), sensor (register and revoke sensors), triage (change alert states).
        #[arg(long, default_value = "read", value_parser = TokenScope::parse_list)]
        scope: std::vec::Vec<TokenScope>,
        /// How long it works: 30d, 12w, 6m, 1y (at most 366 days), or never.
        #[arg(long, default_value = "90d", value_parser = parse_token_lifetime)]
        expires: std::option::Option<i64>,
    },
    /// List a user's tokens.
    List {
        login: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id.
    Revoke { id: i64 },
}

pub fn run_token(data: &DataDir, args: TokenArgs) -> anyhow::Result<ExitCode> {
    let mut store = data.open_existing_store()?;
    let user_id = |store: &dyn AccountStore, login: &str| -> anyhow::Result<i64> {
        Ok(store
            .user_by_login(login)?
            .with_context(|| format!("no user {login:?}"))?
            .id)
    };
    match args.command {
        TokenCommand::Add {
            login,
            name,
            scope,
            expires,
        } => {
            let id = user_id(&*store, &login)?;
            let secret = new_secret()?;
            let at = data.now();
            let asked = NewApiToken::new(&name, &scope, token_expiry(at, expires));
            let token = store.create_token(id, &asked, &secret_hash(&secret), CLI_ACTOR, at)?;
            let until = asked
                .expires_at
                .map_or_else(|| "never expires".to_string(), |t| format!("expires {t}"));
            println!(
                "token {token} for {login} (scopes {}, {until}); secret (shown once): {secret}",
                TokenScope::list(&scope)
            );
        }
        TokenCommand::List { login, json } => {
            let tokens = store.tokens(user_id(&*store, &login)?)?;
            let at = data.now();
            if json {
                table::print_json(&tokens)?;
            } else {
                let rows: Vec<Vec<String>> = tokens
                    .iter()
                    .map(|t| {
                        vec![
                            t.id.to_string(),
                            t.name.clone(),
                            TokenScope::list(&t.scopes),
                            t.created_at.to_string(),
                            t.last_used_at
                                .map(|t| t.to_string())
                                .unwrap_or_else(|| "-".into()),
                            t.expires_at
                                .map(|t| t.to_string())
                                .unwrap_or_else(|| "never".into()),
                            if t.revoked {
                                "revoked"
                            } else if t.expired(at) {
                                "expired"
                            } else {
                                "active"
                            }
                            .into(),
                        ]
                    })
                    .collect();
                table::print(
                    &[
                        "id",
                        "name",
                        "scopes",
                        "created",
                        "last used",
                        "expires",
                        "state",
                    ],
                    &rows,
                );
            }
        }
        TokenCommand::Revoke { id } => {
            store.revoke_token(id, CLI_ACTOR, data.now())?;
            println!("token {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct AuditArgs {
    /// Entries to show, newest first.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    #[arg(long)]
    json: bool,
}

pub fn run_audit(data: &DataDir, args: AuditArgs) -> anyhow::Result<ExitCode> {
    let store = data.open_existing_store()?;
    let log = store.audit_log(args.limit)?;
    if args.json {
        table::print_json(&log)?;
    } else {
        let rows: Vec<Vec<String>> = log
            .iter()
            .map(|e| {
                vec![
                    e.at.to_string(),
                    e.actor.clone(),
                    e.action.clone(),
                    e.target.clone(),
                    e.detail.clone(),
                ]
            })
            .collect();
        table::print(&["when", "who", "action", "target", "detail"], &rows);
    }
    Ok(ExitCode::SUCCESS)
}

/// The first administrator, created when the store has no user yet (first start of `serve`).
pub struct FirstAdmin {
    pub login: String,
    /// Generated, shown once.
    pub password: String,
}

/// Creates organisation `org` and its administrator `admin` with a generated password when
/// there is no user at all; otherwise does nothing.
pub fn ensure_first_admin(
    store: &mut dyn AccountStore,
    org: &str,
    admin: &str,
    at: Timestamp,
) -> anyhow::Result<Option<FirstAdmin>> {
    if !store.users()?.is_empty() {
        return Ok(None);
    }
    if !store.orgs()?.iter().any(|o| o.slug == org) {
        let organisation = Organisation {
            slug: org.to_string(),
            name: org.to_string(),
            created_at: at,
        };
        store.create_org(&organisation, "system")?;
    }
    let password = new_password()?;
    let user = NewUser {
        login: admin.to_string(),
        org: org.to_string(),
        role: Role::Admin,
        password_hash: hash_password(&password)?,
    };
    store.create_user(&user, "system", at)?;
    Ok(Some(FirstAdmin {
        login: user.login,
        password,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenwatch_store::StoreLocation;

    #[test]
    fn the_first_admin_is_created_once_with_a_password_that_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let mut store =
            greenwatch_store_open::open(&StoreLocation::Sqlite(dir.path().join("s.sqlite")))
                .unwrap();
        let first = ensure_first_admin(&mut *store, "operator", "admin", Timestamp(0))
            .unwrap()
            .unwrap();
        let user = store.user_by_login("admin").unwrap().unwrap();
        assert_eq!((user.role, user.org.as_str()), (Role::Admin, "operator"));
        assert!(greenwatch_auth::verify_password(
            &user.password_hash,
            &first.password
        ));
        assert!(
            ensure_first_admin(&mut *store, "operator", "admin", Timestamp(0))
                .unwrap()
                .is_none()
        );
        let other = tempfile::tempdir().unwrap();
        let mut second =
            greenwatch_store_open::open(&StoreLocation::Sqlite(other.path().join("s.sqlite")))
                .unwrap();
        let again = ensure_first_admin(&mut *second, "operator", "admin", Timestamp(0))
            .unwrap()
            .unwrap();
        assert_ne!(first.password, again.password, "no fixed password");
    }
}
