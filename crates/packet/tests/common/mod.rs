//! Small capture writers for tests: legacy pcap (any byte order / precision) and pcapng.
#![allow(dead_code)]

/// One record to write: (seconds, sub-second fraction in the file's unit, data, wire length).
pub struct Rec<'a> {
    pub secs: u32,
    pub frac: u32,
    pub data: &'a [u8],
    pub wire_len: u32,
}

fn put32(out: &mut Vec<u8>, v: u32, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

fn put16(out: &mut Vec<u8>, v: u16, be: bool) {
    out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
}

/// Legacy pcap with the given byte order and magic (micro a1b2c3d4 or nano a1b23c4d).
pub fn pcap(be: bool, magic: u32, link: u32, recs: &[Rec<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    put32(&mut out, magic, be);
    put16(&mut out, 2, be);
    put16(&mut out, 4, be);
    put32(&mut out, 0, be);
    put32(&mut out, 0, be);
    put32(&mut out, 262_144, be);
    put32(&mut out, link, be);
    for r in recs {
        put32(&mut out, r.secs, be);
        put32(&mut out, r.frac, be);
        put32(&mut out, r.data.len() as u32, be);
        put32(&mut out, r.wire_len, be);
        out.extend_from_slice(r.data);
    }
    out
}

/// Little-endian microsecond Ethernet pcap of the given frames, timestamps 1 s apart.
pub fn pcap_eth(frames: &[Vec<u8>]) -> Vec<u8> {
    let recs: Vec<Rec<'_>> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| Rec {
            secs: 1_700_000_000 + i as u32,
            frac: 0,
            data: f,
            wire_len: f.len() as u32,
        })
        .collect();
    pcap(false, 0xa1b2_c3d4, 1, &recs)
}

/// pcapng writer for one section in either byte order.
pub struct Ng {
    pub out: Vec<u8>,
    be: bool,
}

impl Ng {
    pub fn new(be: bool) -> Ng {
        let mut ng = Ng {
            out: Vec::new(),
            be,
        };
        ng.shb();
        ng
    }

    fn block(&mut self, btype: u32, body: &[u8]) {
        let pad = (4 - body.len() % 4) % 4;
        let total = 12 + body.len() + pad;
        let be = self.be;
        put32(&mut self.out, btype, be);
        put32(&mut self.out, total as u32, be);
        self.out.extend_from_slice(body);
        self.out.extend(std::iter::repeat_n(0u8, pad));
        put32(&mut self.out, total as u32, be);
    }

    /// Starts a (new) section.
    pub fn shb(&mut self) {
        let mut b = Vec::new();
        put32(&mut b, 0x1a2b_3c4d, self.be);
        put16(&mut b, 1, self.be);
        put16(&mut b, 0, self.be);
        b.extend_from_slice(&u64::MAX.to_le_bytes());
        self.block(0x0a0d_0d0a, &b);
    }

    /// Interface description with an optional if_tsresol option.
    pub fn idb(&mut self, link: u16, snaplen: u32, tsresol: Option<u8>) {
        let be = self.be;
        let mut b = Vec::new();
        put16(&mut b, link, be);
        put16(&mut b, 0, be);
        put32(&mut b, snaplen, be);
        // an if_name option first, to exercise option walking
        put16(&mut b, 2, be);
        put16(&mut b, 5, be);
        b.extend_from_slice(b"eth0\0\0\0\0");
        if let Some(r) = tsresol {
            put16(&mut b, 9, be);
            put16(&mut b, 1, be);
            b.extend_from_slice(&[r, 0, 0, 0]);
        }
        put16(&mut b, 0, be);
        put16(&mut b, 0, be);
        self.block(1, &b);
    }

    pub fn epb(&mut self, iface: u32, ts: u64, data: &[u8], wire_len: u32) {
        let be = self.be;
        let mut b = Vec::new();
        put32(&mut b, iface, be);
        put32(&mut b, (ts >> 32) as u32, be);
        put32(&mut b, ts as u32, be);
        put32(&mut b, data.len() as u32, be);
        put32(&mut b, wire_len, be);
        b.extend_from_slice(data);
        b.extend(std::iter::repeat_n(0u8, (4 - data.len() % 4) % 4));
        self.block(6, &b);
    }

    pub fn spb(&mut self, data: &[u8]) {
        let mut b = Vec::new();
        put32(&mut b, data.len() as u32, self.be);
        b.extend_from_slice(data);
        self.block(3, &b);
    }

    /// Obsolete Packet Block.
    pub fn pb(&mut self, iface: u16, ts: u64, data: &[u8]) {
        let be = self.be;
        let mut b = Vec::new();
        put16(&mut b, iface, be);
        put16(&mut b, 0, be);
        put32(&mut b, (ts >> 32) as u32, be);
        put32(&mut b, ts as u32, be);
        put32(&mut b, data.len() as u32, be);
        put32(&mut b, data.len() as u32, be);
        b.extend_from_slice(data);
        b.extend(std::iter::repeat_n(0u8, (4 - data.len() % 4) % 4));
        self.block(2, &b);
    }

    /// Any other block (statistics, name resolution, custom...).
    pub fn other(&mut self, btype: u32, body: &[u8]) {
        self.block(btype, body);
    }

    /// Switches byte order and starts a new section.
    pub fn new_section(&mut self, be: bool) {
        self.be = be;
        self.shb();
    }
}

/// A minimal Ethernet/IPv4/TCP SYN frame (54 bytes) without etherparse, for bulk tests.
pub fn syn_frame(i: u32) -> Vec<u8> {
    let mut f = vec![0u8; 54];
    f[12] = 0x08;
    f[14] = 0x45;
    f[16..18].copy_from_slice(&40u16.to_be_bytes());
    f[22] = 64;
    f[23] = 6;
    f[26..30].copy_from_slice(&[198, 51, 100, 1 + (i % 200) as u8]);
    f[30..34].copy_from_slice(&[203, 0, 113, 1 + (i % 250) as u8]);
    f[34..36].copy_from_slice(&40000u16.to_be_bytes());
    f[36..38].copy_from_slice(&23u16.to_be_bytes());
    f[38..42].copy_from_slice(&i.wrapping_mul(7919).to_be_bytes());
    f[46] = 0x50;
    f[47] = 0x02;
    f
}
