//! Ingest hot-path micro-benchmarks: reader iteration and decode+classify.
//!
//! `cargo bench -p greenwatch-packet --bench decode`

use greenwatch_model::Timestamp;
use greenwatch_packet::{decode, CaptureReader, Frame, LinkType};

fn main() {
    divan::main();
}

const N: usize = 100_000;

/// An Ethernet/IPv4/TCP SYN frame (54 bytes), varied by `i`.
fn syn_frame(i: u32) -> Vec<u8> {
    let mut f = vec![0u8; 54];
    f[12] = 0x08; // IPv4
    let ip = &mut f[14..34];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&40u16.to_be_bytes());
    ip[4..6].copy_from_slice(&(i as u16).to_be_bytes());
    ip[8] = 64;
    ip[9] = 6;
    ip[12..16].copy_from_slice(&[198, 51, (i >> 8) as u8, 1 + (i % 200) as u8]);
    ip[16..20].copy_from_slice(&[203, 0, 113, (i % 250) as u8 + 1]);
    let tcp = &mut f[34..54];
    tcp[0..2].copy_from_slice(&(40000 + (i % 20000) as u16).to_be_bytes());
    tcp[2..4].copy_from_slice(&[0, 23 + (i % 3) as u8]);
    tcp[4..8].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_be_bytes());
    tcp[12] = 0x50;
    tcp[13] = 0x02;
    tcp[14..16].copy_from_slice(&1024u16.to_be_bytes());
    f
}

fn pcap(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + n * 70);
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for i in 0..n as u32 {
        let f = syn_frame(i);
        out.extend_from_slice(&(1_760_000_000 + i / 1000).to_le_bytes());
        out.extend_from_slice(&(i % 1000 * 1000).to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&f);
    }
    out
}

/// Iterating 100k records of a legacy pcap (frames/s = items/s).
#[divan::bench]
fn reader_iterate(b: divan::Bencher) {
    let bytes = pcap(N);
    b.counter(divan::counter::ItemsCount::new(N)).bench(|| {
        let mut n = 0usize;
        let mut len = 0usize;
        for f in CaptureReader::new(divan::black_box(&bytes)).unwrap() {
            let f = f.unwrap();
            n += 1;
            len += f.data.len();
        }
        (n, len)
    });
}

/// decode + classify of 100k SYN frames already in memory.
#[divan::bench]
fn decode_classify_syn(b: divan::Bencher) {
    let frames: Vec<Vec<u8>> = (0..N as u32).map(syn_frame).collect();
    let frames: Vec<Frame<'_>> = frames
        .iter()
        .map(|d| Frame {
            ts: Timestamp(0),
            link_type: LinkType::ETHERNET,
            data: d,
            wire_len: d.len() as u32,
            offset: 0,
        })
        .collect();
    b.counter(divan::counter::ItemsCount::new(N)).bench(|| {
        let mut scans = 0u32;
        for f in divan::black_box(&frames) {
            if let Ok(p) = decode(f) {
                scans += p.class as u32;
            }
        }
        scans
    });
}

/// The whole hot path: read a pcap and decode+classify every frame.
#[divan::bench]
fn read_decode_classify(b: divan::Bencher) {
    let bytes = pcap(N);
    b.counter(divan::counter::ItemsCount::new(N)).bench(|| {
        let mut acc = 0u64;
        for f in CaptureReader::new(divan::black_box(&bytes)).unwrap() {
            if let Ok(p) = decode(&f.unwrap()) {
                acc += p.dst_port as u64;
            }
        }
        acc
    });
}

/// Iterating the real Wireshark sample (pcapng, nanosecond EPBs, 5898 frames).
#[divan::bench]
fn reader_iterate_pcapng_sample(b: divan::Bencher) {
    let bytes: &[u8] = include_bytes!("../tests/data/wireshark_samples-test.pcapng");
    b.counter(divan::counter::ItemsCount::new(5898usize))
        .bench(|| CaptureReader::new(divan::black_box(bytes)).unwrap().count());
}

/// decode+classify of the same real, mixed traffic (ARP, IPv4, IPv6, UDP, TCP, ...).
#[divan::bench]
fn read_decode_pcapng_sample(b: divan::Bencher) {
    let bytes: &[u8] = include_bytes!("../tests/data/wireshark_samples-test.pcapng");
    b.counter(divan::counter::ItemsCount::new(5898usize))
        .bench(|| {
            CaptureReader::new(divan::black_box(bytes))
                .unwrap()
                .filter(|f| f.as_ref().map(|f| decode(f).is_ok()).unwrap_or(false))
                .count()
        });
}
