//! Realistic cell values: one generator per kind of column ([`Col`]). Values that belong to a
//! host (its software, device, hostname, sector) are drawn from a per-host seed so that they
//! stay the same on every row of that host; the rest is drawn per row.

use super::columns::{Col, Device};
use super::report::Report;
use super::tables;
use super::text::{push_date_time, push_fixed, push_ip, push_u64};
use crate::rng::{hash2, Rng};
use greenwatch_model::{CountryCode, Enrichment};
use std::fmt::Write as _;
use std::net::IpAddr;

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
