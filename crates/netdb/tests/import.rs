//! Import → snapshot file → open → lookups, for every text format, on small fixture files.

use chrono::NaiveDate;
use greenwatch_model::{CountryCode, Enrichment};
use greenwatch_netdb::{NetDb, NetDbError, Snapshot, SnapshotBuilder};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn v4(s: &str) -> u32 {
    u32::from(s.parse::<Ipv4Addr>().unwrap())
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn e(asn: u32, cc: &str) -> Enrichment {
    Enrichment {
        asn,
        country: if cc.is_empty() {
            CountryCode::UNKNOWN
        } else {
            cc.parse().unwrap()
        },
    }
}

const ASN_V4: &str = "\
1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"
1.0.4.0,1.0.7.255,38803,Gtelecom Pty Ltd
2.26.200.0,2.26.215.255,201907,\"LLC \"\"SPUTNIK\"\"\"
255.255.255.0,255.255.255.255,64512,Top Of Space
";
const ASN_V6: &str = "\
::,::ff,65001,Bottom Of Space
2001:200::,2001:200:1b9:ffff:ffff:ffff:ffff:ffff,2500,WIDE Project
";
const CC_V4: &str = "\
0.0.0.0,0.255.255.255,ZZ
1.0.0.0,1.0.0.255,au
1.0.1.0,1.0.3.255,CN
1.0.4.0,1.0.7.255,AU
2.26.0.0,2.26.255.255,RU
255.255.255.255,255.255.255.255,US
";
const CC_V6: &str = "2001:200::,2001:218:2000:51:ffff:ffff:ffff:ffff,JP\n";

fn fixture(dir: &Path) -> Vec<PathBuf> {
    vec![
        write(dir, "asn-ipv4.csv", ASN_V4),
        write(dir, "asn-ipv6.csv", ASN_V6),
        write(dir, "geo-whois-asn-country-ipv4.csv", CC_V4),
        write(dir, "geo-whois-asn-country-ipv6.csv", CC_V6),
    ]
}

fn open_one(db: &Path) -> NetDb {
    let db = NetDb::open(db).unwrap();
    assert_eq!(db.snapshots().len(), 1);
    db
}

fn check_fixture(s: &Snapshot) {
    // First/last address of ranges, gaps, and the ends of the address space.
    assert_eq!(s.enrich_v4(v4("1.0.0.0")), e(13335, "AU"));
    assert_eq!(s.enrich_v4(v4("1.0.0.255")), e(13335, "AU"));
    assert_eq!(s.enrich_v4(v4("1.0.1.0")), e(0, "CN"));
    assert_eq!(s.enrich_v4(v4("1.0.3.255")), e(0, "CN"));
    assert_eq!(s.enrich_v4(v4("1.0.4.0")), e(38803, "AU"));
    assert_eq!(s.enrich_v4(v4("1.0.8.0")), e(0, ""));
    assert_eq!(s.enrich_v4(v4("0.0.0.0")), e(0, "ZZ"));
    assert_eq!(s.enrich_v4(v4("255.255.255.254")), e(64512, ""));
    assert_eq!(s.enrich_v4(u32::MAX), e(64512, "US"));
    assert_eq!(s.enrich(ip("::")), e(65001, ""));
    assert_eq!(s.enrich(ip("::100")), e(0, ""));
    assert_eq!(s.enrich(ip("2001:200::1")), e(2500, "JP"));
    assert_eq!(s.enrich(ip("2001:200:1ba::")), e(0, "JP"));
    assert_eq!(
        s.enrich(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
        e(0, "")
    );
    // IPv4-mapped IPv6 uses the IPv4 tables.
    assert_eq!(s.enrich(ip("::ffff:1.0.0.7")), e(13335, "AU"));

    assert_eq!(s.as_name(13335), Some("Cloudflare, Inc."));
    assert_eq!(s.as_name(201907), Some("LLC \"SPUTNIK\""));
    assert_eq!(s.as_name(1), None);

    let l = s.lookup(ip("1.0.0.9"));
    assert_eq!(l.asn, Some(13335));
    assert_eq!(l.as_name.as_deref(), Some("Cloudflare, Inc."));
    assert_eq!(l.country.as_deref(), Some("AU"));
    assert_eq!(l.asn_range.as_deref(), Some("1.0.0.0-1.0.0.255"));
    assert_eq!(l.country_range.as_deref(), Some("1.0.0.0-1.0.0.255"));
    assert_eq!(l.as_of, Some(s.as_of));
    let l = s.lookup(ip("2001:200::5"));
    assert_eq!(
        l.asn_range.as_deref(),
        Some("2001:200::-2001:200:1b9:ffff:ffff:ffff:ffff:ffff")
    );
    assert_eq!(l.country.as_deref(), Some("JP"));
    let l = s.lookup(ip("9.9.9.9"));
    assert_eq!(
        (l.asn, l.as_name, l.country, l.asn_range),
        (None, None, None, None)
    );
    assert_eq!(l.as_of, Some(s.as_of));
    let json = serde_json::to_value(s.lookup(ip("1.0.4.1"))).unwrap();
    assert_eq!(json["as_name"], "Gtelecom Pty Ltd");
    assert_eq!(json["country"], "AU");

    assert_eq!(
        s.routed_v4(),
        vec![
            (v4("1.0.0.0"), v4("1.0.0.255")),
            (v4("1.0.4.0"), v4("1.0.7.255")),
            (v4("2.26.200.0"), v4("2.26.215.255")),
            (u32::MAX, u32::MAX)
        ]
    );
    let wide = u128::from("2001:200::".parse::<std::net::Ipv6Addr>().unwrap());
    let wide_end = u128::from(
        "2001:200:1b9:ffff:ffff:ffff:ffff:ffff"
            .parse::<std::net::Ipv6Addr>()
            .unwrap(),
    );
    assert_eq!(s.routed_v6(), vec![(wide, wide_end)]);
}

#[test]
fn text_csv_import_round_trips_through_the_snapshot_file() {
    let tmp = tempfile::tempdir().unwrap();
    let db_dir = tmp.path().join("netdb");
    let files = fixture(tmp.path());
    let r = NetDb::import(&db_dir, &files, d(2026, 6, 17)).unwrap();
    assert_eq!((r.asn_ranges, r.country_ranges, r.skipped_rows), (6, 7, 0));
    assert_eq!(r.files.len(), 4);
    assert!(db_dir.join("2026-06-17").join("snapshot.gwnetdb").is_file());
    // Nothing but the snapshot file is left behind.
    assert_eq!(
        std::fs::read_dir(db_dir.join("2026-06-17"))
            .unwrap()
            .count(),
        1
    );
    let db = open_one(&db_dir);
    check_fixture(&db.snapshots()[0]);
}

#[test]
fn numeric_csv_variants_match_the_text_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let files = vec![
        write(tmp.path(), "asn-ipv4-num.csv", "16777216,16777471,13335,\"Cloudflare, Inc.\"\n"),
        write(
            tmp.path(),
            "asn-ipv6-num.csv",
            "42540528726795050063891204319802818560,42540528727329395276160870415022948351,2500,WIDE Project\n",
        ),
        write(tmp.path(), "geo-whois-asn-country-ipv4-num.csv", "16777216,16777471,AU\n"),
        // No family in the name: decided by size.
        write(tmp.path(), "cc.csv", "0,255,JP\n"),
    ];
    let db_dir = tmp.path().join("db");
    NetDb::import(&db_dir, &files, d(2026, 1, 1)).unwrap();
    let db = open_one(&db_dir);
    let s = &db.snapshots()[0];
    assert_eq!(s.enrich_v4(v4("1.0.0.128")), e(13335, "AU"));
    assert_eq!(s.enrich(ip("2001:200::1")), e(2500, ""));
    assert_eq!(
        s.enrich(ip("2001:200:1b9:ffff:ffff:ffff:ffff:ffff")),
        e(2500, "")
    );
    assert_eq!(s.enrich(ip("2001:200:1ba::")), e(0, ""));
    assert_eq!(s.enrich_v4(255), e(0, "JP"));
    assert_eq!(s.enrich_v4(256), e(0, ""));
}

#[test]
fn header_line_and_crlf_are_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "cc.csv",
        "start,end,country\r\n1.0.0.0,1.0.0.255,AU\r\n\r\n",
    );
    let r = NetDb::import(tmp.path(), &[f], d(2026, 1, 1)).unwrap();
    assert_eq!((r.country_ranges, r.skipped_rows), (1, 0));
}

#[test]
fn iptoasn_tsv_gives_asn_and_country() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "ip2asn-combined.tsv",
        "1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET - Cloudflare, Inc.\n\
         1.0.1.0\t1.0.3.255\t0\tNone\tNot routed\n\
         1.0.4.0\t1.0.7.255\t38803\tAU\tGTELECOM-AUSTRALIA Gtelecom Pty Ltd\n\
         1.0.8.0\t1.0.8.255\t4134\tUnknown\tCHINANET\n\
         2001:200::\t2001:200:ffff:ffff:ffff:ffff:ffff:ffff\t2500\tJP\tWIDE-BB WIDE Project\n\
         1.0.9.0\t1.0.9.255\tx\tUS\tbroken asn\n",
    );
    let db_dir = tmp.path().join("db");
    let r = NetDb::import(&db_dir, &[f], d(2026, 1, 1)).unwrap();
    assert_eq!((r.asn_ranges, r.country_ranges, r.skipped_rows), (4, 3, 1));
    let db = open_one(&db_dir);
    let s = &db.snapshots()[0];
    assert_eq!(s.enrich_v4(v4("1.0.0.1")), e(13335, "US"));
    assert_eq!(s.enrich_v4(v4("1.0.2.1")), e(0, ""));
    assert_eq!(s.enrich_v4(v4("1.0.8.1")), e(4134, ""));
    assert_eq!(s.enrich(ip("2001:200::1")), e(2500, "JP"));
    assert_eq!(s.as_name(13335), Some("CLOUDFLARENET - Cloudflare, Inc."));
    assert_eq!(s.as_name(0), None);
    assert!(s.has_asn() && s.has_country());
}

#[test]
fn iptoasn_u32_variant() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "ip2asn-v4-u32.tsv",
        "16777216\t16777471\t13335\tUS\tCLOUDFLARENET\n",
    );
    let db_dir = tmp.path().join("db");
    NetDb::import(&db_dir, &[f], d(2026, 1, 1)).unwrap();
    assert_eq!(
        open_one(&db_dir).snapshots()[0].enrich_v4(v4("1.0.0.1")),
        e(13335, "US")
    );
}

#[test]
fn bad_rows_are_counted_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "asn-ipv4.csv",
        "1.0.0.0,1.0.0.255,13335,Cloudflare\n\
         1.0.1.300,1.0.1.255,1,bad ip\n\
         1.0.2.9,1.0.2.0,1,start after end\n\
         1.0.3.0,1.0.3.255,AS-X,bad asn\n\
         1.0.4.0,1.0.4.255,99999999999,asn too large\n\
         1.0.5.0,2001::,1,mixed families\n\
         1.0.6.0,1.0.6.255,1,\"unterminated\n\
         1.0.7.0,1.0.7.255\n",
    );
    let g = write(
        tmp.path(),
        "cc-ipv4.csv",
        "1.0.0.0,1.0.0.255,AUS\n1.0.0.0,1.0.0.255,A1\n1.0.0.0,1.0.0.255,au\n",
    );
    let db_dir = tmp.path().join("db");
    let r = NetDb::import(&db_dir, &[f, g], d(2026, 1, 1)).unwrap();
    assert_eq!(r.skipped_rows, 9);
    assert_eq!((r.asn_ranges, r.country_ranges), (1, 1));
    assert_eq!(
        open_one(&db_dir).snapshots()[0].enrich_v4(v4("1.0.0.1")),
        e(13335, "AU")
    );
}

#[test]
fn unrecognisable_or_empty_files_are_errors_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let good = write(tmp.path(), "cc.csv", "1.0.0.0,1.0.0.255,AU\n");
    let junk = write(
        tmp.path(),
        "notes.txt",
        "hello world\nthis is not a table\n",
    );
    let db_dir = tmp.path().join("db");
    let err = NetDb::import(&db_dir, &[good.clone(), junk.clone()], d(2026, 1, 1)).unwrap_err();
    match &err {
        NetDbError::Input { path, .. } => assert_eq!(path, &junk),
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("notes.txt"), "{err}");
    // Nothing was written.
    assert!(!db_dir.exists() || std::fs::read_dir(&db_dir).unwrap().count() == 0);

    let all_bad = write(tmp.path(), "cc2.csv", "1.0.0.0,1.0.0.255,AUS\nx,y,ZZZ\n");
    let err = NetDb::import(&db_dir, &[all_bad], d(2026, 1, 1)).unwrap_err();
    assert!(err.to_string().contains("cc2.csv"), "{err}");
    let empty = write(tmp.path(), "empty.csv", "");
    assert!(NetDb::import(&db_dir, &[empty], d(2026, 1, 1))
        .unwrap_err()
        .to_string()
        .contains("empty.csv"));
    let missing = tmp.path().join("missing.csv");
    assert!(NetDb::import(&db_dir, &[missing], d(2026, 1, 1))
        .unwrap_err()
        .to_string()
        .contains("missing.csv"));
}

#[test]
fn overlapping_rows_resolve_to_the_most_specific() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(
        tmp.path(),
        "asn.csv",
        "10.0.0.0,10.255.255.255,1,Wide\n10.1.0.0,10.1.255.255,2,Narrow\n10.1.2.0,10.1.2.255,3,Narrower\n",
    );
    let db_dir = tmp.path().join("db");
    let r = NetDb::import(&db_dir, &[f], d(2026, 1, 1)).unwrap();
    assert_eq!(r.asn_ranges, 5);
    let db = open_one(&db_dir);
    let s = &db.snapshots()[0];
    assert_eq!(s.enrich_v4(v4("10.0.255.255")).asn, 1);
    assert_eq!(s.enrich_v4(v4("10.1.0.0")).asn, 2);
    assert_eq!(s.enrich_v4(v4("10.1.2.128")).asn, 3);
    assert_eq!(s.enrich_v4(v4("10.1.3.0")).asn, 2);
    assert_eq!(s.enrich_v4(v4("10.2.0.0")).asn, 1);
    assert_eq!(
        s.lookup(ip("10.1.3.0")).asn_range.as_deref(),
        Some("10.1.3.0-10.1.255.255")
    );
}

#[test]
fn snapshot_at_picks_latest_not_after_else_earliest() {
    let tmp = tempfile::tempdir().unwrap();
    let db_dir = tmp.path().join("db");
    for (date, asn) in [(d(2026, 3, 1), 1), (d(2026, 1, 1), 2), (d(2026, 2, 1), 3)] {
        let f = write(
            tmp.path(),
            "asn.csv",
            &format!("1.0.0.0,1.0.0.255,{asn},X\n"),
        );
        NetDb::import(&db_dir, &[f], date).unwrap();
    }
    // Stray entries are ignored.
    std::fs::create_dir_all(db_dir.join("not-a-date")).unwrap();
    std::fs::create_dir_all(db_dir.join("2026-04-01")).unwrap();
    std::fs::write(db_dir.join("README"), "x").unwrap();
    let db = NetDb::open(&db_dir).unwrap();
    let dates: Vec<NaiveDate> = db.snapshots().iter().map(|s| s.as_of).collect();
    assert_eq!(dates, vec![d(2026, 1, 1), d(2026, 2, 1), d(2026, 3, 1)]);
    let asn_at = |date| db.snapshot_at(date).unwrap().enrich_v4(v4("1.0.0.1")).asn;
    assert_eq!(asn_at(d(2025, 12, 31)), 2);
    assert_eq!(asn_at(d(2026, 1, 1)), 2);
    assert_eq!(asn_at(d(2026, 1, 31)), 2);
    assert_eq!(asn_at(d(2026, 2, 1)), 3);
    assert_eq!(asn_at(d(2026, 2, 28)), 3);
    assert_eq!(asn_at(d(2030, 1, 1)), 1);

    let empty = NetDb::open(&tmp.path().join("nope")).unwrap();
    assert!(empty.snapshots().is_empty());
    assert!(empty.snapshot_at(d(2026, 1, 1)).is_none());
}

#[test]
fn reimport_replaces_only_the_kinds_given() {
    let tmp = tempfile::tempdir().unwrap();
    let db_dir = tmp.path().join("db");
    let date = d(2026, 6, 17);
    let asn1 = write(tmp.path(), "asn1.csv", "1.0.0.0,1.0.0.255,1,One\n");
    let cc1 = write(tmp.path(), "cc1.csv", "1.0.0.0,1.0.0.255,AU\n");
    NetDb::import(&db_dir, &[asn1, cc1], date).unwrap();
    let asn2 = write(tmp.path(), "asn2.csv", "1.0.0.0,1.0.0.255,2,Two\n");
    let r = NetDb::import(&db_dir, &[asn2], date).unwrap();
    assert_eq!((r.asn_ranges, r.country_ranges), (1, 0));
    let db = open_one(&db_dir);
    let s = &db.snapshots()[0];
    assert_eq!(s.enrich_v4(v4("1.0.0.1")), e(2, "AU"));
    assert_eq!(s.as_name(2), Some("Two"));
    assert_eq!(s.as_name(1), None);
    let cc2 = write(tmp.path(), "cc2.csv", "1.0.0.0,1.0.0.255,NZ\n");
    NetDb::import(&db_dir, &[cc2], date).unwrap();
    assert_eq!(
        open_one(&db_dir).snapshots()[0].enrich_v4(v4("1.0.0.1")),
        e(2, "NZ")
    );
}

#[test]
fn corrupt_snapshot_is_an_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let db_dir = tmp.path().join("db");
    let f = write(tmp.path(), "cc.csv", "1.0.0.0,1.0.0.255,AU\n");
    NetDb::import(&db_dir, &[f], d(2026, 1, 1)).unwrap();
    assert_eq!(NetDb::open(&db_dir).unwrap().snapshots().len(), 1);
    let file = db_dir.join("2026-01-01/snapshot.gwnetdb");
    let mut bytes = std::fs::read(&file).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xFF;
    std::fs::write(&file, &bytes).unwrap();
    let err = NetDb::open(&db_dir).err().unwrap();
    assert!(err.to_string().contains("snapshot.gwnetdb"), "{err}");
    // A leftover temporary from a killed import is not a snapshot.
    std::fs::remove_file(&file).unwrap();
    std::fs::write(db_dir.join("2026-01-01/.snapshot.gwnetdb.tmp-1"), b"half").unwrap();
    assert!(NetDb::open(&db_dir).unwrap().snapshots().is_empty());
}

#[test]
fn builder_and_from_snapshots() {
    let mut b = SnapshotBuilder::new(d(2026, 1, 1));
    b.asn_v4(0, u32::MAX, 7)
        .country_v4(5, 5, "jp".parse().unwrap())
        .as_name(7, "Seven");
    let s = b.build();
    assert_eq!(s.enrich_v4(5), e(7, "JP"));
    assert_eq!(s.enrich_v4(u32::MAX), e(7, ""));
    assert_eq!(s.routed_v4(), vec![(5, 5)]);
    let db = NetDb::from_snapshots(vec![s, SnapshotBuilder::new(d(2025, 1, 1)).build()]);
    assert_eq!(db.snapshots()[0].as_of, d(2025, 1, 1));
    assert_eq!(
        db.snapshot_at(d(2026, 5, 5)).unwrap().as_name(7),
        Some("Seven")
    );
}

/// Real ip-location-db data (CI sets GREENWATCH_NETDB_SAMPLE_DIR to a dir holding the CSVs).
#[test]
fn real_ip_location_db_sample() {
    let Some(dir) = std::env::var_os("GREENWATCH_NETDB_SAMPLE_DIR") else {
        println!("skipping real_ip_location_db_sample: GREENWATCH_NETDB_SAMPLE_DIR is unset");
        return;
    };
    let dir = PathBuf::from(dir);
    let names = [
        "asn-ipv4.csv",
        "asn-ipv6.csv",
        "geo-whois-asn-country-ipv4.csv",
        "geo-whois-asn-country-ipv6.csv",
    ];
    let files: Vec<PathBuf> = names.iter().map(|n| dir.join(n)).collect();
    let tmp = tempfile::tempdir().unwrap();
    let r = NetDb::import(tmp.path(), &files, d(2026, 6, 17)).unwrap();
    assert!(r.asn_ranges > 400_000, "{r:?}");
    assert!(r.country_ranges > 400_000, "{r:?}");
    let t = std::time::Instant::now();
    let db = NetDb::open(tmp.path()).unwrap();
    println!("opened the full table in {:?}", t.elapsed());
    let s = &db.snapshots()[0];
    assert_eq!(s.enrich_v4(v4("1.0.0.1")), e(13335, "AU"));
    assert_eq!(s.as_name(13335), Some("Cloudflare, Inc."));
    assert_eq!(s.enrich(ip("2001:200::1")).asn, 2500);
    assert!(s.routed_v4().len() > 100_000);

    // The -num variant gives the same ASN table as the text one.
    let num = NetDb::import(
        &tmp.path().join("num"),
        &[dir.join("asn-ipv4-num.csv")],
        d(2026, 6, 17),
    )
    .unwrap();
    let text = NetDb::import(
        &tmp.path().join("text"),
        &[dir.join("asn-ipv4.csv")],
        d(2026, 6, 17),
    )
    .unwrap();
    assert_eq!(num.asn_ranges, text.asn_ranges);
}

#[test]
fn unknown_values_in_one_file_do_not_hide_another_files_data() {
    let tmp = tempfile::tempdir().unwrap();
    let tsv = write(
        tmp.path(),
        "ip2asn-v4.tsv",
        "1.0.0.0\t1.0.0.255\t13335\tNone\tCLOUDFLARENET\n1.0.1.0\t1.0.1.255\t0\tNone\tNot routed\n",
    );
    let asn = write(
        tmp.path(),
        "asn.csv",
        "1.0.0.0,1.0.255.255,64500,Covering\n",
    );
    let cc = write(tmp.path(), "cc.csv", "1.0.0.0,1.0.255.255,AU\n");
    let db_dir = tmp.path().join("db");
    NetDb::import(&db_dir, &[tsv, asn, cc], d(2026, 1, 1)).unwrap();
    let db = open_one(&db_dir);
    let s = &db.snapshots()[0];
    assert_eq!(s.enrich_v4(v4("1.0.0.1")), e(13335, "AU"));
    assert_eq!(s.enrich_v4(v4("1.0.1.1")), e(64500, "AU"));
}

#[test]
fn address_space_counts_resolved_ranges_per_country_and_asn() {
    let mut b = SnapshotBuilder::new(d(2026, 10, 1));
    b.asn_v4(v4("10.0.0.0"), v4("10.0.255.255"), 64500)
        // A more specific range inside: it wins for its 256 addresses.
        .asn_v4(v4("10.0.1.0"), v4("10.0.1.255"), 64501)
        .country_v4(v4("10.0.0.0"), v4("10.0.127.255"), "JP".parse().unwrap())
        .country_v4(v4("10.0.128.0"), v4("10.0.255.255"), "KR".parse().unwrap());
    let space = b.build().address_space_v4();
    assert_eq!(space.by_asn[&64500], 65_536 - 256);
    assert_eq!(space.by_asn[&64501], 256);
    assert_eq!(space.with_asn, 65_536);
    assert_eq!(space.by_country[&"JP".parse().unwrap()], 32_768);
    assert_eq!(space.with_country, 65_536);
}
