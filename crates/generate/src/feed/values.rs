//! Realistic cell values: one generator per kind of column ([`Col`]). Values that belong to a
//! host (its software, device, hostname, sector) are drawn from a per-host seed so that they
//! stay the same on every row of that host; the rest is drawn per row.

use super::report::Report;
use super::text::{push_date_time, push_fixed, push_ip, push_u64};
use crate::rng::{hash2, Rng};
use greenwatch_model::{CountryCode, Enrichment};
use std::fmt::Write as _;
use std::net::IpAddr;

/// How one column's value is made.
#[derive(Copy, Clone, Debug, PartialEq)]
pub(crate) enum Col {
    /// Left empty, as Shadowserver leaves most optional columns.
    Empty,
    Fixed(&'static str),
    Timestamp,
    Severity,
    Tag,
    Ip,
    Protocol,
    /// The service port of the report.
    Port,
    /// The infected host's ephemeral port (sinkhole reports).
    SrcPort,
    Hostname,
    HostnameSource,
    Asn,
    Geo,
    Region,
    City,
    Naics,
    Sector,
    ResponseSize,
    Amplification,
    /// NTP monlist: packets of the response.
    Packets,
    /// One entry of a table, the same for every row of a host (second field: a salt).
    HostPick(&'static [&'static str], u64),
    /// One entry of a table per row.
    RowPick(&'static [&'static str]),
    /// Uniform integer per row.
    Int(u64, u64),
    /// Uniform integer per host (with a salt).
    HostInt(u64, u64, u64),
    /// Uniform per row, 4 decimals.
    Float(f64, f64),
    /// NTP timestamp in hex (`0xE6C5A1B2.3F5A1C00`) near the row's time.
    NtpStamp,
    /// Seconds since boot.
    Uptime,
    /// The row's time as Unix seconds.
    UnixTime,
    MacAddress,
    /// SSDP `uuid:...::upnp:rootdevice`.
    Usn,
    Device(Device),
    DstIp,
    DstPort,
    DstAsn,
    DstGeo,
    DstRegion,
    DstCity,
    Infection,
    MalwareFamily,
    Application,
    SslCipher,
    SslServerName,
}

/// A field of the host's device (one entry of [`tables::DEVICES`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Device {
    Vendor,
    Type,
    Model,
    SysName,
    SysDesc,
}

impl Col {
    /// Whether IntelMQ carries the value as a JSON number.
    pub(crate) fn is_number(self) -> bool {
        matches!(
            self,
            Col::Port
                | Col::SrcPort
                | Col::Asn
                | Col::Naics
                | Col::ResponseSize
                | Col::Amplification
                | Col::Packets
                | Col::Int(..)
                | Col::HostInt(..)
                | Col::Float(..)
                | Col::Uptime
                | Col::UnixTime
                | Col::DstPort
                | Col::DstAsn
        )
    }
}

/// Everything a row's values depend on.
pub(crate) struct RowView<'a> {
    pub report: &'a Report,
    /// `YYYY-MM-DD` of the row's day and its Unix seconds at midnight.
    pub date: &'a str,
    pub day_secs: i64,
    pub secs: u32,
    pub ip: IpAddr,
    /// Seed of the host's stable values.
    pub host: u64,
    /// ASN and country as the feed writes them.
    pub feed: Enrichment,
    pub response_size: u64,
    /// The sinkhole this row reached and its port (sinkhole reports).
    pub sinkhole: Option<(IpAddr, Enrichment, u16)>,
    pub src_port: u16,
}

impl RowView<'_> {
    fn host_pick<T: Copy>(&self, table: &[T], salt: u64) -> T {
        table[(hash2(self.host, salt) % table.len() as u64) as usize]
    }

    fn has_hostname(&self) -> bool {
        self.ip.is_ipv4() && hash2(self.host, 0x484F) % 10 < 4
    }

    fn place(country: CountryCode, host: u64) -> (&'static str, &'static str) {
        match tables::PLACES
            .iter()
            .find(|(cc, _)| cc.as_bytes() == country.0)
        {
            Some((_, places)) => places[(hash2(host, 0x504C) % places.len() as u64) as usize],
            None => ("", ""),
        }
    }

    fn infection(&self) -> (&'static str, &'static str) {
        self.host_pick(tables::INFECTIONS, 0x494E)
    }

    fn sector(&self) -> (u32, &'static str) {
        self.host_pick(tables::SECTORS, 0x5345)
    }

    /// Writes column `col`'s value to `out`; `rng` is the row's generator.
    pub(crate) fn write(&self, col: Col, rng: &mut Rng, out: &mut String) {
        match col {
            Col::Empty => {}
            Col::Fixed(s) => out.push_str(s),
            Col::Timestamp => push_date_time(out, self.date, ' ', self.secs),
            Col::Severity => out.push_str(self.report.severity),
            Col::Tag => match self.sinkhole {
                Some(_) => out.push_str(self.infection().0),
                None => out.push_str(self.report.tag),
            },
            Col::Ip => push_ip(out, self.ip),
            Col::Protocol => out.push_str(if self.sinkhole.is_some() {
                "tcp"
            } else {
                "udp"
            }),
            Col::Port => push_u64(out, self.report.port as u64),
            Col::SrcPort => push_u64(out, self.src_port as u64),
            Col::Hostname => self.hostname(out),
            Col::HostnameSource => {
                if self.has_hostname() {
                    out.push_str("ptr");
                }
            }
            Col::Asn => push_asn(out, self.feed.asn),
            Col::Geo => out.push_str(self.feed.country.as_str().unwrap_or("")),
            Col::Region => out.push_str(Self::place(self.feed.country, self.host).0),
            Col::City => out.push_str(Self::place(self.feed.country, self.host).1),
            Col::Naics => match self.sector().0 {
                0 => {}
                n => push_u64(out, n as u64),
            },
            Col::Sector => out.push_str(self.sector().1),
            Col::ResponseSize => push_u64(out, self.response_size),
            Col::Amplification => {
                push_fixed(out, self.response_size as f64 / self.report.request, 2)
            }
            Col::Packets => push_u64(out, self.response_size / 468),
            Col::HostPick(table, salt) => out.push_str(self.host_pick(table, salt)),
            Col::RowPick(table) => out.push_str(table[rng.below(table.len() as u64) as usize]),
            Col::Int(lo, hi) => push_u64(out, rng.range(lo, hi)),
            Col::HostInt(lo, hi, salt) => {
                push_u64(out, lo + hash2(self.host, salt) % (hi - lo + 1))
            }
            Col::Float(lo, hi) => push_fixed(out, lo + (hi - lo) * rng.f64(), 4),
            Col::NtpStamp => {
                // NTP era 0 counts from 1900; the value is near the row's time.
                let ntp = (self.day_secs + self.secs as i64 + 2_208_988_800 - rng.below(600) as i64)
                    as u32;
                let _ = write!(out, "0x{ntp:08X}.{:08X}", rng.next_u32());
            }
            Col::Uptime => push_u64(
                out,
                hash2(self.host, 0x5550) % 40_000_000 + rng.below(86_400),
            ),
            Col::UnixTime => push_u64(out, (self.day_secs + self.secs as i64).max(0) as u64),
            Col::MacAddress => {
                if hash2(self.host, 0x4D41) & 3 == 0 {
                    let m = hash2(self.host, 0x4D42).to_be_bytes();
                    let _ = write!(
                        out,
                        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                        m[0], m[1], m[2], m[3], m[4], m[5]
                    );
                }
            }
            Col::Usn => {
                let (a, b) = (hash2(self.host, 0x5553), hash2(self.host, 0x5554));
                let _ = write!(
                    out,
                    "uuid:{:08x}-{:04x}-{:04x}-{:04x}-{:012x}::upnp:rootdevice",
                    a >> 32,
                    (a >> 16) & 0xffff,
                    a & 0xffff,
                    b >> 48,
                    b & 0xffff_ffff_ffff
                );
            }
            Col::Device(field) => {
                let d = self.host_pick(tables::DEVICES, 0x4456);
                out.push_str(match field {
                    Device::Vendor => d.0,
                    Device::Type => d.1,
                    Device::Model => d.2,
                    Device::SysName => d.3,
                    Device::SysDesc => d.4,
                });
            }
            Col::DstIp => {
                if let Some((ip, _, _)) = self.sinkhole {
                    push_ip(out, ip);
                }
            }
            Col::DstPort => {
                if let Some((_, _, port)) = self.sinkhole {
                    push_u64(out, port as u64);
                }
            }
            Col::DstAsn => {
                if let Some((_, e, _)) = self.sinkhole {
                    push_asn(out, e.asn);
                }
            }
            Col::DstGeo => {
                if let Some((_, e, _)) = self.sinkhole {
                    out.push_str(e.country.as_str().unwrap_or(""));
                }
            }
            Col::DstRegion | Col::DstCity => {
                if let Some((ip, e, _)) = self.sinkhole {
                    let place = Self::place(e.country, ip_seed(ip));
                    out.push_str(if col == Col::DstRegion {
                        place.0
                    } else {
                        place.1
                    });
                }
            }
            Col::Infection => out.push_str(self.infection().0),
            Col::MalwareFamily => out.push_str(self.infection().1),
            Col::Application => match self.sinkhole {
                Some((_, _, 443)) => out.push_str("https"),
                Some(_) => out.push_str("http"),
                None => {}
            },
            Col::SslCipher => {
                if matches!(self.sinkhole, Some((_, _, 443))) {
                    out.push_str(
                        tables::SSL_CIPHERS[rng.below(tables::SSL_CIPHERS.len() as u64) as usize],
                    );
                }
            }
            Col::SslServerName => {
                if matches!(self.sinkhole, Some((_, _, 443))) {
                    // A DGA-looking domain, as sinkholed malware asks for.
                    let mut h = rng.next_u64();
                    for _ in 0..10 + (h % 6) {
                        h = h.rotate_right(5);
                        out.push((b'a' + (h % 26) as u8) as char);
                    }
                    out.push_str([".com", ".net", ".org", ".info"][(h % 4) as usize]);
                }
            }
        }
    }

    fn hostname(&self, out: &mut String) {
        let IpAddr::V4(v4) = self.ip else { return };
        if !self.has_hostname() {
            return;
        }
        let (prefix, suffix) = self.host_pick(tables::HOSTNAME_STYLES, 0x4853);
        out.push_str(prefix);
        for (i, o) in v4.octets().into_iter().enumerate() {
            if i > 0 {
                out.push('-');
            }
            push_u64(out, o as u64);
        }
        out.push('.');
        out.push_str(suffix);
        if self.feed.asn != 0 {
            out.push_str(".as");
            push_u64(out, self.feed.asn as u64);
        }
        out.push_str(".net");
    }
}

fn push_asn(out: &mut String, asn: u32) {
    if asn != 0 {
        push_u64(out, asn as u64);
    }
}

/// A stable seed for an address (sinkhole servers).
fn ip_seed(ip: IpAddr) -> u64 {
    let k = greenwatch_model::ip_key(ip);
    hash2(k as u64, (k >> 64) as u64)
}

/// Value tables: real software banners, devices and places as they appear in reports.
pub(crate) mod tables {
    pub(crate) const DNS_VERSIONS: &[&str] = &[
        "",
        "",
        "dnsmasq-2.80",
        "dnsmasq-2.85",
        "dnsmasq-2.78",
        "9.11.4-P2-RedHat-9.11.4-26.P2.el7_9.16",
        "9.16.1-Ubuntu",
        "9.18.18-0ubuntu0.22.04.2-Ubuntu",
        "unbound 1.9.0",
        "unbound 1.13.1",
        "PowerDNS Recursor 4.1.11",
        "Microsoft DNS 6.1.7601 (1DB15D39)",
        "RouterOS",
        "huawei",
        "none",
    ];
    pub(crate) const NTPD_VERSIONS: &[&str] = &[
        "ntpd 4.2.6p5@1.2349-o Fri Apr 13 12:52:27 UTC 2018 (1)",
        "ntpd 4.2.8p10@1.3728-o Wed Mar 13 2019 (1)",
        "ntpd 4.2.8p15@1.3728-o Wed Sep 23 11:46:38 UTC 2020 (1)",
        "ntpd 4.2.4p8@1.1612-o Tue Nov 29 00:09:12 UTC 2011 (1)",
        "4",
    ];
    pub(crate) const NTP_PROCESSORS: &[&str] = &[
        "x86_64", "x86_64", "i686", "mips", "armv7l", "aarch64", "unknown",
    ];
    pub(crate) const NTP_REFIDS: &[&str] = &[
        "GPS",
        "PPS",
        "LOCL",
        "INIT",
        "10.0.0.1",
        "192.168.1.1",
        "129.6.15.28",
    ];
    pub(crate) const NTP_SYSTEMS: &[&str] = &[
        "Linux/3.10.0-1160.el7.x86_64",
        "Linux/2.6.32-754.el6.x86_64",
        "Linux",
        "UNIX",
        "cisco",
        "FreeBSD/12.2-RELEASE-p4",
        "JUNOS",
    ];
    pub(crate) const SSDP_CACHE_CONTROL: &[&str] =
        &["max-age=1800", "max-age=120", "max-age=100", "max-age=3600"];
    pub(crate) const SSDP_LOCATIONS: &[&str] = &[
        "http://192.168.1.1:1900/rootDesc.xml",
        "http://192.168.0.1:49152/gatedesc.xml",
        "http://192.168.1.254:5000/rootDesc.xml",
        "http://10.0.0.138:80/description.xml",
        "http://192.168.1.1:52869/picsdesc.xml",
    ];
    /// Server banners, commas included (as real ones are: the CSV must quote them).
    pub(crate) const SSDP_SERVERS: &[&str] = &[
        "Linux/2.6.36, UPnP/1.0, Portable SDK for UPnP devices/1.6.18",
        "Linux/3.14.0 UPnP/1.0 IpBridge/1.26.0",
        "Custom/1.0 UPnP/1.0 Proc/Ver",
        "miniupnpd/1.0 UPnP/1.0",
        "Linux UPnP/1.0 Sonos/63.2-88230 (ZPS9)",
        "OS 1.0 UPnP/1.0 Realtek/V1.3",
        "Linux/2.4.22-1.2115.nptl UPnP/1.0 miniupnpd/1.0",
    ];
    /// (vendor, type, model, sysname, sysdesc); sysdesc strings carry commas and quotes.
    pub(crate) const DEVICES: &[(&str, &str, &str, &str, &str)] = &[
        ("Cisco", "router", "C800", "router", "Cisco IOS Software, C800 Software (C800-UNIVERSALK9-M), Version 15.4(3)M, RELEASE SOFTWARE (fc1)"),
        ("MikroTik", "router", "RB951Ui-2HnD", "MikroTik", "RouterOS RB951Ui-2HnD"),
        ("Huawei", "router", "AR2220", "HUAWEI", "Huawei Versatile Routing Platform Software, VRP (R) software, Version 5.170 (AR2220 V200R009C00SPC500)"),
        ("Ubiquiti", "access point", "", "UBNT", "Linux 2.6.32.71 #1 Fri Feb 4 09:12:40 UTC 2022 mips"),
        ("HP", "printer", "", "NPI1A2B3C", "HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT,JD153,EEPROM JSI23500013"),
        ("", "", "", "", "Linux \"edge\" 4.14.180 #1 SMP PREEMPT armv7l"),
        ("ZyXEL", "router", "", "ZyXEL", "ZyXEL VMG1312-B10D, firmware V5.13(AAXA.8)C0"),
        ("", "", "", "", ""),
    ];
    pub(crate) const MEMCACHED_VERSIONS: &[&str] =
        &["1.4.15", "1.4.25", "1.5.6", "1.5.22", "1.6.9", "1.6.14"];
    /// (infection, family) as sinkhole reports name them.
    pub(crate) const INFECTIONS: &[(&str, &str)] = &[
        ("mirai", "mirai"),
        ("mirai", "mirai"),
        ("andromeda", "andromeda"),
        ("avalanche-andromeda", "andromeda"),
        ("necurs", "necurs"),
        ("qsnatch", "qsnatch"),
        ("ramnit", "ramnit"),
        ("conficker", "conficker"),
        ("sality", "sality"),
        ("gamut", "gamut"),
    ];
    pub(crate) const SSL_CIPHERS: &[&str] = &[
        "TLS_AES_128_GCM_SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "AES256-SHA",
    ];
    /// (NAICS code, sector); 0 and "" when Shadowserver has none (most rows).
    pub(crate) const SECTORS: &[(u32, &str)] = &[
        (0, ""),
        (0, ""),
        (0, ""),
        (0, ""),
        (517311, "Communications, Service Provider, and Hosting"),
        (518210, "Communications, Service Provider, and Hosting"),
        (611310, "Education"),
        (921110, "Government"),
        (622110, "Healthcare"),
        (522110, "Banking, Finance, and Insurance"),
    ];
    /// Reverse-DNS styles: prefix before the dashed address, and the label after it.
    pub(crate) const HOSTNAME_STYLES: &[(&str, &str)] = &[
        ("static-", "static"),
        ("ip", "dyn"),
        ("host-", "cust"),
        ("", "broadband"),
    ];
    /// (country, [(region, city)]) in Shadowserver's upper case.
    pub(crate) const PLACES: &[(&str, &[(&str, &str)])] = &[
        (
            "US",
            &[
                ("CALIFORNIA", "LOS ANGELES"),
                ("TEXAS", "DALLAS"),
                ("VIRGINIA", "ASHBURN"),
                ("NEW YORK", "NEW YORK CITY"),
            ],
        ),
        (
            "CN",
            &[
                ("GUANGDONG", "GUANGZHOU"),
                ("BEIJING", "BEIJING"),
                ("ZHEJIANG", "HANGZHOU"),
            ],
        ),
        (
            "BR",
            &[
                ("SAO PAULO", "SAO PAULO"),
                ("RIO DE JANEIRO", "RIO DE JANEIRO"),
            ],
        ),
        (
            "IN",
            &[("MAHARASHTRA", "MUMBAI"), ("KARNATAKA", "BENGALURU")],
        ),
        (
            "DE",
            &[("HESSEN", "FRANKFURT AM MAIN"), ("BAYERN", "MUNCHEN")],
        ),
        (
            "RU",
            &[
                ("MOSKVA", "MOSCOW"),
                ("SANKT-PETERBURG", "SAINT PETERSBURG"),
            ],
        ),
        ("JP", &[("TOKYO", "TOKYO"), ("OSAKA", "OSAKA")]),
        ("KR", &[("SEOUL", "SEOUL"), ("GYEONGGI-DO", "SEONGNAM-SI")]),
        (
            "FR",
            &[("ILE-DE-FRANCE", "PARIS"), ("AUVERGNE-RHONE-ALPES", "LYON")],
        ),
        ("GB", &[("ENGLAND", "LONDON"), ("SCOTLAND", "EDINBURGH")]),
        ("IT", &[("LOMBARDIA", "MILAN"), ("LAZIO", "ROME")]),
        (
            "VN",
            &[("HA NOI", "HANOI"), ("HO CHI MINH", "HO CHI MINH CITY")],
        ),
        ("ID", &[("JAKARTA RAYA", "JAKARTA")]),
        ("TW", &[("TAIPEI", "TAIPEI")]),
        ("NL", &[("NOORD-HOLLAND", "AMSTERDAM")]),
        ("MX", &[("CIUDAD DE MEXICO", "MEXICO CITY")]),
    ];
    /// What a disagreeing feed says instead: other countries and ASNs.
    pub(crate) const OTHER_COUNTRIES: &[&str] =
        &["US", "CN", "BR", "DE", "RU", "NL", "FR", "GB", "JP", "SG"];
    pub(crate) const OTHER_ASNS: &[u32] = &[
        4134, 4837, 3320, 7922, 16509, 14061, 24940, 9808, 4766, 3462,
    ];
}
