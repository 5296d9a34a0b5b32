//! Hour-by-hour generation: describe each packet of the hour compactly (time, kind, seed),
//! sort by time, then build every frame from its description and write it.

use crate::packets::*;
use crate::pcap_writer::PcapWriter;
use crate::plan::{
    Attack, Cat, Opts, Plan, Response, Scanner, ScannerSet, Victim, VictimIp, HOUR_US,
    MINOR_BACKSCATTER_SHARE, TRANSIENT,
};
use crate::pool::usable_v4_source;
use crate::rng::{hash2, Rng};
use greenwatch_model::{
    AnomalyTruth, BucketWidth, ClassCounts, DosVictim, Fingerprint, FingerprintCounts, GroundTruth,
    Timestamp, TrafficClass, Transport,
};
use std::io::Write;

/// Packet kinds (top 5 bits of `Desc::tag`).
const K_GENERIC: u32 = 0;
const K_MIRAI: u32 = 1;
const K_MASSCAN: u32 = 2;
const K_ZMAP: u32 = 3;
const K_SURGE: u32 = 4;
const K_UDP: u32 = 5;
const K_ECHO: u32 = 6;
const K_SPOOFED: u32 = 7;
const K_OTHER: u32 = 8;
const K_V6: u32 = 9;
const K_ATTACK: u32 = 10;
const K_MINOR: u32 = 11;
const AUX_BITS: u32 = 27;
const AUX_MASK: u32 = (1 << AUX_BITS) - 1;

/// One packet to be: time within the hour (µs), kind and auxiliary index, and a seed from
/// which every other field is drawn (for attacks: the packet's index in the attack).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Desc {
    t: u32,
    tag: u32,
    seed: u64,
}

#[inline]
fn tag(kind: u32, aux: u32) -> u32 {
    debug_assert!(aux <= AUX_MASK);
    (kind << AUX_BITS) | aux
}

struct Counters {
    by_class: ClassCounts,
    by_fingerprint: FingerprintCounts,
    ipv6: u64,
}

pub(crate) fn run<W: Write>(plan: &mut Plan, out: W) -> Result<GroundTruth, crate::GenerateError> {
    let mut w = PcapWriter::new(out)?;
    let mut frame = Frame::new();
    let mut c = Counters {
        by_class: ClassCounts::default(),
        by_fingerprint: FingerprintCounts::default(),
        ipv6: 0,
    };
    let mut descs: Vec<Desc> = Vec::new();
    let mut minor: Vec<Victim> = Vec::new();
    let mut first_surge: Vec<Option<i64>> = vec![None; plan.surges.len()];

    for h in 0..plan.hours {
        let hour_start = plan.start_us + h as i64 * HOUR_US;
        let n_h = plan.hour_counts[h as usize];
        let mut rng = Rng::stream(plan.seed, 0x1000_0000 + h as u64);
        descs.clear();
        minor.clear();

        // Attack backscatter falling into this hour.
        for (j, a) in plan.attacks.iter().enumerate() {
            let (lo, hi) = (
                a.lower_bound(hour_start),
                a.lower_bound(hour_start + HOUR_US),
            );
            for i in lo..hi {
                descs.push(Desc {
                    t: (a.time(i) - hour_start) as u32,
                    tag: tag(K_ATTACK, j as u32),
                    seed: i,
                });
            }
        }
        let attack_packets = descs.len() as u64;
        debug_assert!(attack_packets <= n_h);

        // Low-volume backscatter: distinct victims with 1..=24 packets each, all this hour.
        let mut budget = ((n_h as f64 * MINOR_BACKSCATTER_SHARE) as u64).min(n_h - attack_packets);
        while budget > 0 {
            let Some(ip) = plan.victims.next(&plan.pool4) else {
                break;
            };
            let response = match rng.below(20) {
                0..=6 => Response::Rst,
                7..=11 => Response::SynAck,
                12..=15 => Response::Unreach {
                    code: [1, 3, 3, 10, 13][rng.below(5) as usize],
                    inner: if rng.chance(0.6) {
                        PROTO_UDP
                    } else {
                        PROTO_TCP
                    },
                },
                16 | 17 => Response::EchoReply,
                18 => Response::TimeExceeded,
                _ => Response::TimestampReply,
            };
            let victim = minor_victim(VictimIp::V4(ip), response, &mut rng);
            let k = (1 + (23.0 * rng.f64().powi(3)) as u64).min(budget);
            let idx = minor.len() as u32;
            minor.push(victim);
            for _ in 0..k {
                descs.push(Desc {
                    t: rng.below(HOUR_US as u64) as u32,
                    tag: tag(K_MINOR, idx),
                    seed: rng.next_u64(),
                });
            }
            budget -= k;
        }

        // A surge, then the mix.
        let rest = n_h - descs.len() as u64;
        let active = (plan.surges.iter())
            .position(|s| (s.first_hour..=s.last_hour).contains(&h) && rest > 0);
        let surge = active.map_or(0, |i| {
            let q = (plan.surges[i].factor - 1.0) * plan.surges[i].normal_share;
            ((q * rest as f64 / (1.0 + q)).round() as u64).clamp(1, rest)
        });
        for _ in 0..surge {
            descs.push(Desc {
                t: rng.below(HOUR_US as u64) as u32,
                tag: tag(K_SURGE, active.unwrap_or(0) as u32),
                seed: rng.next_u64(),
            });
        }
        for _ in 0..rest - surge {
            let (kind, aux) = match plan.mix.pick(&mut rng) {
                Cat::Generic => (K_GENERIC, plan.generic.choose(&mut rng)),
                Cat::Mirai => (K_MIRAI, plan.mirai.choose(&mut rng)),
                Cat::Masscan => (K_MASSCAN, plan.masscan.choose(&mut rng)),
                Cat::Zmap => (K_ZMAP, plan.zmap.choose(&mut rng)),
                Cat::Udp => (K_UDP, plan.generic.choose(&mut rng)),
                Cat::Echo => (K_ECHO, plan.generic.choose(&mut rng)),
                Cat::Spoofed => (K_SPOOFED, 0),
                Cat::Other => (K_OTHER, 0),
                Cat::V6 => (K_V6, 0),
            };
            descs.push(Desc {
                t: rng.below(HOUR_US as u64) as u32,
                tag: tag(kind, aux),
                seed: rng.next_u64(),
            });
        }
        debug_assert_eq!(descs.len() as u64, n_h);
        descs.sort_unstable();

        for d in &descs {
            let ts = hour_start + d.t as i64;
            let kind = d.tag >> AUX_BITS;
            let aux = d.tag & AUX_MASK;
            let (class, fp, v6) = match kind {
                K_ATTACK => {
                    let a = &plan.attacks[aux as usize];
                    let mut rng = Rng::new(hash2(a.victim.seed, d.seed));
                    backscatter(plan, &mut frame, &a.victim, d.seed, &mut rng);
                    (
                        TrafficClass::Backscatter,
                        None,
                        matches!(a.victim.ip, VictimIp::V6(_)),
                    )
                }
                K_MINOR => {
                    let mut rng = Rng::new(d.seed);
                    let v = &minor[aux as usize];
                    backscatter(plan, &mut frame, v, rng.below(64), &mut rng);
                    (TrafficClass::Backscatter, None, false)
                }
                _ => {
                    let mut rng = Rng::new(d.seed);
                    build_mix(plan, &mut frame, kind, aux, &mut rng)
                }
            };
            if kind == K_SURGE {
                first_surge[aux as usize].get_or_insert(ts);
            }
            c.by_class.add(class, 1);
            if let Some(fp) = fp {
                c.by_fingerprint.add(fp, 1);
            }
            c.ipv6 += v6 as u64;
            w.record(ts, frame.finish())?;
        }
    }
    w.finish()?;

    let mut dos_victims: Vec<DosVictim> = plan
        .attacks
        .iter()
        .map(|a: &Attack| DosVictim {
            ip: a.victim.ip.ip(),
            protocol: a.victim.response.transport(),
            first: Timestamp(a.time(0)),
            last: Timestamp(a.last()),
            packets: a.n,
        })
        .collect();
    dos_victims.sort_by_key(|v| (v.first, v.ip));
    let surges = (plan.surges.iter().zip(first_surge))
        .map(|(s, first)| {
            let start = first.unwrap_or(plan.start_us + s.first_hour as i64 * HOUR_US);
            AnomalyTruth {
                port: s.port,
                protocol: Transport::TCP,
                start: Timestamp::from_secs(BucketWidth::HOUR.start_of(Timestamp(start))),
                hours: s.last_hour - s.first_hour + 1,
                factor: s.factor,
            }
        })
        .collect();
    Ok(GroundTruth {
        seed: plan.seed,
        packets: c.by_class.total(),
        ipv6_packets: c.ipv6,
        by_class: c.by_class,
        by_fingerprint: c.by_fingerprint,
        dos_victims,
        surges,
    })
}

fn minor_victim(ip: VictimIp, response: Response, rng: &mut Rng) -> Victim {
    let icmp_router =
        matches!(response, Response::Unreach { .. } | Response::TimeExceeded) && rng.chance(0.4);
    let origin: u8 = if icmp_router {
        255
    } else if rng.chance(0.6) {
        64
    } else {
        128
    };
    Victim {
        ip,
        response,
        ttl: origin - rng.range(3, 30) as u8,
        port: [80, 443, 53, 22, 25, 8080, 3389, 27015][rng.below(8) as usize],
        ip_id: rng.next_u16(),
        window: [29200, 65535, 8192, 14600, 64240][rng.below(5) as usize],
        seed: rng.next_u64(),
    }
}

#[inline]
fn ephemeral(rng: &mut Rng) -> u16 {
    rng.range(1024, 65535) as u16
}

/// A darknet destination different from `src`.
#[inline]
fn dst4(plan: &Plan, rng: &mut Rng, src: u32) -> u32 {
    loop {
        let d = plan.sensor4.random(rng);
        if d != src {
            return d;
        }
    }
}

#[inline]
fn dst6(plan: &Plan, rng: &mut Rng, src: u128) -> u128 {
    loop {
        let d = plan.sensor6.random(rng);
        if d != src {
            return d;
        }
    }
}

/// Quotes an attack packet (darknet -> victim) the way an ICMP error carries it: the IP
/// header plus the first 8 bytes of its transport header.
fn quote_v4(f: &mut Frame, rng: &mut Rng, darknet: u32, v: &Victim, inner: u8) {
    let claimed = 28 + rng.below(512) as u16;
    let ttl = rng.range(20, 250) as u8;
    f.bytes(&ipv4_header(
        darknet,
        v.victim_v4(),
        inner,
        ttl,
        rng.next_u16(),
        0,
        claimed,
    ));
    f.u16(ephemeral(rng));
    f.u16(v.port);
    if inner == PROTO_TCP {
        f.u32(rng.next_u32());
    } else {
        f.u16(claimed - 20);
        f.u16(rng.next_u16() | 1);
    }
}

impl Victim {
    fn victim_v4(&self) -> u32 {
        match self.ip {
            VictimIp::V4(a) => a,
            VictimIp::V6(_) => unreachable!("IPv4 response from an IPv6 victim"),
        }
    }
}

/// One backscatter packet from `v` to a random darknet address; `i` is its index (IP ID).
fn backscatter(plan: &Plan, f: &mut Frame, v: &Victim, i: u64, rng: &mut Rng) {
    let ip_id = v.ip_id.wrapping_add(i as u16);
    match v.ip {
        VictimIp::V4(src) => {
            let dst = dst4(plan, rng, src);
            match v.response {
                Response::SynAck => {
                    f.begin_v4(src, dst, PROTO_TCP, v.ttl, ip_id, DF);
                    syn_ack(f, v, rng);
                }
                Response::Rst => {
                    f.begin_v4(src, dst, PROTO_TCP, v.ttl, ip_id, DF);
                    let ack = rng.next_u32();
                    if rng.chance(0.8) {
                        f.tcp(v.port, ephemeral(rng), 0, ack, RST | ACK, 0, &[]);
                    } else {
                        f.tcp(v.port, ephemeral(rng), ack, 0, RST, 0, &[]);
                    }
                }
                Response::Unreach { code, inner } => {
                    f.begin_v4(src, dst, PROTO_ICMP, v.ttl, ip_id, 0);
                    f.icmp(3, code, [0; 4]);
                    quote_v4(f, rng, dst, v, inner);
                }
                Response::TimeExceeded => {
                    f.begin_v4(src, dst, PROTO_ICMP, v.ttl, ip_id, 0);
                    f.icmp(11, 0, [0; 4]);
                    quote_v4(f, rng, dst, v, PROTO_UDP);
                }
                Response::EchoReply => {
                    f.begin_v4(src, dst, PROTO_ICMP, v.ttl, ip_id, 0);
                    f.icmp(0, 0, rng.next_u32().to_be_bytes());
                    let n = [0, 8, 32, 56][rng.below(4) as usize];
                    f.random(rng, n);
                }
                Response::TimestampReply => {
                    f.begin_v4(src, dst, PROTO_ICMP, v.ttl, ip_id, 0);
                    f.icmp(14, 0, rng.next_u32().to_be_bytes());
                    f.random(rng, 12);
                }
                Response::Unreach6 | Response::SynAck6 => {
                    unreachable!("IPv6 response from an IPv4 victim")
                }
            }
        }
        VictimIp::V6(src) => {
            let dst = dst6(plan, rng, src);
            let flow = rng.next_u32();
            match v.response {
                Response::Unreach6 => {
                    f.begin_v6(src, dst, PROTO_ICMPV6, v.ttl, flow);
                    f.icmp(1, 4, [0; 4]);
                    // Quoted IPv6 header (darknet -> victim, UDP) and 8 bytes of UDP.
                    let plen = 8 + rng.below(256) as u16;
                    f.u32(0x6000_0000);
                    f.u16(plen);
                    f.u8(PROTO_UDP);
                    f.u8(rng.range(20, 250) as u8);
                    f.bytes(&dst.to_be_bytes());
                    f.bytes(&src.to_be_bytes());
                    f.u16(ephemeral(rng));
                    f.u16(v.port);
                    f.u16(plen);
                    f.u16(rng.next_u16() | 1);
                }
                _ => {
                    f.begin_v6(src, dst, PROTO_TCP, v.ttl, flow);
                    syn_ack(f, v, rng);
                }
            }
        }
    }
}

/// The TCP SYN+ACK header of a backscatter packet from `v` (after its IP header).
fn syn_ack(f: &mut Frame, v: &Victim, rng: &mut Rng) {
    let seq = rng.next_u32();
    let ack = rng.next_u32();
    f.tcp(
        v.port,
        ephemeral(rng),
        seq,
        ack,
        SYN | ACK,
        v.window,
        OPT_MSS,
    );
}

/// The (class, fingerprint, is_ipv6) of a mixed packet, after building it into `f`.
type Truth = (TrafficClass, Option<Fingerprint>, bool);

const SCAN: Truth = (TrafficClass::Scan, None, false);

fn scanner_of(set: &ScannerSet, aux: u32) -> Option<&Scanner> {
    (aux != TRANSIENT).then(|| &set.list[aux as usize])
}

fn transient_ttl(rng: &mut Rng) -> u8 {
    rng.range(30, 128) as u8
}

fn build_mix(plan: &Plan, f: &mut Frame, kind: u32, aux: u32, rng: &mut Rng) -> Truth {
    match kind {
        K_GENERIC => {
            let s = scanner_of(&plan.generic, aux);
            let (src, ttl) = match s {
                Some(s) => (s.ip, s.ttl),
                None => (plan.pool4.source(rng), transient_ttl(rng)),
            };
            let dport = match s.map_or(0, |s| s.port) {
                0 => plan.tcp_ports.pick(rng),
                p => p,
            };
            let sport = match s.map_or(0, |s| s.sport) {
                0 => ephemeral(rng),
                p => p,
            };
            let window = s.map_or_else(
                || [1024, 29200, 64240, 65535][rng.below(4) as usize],
                |s| s.window,
            );
            let opts = s.map_or(Opts::Linux, |s| s.opts);
            let dst = dst4(plan, rng, src);
            generic_syn(
                f,
                rng,
                src,
                dst,
                ttl,
                sport,
                dport,
                window,
                opts,
                s.is_some_and(|s| s.df),
            );
            SCAN
        }
        K_SURGE => {
            let port = plan.surges[aux as usize].port;
            let src = plan.pool4.source(rng);
            let dst = dst4(plan, rng, src);
            let ttl = transient_ttl(rng);
            let sport = ephemeral(rng);
            generic_syn(f, rng, src, dst, ttl, sport, port, 14600, Opts::Mss, true);
            SCAN
        }
        K_MIRAI => {
            let s = scanner_of(&plan.mirai, aux);
            let (src, ttl, port) = match s {
                Some(s) => (s.ip, s.ttl, s.port),
                None => (plan.iot4.source(rng), 64 - rng.range(2, 34) as u8, 0),
            };
            let dport = match port {
                0 if rng.below(10) == 0 => 2323,
                0 => 23,
                p => p,
            };
            let dst = dst4(plan, rng, src);
            f.begin_v4(src, dst, PROTO_TCP, ttl, rng.next_u16(), 0);
            let sport = ephemeral(rng);
            let window = rng.next_u16() | 0x100;
            f.tcp(sport, dport, dst, 0, SYN, window, &[]);
            (TrafficClass::Scan, Some(Fingerprint::Mirai), false)
        }
        K_MASSCAN => {
            let s = &plan.masscan.list[aux as usize];
            let dport = port_or_popular(plan, rng, s.port);
            let dst = dst4(plan, rng, s.ip);
            let mut seq = rng.next_u32();
            while seq == dst {
                seq = rng.next_u32();
            }
            let id = ((dst ^ dport as u32 ^ seq) & 0xffff) as u16;
            f.begin_v4(s.ip, dst, PROTO_TCP, s.ttl, id, 0);
            f.tcp(s.sport, dport, seq, 0, SYN, 1024, OPT_MSS);
            (TrafficClass::Scan, Some(Fingerprint::Masscan), false)
        }
        K_ZMAP => {
            let s = &plan.zmap.list[aux as usize];
            let dport = port_or_popular(plan, rng, s.port);
            let dst = dst4(plan, rng, s.ip);
            let mut seq = rng.next_u32();
            while seq == dst || (dst ^ dport as u32 ^ seq) & 0xffff == 54321 {
                seq = rng.next_u32();
            }
            f.begin_v4(s.ip, dst, PROTO_TCP, s.ttl, 54321, 0);
            let sport = rng.range(32768, 61000) as u16;
            f.tcp(sport, dport, seq, 0, SYN, 65535, &[]);
            (TrafficClass::Scan, Some(Fingerprint::Zmap), false)
        }
        K_UDP => {
            let (src, ttl) = match scanner_of(&plan.generic, aux) {
                Some(s) => (s.ip, s.ttl),
                None => (plan.pool4.source(rng), transient_ttl(rng)),
            };
            let dst = dst4(plan, rng, src);
            f.begin_v4(src, dst, PROTO_UDP, ttl, rng.next_u16(), 0);
            udp_probe(plan, f, rng);
            SCAN
        }
        K_ECHO => {
            let (src, ttl) = match scanner_of(&plan.generic, aux) {
                Some(s) => (s.ip, s.ttl),
                None => (plan.pool4.source(rng), rng.range(30, 255) as u8),
            };
            let dst = dst4(plan, rng, src);
            f.begin_v4(src, dst, PROTO_ICMP, ttl, rng.next_u16(), 0);
            f.icmp(8, 0, rng.next_u32().to_be_bytes());
            let n = [0, 8, 32, 56][rng.below(4) as usize];
            f.random(rng, n);
            SCAN
        }
        K_SPOOFED => {
            spoofed(plan, f, rng);
            (TrafficClass::Spoofed, None, false)
        }
        K_OTHER => {
            other(plan, f, rng);
            (TrafficClass::Other, None, false)
        }
        K_V6 => {
            ipv6_scan(plan, f, rng);
            (TrafficClass::Scan, None, true)
        }
        _ => unreachable!("kind {kind}"),
    }
}

/// A scanner's fixed port, or (0) a popular port drawn per probe.
fn port_or_popular(plan: &Plan, rng: &mut Rng, port: u16) -> u16 {
    match port {
        0 => not_surge_port(plan, rng),
        p => p,
    }
}

fn not_surge_port(plan: &Plan, rng: &mut Rng) -> u16 {
    loop {
        let p = plan.tcp_ports.pick(rng);
        if !crate::plan::SURGE_PORTS.contains(&p) {
            return p;
        }
    }
}

/// A TCP SYN that carries no fingerprint: seq != dst, IP ID neither Masscan's nor 54321.
#[allow(clippy::too_many_arguments)]
fn generic_syn(
    f: &mut Frame,
    rng: &mut Rng,
    src: u32,
    dst: u32,
    ttl: u8,
    sport: u16,
    dport: u16,
    window: u16,
    opts: Opts,
    df: bool,
) {
    let mut seq = rng.next_u32();
    while seq == dst {
        seq = rng.next_u32();
    }
    let masscan = ((dst ^ dport as u32 ^ seq) & 0xffff) as u16;
    let mut id = rng.next_u16();
    while id == masscan || id == 54321 {
        id = rng.next_u16();
    }
    f.begin_v4(src, dst, PROTO_TCP, ttl, id, if df { DF } else { 0 });
    syn_with_opts(f, rng, sport, dport, seq, window, opts);
}

fn syn_with_opts(
    f: &mut Frame,
    rng: &mut Rng,
    sport: u16,
    dport: u16,
    seq: u32,
    window: u16,
    opts: Opts,
) {
    match opts {
        Opts::None => f.tcp(sport, dport, seq, 0, SYN, window, &[]),
        Opts::Mss => f.tcp(sport, dport, seq, 0, SYN, window, OPT_MSS),
        Opts::Linux => {
            f.tcp(sport, dport, seq, 0, SYN, window, OPT_LINUX);
            f.patch_l4(20 + 8, &rng.next_u32().to_be_bytes());
        }
    }
}

/// UDP header and a payload fitting the destination port.
fn udp_probe(plan: &Plan, f: &mut Frame, rng: &mut Rng) {
    let port = plan.udp_ports.pick(rng);
    let sport = ephemeral(rng);
    match port {
        0 => {
            let p = rng.range(1, 65535) as u16;
            f.udp(sport, p);
            let n = rng.below(48) as usize;
            f.random(rng, n);
        }
        33434 => {
            f.udp(sport, 33434 + rng.below(100) as u16);
            f.zeros(32);
        }
        p => {
            f.udp(sport, p);
            udp_payload(f, rng, p);
        }
    }
}

fn udp_payload(f: &mut Frame, rng: &mut Rng, port: u16) {
    match port {
        53 => dns_query(f, rng),
        123 => ntp(f, rng),
        1900 => f.bytes(SSDP_MSEARCH),
        161 => snmp_get(f, rng),
        11211 => f.bytes(MEMCACHED_STATS),
        5060 => f.bytes(SIP_OPTIONS),
        137 => f.bytes(NETBIOS_NBSTAT),
        5353 => f.bytes(MDNS_SERVICES),
        10001 => f.bytes(UBNT_DISCOVERY),
        47808 => f.bytes(BACNET_WHOIS),
        500 => {
            f.random(rng, 8); // initiator SPI
            f.zeros(8);
            f.bytes(&[0x21, 0x20, 0x22, 0x08, 0, 0, 0, 0, 0, 0, 0, 28]);
        }
        _ => {
            let n = rng.below(32) as usize;
            f.random(rng, n);
        }
    }
}

/// A likely-spoofed packet that breaks exactly one of the rules, rotating over them.
fn spoofed(plan: &Plan, f: &mut Frame, rng: &mut Rng) {
    let ttl = rng.range(30, 128) as u8;
    match rng.below(6) {
        0 => {
            // Fragment: a first fragment (MF set, offset 0) of a SYN with data or of a ping.
            let src = plan.pool4.source(rng);
            let dst = dst4(plan, rng, src);
            if rng.chance(0.6) {
                f.begin_v4(src, dst, PROTO_TCP, ttl, rng.next_u16(), MF);
                let (sport, dport, seq) =
                    (ephemeral(rng), plan.tcp_ports.pick(rng), rng.next_u32());
                f.tcp(sport, dport, seq, 0, SYN, 1024, &[]);
                let n = 8 * rng.range(1, 8) as usize;
                f.random(rng, n);
            } else {
                f.begin_v4(src, dst, PROTO_ICMP, ttl, rng.next_u16(), MF);
                f.icmp(8, 0, rng.next_u32().to_be_bytes());
                let n = 8 * rng.range(8, 64) as usize;
                f.random(rng, n);
            }
        }
        1 => {
            // Source == destination (an address that does not end in .0/.255).
            let a = loop {
                let d = plan.sensor4.random(rng);
                if usable_v4_source(d) {
                    break d;
                }
            };
            let sp = ephemeral(rng);
            tcp_or_udp(plan, f, rng, a, a, ttl, sp, 0);
        }
        2 => {
            // Source ending in .0 or .255.
            let src = (plan.pool4.any(rng) & !0xff) | if rng.chance(0.5) { 0 } else { 255 };
            let dst = dst4(plan, rng, src);
            if rng.chance(0.2) {
                f.begin_v4(src, dst, PROTO_ICMP, ttl, rng.next_u16(), 0);
                f.icmp(8, 0, rng.next_u32().to_be_bytes());
                f.random(rng, 8);
            } else {
                let sp = ephemeral(rng);
                tcp_or_udp(plan, f, rng, src, dst, ttl, sp, 0);
            }
        }
        3 => {
            // Port zero (source or destination).
            let src = plan.pool4.source(rng);
            let dst = dst4(plan, rng, src);
            if rng.chance(0.7) {
                let sp = ephemeral(rng);
                tcp_or_udp(plan, f, rng, src, dst, ttl, sp, u16::MAX);
            } else {
                tcp_or_udp(plan, f, rng, src, dst, ttl, 0, 0);
            }
        }
        4 => {
            // Abnormal TCP flags: null, SYN+RST, Xmas (FIN+PSH+URG), all, PSH, SYN+RST+ACK.
            const FLAGS: [u8; 7] = [
                0,
                SYN | RST,
                FIN | PSH | URG,
                FIN | SYN | RST | PSH | ACK | URG,
                PSH,
                SYN | RST | ACK,
                FIN | RST,
            ];
            let src = plan.pool4.source(rng);
            let dst = dst4(plan, rng, src);
            f.begin_v4(src, dst, PROTO_TCP, ttl, rng.next_u16(), 0);
            let flags = FLAGS[rng.below(FLAGS.len() as u64) as usize];
            let (sport, dport, seq, ack) = (
                ephemeral(rng),
                plan.tcp_ports.pick(rng),
                rng.next_u32(),
                rng.next_u32(),
            );
            f.tcp(
                sport,
                dport,
                seq,
                if flags & ACK != 0 { ack } else { 0 },
                flags,
                1024,
                &[],
            );
        }
        _ => {
            // TTL >= 200 on TCP/UDP without a Masscan/ZMap fingerprint.
            let src = plan.pool4.source(rng);
            let dst = dst4(plan, rng, src);
            let ttl = rng.range(200, 255) as u8;
            if rng.chance(0.6) {
                let (sport, dport) = (ephemeral(rng), plan.tcp_ports.pick(rng));
                generic_syn(
                    f,
                    rng,
                    src,
                    dst,
                    ttl,
                    sport,
                    dport,
                    65535,
                    Opts::None,
                    false,
                );
            } else {
                f.begin_v4(src, dst, PROTO_UDP, ttl, rng.next_u16(), 0);
                udp_probe(plan, f, rng);
            }
        }
    }
}

/// A TCP SYN (60%) or UDP probe with the given source port; `dport` 0 draws a table port,
/// `u16::MAX` means destination port 0.
#[allow(clippy::too_many_arguments)]
fn tcp_or_udp(
    plan: &Plan,
    f: &mut Frame,
    rng: &mut Rng,
    src: u32,
    dst: u32,
    ttl: u8,
    sport: u16,
    dport: u16,
) {
    let tcp = rng.chance(0.6);
    let dport = match dport {
        u16::MAX => 0,
        0 if tcp => plan.tcp_ports.pick(rng),
        0 => plan.udp_ports.pick(rng).max(1),
        p => p,
    };
    f.begin_v4(
        src,
        dst,
        if tcp { PROTO_TCP } else { PROTO_UDP },
        ttl,
        rng.next_u16(),
        0,
    );
    if tcp {
        let seq = rng.next_u32();
        f.tcp(sport, dport, seq, 0, SYN, 1024, &[]);
    } else {
        f.udp(sport, dport);
        udp_payload(f, rng, dport);
    }
}

/// Neither scan nor backscatter nor spoofed: stray TCP segments, informational ICMP, GRE, ESP.
fn other(plan: &Plan, f: &mut Frame, rng: &mut Rng) {
    let src = plan.pool4.source(rng);
    let dst = dst4(plan, rng, src);
    let ttl = rng.range(30, 128) as u8;
    let id = rng.next_u16();
    match rng.below(20) {
        0..=9 => {
            const FLAGS: [u8; 6] = [ACK, ACK, FIN, FIN | ACK, PSH | ACK, FIN | PSH | ACK];
            let flags = if rng.below(16) == 0 {
                SYN | FIN
            } else {
                FLAGS[rng.below(6) as usize]
            };
            f.begin_v4(src, dst, PROTO_TCP, ttl, id, DF);
            let (sport, seq, ack) = (
                [80, 443, 8080, 0][rng.below(4) as usize],
                rng.next_u32(),
                rng.next_u32(),
            );
            let sport = if sport == 0 { ephemeral(rng) } else { sport };
            let dport = ephemeral(rng);
            f.tcp(
                sport,
                dport,
                seq,
                if flags & ACK != 0 { ack } else { 0 },
                flags,
                502,
                &[],
            );
            if flags & PSH != 0 {
                let n = rng.range(1, 64) as usize;
                f.random(rng, n);
            }
        }
        10..=12 => {
            f.begin_v4(src, dst, PROTO_ICMP, ttl, id, 0);
            f.icmp(13, 0, rng.next_u32().to_be_bytes());
            f.u32(rng.next_u32() % 86_400_000);
            f.zeros(8);
        }
        13 => {
            f.begin_v4(src, dst, PROTO_ICMP, ttl, id, 0);
            f.icmp(17, 0, rng.next_u32().to_be_bytes());
            f.zeros(4);
        }
        14 => {
            f.begin_v4(src, dst, PROTO_ICMP, ttl, id, 0);
            let ty = [10, 15, 9][rng.below(3) as usize];
            f.icmp(ty, 0, [0; 4]);
        }
        15..=17 => {
            // GRE carrying a small IPv4 ping.
            f.begin_v4(src, dst, PROTO_GRE, ttl, id, 0);
            f.bytes(&[0, 0, 0x08, 0x00]);
            let inner_src = 0x0a00_0000 | (rng.next_u32() & 0x00ff_ffff);
            let inner_dst = 0x0a00_0000 | (rng.next_u32() & 0x00ff_ffff);
            f.bytes(&ipv4_header(
                inner_src,
                inner_dst,
                PROTO_ICMP,
                64,
                rng.next_u16(),
                0,
                28,
            ));
            let mut icmp = [8u8, 0, 0, 0, 0, 0, 0, 0];
            icmp[4..8].copy_from_slice(&rng.next_u32().to_be_bytes());
            let c = checksum(&icmp);
            icmp[2..4].copy_from_slice(&c.to_be_bytes());
            f.bytes(&icmp);
        }
        _ => {
            f.begin_v4(src, dst, PROTO_ESP, ttl, id, 0);
            f.u32(rng.next_u32() | 0x100);
            f.u32(rng.range(1, 5000) as u32);
            let n = 16 * rng.range(2, 6) as usize;
            f.random(rng, n);
        }
    }
}

/// IPv6 scans: TCP SYN, UDP probes, ICMPv6 echo requests.
fn ipv6_scan(plan: &Plan, f: &mut Frame, rng: &mut Rng) {
    let pool = plan
        .pool6
        .as_ref()
        .expect("IPv6 packets only with an IPv6 pool");
    let src = pool.source(rng);
    let dst = dst6(plan, rng, src);
    let hop = rng.range(30, 128) as u8;
    let flow = rng.next_u32();
    match rng.below(20) {
        0..=10 => {
            f.begin_v6(src, dst, PROTO_TCP, hop, flow);
            let (sport, dport, seq) = (ephemeral(rng), plan.tcp_ports.pick(rng), rng.next_u32());
            let opts = if rng.chance(0.5) {
                Opts::Linux
            } else {
                Opts::Mss
            };
            syn_with_opts(f, rng, sport, dport, seq, 64800, opts);
        }
        11..=15 => {
            f.begin_v6(src, dst, PROTO_UDP, hop, flow);
            udp_probe(plan, f, rng);
        }
        _ => {
            f.begin_v6(src, dst, PROTO_ICMPV6, hop, flow);
            f.icmp(128, 0, rng.next_u32().to_be_bytes());
            f.random(rng, 16);
        }
    }
}
