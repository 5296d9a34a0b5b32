//! Every read of the sensor network the portal makes: registered sensors and what they
//! observed, for one viewer. Like `data`, each function takes the asking [`Viewer`]: sensors
//! are shown only when `Viewer::can_see` allows their label (owner, TLP), their observations
//! come from the store filtered for that viewer, and every address is a [`Shown`] one: made
//! by `Disclosure::for_viewer` with the deployment's Crypto-PAn key (`docs/anonymisation.md`).

use crate::window::Window;
use crate::AnalyticsError;
use crate::DataAccess;
use greenwatch_model::access::{Label, Viewer};
use greenwatch_model::anonymise::{Disclosure, Shown};
use greenwatch_model::sensor::{AddressBlock, Sensor, SensorHealth, SensorRef};
use greenwatch_model::{CountryCode, Timestamp, TrafficClass, Transport};
use greenwatch_store::TimeRange;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// Rows of the per-sensor tables.
const TOP_ROWS: usize = 20;
/// Ports per sensor in the comparison.
const COMPARE_PORTS: usize = 10;
/// Rows of the shared-sources table.
const SHARED_SOURCES: usize = 50;

/// A sensor as one viewer may see it.
#[derive(Clone, Debug, Serialize)]
pub struct SensorView {
    /// `org/name`: names are per organisation; the pages live at `/sensors/{org}/{name}`.
    pub id: SensorRef,
    pub name: String,
    pub org: String,
    pub location: String,
    /// Anonymised for viewers outside the owner organisation.
    pub address_block: Shown<AddressBlock>,
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
fn block_country(sources: &DataAccess, sensor: &Sensor) -> Option<CountryCode> {
    let snapshot = sources.netdb.snapshots().last()?;
    let country = snapshot.enrich(sensor.address_block.network).country;
    (country != CountryCode::UNKNOWN).then_some(country)
}

fn view(sources: &DataAccess, viewer: &Viewer, sensor: Sensor) -> SensorView {
    let disclosure = Disclosure::for_viewer(viewer, &label(&sensor));
    let country = block_country(sources, &sensor);
    let address_block = disclosure.sensor_block(sources.pan, sensor.address_block);
    SensorView {
        own: matches!(viewer, Viewer::User { org, .. } if *org == sensor.org),
        id: sensor.reference(),
        address_block_anonymised: address_block.anonymised(),
        address_block,
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
pub fn sensors(sources: &DataAccess, viewer: &Viewer) -> Result<Vec<SensorView>, AnalyticsError> {
    Ok(visible(sources, viewer)?
        .into_iter()
        .map(|s| view(sources, viewer, s))
        .collect())
}

/// The sensors `viewer` may see.
pub fn visible(sources: &DataAccess, viewer: &Viewer) -> Result<Vec<Sensor>, AnalyticsError> {
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
    pub ip: Shown<IpAddr>,
    pub country: CountryCode,
    pub asn: u32,
    pub packets: u64,
    pub ports: u64,
}

/// One sensor's page: who it is and its health (read fresh on every request) and what it
/// observed in a window (computed once per data generation, through the result cache).
#[derive(Clone, Debug, Serialize)]
pub struct SensorDetail {
    pub sensor: SensorView,
    #[serde(flatten)]
    pub observed: SensorObserved,
}

/// What one sensor observed in one window, as one viewer may see it.
#[derive(Clone, Debug, Serialize)]
pub struct SensorObserved {
    /// The window observed (`from` inclusive, `to` exclusive); `None` when nothing visible
    /// is stored.
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
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

/// What `sensor` observed in `window` (nothing without one): a request reads one window,
/// never the sensor's whole history.
fn observe(
    sources: &DataAccess,
    viewer: &Viewer,
    sensor: &SensorRef,
    window: Option<Window>,
) -> Result<Observed, AnalyticsError> {
    let mut o = Observed::default();
    let Some(window) = window else {
        return Ok(o);
    };
    let range = TimeRange {
        from: Some(window.from),
        to: Some(window.to),
    };
    sources
        .store
        .scan_flows(viewer, range, Some(sensor), &mut |f| {
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

/// The registered sensor `wanted` as `viewer` may see it; `None` when it does not exist or
/// is not visible (the same answer, so the page does not tell which).
pub fn visible_sensor(
    sources: &DataAccess,
    viewer: &Viewer,
    wanted: &SensorRef,
) -> Result<Option<(Sensor, SensorView)>, AnalyticsError> {
    Ok(sources
        .store
        .sensor(wanted)?
        .filter(|s| viewer.can_see(&label(s)))
        .map(|s| (s.clone(), view(sources, viewer, s))))
}

/// What `sensor` (visible to `viewer`) observed in `window`.
pub fn observed(
    sources: &DataAccess,
    viewer: &Viewer,
    sensor: &Sensor,
    window: Option<Window>,
) -> Result<SensorObserved, AnalyticsError> {
    let disclosure = Disclosure::for_viewer(viewer, &label(sensor));
    let o = observe(sources, viewer, &sensor.reference(), window)?;
    let mut series: BTreeMap<TrafficClass, Vec<HourPoint>> = BTreeMap::new();
    for (&(class, hour), &packets) in &o.by_class_hour {
        series.entry(class).or_default().push(HourPoint {
            bucket: Timestamp::from_secs(hour),
            packets,
        });
    }
    let mut ranked: Vec<(&IpAddr, &SourceTally)> = o.sources.iter().collect();
    ranked.sort_by(|(a, x), (b, y)| y.0.cmp(&x.0).then(a.cmp(b)));
    let top_sources = ranked
        .into_iter()
        .take(TOP_ROWS)
        .map(|(ip, (packets, ports, country, asn))| SourceRow {
            ip: disclosure.source(sources.pan, *ip),
            country: *country,
            asn: *asn,
            packets: *packets,
            ports: ports.len() as u64,
        })
        .collect();
    Ok(SensorObserved {
        from: window.map(|w| Timestamp::from_secs(w.from)),
        to: window.map(|w| Timestamp::from_secs(w.to)),
        sources_anonymised: disclosure.anonymises_sources(),
        packets: o.packets,
        series: series
            .into_iter()
            .map(|(class, points)| ClassHours { class, points })
            .collect(),
        top_ports: top_ports(&o, TOP_ROWS),
        top_sources,
    })
}

/// Top ports of one sensor, for the comparison.
#[derive(Clone, Debug, Serialize)]
pub struct SensorPorts {
    pub sensor: SensorRef,
    pub country: Option<CountryCode>,
    pub packets: u64,
    pub top_ports: Vec<PortRow>,
}

/// A source seen by more than one sensor: the same scan seen from several places.
#[derive(Clone, Debug, Serialize)]
pub struct SharedSource {
    pub ip: Shown<IpAddr>,
    pub country: CountryCode,
    pub asn: u32,
    pub packets: u64,
    /// The sensors it hit.
    pub sensors: Vec<SensorRef>,
    /// Their countries, distinct.
    pub sensor_countries: Vec<CountryCode>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// The window compared (`from` inclusive, `to` exclusive).
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub sensors: Vec<SensorPorts>,
    pub shared_sources: Vec<SharedSource>,
    /// Whether any shared source is shown anonymised.
    pub sources_anonymised: bool,
}

/// One source across sensors, before it is shown.
struct Hits {
    country: CountryCode,
    asn: u32,
    packets: u64,
    sensors: Vec<SensorRef>,
    sensor_countries: Vec<CountryCode>,
    /// The strictest disclosure of the sensors that saw it: one sensor whose data must hide
    /// sources hides the source in the whole row.
    disclosure: Disclosure,
}

/// Every visible sensor's top ports side by side in `window`, and the sources several of
/// them saw.
pub fn compare(
    sources: &DataAccess,
    viewer: &Viewer,
    sensors: Vec<Sensor>,
    window: Option<Window>,
) -> Result<Comparison, AnalyticsError> {
    let mut per_sensor = Vec::new();
    let mut hits: HashMap<IpAddr, Hits> = HashMap::new();
    for sensor in sensors {
        let disclosure = Disclosure::for_viewer(viewer, &label(&sensor));
        let country = block_country(sources, &sensor);
        let o = observe(sources, viewer, &sensor.reference(), window)?;
        for (ip, (packets, _, src_country, asn)) in &o.sources {
            let hit = hits.entry(*ip).or_insert_with(|| Hits {
                country: *src_country,
                asn: *asn,
                packets: 0,
                sensors: Vec::new(),
                sensor_countries: Vec::new(),
                disclosure,
            });
            hit.packets += packets;
            hit.sensors.push(sensor.reference());
            if let Some(c) = country {
                if !hit.sensor_countries.contains(&c) {
                    hit.sensor_countries.push(c);
                }
            }
            hit.disclosure = hit.disclosure.strictest(disclosure);
        }
        per_sensor.push(SensorPorts {
            sensor: sensor.reference(),
            country,
            packets: o.packets,
            top_ports: top_ports(&o, COMPARE_PORTS),
        });
    }
    let mut shared: Vec<(IpAddr, Hits)> = hits
        .into_iter()
        .filter(|(_, h)| h.sensors.len() > 1)
        .collect();
    shared.sort_by(|(a, x), (b, y)| {
        (y.sensors.len(), y.packets, a).cmp(&(x.sensors.len(), x.packets, b))
    });
    shared.truncate(SHARED_SOURCES);
    let shared_sources: Vec<SharedSource> = shared
        .into_iter()
        .map(|(ip, h)| SharedSource {
            ip: h.disclosure.source(sources.pan, ip),
            country: h.country,
            asn: h.asn,
            packets: h.packets,
            sensors: h.sensors,
            sensor_countries: h.sensor_countries,
        })
        .collect();
    Ok(Comparison {
        from: window.map(|w| Timestamp::from_secs(w.from)),
        to: window.map(|w| Timestamp::from_secs(w.to)),
        sensors: per_sensor,
        sources_anonymised: shared_sources.iter().any(|s| s.ip.anonymised()),
        shared_sources,
    })
}
