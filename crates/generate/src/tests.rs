//! End-to-end checks: generate, parse every frame back with etherparse, classify it with an
//! independent implementation of docs/classification.md, and compare with the ground truth.

use crate::{generate, GenerateError, SourcePool, TrafficSpec};
use greenwatch_model::{
    ClassCounts, DosVictim, Fingerprint, FingerprintCounts, GroundTruth, SpoofReason, Timestamp,
    TrafficClass, Transport,
};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const START: i64 = 1_791_158_400; // 2026-10-05T00:00:00Z

fn pool() -> SourcePool {
    let v4 = vec![
        (
            u32::from(Ipv4Addr::new(1, 0, 0, 0)),
            u32::from(Ipv4Addr::new(1, 255, 255, 255)),
        ),
        (
            u32::from(Ipv4Addr::new(45, 12, 0, 0)),
            u32::from(Ipv4Addr::new(45, 12, 255, 255)),
        ),
        (
            u32::from(Ipv4Addr::new(103, 4, 8, 0)),
            u32::from(Ipv4Addr::new(103, 4, 11, 255)),
        ),
    ];
    let v6 = vec![(
        0x2400_0000u128 << 96,
        (0x2400_0000u128 << 96) | ((1u128 << 96) - 1),
    )];
    SourcePool::new(v4, v6)
}

fn spec(seed: u64, packets: u64, hours: u32) -> TrafficSpec {
    TrafficSpec::new(seed, packets, Timestamp::from_secs(START), hours)
}

fn run(spec: &TrafficSpec, pool: &SourcePool) -> (Vec<u8>, GroundTruth) {
    let mut out = Vec::new();
    let truth = generate(spec, pool, &mut out).expect("generate");
    (out, truth)
}

/// (timestamp µs, frame) of every record; checks the file header.
fn records(pcap: &[u8]) -> Vec<(i64, &[u8])> {
    assert_eq!(
        &pcap[0..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "magic a1b2c3d4, little-endian"
    );
    assert_eq!(
        u32::from_le_bytes(pcap[16..20].try_into().unwrap()),
        65_535,
        "snaplen"
    );
    assert_eq!(
        u32::from_le_bytes(pcap[20..24].try_into().unwrap()),
        1,
        "LINKTYPE_ETHERNET"
    );
    let mut at = 24;
    let mut v = Vec::new();
    while at < pcap.len() {
        let word = |i: usize| u32::from_le_bytes(pcap[at + i..at + i + 4].try_into().unwrap());
        let (secs, usec, incl, orig) = (word(0), word(4), word(8) as usize, word(12) as usize);
        assert!(usec < 1_000_000);
        assert_eq!(incl, orig);
        v.push((
            secs as i64 * 1_000_000 + usec as i64,
            &pcap[at + 16..at + 16 + incl],
        ));
        at += 16 + incl;
    }
    assert_eq!(at, pcap.len());
    v
}

/// The fields the rules read, parsed back from a frame (checksums verified on the way).
#[derive(Debug, Clone)]
struct Pkt {
    ts: i64,
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    sport: u16,
    dport: u16,
    ttl: u8,
    ip_id: u16,
    flags: u8,
    seq: u32,
    window: u16,
    tcp_hlen: usize,
    frag: bool,
}

fn ones_sum_ok(data: &[u8]) -> bool {
    let mut s: u32 = data
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u32)
        .sum();
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    s == 0xffff
}

fn parse(ts: i64, frame: &[u8]) -> Pkt {
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    assert!(frame.len() >= 60, "Ethernet minimum");
    let p = SlicedPacket::from_ethernet(frame)
        .unwrap_or_else(|e| panic!("frame does not parse: {e:?}"));
    let (src, dst, proto, ttl, ip_id, frag, pl) = match p.net.as_ref().expect("IP") {
        NetSlice::Ipv4(v4) => {
            let h = v4.header();
            assert_eq!(
                h.header_checksum(),
                h.to_header().calc_header_checksum(),
                "IPv4 checksum"
            );
            let frag = h.more_fragments() || h.fragments_offset().value() != 0;
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                h.protocol().0,
                h.ttl(),
                h.identification(),
                frag,
                v4.payload().payload,
            )
        }
        NetSlice::Ipv6(v6) => {
            let h = v6.header();
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                v6.payload().ip_number.0,
                h.hop_limit(),
                0,
                v6.is_payload_fragmented(),
                v6.payload().payload,
            )
        }
        NetSlice::Arp(_) => panic!("ARP"),
    };
    let be16 = |i: usize| u16::from_be_bytes([pl[i], pl[i + 1]]);
    let mut k = Pkt {
        ts,
        src,
        dst,
        proto,
        sport: 0,
        dport: 0,
        ttl,
        ip_id,
        flags: 0,
        seq: 0,
        window: 0,
        tcp_hlen: 0,
        frag,
    };
    match proto {
        6 => {
            k.sport = be16(0);
            k.dport = be16(2);
            k.seq = u32::from_be_bytes(pl[4..8].try_into().unwrap());
            k.tcp_hlen = (pl[12] >> 4) as usize * 4;
            k.flags = pl[13];
            k.window = be16(14);
        }
        17 => {
            k.sport = be16(0);
            k.dport = be16(2);
        }
        1 | 58 => {
            k.sport = pl[0] as u16;
            k.dport = pl[1] as u16;
        }
        _ => {}
    }
    if !frag {
        match (&p.transport, src, dst) {
            (Some(TransportSlice::Tcp(t)), IpAddr::V4(s), IpAddr::V4(d)) => {
                assert_eq!(
                    t.calc_checksum_ipv4(s.octets(), d.octets()).unwrap(),
                    t.checksum()
                )
            }
            (Some(TransportSlice::Tcp(t)), IpAddr::V6(s), IpAddr::V6(d)) => {
                assert_eq!(
                    t.calc_checksum_ipv6(s.octets(), d.octets()).unwrap(),
                    t.checksum()
                )
            }
            (Some(TransportSlice::Udp(u)), IpAddr::V4(s), IpAddr::V4(d)) => {
                let h = u.to_header();
                assert_eq!(
                    h.calc_checksum_ipv4_raw(s.octets(), d.octets(), u.payload())
                        .unwrap(),
                    h.checksum
                );
                assert_eq!(h.length as usize, pl.len());
            }
            (Some(TransportSlice::Udp(u)), IpAddr::V6(s), IpAddr::V6(d)) => {
                let h = u.to_header();
                assert_eq!(
                    h.calc_checksum_ipv6_raw(s.octets(), d.octets(), u.payload())
                        .unwrap(),
                    h.checksum
                );
            }
            (Some(TransportSlice::Icmpv4(i)), _, _) => {
                assert!(ones_sum_ok(i.slice()), "ICMP checksum")
            }
            (Some(TransportSlice::Icmpv6(i)), IpAddr::V6(s), IpAddr::V6(d)) => {
                assert!(
                    i.is_checksum_valid(s.octets(), d.octets()),
                    "ICMPv6 checksum"
                )
            }
            (None, _, _) => assert!(
                matches!(proto, 47 | 50),
                "unexpected transport-less protocol {proto}"
            ),
            (t, _, _) => panic!("unexpected transport {t:?}"),
        }
        // ICMP errors quote the attack packet: darknet address -> victim.
        if proto == 1 && matches!(k.sport, 3 | 11) {
            let inner = &pl[8..28];
            assert!(ones_sum_ok(inner), "quoted IPv4 header checksum");
            assert_eq!(
                &inner[12..16],
                &ip_octets(dst)[..],
                "quoted source is the darknet address"
            );
            assert_eq!(
                &inner[16..20],
                &ip_octets(src)[..],
                "quoted destination is the victim"
            );
            assert!(pl.len() >= 36, "quote carries 8 transport bytes");
        }
        if proto == 58 && k.sport == 1 {
            assert_eq!(&pl[16..32], &ip_octets(dst)[..]);
            assert_eq!(&pl[32..48], &ip_octets(src)[..]);
        }
    }
    k
}

fn ip_octets(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fn fingerprint(k: &Pkt) -> Option<Fingerprint> {
    let IpAddr::V4(dst) = k.dst else { return None };
    if k.proto != 6 || k.flags & 0x1f != 0x02 {
        return None;
    }
    let dst = u32::from(dst);
    if k.seq == dst {
        Some(Fingerprint::Mirai)
    } else if k.ip_id as u32 == (dst ^ k.dport as u32 ^ k.seq) & 0xffff {
        Some(Fingerprint::Masscan)
    } else if k.ip_id == 54321 {
        Some(Fingerprint::Zmap)
    } else {
        None
    }
}

/// Every spoofed rule the packet breaks (not just the first).
fn violations(k: &Pkt, fp: Option<Fingerprint>) -> Vec<SpoofReason> {
    let mut v = Vec::new();
    if k.frag {
        v.push(SpoofReason::Fragment);
    }
    if k.src == k.dst {
        v.push(SpoofReason::SourceIsDestination);
    }
    if let IpAddr::V4(s) = k.src {
        if matches!(s.octets()[3], 0 | 255) {
            v.push(SpoofReason::SourceLastByte);
        }
    }
    if matches!(k.proto, 6 | 17) && (k.sport == 0 || k.dport == 0) {
        v.push(SpoofReason::PortZero);
    }
    const NORMAL: [u8; 10] = [0x02, 0x10, 0x04, 0x01, 0x03, 0x12, 0x11, 0x18, 0x19, 0x14];
    if k.proto == 6 && !NORMAL.contains(&(k.flags & 0x1f)) {
        v.push(SpoofReason::AbnormalTcpFlags);
    }
    let icmp = matches!(k.proto, 1 | 58);
    if k.ttl >= 200 && !icmp && !matches!(fp, Some(Fingerprint::Masscan | Fingerprint::Zmap)) {
        v.push(SpoofReason::HighTtl);
    }
    v
}

fn classify(k: &Pkt) -> (TrafficClass, Option<Fingerprint>, Vec<SpoofReason>) {
    let fp = fingerprint(k);
    let v = violations(k, fp);
    if !v.is_empty() {
        return (TrafficClass::Spoofed, None, v);
    }
    let f = k.flags & 0x1f;
    let class = match k.proto {
        6 if matches!(f, 0x12 | 0x04 | 0x14) => TrafficClass::Backscatter,
        1 if matches!(k.sport, 0 | 3 | 4 | 5 | 11 | 12 | 14 | 16 | 18) => TrafficClass::Backscatter,
        58 if matches!(k.sport, 1 | 2 | 3 | 4 | 129) => TrafficClass::Backscatter,
        6 if f == 0x02 => TrafficClass::Scan,
        17 => TrafficClass::Scan,
        1 if k.sport == 8 => TrafficClass::Scan,
        58 if k.sport == 128 => TrafficClass::Scan,
        _ => TrafficClass::Other,
    };
    (class, fp, v)
}

fn transport(proto: u8) -> Transport {
    Transport(proto)
}

/// RS-DoS attacks recomputed from backscatter packets, sorted by (first, ip).
fn dos_attacks(back: &HashMap<(IpAddr, u8), Vec<i64>>) -> Vec<DosVictim> {
    let mut out = Vec::new();
    for (&(ip, proto), times) in back {
        let mut times = times.clone();
        times.sort_unstable();
        let mut vectors: Vec<Vec<i64>> = vec![vec![times[0]]];
        for w in times.windows(2) {
            if w[1] - w[0] > 300_000_000 {
                vectors.push(Vec::new());
            }
            vectors.last_mut().unwrap().push(w[1]);
        }
        for v in vectors {
            let mut slots: HashMap<i64, u64> = HashMap::new();
            for t in &v {
                *slots.entry(t.div_euclid(10_000_000)).or_default() += 1;
            }
            let best = slots
                .keys()
                .map(|&s| {
                    (s - 5..=s)
                        .map(|x| slots.get(&x).copied().unwrap_or(0))
                        .sum::<u64>()
                })
                .max()
                .unwrap_or(0);
            let (first, last) = (v[0], *v.last().unwrap());
            if v.len() >= 25 && last - first >= 60_000_000 && best >= 30 {
                out.push(DosVictim {
                    ip,
                    protocol: transport(proto),
                    first: Timestamp(first),
                    last: Timestamp(last),
                    packets: v.len() as u64,
                });
            }
        }
    }
    out.sort_by_key(|v| (v.first, v.ip));
    out
}

struct Checked {
    packets: Vec<Pkt>,
    classes: Vec<TrafficClass>,
}

/// Parses and classifies every frame; checks all per-packet properties and the truth.
fn check(spec: &TrafficSpec, pool: &SourcePool, pcap: &[u8], truth: &GroundTruth) -> Checked {
    let recs = records(pcap);
    assert_eq!(recs.len() as u64, spec.packets);
    assert_eq!(truth.packets, spec.packets);
    let (start, end) = (
        spec.start.0,
        spec.start.0 + spec.hours as i64 * 3_600_000_000,
    );
    let net4 = u32::from(spec.sensor_v4.0) >> (32 - spec.sensor_v4.1);
    let net6 = u128::from(spec.sensor_v6.0) >> (128 - spec.sensor_v6.1);
    let mut by_class = ClassCounts::default();
    let mut by_fp = FingerprintCounts::default();
    let mut v6 = 0;
    let mut back: HashMap<(IpAddr, u8), Vec<i64>> = HashMap::new();
    let mut prev = i64::MIN;
    let mut packets = Vec::with_capacity(recs.len());
    let mut classes = Vec::with_capacity(recs.len());
    for (ts, frame) in recs {
        assert!(ts >= prev, "time order");
        assert!((start..end).contains(&ts), "inside the capture window");
        prev = ts;
        let k = parse(ts, frame);
        match k.dst {
            IpAddr::V4(d) => assert_eq!(
                u32::from(d) >> (32 - spec.sensor_v4.1),
                net4,
                "dst in sensor block"
            ),
            IpAddr::V6(d) => {
                v6 += 1;
                assert_eq!(
                    u128::from(d) >> (128 - spec.sensor_v6.1),
                    net6,
                    "dst in sensor block"
                );
            }
        }
        let (class, fp, reasons) = classify(&k);
        by_class.add(class, 1);
        if let Some(fp) = fp {
            by_fp.add(fp, 1);
        }
        match class {
            TrafficClass::Spoofed => assert_eq!(
                reasons.len(),
                1,
                "exactly one rule broken: {k:?} {reasons:?}"
            ),
            _ => {
                if let IpAddr::V4(s) = k.src {
                    let s = u32::from(s);
                    assert!(
                        pool.v4.iter().any(|&(a, b)| (a..=b).contains(&s)),
                        "source from the pool"
                    );
                }
            }
        }
        match fp {
            Some(Fingerprint::Mirai) => {
                assert_eq!(IpAddr::V4(Ipv4Addr::from(k.seq)), k.dst);
                assert!(
                    [23, 2323, 37215, 52869, 8080, 443].contains(&k.dport),
                    "mirai port {}",
                    k.dport
                );
            }
            Some(Fingerprint::Masscan) => {
                assert!(
                    k.ttl >= 240 && k.window == 1024 && k.tcp_hlen == 24,
                    "{k:?}"
                );
            }
            Some(Fingerprint::Zmap) => assert!(k.ttl >= 200 && k.window == 65535, "{k:?}"),
            None if class == TrafficClass::Scan && k.proto == 6 => {
                assert!((30..=128).contains(&k.ttl))
            }
            None => {}
        }
        if class == TrafficClass::Backscatter {
            back.entry((k.src, k.proto)).or_default().push(ts);
        }
        packets.push(k);
        classes.push(class);
    }
    assert_eq!(by_class, truth.by_class, "classes");
    assert_eq!(by_fp, truth.by_fingerprint, "fingerprints");
    assert_eq!(v6, truth.ipv6_packets, "ipv6 packets");
    assert_eq!(truth.by_class.total(), truth.packets);
    assert_eq!(
        dos_attacks(&back),
        truth.dos_victims,
        "DoS victims recomputed from the frames"
    );
    Checked { packets, classes }
}

#[test]
fn everything_agrees_with_the_truth_on_a_day() {
    let spec = spec(7, 200_000, 24);
    let pool = pool();
    let (pcap, truth) = run(&spec, &pool);
    let c = check(&spec, &pool, &pcap, &truth);

    // Realistic shares.
    let share = |n: u64| n as f64 / truth.packets as f64;
    assert!(
        (0.62..0.78).contains(&share(truth.by_class.scan)),
        "{:?}",
        truth.by_class
    );
    assert!(
        (0.14..0.26).contains(&share(truth.by_class.backscatter)),
        "{:?}",
        truth.by_class
    );
    assert!(
        (0.03..0.07).contains(&share(truth.by_class.spoofed)),
        "{:?}",
        truth.by_class
    );
    assert!(
        (0.03..0.07).contains(&share(truth.by_class.other)),
        "{:?}",
        truth.by_class
    );
    assert!(
        (0.02..0.045).contains(&share(truth.ipv6_packets)),
        "{}",
        truth.ipv6_packets
    );
    assert!(
        truth.by_fingerprint.mirai > 0
            && truth.by_fingerprint.masscan > 0
            && truth.by_fingerprint.zmap > 0
    );

    // DoS victims: 5..=12 IPv4 plus one IPv6; at least two ICMP; distinct (ip, protocol).
    let v = &truth.dos_victims;
    let v4 = v.iter().filter(|d| d.ip.is_ipv4()).count();
    assert!((5..=12).contains(&v4), "{v:#?}");
    assert_eq!(v.iter().filter(|d| d.ip.is_ipv6()).count(), 1);
    assert!(v.iter().filter(|d| d.protocol == Transport::ICMP).count() >= 2);
    assert!(v.iter().any(|d| d.protocol == Transport::TCP));
    let mut ips: Vec<IpAddr> = v.iter().map(|d| d.ip).collect();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), v.len());
    for d in v {
        let secs = (d.last.0 - d.first.0) as f64 / 1e6;
        let rate = d.packets as f64 / secs;
        assert!(
            (120.0..=3600.0).contains(&secs) && (0.5..=50.0).contains(&rate),
            "{d:?}"
        );
    }
    // Low-volume backscatter exists besides the attacks.
    let attack_packets: u64 = v.iter().map(|d| d.packets).sum();
    assert!(truth.by_class.backscatter > attack_packets + 1000);
    // Every ICMP attack but echo replies... at least two via destination unreachable.
    let unreach_victims = v
        .iter()
        .filter(|d| d.protocol == Transport::ICMP)
        .filter(|d| {
            c.packets
                .iter()
                .any(|k| k.src == d.ip && k.proto == 1 && k.sport == 3)
        })
        .count();
    assert!(unreach_victims >= 2);

    // Diurnal cycle: hourly volume peak/trough about 1.6.
    let mut per_hour = [0u64; 24];
    for k in &c.packets {
        per_hour[((k.ts / 1_000_000 - START) / 3600) as usize] += 1;
    }
    let (max, min) = (
        *per_hour.iter().max().unwrap(),
        *per_hour.iter().min().unwrap(),
    );
    let ratio = max as f64 / min as f64;
    assert!((1.4..1.8).contains(&ratio), "{per_hour:?}");

    // The surge: the port's share of generic SYNs per hour jumps ~5x at anomaly.start.
    assert_eq!(truth.surges.len(), 1, "one surge in a day");
    let a = &truth.surges[0];
    assert_eq!(a.protocol, Transport::TCP);
    assert_eq!(a.factor, 5.0);
    let surge_hour = ((a.start.secs() - START) / 3600) as usize;
    assert!((12..24).contains(&surge_hour), "second half of the range");
    let mut port_hits = [0u64; 24];
    for (k, &class) in c.packets.iter().zip(&c.classes) {
        if class == TrafficClass::Scan && k.proto == 6 && k.dport == a.port && k.src.is_ipv4() {
            port_hits[((k.ts / 1_000_000 - START) / 3600) as usize] += 1;
        }
    }
    let rate = |h: usize| port_hits[h] as f64 / per_hour[h] as f64;
    let normal: f64 = (0..surge_hour).map(rate).sum::<f64>() / surge_hour as f64;
    let f = rate(surge_hour) / normal;
    assert!((3.5..7.0).contains(&f), "surge factor {f}: {port_hits:?}");
    for h in 0..surge_hour {
        assert!(
            rate(h) < 2.0 * normal,
            "no surge before its start: hour {h} {port_hits:?}"
        );
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let pool = pool();
    let (a, ta) = run(&spec(11, 20_000, 3), &pool);
    let (b, tb) = run(&spec(11, 20_000, 3), &pool);
    let (c, tc) = run(&spec(12, 20_000, 3), &pool);
    assert!(a == b, "same seed, same bytes");
    assert_eq!(ta, tb);
    assert!(a != c, "different seed, different bytes");
    assert_ne!(ta, tc);
}

#[test]
fn exact_packet_counts_for_small_and_odd_sizes() {
    let pool = pool();
    for (n, hours) in [(0, 1), (1, 1), (7, 5), (1_000, 1), (1_000, 48), (12_345, 3)] {
        let s = spec(n + hours as u64, n, hours);
        let (pcap, truth) = run(&s, &pool);
        check(&s, &pool, &pcap, &truth);
        assert_eq!(truth.packets, n);
    }
}

#[test]
fn one_hour_with_a_few_thousand_packets_still_has_attacks_and_a_surge() {
    let s = spec(5, 5_000, 1);
    let pool = pool();
    let (pcap, truth) = run(&s, &pool);
    check(&s, &pool, &pcap, &truth);
    assert!(!truth.dos_victims.is_empty());
    assert_eq!(truth.surges[0].start, Timestamp::from_secs(START));
}

#[test]
fn unaligned_start_custom_blocks_and_no_ipv6_pool() {
    let mut s = TrafficSpec::new(3, 30_000, Timestamp::from_parts(START + 1234, 567_890), 4);
    s.sensor_v4 = (Ipv4Addr::new(203, 0, 113, 0), 24);
    s.sensor_v6 = (Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, 0), 64);
    let p = SourcePool::new(
        vec![(
            u32::from(Ipv4Addr::new(77, 1, 0, 0)),
            u32::from(Ipv4Addr::new(77, 1, 63, 255)),
        )],
        vec![],
    );
    let (pcap, truth) = run(&s, &p);
    check(&s, &p, &pcap, &truth);
    assert_eq!(truth.ipv6_packets, 0);
    assert!(truth.dos_victims.iter().all(|d| d.ip.is_ipv4()));
}

#[test]
fn tiny_pool_keeps_victims_distinct() {
    // One /24 (254 usable sources): low-volume victims run out and must never merge.
    let s = spec(9, 60_000, 6);
    let p = SourcePool::new(
        vec![(
            u32::from(Ipv4Addr::new(91, 2, 3, 0)),
            u32::from(Ipv4Addr::new(91, 2, 3, 255)),
        )],
        vec![],
    );
    let (pcap, truth) = run(&s, &p);
    check(&s, &p, &pcap, &truth);
}

#[test]
fn sensor_block_overlapping_the_pool_never_yields_src_equal_dst_by_accident() {
    let mut s = spec(4, 20_000, 2);
    s.sensor_v4 = (Ipv4Addr::new(10, 9, 8, 0), 29);
    let p = SourcePool::new(
        vec![(
            u32::from(Ipv4Addr::new(10, 9, 8, 0)),
            u32::from(Ipv4Addr::new(10, 9, 8, 15)),
        )],
        vec![],
    );
    let (pcap, truth) = run(&s, &p);
    check(&s, &p, &pcap, &truth);
}

#[test]
fn million_packets_are_counted_and_ordered() {
    let s = spec(21, 1_000_000, 24);
    let mut out = Vec::new();
    let truth = generate(&s, &pool(), &mut out).unwrap();
    let recs = records(&out);
    assert_eq!(recs.len(), 1_000_000);
    assert!(recs.windows(2).all(|w| w[0].0 <= w[1].0));
    assert_eq!(truth.by_class.total(), 1_000_000);
    assert!(truth.dos_victims.len() >= 6);
}

#[test]
fn invalid_specs_are_errors() {
    let pool = pool();
    let err = |s: &TrafficSpec, p: &SourcePool| {
        matches!(generate(s, p, Vec::new()), Err(GenerateError::Spec(_)))
    };
    assert!(err(&spec(1, 10, 0), &pool));
    assert!(err(&spec(1, 10, 1), &SourcePool::new(vec![], vec![])));
    assert!(err(&spec(1, 10, 1), &SourcePool::new(vec![(5, 4)], vec![])));
    let only_zero = u32::from(Ipv4Addr::new(1, 2, 3, 0));
    assert!(err(
        &spec(1, 10, 1),
        &SourcePool::new(vec![(only_zero, only_zero)], vec![])
    ));
    let mut s = spec(1, 10, 1);
    s.sensor_v4 = (Ipv4Addr::new(1, 1, 1, 1), 32);
    assert!(err(&s, &pool));
    assert!(err(
        &TrafficSpec::new(1, 10, Timestamp::from_secs(-5), 1),
        &pool
    ));
}

#[test]
fn many_seeds_and_shapes_agree_with_the_truth() {
    let pool = pool();
    for seed in 100..112u64 {
        let hours = [1, 2, 3, 5, 24, 36][seed as usize % 6];
        let s = spec(seed, 20_000 + seed * 997, hours);
        let (pcap, truth) = run(&s, &pool);
        check(&s, &pool, &pcap, &truth);
        if hours >= 2 {
            let surge_hour = (truth.surges[0].start.secs() - START) / 3600;
            let expected = if hours >= 4 {
                (hours / 2) as i64..hours as i64
            } else {
                1..2
            };
            assert!(
                expected.contains(&surge_hour),
                "hours {hours}: surge at {surge_hour}"
            );
        }
    }
}

/// A pool like the real one in miniature: a legacy US /8, a Chinese and a Brazilian /16, a
/// Dutch /20 and an unlisted country's /12, each with its country.
fn darknet_pool() -> SourcePool {
    let cc = |s: &str| greenwatch_model::CountryCode([s.as_bytes()[0], s.as_bytes()[1]]);
    let range =
        |a: [u8; 4], b: [u8; 4], c: &str| (u32::from_be_bytes(a), u32::from_be_bytes(b), cc(c));
    SourcePool::darknet(
        vec![
            range([7, 0, 0, 0], [7, 255, 255, 255], "US"),
            range([14, 0, 0, 0], [14, 0, 255, 255], "CN"),
            range([177, 0, 0, 0], [177, 0, 255, 255], "BR"),
            range([185, 1, 0, 0], [185, 1, 15, 255], "NL"),
            range([41, 0, 0, 0], [41, 15, 255, 255], "ZA"),
        ],
        vec![],
    )
}

#[test]
fn darknet_sources_come_from_the_countries_telescopes_see_not_the_biggest_blocks() {
    let pool = darknet_pool();
    let in_range = |ip: u32, first: [u8; 4], last: [u8; 4]| {
        (u32::from_be_bytes(first)..=u32::from_be_bytes(last)).contains(&ip)
    };
    let mut rng = crate::rng::Rng::new(3);
    for (profile, top) in [
        (crate::sources::Profile::Scanners, [14, 0, 0, 0]),
        (crate::sources::Profile::Iot, [177, 0, 0, 0]),
    ] {
        let p4 = pool.pool4(profile).unwrap();
        let draws: Vec<u32> = (0..50_000).map(|_| p4.source(&mut rng)).collect();
        let share = |first: [u8; 4], last: [u8; 4]| {
            draws
                .iter()
                .filter(|&&ip| in_range(ip, first, last))
                .count() as f64
                / draws.len() as f64
        };
        let legacy = share([7, 0, 0, 0], [7, 255, 255, 255]);
        let mut last = top;
        last[1] = 0;
        last[2] = 255;
        last[3] = 255;
        let first_country = share(top, last);
        // Uniformly, the /8 would be 16,777,216 of 18,157,568 addresses (92 %); weighted,
        // it has about its country's share among the listed countries here.
        assert!(legacy < 0.45, "{profile:?}: the legacy /8 draws {legacy}");
        assert!(
            first_country > legacy,
            "{profile:?}: {first_country} vs {legacy}"
        );
        assert!(draws.iter().all(|&ip| crate::pool::usable_v4_source(ip)));
        // Distinct slots are distinct addresses, each inside the pool.
        let slots = p4.size().min(200_000);
        let mut seen: Vec<u32> = (0..slots).map(|i| p4.at(i)).collect();
        assert!(seen
            .iter()
            .all(|&ip| pool.v4.iter().any(|&(a, b)| (a..=b).contains(&ip))));
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len() as u64, slots);
    }
}

#[test]
fn a_darknet_pool_generates_captures_that_agree_with_the_truth() {
    let pool = darknet_pool();
    for seed in [31, 32] {
        let s = spec(seed, 40_000, 30);
        let (pcap, truth) = run(&s, &pool);
        check(&s, &pool, &pcap, &truth);
    }
}

#[test]
fn weeks_differ_and_no_week_is_a_round_number() {
    // Four weeks from a Monday: with the same hourly shape every week, each would hold
    // exactly a quarter of the packets.
    let s = spec(7, 2_000_000, 4 * 168);
    let hours = crate::plan::hour_counts(&s);
    assert_eq!(hours.iter().sum::<u64>(), 2_000_000);
    let weeks: Vec<u64> = hours.chunks(168).map(|w| w.iter().sum()).collect();
    for w in &weeks {
        assert_ne!(w % 1000, 0, "a round week: {weeks:?}");
        let off = (*w as f64 / 500_000.0 - 1.0).abs();
        assert!(off < 0.4, "weeks stay alike in size: {weeks:?}");
    }
    let (lo, hi) = (weeks.iter().min().unwrap(), weeks.iter().max().unwrap());
    assert!(*hi as f64 > *lo as f64 * 1.03, "weeks vary: {weeks:?}");
    // Another seed, other weeks.
    let other = crate::plan::hour_counts(&spec(8, 2_000_000, 4 * 168));
    assert_ne!(hours, other);
    // The level moves smoothly: no hour is far from the one a day before.
    for h in 24..hours.len() {
        let ratio = hours[h] as f64 / hours[h - 24] as f64;
        assert!((0.6..1.6).contains(&ratio), "hour {h}: {ratio}");
    }
}
