//! MaxMind DB (`.mmdb`, GeoLite2-ASN / GeoLite2-Country and look-alikes): the search tree is
//! walked with `maxminddb::Reader::within` and every network becomes a range.

use super::{parse_country, Collected, Format, Range};
use crate::NetDbError;
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
        // maxminddb 0.24 indexes its data section without bounds checks: a crafted file makes
        // it panic (found by `fuzz/` target `netdb`). A panic there is a corrupt input, not a
        // crash of the import; what it left in `out` is dropped with the error.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse_tree(path, data, out)))
            .unwrap_or_else(|_| {
                Err(super::input(
                    path,
                    "not a readable MaxMind DB: its data section is corrupt",
                ))
            })
    }
}

fn parse_tree(path: &Path, data: &[u8], out: &mut Collected) -> Result<(), NetDbError> {
    let reader = maxminddb::Reader::from_source(data)
        .map_err(|e| super::input(path, format!("not a readable MaxMind DB: {e}")))?;
    let mut seen = Seen::default();
    let walk_err = |e| super::input(path, format!("cannot walk the search tree: {e}"));
    let v4_root = IpNetwork::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0).expect("prefix 0");
    if reader.metadata.ip_version != 6 {
        let iter = reader.within::<Rec>(v4_root).map_err(walk_err)?;
        walk(iter, path, out, &mut seen);
    } else {
        // An IPv6 tree holds IPv4 under ::/96. `within(::/0)` would convert networks there to
        // IPv4 and panics (u8 underflow) on a record at a prefix shorter than /96 on the
        // all-zero path, so the tree is walked in pieces that never hit that case:
        // 1. a record on the zero path above ::/96 covers ::/d and, through ::/96, all IPv4;
        if let Ok((rec, d)) = reader.lookup_prefix::<Rec>(IpAddr::V6(Ipv6Addr::UNSPECIFIED)) {
            if d < 96 {
                let end = u128::MAX >> d;
                record(
                    Range::V6(0, end),
                    rec,
                    path,
                    format_args!("::/{d}"),
                    out,
                    &mut seen,
                );
                let rec = reader
                    .lookup::<Rec>(IpAddr::V6(Ipv6Addr::UNSPECIFIED))
                    .map_err(walk_err)?;
                record(
                    Range::V4(0, u32::MAX),
                    rec,
                    path,
                    "0.0.0.0/0",
                    out,
                    &mut seen,
                );
            }
        }
        // 2. the IPv4 subtree (empty if step 1 found a shorter record);
        walk(
            reader.within::<Rec>(v4_root).map_err(walk_err)?,
            path,
            out,
            &mut seen,
        );
        // 3. the 96 subtrees branching off the zero path (aliases of the IPv4 subtree such
        //    as ::ffff:0:0/96 and 2002::/16 are skipped by `within`).
        for i in 0..96u8 {
            let net = IpNetwork::new(IpAddr::V6(Ipv6Addr::from(1u128 << (127 - i))), i + 1)
                .expect("valid prefix");
            walk(
                reader.within::<Rec>(net).map_err(walk_err)?,
                path,
                out,
                &mut seen,
            );
        }
    }
    if !seen.asn && !seen.country {
        return Err(super::input(
            path,
            format!(
                "MaxMind DB of type {:?} has no autonomous_system_number or country iso_code ({} usable records)",
                reader.metadata.database_type, seen.good
            ),
        ));
    }
    out.has_asn |= seen.asn;
    out.has_country |= seen.country;
    Ok(())
}

#[derive(Default)]
struct Seen {
    asn: bool,
    country: bool,
    good: u64,
}

fn walk<'de, S: AsRef<[u8]>>(
    iter: maxminddb::Within<'de, Rec<'de>, S>,
    path: &Path,
    out: &mut Collected,
    seen: &mut Seen,
) {
    for item in iter {
        match item {
            Ok(item) => record(
                net_range(item.ip_net),
                item.info,
                path,
                item.ip_net,
                out,
                seen,
            ),
            Err(e) => out.bad(path, "record", e),
        }
    }
}

/// Adds the ASN and/or country of one network.
fn record(
    range: Range,
    rec: Rec,
    path: &Path,
    net: impl std::fmt::Display,
    out: &mut Collected,
    seen: &mut Seen,
) {
    let mut used = false;
    let iso = rec
        .country
        .and_then(|c| c.iso_code)
        .or(rec.registered_country.and_then(|c| c.iso_code))
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
        let s = u128::from("2001:db8::".parse::<Ipv6Addr>().unwrap());
        assert_eq!(net_range(n), Range::V6(s, s | ((1u128 << 96) - 1)));
        let n: IpNetwork = "::/0".parse().unwrap();
        assert_eq!(net_range(n), Range::V6(0, u128::MAX));
    }
}
