//! `cargo bench -p greenwatch-netdb`: enrich_v4 over random routed addresses. Uses the real
//! ip-location-db tables when GREENWATCH_NETDB_SAMPLE_DIR is set, else a synthetic table.

use greenwatch_netdb::{NetDb, Snapshot, SnapshotBuilder};
use std::sync::OnceLock;

fn main() {
    divan::main();
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Fixture {
    snap: Snapshot,
    addrs: Vec<u32>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let snap = match std::env::var_os("GREENWATCH_NETDB_SAMPLE_DIR") {
            Some(dir) => {
                let dir = std::path::PathBuf::from(dir);
                let files: Vec<_> = [
                    "asn-ipv4.csv",
                    "asn-ipv6.csv",
                    "geo-whois-asn-country-ipv4.csv",
                    "geo-whois-asn-country-ipv6.csv",
                ]
                .iter()
                .map(|f| dir.join(f))
                .collect();
                let db_dir = tempfile::tempdir().expect("tempdir");
                let date = chrono::NaiveDate::from_ymd_opt(2026, 6, 17).expect("date");
                NetDb::import(db_dir.path(), &files, date).expect("import");
                let db = NetDb::open(db_dir.path()).expect("open");
                db.into_snapshots().pop().expect("one snapshot")
            }
            None => {
                eprintln!(
                    "GREENWATCH_NETDB_SAMPLE_DIR unset: benchmarking a synthetic 400k-range table"
                );
                let mut b = SnapshotBuilder::new(chrono::NaiveDate::default());
                let mut s = 1u64;
                let mut start = 0x0100_0000u32;
                for i in 0..400_000u32 {
                    let len = 1u32 << (8 + splitmix(&mut s) % 6);
                    b.asn_v4(start, start + len - 1, 1 + i % 70_000);
                    b.country_v4(
                        start,
                        start + len - 1,
                        greenwatch_model::CountryCode(*b"AU"),
                    );
                    start += len + if splitmix(&mut s) & 3 == 0 { 4096 } else { 0 };
                }
                b.build()
            }
        };
        let routed = snap.routed_v4();
        let mut s = 42u64;
        let addrs = (0..1 << 22)
            .map(|_| {
                let (a, b) = routed[(splitmix(&mut s) % routed.len() as u64) as usize];
                a + (splitmix(&mut s) % (b as u64 - a as u64 + 1)) as u32
            })
            .collect();
        Fixture { snap, addrs }
    })
}

/// 4 Mi lookups per iteration; divan also reports items/s.
#[divan::bench]
fn enrich_v4_random_routed(bencher: divan::Bencher) {
    let f = fixture();
    let (snap, addrs) = (&f.snap, &f.addrs[..]);
    bencher
        .counter(divan::counter::ItemsCount::new(addrs.len()))
        .bench(|| {
            let mut acc = 0u32;
            for &a in addrs {
                let e = snap.enrich_v4(divan::black_box(a));
                acc = acc.wrapping_add(e.asn ^ e.country.0[0] as u32);
            }
            acc
        });
}
