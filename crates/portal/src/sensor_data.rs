//! Every read of the sensor network the portal makes: registered sensors and what they
//! observed, for one viewer. Like `data`, each function takes the asking [`Viewer`]: sensors
//! are shown only when `Viewer::can_see` allows their label (owner, TLP), their observations
//! come from the store filtered for that viewer, and addresses are anonymised with the
//! deployment's Crypto-PAn key as `Disclosure::for_viewer` says (`docs/anonymisation.md`).

use crate::data::Sources;
use crate::error::PortalError;
use greenwatch_model::access::{Label, Viewer};
use greenwatch_model::anonymise::{CryptoPan, Disclosure, KEY_LEN};
use greenwatch_model::sensor::{AddressBlock, Sensor, SensorHealth};
use greenwatch_model::{CountryCode, Timestamp, TrafficClass, Transport};
use greenwatch_store::{ObservationStore, SensorStore, TimeRange};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;

/// The deployment's anonymisation key, in the data directory.
const KEY_FILE: &str = "anonymisation.key";
/// Rows of the per-sensor tables.
const TOP_ROWS: usize = 20;
/// Ports per sensor in the comparison.
const COMPARE_PORTS: usize = 10;
/// Rows of the shared-sources table.
const SHARED_SOURCES: usize = 50;

/// The deployment's Crypto-PAn, its key made on first use (32 random bytes, hex, owner-only).
pub fn anonymiser(data_dir: &Path) -> Result<CryptoPan, PortalError> {
    let path = data_dir.join(KEY_FILE);
    let internal =
        |e: String| PortalError::Internal(format!("anonymisation key {}: {e}", path.display()));
    if !path.exists() {
        let secret = greenwatch_auth::new_secret().map_err(|e| internal(e.to_string()))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(mut file) => {
                std::io::Write::write_all(&mut file, secret.as_bytes())
                    .map_err(|e| internal(e.to_string()))?;
            }
            // Another request made it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(internal(e.to_string())),
        }
    }
    let hex = std::fs::read_to_string(&path).map_err(|e| internal(e.to_string()))?;
    let hex = hex.trim();
    let mut key = [0u8; KEY_LEN];
    if hex.len() != 2 * KEY_LEN {
        return Err(internal(format!("expected {} hex digits", 2 * KEY_LEN)));
    }
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
            .map_err(|_| internal("not hex".into()))?;
    }
    Ok(CryptoPan::new(&key))
}

/// A sensor as one viewer may see it.
#[derive(Clone, Debug, Serialize)]
pub struct SensorView {
    pub name: String,
    pub org: String,
    pub location: String,
    /// Anonymised for viewers outside the owner organisation.
    pub address_block: AddressBlock,
    pub address_block_anonymised: bool,
    /// Country of the block (from the IP data), when known.
    pub country: Option<CountryCode>,
    pub tlp: String,
    pub revoked: bool,
    pub last_seen: Option<Timestamp>,
    pub health: Option<SensorHealth>,
    /// Whether the viewer's organisation owns it (may revoke it).
    #[serde(skip)]
    pub own: bool,
}

fn label(sensor: &Sensor) -> Label {
    Label {
        owner: sensor.org.clone(),
        tlp: sensor.tlp,
    }
}

/// The country of a sensor's block in the newest IP data.
fn block_country(sources: &Sources, sensor: &Sensor) -> Option<CountryCode> {
    let snapshot = sources.netdb.snapshots().last()?;
    let country = snapshot.enrich(sensor.address_block.network).country;
    (country != CountryCode::UNKNOWN).then_some(country)
}

fn view(sources: &Sources, viewer: &Viewer, pan: &CryptoPan, sensor: Sensor) -> SensorView {
    let disclosure = Disclosure::for_viewer(viewer, &label(&sensor));
    let country = block_country(sources, &sensor);
    SensorView {
        own: matches!(viewer, Viewer::User { org, .. } if *org == sensor.org),
        address_block: if disclosure.anonymise_sensor {
            pan.anonymise_block(sensor.address_block)
        } else {
            sensor.address_block
        },
        address_block_anonymised: disclosure.anonymise_sensor,
        country,
        tlp: sensor.tlp.to_string(),
        revoked: sensor.revoked_at.is_some(),
        name: sensor.name,
        org: sensor.org,
        location: sensor.location,
        last_seen: sensor.last_seen,
        health: sensor.health,
    }
}

/// The sensors `viewer` may see, by name.
pub fn sensors(
    sources: &Sources,
    viewer: &Viewer,
    pan: &CryptoPan,
) -> Result<Vec<SensorView>, PortalError> {
    Ok(visible(sources, viewer)?
        .into_iter()
        .map(|s| view(sources, viewer, pan, s))
        .collect())
}

fn visible(sources: &Sources, viewer: &Viewer) -> Result<Vec<Sensor>, PortalError> {
    Ok(sources
        .store
        .sensors()?
        .into_iter()
        .filter(|s| viewer.can_see(&label(s)))
        .collect())
}

/// Packets per hour of one class.
#[derive(Clone, Debug, Serialize)]
pub struct ClassHours {
    pub class: TrafficClass,
    pub points: Vec<HourPoint>,
}

#[derive(Clone, Debug, Serialize)]
pub struct HourPoint {
    pub bucket: Timestamp,
    pub packets: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct PortRow {
    pub port: u16,
    pub protocol: Transport,
    pub packets: u64,
    pub sources: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct SourceRow {
    /// Anonymised when the viewer's disclosure says so.
    pub ip: IpAddr,
    pub country: CountryCode,
    pub asn: u32,
    pub packets: u64,
    pub ports: u64,
}

/// One sensor's page: who it is, its health and what it observed.
#[derive(Clone, Debug, Serialize)]
pub struct SensorDetail {
    pub sensor: SensorView,
    pub sources_anonymised: bool,
    pub packets: u64,
    pub series: Vec<ClassHours>,
    pub top_ports: Vec<PortRow>,
    pub top_sources: Vec<SourceRow>,
}

/// What the flows of one sensor add up to, for one viewer.
#[derive(Default)]
struct Observed {
    packets: u64,
    by_class_hour: BTreeMap<(TrafficClass, i64), u64>,
    /// (port, protocol) -> (packets, sources)
    ports: HashMap<(u16, u8), (u64, rustc_hash::FxHashSet<IpAddr>)>,
    sources: HashMap<IpAddr, SourceTally>,
}

/// One source's packets, distinct (port, protocol)s, country and ASN.
type SourceTally = (u64, rustc_hash::FxHashSet<(u16, u8)>, CountryCode, u32);

fn observe(sources: &Sources, viewer: &Viewer, sensor: &str) -> Result<Observed, PortalError> {
    let mut o = Observed::default();
    sources
        .store
        .scan_flows(viewer, TimeRange::default(), Some(sensor), &mut |f| {
            o.packets += f.packets;
            let hour = f.bucket.div_euclid(3600) * 3600;
            *o.by_class_hour.entry((f.class, hour)).or_default() += f.packets;
            let port = o.ports.entry((f.dst_port, f.transport.0)).or_default();
            port.0 += f.packets;
            port.1.insert(f.src);
            let src = o
                .sources
                .entry(f.src)
                .or_insert_with(|| (0, Default::default(), f.src_country, f.src_asn));
            src.0 += f.packets;
            src.1.insert((f.dst_port, f.transport.0));
        })?;
    Ok(o)
}

fn top_ports(o: &Observed, limit: usize) -> Vec<PortRow> {
    let mut rows: Vec<PortRow> = o
        .ports
        .iter()
        .map(|(&(port, protocol), (packets, srcs))| PortRow {
            port,
            protocol: Transport(protocol),
            packets: *packets,
            sources: srcs.len() as u64,
        })
        .collect();
    rows.sort_by(|a, b| b.packets.cmp(&a.packets).then(a.port.cmp(&b.port)));
    rows.truncate(limit);
    rows
}

/// One sensor as `viewer` may see it; `None` when it does not exist or is not visible (the
/// same answer, so the page does not tell which).
pub fn sensor_detail(
    sources: &Sources,
    viewer: &Viewer,
    pan: &CryptoPan,
    name: &str,
) -> Result<Option<SensorDetail>, PortalError> {
    let Some(sensor) = sources
        .store
        .sensor(name)?
        .filter(|s| viewer.can_see(&label(s)))
    else {
        return Ok(None);
    };
    let disclosure = Disclosure::for_viewer(viewer, &label(&sensor));
    let o = observe(sources, viewer, name)?;
    let mut series: BTreeMap<TrafficClass, Vec<HourPoint>> = BTreeMap::new();
    for (&(class, hour), &packets) in &o.by_class_hour {
        series.entry(class).or_default().push(HourPoint {
            bucket: Timestamp::from_secs(hour),
            packets,
        });
    }
    let mut top_sources: Vec<SourceRow> = o
        .sources
        .iter()
        .map(|(ip, (packets, ports, country, asn))| SourceRow {
            ip: *ip,
            country: *country,
            asn: *asn,
            packets: *packets,
            ports: ports.len() as u64,
        })
        .collect();
    top_sources.sort_by(|a, b| b.packets.cmp(&a.packets).then(a.ip.cmp(&b.ip)));
    top_sources.truncate(TOP_ROWS);
    if disclosure.anonymise_sources {
        for row in &mut top_sources {
            row.ip = pan.anonymise(row.ip);
        }
    }
    Ok(Some(SensorDetail {
        sources_anonymised: disclosure.anonymise_sources,
        packets: o.packets,
        series: series
            .into_iter()
            .map(|(class, points)| ClassHours { class, points })
            .collect(),
        top_ports: top_ports(&o, TOP_ROWS),
        top_sources,
        sensor: view(sources, viewer, pan, sensor),
    }))
}

/// Top ports of one sensor, for the comparison.
#[derive(Clone, Debug, Serialize)]
pub struct SensorPorts {
    pub sensor: String,
    pub country: Option<CountryCode>,
    pub packets: u64,
    pub top_ports: Vec<PortRow>,
}

/// A source seen by more than one sensor: the same scan seen from several places.
#[derive(Clone, Debug, Serialize)]
pub struct SharedSource {
    pub ip: IpAddr,
    pub country: CountryCode,
    pub asn: u32,
    pub packets: u64,
    /// The sensors it hit, by name.
    pub sensors: Vec<String>,
    /// Their countries, distinct.
    pub sensor_countries: Vec<CountryCode>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub sensors: Vec<SensorPorts>,
    pub shared_sources: Vec<SharedSource>,
    /// Whether any shared source is shown anonymised.
    pub sources_anonymised: bool,
}

/// Every visible sensor's top ports side by side, and the sources several of them saw.
pub fn compare(
    sources: &Sources,
    viewer: &Viewer,
    pan: &CryptoPan,
) -> Result<Comparison, PortalError> {
    let mut per_sensor = Vec::new();
    let mut hits: HashMap<IpAddr, SharedSource> = HashMap::new();
    let mut anonymise: HashMap<IpAddr, bool> = HashMap::new();
    for sensor in visible(sources, viewer)? {
        let disclosure = Disclosure::for_viewer(viewer, &label(&sensor));
        let country = block_country(sources, &sensor);
        let o = observe(sources, viewer, &sensor.name)?;
        for (ip, (packets, _, src_country, asn)) in &o.sources {
            let shared = hits.entry(*ip).or_insert_with(|| SharedSource {
                ip: *ip,
                country: *src_country,
                asn: *asn,
                packets: 0,
                sensors: Vec::new(),
                sensor_countries: Vec::new(),
            });
            shared.packets += packets;
            shared.sensors.push(sensor.name.clone());
            if let Some(c) = country {
                if !shared.sensor_countries.contains(&c) {
                    shared.sensor_countries.push(c);
                }
            }
            // One sensor whose data must hide sources hides the source in the whole row.
            *anonymise.entry(*ip).or_default() |= disclosure.anonymise_sources;
        }
        per_sensor.push(SensorPorts {
            sensor: sensor.name,
            country,
            packets: o.packets,
            top_ports: top_ports(&o, COMPARE_PORTS),
        });
    }
    let mut shared: Vec<SharedSource> =
        hits.into_values().filter(|s| s.sensors.len() > 1).collect();
    shared.sort_by(|a, b| {
        (b.sensors.len(), b.packets, a.ip).cmp(&(a.sensors.len(), a.packets, b.ip))
    });
    shared.truncate(SHARED_SOURCES);
    let mut any_anonymised = false;
    for row in &mut shared {
        if anonymise[&row.ip] {
            row.ip = pan.anonymise(row.ip);
            any_anonymised = true;
        }
    }
    Ok(Comparison {
        sensors: per_sensor,
        shared_sources: shared,
        sources_anonymised: any_anonymised,
    })
}
