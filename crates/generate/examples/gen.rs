//! Writes a generated capture and prints its ground truth and the time it took.
//!
//! `cargo run --release -p greenwatch-generate --example gen -- OUT.pcap [PACKETS] [HOURS] [SEED]`

use greenwatch_generate::{generate, SourcePool, TrafficSpec};
use greenwatch_model::Timestamp;
use std::io::BufWriter;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: gen OUT.pcap [PACKETS=1000000] [HOURS=24] [SEED=1]");
        std::process::exit(2);
    };
    let arg = |i: usize, default: u64| {
        args.get(i)
            .map_or(default, |s| s.parse().expect("a number"))
    };
    let packets = arg(1, 1_000_000);
    let hours = arg(2, 24) as u32;
    let seed = arg(3, 1);
    let start = Timestamp::parse("2026-10-05T00:00:00Z").expect("valid time");
    let spec = TrafficSpec::new(seed, packets, start, hours);
    // A stand-in for routed space: a few large IPv4 blocks and IPv6 allocations.
    let v4 = [
        (1u32, 0u32),
        (5, 0),
        (31, 0),
        (36, 0),
        (41, 0),
        (45, 0),
        (58, 0),
        (77, 0),
        (91, 0),
        (103, 0),
    ]
    .iter()
    .map(|&(a, _)| (a << 24, (a << 24) | 0x00ff_ffff))
    .collect();
    let v6 = vec![
        (
            0x2400_u128 << 112,
            (0x2400_u128 << 112) | ((1u128 << 108) - 1),
        ),
        (
            0x2a00_u128 << 112,
            (0x2a00_u128 << 112) | ((1u128 << 108) - 1),
        ),
    ];
    let pool = SourcePool::new(v4, v6);
    let file = std::fs::File::create(path).expect("create output");
    let t = Instant::now();
    let truth = generate(&spec, &pool, BufWriter::new(file)).expect("generate");
    let secs = t.elapsed().as_secs_f64();
    println!("{}", serde_json::to_string_pretty(&truth).expect("json"));
    eprintln!(
        "{packets} packets over {hours} h in {secs:.2} s ({:.1} M packets/s) -> {path}",
        packets as f64 / secs / 1e6
    );
}
