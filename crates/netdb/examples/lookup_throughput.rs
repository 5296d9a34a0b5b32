//! Measures import, open and `enrich_v4` throughput on real ip-location-db CSVs.
//!
//! `cargo run --release -p greenwatch-netdb --example lookup_throughput -- <csv-dir> [lookups]`
//! Without an address file it draws 4 Mi addresses: a uniformly random routed range (ASN and
//! country known), then a uniformly random address in it. Prints `key=value` lines (read by
//! `bench/netdb/run.sh`).

use greenwatch_netdb::NetDb;
use std::path::PathBuf;
use std::time::Instant;

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: lookup_throughput <csv-dir> [lookups] [addr-file]")?,
    );
    let n: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20_000_000);
    let addr_file = args.next();
    let files: Vec<PathBuf> = [
        "asn-ipv4.csv",
        "asn-ipv6.csv",
        "geo-whois-asn-country-ipv4.csv",
        "geo-whois-asn-country-ipv6.csv",
    ]
    .iter()
    .map(|f| dir.join(f))
    .filter(|p| p.exists())
    .collect();
    let db_dir = std::env::temp_dir().join(format!("gw-netdb-bench-{}", std::process::id()));
    let date = chrono::NaiveDate::from_ymd_opt(2026, 6, 17).ok_or("date")?;

    let t = Instant::now();
    let report = NetDb::import(&db_dir, &files, date)?;
    println!("import_seconds={:.3}", t.elapsed().as_secs_f64());
    println!(
        "asn_ranges={} country_ranges={} skipped_rows={}",
        report.asn_ranges, report.country_ranges, report.skipped_rows
    );

    let file = db_dir.join("2026-06-17").join("snapshot.gwnetdb");
    println!(
        "snapshot_file_mb={:.1}",
        std::fs::metadata(&file)?.len() as f64 / 1e6
    );

    let t = Instant::now();
    let db = NetDb::open(&db_dir)?;
    println!("open_seconds={:.3}", t.elapsed().as_secs_f64());
    std::fs::remove_dir_all(&db_dir)?;
    let snap = &db.snapshots()[0];
    println!("snapshot_heap_mb={:.1}", snap.heap_bytes() as f64 / 1e6);

    // Random routed addresses: uniform range, then uniform address inside it; or a given list.
    let addrs: Vec<u32> = match addr_file {
        Some(f) => std::fs::read_to_string(f)?
            .lines()
            .map(|l| l.trim().parse())
            .collect::<Result<_, _>>()?,
        None => {
            let routed = snap.routed_v4();
            if routed.is_empty() {
                return Err("no routed IPv4 ranges (need both ASN and country files)".into());
            }
            let mut s = 42u64;
            (0..1 << 22)
                .map(|_| {
                    let (a, b) = routed[(splitmix(&mut s) % routed.len() as u64) as usize];
                    a + (splitmix(&mut s) % (b as u64 - a as u64 + 1)) as u32
                })
                .collect()
        }
    };
    // One pass summing ASNs and counting known countries: compared with the Python reference.
    let asn_sum: u64 = addrs.iter().map(|&a| snap.enrich_v4(a).asn as u64).sum();
    let cc_known = addrs
        .iter()
        .filter(|&&a| snap.enrich_v4(a).country.is_known())
        .count();
    println!(
        "addresses={} asn_sum={asn_sum} country_known={cc_known}",
        addrs.len()
    );
    let mut acc = 0u64;
    // Warm up, then time.
    for &a in &addrs {
        acc = acc.wrapping_add(snap.enrich_v4(a).asn as u64);
    }
    let t = Instant::now();
    let mut done = 0usize;
    while done < n {
        for &a in &addrs {
            let e = snap.enrich_v4(std::hint::black_box(a));
            acc = acc.wrapping_add(e.asn as u64 ^ e.country.0[0] as u64);
        }
        done += addrs.len();
    }
    let secs = t.elapsed().as_secs_f64();
    println!("lookups={done} seconds={secs:.3} checksum={acc}");
    println!("rust_lookups_per_sec={:.0}", done as f64 / secs);
    Ok(())
}
