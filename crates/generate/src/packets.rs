//! Hand-written Ethernet/IP/transport headers with correct checksums, built into one reused
//! buffer. Frames shorter than the Ethernet minimum are zero-padded to 60 bytes, as a capture
//! on a real link shows them (the IP total length excludes the padding).

use crate::rng::Rng;

pub(crate) const MAX_FRAME: usize = 1600;
const ETH_LEN: usize = 14;
const ETH_MIN: usize = 60;
const SENSOR_MAC: [u8; 6] = [0x00, 0x1b, 0x21, 0x5e, 0x00, 0x01];
const ROUTER_MAC: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x01, 0x01];

pub(crate) const PROTO_ICMP: u8 = 1;
pub(crate) const PROTO_TCP: u8 = 6;
pub(crate) const PROTO_UDP: u8 = 17;
pub(crate) const PROTO_GRE: u8 = 47;
pub(crate) const PROTO_ESP: u8 = 50;
pub(crate) const PROTO_ICMPV6: u8 = 58;

pub(crate) const FIN: u8 = 0x01;
pub(crate) const SYN: u8 = 0x02;
pub(crate) const RST: u8 = 0x04;
pub(crate) const PSH: u8 = 0x08;
pub(crate) const ACK: u8 = 0x10;
pub(crate) const URG: u8 = 0x20;

/// IPv4 "don't fragment" and "more fragments" bits of the flags/offset field.
pub(crate) const DF: u16 = 0x4000;
pub(crate) const MF: u16 = 0x2000;

/// TCP options as scanners send them.
pub(crate) const OPT_MSS: &[u8] = &[2, 4, 0x05, 0xb4];
pub(crate) const OPT_LINUX: &[u8] = &[
    2, 4, 0x05, 0xb4, // MSS 1460
    4, 2, // SACK permitted
    8, 10, 0, 0, 0, 0, 0, 0, 0, 0, // timestamps (filled per packet)
    1, // NOP
    3, 3, 7, // window scale 7
];

/// One's-complement sum of big-endian 16-bit words (not yet folded).
#[inline]
fn sum16(data: &[u8]) -> u64 {
    let mut s = 0u64;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        s += u16::from_be_bytes([c[0], c[1]]) as u64;
    }
    if let [last] = chunks.remainder() {
        s += (*last as u64) << 8;
    }
    s
}

#[inline]
fn fold(mut s: u64) -> u16 {
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// Internet checksum of `data`.
pub(crate) fn checksum(data: &[u8]) -> u16 {
    fold(sum16(data))
}

/// A 20-byte IPv4 header with its checksum (also used for quoted headers inside ICMP errors).
#[allow(clippy::too_many_arguments)]
pub(crate) fn ipv4_header(
    src: u32,
    dst: u32,
    proto: u8,
    ttl: u8,
    id: u16,
    frag: u16,
    total_len: u16,
) -> [u8; 20] {
    let mut h = [0u8; 20];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&total_len.to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    h[6..8].copy_from_slice(&frag.to_be_bytes());
    h[8] = ttl;
    h[9] = proto;
    h[12..16].copy_from_slice(&src.to_be_bytes());
    h[16..20].copy_from_slice(&dst.to_be_bytes());
    let c = checksum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum L3 {
    V4 { src: u32, dst: u32 },
    V6 { src: u128, dst: u128 },
}

/// A frame under construction: `begin_*`, then transport and payload writers, then `finish`.
pub(crate) struct Frame {
    buf: Box<[u8; MAX_FRAME]>,
    len: usize,
    l4: usize,
    proto: u8,
    l3: L3,
}

impl Frame {
    pub(crate) fn new() -> Frame {
        Frame {
            buf: Box::new([0u8; MAX_FRAME]),
            len: 0,
            l4: 0,
            proto: 0,
            l3: L3::V4 { src: 0, dst: 0 },
        }
    }

    fn ethernet(&mut self, ethertype: u16) {
        self.buf[0..6].copy_from_slice(&SENSOR_MAC);
        self.buf[6..12].copy_from_slice(&ROUTER_MAC);
        self.buf[12..14].copy_from_slice(&ethertype.to_be_bytes());
    }

    /// Ethernet + IPv4 header (length and checksum filled by `finish`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn begin_v4(&mut self, src: u32, dst: u32, proto: u8, ttl: u8, id: u16, frag: u16) {
        self.ethernet(0x0800);
        let h = &mut self.buf[ETH_LEN..ETH_LEN + 20];
        h[0] = 0x45;
        h[1] = 0;
        h[2..4].copy_from_slice(&[0, 0]);
        h[4..6].copy_from_slice(&id.to_be_bytes());
        h[6..8].copy_from_slice(&frag.to_be_bytes());
        h[8] = ttl;
        h[9] = proto;
        h[10..12].copy_from_slice(&[0, 0]);
        h[12..16].copy_from_slice(&src.to_be_bytes());
        h[16..20].copy_from_slice(&dst.to_be_bytes());
        self.l4 = ETH_LEN + 20;
        self.len = self.l4;
        self.proto = proto;
        self.l3 = L3::V4 { src, dst };
    }

    /// Ethernet + IPv6 header (payload length filled by `finish`).
    pub(crate) fn begin_v6(&mut self, src: u128, dst: u128, next: u8, hop_limit: u8, flow: u32) {
        self.ethernet(0x86dd);
        let h = &mut self.buf[ETH_LEN..ETH_LEN + 40];
        h[0..4].copy_from_slice(&(0x6000_0000u32 | (flow & 0x000f_ffff)).to_be_bytes());
        h[4..6].copy_from_slice(&[0, 0]);
        h[6] = next;
        h[7] = hop_limit;
        h[8..24].copy_from_slice(&src.to_be_bytes());
        h[24..40].copy_from_slice(&dst.to_be_bytes());
        self.l4 = ETH_LEN + 40;
        self.len = self.l4;
        self.proto = next;
        self.l3 = L3::V6 { src, dst };
    }

    #[inline]
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.buf[self.len..self.len + b.len()].copy_from_slice(b);
        self.len += b.len();
    }

    #[inline]
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf[self.len] = v;
        self.len += 1;
    }

    #[inline]
    pub(crate) fn u16(&mut self, v: u16) {
        self.bytes(&v.to_be_bytes());
    }

    #[inline]
    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }

    pub(crate) fn zeros(&mut self, n: usize) {
        self.buf[self.len..self.len + n].fill(0);
        self.len += n;
    }

    pub(crate) fn random(&mut self, rng: &mut Rng, n: usize) {
        let mut left = n;
        while left > 0 {
            let w = rng.next_u64().to_le_bytes();
            let k = left.min(8);
            self.bytes(&w[..k]);
            left -= k;
        }
    }

    /// A TCP header (checksum filled by `finish`); `opts` length must be a multiple of 4.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn tcp(
        &mut self,
        sport: u16,
        dport: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        window: u16,
        opts: &[u8],
    ) {
        debug_assert!(opts.len().is_multiple_of(4) && opts.len() <= 40);
        let hl = 20 + opts.len();
        let h = &mut self.buf[self.len..self.len + hl];
        h[0..2].copy_from_slice(&sport.to_be_bytes());
        h[2..4].copy_from_slice(&dport.to_be_bytes());
        h[4..8].copy_from_slice(&seq.to_be_bytes());
        h[8..12].copy_from_slice(&ack.to_be_bytes());
        h[12] = ((hl / 4) as u8) << 4;
        h[13] = flags;
        h[14..16].copy_from_slice(&window.to_be_bytes());
        h[16..20].copy_from_slice(&[0, 0, 0, 0]);
        h[20..].copy_from_slice(opts);
        self.len += hl;
    }

    /// Overwrites bytes already written at `offset` from the transport header's start.
    pub(crate) fn patch_l4(&mut self, offset: usize, b: &[u8]) {
        let at = self.l4 + offset;
        self.buf[at..at + b.len()].copy_from_slice(b);
    }

    /// A UDP header (length and checksum filled by `finish`).
    pub(crate) fn udp(&mut self, sport: u16, dport: u16) {
        self.u16(sport);
        self.u16(dport);
        self.u32(0);
    }

    /// An ICMP / ICMPv6 header: type, code, checksum (filled by `finish`), 4 more bytes.
    pub(crate) fn icmp(&mut self, ty: u8, code: u8, rest: [u8; 4]) {
        self.bytes(&[ty, code, 0, 0]);
        self.bytes(&rest);
    }

    fn pseudo_sum(&self, l4_len: usize) -> u64 {
        match self.l3 {
            L3::V4 { src, dst } => {
                let mut p = [0u8; 12];
                p[0..4].copy_from_slice(&src.to_be_bytes());
                p[4..8].copy_from_slice(&dst.to_be_bytes());
                p[9] = self.proto;
                p[10..12].copy_from_slice(&(l4_len as u16).to_be_bytes());
                sum16(&p)
            }
            L3::V6 { src, dst } => {
                let mut p = [0u8; 40];
                p[0..16].copy_from_slice(&src.to_be_bytes());
                p[16..32].copy_from_slice(&dst.to_be_bytes());
                p[32..36].copy_from_slice(&(l4_len as u32).to_be_bytes());
                p[39] = self.proto;
                sum16(&p)
            }
        }
    }

    /// Fills lengths and checksums, pads to the Ethernet minimum; returns the frame.
    pub(crate) fn finish(&mut self) -> &[u8] {
        let l4_len = self.len - self.l4;
        match self.l3 {
            L3::V4 { .. } => {
                let total = (self.len - ETH_LEN) as u16;
                self.buf[ETH_LEN + 2..ETH_LEN + 4].copy_from_slice(&total.to_be_bytes());
                let c = checksum(&self.buf[ETH_LEN..ETH_LEN + 20]);
                self.buf[ETH_LEN + 10..ETH_LEN + 12].copy_from_slice(&c.to_be_bytes());
            }
            L3::V6 { .. } => {
                let pl = (self.len - ETH_LEN - 40) as u16;
                self.buf[ETH_LEN + 4..ETH_LEN + 6].copy_from_slice(&pl.to_be_bytes());
            }
        }
        let l4 = self.l4;
        let csum_at = match self.proto {
            PROTO_TCP if l4_len >= 20 => Some((16, true)),
            PROTO_UDP if l4_len >= 8 => {
                self.buf[l4 + 4..l4 + 6].copy_from_slice(&(l4_len as u16).to_be_bytes());
                Some((6, true))
            }
            PROTO_ICMP if l4_len >= 4 => Some((2, false)),
            PROTO_ICMPV6 if l4_len >= 4 => Some((2, true)),
            _ => None,
        };
        if let Some((off, pseudo)) = csum_at {
            self.buf[l4 + off..l4 + off + 2].copy_from_slice(&[0, 0]);
            let mut s = sum16(&self.buf[l4..self.len]);
            if pseudo {
                s += self.pseudo_sum(l4_len);
            }
            let mut c = fold(s);
            if c == 0 && self.proto == PROTO_UDP {
                c = 0xffff;
            }
            self.buf[l4 + off..l4 + off + 2].copy_from_slice(&c.to_be_bytes());
        }
        if self.len < ETH_MIN {
            self.buf[self.len..ETH_MIN].fill(0);
            self.len = ETH_MIN;
        }
        &self.buf[..self.len]
    }
}

/// A DNS query (header + one question) as scanners send them to port 53.
pub(crate) fn dns_query(f: &mut Frame, rng: &mut Rng) {
    const NAMES: &[(&str, u16, u16)] = &[
        ("example.com", 1, 1),
        ("version.bind", 16, 3),
        ("isc.org", 255, 1),
        ("", 2, 1),
        ("google.com", 1, 1),
        ("cloudflare.com", 28, 1),
        ("ripe.net", 255, 1),
        ("openresolver-test.example.net", 1, 1),
    ];
    let (name, qtype, qclass) = NAMES[rng.below(NAMES.len() as u64) as usize];
    f.u16(rng.next_u16());
    f.u16(if rng.chance(0.8) { 0x0100 } else { 0x0000 });
    f.bytes(&[0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        f.u8(label.len() as u8);
        f.bytes(label.as_bytes());
    }
    f.u8(0);
    f.u16(qtype);
    f.u16(qclass);
}

/// SNMPv2c GetRequest for sysDescr.0 with community "public" (BER, lengths computed).
pub(crate) fn snmp_get(f: &mut Frame, rng: &mut Rng) {
    const OID: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 1, 0];
    let varbind_len = 2 + OID.len() + 2;
    let list_len = 2 + varbind_len;
    let pdu_len = 6 + 3 + 3 + 2 + list_len;
    let msg_len = 3 + 8 + 2 + pdu_len;
    f.bytes(&[0x30, msg_len as u8, 0x02, 0x01, 0x01, 0x04, 0x06]);
    f.bytes(b"public");
    f.bytes(&[0xa0, pdu_len as u8, 0x02, 0x04]);
    f.u32(rng.next_u32() & 0x7fff_ffff);
    f.bytes(&[0x02, 0x01, 0x00, 0x02, 0x01, 0x00]);
    f.bytes(&[
        0x30,
        list_len as u8,
        0x30,
        varbind_len as u8,
        0x06,
        OID.len() as u8,
    ]);
    f.bytes(OID);
    f.bytes(&[0x05, 0x00]);
}

/// NTP: a mode 7 MON_GETLIST request or a mode 3 client request (48 bytes).
pub(crate) fn ntp(f: &mut Frame, rng: &mut Rng) {
    if rng.chance(0.5) {
        f.bytes(&[0x17, 0x00, 0x03, 0x2a]);
        f.zeros(44);
    } else {
        f.bytes(&[0xe3, 0x00, 0x06, 0xec]);
        f.zeros(36);
        f.u32(rng.next_u32());
        f.u32(rng.next_u32());
    }
}

pub(crate) const SSDP_MSEARCH: &[u8] = b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n";
pub(crate) const MEMCACHED_STATS: &[u8] = b"\x00\x01\x00\x00\x00\x01\x00\x00stats\r\n";
pub(crate) const SIP_OPTIONS: &[u8] = b"OPTIONS sip:100@198.18.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-1\r\nMax-Forwards: 70\r\nTo: <sip:100@198.18.0.1>\r\nFrom: <sip:scan@10.0.0.1>;tag=1\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
pub(crate) const NETBIOS_NBSTAT: &[u8] = b"\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x20CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x00\x00\x21\x00\x01";
pub(crate) const MDNS_SERVICES: &[u8] =
    b"\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x09_services\x07_dns-sd\x04_udp\x05local\x00\x00\x0c\x00\x01";
pub(crate) const UBNT_DISCOVERY: &[u8] = &[1, 0, 0, 0];
pub(crate) const BACNET_WHOIS: &[u8] = &[
    0x81, 0x0b, 0x00, 0x0c, 0x01, 0x20, 0xff, 0xff, 0x00, 0xff, 0x10, 0x08,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_header_with_checksum_is_zero() {
        let h = ipv4_header(0x0a00_0001, 0xc612_0001, PROTO_TCP, 64, 7, DF, 40);
        assert_eq!(checksum(&h), 0);
    }

    #[test]
    fn frames_parse_with_etherparse_and_checksums_verify() {
        let mut f = Frame::new();
        let mut rng = Rng::new(3);
        f.begin_v4(0x0102_0304, 0xc612_0a0b, PROTO_TCP, 50, 99, DF);
        f.tcp(40000, 443, 1, 0, SYN, 1024, OPT_MSS);
        let frame = f.finish().to_vec();
        assert_eq!(frame.len(), 60);
        let p = etherparse::SlicedPacket::from_ethernet(&frame).unwrap();
        let Some(etherparse::TransportSlice::Tcp(t)) = p.transport else {
            panic!()
        };
        assert_eq!(
            t.calc_checksum_ipv4([1, 2, 3, 4], [198, 18, 10, 11])
                .unwrap(),
            t.checksum()
        );
        assert_eq!(t.data_offset(), 6);

        f.begin_v6(1, 2, PROTO_UDP, 60, 0);
        f.udp(5353, 53);
        dns_query(&mut f, &mut rng);
        let frame = f.finish().to_vec();
        let p = etherparse::SlicedPacket::from_ethernet(&frame).unwrap();
        let Some(etherparse::TransportSlice::Udp(u)) = p.transport else {
            panic!()
        };
        let h = u.to_header();
        assert_eq!(
            h.calc_checksum_ipv6_raw(1u128.to_be_bytes(), 2u128.to_be_bytes(), u.payload())
                .unwrap(),
            h.checksum
        );
    }
}
