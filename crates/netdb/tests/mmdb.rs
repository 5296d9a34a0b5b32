//! MMDB import. The maxminddb crate ships no test databases, so this file carries a tiny writer
//! for the MaxMind DB format (search tree with 24-bit records, data section, metadata).

use chrono::NaiveDate;
use greenwatch_model::{CountryCode, Enrichment};
use greenwatch_netdb::NetDb;
use std::net::IpAddr;
use std::path::Path;

/// A value in the MaxMind DB data format.
enum Val<'a> {
    Str(&'a str),
    U16(u16),
    U32(u32),
    U64(u64),
    Map(Vec<(&'a str, Val<'a>)>),
    Array(Vec<Val<'a>>),
}

fn control(out: &mut Vec<u8>, ty: u8, size: usize) {
    assert!(size < 285, "tiny writer: sizes below 285 only");
    let (first, extra) = if size < 29 {
        (size as u8, None)
    } else {
        (29, Some((size - 29) as u8))
    };
    if ty <= 7 {
        out.push(ty << 5 | first);
    } else {
        out.push(first);
        out.push(ty - 7);
    }
    out.extend(extra);
}

fn uint(out: &mut Vec<u8>, ty: u8, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    control(out, ty, 8 - skip);
    out.extend_from_slice(&bytes[skip..]);
}

fn encode(out: &mut Vec<u8>, v: &Val) {
    match v {
        Val::Str(s) => {
            control(out, 2, s.len());
            out.extend_from_slice(s.as_bytes());
        }
        Val::U16(x) => uint(out, 5, *x as u64),
        Val::U32(x) => uint(out, 6, *x as u64),
        Val::U64(x) => uint(out, 9, *x),
        Val::Map(m) => {
            control(out, 7, m.len());
            for (k, v) in m {
                encode(out, &Val::Str(k));
                encode(out, v);
            }
        }
        Val::Array(a) => {
            control(out, 11, a.len());
            a.iter().for_each(|v| encode(out, v));
        }
    }
}

#[derive(Clone, Copy)]
enum Rec {
    Empty,
    Node(usize),
    Data(usize),
}

/// Builds an MMDB holding `nets` = (address bits as u128, bit width 32/128, prefix, record).
fn build_mmdb(ip_version: u16, nets: &[(u128, u32, u32, Val)]) -> Vec<u8> {
    let mut nodes: Vec<[Rec; 2]> = vec![[Rec::Empty; 2]];
    let mut data = Vec::new();
    for (addr, width, prefix, val) in nets {
        let off = data.len();
        encode(&mut data, val);
        let mut node = 0;
        for i in 0..*prefix {
            let bit = ((addr >> (width - 1 - i)) & 1) as usize;
            if i + 1 == *prefix {
                nodes[node][bit] = Rec::Data(off);
            } else {
                node = match nodes[node][bit] {
                    Rec::Node(n) => n,
                    Rec::Empty => {
                        nodes.push([Rec::Empty; 2]);
                        let n = nodes.len() - 1;
                        nodes[node][bit] = Rec::Node(n);
                        n
                    }
                    Rec::Data(_) => panic!("tiny writer: networks must not nest"),
                };
            }
        }
    }
    let count = nodes.len();
    let mut out = Vec::new();
    for n in &nodes {
        for r in n {
            let v = match *r {
                Rec::Empty => count,
                Rec::Node(i) => i,
                Rec::Data(off) => count + 16 + off,
            };
            out.extend_from_slice(&(v as u32).to_be_bytes()[1..]);
        }
    }
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    let meta = Val::Map(vec![
        ("binary_format_major_version", Val::U16(2)),
        ("binary_format_minor_version", Val::U16(0)),
        ("build_epoch", Val::U64(1_750_000_000)),
        ("database_type", Val::Str("Greenwatch-Test")),
        ("description", Val::Map(vec![("en", Val::Str("test"))])),
        ("ip_version", Val::U16(ip_version)),
        ("languages", Val::Array(vec![Val::Str("en")])),
        ("node_count", Val::U32(count as u32)),
        ("record_size", Val::U16(24)),
    ]);
    encode(&mut out, &meta);
    out
}

fn v4bits(s: &str) -> u128 {
    u32::from(s.parse::<std::net::Ipv4Addr>().unwrap()) as u128
}

fn v6bits(s: &str) -> u128 {
    u128::from(s.parse::<std::net::Ipv6Addr>().unwrap())
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 17).unwrap()
}

fn asn_rec<'a>(asn: u32, org: &'a str) -> Val<'a> {
    Val::Map(vec![
        ("autonomous_system_number", Val::U32(asn)),
        ("autonomous_system_organization", Val::Str(org)),
    ])
}

fn country_rec(field: &str, iso: &'static str) -> Val<'static> {
    let field: &'static str = if field == "country" {
        "country"
    } else {
        "registered_country"
    };
    Val::Map(vec![(
        field,
        Val::Map(vec![
            ("geoname_id", Val::U32(1)),
            ("iso_code", Val::Str(iso)),
        ]),
    )])
}

fn import(dir: &Path, name: &str, bytes: &[u8]) -> greenwatch_netdb::ImportReport {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    NetDb::import(&dir.join("db"), &[p], date()).unwrap()
}

#[test]
fn geolite2_asn_style_ipv4_tree() {
    let db = build_mmdb(
        4,
        &[
            (
                v4bits("1.0.0.0"),
                32,
                24,
                asn_rec(13335, "Cloudflare, Inc."),
            ),
            (v4bits("8.8.8.0"), 32, 24, asn_rec(15169, "Google LLC")),
            (v4bits("128.0.0.0"), 32, 1, asn_rec(64512, "Upper Half")),
        ],
    );
    let tmp = tempfile::tempdir().unwrap();
    let r = import(tmp.path(), "GeoLite2-ASN.mmdb", &db);
    assert_eq!((r.asn_ranges, r.country_ranges, r.skipped_rows), (3, 0, 0));
    let db = NetDb::open(&tmp.path().join("db")).unwrap();
    let s = &db.snapshots()[0];
    assert_eq!(s.enrich(ip("1.0.0.255")).asn, 13335);
    assert_eq!(s.enrich(ip("1.0.1.0")).asn, 0);
    assert_eq!(s.enrich(ip("8.8.8.8")).asn, 15169);
    assert_eq!(s.enrich(ip("255.255.255.255")).asn, 64512);
    assert_eq!(
        s.lookup(ip("200.1.1.1")).asn_range.as_deref(),
        Some("128.0.0.0-255.255.255.255")
    );
    assert_eq!(s.as_name(15169), Some("Google LLC"));
    assert!(s.has_asn() && !s.has_country());
}

#[test]
fn country_style_ipv6_tree_with_ipv4_subtree_and_registered_country_fallback() {
    // Extension deliberately not .mmdb: detected by the metadata marker.
    let db = build_mmdb(
        6,
        &[
            // IPv4 lives under ::/96 in an IPv6 tree.
            (
                v4bits("1.0.0.0"),
                128,
                96 + 24,
                country_rec("country", "AU"),
            ),
            (
                v4bits("2.0.0.0"),
                128,
                96 + 8,
                country_rec("registered_country", "fr"),
            ),
            (v6bits("2001:200::"), 128, 32, country_rec("country", "JP")),
            (v6bits("2a00::"), 128, 16, country_rec("country", "XYZ")),
        ],
    );
    let tmp = tempfile::tempdir().unwrap();
    let r = import(tmp.path(), "country.bin", &db);
    assert_eq!((r.asn_ranges, r.country_ranges, r.skipped_rows), (0, 3, 1));
    let db = NetDb::open(&tmp.path().join("db")).unwrap();
    let s = &db.snapshots()[0];
    let cc = |t: &str| s.enrich(ip(t)).country;
    assert_eq!(cc("1.0.0.1"), CountryCode(*b"AU"));
    assert_eq!(cc("1.0.1.1"), CountryCode::UNKNOWN);
    assert_eq!(cc("2.255.255.255"), CountryCode(*b"FR"));
    assert_eq!(cc("2001:200:ffff::1"), CountryCode(*b"JP"));
    assert_eq!(cc("2001:201::"), CountryCode::UNKNOWN);
    assert_eq!(cc("2a00::1"), CountryCode::UNKNOWN);
    assert_eq!(
        s.enrich(ip("::ffff:1.0.0.1")),
        Enrichment {
            asn: 0,
            country: CountryCode(*b"AU")
        }
    );
    assert_eq!(
        s.lookup(ip("2001:200::")).country_range.as_deref(),
        Some("2001:200::-2001:200:ffff:ffff:ffff:ffff:ffff:ffff")
    );
}

#[test]
fn mmdb_without_asn_or_country_is_an_error() {
    let db = build_mmdb(
        4,
        &[(
            v4bits("1.0.0.0"),
            32,
            8,
            Val::Map(vec![("city", Val::Str("x"))]),
        )],
    );
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("City.mmdb");
    std::fs::write(&p, &db).unwrap();
    let err = NetDb::import(&tmp.path().join("db"), &[p], date()).unwrap_err();
    assert!(err.to_string().contains("City.mmdb"), "{err}");
    let p = tmp.path().join("broken.mmdb");
    std::fs::write(&p, b"not really").unwrap();
    let err = NetDb::import(&tmp.path().join("db"), &[p], date()).unwrap_err();
    assert!(err.to_string().contains("broken.mmdb"), "{err}");
}

#[test]
fn ipv6_tree_with_a_short_prefix_over_the_ipv4_subtree() {
    // A record at ::/8 covers the IPv4 subtree (::/96) too; maxminddb's tree walk cannot
    // express that as an IPv4 network.
    let db = build_mmdb(
        6,
        &[
            (0, 128, 8, country_rec("country", "NL")),
            (v6bits("2001:200::"), 128, 32, country_rec("country", "JP")),
        ],
    );
    let tmp = tempfile::tempdir().unwrap();
    let r = import(tmp.path(), "short.mmdb", &db);
    let db = NetDb::open(&tmp.path().join("db")).unwrap();
    let s = &db.snapshots()[0];
    assert_eq!(s.enrich(ip("2001:200::1")).country, CountryCode(*b"JP"));
    assert_eq!(s.enrich(ip("::1:2:3")).country, CountryCode(*b"NL"));
    assert_eq!(s.enrich(ip("1.2.3.4")).country, CountryCode(*b"NL"));
    assert_eq!(r.skipped_rows, 0);
}

#[test]
fn asn_mmdb_imported_with_a_country_csv() {
    let db = build_mmdb(
        4,
        &[(
            v4bits("1.0.0.0"),
            32,
            24,
            asn_rec(13335, "Cloudflare, Inc."),
        )],
    );
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("GeoLite2-ASN.mmdb");
    std::fs::write(&m, &db).unwrap();
    let cc = tmp.path().join("cc.csv");
    std::fs::write(&cc, "1.0.0.0,1.0.255.255,AU\n").unwrap();
    let r = NetDb::import(&tmp.path().join("db"), &[m, cc], date()).unwrap();
    assert_eq!((r.asn_ranges, r.country_ranges), (1, 1));
    let db = NetDb::open(&tmp.path().join("db")).unwrap();
    let s = &db.snapshots()[0];
    assert_eq!(
        s.enrich(ip("1.0.0.1")),
        Enrichment {
            asn: 13335,
            country: CountryCode(*b"AU")
        }
    );
    assert_eq!(s.routed_v4(), vec![(0x0100_0000, 0x0100_00FF)]);
}
