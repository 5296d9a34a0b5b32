//! MaxMind DB (`.mmdb`, GeoLite2-ASN / GeoLite2-Country and look-alikes): the file is verified,
//! the search tree is walked with `maxminddb::Reader::networks` and every network becomes a range.

use super::{parse_country, Collected, Format, Range};
use crate::NetDbError;
use ipnetwork::IpNetwork;
use serde::Deserialize;
use std::path::Path;

pub(crate) struct Mmdb;

const METADATA_MARKER: &[u8] = b"\xAB\xCD\xEFMaxMind.com";

#[derive(Deserialize)]
struct CountryRec<'a> {
    #[serde(borrow)]
    iso_code: Option<&'a str>,
}

/// The fields we read from a record; everything else is ignored.
#[derive(Deserialize)]
struct Rec<'a> {
    autonomous_system_number: Option<u32>,
    #[serde(borrow)]
    autonomous_system_organization: Option<&'a str>,
    #[serde(borrow)]
    country: Option<CountryRec<'a>>,
    #[serde(borrow)]
    registered_country: Option<CountryRec<'a>>,
    /// ip-location-db's own MMDB builds use a flat `country_code`.
    #[serde(borrow)]
    country_code: Option<&'a str>,
}

fn net_range(net: IpNetwork) -> Range {
    match net {
        IpNetwork::V4(n) => {
            let start = u32::from(n.network());
            let host_bits = 32 - n.prefix() as u32;
            let end = if host_bits == 32 {
                u32::MAX
            } else {
                start | ((1u32 << host_bits) - 1)
            };
            Range::V4(start, end)
        }
        IpNetwork::V6(n) => {
            let start = u128::from(n.network());
            let host_bits = 128 - n.prefix() as u32;
            let end = if host_bits == 128 {
                u128::MAX
            } else {
                start | ((1u128 << host_bits) - 1)
            };
            Range::V6(start, end)
        }
    }
}

impl Format for Mmdb {
    fn name(&self) -> &'static str {
        "MaxMind DB"
    }

    fn sniff(&self, path: &Path, data: &[u8]) -> bool {
        let tail = &data[data.len().saturating_sub(128 * 1024)..];
        path.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("mmdb"))
            || tail
                .windows(METADATA_MARKER.len())
                .any(|w| w == METADATA_MARKER)
    }

    fn parse(&self, path: &Path, data: &[u8], out: &mut Collected) -> Result<(), NetDbError> {
        let reader = maxminddb::Reader::from_source(data)
            .map_err(|e| super::input(path, format!("not a readable MaxMind DB: {e}")))?;
        // A crafted data section (pointer cycles, out-of-range offsets) is refused here, as a
        // whole, before any record is decoded: `fuzz/` target `netdb` found files that made
        // older maxminddb releases recurse until the stack overflowed.
        reader
            .verify()
            .map_err(|e| super::input(path, format!("not a valid MaxMind DB: {e}")))?;
        let mut seen = Seen::default();
        let networks = reader
            .networks(maxminddb::WithinOptions::default())
            .map_err(|e| super::input(path, format!("cannot walk the search tree: {e}")))?;
        for item in networks {
            let found = item.and_then(|found| Ok((found.network()?, found.decode::<Rec>()?)));
            match found {
                Ok((net, Some(rec))) => {
                    // An IPv6 tree holds IPv4 under ::/96; a record on the all-zero path above
                    // it also answers every IPv4 lookup, so it covers all of IPv4 as well.
                    if let IpNetwork::V6(v6) = net {
                        if v6.network().is_unspecified() && v6.prefix() < 96 {
                            let all_v4 = "0.0.0.0/0";
                            record(Range::V4(0, u32::MAX), &rec, path, all_v4, out, &mut seen);
                        }
                    }
                    record(net_range(net), &rec, path, net, out, &mut seen);
                }
                Ok((_, None)) => {}
                Err(e) => out.bad(path, "record", e),
            }
        }
        if !seen.asn && !seen.country {
            return Err(super::input(
                path,
                format!(
                    "MaxMind DB of type {:?} has no autonomous_system_number or country iso_code ({} usable records)",
                    reader.metadata().database_type, seen.good
                ),
            ));
        }
        out.has_asn |= seen.asn;
        out.has_country |= seen.country;
        Ok(())
    }
}

#[derive(Default)]
struct Seen {
    asn: bool,
    country: bool,
    good: u64,
}

/// Adds the ASN and/or country of one network.
fn record(
    range: Range,
    rec: &Rec,
    path: &Path,
    net: impl std::fmt::Display,
    out: &mut Collected,
    seen: &mut Seen,
) {
    let mut used = false;
    let iso = rec
        .country
        .as_ref()
        .and_then(|c| c.iso_code)
        .or(rec.registered_country.as_ref().and_then(|c| c.iso_code))
        .or(rec.country_code);
    let cc = match iso.map(parse_country) {
        Some(Ok(cc)) => Some(cc),
        Some(Err(e)) => {
            out.bad(path, net, e);
            return;
        }
        None => None,
    };
    if let Some(asn) = rec.autonomous_system_number {
        out.add_asn(range, asn, rec.autonomous_system_organization.unwrap_or(""));
        seen.asn = true;
        used = true;
    }
    if let Some(cc) = cc {
        out.add_country(range, cc);
        seen.country = true;
        used = true;
    }
    if used {
        seen.good += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_to_ranges() {
        let n: IpNetwork = "1.0.0.0/24".parse().unwrap();
        assert_eq!(net_range(n), Range::V4(0x0100_0000, 0x0100_00FF));
        let n: IpNetwork = "0.0.0.0/0".parse().unwrap();
        assert_eq!(net_range(n), Range::V4(0, u32::MAX));
        let n: IpNetwork = "2001:db8::/32".parse().unwrap();
        let s = u128::from("2001:db8::".parse::<std::net::Ipv6Addr>().unwrap());
        assert_eq!(net_range(n), Range::V6(s, s | ((1u128 << 96) - 1)));
        let n: IpNetwork = "::/0".parse().unwrap();
        assert_eq!(net_range(n), Range::V6(0, u128::MAX));
    }
}
