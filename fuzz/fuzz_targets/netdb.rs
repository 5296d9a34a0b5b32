//! IP data as an operator imports it (ip-location-db CSV, iptoasn TSV or MaxMind MMDB, the
//! file name chosen by the first byte) and the stored snapshot file
//! as `NetDb::open` reads it back: an unreadable input is an error naming it, never a panic.
#![no_main]

use chrono::NaiveDate;
use greenwatch_netdb::NetDb;
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 4] = [
    "asn-ipv4.csv",
    "geo-whois-asn-country-ipv6.csv",
    "ip2asn-combined.tsv",
    "GeoLite2-ASN.mmdb",
];

fuzz_target!(
    init: {
        // maxminddb 0.24 panics on some corrupt files; the importer catches that as a corrupt
        // input (`crates/netdb/src/formats/mmdb.rs`). libFuzzer's hook aborts on every panic,
        // before any catch: let that one reach the importer, abort on every other.
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.location().is_some_and(|l| l.file().contains("maxminddb")) {
                abort(info);
            }
        }));
    },
    |data: &[u8]| {
    let Some((&choice, file)) = data.split_first() else {
        return;
    };
    let Ok(dir) = tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir()) else {
        return;
    };
    if choice & 0x80 != 0 {
        // A corrupt or hostile snapshot file where the store keeps them.
        let snapshot = dir.path().join("netdb/2026-10-01");
        std::fs::create_dir_all(&snapshot).expect("a snapshot directory");
        std::fs::write(snapshot.join("snapshot.gwnetdb"), file).expect("writing the input");
        if let Ok(db) = NetDb::open(&dir.path().join("netdb")) {
            look_up(&db);
        }
        return;
    }
    let input = dir.path().join(NAMES[choice as usize % NAMES.len()]);
    std::fs::write(&input, file).expect("writing the input");
    let as_of = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
    if NetDb::import(&dir.path().join("netdb"), &[input], as_of).is_ok() {
        // What was written must read back.
        let db = NetDb::open(&dir.path().join("netdb")).expect("an imported snapshot reads back");
        look_up(&db);
    }
});

/// Every snapshot answers lookups of both families.
fn look_up(db: &NetDb) {
    for snapshot in db.snapshots() {
        for ip in ["192.0.2.1", "2001:db8::1", "::ffff:198.51.100.7"] {
            let _ = snapshot.lookup(ip.parse().unwrap());
        }
    }
}
