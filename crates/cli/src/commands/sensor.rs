//! `greenwatch sensor`: register, list and revoke the sensors of the observation network
//! (the operator on the collector's machine), and `sensor run`, the agent a member runs on
//! unused address space. Tokens are shown once and stored only as hashes.

use crate::data_dir::DataDir;
use crate::table;
use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use greenwatch_auth::{new_secret, secret_hash};
use greenwatch_model::access::Tlp;
use greenwatch_model::sensor::{AddressBlock, Sensor, SensorRef};
use greenwatch_model::BucketWidth;
use greenwatch_observe::IngestCounts;
use greenwatch_sensor::agent::{self, AgentConfig};
use greenwatch_sensor::registration::{
    register_sensor, OutsideConstituency, Registrar, RegistrationError,
};
use greenwatch_sensor::ship::Collector;
use greenwatch_sensor::PacketSource;
use greenwatch_store::{NewSensor, RejectionCount};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Who the audit log names for command-line changes.
const CLI_ACTOR: &str = "cli";

#[derive(Args)]
pub struct SensorArgs {
    #[command(subcommand)]
    command: SensorCommand,
}

#[derive(Subcommand)]
enum SensorCommand {
    /// Register a sensor of an organisation and print its token (shown this once).
    Add(AddArgs),
    /// List sensors with their health, what the collector stored and what it refused.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a sensor's token: the collector refuses it from now on; its data stays.
    Revoke {
        /// ORGANISATION/NAME, e.g. cert-jp/tokyo-1.
        sensor: SensorRef,
    },
    /// Run the sensor agent: capture, aggregate, spool and ship batches to the collector.
    Run(RunArgs),
}

#[derive(Args)]
struct AddArgs {
    /// Name, unique within the organisation (lower-case letters, digits, '-', '.'), e.g.
    /// tokyo-1; `upload` and `default` are reserved.
    name: String,
    /// Owner organisation (slug).
    #[arg(long)]
    org: String,
    /// The unused address block it listens on, e.g. 198.51.100.0/24; it must lie within the
    /// organisation's constituency (`greenwatch org networks`).
    #[arg(long)]
    block: AddressBlock,
    /// Where it is: city, country, network.
    #[arg(long, default_value = "")]
    location: String,
    /// TLP of everything it observes: clear, green, amber, amber+strict or red.
    #[arg(long, default_value = "amber")]
    tlp: Tlp,
    /// Register the block even though it lies outside the organisation's constituency (the
    /// operator's decision, e.g. a sensor hosted for a member).
    #[arg(long)]
    outside_constituency: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["interface", "pcap"])))]
struct RunArgs {
    /// The collector: the address of `greenwatch serve` (https://host:port).
    #[arg(long)]
    collector: String,
    /// File holding the sensor's token (from `greenwatch sensor add` or the portal).
    #[arg(long)]
    token_file: PathBuf,
    /// PEM certificate to trust for the collector (its CA, e.g. `<data>/tls/ca.crt`);
    /// without it the public roots are used.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Capture live on this network interface (Linux AF_PACKET ring; needs root or CAP_NET_RAW).
    #[arg(long)]
    interface: Option<String>,
    /// Replay this pcap / pcapng file instead of capturing live.
    #[arg(long)]
    pcap: Option<PathBuf>,
    /// Replay at this multiple of the capture's own pace (default: as fast as possible).
    #[arg(long, requires = "pcap")]
    replay_speed: Option<f64>,
    /// Directory of the disk spool (batches not yet acknowledged, replay progress).
    #[arg(long)]
    spool: PathBuf,
    /// Largest spool, in MiB; past it live capture drops new batches (counted) and replay waits.
    #[arg(long, default_value_t = 1024)]
    spool_max_mib: u64,
    /// Cut a batch after this many packets...
    #[arg(long, default_value_t = 200_000)]
    batch_packets: u64,
    /// ...or after this many seconds, whichever comes first.
    #[arg(long, default_value_t = 10.0)]
    batch_secs: f64,
    /// Aggregation bucket width (as `ingest pcap`).
    #[arg(long, default_value = "1h")]
    bucket: BucketWidth,
    /// Longest wait between attempts to reach the collector, seconds.
    #[arg(long, default_value_t = 30.0)]
    retry_max_secs: f64,
    /// Print a health line this often, seconds.
    #[arg(long, default_value_t = 60.0)]
    health_secs: f64,
    /// On Ctrl-C / SIGTERM, keep sending spooled batches for at most this many seconds.
    #[arg(long, default_value_t = 10.0)]
    drain_secs: f64,
    /// Print the run's summary as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(data: &DataDir, args: SensorArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        SensorCommand::Add(args) => add(data, args),
        SensorCommand::List { json } => list(data, json),
        SensorCommand::Revoke { sensor } => {
            data.open_store()?
                .revoke_sensor(&sensor, CLI_ACTOR, data.now())?;
            println!("revoked the token of sensor {sensor}");
            Ok(ExitCode::SUCCESS)
        }
        SensorCommand::Run(args) => run_agent(args),
    }
}

#[derive(Serialize)]
struct Registered<'a> {
    name: &'a str,
    org: &'a str,
    token: &'a str,
}

fn add(data: &DataDir, args: AddArgs) -> anyhow::Result<ExitCode> {
    let mut store = data.open_store()?;
    let token = new_secret()?;
    let sensor = NewSensor {
        name: args.name,
        org: args.org,
        address_block: args.block,
        location: args.location,
        tlp: args.tlp,
        token_hash: secret_hash(&token),
    };
    let registrar = Registrar {
        outside: if args.outside_constituency {
            OutsideConstituency::Allowed
        } else {
            OutsideConstituency::Refused
        },
        limit: None,
    };
    match register_sensor(&mut *store, &sensor, registrar, CLI_ACTOR, data.now()) {
        Ok(()) => {}
        Err(RegistrationError::OutsideConstituency(e)) => {
            bail!("{e}, or register it anyway with --outside-constituency")
        }
        Err(e) => return Err(e.into()),
    }
    if args.json {
        table::print_json(&Registered {
            name: &sensor.name,
            org: &sensor.org,
            token: &token,
        })?;
    } else {
        println!(
            "registered sensor {} of {}\ntoken: {token}\nThe token is shown only once: put it in the sensor's --token-file.",
            sensor.name, sensor.org
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A sensor with what the collector holds from it.
#[derive(Serialize)]
struct SensorReport {
    #[serde(flatten)]
    sensor: Sensor,
    batches_stored: u64,
    stored: IngestCounts,
    rejections: Vec<RejectionCount>,
}

#[derive(Serialize)]
struct SensorList {
    sensors: Vec<SensorReport>,
    /// Refusals of requests that named no known sensor (no token, unknown token).
    unattributed_rejections: Vec<RejectionCount>,
}

fn list(data: &DataDir, json: bool) -> anyhow::Result<ExitCode> {
    let store = data.open_existing_store()?;
    let captures = store.captures()?;
    let mut rejections = store.rejections()?;
    let sensors: Vec<SensorReport> = store
        .sensors()?
        .into_iter()
        .map(|sensor| {
            let mut stored = IngestCounts::default();
            let mut batches_stored = 0;
            // Its organisation's captures of its name: another organisation's capture of the
            // same name is not this sensor's.
            for capture in captures
                .iter()
                .filter(|c| c.sensor == sensor.name && c.label.owner == sensor.org)
            {
                stored.merge(&capture.counts);
                batches_stored += 1;
            }
            let reference = sensor.reference().to_string();
            let (own, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut rejections)
                .into_iter()
                .partition(|r| r.sensor.as_deref() == Some(reference.as_str()));
            rejections = rest;
            SensorReport {
                sensor,
                batches_stored,
                stored,
                rejections: own,
            }
        })
        .collect();
    let report = SensorList {
        sensors,
        unattributed_rejections: rejections,
    };
    if json {
        table::print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = report
        .sensors
        .iter()
        .map(|r| {
            let s = &r.sensor;
            vec![
                s.name.clone(),
                s.org.clone(),
                s.address_block.to_string(),
                s.tlp.to_string(),
                if s.revoked_at.is_some() {
                    "revoked"
                } else {
                    "live"
                }
                .to_string(),
                s.last_seen
                    .map_or_else(|| "never".into(), |t| t.to_string()),
                r.batches_stored.to_string(),
                r.stored.packets.to_string(),
                r.rejections
                    .iter()
                    .map(|x| x.count)
                    .sum::<u64>()
                    .to_string(),
            ]
        })
        .collect();
    table::print(
        &[
            "sensor",
            "org",
            "block",
            "tlp",
            "token",
            "last seen",
            "batches",
            "packets",
            "refused",
        ],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}

fn secs(value: f64, flag: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value)
        .with_context(|| format!("--{flag} {value} is not a duration"))
}

fn run_agent(args: RunArgs) -> anyhow::Result<ExitCode> {
    let token = std::fs::read_to_string(&args.token_file)
        .with_context(|| format!("reading the token file {}", args.token_file.display()))?;
    if token.trim().is_empty() {
        bail!("the token file {} is empty", args.token_file.display());
    }
    let collector = Collector::new(&args.collector, &token, args.ca.as_deref())?;
    let source = match (args.interface, args.pcap) {
        (Some(interface), None) => PacketSource::Live { interface },
        (None, Some(path)) => PacketSource::Replay {
            path,
            speed: args.replay_speed,
        },
        _ => unreachable!("clap requires exactly one source"),
    };
    let config = AgentConfig {
        spool_dir: args.spool,
        spool_max_bytes: args.spool_max_mib << 20,
        batch_records: args.batch_packets.max(1),
        batch_interval: secs(args.batch_secs, "batch-secs")?,
        bucket: args.bucket,
        retry_max: secs(args.retry_max_secs, "retry-max-secs")?,
        health_interval: secs(args.health_secs, "health-secs")?,
        drain_timeout: secs(args.drain_secs, "drain-secs")?,
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("listening for Ctrl-C and SIGTERM")?;
    }
    let summary = agent::run(&config, &source, collector, &stop)?;
    if args.json {
        table::print_json(&summary)?;
    } else {
        println!(
            "{} records in {} batches ({:.0} records/s); {} acknowledged ({} already stored), {} refused, {} still spooled, {} dropped",
            summary.records,
            summary.batches_made,
            summary.records_per_sec,
            summary.batches_acknowledged,
            summary.batches_duplicate,
            summary.batches_refused,
            summary.health.batches_pending,
            summary.health.dropped_batches
        );
    }
    if let Some(error) = &summary.capture_error {
        eprintln!("error: {error}");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
