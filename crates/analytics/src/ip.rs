//! One address as the viewer may see it: what the sensors saw it send, which risk feeds list
//! it, the DoS attacks on it inferred from backscatter, and the alerts naming it, over one
//! bounded window (at most [`IP_WINDOW_MAX_SECS`]).
//!
//! The rule (`docs/anonymisation.md`, "The IP page"): the address typed is matched against
//! the addresses *as this viewer sees them*. For each dataset label,
//! `Disclosure::for_viewer` says whether this viewer sees its sources in clear; only such
//! data is matched against the address itself. Data whose sources this viewer sees
//! anonymised is matched against the typed address as an anonymised image: its rows are about
//! the source whose image the address is, and are shown as that image, never as the real
//! source. So typing a real address reveals nothing of data the viewer sees anonymised, and
//! typing an image shows exactly what pages already show of that image.

use crate::countries;
use crate::window::{Window, WindowQuery};
use crate::AnalyticsError;
use crate::DataAccess;
use chrono::NaiveDate;
use greenwatch_model::access::{Label, Viewer};
use greenwatch_model::alert::{Alert, Severity};
use greenwatch_model::anonymise::{alert_as_seen, Disclosure, Shown};
use greenwatch_model::sensor::SensorRef;
use greenwatch_model::{CountryCode, Fingerprint, Timestamp, TrafficClass, Transport};
use greenwatch_observe::{infer_dos, BackscatterSlot, DosAttack, FlowTuple};
use greenwatch_store::{FlowOrigin, TimeRange};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Longest window an IP page reads: as a sensor page's, since it reads every flow tuple.
pub const IP_WINDOW_MAX_SECS: i64 = crate::window::SENSOR_WINDOW_MAX_SECS;
/// Newest alerts searched for the address (alerts are read on every request, not cached).
pub const ALERTS_SEARCHED: usize = 1000;
/// Ports listed per sighting.
const PORT_ROWS: usize = 50;

/// What the IP data (newest snapshot) says of the typed address.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Network {
    pub asn: Option<u32>,
    pub as_name: Option<String>,
    pub country: Option<CountryCode>,
    pub country_name: Option<&'static str>,
}

/// One sensor's sightings of the address.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SensorSeen {
    /// `org/name` of the capture's sensor.
    pub sensor: SensorRef,
    pub packets: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

/// Packets to one destination port.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PortSeen {
    pub port: u16,
    pub protocol: Transport,
    pub packets: u64,
}

/// What the sensors saw the address send.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Observed {
    /// First and last hour (bucket start) with a packet from it.
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub packets: u64,
    pub bytes: u64,
    /// ASN and country the flows were enriched with (IP data valid at the time).
    pub asn: u32,
    pub country: CountryCode,
    pub sensors: Vec<SensorSeen>,
    /// By packets, at most 50.
    pub ports: Vec<PortSeen>,
    pub classes: BTreeMap<TrafficClass, u64>,
    pub fingerprints: BTreeMap<Fingerprint, u64>,
}

/// A risk that lists the address: the days it was listed (feed events, or for observed risks
/// our own flows matching the risk's rule), as the metric engine counts hosts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RiskListing {
    pub risk: String,
    pub title: String,
    pub days: Vec<NaiveDate>,
    /// Ports the feed named (none for observed risks).
    pub ports: Vec<u16>,
}

/// An inferred DoS attack on the address, the victim as the viewer may see it.
pub type DosRow = DosAttack<Shown<IpAddr>>;

/// Everything of one kind of data about the address.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Sightings {
    pub observed: Option<Observed>,
    pub risks: Vec<RiskListing>,
    pub dos: Vec<DosRow>,
}

impl Sightings {
    pub fn is_empty(&self) -> bool {
        self.observed.is_none() && self.risks.is_empty() && self.dos.is_empty()
    }
}

/// The IP page's stored data (computed once per data generation, through the result cache).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IpReport {
    /// The address asked for, as typed.
    pub ip: IpAddr,
    /// The window read, `from` inclusive, `to` exclusive; `null` when nothing is stored.
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub network: Network,
    /// Data whose sources this viewer sees in clear, about this address.
    pub in_clear: Sightings,
    /// Data whose sources this viewer sees anonymised, about the source shown as this
    /// address (its anonymised image).
    pub as_anonymised: Sightings,
}

/// The window of an IP page: the one asked for (at most [`IP_WINDOW_MAX_SECS`]), else the
/// last 31 days of the flows and risk events the viewer may see.
pub fn ip_window(
    sources: &DataAccess,
    viewer: &Viewer,
    query: &WindowQuery,
) -> Result<Option<Window>, AnalyticsError> {
    let flows = sources.store.flow_bucket_range(viewer)?;
    let asked = |v: &Option<String>| v.as_deref().is_some_and(|t| !t.trim().is_empty());
    if asked(&query.from) || asked(&query.to) {
        let window = query.resolve(flows)?;
        if let Some(w) = window.filter(|w| w.to - w.from > IP_WINDOW_MAX_SECS) {
            return Err(AnalyticsError::Query(format!(
                "time range of {} days is too long for an IP page: at most {} days",
                (w.to - w.from) / 86_400,
                IP_WINDOW_MAX_SECS / 86_400
            )));
        }
        return Ok(window);
    }
    let flow_end = flows.map(|(_, last)| last.div_euclid(3600) * 3600 + 3600);
    let risk_end = sources
        .store
        .risk_coverage(viewer)?
        .iter()
        .map(|c| midnight(c.last_day) + 86_400)
        .max();
    Ok(flow_end.max(risk_end).map(|to| Window {
        from: to - IP_WINDOW_MAX_SECS,
        to,
    }))
}

fn midnight(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp()
}

fn day_of(secs: i64) -> NaiveDate {
    Timestamp::from_secs(secs).to_datetime().date_naive()
}

/// Flows of one kind of sighting, before they are summed up.
#[derive(Default)]
struct FlowTally {
    first: Option<i64>,
    last: i64,
    packets: u64,
    bytes: u64,
    asn: u32,
    country: CountryCode,
    sensors: BTreeMap<SensorRef, (u64, i64, i64)>,
    ports: BTreeMap<(u16, u8), u64>,
    classes: BTreeMap<TrafficClass, u64>,
    fingerprints: BTreeMap<Fingerprint, u64>,
    /// Days each observed risk's rule matched.
    observed_risks: BTreeMap<usize, BTreeSet<NaiveDate>>,
}

impl FlowTally {
    fn add(&mut self, sources: &DataAccess, origin: &FlowOrigin, f: &FlowTuple) {
        if self.first.is_none() {
            self.first = Some(f.bucket);
            self.asn = f.src_asn;
            self.country = f.src_country;
        }
        self.last = self.last.max(f.bucket);
        self.packets += f.packets;
        self.bytes += f.bytes;
        let sensor = self
            .sensors
            .entry(origin.sensor.clone())
            .or_insert((0, f.bucket, f.bucket));
        sensor.0 += f.packets;
        sensor.1 = sensor.1.min(f.bucket);
        sensor.2 = sensor.2.max(f.bucket);
        if !f.transport.is_icmp() {
            *self.ports.entry((f.dst_port, f.transport.0)).or_default() += f.packets;
        }
        *self.classes.entry(f.class).or_default() += f.packets;
        if let Some(fp) = f.fingerprint {
            *self.fingerprints.entry(fp).or_default() += f.packets;
        }
        for (i, risk) in sources.catalogue.risks().iter().enumerate() {
            let matched = match risk.observed {
                Some(greenwatch_feeds::ObservedRule::Fingerprint(fp)) => f.fingerprint == Some(fp),
                Some(greenwatch_feeds::ObservedRule::ScanSources) => f.class == TrafficClass::Scan,
                None => false,
            };
            if matched {
                self.observed_risks
                    .entry(i)
                    .or_default()
                    .insert(day_of(f.bucket));
            }
        }
    }

    fn finish(self) -> Option<Observed> {
        let first = self.first?;
        let mut ports: Vec<PortSeen> = self
            .ports
            .into_iter()
            .map(|((port, protocol), packets)| PortSeen {
                port,
                protocol: Transport(protocol),
                packets,
            })
            .collect();
        ports.sort_by(|a, b| b.packets.cmp(&a.packets).then(a.port.cmp(&b.port)));
        ports.truncate(PORT_ROWS);
        Some(Observed {
            first_seen: Timestamp::from_secs(first.min(self.last)),
            last_seen: Timestamp::from_secs(self.last),
            packets: self.packets,
            bytes: self.bytes,
            asn: self.asn,
            country: self.country,
            sensors: self
                .sensors
                .into_iter()
                .map(|(sensor, (packets, first, last))| SensorSeen {
                    sensor,
                    packets,
                    first_seen: Timestamp::from_secs(first),
                    last_seen: Timestamp::from_secs(last),
                })
                .collect(),
            ports,
            classes: self.classes,
            fingerprints: self.fingerprints,
        })
    }
}

/// Which stored address a dataset's record must have to be about the typed address, for this
/// viewer: the address itself where the viewer sees sources in clear, else the source whose
/// anonymised image the typed address is.
struct Target {
    clear: IpAddr,
    image_of: IpAddr,
}

impl Target {
    /// Whether `stored` (of a dataset labelled `label`) is about the typed address, and if so
    /// whether as an anonymised image.
    fn matches(&self, viewer: &Viewer, label: &Label, stored: IpAddr) -> Option<Disclosure> {
        if stored != self.clear && stored != self.image_of {
            return None;
        }
        let disclosure = Disclosure::for_viewer(viewer, label);
        let wanted = if disclosure.anonymises_sources() {
            self.image_of
        } else {
            self.clear
        };
        (stored == wanted).then_some(disclosure)
    }
}

/// The IP page of `ip` over `window` as `viewer` may see it.
pub fn ip_report(
    sources: &DataAccess,
    viewer: &Viewer,
    ip: IpAddr,
    window: Option<Window>,
) -> Result<IpReport, AnalyticsError> {
    let target = Target {
        clear: ip,
        image_of: sources.pan.deanonymise(ip),
    };
    let mut report = IpReport {
        ip,
        from: window.map(|w| Timestamp::from_secs(w.from)),
        to: window.map(|w| Timestamp::from_secs(w.to)),
        network: network(sources, ip),
        in_clear: Sightings::default(),
        as_anonymised: Sightings::default(),
    };
    let Some(window) = window else {
        return Ok(report);
    };
    let range = TimeRange {
        from: Some(window.from),
        to: Some(window.to),
    };
    // Observations.
    let mut tallies = [FlowTally::default(), FlowTally::default()];
    sources
        .store
        .scan_labelled_flows(viewer, range, &mut |origin, f| {
            if let Some(d) = target.matches(viewer, &origin.label, f.src) {
                tallies[usize::from(d.anonymises_sources())].add(sources, origin, f);
            }
        })?;
    let [clear, anonymised] = tallies;
    for (tally, sightings) in [
        (clear, &mut report.in_clear),
        (anonymised, &mut report.as_anonymised),
    ] {
        for (i, days) in &tally.observed_risks {
            let risk = &sources.catalogue.risks()[*i];
            sightings.risks.push(RiskListing {
                risk: risk.slug.clone(),
                title: risk.title.clone(),
                days: days.iter().copied().collect(),
                ports: Vec::new(),
            });
        }
        sightings.observed = tally.finish();
    }
    // Risk feeds, over the window's days.
    let (first_day, end_day) = (day_of(window.from), day_of(window.to - 1).succ_opt());
    let end_day = end_day.unwrap_or(first_day);
    for risk in sources.catalogue.risks() {
        if risk.observed.is_some() {
            continue;
        }
        let mut listed: [BTreeMap<NaiveDate, BTreeSet<u16>>; 2] = Default::default();
        sources.store.scan_labelled_risk_events(
            viewer,
            &risk.slug,
            first_day,
            end_day,
            &mut |label, e| {
                if let Some(d) = target.matches(viewer, label, e.ip) {
                    let day = e.time.to_datetime().date_naive();
                    let ports = listed[usize::from(d.anonymises_sources())]
                        .entry(day)
                        .or_default();
                    if e.port != 0 {
                        ports.insert(e.port);
                    }
                }
            },
        )?;
        for (days, sightings) in listed
            .into_iter()
            .zip([&mut report.in_clear, &mut report.as_anonymised])
        {
            if days.is_empty() {
                continue;
            }
            let ports: BTreeSet<u16> = days.values().flatten().copied().collect();
            sightings.risks.push(RiskListing {
                risk: risk.slug.clone(),
                title: risk.title.clone(),
                days: days.into_keys().collect(),
                ports: ports.into_iter().collect(),
            });
        }
    }
    for sightings in [&mut report.in_clear, &mut report.as_anonymised] {
        sightings.risks.sort_by(|a, b| a.risk.cmp(&b.risk));
    }
    // DoS attacks inferred from backscatter.
    let mut slots: [(Vec<BackscatterSlot>, Option<Disclosure>); 2] = Default::default();
    for (label, part) in sources
        .store
        .labelled_backscatter_slots(viewer, range, None)?
    {
        for slot in part {
            if let Some(d) = target.matches(viewer, &label, slot.victim) {
                let kind = &mut slots[usize::from(d.anonymises_sources())];
                kind.1 = Some(kind.1.map_or(d, |k| k.strictest(d)));
                kind.0.push(slot);
            }
        }
    }
    for ((slots, disclosure), sightings) in slots
        .into_iter()
        .zip([&mut report.in_clear, &mut report.as_anonymised])
    {
        let Some(disclosure) = disclosure else {
            continue;
        };
        let mut attacks: Vec<DosRow> = infer_dos(slots)
            .into_iter()
            .map(|a| {
                let shown = disclosure.source(sources.pan, a.victim);
                a.with_victim(shown)
            })
            .collect();
        attacks.reverse();
        sightings.dos = attacks;
    }
    Ok(report)
}

fn network(sources: &DataAccess, ip: IpAddr) -> Network {
    let Some(snapshot) = sources.netdb.snapshots().last() else {
        return Network {
            asn: None,
            as_name: None,
            country: None,
            country_name: None,
        };
    };
    let e = snapshot.enrich(ip);
    let asn = (e.asn != 0).then_some(e.asn);
    let country = (e.country != CountryCode::UNKNOWN).then_some(e.country);
    Network {
        asn,
        as_name: asn.and_then(|a| snapshot.as_name(a)).map(str::to_owned),
        country,
        country_name: country.map(countries::name),
    }
}

/// An alert naming the address, as the viewer sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlertNaming {
    pub id: i64,
    pub title: String,
    pub severity: Severity,
    pub first_seen: Timestamp,
    pub tlp: String,
    pub url: String,
}

/// The alerts among the newest [`ALERTS_SEARCHED`] `viewer` may see that name `ip` as the
/// viewer sees them (anonymised where the alert's label says so): read on every request,
/// like every alert list.
pub fn alerts_naming(
    sources: &DataAccess,
    viewer: &Viewer,
    ip: IpAddr,
) -> Result<Vec<AlertNaming>, AnalyticsError> {
    Ok(sources
        .store
        .alerts(viewer, ALERTS_SEARCHED)?
        .into_iter()
        .map(|a| alert_as_seen(viewer, sources.pan, a))
        .filter(|a| names(a, ip))
        .map(|a| AlertNaming {
            id: a.id,
            url: format!("/alerts/{}", a.id),
            title: a.alert.title,
            severity: a.alert.severity,
            first_seen: a.alert.first_seen,
            tlp: a.alert.label.tlp.to_string(),
        })
        .collect())
}

/// Whether an alert (as seen) names `ip`: among its source contributors or in its text.
fn names(alert: &Alert, ip: IpAddr) -> bool {
    let a = &alert.alert;
    let in_sources = a.evidence.as_ref().is_some_and(|e| {
        e.explanation
            .sources
            .iter()
            .any(|s| s.name.parse::<IpAddr>() == Ok(ip))
    });
    in_sources || mentions(&a.title, ip) || mentions(&a.summary, ip)
}

/// Whether `text` holds `ip` as an address literal.
fn mentions(text: &str, ip: IpAddr) -> bool {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
        .any(|run| run.trim_end_matches(['.', ':']).parse::<IpAddr>() == Ok(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_mentioned_only_as_a_whole_literal() {
        let ip: IpAddr = "1.0.0.7".parse().unwrap();
        assert!(mentions("Surge from 1.0.0.7.", ip));
        assert!(mentions("1.0.0.7: 900 packets", ip));
        assert!(!mentions("Surge from 11.0.0.7 and 1.0.0.70", ip));
    }
}
