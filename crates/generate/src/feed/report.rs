//! The report types the feed generator knows: each one's service (port, protocol, tag), its
//! published columns resolved to value generators ([`Col`]), and its IntelMQ classification
//! and keys.

use super::columns::{Col, Device};
use super::FeedOutput;
use crate::GenerateError;

/// Report types with a value profile (their columns come from `greenwatch_feeds`).
pub(crate) const SUPPORTED: &[&str] = &[
    "scan_dns",
    "scan6_dns",
    "scan_ntp",
    "scan6_ntp",
    "scan_ntpmonitor",
    "scan6_ntpmonitor",
    "scan_ssdp",
    "scan_snmp",
    "scan6_snmp",
    "scan_chargen",
    "scan_memcached",
    "event4_sinkhole",
    "event6_sinkhole",
];

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Dns,
    Ntp,
    NtpMonitor,
    Ssdp,
    Snmp,
    Chargen,
    Memcached,
    Sinkhole,
}

/// Service facts of a family: the scanned port, severity, tag, IntelMQ identifier and
/// application, and the response sizes (bytes) and request size behind `amplification`.
struct Service {
    port: u16,
    severity: &'static str,
    tag: &'static str,
    identifier: &'static str,
    application: &'static str,
    response: (u64, u64),
    request: f64,
}

impl Family {
    fn of(report_type: &str) -> Option<Family> {
        let service = report_type
            .strip_prefix("scan_")
            .or_else(|| report_type.strip_prefix("scan6_"));
        Some(match (service, report_type) {
            (Some("dns"), _) => Family::Dns,
            (Some("ntp"), _) => Family::Ntp,
            (Some("ntpmonitor"), _) => Family::NtpMonitor,
            (Some("ssdp"), _) => Family::Ssdp,
            (Some("snmp"), _) => Family::Snmp,
            (Some("chargen"), _) => Family::Chargen,
            (Some("memcached"), _) => Family::Memcached,
            (_, "event4_sinkhole" | "event6_sinkhole") => Family::Sinkhole,
            _ => return None,
        })
    }

    fn service(self) -> Service {
        let s = |port, severity, tag, identifier, application, response, request| Service {
            port,
            severity,
            tag,
            identifier,
            application,
            response,
            request,
        };
        match self {
            Family::Dns => s(
                53,
                "medium",
                "openresolver",
                "dns-open-resolver",
                "dns",
                (0, 0),
                1.0,
            ),
            Family::Ntp => s(
                123,
                "low",
                "ntpversion",
                "ntp-version",
                "ntp",
                (400, 520),
                12.0,
            ),
            Family::NtpMonitor => s(
                123,
                "medium",
                "ntpmonitor",
                "ntp-monitor",
                "ntp",
                (468, 46_800),
                48.0,
            ),
            Family::Ssdp => s(
                1900,
                "medium",
                "ssdp",
                "open-ssdp",
                "ssdp",
                (250, 360),
                10.0,
            ),
            Family::Snmp => s(
                161,
                "medium",
                "snmp",
                "open-snmp",
                "snmp",
                (300, 1_500),
                80.0,
            ),
            Family::Chargen => s(
                19,
                "medium",
                "chargen",
                "open-chargen",
                "chargen",
                (350, 1_100),
                2.0,
            ),
            Family::Memcached => s(
                11211,
                "high",
                "memcached",
                "open-memcached",
                "memcached",
                (1_000, 3_000),
                15.0,
            ),
            // Sinkhole rows: port is the infected host's source port, drawn per row.
            Family::Sinkhole => s(0, "high", "", "", "", (0, 0), 1.0),
        }
    }
}

/// Where an IntelMQ value comes from.
#[derive(Clone, Debug)]
pub(crate) enum JsonValue {
    /// The CSV cell of column `i`; a number (unquoted) or text. Empty cells are left out.
    Cell {
        column: usize,
        number: bool,
    },
    Text(&'static str),
    Owned(String),
    /// `timestamp` in RFC 3339.
    TimeSource,
    /// When the feed was processed: the next day, 02:00 UTC.
    TimeObservation,
    /// Base64 of the row's CSV line.
    Raw,
    /// The written ASN's name, if the address info knows it.
    AsName,
}

pub(crate) struct Report {
    pub name: String,
    pub family: Family,
    pub header: &'static [String],
    /// One value generator per column of `header`.
    pub columns: Vec<Col>,
    pub port: u16,
    pub severity: &'static str,
    pub tag: &'static str,
    pub response: (u64, u64),
    pub request: f64,
    /// The column holding the host address.
    pub ip_column: usize,
    pub timestamp_column: usize,
    /// IntelMQ keys in the order IntelMQ writes them (sorted), with their sources.
    pub intelmq: Vec<(String, JsonValue)>,
}

impl Report {
    pub(crate) fn new(name: &str, format: FeedOutput) -> Result<Report, GenerateError> {
        let (Some(family), true) = (Family::of(name), SUPPORTED.contains(&name)) else {
            return Err(GenerateError::Spec(format!(
                "cannot generate report type {name:?}; supported: {}",
                SUPPORTED.join(", ")
            )));
        };
        let Some(header) = greenwatch_feeds::report_columns(name) else {
            return Err(GenerateError::Spec(format!(
                "no published column list for report type {name:?}"
            )));
        };
        let columns: Vec<Col> = header.iter().map(|c| resolve(family, c)).collect();
        let find = |want: &[Col]| columns.iter().position(|c| want.contains(c));
        let (Some(ip_column), Some(timestamp_column)) = (find(&[Col::Ip]), find(&[Col::Timestamp]))
        else {
            return Err(GenerateError::Spec(format!(
                "report type {name:?} has no ip or timestamp column"
            )));
        };
        let service = family.service();
        let intelmq = match format {
            FeedOutput::Intelmq => intelmq_keys(name, family, &service, header, &columns),
            FeedOutput::Shadowserver => Vec::new(),
        };
        Ok(Report {
            name: name.to_string(),
            family,
            header,
            columns,
            port: service.port,
            severity: service.severity,
            tag: service.tag,
            response: service.response,
            request: service.request,
            ip_column,
            timestamp_column,
            intelmq,
        })
    }
}

/// The value generator of one published column.
fn resolve(family: Family, column: &str) -> Col {
    use super::tables::*;
    let common = match column {
        "timestamp" => Some(Col::Timestamp),
        "severity" => Some(Col::Severity),
        "ip" | "src_ip" => Some(Col::Ip),
        "protocol" => Some(Col::Protocol),
        "port" => Some(Col::Port),
        "src_port" => Some(Col::SrcPort),
        "hostname" | "src_hostname" => Some(Col::Hostname),
        "hostname_source" => Some(Col::HostnameSource),
        "tag" => Some(Col::Tag),
        "asn" | "src_asn" => Some(Col::Asn),
        "geo" | "src_geo" => Some(Col::Geo),
        "region" | "src_region" => Some(Col::Region),
        "city" | "src_city" => Some(Col::City),
        "naics" | "src_naics" => Some(Col::Naics),
        "sector" | "src_sector" => Some(Col::Sector),
        "response_size" => Some(Col::ResponseSize),
        "amplification" => Some(Col::Amplification),
        _ => None,
    };
    if let Some(c) = common {
        return c;
    }
    match (family, column) {
        (Family::Dns, "dns_version") => Col::HostPick(DNS_VERSIONS, 1),
        (Family::Dns, "min_amplification") => Col::Float(1.5, 60.0),
        (Family::Ntp, "version") => Col::HostPick(NTPD_VERSIONS, 2),
        (Family::Ntp, "clock" | "reftime") => Col::NtpStamp,
        (Family::Ntp, "clk_wander" | "jitter" | "noise" | "phase" | "stability") => {
            Col::Float(0.0, 20.0)
        }
        (Family::Ntp, "frequency" | "offset") => Col::Float(-50.0, 50.0),
        (Family::Ntp, "rootdelay" | "rootdispersion") => Col::Float(0.0, 120.0),
        (Family::Ntp, "leap") => Col::RowPick(&["0", "0", "0", "3"]),
        (Family::Ntp, "mintc") => Col::Fixed("3"),
        (Family::Ntp, "peer") => Col::HostInt(1_000, 65_535, 3),
        (Family::Ntp, "poll" | "tc") => Col::RowPick(&["6", "10"]),
        (Family::Ntp, "precision") => Col::HostPick(&["-18", "-20", "-23", "-24"], 4),
        (Family::Ntp, "processor") => Col::HostPick(NTP_PROCESSORS, 5),
        (Family::Ntp, "refid") => Col::HostPick(NTP_REFIDS, 6),
        (Family::Ntp, "state") => Col::RowPick(&["4", "5"]),
        (Family::Ntp, "stratum") => Col::HostPick(&["1", "2", "2", "3", "3", "4", "16"], 7),
        (Family::Ntp, "system") => Col::HostPick(NTP_SYSTEMS, 8),
        (Family::Ntp, "tai") => Col::RowPick(&["0", "37"]),
        (Family::NtpMonitor, "packets") => Col::Packets,
        (Family::Ssdp, "header") => Col::Fixed("HTTP/1.1 200 OK"),
        (Family::Ssdp, "cache_control") => Col::HostPick(SSDP_CACHE_CONTROL, 9),
        (Family::Ssdp, "location") => Col::HostPick(SSDP_LOCATIONS, 10),
        (Family::Ssdp, "server") => Col::HostPick(SSDP_SERVERS, 11),
        (Family::Ssdp, "search_target") => Col::Fixed("upnp:rootdevice"),
        (Family::Ssdp, "unique_service_name") => Col::Usn,
        (Family::Snmp, "device_vendor") => Col::Device(Device::Vendor),
        (Family::Snmp, "device_type") => Col::Device(Device::Type),
        (Family::Snmp, "device_model") => Col::Device(Device::Model),
        (Family::Snmp, "sysdesc") => Col::Device(Device::SysDesc),
        (Family::Snmp, "sysname") => Col::Device(Device::SysName),
        (Family::Snmp, "vendor") => Col::Device(Device::Vendor),
        (Family::Snmp, "version") => Col::HostPick(&["2", "2", "2", "1"], 12),
        (Family::Snmp, "community") => Col::Fixed("public"),
        (Family::Snmp | Family::Memcached, "uptime") => Col::Uptime,
        (Family::Snmp, "mac_address") => Col::MacAddress,
        (Family::Memcached, "version") => Col::HostPick(MEMCACHED_VERSIONS, 13),
        (Family::Memcached, "pid") => Col::HostInt(300, 40_000, 14),
        (Family::Memcached, "pointer_size") => Col::HostPick(&["64", "64", "64", "32"], 15),
        (Family::Memcached, "time") => Col::UnixTime,
        (Family::Memcached, "curr_connections") => Col::Int(1, 200),
        (Family::Memcached, "total_connections") => Col::Int(200, 100_000),
        (Family::Sinkhole, "dst_ip") => Col::DstIp,
        (Family::Sinkhole, "dst_port") => Col::DstPort,
        (Family::Sinkhole, "dst_asn") => Col::DstAsn,
        (Family::Sinkhole, "dst_geo") => Col::DstGeo,
        (Family::Sinkhole, "dst_region") => Col::DstRegion,
        (Family::Sinkhole, "dst_city") => Col::DstCity,
        (Family::Sinkhole, "infection") => Col::Infection,
        (Family::Sinkhole, "family") => Col::MalwareFamily,
        (Family::Sinkhole, "application") => Col::Application,
        (Family::Sinkhole, "ssl_cipher") => Col::SslCipher,
        (Family::Sinkhole, "ssl_servername") => Col::SslServerName,
        _ => Col::Empty,
    }
}

/// IntelMQ's harmonization key for a Shadowserver column (IntelMQ's Shadowserver parser
/// puts what has no harmonization field under `extra.`).
fn intelmq_key(column: &str) -> Option<String> {
    let key = match column {
        "timestamp" => return None,
        "ip" | "src_ip" => "source.ip",
        "port" | "src_port" => "source.port",
        "asn" | "src_asn" => "source.asn",
        "geo" | "src_geo" => "source.geolocation.cc",
        "region" | "src_region" => "source.geolocation.region",
        "city" | "src_city" => "source.geolocation.city",
        "hostname" | "src_hostname" => "source.reverse_dns",
        "protocol" => "protocol.transport",
        "dst_ip" => "destination.ip",
        "dst_port" => "destination.port",
        "dst_asn" => "destination.asn",
        "dst_geo" => "destination.geolocation.cc",
        "dst_region" => "destination.geolocation.region",
        "dst_city" => "destination.geolocation.city",
        "dst_hostname" => "destination.reverse_dns",
        "infection" => "malware.name",
        "application" => "protocol.application",
        other => {
            return Some(format!(
                "extra.{}",
                other.strip_prefix("src_").unwrap_or(other)
            ))
        }
    };
    Some(key.to_string())
}

fn intelmq_keys(
    name: &str,
    family: Family,
    service: &Service,
    header: &[String],
    columns: &[Col],
) -> Vec<(String, JsonValue)> {
    let mut keys: Vec<(String, JsonValue)> = vec![
        ("feed.name".into(), JsonValue::Owned(name.to_string())),
        ("feed.provider".into(), JsonValue::Text("Shadowserver")),
        ("time.source".into(), JsonValue::TimeSource),
        ("time.observation".into(), JsonValue::TimeObservation),
        ("source.as_name".into(), JsonValue::AsName),
        ("raw".into(), JsonValue::Raw),
    ];
    let class = |k: &str, v: &'static str| (format!("classification.{k}"), JsonValue::Text(v));
    if family == Family::Sinkhole {
        keys.push(class("taxonomy", "malicious-code"));
        keys.push(class("type", "infected-system"));
        if let Some(i) = columns.iter().position(|c| *c == Col::Infection) {
            let cell = JsonValue::Cell {
                column: i,
                number: false,
            };
            keys.push(("classification.identifier".into(), cell));
        }
    } else {
        keys.push(class("taxonomy", "vulnerable"));
        keys.push(class("type", "vulnerable-system"));
        keys.push(class("identifier", service.identifier));
        keys.push((
            "protocol.application".into(),
            JsonValue::Text(service.application),
        ));
    }
    for (i, (column, col)) in header.iter().zip(columns).enumerate() {
        if *col == Col::Empty {
            continue;
        }
        if let Some(key) = intelmq_key(column) {
            let number = col.is_number();
            keys.push((key, JsonValue::Cell { column: i, number }));
        }
    }
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    keys.dedup_by(|a, b| a.0 == b.0);
    keys
}
