//! Writes a deterministic pcap of randomised Ethernet frames that exercises every rule of
//! docs/classification.md (fingerprints, each spoofed reason, backscatter, scan, other,
//! VLAN tags, IPv6 extension headers and fragments, truncated and non-IP frames). Used to
//! check that bench/dpkt/ingest_dpkt.py and the Rust classifier agree, and for timing.
//!
//! `cargo run --release -p greenwatch-packet --example mixed_pcap -- OUT.pcap [FRAMES] [SEED]`

use std::io::Write;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pct(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

fn transport(r: &mut Rng, proto: u8, dst_v4: Option<u32>, ip_id: &mut u16) -> Vec<u8> {
    match proto {
        6 => {
            let sport = if r.pct(2) {
                0
            } else {
                1024 + r.below(60000) as u16
            };
            let dport = if r.pct(2) {
                0
            } else {
                r.pick(&[22u16, 23, 80, 443, 445, 3389, 8080, 2323])
            };
            let flags = if r.pct(10) {
                r.below(256) as u8
            } else {
                r.pick(&[
                    0x02u8, 0x02, 0x02, 0x12, 0x04, 0x14, 0x10, 0x11, 0x18, 0x19, 0x01, 0x03, 0xc2,
                    0x29,
                ])
            };
            let mut seq = r.next() as u32;
            if let Some(d) = dst_v4 {
                match r.below(10) {
                    0 => seq = d,
                    1 => *ip_id = ((d ^ dport as u32 ^ seq) & 0xffff) as u16,
                    2 => *ip_id = 54321,
                    _ => {}
                }
            }
            let mss = r.pct(20);
            let mut t = vec![0u8; if mss { 24 } else { 20 }];
            t[0..2].copy_from_slice(&sport.to_be_bytes());
            t[2..4].copy_from_slice(&dport.to_be_bytes());
            t[4..8].copy_from_slice(&seq.to_be_bytes());
            t[12] = if mss { 0x60 } else { 0x50 };
            t[13] = flags;
            t[14..16].copy_from_slice(&1024u16.to_be_bytes());
            if mss {
                t[20..24].copy_from_slice(&[2, 4, 0x05, 0xb4]);
            }
            t
        }
        17 => {
            let sport = if r.pct(2) { 0 } else { r.below(65536) as u16 };
            let dport = if r.pct(2) {
                0
            } else {
                r.pick(&[53u16, 123, 161, 1900, 5060, 37547])
            };
            let mut u = vec![0u8; 8 + r.below(16) as usize];
            u[0..2].copy_from_slice(&sport.to_be_bytes());
            u[2..4].copy_from_slice(&dport.to_be_bytes());
            let len = u.len() as u16;
            u[4..6].copy_from_slice(&len.to_be_bytes());
            u
        }
        1 | 58 => {
            let ty = if proto == 1 {
                r.pick(&[0u8, 3, 4, 5, 8, 8, 11, 12, 13, 14, 16, 18, 9, 30])
            } else {
                r.pick(&[1u8, 2, 3, 4, 128, 128, 129, 133, 135, 136, 143])
            };
            let mut i = vec![0u8; 8 + r.below(28) as usize];
            i[0] = ty;
            i[1] = r.below(4) as u8;
            i
        }
        _ => vec![0u8; 4 + r.below(20) as usize],
    }
}

fn frame(r: &mut Rng) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    if r.pct(3) {
        f.extend_from_slice(&[0x08, 0x06]); // ARP
        f.extend_from_slice(&[0u8; 28]);
        return f;
    }
    if r.pct(10) {
        f.extend_from_slice(&[0x81, 0x00, 0x00, 0x07]);
    }
    let proto = r.pick(&[6u8, 6, 6, 6, 6, 17, 17, 17, 1, 1, 47, 50]);
    let ttl = r.pick(&[64u8, 64, 128, 128, 255, 254, 200, 199, 48]);
    if r.pct(80) {
        f.extend_from_slice(&[0x08, 0x00]);
        let src_last = if r.pct(3) {
            r.pick(&[0u8, 255])
        } else {
            1 + r.below(254) as u8
        };
        let src = [198, 51, r.below(4) as u8, src_last];
        let mut dst = [203, 0, 113, 1 + r.below(254) as u8];
        if r.pct(2) {
            dst = src;
        }
        let mut ip_id = r.next() as u16;
        let l4 = transport(r, proto, Some(u32::from_be_bytes(dst)), &mut ip_id);
        let frag: u16 = match r.below(100) {
            0..=1 => 0x2000,              // MF, first fragment
            2 => 1 + r.below(100) as u16, // later fragment (offset, no flags)
            _ => 0x4000,                  // DF
        };
        let opts = if r.pct(5) { 4 } else { 0 };
        let total = 20 + opts + l4.len();
        let mut ip = vec![0u8; 20 + opts];
        ip[0] = 0x45 + (opts / 4) as u8;
        ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        ip[4..6].copy_from_slice(&ip_id.to_be_bytes());
        ip[6..8].copy_from_slice(&frag.to_be_bytes());
        ip[8] = ttl;
        ip[9] = proto;
        ip[12..16].copy_from_slice(&src);
        ip[16..20].copy_from_slice(&dst);
        if opts > 0 {
            ip[20..24].copy_from_slice(&[1, 1, 1, 0]);
        }
        f.extend_from_slice(&ip);
        f.extend_from_slice(&l4);
    } else {
        f.extend_from_slice(&[0x86, 0xdd]);
        let proto = match proto {
            1 => 58,
            p => p,
        };
        let mut unused = 0;
        let l4 = transport(r, proto, None, &mut unused);
        // extension headers
        let mut exts: Vec<(u8, Vec<u8>)> = Vec::new();
        if r.pct(15) {
            exts.push((r.pick(&[0u8, 43, 60]), vec![0, 0, 1, 4, 0, 0, 0, 0]));
        }
        let mut later_fragment = false;
        if r.pct(6) {
            let off: u16 = if r.pct(50) { 0 } else { 1 + r.below(50) as u16 };
            later_fragment = off != 0;
            let mut h = vec![0u8; 8];
            h[2..4].copy_from_slice(&((off << 3) | 1).to_be_bytes());
            exts.push((44, h));
        }
        let first = exts.first().map(|e| e.0).unwrap_or(proto);
        let mut body = Vec::new();
        for i in 0..exts.len() {
            let mut h = exts[i].1.clone();
            h[0] = exts.get(i + 1).map(|e| e.0).unwrap_or(proto);
            body.extend_from_slice(&h);
        }
        if later_fragment {
            body.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]);
        } else {
            body.extend_from_slice(&l4);
        }
        let mut ip = vec![0u8; 40];
        ip[0] = 0x60;
        ip[4..6].copy_from_slice(&(body.len() as u16).to_be_bytes());
        ip[6] = first;
        ip[7] = ttl;
        ip[8..10].copy_from_slice(&[0x20, 0x01]);
        ip[10..12].copy_from_slice(&[0x0d, 0xb8]);
        ip[23] = 1 + r.below(200) as u8;
        ip[24..26].copy_from_slice(&[0x20, 0x01]);
        ip[26..28].copy_from_slice(&[0x0d, 0xb8]);
        ip[39] = if r.pct(2) {
            ip[23]
        } else {
            1 + r.below(200) as u8
        };
        f.extend_from_slice(&ip);
        f.extend_from_slice(&body);
    }
    if r.pct(2) {
        let cut = 14 + r.below(f.len() as u64 - 13) as usize;
        f.truncate(cut);
    }
    if f.len() < 60 && r.pct(50) {
        f.resize(60, 0); // Ethernet padding
    }
    f
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .expect("usage: mixed_pcap OUT.pcap [FRAMES] [SEED]");
    let n: u64 = args
        .next()
        .map(|s| s.parse().expect("FRAMES"))
        .unwrap_or(100_000);
    let seed: u64 = args.next().map(|s| s.parse().expect("SEED")).unwrap_or(1);
    let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut w = std::io::BufWriter::new(std::fs::File::create(&out).expect("create"));
    let mut hdr = Vec::new();
    hdr.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    hdr.extend_from_slice(&2u16.to_le_bytes());
    hdr.extend_from_slice(&4u16.to_le_bytes());
    hdr.extend_from_slice(&[0; 8]);
    hdr.extend_from_slice(&262_144u32.to_le_bytes());
    hdr.extend_from_slice(&1u32.to_le_bytes());
    w.write_all(&hdr).unwrap();
    let t0: u64 = 1_760_000_000 * 1_000_000;
    for i in 0..n {
        let f = frame(&mut r);
        // spread over ~6 hours
        let ts = t0 + i * (6 * 3600 * 1_000_000 / n.max(1));
        let mut rec = Vec::with_capacity(16 + f.len());
        rec.extend_from_slice(&((ts / 1_000_000) as u32).to_le_bytes());
        rec.extend_from_slice(&((ts % 1_000_000) as u32).to_le_bytes());
        rec.extend_from_slice(&(f.len() as u32).to_le_bytes());
        rec.extend_from_slice(&(f.len() as u32).to_le_bytes());
        rec.extend_from_slice(&f);
        w.write_all(&rec).unwrap();
    }
    w.flush().unwrap();
}
