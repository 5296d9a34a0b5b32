//! Every rule of docs/classification.md and its precedence, on frames built with etherparse.

use super::*;
use crate::{Frame, LinkType};
use etherparse::{
    EtherType, Ethernet2Header, Icmpv4Header, Icmpv4Type, Icmpv6Header, Icmpv6Type, IpFragOffset,
    IpNumber, Ipv4Header, Ipv6FragmentHeader, Ipv6Header, Ipv6RawExtHeader, LinuxSllPacketType,
    PacketBuilder, SingleVlanHeader, TcpHeader, TcpOptionElement, UdpHeader, VlanId,
};

const SRC: [u8; 4] = [198, 51, 100, 7];
const DST: [u8; 4] = [203, 0, 113, 9];
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const RST: u8 = 0x04;
const FIN: u8 = 0x01;
const PSH: u8 = 0x08;

/// IPv4 header fields a test varies.
#[derive(Clone)]
struct V4 {
    src: [u8; 4],
    dst: [u8; 4],
    ttl: u8,
    id: u16,
    mf: bool,
    foff: u16,
    options: Vec<u8>,
}

fn v4() -> V4 {
    V4 {
        src: SRC,
        dst: DST,
        ttl: 64,
        id: 4242,
        mf: false,
        foff: 0,
        options: vec![],
    }
}

fn tcp(sp: u16, dp: u16, seq: u32, flags: u8, mss: bool) -> Vec<u8> {
    let mut t = TcpHeader::new(sp, dp, seq, 1024);
    t.fin = flags & 0x01 != 0;
    t.syn = flags & 0x02 != 0;
    t.rst = flags & 0x04 != 0;
    t.psh = flags & 0x08 != 0;
    t.ack = flags & 0x10 != 0;
    t.urg = flags & 0x20 != 0;
    t.ece = flags & 0x40 != 0;
    t.cwr = flags & 0x80 != 0;
    if mss {
        t.set_options(&[TcpOptionElement::MaximumSegmentSize(1460)])
            .unwrap();
    }
    t.to_bytes().to_vec()
}

fn udp(sp: u16, dp: u16) -> Vec<u8> {
    let mut u = UdpHeader {
        source_port: sp,
        destination_port: dp,
        length: 12,
        checksum: 0,
    }
    .to_bytes()
    .to_vec();
    u.extend_from_slice(b"ping");
    u
}

fn icmp4(t: u8, c: u8) -> Vec<u8> {
    Icmpv4Header::new(Icmpv4Type::Unknown {
        type_u8: t,
        code_u8: c,
        bytes5to8: [0; 4],
    })
    .to_bytes()
    .to_vec()
}

fn icmp6(t: u8, c: u8) -> Vec<u8> {
    Icmpv6Header::new(Icmpv6Type::Unknown {
        type_u8: t,
        code_u8: c,
        bytes5to8: [0; 4],
    })
    .to_bytes()
    .to_vec()
}

fn ipv4(h: &V4, proto: u8, l4: &[u8]) -> Vec<u8> {
    let mut ip = Ipv4Header::new(0, h.ttl, IpNumber(proto), h.src, h.dst).unwrap();
    ip.identification = h.id;
    ip.more_fragments = h.mf;
    ip.fragment_offset = IpFragOffset::try_new(h.foff).unwrap();
    ip.options = h.options.as_slice().try_into().unwrap();
    ip.set_payload_len(l4.len()).unwrap();
    let mut out = ip.to_bytes().to_vec();
    out.extend_from_slice(l4);
    out
}

fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Ethernet2Header {
        source: [2, 0, 0, 0, 0, 1],
        destination: [2, 0, 0, 0, 0, 2],
        ether_type: EtherType(ethertype),
    }
    .to_bytes()
    .to_vec();
    out.extend_from_slice(payload);
    out
}

fn decode_link(link: u32, data: &[u8]) -> Result<Packet, DecodeError> {
    decode(&Frame {
        ts: Timestamp(1_700_000_000_000_000),
        link_type: LinkType(link),
        data,
        wire_len: data.len() as u32 + 4,
        offset: 24,
    })
}

fn eth4(h: &V4, proto: u8, l4: &[u8]) -> Packet {
    decode_link(1, &eth(0x0800, &ipv4(h, proto, l4))).unwrap()
}

fn syn4(h: &V4, dp: u16, seq: u32) -> Packet {
    eth4(h, 6, &tcp(40000, dp, seq, SYN, false))
}

fn masscan_id(dst: [u8; 4], dp: u16, seq: u32) -> u16 {
    ((u32::from_be_bytes(dst) ^ dp as u32 ^ seq) & 0xffff) as u16
}

fn ipv6_with(exts: &[(u8, Vec<u8>)], last: u8, l4: &[u8], hop: u8) -> Vec<u8> {
    // exts: (header type, encoded header) in order; each encoded header's next field is set here.
    let first = exts.first().map(|e| e.0).unwrap_or(last);
    let mut body = Vec::new();
    for (i, (_, bytes)) in exts.iter().enumerate() {
        let mut b = bytes.clone();
        b[0] = exts.get(i + 1).map(|e| e.0).unwrap_or(last);
        body.extend_from_slice(&b);
    }
    body.extend_from_slice(l4);
    let ip = Ipv6Header {
        payload_length: body.len() as u16,
        next_header: IpNumber(first),
        hop_limit: hop,
        source: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7],
        destination: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9],
        ..Default::default()
    };
    let mut out = ip.to_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

fn raw_ext() -> Vec<u8> {
    Ipv6RawExtHeader::new_raw(IpNumber(59), &[1, 4, 0, 0, 0, 0])
        .unwrap()
        .to_bytes()
        .to_vec()
}

fn frag6(offset: u16, more: bool) -> Vec<u8> {
    Ipv6FragmentHeader::new(
        IpNumber(59),
        IpFragOffset::try_new(offset).unwrap(),
        more,
        77,
    )
    .to_bytes()
    .to_vec()
}

fn eth6(exts: &[(u8, Vec<u8>)], last: u8, l4: &[u8], hop: u8) -> Result<Packet, DecodeError> {
    decode_link(1, &eth(0x86dd, &ipv6_with(exts, last, l4, hop)))
}

// ---------------------------------------------------------------------------------------
// Field extraction

#[test]
fn syn_fields_are_all_filled() {
    let p = eth4(&v4(), 6, &tcp(40000, 23, 0xdead_beef, SYN, false));
    assert_eq!(
        p,
        Packet {
            ts: Timestamp(1_700_000_000_000_000),
            src: IpAddr::from(SRC),
            dst: IpAddr::from(DST),
            transport: Transport::TCP,
            src_port: 40000,
            dst_port: 23,
            wire_len: 58,
            ttl: 64,
            ip_id: 4242,
            tcp_flags: SYN,
            tcp_window: 1024,
            tcp_seq: 0xdead_beef,
            class: TrafficClass::Scan,
            fingerprint: None,
            spoof_reason: None,
        }
    );
}

#[test]
fn ipv4_options_are_skipped() {
    let mut h = v4();
    h.options = vec![1, 1, 1, 1, 0x94, 4, 0, 0]; // NOPs + router alert
    let p = eth4(&h, 17, &udp(5353, 53));
    assert_eq!(
        (p.src_port, p.dst_port, p.class),
        (5353, 53, TrafficClass::Scan)
    );
}

#[test]
fn icmp_ports_are_type_and_code() {
    let p = eth4(&v4(), 1, &icmp4(3, 13));
    assert_eq!(
        (p.transport, p.src_port, p.dst_port),
        (Transport::ICMP, 3, 13)
    );
    let p = eth6(&[], 58, &icmp6(1, 4), 64).unwrap();
    assert_eq!(
        (p.transport, p.src_port, p.dst_port),
        (Transport::ICMPV6, 1, 4)
    );
}

#[test]
fn other_protocols_have_zero_ports() {
    let p = eth4(&v4(), 47, &[0, 0, 0x08, 0x00, 1, 2, 3, 4]);
    assert_eq!(
        (p.transport, p.src_port, p.dst_port, p.tcp_flags),
        (Transport(47), 0, 0, 0)
    );
    assert_eq!(p.class, TrafficClass::Other);
}

#[test]
fn ethernet_padding_is_not_payload() {
    // 54-byte SYN padded to 60 bytes with non-zero garbage: total length bounds the payload.
    let mut f = eth(0x0800, &ipv4(&v4(), 6, &tcp(1, 80, 5, SYN, false)));
    f.extend_from_slice(&[0xff; 6]);
    let p = decode_link(1, &f).unwrap();
    assert_eq!(p.dst_port, 80);
}

// ---------------------------------------------------------------------------------------
// Fingerprints

#[test]
fn mirai_fingerprint() {
    let p = syn4(&v4(), 23, u32::from_be_bytes(DST));
    assert_eq!(
        (p.class, p.fingerprint),
        (TrafficClass::Scan, Some(Fingerprint::Mirai))
    );
}

#[test]
fn masscan_fingerprint_with_20_and_24_byte_tcp_headers() {
    let seq = 0x1234_5678;
    let mut h = v4();
    h.id = masscan_id(DST, 443, seq);
    let p = syn4(&h, 443, seq);
    assert_eq!(p.fingerprint, Some(Fingerprint::Masscan));
    let p = eth4(&h, 6, &tcp(61000, 443, seq, SYN, true));
    assert_eq!(p.fingerprint, Some(Fingerprint::Masscan));
    assert_eq!(p.class, TrafficClass::Scan);
}

#[test]
fn zmap_fingerprint() {
    let mut h = v4();
    h.id = 54321;
    let p = syn4(&h, 80, 99);
    assert_eq!(
        (p.class, p.fingerprint),
        (TrafficClass::Scan, Some(Fingerprint::Zmap))
    );
}

#[test]
fn fingerprint_order_mirai_before_masscan_before_zmap() {
    // seq == dst and ip_id matches both Masscan and ZMap: Mirai wins.
    let seq = u32::from_be_bytes(DST);
    let mut h = v4();
    h.id = masscan_id(DST, 23, seq);
    assert_eq!(syn4(&h, 23, seq).fingerprint, Some(Fingerprint::Mirai));
    // Masscan and ZMap both match: pick dst port so that the Masscan id is 54321.
    let seq = 7;
    let dp = ((54321u32 ^ (u32::from_be_bytes(DST) & 0xffff) ^ seq) & 0xffff) as u16;
    h.id = 54321;
    assert_eq!(masscan_id(DST, dp, seq), 54321);
    assert_eq!(syn4(&h, dp, seq).fingerprint, Some(Fingerprint::Masscan));
}

#[test]
fn fingerprints_only_for_ipv4_pure_syn() {
    let mut h = v4();
    h.id = 54321;
    // SYN+ACK from a ZMap-like id: backscatter, no fingerprint
    let p = eth4(&h, 6, &tcp(80, 40000, 1, SYN | ACK, false));
    assert_eq!((p.class, p.fingerprint), (TrafficClass::Backscatter, None));
    // UDP
    assert_eq!(eth4(&h, 17, &udp(1, 2)).fingerprint, None);
    // IPv6 SYN cannot carry one (no IP id)
    let p = eth6(&[], 6, &tcp(1, 80, 5, SYN, false), 64).unwrap();
    assert_eq!((p.class, p.fingerprint), (TrafficClass::Scan, None));
}

// ---------------------------------------------------------------------------------------
// Spoofed, each reason and the order between them

#[test]
fn spoofed_fragment_ipv4_mf_and_offset() {
    let mut h = v4();
    h.mf = true;
    let p = syn4(&h, 80, 1);
    assert_eq!(
        (p.class, p.spoof_reason),
        (TrafficClass::Spoofed, Some(SpoofReason::Fragment))
    );
    assert_eq!(p.dst_port, 80, "first fragment keeps its transport header");
    // non-first fragment: no transport header, ports 0, still decodes
    let mut h = v4();
    h.foff = 185;
    let p = eth4(&h, 17, b"middle of a datagram");
    assert_eq!(
        (p.src_port, p.dst_port, p.class),
        (0, 0, TrafficClass::Spoofed)
    );
    assert_eq!(p.spoof_reason, Some(SpoofReason::Fragment));
    // a tiny first fragment cut inside the TCP header is still a fragment, not an error
    let mut h = v4();
    h.mf = true;
    let p = eth4(&h, 6, &[0, 80, 0, 81]);
    assert_eq!(
        (p.spoof_reason, p.src_port),
        (Some(SpoofReason::Fragment), 0)
    );
}

#[test]
fn spoofed_fragment_drops_fingerprint() {
    let mut h = v4();
    h.mf = true;
    h.id = 54321;
    let p = syn4(&h, 80, 1);
    assert_eq!((p.class, p.fingerprint), (TrafficClass::Spoofed, None));
}

#[test]
fn spoofed_source_is_destination() {
    let mut h = v4();
    h.src = DST;
    h.ttl = 250;
    let p = syn4(&h, 80, 1);
    assert_eq!(p.spoof_reason, Some(SpoofReason::SourceIsDestination));
}

#[test]
fn spoofed_source_last_byte() {
    for last in [0, 255] {
        let mut h = v4();
        h.src = [198, 51, 100, last];
        let p = eth4(&h, 17, &udp(0, 53));
        assert_eq!(p.spoof_reason, Some(SpoofReason::SourceLastByte), "{last}");
    }
}

#[test]
fn spoofed_port_zero_tcp_and_udp() {
    assert_eq!(
        eth4(&v4(), 17, &udp(0, 53)).spoof_reason,
        Some(SpoofReason::PortZero)
    );
    assert_eq!(
        eth4(&v4(), 17, &udp(53, 0)).spoof_reason,
        Some(SpoofReason::PortZero)
    );
    let p = eth4(&v4(), 6, &tcp(0, 80, 1, SYN | FIN | RST, false));
    assert_eq!(
        p.spoof_reason,
        Some(SpoofReason::PortZero),
        "port zero before flags"
    );
    let p = eth4(&v4(), 6, &tcp(1234, 0, 1, SYN, false));
    assert_eq!(p.spoof_reason, Some(SpoofReason::PortZero));
}

#[test]
fn spoofed_abnormal_tcp_flags() {
    let normal = [
        SYN,
        ACK,
        RST,
        FIN,
        SYN | FIN,
        SYN | ACK,
        FIN | ACK,
        ACK | PSH,
        FIN | ACK | PSH,
        RST | ACK,
    ];
    for flags in 0u8..=0x1f {
        let p = eth4(&v4(), 6, &tcp(1234, 80, 1, flags, false));
        let abnormal = p.spoof_reason == Some(SpoofReason::AbnormalTcpFlags);
        assert_eq!(abnormal, !normal.contains(&flags), "flags {flags:#04x}");
        // URG, ECE and CWR never change the verdict
        let q = eth4(&v4(), 6, &tcp(1234, 80, 1, flags | 0xe0, false));
        assert_eq!(
            (q.class, q.spoof_reason),
            (p.class, p.spoof_reason),
            "flags {flags:#04x}"
        );
    }
    // the reported flags byte is the full byte
    assert_eq!(
        eth4(&v4(), 6, &tcp(1, 2, 3, SYN | 0xc0, false)).tcp_flags,
        0xc2
    );
}

#[test]
fn spoofed_high_ttl_except_masscan_and_zmap() {
    let mut h = v4();
    h.ttl = 200;
    assert_eq!(syn4(&h, 80, 1).spoof_reason, Some(SpoofReason::HighTtl));
    h.ttl = 199;
    assert_eq!(syn4(&h, 80, 1).spoof_reason, None);
    h.ttl = 255;
    assert_eq!(
        eth4(&h, 17, &udp(1, 2)).spoof_reason,
        Some(SpoofReason::HighTtl)
    );
    // ICMP is exempt
    assert_eq!(eth4(&h, 1, &icmp4(8, 0)).class, TrafficClass::Scan);
    // Masscan and ZMap send with TTL 255: exempt
    h.id = 54321;
    let p = syn4(&h, 80, 1);
    assert_eq!(
        (p.class, p.fingerprint),
        (TrafficClass::Scan, Some(Fingerprint::Zmap))
    );
    h.id = masscan_id(DST, 80, 9);
    let p = syn4(&h, 80, 9);
    assert_eq!(
        (p.class, p.fingerprint),
        (TrafficClass::Scan, Some(Fingerprint::Masscan))
    );
    // Mirai is not exempt, and loses its fingerprint
    h.id = 1;
    let p = syn4(&h, 23, u32::from_be_bytes(DST));
    assert_eq!(
        (p.class, p.fingerprint, p.spoof_reason),
        (TrafficClass::Spoofed, None, Some(SpoofReason::HighTtl))
    );
    // IPv6 hop limit counts too; ICMPv6 exempt
    assert_eq!(
        eth6(&[], 17, &udp(1, 2), 255).unwrap().spoof_reason,
        Some(SpoofReason::HighTtl)
    );
    assert_eq!(
        eth6(&[], 58, &icmp6(128, 0), 255).unwrap().class,
        TrafficClass::Scan
    );
}

#[test]
fn spoof_reason_precedence() {
    // all six reasons at once -> fragment; then drop them one by one
    let mut h = v4();
    h.mf = true;
    h.src = DST;
    h.dst = DST;
    h.ttl = 255;
    let l4 = tcp(0, 0, 1, SYN | RST, false);
    assert_eq!(eth4(&h, 6, &l4).spoof_reason, Some(SpoofReason::Fragment));
    h.mf = false;
    assert_eq!(
        eth4(&h, 6, &l4).spoof_reason,
        Some(SpoofReason::SourceIsDestination)
    );
    h.src = [203, 0, 113, 255];
    h.dst = [203, 0, 113, 1];
    assert_eq!(
        eth4(&h, 6, &l4).spoof_reason,
        Some(SpoofReason::SourceLastByte)
    );
    h.src = SRC;
    assert_eq!(eth4(&h, 6, &l4).spoof_reason, Some(SpoofReason::PortZero));
    let l4 = tcp(1, 1, 1, SYN | RST, false);
    assert_eq!(
        eth4(&h, 6, &l4).spoof_reason,
        Some(SpoofReason::AbnormalTcpFlags)
    );
    let l4 = tcp(1, 1, 1, SYN, false);
    assert_eq!(eth4(&h, 6, &l4).spoof_reason, Some(SpoofReason::HighTtl));
    h.ttl = 64;
    assert_eq!(eth4(&h, 6, &l4).class, TrafficClass::Scan);
}

// ---------------------------------------------------------------------------------------
// Backscatter, scan, other

#[test]
fn tcp_backscatter_scan_other() {
    let class = |f| eth4(&v4(), 6, &tcp(80, 40000, 1, f, false)).class;
    assert_eq!(class(SYN | ACK), TrafficClass::Backscatter);
    assert_eq!(class(RST), TrafficClass::Backscatter);
    assert_eq!(class(RST | ACK), TrafficClass::Backscatter);
    assert_eq!(class(SYN), TrafficClass::Scan);
    for f in [ACK, FIN, SYN | FIN, FIN | ACK, ACK | PSH, FIN | ACK | PSH] {
        assert_eq!(class(f), TrafficClass::Other, "{f:#04x}");
    }
}

#[test]
fn icmpv4_types() {
    for t in 0u8..=255 {
        let p = eth4(&v4(), 1, &icmp4(t, 1));
        let want = match t {
            0 | 3 | 4 | 5 | 11 | 12 | 14 | 16 | 18 => TrafficClass::Backscatter,
            8 => TrafficClass::Scan,
            _ => TrafficClass::Other,
        };
        assert_eq!(p.class, want, "icmp type {t}");
        assert_eq!(p.spoof_reason, None);
    }
}

#[test]
fn icmpv6_types() {
    for t in 0u8..=255 {
        let p = eth6(&[], 58, &icmp6(t, 0), 64).unwrap();
        let want = match t {
            1..=4 | 129 => TrafficClass::Backscatter,
            128 => TrafficClass::Scan,
            _ => TrafficClass::Other,
        };
        assert_eq!(p.class, want, "icmp6 type {t}");
    }
}

#[test]
fn udp_is_scan() {
    let p = eth4(&v4(), 17, &udp(50000, 161));
    assert_eq!((p.class, p.transport), (TrafficClass::Scan, Transport::UDP));
}

// ---------------------------------------------------------------------------------------
// IPv6 extension headers

#[test]
fn ipv6_extension_headers_are_walked() {
    let exts = vec![(0u8, raw_ext()), (43, raw_ext()), (60, raw_ext())];
    let p = eth6(&exts, 6, &tcp(1, 22, 5, SYN, false), 64).unwrap();
    assert_eq!(
        (p.transport, p.dst_port, p.class, p.ip_id, p.ttl),
        (Transport::TCP, 22, TrafficClass::Scan, 0, 64)
    );
    assert_eq!(p.src, "2001:db8::7".parse::<IpAddr>().unwrap());
    let p = eth6(&exts, 58, &icmp6(129, 0), 64).unwrap();
    assert_eq!(p.class, TrafficClass::Backscatter);
}

#[test]
fn ipv6_fragment_header_is_a_fragment() {
    // first fragment: transport header readable
    let p = eth6(
        &[(0, raw_ext()), (44, frag6(0, true))],
        6,
        &tcp(1, 22, 5, SYN, false),
        64,
    )
    .unwrap();
    assert_eq!(
        (p.class, p.spoof_reason),
        (TrafficClass::Spoofed, Some(SpoofReason::Fragment))
    );
    assert_eq!(p.dst_port, 22);
    // non-first fragment: ports 0, transport from the fragment header
    let p = eth6(&[(44, frag6(100, false))], 17, b"garbage-not-a-header", 64).unwrap();
    assert_eq!(
        (p.transport, p.src_port, p.dst_port, p.spoof_reason),
        (Transport::UDP, 0, 0, Some(SpoofReason::Fragment))
    );
    // an atomic fragment (offset 0, M clear) still counts
    let p = eth6(&[(44, frag6(0, false))], 17, &udp(1, 53), 64).unwrap();
    assert_eq!(p.spoof_reason, Some(SpoofReason::Fragment));
}

#[test]
fn ipv6_source_is_destination() {
    let mut b = ipv6_with(&[], 17, &udp(1, 53), 64);
    let (s, d) = b.split_at_mut(24);
    s[8..24].copy_from_slice(&d[..16]);
    let p = decode_link(101, &b).unwrap();
    assert_eq!(p.spoof_reason, Some(SpoofReason::SourceIsDestination));
}

// ---------------------------------------------------------------------------------------
// Link types

fn syn_v4_bytes() -> Vec<u8> {
    ipv4(&v4(), 6, &tcp(40000, 445, 77, SYN, false))
}

fn check_syn(p: Result<Packet, DecodeError>) {
    let p = p.unwrap();
    assert_eq!(
        (p.dst_port, p.class, p.src),
        (445, TrafficClass::Scan, IpAddr::from(SRC))
    );
}

#[test]
fn vlan_single_and_qinq() {
    let mut f = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .single_vlan(VlanId::try_new(42).unwrap())
        .ipv4(SRC, DST, 64)
        .tcp(40000, 445, 77, 1024)
        .syn()
        .write(&mut f, &[])
        .unwrap();
    check_syn(decode_link(1, &f));
    let mut f = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .double_vlan(VlanId::try_new(1).unwrap(), VlanId::try_new(2).unwrap())
        .ipv4(SRC, DST, 64)
        .tcp(40000, 445, 77, 1024)
        .syn()
        .write(&mut f, &[])
        .unwrap();
    check_syn(decode_link(1, &f));
    // 802.1ad outer tag (0x88a8) then 802.1Q
    let mut f = eth(0x88a8, &[]);
    for et in [0x8100u16, 0x0800] {
        let tag = SingleVlanHeader {
            vlan_id: VlanId::try_new(7).unwrap(),
            ether_type: EtherType(et),
            ..Default::default()
        };
        f.extend_from_slice(&tag.to_bytes());
    }
    f.extend_from_slice(&syn_v4_bytes());
    check_syn(decode_link(1, &f));
    // VLAN tag cut short
    assert_eq!(
        decode_link(1, &eth(0x8100, &[0, 1])),
        Err(DecodeError::Truncated("vlan"))
    );
}

#[test]
fn linux_sll_and_sll2() {
    let mut f = Vec::new();
    PacketBuilder::linux_sll(LinuxSllPacketType::HOST, 6, [1, 2, 3, 4, 5, 6, 0, 0])
        .ipv4(SRC, DST, 64)
        .tcp(40000, 445, 77, 1024)
        .syn()
        .write(&mut f, &[])
        .unwrap();
    check_syn(decode_link(113, &f));
    // SLL2: protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8)
    let mut f = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
    ];
    f.extend_from_slice(&syn_v4_bytes());
    check_syn(decode_link(276, &f));
    let mut f6 = vec![0x86, 0xdd];
    f6.extend_from_slice(&[0; 18]);
    f6.extend_from_slice(&ipv6_with(&[], 17, &udp(1, 53), 64));
    assert_eq!(decode_link(276, &f6).unwrap().dst_port, 53);
    let mut arp = vec![0x08, 0x06];
    arp.extend_from_slice(&[0; 40]);
    assert_eq!(decode_link(276, &arp), Err(DecodeError::NotIp));
    assert_eq!(
        decode_link(113, &[0; 15]),
        Err(DecodeError::Truncated("sll"))
    );
    assert_eq!(
        decode_link(276, &[0; 19]),
        Err(DecodeError::Truncated("sll2"))
    );
}

#[test]
fn raw_ip_link_types() {
    let v4b = syn_v4_bytes();
    let v6b = ipv6_with(&[], 6, &tcp(40000, 445, 77, SYN, false), 64);
    for link in [101, 12, 14] {
        check_syn(decode_link(link, &v4b));
        assert_eq!(decode_link(link, &v6b).unwrap().dst_port, 445);
        assert_eq!(decode_link(link, &[0x20; 30]), Err(DecodeError::NotIp));
    }
    check_syn(decode_link(228, &v4b));
    assert_eq!(decode_link(229, &v6b).unwrap().dst_port, 445);
    assert_eq!(decode_link(228, &v6b), Err(DecodeError::NotIp));
}

#[test]
fn null_and_loop_link_types() {
    let v4b = syn_v4_bytes();
    let v6b = ipv6_with(&[], 17, &udp(1, 53), 64);
    // DLT_NULL: host byte order (either); DLT_LOOP: network byte order
    for link in [0, 108] {
        for fam in [2u32.to_le_bytes(), 2u32.to_be_bytes()] {
            check_syn(decode_link(link, &[&fam[..], &v4b].concat()));
        }
        for af6 in [10u32, 24, 28, 30] {
            for fam in [af6.to_le_bytes(), af6.to_be_bytes()] {
                assert_eq!(
                    decode_link(link, &[&fam[..], &v6b].concat())
                        .unwrap()
                        .dst_port,
                    53
                );
            }
        }
        assert_eq!(
            decode_link(link, &[7, 0, 0, 0, 0x45]),
            Err(DecodeError::NotIp)
        );
        assert_eq!(
            decode_link(link, &[2, 0]),
            Err(DecodeError::Truncated("null"))
        );
    }
}

#[test]
fn unsupported_link_type_and_not_ip() {
    assert_eq!(
        decode_link(147, &[0; 64]),
        Err(DecodeError::UnsupportedLinkType(147))
    );
    let arp = eth(0x0806, &[0; 28]);
    assert_eq!(decode_link(1, &arp), Err(DecodeError::NotIp));
    assert_eq!(DecodeError::NotIp.key(), "not_ip");
    // 802.3 length field / LLC
    assert_eq!(
        decode_link(1, &eth(0x0026, &[0x42; 38])),
        Err(DecodeError::NotIp)
    );
}

// ---------------------------------------------------------------------------------------
// Truncation

#[test]
fn truncated_headers_name_their_layer() {
    let t = |layer: &'static str| Err(DecodeError::Truncated(layer));
    let syn = eth(0x0800, &syn_v4_bytes());
    assert_eq!(decode_link(1, &syn[..13]), t("ethernet"));
    assert_eq!(decode_link(1, &syn[..14 + 19]), t("ipv4"));
    assert_eq!(decode_link(1, &syn[..14 + 20 + 19]), t("tcp"));
    // Masscan-style 24-byte header cut inside its options
    let f = eth(0x0800, &ipv4(&v4(), 6, &tcp(1, 2, 3, SYN, true)));
    assert_eq!(decode_link(1, &f[..f.len() - 2]), t("tcp"));
    assert!(decode_link(1, &f).is_ok());
    let u = eth(0x0800, &ipv4(&v4(), 17, &udp(1, 2)));
    assert_eq!(decode_link(1, &u[..14 + 20 + 7]), t("udp"));
    let i = eth(0x0800, &ipv4(&v4(), 1, &icmp4(8, 0)));
    assert_eq!(decode_link(1, &i[..14 + 20 + 7]), t("icmp"));
    let i6 = eth(0x86dd, &ipv6_with(&[], 58, &icmp6(128, 0), 64));
    assert_eq!(decode_link(1, &i6[..14 + 40 + 3]), t("icmp6"));
    assert_eq!(decode_link(1, &i6[..14 + 39]), t("ipv6"));
    // extension header cut short
    let e6 = eth(0x86dd, &ipv6_with(&[(0, raw_ext())], 17, &udp(1, 2), 64));
    assert_eq!(decode_link(1, &e6[..14 + 40 + 5]), t("ipv6"));
    // IHL below 5 / beyond the data
    let mut bad = syn.clone();
    bad[14] = 0x44;
    assert_eq!(decode_link(1, &bad), t("ipv4"));
    bad[14] = 0x4f;
    assert_eq!(decode_link(1, &bad[..14 + 40]), t("ipv4"));
    // TCP data offset below 5
    let mut bad = syn.clone();
    bad[14 + 20 + 12] = 0x40;
    assert_eq!(decode_link(1, &bad), t("tcp"));
    assert_eq!(DecodeError::Truncated("tcp").key(), "truncated");
    assert_eq!(
        DecodeError::Truncated("tcp").to_string(),
        "truncated tcp header"
    );
}

#[test]
fn snap_length_beyond_transport_header_is_fine() {
    // a SYN with payload captured only up to the end of the TCP header
    let f = eth(
        0x0800,
        &ipv4(&v4(), 6, &[tcp(1, 2, 3, SYN, false), vec![0; 100]].concat()),
    );
    let p = decode_link(1, &f[..54]).unwrap();
    assert_eq!((p.dst_port, p.wire_len), (2, 58));
}
