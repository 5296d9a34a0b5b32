//! ip-location-db CSV (npm `@ip-location-db/*`): `start,end,asn,org` (ASN files) or
//! `start,end,cc` (country files), addresses as text or as integers (`-num` files).

use super::{
    head_lines, parse_asn, parse_country, parse_range, text_lines, Collected, Format, NumFamily,
};
use crate::NetDbError;
use std::borrow::Cow;
use std::path::Path;

pub(crate) struct IpLocationDb;

#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum Kind {
    Asn,
    Country,
}

/// Splits one CSV line (RFC 4180 quoting: `"a, b"`, `""` for a quote inside quotes).
fn split_csv<'a>(line: &'a str, out: &mut Vec<Cow<'a, str>>) -> Result<(), &'static str> {
    out.clear();
    let b = line.as_bytes();
    let mut i = 0;
    loop {
        if b.get(i) == Some(&b'"') {
            // Quoted field.
            let mut s = String::new();
            let mut j = i + 1;
            let mut seg = j;
            loop {
                match b.get(j) {
                    None => return Err("unterminated quoted field"),
                    Some(b'"') if b.get(j + 1) == Some(&b'"') => {
                        s.push_str(&line[seg..=j]);
                        j += 2;
                        seg = j;
                    }
                    Some(b'"') => {
                        s.push_str(&line[seg..j]);
                        j += 1;
                        break;
                    }
                    Some(_) => j += 1,
                }
            }
            out.push(Cow::Owned(s));
            match b.get(j) {
                None => return Ok(()),
                Some(b',') => i = j + 1,
                Some(_) => return Err("text after a closing quote"),
            }
        } else {
            let end = line[i..].find(',').map_or(b.len(), |k| i + k);
            out.push(Cow::Borrowed(&line[i..end]));
            if end == b.len() {
                return Ok(());
            }
            i = end + 1;
        }
    }
}

fn kind_of(line: &str) -> Option<Kind> {
    let mut f = Vec::new();
    split_csv(line, &mut f).ok()?;
    match f.len() {
        4 => Some(Kind::Asn),
        3 => Some(Kind::Country),
        _ => None,
    }
}

/// Whether a line is a header (`start,end,...`) rather than data.
fn is_header(line: &str) -> bool {
    let first = line.split(',').next().unwrap_or("").trim();
    !first.is_empty()
        && first.bytes().any(|b| b.is_ascii_alphabetic())
        && first.parse::<std::net::IpAddr>().is_err()
}

impl Format for IpLocationDb {
    fn name(&self) -> &'static str {
        "ip-location-db CSV"
    }

    fn sniff(&self, _path: &Path, data: &[u8]) -> bool {
        let head = head_lines(data, 8);
        let data_lines: Vec<&str> = head.iter().copied().filter(|l| !is_header(l)).collect();
        !data_lines.is_empty()
            && data_lines.iter().filter_map(|l| kind_of(l)).count() * 2 > data_lines.len()
    }

    fn parse(&self, path: &Path, data: &[u8], out: &mut Collected) -> Result<(), NetDbError> {
        let head = head_lines(data, 8);
        let mut kinds = head
            .iter()
            .filter(|l| !is_header(l))
            .filter_map(|l| kind_of(l));
        let kind = kinds
            .next()
            .ok_or_else(|| super::input(path, "no CSV data rows"))?;
        match kind {
            Kind::Asn => out.has_asn = true,
            Kind::Country => out.has_country = true,
        }
        let fam = NumFamily::from_path(path);
        let mut fields = Vec::with_capacity(4);
        let (mut good, mut first) = (0u64, true);
        let bad_before = out.skipped;
        for (n, line) in text_lines(data) {
            let Ok(line) = line else {
                out.bad(path, n, "not UTF-8");
                continue;
            };
            if std::mem::take(&mut first) && is_header(line) {
                continue;
            }
            if let Err(e) = split_csv(line, &mut fields) {
                out.bad(path, n, e);
                continue;
            }
            let want = if kind == Kind::Asn { 4 } else { 3 };
            if fields.len() != want {
                out.bad(
                    path,
                    n,
                    format_args!("expected {want} fields, found {}", fields.len()),
                );
                continue;
            }
            let range = match parse_range(&fields[0], &fields[1], fam) {
                Ok(r) => r,
                Err(e) => {
                    out.bad(path, n, e);
                    continue;
                }
            };
            match kind {
                Kind::Asn => match parse_asn(&fields[2]) {
                    Ok(asn) => out.add_asn(range, asn, &fields[3]),
                    Err(e) => {
                        out.bad(path, n, e);
                        continue;
                    }
                },
                Kind::Country => match parse_country(&fields[2]) {
                    Ok(cc) => out.add_country(range, cc),
                    Err(e) => {
                        out.bad(path, n, e);
                        continue;
                    }
                },
            }
            good += 1;
        }
        if good == 0 {
            return Err(super::input(
                path,
                format!(
                    "no usable {} rows ({} bad)",
                    self.name(),
                    out.skipped - bad_before
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Result<Vec<String>, &'static str> {
        let mut v = Vec::new();
        split_csv(line, &mut v)?;
        Ok(v.into_iter().map(|c| c.into_owned()).collect())
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(
            split("1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"").unwrap()[3],
            "Cloudflare, Inc."
        );
        assert_eq!(
            split("a,b,1,\"LLC \"\"SPUTNIK\"\"\"").unwrap()[3],
            "LLC \"SPUTNIK\""
        );
        assert_eq!(split("a,b,AU").unwrap(), vec!["a", "b", "AU"]);
        assert_eq!(split("a,,").unwrap(), vec!["a", "", ""]);
        assert_eq!(split("\"\"").unwrap(), vec![""]);
        assert!(split("a,\"open").is_err());
        assert!(split("a,\"x\"y").is_err());
    }

    #[test]
    fn header_detection() {
        assert!(is_header("start,end,asn,org"));
        assert!(is_header("ip_range_start,ip_range_end,country_code"));
        assert!(!is_header("1.0.0.0,1.0.0.255,AU"));
        assert!(!is_header("2001:200::,2001:200:ffff::,JP"));
        assert!(!is_header("16777216,16777471,AU"));
    }
}
