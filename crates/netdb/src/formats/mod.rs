//! Input formats behind one trait: each file sniffs whether it is its format and parses rows into
//! a shared [`Collected`]. Adding a format is adding a file here and a line in [`FORMATS`].

mod ip_location_db;
mod iptoasn;
mod mmdb;

use crate::table::RawRange;
use crate::NetDbError;
use greenwatch_model::CountryCode;
use std::collections::HashMap;
use std::fmt::Display;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// One input format.
pub(crate) trait Format: Sync {
    /// Short name for messages.
    fn name(&self) -> &'static str;
    /// Whether `data` (the whole file) looks like this format.
    fn sniff(&self, path: &Path, data: &[u8]) -> bool;
    /// Parses every row into `out`. Bad rows go to [`Collected::bad`]; `Err` only when the file
    /// as a whole cannot be read as this format.
    fn parse(&self, path: &Path, data: &[u8], out: &mut Collected) -> Result<(), NetDbError>;
}

/// Tried in order; the first whose `sniff` accepts a file parses it.
pub(crate) const FORMATS: &[&dyn Format] = &[
    &mmdb::Mmdb,
    &iptoasn::IpToAsn,
    &ip_location_db::IpLocationDb,
];

/// Per-file cap on logged bad rows (all are counted).
const MAX_LOGGED_PER_FILE: u64 = 50;

/// Rows of every input file, before overlap resolution.
#[derive(Default)]
pub(crate) struct Collected {
    pub asn_v4: Vec<RawRange<u32, u32>>,
    pub asn_v6: Vec<RawRange<u128, u32>>,
    pub cc_v4: Vec<RawRange<u32, CountryCode>>,
    pub cc_v6: Vec<RawRange<u128, CountryCode>>,
    /// First non-empty name seen per ASN.
    pub names: HashMap<u32, String>,
    /// Whether any file carried ASN / country data (even if all its rows were unknown).
    pub has_asn: bool,
    pub has_country: bool,
    pub skipped: u64,
    file_skipped: u64,
}

impl Collected {
    /// Counts and logs a bad row (`where_` is a line number or a network).
    pub fn bad(&mut self, path: &Path, where_: impl Display, reason: impl Display) {
        self.skipped += 1;
        self.file_skipped += 1;
        if self.file_skipped <= MAX_LOGGED_PER_FILE {
            eprintln!(
                "netdb import: {}:{where_}: skipped row: {reason}",
                path.display()
            );
        }
    }

    /// Adds an ASN range; AS 0 ("not routed", RFC 7607) adds nothing, so it never hides data
    /// another file has for the same addresses.
    pub fn add_asn(&mut self, range: Range, asn: u32, name: &str) {
        if asn == 0 {
            return;
        }
        match range {
            Range::V4(start, end) => self.asn_v4.push(RawRange {
                start,
                end,
                value: asn,
            }),
            Range::V6(start, end) => self.asn_v6.push(RawRange {
                start,
                end,
                value: asn,
            }),
        }
        let name = name.trim();
        if !name.is_empty() {
            self.names.entry(asn).or_insert_with(|| name.to_string());
        }
    }

    /// Adds a country range; an unknown country adds nothing.
    pub fn add_country(&mut self, range: Range, cc: CountryCode) {
        if !cc.is_known() {
            return;
        }
        match range {
            Range::V4(start, end) => self.cc_v4.push(RawRange {
                start,
                end,
                value: cc,
            }),
            Range::V6(start, end) => self.cc_v6.push(RawRange {
                start,
                end,
                value: cc,
            }),
        }
    }

    /// Reads, detects and parses one file.
    pub fn import_file(&mut self, path: &Path) -> Result<(), NetDbError> {
        let data = std::fs::read(path).map_err(|e| input(path, format!("cannot read: {e}")))?;
        let Some(format) = FORMATS.iter().find(|f| f.sniff(path, &data)) else {
            return Err(input(
                path,
                "unrecognised format: expected ip-location-db CSV (start,end,asn,org or start,end,cc), \
                 iptoasn TSV or MaxMind MMDB",
            ));
        };
        self.file_skipped = 0;
        format.parse(path, &data, self)?;
        if self.file_skipped > MAX_LOGGED_PER_FILE {
            eprintln!(
                "netdb import: {}: {} more bad rows not shown",
                path.display(),
                self.file_skipped - MAX_LOGGED_PER_FILE
            );
        }
        Ok(())
    }
}

pub(crate) fn input(path: &Path, reason: impl Into<String>) -> NetDbError {
    NetDbError::Input {
        path: PathBuf::from(path),
        reason: reason.into(),
    }
}

/// A parsed inclusive range of one address family.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Range {
    V4(u32, u32),
    V6(u128, u128),
}

/// Which family bare integers belong to (decided from the file name when it says).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum NumFamily {
    V4,
    V6,
    /// Integers up to `u32::MAX` are IPv4, larger ones IPv6.
    BySize,
}

impl NumFamily {
    pub fn from_path(path: &Path) -> NumFamily {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        if name.contains("ipv6") || name.contains("-v6") {
            NumFamily::V6
        } else if name.contains("ipv4") || name.contains("-v4") {
            NumFamily::V4
        } else {
            NumFamily::BySize
        }
    }
}

enum Endpoint {
    V4(u32),
    V6(u128),
    Num(u128),
}

fn endpoint(text: &str) -> Result<Endpoint, String> {
    let t = text.trim();
    if t.bytes().all(|b| b.is_ascii_digit()) && !t.is_empty() {
        return t
            .parse::<u128>()
            .map(Endpoint::Num)
            .map_err(|_| format!("number {t:?} too large for an address"));
    }
    match t.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => Ok(Endpoint::V4(a.into())),
        Ok(IpAddr::V6(a)) => Ok(Endpoint::V6(a.into())),
        Err(_) => Err(format!("invalid IP address {t:?}")),
    }
}

/// Parses a `start`/`end` pair (address text or integers) into a checked range.
pub(crate) fn parse_range(start: &str, end: &str, fam: NumFamily) -> Result<Range, String> {
    let (s, e) = (endpoint(start)?, endpoint(end)?);
    let range = match (s, e) {
        (Endpoint::V4(s), Endpoint::V4(e)) => Range::V4(s, e),
        (Endpoint::V6(s), Endpoint::V6(e)) => Range::V6(s, e),
        (Endpoint::Num(s), Endpoint::Num(e)) => {
            let v4 = match fam {
                NumFamily::V4 => true,
                NumFamily::V6 => false,
                NumFamily::BySize => e <= u32::MAX as u128,
            };
            if v4 {
                if e > u32::MAX as u128 || s > u32::MAX as u128 {
                    return Err(format!("number {} too large for IPv4", s.max(e)));
                }
                Range::V4(s as u32, e as u32)
            } else {
                Range::V6(s, e)
            }
        }
        _ => {
            return Err(format!(
                "start {start:?} and end {end:?} are of different kinds"
            ))
        }
    };
    let ok = match range {
        Range::V4(s, e) => s <= e,
        Range::V6(s, e) => s <= e,
    };
    if ok {
        Ok(range)
    } else {
        Err(format!(
            "start {} is after end {}",
            start.trim(),
            end.trim()
        ))
    }
}

pub(crate) fn parse_asn(text: &str) -> Result<u32, String> {
    let t = text.trim();
    let t = t
        .strip_prefix("AS")
        .or_else(|| t.strip_prefix("as"))
        .unwrap_or(t);
    t.parse::<u32>()
        .map_err(|_| format!("invalid AS number {:?}", text.trim()))
}

pub(crate) fn parse_country(text: &str) -> Result<CountryCode, String> {
    text.parse::<CountryCode>()
}

/// Lines of a text file with 1-based numbers, `\r` stripped, blank and `#` lines skipped.
pub(crate) fn text_lines(data: &[u8]) -> impl Iterator<Item = (usize, Result<&str, ()>)> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    data.split(|&b| b == b'\n')
        .enumerate()
        .filter_map(|(i, line)| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) || line.first() == Some(&b'#') {
                return None;
            }
            Some((i + 1, std::str::from_utf8(line).map_err(|_| ())))
        })
}

/// The first few data lines, for sniffing.
pub(crate) fn head_lines(data: &[u8], n: usize) -> Vec<&str> {
    text_lines(&data[..data.len().min(64 * 1024)])
        .filter_map(|(_, l)| l.ok())
        .take(n)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_in_every_spelling() {
        assert_eq!(
            parse_range("1.0.0.0", "1.0.0.255", NumFamily::BySize),
            Ok(Range::V4(0x0100_0000, 0x0100_00FF))
        );
        assert_eq!(
            parse_range("16777216", "16777471", NumFamily::BySize),
            Ok(Range::V4(0x0100_0000, 0x0100_00FF))
        );
        assert_eq!(
            parse_range("16777216", "16777471", NumFamily::V6),
            Ok(Range::V6(0x0100_0000, 0x0100_00FF))
        );
        assert_eq!(
            parse_range("::", "::1", NumFamily::BySize),
            Ok(Range::V6(0, 1))
        );
        assert!(parse_range("4294967296", "4294967297", NumFamily::V4).is_err());
        assert!(parse_range("1.0.0.9", "1.0.0.1", NumFamily::BySize)
            .unwrap_err()
            .contains("after"));
        assert!(parse_range("1.0.0.0", "::1", NumFamily::BySize).is_err());
        assert!(parse_range("1.0.0", "1.0.0.1", NumFamily::BySize).is_err());
    }

    #[test]
    fn asn_and_country_fields() {
        assert_eq!(parse_asn(" AS13335"), Ok(13335));
        assert_eq!(parse_asn("4200000000"), Ok(4_200_000_000));
        assert!(parse_asn("-1").is_err());
        assert!(parse_asn("99999999999").is_err());
        assert_eq!(parse_country("au").unwrap().as_str(), Some("AU"));
        assert!(parse_country("AUS").is_err());
    }

    #[test]
    fn family_hint_from_file_name() {
        assert_eq!(
            NumFamily::from_path(Path::new("/x/asn-ipv6-num.csv")),
            NumFamily::V6
        );
        assert_eq!(
            NumFamily::from_path(Path::new("asn-ipv4-num.csv")),
            NumFamily::V4
        );
        assert_eq!(
            NumFamily::from_path(Path::new("table.csv")),
            NumFamily::BySize
        );
    }
}
