//! Inputs the `netdb` fuzz target (`fuzz/fuzz_targets/netdb.rs`) found crashing, kept in
//! `fuzz/regressions/netdb/`: each is imported as the target imports it (first byte: which
//! file name, the rest: the file) and must be refused with an error naming the file, or read.

use chrono::NaiveDate;
use greenwatch_netdb::NetDb;

/// The target's file names, chosen by the first byte (bit 7: a stored snapshot instead).
const NAMES: [&str; 4] = [
    "asn-ipv4.csv",
    "geo-whois-asn-country-ipv6.csv",
    "ip2asn-combined.tsv",
    "GeoLite2-ASN.mmdb",
];

#[test]
fn crashing_inputs_found_by_fuzzing_are_refused_or_read() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/netdb");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let input = std::fs::read(entry.unwrap().path()).unwrap();
        let (&choice, file) = input.split_first().unwrap();
        assert_eq!(choice & 0x80, 0, "snapshot inputs are not kept yet");
        let work = tempfile::tempdir().unwrap();
        let path = work.path().join(NAMES[choice as usize % NAMES.len()]);
        std::fs::write(&path, file).unwrap();
        let as_of = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        match NetDb::import(
            &work.path().join("netdb"),
            std::slice::from_ref(&path),
            as_of,
        ) {
            Ok(_) => {
                NetDb::open(&work.path().join("netdb")).unwrap();
            }
            Err(e) => assert!(e.to_string().contains(&*path.to_string_lossy()), "{e}"),
        }
        seen += 1;
    }
    assert!(seen > 0, "no regression inputs in {}", dir.display());
}
