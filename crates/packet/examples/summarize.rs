//! Reads a capture and prints the same JSON summary as bench/dpkt/ingest_dpkt.py (packets,
//! by_class, by_fingerprint, errors, group counts), to compare the two and time them.
//!
//! `cargo run --release -p greenwatch-packet --example summarize -- FILE [--per-packet OUT]`
//! (`--per-packet` writes one line per frame, in the format of ingest_dpkt.py's option;
//! `--no-groups` skips the two aggregate tables, to time reading + decoding alone.)

use greenwatch_model::{Fingerprint, TrafficClass};
use greenwatch_packet::{decode, CaptureReader, DecodeError};
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: summarize FILE");
        std::process::exit(2);
    };
    let mut verdicts = match (std::env::args().nth(2).as_deref(), std::env::args().nth(3)) {
        (Some("--per-packet"), Some(out)) => Some(std::io::BufWriter::new(
            std::fs::File::create(out).expect("create per-packet file"),
        )),
        _ => None,
    };
    let groups = !std::env::args().any(|a| a == "--no-groups");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1)
    });
    let start = Instant::now();
    let reader = CaptureReader::new(&bytes).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1)
    });
    let mut classes = [0u64; 4];
    let mut fps = [0u64; 3];
    let (mut frames, mut packets, mut ipv6, mut total_bytes) = (0u64, 0u64, 0u64, 0u64);
    let (mut not_ip, mut truncated, mut other_err) = (0u64, 0u64, 0u64);
    let mut per_port: HashMap<(i64, u16, u8, TrafficClass), (u64, u64)> = HashMap::new();
    let mut per_source: HashMap<(i64, IpAddr), (u64, u64)> = HashMap::new();
    for item in reader {
        let frame = match item {
            Ok(f) => f,
            Err(e) => {
                eprintln!("{path}: {e}");
                break;
            }
        };
        frames += 1;
        let decoded = decode(&frame);
        if let Some(w) = verdicts.as_mut() {
            use std::io::Write;
            let line = match &decoded {
                Ok(p) => format!(
                    "{} {} {} {} {}",
                    frames - 1,
                    p.class,
                    p.fingerprint.map(|f| f.as_str()).unwrap_or("-"),
                    p.src_port,
                    p.dst_port
                ),
                Err(e) => format!("{} error:{}", frames - 1, e.key()),
            };
            writeln!(w, "{line}").expect("write per-packet");
        }
        let p = match decoded {
            Ok(p) => p,
            Err(DecodeError::NotIp) => {
                not_ip += 1;
                continue;
            }
            Err(DecodeError::Truncated(_)) => {
                truncated += 1;
                continue;
            }
            Err(_) => {
                other_err += 1;
                continue;
            }
        };
        packets += 1;
        ipv6 += p.src.is_ipv6() as u64;
        // dpkt exposes captured bytes only; count the same for comparison
        let size = frame.data.len() as u64;
        total_bytes += size;
        classes[p.class.code() as usize] += 1;
        if let Some(f) = p.fingerprint {
            fps[f.code() as usize - 1] += 1;
        }
        if !groups {
            continue;
        }
        let hour = p.ts.secs().div_euclid(3600) * 3600;
        let e = per_port
            .entry((hour, p.dst_port, p.transport.0, p.class))
            .or_default();
        e.0 += 1;
        e.1 += size;
        let e = per_source.entry((hour, p.src)).or_default();
        e.0 += 1;
        e.1 += size;
    }
    let secs = start.elapsed().as_secs_f64();
    let c = |t: TrafficClass| classes[t.code() as usize];
    let f = |x: Fingerprint| fps[x.code() as usize - 1];
    println!(
        "{{\"packets\": {packets}, \"by_class\": {{\"scan\": {}, \"backscatter\": {}, \"spoofed\": {}, \"other\": {}}}, \
         \"by_fingerprint\": {{\"mirai\": {}, \"masscan\": {}, \"zmap\": {}}}, \"seconds\": {secs:.3}, \
         \"frames\": {frames}, \"ipv6_packets\": {ipv6}, \"bytes\": {total_bytes}, \
         \"errors\": {{\"not_ip\": {not_ip}, \"truncated\": {truncated}}}, \"port_groups\": {}, \"source_groups\": {}, \
         \"packets_per_second\": {}}}",
        c(TrafficClass::Scan),
        c(TrafficClass::Backscatter),
        c(TrafficClass::Spoofed),
        c(TrafficClass::Other),
        f(Fingerprint::Mirai),
        f(Fingerprint::Masscan),
        f(Fingerprint::Zmap),
        per_port.len(),
        per_source.len(),
        (frames as f64 / secs).round() as u64,
    );
    if other_err > 0 {
        eprintln!("{other_err} frames with an unsupported link type");
    }
}
