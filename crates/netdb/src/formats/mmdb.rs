//! MaxMind DB (`.mmdb`, GeoLite2-ASN / GeoLite2-Country and look-alikes): the search tree is
//! walked with `maxminddb::Reader::within` and every network becomes a range.

use super::{parse_country, Collected, Format, Range};
use crate::NetDbError;
use greenwatch_model::CountryCode;
use ipnetwork::IpNetwork;
use serde::Deserialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
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
        // An IPv6 tree holds IPv4 under ::/96 and `within(::/0)` yields those as IPv4 networks
        // (its aliases such as ::ffff:0:0/96 are skipped); an IPv4 tree is walked from 0.0.0.0/0.
        let root = if reader.metadata.ip_version == 6 {
            IpNetwork::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0)
        } else {
            IpNetwork::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
        }
        .expect("prefix 0 is valid");
        let iter = reader
            .within::<Rec>(root)
            .map_err(|e| super::input(path, format!("cannot walk the search tree: {e}")))?;
        let (mut asn_seen, mut cc_seen, mut good) = (false, false, 0u64);
        for item in iter {
            let item = match item {
                Ok(i) => i,
                Err(e) => {
                    out.bad(path, "record", e);
                    continue;
                }
            };
            let range = net_range(item.ip_net);
            let rec = item.info;
            let mut used = false;
            if let Some(asn) = rec.autonomous_system_number {
                out.add_asn(range, asn, rec.autonomous_system_organization.unwrap_or(""));
                asn_seen = true;
                used = true;
            }
            let iso = rec
                .country
                .and_then(|c| c.iso_code)
                .or(rec.registered_country.and_then(|c| c.iso_code))
                .or(rec.country_code);
            if let Some(iso) = iso {
                match parse_country(iso) {
                    Ok(cc) => {
                        out.add_country(range, cc);
                        cc_seen = true;
                        used = true;
                    }
                    Err(e) => {
                        out.bad(path, item.ip_net, e);
                        continue;
                    }
                }
            }
            if used {
                good += 1;
            } else {
                // A network without any field we read (e.g. a City record for a continent only).
                out.add_country(range, CountryCode::UNKNOWN);
            }
        }
        if !asn_seen && !cc_seen {
            return Err(super::input(
                path,
                format!(
                    "MaxMind DB of type {:?} has no autonomous_system_number or country iso_code ({good} usable records)",
                    reader.metadata.database_type
                ),
            ));
        }
        out.has_asn |= asn_seen;
        out.has_country |= cc_seen;
        Ok(())
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
        let s = u128::from("2001:db8::".parse::<Ipv6Addr>().unwrap());
        assert_eq!(net_range(n), Range::V6(s, s | ((1u128 << 96) - 1)));
        let n: IpNetwork = "::/0".parse().unwrap();
        assert_eq!(net_range(n), Range::V6(0, u128::MAX));
    }
}
