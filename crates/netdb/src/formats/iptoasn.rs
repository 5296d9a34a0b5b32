//! iptoasn.com TSV (`ip2asn-v4.tsv`, `-v6`, `-combined`, `-v4-u32`):
//! `range_start \t range_end \t AS_number \t country_code \t AS_description`; one row gives both
//! an ASN and a country. AS 0 / "Not routed" and country "None"/"Unknown" mean unknown.

use super::{
    head_lines, parse_asn, parse_country, parse_range, text_lines, Collected, Format, NumFamily,
};
use crate::NetDbError;
use greenwatch_model::CountryCode;
use std::path::Path;

pub(crate) struct IpToAsn;

fn looks_like_row(line: &str) -> bool {
    let f: Vec<&str> = line.splitn(5, '\t').collect();
    f.len() == 5 && parse_range(f[0], f[1], NumFamily::BySize).is_ok() && parse_asn(f[2]).is_ok()
}

fn unknown_country(text: &str) -> bool {
    let t = text.trim();
    t.is_empty() || t.eq_ignore_ascii_case("none") || t.eq_ignore_ascii_case("unknown") || t == "-"
}

impl Format for IpToAsn {
    fn name(&self) -> &'static str {
        "iptoasn TSV"
    }

    fn sniff(&self, _path: &Path, data: &[u8]) -> bool {
        let head = head_lines(data, 8);
        !head.is_empty() && head.iter().filter(|l| looks_like_row(l)).count() * 2 > head.len()
    }

    fn parse(&self, path: &Path, data: &[u8], out: &mut Collected) -> Result<(), NetDbError> {
        out.has_asn = true;
        out.has_country = true;
        let fam = NumFamily::from_path(path);
        let bad_before = out.skipped;
        let mut good = 0u64;
        for (n, line) in text_lines(data) {
            let Ok(line) = line else {
                out.bad(path, n, "not UTF-8");
                continue;
            };
            let f: Vec<&str> = line.splitn(5, '\t').collect();
            if f.len() < 4 {
                out.bad(
                    path,
                    n,
                    format_args!("expected 5 tab-separated fields, found {}", f.len()),
                );
                continue;
            }
            let range = match parse_range(f[0], f[1], fam) {
                Ok(r) => r,
                Err(e) => {
                    out.bad(path, n, e);
                    continue;
                }
            };
            let asn = match parse_asn(f[2]) {
                Ok(a) => a,
                Err(e) => {
                    out.bad(path, n, e);
                    continue;
                }
            };
            let cc = if unknown_country(f[3]) {
                CountryCode::UNKNOWN
            } else {
                match parse_country(f[3]) {
                    Ok(c) => c,
                    Err(e) => {
                        out.bad(path, n, e);
                        continue;
                    }
                }
            };
            let name = f.get(4).copied().unwrap_or("");
            let name = if asn == 0 || name.trim().eq_ignore_ascii_case("not routed") {
                ""
            } else {
                name
            };
            // AS 0 and unknown countries add nothing (see `Collected::add_asn`).
            out.add_asn(range, asn, name);
            out.add_country(range, cc);
            good += 1;
        }
        if good == 0 {
            return Err(super::input(
                path,
                format!("no usable iptoasn rows ({} bad)", out.skipped - bad_before),
            ));
        }
        Ok(())
    }
}
