//! `greenwatch demo`: imports the IP data and builds a data directory in which every page of the
//! portal has something real to show: the operator's administrator, two organisations
//! (`demo-cert`, `cert-de`) with their constituencies, a member and an analyst each, three
//! registered sensors whose four weeks of darknet traffic are ingested as theirs, a month of risk
//! feeds covering every risk of the catalogue, subscriptions (an e-mail and a webhook to
//! `.example` receivers, which fail delivery: notifications to be), the alerts a detection pass
//! raises and one written by hand. It prints what an analyst would look at first and how to log
//! in, exports the open metrics and serves the portal. Running it again on the same directory
//! adds nothing twice (and prints no password again).

use crate::commands::accounts::CLI_ACTOR;
use crate::commands::generate::{self, write_traffic, GenerateArgs, TrafficArgs};
use crate::commands::ingest::{ingest_files, PcapArgs};
use crate::commands::label::LabelArgs;
use crate::commands::metrics::{self, MetricsArgs};
use crate::commands::query::{self, QueryArgs};
use crate::commands::{export, ingest};
use crate::data_dir::DataDir;
use anyhow::{bail, Context};
use clap::{Args, Parser};
use greenwatch_auth::{hash_password, new_password, new_secret, secret_hash};
use greenwatch_ingest::FileStatus;
use greenwatch_model::access::{Label, Role, Tlp, Viewer, OPERATOR_ORG};
use greenwatch_model::account::{Constituency, Organisation};
use greenwatch_model::alert::{NewAlert, NewSubscription, Severity, SubscriptionChannel};
use greenwatch_model::sensor::AddressBlock;
use greenwatch_model::Timestamp;
use greenwatch_netdb::NetDb;
use greenwatch_store::{NewSensor, NewUser, Store};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct DemoArgs {
    /// Directory with ip-location-db CSV files (asn-ipv4.csv, geo-whois-asn-country-ipv4.csv, ...).
    #[arg(long)]
    ip_data: PathBuf,
    /// Packets of the busiest sensor (the others see fewer).
    #[arg(long, default_value_t = 2_000_000)]
    packets: u64,
    /// Hours of traffic per sensor (672: four weeks).
    #[arg(long, default_value_t = 672)]
    hours: u32,
    /// Rows of the biggest risk feed (the others have fewer).
    #[arg(long, default_value_t = 300_000)]
    feed_rows: u64,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Build the demo data only; do not start the portal.
    #[arg(long)]
    no_serve: bool,
    #[command(flatten)]
    serve: super::serve::ServeArgs,
}

/// The demo's organisations: (slug, name, constituency networks).
const DEMO_ORGS: [(&str, &str, [&str; 2]); 2] = [
    (
        "demo-cert",
        "Demo CERT",
        ["198.18.0.0/16", "2001:db8:100::/40"],
    ),
    (
        "cert-de",
        "CERT Germany (demo)",
        ["198.19.0.0/16", "2001:db8:200::/40"],
    ),
];

/// A demo sensor: registered under its organisation, its traffic ingested as its own.
struct DemoSensor {
    name: &'static str,
    org: &'static str,
    tlp: &'static str,
    block: &'static str,
    block6: &'static str,
    location: &'static str,
    /// Its packets, as a share of `--packets`: sensors are not alike.
    share: f64,
}

/// Two publish what they see; the lab's data is AMBER: only demo-cert's members see it.
const DEMO_SENSORS: [DemoSensor; 3] = [
    DemoSensor {
        name: "tokyo",
        org: "demo-cert",
        tlp: "clear",
        block: "198.18.0.0/17",
        block6: "2001:db8:100::/48",
        location: "Tokyo, JP (university network)",
        share: 1.0,
    },
    DemoSensor {
        name: "berlin",
        org: "cert-de",
        tlp: "clear",
        block: "198.19.0.0/17",
        block6: "2001:db8:200::/48",
        location: "Berlin, DE (research network)",
        share: 0.7313,
    },
    DemoSensor {
        name: "lab",
        org: "demo-cert",
        tlp: "amber",
        block: "198.18.192.0/20",
        block6: "2001:db8:101::/48",
        location: "Osaka, JP (lab)",
        share: 0.4127,
    },
];

/// Feeds of October 2026: (report type, rows per mille of `--feed-rows`, seed, IntelMQ, owner,
/// TLP). Together they cover every feed risk of the shipped catalogue (the observed risks,
/// `mirai` and `scanner`, come from the sensors). Scan results are public; infected hosts are
/// AMBER: only their organisation sees them.
const DEMO_FEEDS: [(&str, u64, u64, bool, &str, &str); 10] = [
    ("scan_dns", 1000, 11, false, "demo-cert", "clear"),
    ("scan6_dns", 67, 14, false, "demo-cert", "clear"),
    ("scan_ntpmonitor", 200, 12, false, "cert-de", "clear"),
    ("scan_ntp", 310, 16, false, "cert-de", "clear"),
    ("scan_ssdp", 400, 13, false, "cert-de", "clear"),
    ("scan_snmp", 230, 17, false, "demo-cert", "clear"),
    ("scan_chargen", 45, 18, false, "cert-de", "clear"),
    ("scan_memcached", 27, 19, false, "demo-cert", "clear"),
    ("event4_sinkhole", 267, 15, true, "demo-cert", "amber"),
    ("event4_sinkhole", 130, 20, false, "cert-de", "amber"),
];

/// Roles each demo organisation gets a user of.
const DEMO_ROLES: [Role; 2] = [Role::Member, Role::Analyst];

pub fn run(data: &DataDir, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let start = Timestamp::parse("2026-10-05T00:00:00Z").expect("valid literal");
    if data.open_netdb()?.snapshots().is_empty() {
        let files = ip_data_files(&args.ip_data)?;
        std::fs::create_dir_all(data.netdb_dir())?;
        let report = NetDb::import(&data.netdb_dir(), &files, start.to_datetime().date_naive())?;
        println!(
            "imported IP data: {} ASN ranges, {} country ranges",
            report.asn_ranges, report.country_ranges
        );
    }
    // The operator's administrator first: `serve` makes it only while there is no user at all.
    super::serve::ensure_operator_admin(data)?;
    accounts(data)?;
    let capture_dir = data.layout().demo_captures_dir();
    std::fs::create_dir_all(&capture_dir)?;
    for (i, sensor) in DEMO_SENSORS.iter().enumerate() {
        let seed = args.seed + i as u64;
        let packets = (args.packets as f64 * sensor.share).round() as u64;
        let stem = format!(
            "demo-{}-{}-seed{seed}-{packets}p-{}h",
            sensor.org, sensor.name, args.hours
        );
        let traffic = TrafficArgs {
            out: capture_dir.join(format!("{stem}.pcap")),
            truth: capture_dir.join(format!("{stem}.truth.json")),
            seed,
            packets,
            start,
            hours: args.hours,
            block: block(sensor.block),
            block6: block(sensor.block6),
        };
        if !traffic.out.exists() {
            let truth = write_traffic(data, &traffic)?;
            println!(
                "generated {} packets of darknet traffic for sensor {}/{} in {}",
                truth.packets,
                sensor.org,
                sensor.name,
                traffic.out.display()
            );
        }
        let ingest = PcapArgs {
            files: vec![traffic.out.clone()],
            sensor: sensor.name.into(),
            bucket: "1h".parse().expect("valid literal"),
            label: LabelArgs {
                org: sensor.org.into(),
                tlp: sensor.tlp.parse().expect("valid literal"),
            },
            json: false,
        };
        let summary = ingest_files(data, &ingest)?;
        if let Some(error) = summary.files.iter().find_map(|f| f.error.as_ref()) {
            bail!(
                "ingesting the demo capture of {}/{}: {error}",
                sensor.org,
                sensor.name
            );
        }
        if summary
            .files
            .iter()
            .all(|f| f.status == FileStatus::AlreadyIngested)
        {
            println!(
                "the capture of sensor {}/{} is stored already\n",
                sensor.org, sensor.name
            );
            continue;
        }
        println!(
            "ingested {} packets of sensor {}/{} (TLP:{}) in {:.2} s ({:.1} M packets/s)\n",
            summary.counts.packets,
            sensor.org,
            sensor.name,
            sensor.tlp.to_uppercase(),
            summary.seconds,
            summary.packets_per_second / 1e6
        );
    }
    for (title, argv) in [
        (
            "Top destination ports (scans)",
            vec!["top", "--by", "port", "--class", "scan"],
        ),
        ("Top source countries", vec!["top", "--by", "country"]),
        ("Top source ASes", vec!["top", "--by", "asn"]),
        ("DoS attacks inferred from backscatter", vec!["dos"]),
    ] {
        println!("== {title}");
        let args = QueryArgs::try_parse_from(std::iter::once("query").chain(argv))
            .expect("valid demo query");
        query::run(data, args)?;
        println!();
    }
    demo_feeds(data, &capture_dir, args.feed_rows)?;
    alerts(data)?;
    print_logins(data)?;
    if args.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    super::serve::run(data, args.serve)
}

fn block(text: &str) -> AddressBlock {
    text.parse().expect("valid demo block")
}

/// The demo's organisations with their constituencies, users, sensors and subscriptions, each
/// made once: a generated password or token is printed when it is made, never again.
fn accounts(data: &DataDir) -> anyhow::Result<()> {
    let mut store = data.open_store()?;
    println!("== Organisations, users, sensors and subscriptions");
    let known: Vec<String> = store.orgs()?.into_iter().map(|o| o.slug).collect();
    for (slug, name, networks) in DEMO_ORGS {
        if !known.iter().any(|k| k == slug) {
            let org = Organisation {
                slug: slug.into(),
                name: name.into(),
                created_at: data.now(),
            };
            store.create_org(&org, CLI_ACTOR)?;
            let constituency = Constituency {
                networks: networks.iter().map(|n| block(n)).collect(),
            };
            store.set_constituency(slug, &constituency, CLI_ACTOR, data.now())?;
            println!("added organisation {slug} ({name}), constituency {networks:?}");
        }
        for role in DEMO_ROLES {
            let login = format!("{role}@{slug}.example");
            if store.user_by_login(&login)?.is_some() {
                continue;
            }
            let password = new_password()?;
            let user = NewUser {
                login: login.clone(),
                org: slug.into(),
                role,
                password_hash: hash_password(&password)?,
            };
            store.create_user(&user, CLI_ACTOR, data.now())?;
            println!("added user {login} ({role} of {slug}); password (shown once): {password}");
        }
    }
    let registered = store.sensors()?;
    for s in &DEMO_SENSORS {
        if registered
            .iter()
            .any(|r| r.org == s.org && r.name == s.name)
        {
            continue;
        }
        let address_block = block(s.block);
        if let Err(e) = store.constituency(s.org)?.admit(s.org, address_block) {
            bail!("demo sensor {}/{}: {e}", s.org, s.name);
        }
        let token = new_secret()?;
        store.register_sensor(
            &NewSensor {
                name: s.name.into(),
                org: s.org.into(),
                address_block,
                location: s.location.into(),
                tlp: s.tlp.parse().expect("valid literal"),
                token_hash: secret_hash(&token),
            },
            CLI_ACTOR,
            data.now(),
        )?;
        println!(
            "registered sensor {}/{} on {}; its token (shown once, for `greenwatch sensor run \
             --token-file`): {token}",
            s.org, s.name, s.block
        );
    }
    subscriptions(&mut *store, data.now())?;
    println!();
    Ok(())
}

/// An e-mail subscription of demo-cert and a webhook of cert-de. Their receivers are `.example`
/// names that never answer: `serve` tries them, records the failures and finally gives up.
fn subscriptions(store: &mut dyn Store, at: Timestamp) -> anyhow::Result<()> {
    let wanted = [
        (
            "demo-cert",
            SubscriptionChannel::Email {
                to: vec!["soc@demo-cert.example".into()],
            },
            Severity::Low,
        ),
        (
            "cert-de",
            SubscriptionChannel::Webhook {
                url: "https://soc.example/hook".into(),
                secret: new_secret()?,
            },
            Severity::Medium,
        ),
    ];
    for (org, channel, min_severity) in wanted {
        let target = channel.target();
        let exists = store
            .subscriptions(Some(org))?
            .iter()
            .any(|s| s.subscription.channel.target() == target);
        if exists {
            continue;
        }
        store.subscribe(&NewSubscription {
            org: org.into(),
            channel,
            min_severity,
            created_by: CLI_ACTOR.into(),
            created_at: at,
        })?;
        println!("subscribed {org} to alerts of severity {min_severity} and up: {target}");
    }
    Ok(())
}

/// The detection pass `serve` runs (per scope: the shared CLEAR data, owned by the operator and
/// GREEN so that every member sees it, and each organisation's own data, owned by it), and an
/// advisory an analyst wrote by hand; then the newest alerts.
fn alerts(data: &DataDir) -> anyhow::Result<()> {
    let mut store = data.open_store()?;
    let allowlist = greenwatch_early_warning::load_allowlist(&data.layout().allowlist_file())?;
    let pass = greenwatch_early_warning::RecentPass::hourly(
        allowlist,
        Label {
            owner: OPERATOR_ORG.into(),
            tlp: Tlp::Green,
        },
    );
    let now = data.now();
    let traffic = greenwatch_early_warning::watch_recent(&mut *store, &pass, now)?;
    let catalogue = data.catalogue()?;
    let netdb = data.open_netdb()?;
    let risks =
        greenwatch_early_warning::watch_recent_risks(&mut *store, &catalogue, &netdb, &pass, now)?;
    let first_seen = Timestamp::parse("2026-10-20T09:00:00Z").expect("valid literal");
    let (_, written) = store.raise_alert(&NewAlert {
        key: Some("demo:advisory:memcached".into()),
        severity: Severity::Medium,
        title: "Open memcached servers in the constituency".into(),
        summary: "Our October scan feed lists memcached servers answering on UDP 11211, each \
                  able to amplify a DDoS attack ten-thousandfold. Owners: close UDP 11211 or \
                  bind memcached to localhost."
            .into(),
        affected: vec!["risk openmemcached".into()],
        first_seen,
        last_seen: first_seen,
        author: "analyst@demo-cert.example".into(),
        label: Label {
            owner: "demo-cert".into(),
            tlp: Tlp::Clear,
        },
        evidence: None,
        created_at: now,
    })?;
    println!(
        "== Alerts: {} new from traffic, {} new from risk metrics{}",
        traffic.raised,
        risks.raised,
        if written { ", 1 written by hand" } else { "" }
    );
    for a in store.alerts(&Viewer::Local, 8)? {
        let a = &a.alert;
        println!(
            "  {}  {:<8} {:<10} {:<10} {}",
            a.first_seen.to_rfc3339(),
            a.severity.to_string(),
            a.label.tlp.to_string(),
            a.label.owner,
            a.title
        );
    }
    println!();
    Ok(())
}

/// Who can log in, and what each sees.
fn print_logins(data: &DataDir) -> anyhow::Result<()> {
    let store = data.open_store()?;
    println!(
        "== Log in to the portal (http://127.0.0.1:8080/login unless --listen says otherwise)"
    );
    for user in store.users()? {
        let role = format!("{:?}", user.role).to_lowercase();
        println!("  {:<28} {role} of {}", user.login, user.org);
    }
    println!(
        "Passwords are printed once, when each user is made (above, on the demo's first run); \
         set a new one with `greenwatch user passwd LOGIN`.\n\
         demo-cert's users also see the lab sensor's AMBER traffic and their infected hosts, \
         cert-de's their own; admin (the operator) manages organisations and sensors.\n"
    );
    Ok(())
}

/// Generates a month of risk feeds (once), ingests them, prints metrics and exports them.
fn demo_feeds(data: &DataDir, dir: &Path, biggest: u64) -> anyhow::Result<()> {
    let mut files = Vec::new();
    for (report, per_mille, seed, intelmq, org, tlp) in DEMO_FEEDS {
        let rows = (biggest * per_mille / 1000).max(50);
        let name = if intelmq {
            format!("2026-10-01-{report}-{org}-{rows}.jsonl")
        } else {
            format!("2026-10-01-{report}-{org}-{rows}.csv")
        };
        let out = dir.join(name);
        if !out.exists() {
            let rows = rows.to_string();
            let seed = seed.to_string();
            let mut argv = vec![
                "generate",
                "feed",
                "--report",
                report,
                "--rows",
                &rows,
                "--days",
                "31",
                "--start",
                "2026-10-01",
                "--seed",
                &seed,
                "--bad-per-mille",
                "1",
                "--disagree-per-mille",
                "20",
                "--no-truth",
                "--out",
            ];
            let out_arg = out.to_str().context("non-UTF-8 data directory")?;
            argv.push(out_arg);
            if intelmq {
                argv.push("--intelmq");
            }
            generate::run(
                data,
                GenerateArgs::try_parse_from(argv).expect("valid demo feed"),
            )?;
        }
        files.push((
            out.to_str()
                .context("non-UTF-8 data directory")?
                .to_string(),
            org,
            tlp,
        ));
    }
    println!("== Risk feeds (Shadowserver CSV and IntelMQ events, October 2026)");
    for (file, org, tlp) in &files {
        let argv = ["ingest", "feed", "--org", org, "--tlp", tlp, file];
        ingest::run(
            data,
            ingest::IngestArgs::try_parse_from(argv).expect("valid demo ingest"),
        )?;
    }
    println!();
    for argv in [
        vec![
            "metrics",
            "--risk",
            "openrecursivedns",
            "--period",
            "month",
            "--at",
            "2026-10",
            "--limit",
            "10",
        ],
        vec![
            "metrics", "--risk", "infected", "--by", "asn", "--period", "week", "--at", "2026-W41",
            "--limit", "10",
        ],
    ] {
        metrics::run(
            data,
            MetricsArgs::try_parse_from(argv).expect("valid demo metrics"),
        )?;
    }
    let export_dir = data.layout().demo_export_dir();
    let export_dir = export_dir.to_str().context("non-UTF-8 data directory")?;
    let argv = ["export", "metrics", "--out", export_dir];
    export::run(
        data,
        export::ExportArgs::try_parse_from(argv).expect("valid demo export"),
    )?;
    Ok(())
}

fn ip_data_files(dir: &PathBuf) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".csv") && !name.contains("-num")
        })
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no ip-location-db CSV files in {}", dir.display());
    }
    Ok(files)
}
