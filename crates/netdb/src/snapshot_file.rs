//! The on-disk snapshot: one little-endian column file per date, written to a temporary name and
//! renamed so a killed import never leaves half a snapshot. Column layout makes loading a few
//! bulk copies instead of parsing.
//!
//! Layout (all integers little-endian):
//! ```text
//! magic "GWNETDB1" | u32 version | i32 as_of (days from CE) | u32 flags (1 = asn, 2 = country)
//! asn_v4:  u64 n | n×u32 starts | n×u32 ends | n×u32 asn
//! asn_v6:  u64 n | n×u128 starts | n×u128 ends | n×u32 asn
//! cc_v4:   u64 n | n×u32 starts | n×u32 ends | n×[u8;2] country
//! cc_v6:   u64 n | n×u128 starts | n×u128 ends | n×[u8;2] country
//! names:   u64 n | n×u32 asn | (n+1)×u32 offsets | u64 len | len bytes UTF-8
//! u64 checksum of everything before it
//! ```

use crate::table::{Names, RangeTable};
use chrono::{Datelike, NaiveDate};
use greenwatch_model::CountryCode;
use std::fs;
use std::io::Write;
use std::path::Path;

const MAGIC: &[u8; 8] = b"GWNETDB1";
const VERSION: u32 = 1;
/// Name of the snapshot file inside `<dir>/<YYYY-MM-DD>/`.
pub(crate) const FILE_NAME: &str = "snapshot.gwnetdb";

/// Everything one snapshot stores.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tables {
    pub has_asn: bool,
    pub has_country: bool,
    pub asn_v4: RangeTable<u32, u32>,
    pub asn_v6: RangeTable<u128, u32>,
    pub cc_v4: RangeTable<u32, CountryCode>,
    pub cc_v6: RangeTable<u128, CountryCode>,
    pub names: Names,
}

fn checksum(bytes: &[u8]) -> u64 {
    // FNV-1a over 8-byte words: catches truncation and bit rot, not adversaries.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = (h ^ u64::from_le_bytes(c.try_into().expect("8 bytes"))).wrapping_mul(0x0100_0000_01b3);
    }
    for &b in chunks.remainder() {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

pub(crate) fn encode(as_of: NaiveDate, t: &Tables) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        64 + t.asn_v4.len() * 12
            + t.asn_v6.len() * 36
            + t.cc_v4.len() * 10
            + t.cc_v6.len() * 34
            + t.names.asns.len() * 8
            + t.names.text.len(),
    );
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&as_of.num_days_from_ce().to_le_bytes());
    let flags = t.has_asn as u32 | (t.has_country as u32) << 1;
    out.extend_from_slice(&flags.to_le_bytes());

    fn put_u32s(out: &mut Vec<u8>, v: &[u32]) {
        v.iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
    }
    fn put_u128s(out: &mut Vec<u8>, v: &[u128]) {
        v.iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
    }
    fn put_ccs(out: &mut Vec<u8>, v: &[CountryCode]) {
        v.iter().for_each(|x| out.extend_from_slice(&x.0));
    }
    out.extend_from_slice(&(t.asn_v4.len() as u64).to_le_bytes());
    put_u32s(&mut out, &t.asn_v4.starts);
    put_u32s(&mut out, &t.asn_v4.ends);
    put_u32s(&mut out, &t.asn_v4.values);
    out.extend_from_slice(&(t.asn_v6.len() as u64).to_le_bytes());
    put_u128s(&mut out, &t.asn_v6.starts);
    put_u128s(&mut out, &t.asn_v6.ends);
    put_u32s(&mut out, &t.asn_v6.values);
    out.extend_from_slice(&(t.cc_v4.len() as u64).to_le_bytes());
    put_u32s(&mut out, &t.cc_v4.starts);
    put_u32s(&mut out, &t.cc_v4.ends);
    put_ccs(&mut out, &t.cc_v4.values);
    out.extend_from_slice(&(t.cc_v6.len() as u64).to_le_bytes());
    put_u128s(&mut out, &t.cc_v6.starts);
    put_u128s(&mut out, &t.cc_v6.ends);
    put_ccs(&mut out, &t.cc_v6.values);
    out.extend_from_slice(&(t.names.asns.len() as u64).to_le_bytes());
    put_u32s(&mut out, &t.names.asns);
    put_u32s(&mut out, &t.names.offsets);
    out.extend_from_slice(&(t.names.text.len() as u64).to_le_bytes());
    out.extend_from_slice(t.names.text.as_bytes());
    let sum = checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| format!("truncated at byte {}", self.pos))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4")))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
    fn count(&mut self, width: usize) -> Result<usize, String> {
        let n = self.u64()?;
        let n = usize::try_from(n).map_err(|_| "count too large".to_string())?;
        if n.checked_mul(width)
            .is_none_or(|b| b > self.buf.len() - self.pos)
        {
            return Err(format!("count {n} larger than the file"));
        }
        Ok(n)
    }
    fn u32s(&mut self, n: usize) -> Result<Vec<u32>, String> {
        let b = self.take(n * 4)?;
        Ok(b.chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4")))
            .collect())
    }
    fn u128s(&mut self, n: usize) -> Result<Vec<u128>, String> {
        let b = self.take(n * 16)?;
        Ok(b.chunks_exact(16)
            .map(|c| u128::from_le_bytes(c.try_into().expect("16")))
            .collect())
    }
    fn ccs(&mut self, n: usize) -> Result<Vec<CountryCode>, String> {
        let b = self.take(n * 2)?;
        Ok(b.chunks_exact(2)
            .map(|c| CountryCode([c[0], c[1]]))
            .collect())
    }
}

/// Decodes a snapshot file; `Err` describes the corruption.
pub(crate) fn decode(buf: &[u8]) -> Result<(NaiveDate, Tables), String> {
    if buf.len() < 8 + 4 + 4 + 4 + 8 || &buf[..8] != MAGIC {
        return Err("not a greenwatch netdb snapshot (bad magic)".into());
    }
    let (body, sum) = buf.split_at(buf.len() - 8);
    if checksum(body) != u64::from_le_bytes(sum.try_into().expect("8")) {
        return Err("checksum mismatch (truncated or corrupted file)".into());
    }
    let mut r = Reader { buf: body, pos: 8 };
    let version = r.u32()?;
    if version != VERSION {
        return Err(format!("unsupported snapshot version {version}"));
    }
    let days = r.u32()? as i32;
    let as_of = NaiveDate::from_num_days_from_ce_opt(days).ok_or("bad as_of date")?;
    let flags = r.u32()?;
    let mut t = Tables {
        has_asn: flags & 1 != 0,
        has_country: flags & 2 != 0,
        ..Tables::default()
    };
    let n = r.count(12)?;
    t.asn_v4 = RangeTable {
        starts: r.u32s(n)?,
        ends: r.u32s(n)?,
        values: r.u32s(n)?,
    };
    let n = r.count(36)?;
    t.asn_v6 = RangeTable {
        starts: r.u128s(n)?,
        ends: r.u128s(n)?,
        values: r.u32s(n)?,
    };
    let n = r.count(10)?;
    t.cc_v4 = RangeTable {
        starts: r.u32s(n)?,
        ends: r.u32s(n)?,
        values: r.ccs(n)?,
    };
    let n = r.count(34)?;
    t.cc_v6 = RangeTable {
        starts: r.u128s(n)?,
        ends: r.u128s(n)?,
        values: r.ccs(n)?,
    };
    let n = r.count(8)?;
    let asns = r.u32s(n)?;
    let offsets = r.u32s(n + 1)?;
    let len = r.count(1)?;
    let text = String::from_utf8(r.take(len)?.to_vec()).map_err(|_| "AS names are not UTF-8")?;
    t.names = Names {
        asns,
        offsets,
        text,
    };
    if r.pos != body.len() {
        return Err("trailing bytes".into());
    }
    t.asn_v4.validate().map_err(|e| format!("asn_v4: {e}"))?;
    t.asn_v6.validate().map_err(|e| format!("asn_v6: {e}"))?;
    t.cc_v4.validate().map_err(|e| format!("cc_v4: {e}"))?;
    t.cc_v6.validate().map_err(|e| format!("cc_v6: {e}"))?;
    t.names.validate().map_err(|e| format!("names: {e}"))?;
    Ok((as_of, t))
}

/// Writes `bytes` to `path` atomically: temporary file in the same directory, fsync, rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("snapshot"),
        std::process::id()
    ));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        // Make the rename durable too (best effort: not every platform can open a directory).
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{resolve, RawRange};

    fn sample() -> Tables {
        let mut names = std::collections::HashMap::new();
        names.insert(13335, "Cloudflare, Inc.".to_string());
        names.insert(2500, "WIDE Project ✓".to_string());
        Tables {
            has_asn: true,
            has_country: true,
            asn_v4: resolve(
                &[RawRange {
                    start: 1,
                    end: 2,
                    value: 13335,
                }],
                0,
            ),
            asn_v6: resolve(
                &[RawRange {
                    start: 5u128 << 100,
                    end: u128::MAX,
                    value: 2500,
                }],
                0,
            ),
            cc_v4: resolve(
                &[RawRange {
                    start: 0,
                    end: u32::MAX,
                    value: CountryCode(*b"AU"),
                }],
                CountryCode::UNKNOWN,
            ),
            cc_v6: RangeTable::default(),
            names: Names::from_map(&names),
        }
    }

    #[test]
    fn round_trip_of_empty_tables() {
        let date = NaiveDate::from_ymd_opt(2026, 6, 17).unwrap();
        let t = Tables::default();
        assert_eq!(decode(&encode(date, &t)).unwrap(), (date, t));
    }

    #[test]
    fn round_trip() {
        let date = NaiveDate::from_ymd_opt(2026, 6, 17).unwrap();
        let t = sample();
        let bytes = encode(date, &t);
        let (d, back) = decode(&bytes).unwrap();
        assert_eq!(d, date);
        assert_eq!(back, t);
        assert_eq!(back.names.get(2500), Some("WIDE Project ✓"));
    }

    #[test]
    fn corruption_is_detected() {
        let date = NaiveDate::from_ymd_opt(2026, 6, 17).unwrap();
        let bytes = encode(date, &sample());
        let mut flipped = bytes.clone();
        flipped[30] ^= 1;
        assert!(decode(&flipped).unwrap_err().contains("checksum"));
        assert!(decode(&bytes[..bytes.len() - 3]).is_err());
        assert!(decode(b"hello").is_err());
    }
}
