//! `greenwatch alert list|triage|add|deliver|subscribe|unsubscribe|subscriptions`: the stored
//! alerts (filtered; acknowledged, resolved or reopened),
//! alerts written by hand, pushing them to a webhook or over SMTP once, and the stored
//! subscriptions `greenwatch serve` delivers to.

use crate::data_dir::DataDir;
use crate::table;
use clap::{Args, Subcommand};
use greenwatch_alert::{
    deliver_pending, Channel, Retry, Smtp, SmtpCredentials, SmtpSecurity, Webhook,
};
use greenwatch_model::access::{Label, Role, Tlp, Viewer};
use greenwatch_model::alert::{
    AlertQuery, AlertState, NewAlert, NewSubscription, Severity, SubscriptionChannel,
};
use greenwatch_model::anonymise::CryptoPan;
use greenwatch_model::Timestamp;
use greenwatch_store::AlertStore;
use std::process::ExitCode;

#[derive(clap::Parser)]
pub struct AlertArgs {
    #[command(subcommand)]
    command: AlertCommand,
}

#[derive(Subcommand)]
enum AlertCommand {
    /// The newest alerts (all of them: the command line sees everything), filtered.
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// This severity or a higher one.
        #[arg(long)]
        severity: Option<Severity>,
        /// surge, level-up, level-down or manual.
        #[arg(long)]
        kind: Option<String>,
        /// Text an affected series contains (`5555/tcp`, `country CN`).
        #[arg(long)]
        subject: Option<String>,
        /// open, acknowledged or resolved.
        #[arg(long)]
        state: Option<AlertState>,
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge, resolve or reopen alerts (audited as `alert.state` by `--actor`).
    Triage {
        /// Alert ids.
        #[arg(required = true)]
        ids: Vec<i64>,
        /// open, acknowledged or resolved.
        #[arg(long)]
        state: AlertState,
        /// Who does it, for the audit log.
        #[arg(long)]
        actor: String,
        #[arg(long)]
        json: bool,
    },
    /// Write an alert by hand.
    Add {
        #[arg(long)]
        title: String,
        #[arg(long)]
        summary: String,
        #[arg(long, default_value = "medium")]
        severity: Severity,
        /// Affected series or assets, repeatable.
        #[arg(long)]
        affected: Vec<String>,
        /// When it was first seen (default: now).
        #[arg(long)]
        first_seen: Option<Timestamp>,
        #[arg(long)]
        author: String,
        #[arg(long)]
        org: String,
        #[arg(long, default_value = "amber")]
        tlp: Tlp,
    },
    /// Push every alert a subscriber may see and has not received to a webhook or over SMTP.
    Deliver(DeliverArgs),
    /// Store a subscription: `serve` sends it every later alert its organisation may see.
    Subscribe(SubscribeArgs),
    /// Remove a stored subscription.
    Unsubscribe { id: i64 },
    /// The stored subscriptions (never their secrets).
    Subscriptions {
        #[arg(long)]
        org: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct SubscribeArgs {
    /// The subscribing organisation: it receives what its members may see, nothing more.
    #[arg(long)]
    org: String,
    /// Webhook URL (JSON POST signed with HMAC-SHA256 in X-Greenwatch-Signature).
    #[arg(long, requires = "secret_env", conflicts_with = "email")]
    webhook: Option<String>,
    /// Environment variable holding the webhook's shared secret (never on the command line).
    #[arg(long)]
    secret_env: Option<String>,
    /// E-mail recipient, repeatable (sent through serve's SMTP relay).
    #[arg(long)]
    email: Vec<String>,
    /// Alerts below this severity are not sent.
    #[arg(long, default_value = "low")]
    min_severity: Severity,
    /// Let the webhook go to an internal address (loopback, private networks), as
    /// `serve --webhooks-to-internal` must then allow too; refused by default.
    #[arg(long)]
    webhooks_to_internal: bool,
}

#[derive(Args)]
struct DeliverArgs {
    /// The subscriber's organisation (it receives what its members may see); without it, only
    /// TLP:CLEAR alerts go out.
    #[arg(long)]
    org: Option<String>,
    /// Webhook URL (JSON POST signed with HMAC-SHA256 in X-Greenwatch-Signature).
    #[arg(long, requires = "secret_env")]
    webhook: Option<String>,
    /// Environment variable holding the webhook's shared secret.
    #[arg(long)]
    secret_env: Option<String>,
    /// SMTP relay host:port.
    #[arg(long, requires = "to")]
    smtp: Option<String>,
    #[arg(long, default_value = "greenwatch@localhost")]
    from: String,
    /// Recipient, repeatable.
    #[arg(long)]
    to: Vec<String>,
    /// SMTP login; the password comes from GREENWATCH_SMTP_PASSWORD.
    #[arg(long)]
    smtp_user: Option<String>,
    #[command(flatten)]
    tls: SmtpTlsArgs,
    /// Attempts per alert before giving up until the next run.
    #[arg(long, default_value_t = 5)]
    attempts: u32,
    #[arg(long)]
    json: bool,
}

/// STARTTLS to the SMTP relay (`alert deliver` and `serve`).
#[derive(Args)]
pub struct SmtpTlsArgs {
    /// Move the SMTP conversation to TLS before logging in or sending (required: a relay
    /// without STARTTLS gets nothing).
    #[arg(long)]
    smtp_starttls: bool,
    /// PEM CA certificate(s) the relay's certificate must chain to (default: the public web
    /// PKI roots).
    #[arg(long, requires = "smtp_starttls")]
    smtp_ca: Option<std::path::PathBuf>,
}

impl SmtpTlsArgs {
    pub fn security(&self) -> anyhow::Result<SmtpSecurity> {
        if !self.smtp_starttls {
            return Ok(SmtpSecurity::Plain);
        }
        SmtpSecurity::start_tls(self.smtp_ca.as_deref()).map_err(anyhow::Error::msg)
    }
}

pub fn run(data: &DataDir, args: AlertArgs) -> anyhow::Result<ExitCode> {
    // Listing, triage and delivery read alerts that must exist: a mistyped --data is refused.
    if !matches!(
        args.command,
        AlertCommand::Add { .. } | AlertCommand::Subscribe(_)
    ) {
        data.require_store()?;
    }
    let mut store = data.open_store()?;
    match args.command {
        AlertCommand::List {
            limit,
            severity,
            kind,
            subject,
            state,
            json,
        } => {
            let query = AlertQuery {
                min_severity: severity,
                kind,
                subject,
                state,
                offset: 0,
                limit,
            };
            let alerts = store.alert_page(&Viewer::Local, &query)?.alerts;
            if json {
                table::print_json(&alerts)?;
            } else {
                let rows: Vec<Vec<String>> = alerts
                    .iter()
                    .map(|a| {
                        vec![
                            a.id.to_string(),
                            a.alert.first_seen.to_rfc3339(),
                            a.alert.severity.to_string(),
                            a.triage.state.to_string(),
                            a.alert.label.tlp.to_string(),
                            a.alert.title.clone(),
                        ]
                    })
                    .collect();
                table::print(
                    &["ID", "FIRST SEEN", "SEVERITY", "STATE", "TLP", "TITLE"],
                    &rows,
                );
            }
        }
        AlertCommand::Triage {
            ids,
            state,
            actor,
            json,
        } => {
            let done = greenwatch_alert::triage(
                &mut *store,
                &Viewer::Local,
                &ids,
                state,
                &actor,
                data.now(),
            )?;
            if json {
                table::print_json(&done)?;
            } else {
                println!("{} alert(s) {state}", done.changed);
            }
            if !done.refused.is_empty() {
                eprintln!("no such alert: {:?}", done.refused);
                return Ok(ExitCode::from(2));
            }
        }
        AlertCommand::Add {
            title,
            summary,
            severity,
            affected,
            first_seen,
            author,
            org,
            tlp,
        } => {
            let now = data.now();
            let first_seen = first_seen.unwrap_or(now);
            let (id, _) = store.raise_alert(&NewAlert {
                key: None,
                severity,
                title,
                summary,
                affected,
                first_seen,
                last_seen: first_seen,
                author,
                label: Label { owner: org, tlp },
                evidence: None,
                created_at: now,
            })?;
            println!("{id}");
        }
        AlertCommand::Deliver(args) => {
            let pan = data.layout().anonymiser()?;
            return deliver(&mut *store, &pan, args, data);
        }
        AlertCommand::Subscribe(args) => {
            let channel = match (args.webhook, args.secret_env) {
                (Some(url), Some(var)) => SubscriptionChannel::Webhook {
                    url,
                    secret: secret_from_env(&var)?,
                },
                _ if !args.email.is_empty() => SubscriptionChannel::Email { to: args.email },
                _ => anyhow::bail!("give --webhook URL --secret-env VAR or --email ADDRESS"),
            };
            let new = NewSubscription {
                org: args.org,
                channel,
                min_severity: args.min_severity,
                created_by: crate::commands::accounts::CLI_ACTOR.into(),
                created_at: data.now(),
            };
            let made = greenwatch_alert::subscribe(&mut *store, &new, args.webhooks_to_internal)?;
            println!("{}", made.id);
        }
        AlertCommand::Unsubscribe { id } => {
            anyhow::ensure!(
                store.unsubscribe(id, None, crate::commands::accounts::CLI_ACTOR, data.now())?,
                "no subscription {id}"
            );
        }
        AlertCommand::Subscriptions { org, json } => {
            let list = store.subscriptions(org.as_deref())?;
            if json {
                let objects: Vec<serde_json::Value> = list
                    .iter()
                    .map(|s| {
                        let new = &s.subscription;
                        serde_json::json!({
                            "id": s.id,
                            "org": new.org,
                            "channel": new.channel.kind(),
                            "target": new.channel.target(),
                            "min_severity": new.min_severity,
                            "created_by": new.created_by,
                            "created_at": new.created_at,
                        })
                    })
                    .collect();
                table::print_json(&objects)?;
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|s| {
                        let new = &s.subscription;
                        vec![
                            s.id.to_string(),
                            new.org.clone(),
                            new.channel.kind().into(),
                            new.channel.target(),
                            new.min_severity.to_string(),
                            new.created_by.clone(),
                        ]
                    })
                    .collect();
                table::print(
                    &["ID", "ORG", "CHANNEL", "TARGET", "MIN SEVERITY", "BY"],
                    &rows,
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn secret_from_env(var: &str) -> anyhow::Result<String> {
    std::env::var(var)
        .map_err(|_| anyhow::anyhow!("environment variable {var} (the webhook secret) is not set"))
}

fn deliver(
    store: &mut dyn AlertStore,
    pan: &CryptoPan,
    args: DeliverArgs,
    data: &DataDir,
) -> anyhow::Result<ExitCode> {
    let mut channels: Vec<Box<dyn Channel>> = Vec::new();
    if let (Some(url), Some(var)) = (args.webhook, args.secret_env) {
        let secret = secret_from_env(&var)?;
        channels.push(Box::new(Webhook { url, secret }));
    }
    if let Some(relay) = args.smtp {
        let credentials = match args.smtp_user {
            Some(user) => Some(SmtpCredentials {
                user,
                password: std::env::var("GREENWATCH_SMTP_PASSWORD").map_err(|_| {
                    anyhow::anyhow!("--smtp-user needs GREENWATCH_SMTP_PASSWORD in the environment")
                })?,
            }),
            None => None,
        };
        channels.push(Box::new(Smtp {
            relay,
            from: args.from,
            to: args.to,
            credentials,
            security: args.tls.security()?,
        }));
    }
    anyhow::ensure!(
        !channels.is_empty(),
        "nothing to deliver to: give --webhook or --smtp"
    );
    let subscriber = match args.org {
        Some(org) => Viewer::User {
            org,
            role: Role::Member,
        },
        None => Viewer::Anonymous,
    };
    let retry = Retry {
        attempts: args.attempts,
        ..Retry::default()
    };
    let mut report = Vec::new();
    let mut failed = false;
    for channel in &channels {
        for (id, delivery) in
            deliver_pending(store, &subscriber, pan, channel.as_ref(), &retry, || {
                data.now()
            })?
        {
            failed |= delivery.outcome.is_err();
            report.push(serde_json::json!({
                "alert": id,
                "channel": channel.name(),
                "attempts": delivery.attempts,
                "delivered": delivery.outcome.is_ok(),
                "error": delivery.outcome.err(),
            }));
        }
    }
    if args.json {
        table::print_json(&report)?;
    } else {
        eprintln!(
            "{} deliveries, {} failed",
            report.len(),
            report.iter().filter(|r| r["delivered"] == false).count()
        );
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
