//! Everything decided before the first packet: per-hour volumes (diurnal and weekly cycles),
//! the source pool, the scanner population, the DoS attacks and the surges. Per-packet details are drawn
//! later, hour by hour, from seeds derived here.

use crate::pool::{usable_v4_source, Pool4, Pool6};
use crate::rng::{hash2, Cumulative, Permutation, Rng};
use crate::sources::Profile;
use crate::{GenerateError, SourcePool, TrafficSpec};
use greenwatch_model::Transport;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub(crate) const SEC_US: i64 = 1_000_000;
pub(crate) const HOUR_US: i64 = 3_600 * SEC_US;

/// Peak/trough ratio of the diurnal cycle is (1 + A) / (1 - A) = 1.6.
const DIURNAL_AMPLITUDE: f64 = 0.6 / 2.6;
/// Share of all packets that belongs to DoS attacks meeting the RS-DoS thresholds.
const ATTACK_SHARE: f64 = 0.14;
/// Share of each hour's packets that is low-volume backscatter (victims below the thresholds).
pub(crate) const MINOR_BACKSCATTER_SHARE: f64 = 0.06;
/// At most this share of an hour may be attack backscatter.
const ATTACK_HOUR_CAP: f64 = 0.5;
/// Smallest attack: with a rate >= 0.75 pkt/s and >= 120 s it clears every threshold.
const MIN_ATTACK_PACKETS: u64 = 100;
const MIN_RATE: f64 = 0.75;
const MAX_RATE: f64 = 50.0;
const MIN_ATTACK_SECS: f64 = 120.0;
const MAX_ATTACK_SECS: f64 = 3_600.0;
/// Multiples of the normal rate of the surges of a long capture, in order: several sizes,
/// one of them (2x) below the 3x the detector must always catch.
pub(crate) const SURGE_FACTORS: [f64; 6] = [5.0, 3.0, 10.0, 2.0, 4.0, 8.0];
/// Weekends are quieter (many scanning operations follow office hours).
const WEEKEND_FACTOR: f64 = 0.8;
/// A capture this long gets several surges, all after a week of normal traffic so that a
/// detector has a baseline to judge them by.
const SEVERAL_SURGES_HOURS: u32 = 9 * 24;
const SURGE_WARM_UP_HOURS: u32 = 7 * 24;
/// Hours of capture per surge after the warm-up.
const HOURS_PER_SURGE: u32 = 36;

/// Destination ports of generic TCP scanners, weighted (what darknets see most).
pub(crate) const TCP_PORTS: &[(u16, u32)] = &[
    (22, 120),
    (80, 100),
    (443, 80),
    (445, 70),
    (23, 60),
    (3389, 60),
    (8080, 60),
    (8443, 30),
    (1433, 30),
    (3306, 30),
    (21, 25),
    (5555, 25),
    (25, 20),
    (5900, 20),
    (6379, 20),
    (2375, 15),
    (7547, 15),
    (8888, 15),
    (81, 15),
    (8000, 15),
    (135, 15),
    (139, 15),
    (5432, 15),
    (2222, 12),
    (8081, 12),
    (9200, 10),
    (8728, 10),
    (27017, 10),
    (111, 10),
    (9000, 10),
    (110, 8),
    (143, 8),
    (11211, 8),
    (1723, 8),
    (88, 8),
    (10000, 8),
    (5060, 8),
    (502, 6),
    (49152, 6),
    (60001, 5),
    (102, 4),
    (631, 4),
];

/// Ports the surge may hit; kept out of focused scanners and Masscan/ZMap target lists so
/// that their normal rate is the smooth one of "wide" generic scanners.
pub(crate) const SURGE_PORTS: &[u16] = &[5555, 8728, 6379, 2375, 7547, 9200];

/// Destination ports of UDP probes; 33434 stands for the traceroute range 33434-33533.
pub(crate) const UDP_PORTS: &[(u16, u32)] = &[
    (53, 30),
    (123, 20),
    (1900, 15),
    (161, 15),
    (5060, 10),
    (11211, 8),
    (137, 6),
    (5353, 5),
    (47808, 4),
    (10001, 4),
    (500, 4),
    (33434, 8),
    (0, 10), // any other port, random payload
];

/// Port table with a precomputed cumulative sum.
pub(crate) struct Weighted<T: Copy> {
    items: Vec<T>,
    cum: Vec<u32>,
}

impl<T: Copy> Weighted<T> {
    pub(crate) fn new(table: &[(T, u32)]) -> Weighted<T> {
        let mut acc = 0;
        let mut items = Vec::new();
        let mut cum = Vec::new();
        for &(v, w) in table {
            if w > 0 {
                acc += w;
                items.push(v);
                cum.push(acc);
            }
        }
        Weighted { items, cum }
    }

    pub(crate) fn total(&self) -> u32 {
        self.cum.last().copied().unwrap_or(0)
    }

    #[inline]
    pub(crate) fn pick(&self, rng: &mut Rng) -> T {
        let r = rng.below(self.total() as u64) as u32;
        self.items[self.cum.partition_point(|&c| c <= r)]
    }

    pub(crate) fn share(&self, pred: impl Fn(T) -> bool) -> f64 {
        let mut prev = 0;
        let mut hit = 0;
        for (i, &c) in self.cum.iter().enumerate() {
            if pred(self.items[i]) {
                hit += c - prev;
            }
            prev = c;
        }
        hit as f64 / self.total() as f64
    }
}

/// A darknet block.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Block<T> {
    pub base: T,
    pub host_mask: T,
}

impl Block<u32> {
    #[inline]
    pub(crate) fn random(&self, rng: &mut Rng) -> u32 {
        self.base | (rng.next_u32() & self.host_mask)
    }
}

impl Block<u128> {
    #[inline]
    pub(crate) fn random(&self, rng: &mut Rng) -> u128 {
        let r = ((rng.next_u64() as u128) << 64) | rng.next_u64() as u128;
        self.base | (r & self.host_mask)
    }
}

/// TCP options a scanner sends with its SYNs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Opts {
    None,
    Mss,
    Linux,
}

/// One persistent scanning source.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Scanner {
    pub ip: u32,
    pub ttl: u8,
    /// 0: a random source port per probe.
    pub sport: u16,
    /// 0: a random window per probe.
    pub window: u16,
    pub opts: Opts,
    /// 0: ports drawn per probe from the table ("wide"); else the one port it scans.
    pub port: u16,
    pub df: bool,
}

/// Scanners of one kind, picked with Zipf weights (few heavy hitters, a long tail), plus a
/// share of one-off ("transient") sources drawn fresh from the pool.
pub(crate) struct ScannerSet {
    pub list: Vec<Scanner>,
    pick: Cumulative,
    transient: f64,
}

pub(crate) const TRANSIENT: u32 = (1 << 27) - 1;

impl ScannerSet {
    #[inline]
    pub(crate) fn choose(&self, rng: &mut Rng) -> u32 {
        if self.list.is_empty() || rng.chance(self.transient) {
            TRANSIENT
        } else {
            self.pick.pick(rng) as u32
        }
    }

    /// Probability that a probe of this set draws its port from the table.
    fn wide_share(&self) -> f64 {
        if self.pick.is_empty() {
            return 1.0;
        }
        let wide: f64 = (0..self.list.len())
            .filter(|&i| self.list[i].port == 0)
            .map(|i| self.pick.weight(i))
            .sum();
        self.transient + (1.0 - self.transient) * wide / self.pick.total()
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum ScanKind {
    Generic,
    Mirai,
    Masscan,
    Zmap,
}

/// How a victim answers the spoofed packets that reach it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Response {
    /// TCP SYN+ACK from an open port.
    SynAck,
    /// TCP RST+ACK (mostly) or bare RST from a closed port.
    Rst,
    /// ICMP destination unreachable quoting the attack packet (inner protocol UDP or TCP).
    Unreach { code: u8, inner: u8 },
    /// ICMP echo response (ping flood backscatter).
    EchoReply,
    /// ICMP time exceeded quoting the attack packet.
    TimeExceeded,
    /// ICMP timestamp response.
    TimestampReply,
    /// ICMPv6 destination unreachable (port unreachable) quoting the attack packet.
    Unreach6,
    /// TCP SYN+ACK over IPv6.
    SynAck6,
}

impl Response {
    pub(crate) fn transport(self) -> Transport {
        match self {
            Response::SynAck | Response::Rst | Response::SynAck6 => Transport::TCP,
            Response::Unreach6 => Transport::ICMPV6,
            _ => Transport::ICMP,
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum VictimIp {
    V4(u32),
    V6(u128),
}

impl VictimIp {
    pub(crate) fn ip(self) -> IpAddr {
        match self {
            VictimIp::V4(a) => IpAddr::V4(Ipv4Addr::from(a)),
            VictimIp::V6(a) => IpAddr::V6(Ipv6Addr::from(a)),
        }
    }
}

/// A host whose replies to spoofed traffic reach the darknet.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Victim {
    pub ip: VictimIp,
    pub response: Response,
    pub ttl: u8,
    /// The attacked service port (TCP source port of replies; quoted destination port).
    pub port: u16,
    pub ip_id: u16,
    pub window: u16,
    pub seed: u64,
}

impl Victim {
    fn draw(ip: VictimIp, response: Response, rng: &mut Rng) -> Victim {
        const SERVICES: &[(u16, u32)] = &[
            (80, 40),
            (443, 40),
            (53, 10),
            (22, 8),
            (25, 5),
            (3389, 5),
            (8080, 5),
            (27015, 5),
            (6667, 2),
            (3074, 3),
            (25565, 4),
        ];
        let origin = match response {
            // ICMP errors often come from routers that use 255; ICMP is exempt from high_ttl.
            Response::Unreach { .. } | Response::TimeExceeded | Response::Unreach6
                if rng.chance(0.4) =>
            {
                255
            }
            _ if rng.chance(0.6) => 64,
            _ => 128,
        };
        Victim {
            ip,
            response,
            ttl: origin - rng.range(3, 30) as u8,
            port: Weighted::new(SERVICES).pick(rng),
            ip_id: rng.next_u16(),
            window: [29200, 65535, 8192, 14600, 64240][rng.below(5) as usize],
            seed: rng.next_u64(),
        }
    }
}

/// A DoS attack seen through its backscatter: `n` packets from `t0` to `t0 + dur`, evenly
/// spaced with jitter below half the spacing (so times strictly increase).
#[derive(Copy, Clone, Debug)]
pub(crate) struct Attack {
    pub victim: Victim,
    pub t0: i64,
    pub dur: i64,
    pub n: u64,
}

impl Attack {
    #[inline]
    pub(crate) fn time(&self, i: u64) -> i64 {
        debug_assert!(i < self.n);
        if self.n == 1 {
            return self.t0;
        }
        let steps = (self.n - 1) as i128;
        let base = self.t0 + (i as i128 * self.dur as i128 / steps) as i64;
        if i == 0 || i + 1 == self.n {
            return base;
        }
        let half = (self.dur as i128 / steps) as u64 / 2;
        base + (hash2(self.victim.seed, i) % half.max(1)) as i64
    }

    /// First index whose time is >= t.
    pub(crate) fn lower_bound(&self, t: i64) -> u64 {
        let (mut lo, mut hi) = (0u64, self.n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.time(mid) < t {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    pub(crate) fn last(&self) -> i64 {
        self.time(self.n - 1)
    }
}

/// Distinct victim addresses: the k-th allocation is the permutation's k-th pool index.
pub(crate) struct VictimAlloc {
    perm: Permutation,
    next: u64,
    size: u64,
}

impl VictimAlloc {
    pub(crate) fn next(&mut self, pool: &Pool4) -> Option<u32> {
        while self.next < self.size {
            let a = pool.at(self.perm.apply(self.next));
            self.next += 1;
            if usable_v4_source(a) {
                return Some(a);
            }
        }
        None
    }
}

/// A surge: extra generic SYNs to one port during `first_hour..=last_hour`.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Surge {
    pub port: u16,
    pub first_hour: u32,
    pub last_hour: u32,
    pub factor: f64,
    /// Expected share of the surge port among the mixed (remainder) packets of an hour.
    pub normal_share: f64,
}

/// Categories of the per-hour mix (everything but attacks, minor backscatter and the surge).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cat {
    Generic,
    Mirai,
    Masscan,
    Zmap,
    Udp,
    Echo,
    Spoofed,
    Other,
    V6,
}

pub(crate) struct Plan {
    pub seed: u64,
    pub start_us: i64,
    pub hours: u32,
    pub hour_counts: Vec<u64>,
    pub sensor4: Block<u32>,
    pub sensor6: Block<u128>,
    /// Sources of scanners, probes and DoS victims.
    pub pool4: Pool4,
    /// Sources of Mirai-infected devices.
    pub iot4: Pool4,
    pub pool6: Option<Pool6>,
    pub generic: ScannerSet,
    pub mirai: ScannerSet,
    pub masscan: ScannerSet,
    pub zmap: ScannerSet,
    pub attacks: Vec<Attack>,
    /// In time order, never overlapping, each on its own port.
    pub surges: Vec<Surge>,
    pub victims: VictimAlloc,
    pub mix: Weighted<Cat>,
    pub tcp_ports: Weighted<u16>,
    pub udp_ports: Weighted<u16>,
}

fn block4(spec: &TrafficSpec) -> Result<Block<u32>, GenerateError> {
    let (addr, len) = spec.sensor_v4;
    if len > 30 {
        return Err(GenerateError::Spec(format!(
            "sensor IPv4 block {addr}/{len}: prefix must be /30 or shorter"
        )));
    }
    let host_mask = if len == 0 { u32::MAX } else { u32::MAX >> len };
    Ok(Block {
        base: u32::from(addr) & !host_mask,
        host_mask,
    })
}

fn block6(spec: &TrafficSpec) -> Result<Block<u128>, GenerateError> {
    let (addr, len) = spec.sensor_v6;
    if len > 126 {
        return Err(GenerateError::Spec(format!(
            "sensor IPv6 block {addr}/{len}: prefix must be /126 or shorter"
        )));
    }
    let host_mask = if len == 0 {
        u128::MAX
    } else {
        u128::MAX >> len
    };
    Ok(Block {
        base: u128::from(addr) & !host_mask,
        host_mask,
    })
}

/// Packets per hour following a daily sine (peak around 15:00 UTC), quieter weekends and a
/// level that drifts from week to week, summing to `packets`. No two weeks are alike, as on the
/// Internet, yet the level moves smoothly (the weekly levels are joined linearly between
/// mid-weeks), so that only the injected surges stand out. (Day-to-day and hour-to-hour noise
/// was tried: it made the detector raise false alarms on thin per-AS series.)
pub(crate) fn hour_counts(spec: &TrafficSpec) -> Vec<u64> {
    let start_secs = spec.start.secs();
    let weights: Vec<f64> = (0..spec.hours as i64)
        .map(|h| {
            let hour = (start_secs + h * 3600).div_euclid(3600);
            let hod = hour.rem_euclid(24) as f64 + 0.5;
            let day = hour.div_euclid(24);
            // 1970-01-01 was a Thursday: days 2 and 3 of each week since are the weekend.
            let weekend = matches!(day.rem_euclid(7), 2 | 3);
            let week = if weekend { WEEKEND_FACTOR } else { 1.0 };
            let diurnal =
                1.0 + DIURNAL_AMPLITUDE * (std::f64::consts::TAU * (hod - 9.0) / 24.0).sin();
            week * diurnal * weekly_level(spec.seed, hour as f64 + 0.5)
        })
        .collect();
    apportion(spec.packets, &weights)
}

/// Spread (log-normal sigma) of the weekly level.
const WEEK_LEVEL: f64 = 0.12;
const LABEL_WEEK: u64 = 0x5745_454B;

/// The traffic level at `hour` (hours since the epoch): each ISO week has a level of its own
/// (log-normal, the same for the same seed whatever the capture's start), and the level moves
/// linearly from one mid-week to the next.
fn weekly_level(seed: u64, hour: f64) -> f64 {
    // ISO weeks start on Monday, 1970-01-05 at hour 96; mid-week is 84 hours later.
    let weeks = (hour - 96.0 - 84.0) / 168.0;
    let w = weeks.floor();
    let t = weeks - w;
    let level = |w: f64| {
        let mut rng = Rng::stream(hash2(seed, LABEL_WEEK), w as i64 as u64);
        (WEEK_LEVEL * rng.normal()).exp()
    };
    level(w) * (1.0 - t) + level(w + 1.0) * t
}

/// Splits `total` into parts proportional to `weights` (cumulative rounding, so the parts sum
/// to `total` exactly).
pub(crate) fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    let mut acc = 0.0;
    let mut prev = 0u64;
    weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            acc += w;
            let upto = if i + 1 == weights.len() {
                total
            } else {
                ((total as f64 * acc / sum).round() as u64).min(total)
            };
            let n = upto.saturating_sub(prev);
            prev = prev.max(upto);
            n
        })
        .collect()
}

fn scanners(
    kind: ScanKind,
    count: usize,
    pool: &Pool4,
    ports: &Weighted<u16>,
    rng: &mut Rng,
) -> ScannerSet {
    let not_surge = |rng: &mut Rng| loop {
        let p = ports.pick(rng);
        if !SURGE_PORTS.contains(&p) {
            return p;
        }
    };
    let list = (0..count)
        .map(|_| {
            let ip = pool.source(rng);
            match kind {
                ScanKind::Generic => Scanner {
                    ip,
                    ttl: if rng.chance(0.5) { 64 } else { 128 } - rng.range(2, 34) as u8,
                    sport: if rng.chance(0.3) {
                        rng.range(1024, 65535) as u16
                    } else {
                        0
                    },
                    window: [1024, 5840, 14600, 29200, 64240, 65535][rng.below(6) as usize],
                    opts: [Opts::None, Opts::Mss, Opts::Linux][rng.below(3) as usize],
                    port: if rng.chance(0.5) { 0 } else { not_surge(rng) },
                    df: rng.chance(0.6),
                },
                ScanKind::Mirai => Scanner {
                    ip,
                    ttl: 64 - rng.range(2, 34) as u8,
                    sport: 0,
                    window: 0,
                    opts: Opts::None,
                    // 0: classic telnet (23, every ~10th to 2323); else a variant's port.
                    port: if rng.chance(0.75) {
                        0
                    } else {
                        [37215, 52869, 8080, 443][rng.below(4) as usize]
                    },
                    df: false,
                },
                ScanKind::Masscan => Scanner {
                    ip,
                    ttl: 255 - rng.range(0, 15) as u8,
                    sport: rng.range(32768, 61000) as u16,
                    window: 1024,
                    opts: Opts::Mss,
                    port: if rng.chance(0.4) { 0 } else { not_surge(rng) },
                    df: false,
                },
                ScanKind::Zmap => Scanner {
                    ip,
                    ttl: 255 - rng.range(0, 55) as u8,
                    sport: 0,
                    window: 65535,
                    opts: Opts::None,
                    port: if rng.chance(0.2) { 0 } else { not_surge(rng) },
                    df: false,
                },
            }
        })
        .collect::<Vec<_>>();
    let (s, transient) = match kind {
        ScanKind::Generic => (1.1, 0.25),
        ScanKind::Mirai => (0.6, 0.3),
        ScanKind::Masscan | ScanKind::Zmap => (1.3, 0.0),
    };
    ScannerSet {
        pick: Cumulative::zipf(list.len(), s),
        list,
        transient,
    }
}

/// Streaming RS-DoS check of one vector's (sorted) packet times: (packets, span, best
/// 60-s window, largest gap).
pub(crate) fn rsdos_stats(times: impl Iterator<Item = i64>) -> (u64, i64, u64, i64) {
    let mut n = 0u64;
    let (mut first, mut prev) = (0i64, 0i64);
    let mut gap = 0i64;
    let mut slots: std::collections::VecDeque<(i64, u64)> = Default::default();
    let mut best = 0u64;
    for t in times {
        if n == 0 {
            first = t;
        } else {
            gap = gap.max(t - prev);
        }
        prev = t;
        n += 1;
        let slot = t.div_euclid(10 * SEC_US);
        match slots.back_mut() {
            Some((s, c)) if *s == slot => *c += 1,
            _ => slots.push_back((slot, 1)),
        }
        while slots.front().is_some_and(|&(s, _)| s <= slot - 6) {
            slots.pop_front();
        }
        best = best.max(slots.iter().map(|s| s.1).sum());
    }
    (n, prev - first, best, gap)
}

fn attack_meets_thresholds_with_margin(a: &Attack) -> bool {
    let (n, span, best, gap) = rsdos_stats((0..a.n).map(|i| a.time(i)));
    n >= 40 && span >= 90 * SEC_US && best >= 40 && gap <= 60 * SEC_US
}

impl Plan {
    pub(crate) fn new(spec: &TrafficSpec, pool: &SourcePool) -> Result<Plan, GenerateError> {
        if spec.hours == 0 {
            return Err(GenerateError::Spec("hours must be at least 1".into()));
        }
        let start_us = spec.start.0;
        let end_us = (spec.hours as i64)
            .checked_mul(HOUR_US)
            .and_then(|d| start_us.checked_add(d));
        if start_us < 0 || end_us.is_none_or(|e| e / SEC_US > u32::MAX as i64) {
            return Err(GenerateError::Spec(
                "the capture must lie between 1970 and 2106 (pcap seconds are 32-bit)".into(),
            ));
        }
        let sensor4 = block4(spec)?;
        let sensor6 = block6(spec)?;
        let pool4 = pool.pool4(Profile::Scanners)?;
        let iot4 = pool.pool4(Profile::Iot)?;
        let pool6 = Pool6::new(&pool.v6)?;
        let seed = spec.seed;
        let n = spec.packets;
        let hour_counts = hour_counts(spec);
        let tcp_ports = Weighted::new(TCP_PORTS);
        let udp_ports = Weighted::new(UDP_PORTS);

        let mut rng = Rng::stream(seed, 1);
        let count = |div: u64, lo: u64, hi: u64| (n / div).clamp(lo, hi) as usize;
        let generic = scanners(
            ScanKind::Generic,
            count(400, 8, 3000),
            &pool4,
            &tcp_ports,
            &mut rng,
        );
        let mirai = scanners(
            ScanKind::Mirai,
            count(300, 8, 4000),
            &iot4,
            &tcp_ports,
            &mut rng,
        );
        let masscan = scanners(
            ScanKind::Masscan,
            count(20_000, 2, 60),
            &pool4,
            &tcp_ports,
            &mut rng,
        );
        let zmap = scanners(
            ScanKind::Zmap,
            count(20_000, 2, 60),
            &pool4,
            &tcp_ports,
            &mut rng,
        );

        let mix = Weighted::new(&[
            (Cat::Generic, 300),
            (Cat::Mirai, 140),
            (Cat::Masscan, 70),
            (Cat::Zmap, 40),
            (Cat::Udp, 90),
            (Cat::Echo, 30),
            (Cat::Spoofed, 50),
            (Cat::Other, 50),
            (Cat::V6, if pool6.is_some() { 30 } else { 0 }),
        ]);

        let normal_share = |port: u16| {
            mix.share(|c| c == Cat::Generic) * generic.wide_share() * tcp_ports.share(|p| p == port)
        };
        let surges = surges(spec, &mut Rng::stream(seed, 2), normal_share);

        // Attacks, placed so that no hour holds more attack packets than its cap.
        let mut victims = VictimAlloc {
            perm: Permutation::new(pool4.size(), seed),
            next: 0,
            size: pool4.size(),
        };
        let mut rng = Rng::stream(seed, 3);
        let mut cap: Vec<u64> = hour_counts
            .iter()
            .map(|&c| (c as f64 * ATTACK_HOUR_CAP) as u64)
            .collect();
        let budget = (n as f64 * ATTACK_SHARE) as u64;
        let k = (budget / MIN_ATTACK_PACKETS).min(12) as usize;
        let weights: Vec<f64> = (0..k).map(|_| (0.8 * rng.normal()).exp()).collect();
        let wsum: f64 = weights.iter().sum();
        let mut attacks = Vec::new();
        let span_us = spec.hours as i64 * HOUR_US;
        for (j, w) in weights.iter().enumerate() {
            let Some(ip) = victims.next(&pool4) else {
                break;
            };
            let response = match j {
                0 | 2 => Response::Unreach {
                    code: 3,
                    inner: crate::packets::PROTO_UDP,
                },
                1 => {
                    if rng.chance(0.5) {
                        Response::SynAck
                    } else {
                        Response::Rst
                    }
                }
                _ => match rng.below(10) {
                    0 => Response::EchoReply,
                    1 => Response::Unreach {
                        code: [1, 3, 10, 13][rng.below(4) as usize],
                        inner: if rng.chance(0.5) {
                            crate::packets::PROTO_UDP
                        } else {
                            crate::packets::PROTO_TCP
                        },
                    },
                    2..=5 => Response::SynAck,
                    _ => Response::Rst,
                },
            };
            let victim = Victim::draw(VictimIp::V4(ip), response, &mut rng);
            let size = ((budget as f64 * w / wsum) as u64).max(MIN_ATTACK_PACKETS);
            if let Some(a) = place(victim, size, start_us, span_us, &mut cap, &mut rng) {
                attacks.push(a);
            }
        }
        if let Some(p6) = &pool6 {
            let size = (n as f64 * 0.005) as u64;
            if size >= MIN_ATTACK_PACKETS {
                let response = if rng.chance(0.5) {
                    Response::Unreach6
                } else {
                    Response::SynAck6
                };
                let victim = Victim::draw(VictimIp::V6(p6.source(&mut rng)), response, &mut rng);
                if let Some(a) = place(victim, size, start_us, span_us, &mut cap, &mut rng) {
                    attacks.push(a);
                }
            }
        }

        Ok(Plan {
            seed,
            start_us,
            hours: spec.hours,
            hour_counts,
            sensor4,
            sensor6,
            pool4,
            iot4,
            pool6,
            generic,
            mirai,
            masscan,
            zmap,
            attacks,
            surges,
            victims,
            mix,
            tcp_ports,
            udp_ports,
        })
    }
}

/// Where the surges go. A short capture gets one, 5x for two hours in its second half; a
/// capture of nine days or more gets one per 36 hours after a week of warm-up (at most one per
/// surge port), each 1-3 hours long, in its own slot, with the sizes of [`SURGE_FACTORS`].
fn surges(spec: &TrafficSpec, rng: &mut Rng, normal_share: impl Fn(u16) -> f64) -> Vec<Surge> {
    let surge = |port: u16, first_hour: u32, last_hour: u32, factor: f64| Surge {
        port,
        first_hour,
        last_hour,
        factor,
        normal_share: normal_share(port),
    };
    if spec.hours < SEVERAL_SURGES_HOURS {
        let port = SURGE_PORTS[rng.below(SURGE_PORTS.len() as u64) as usize];
        let first_hour = match spec.hours {
            h if h >= 4 => h / 2 + rng.below((h - h / 2) as u64) as u32,
            h if h >= 2 => 1,
            _ => 0,
        };
        let last_hour = (first_hour + 1).min(spec.hours.saturating_sub(1));
        return vec![surge(port, first_hour, last_hour, SURGE_FACTORS[0])];
    }
    let span = spec.hours - SURGE_WARM_UP_HOURS;
    let n = (span / HOURS_PER_SURGE).min(SURGE_PORTS.len() as u32);
    let slot = span / n;
    let mut ports = SURGE_PORTS.to_vec();
    (0..n)
        .map(|i| {
            let port = ports.swap_remove(rng.below(ports.len() as u64) as usize);
            let hours = 1 + rng.below(3) as u32;
            let first_hour =
                SURGE_WARM_UP_HOURS + i * slot + rng.below((slot - hours) as u64) as u32;
            surge(
                port,
                first_hour,
                first_hour + hours - 1,
                SURGE_FACTORS[i as usize],
            )
        })
        .collect()
}

/// Chooses rate, duration and start for an attack of about `size` packets so that it fits
/// the per-hour caps, and verifies its thresholds; `None` if it cannot fit.
fn place(
    victim: Victim,
    size: u64,
    start_us: i64,
    span_us: i64,
    cap: &mut [u64],
    rng: &mut Rng,
) -> Option<Attack> {
    let max_secs = MAX_ATTACK_SECS.min((span_us / SEC_US) as f64 - 4.0);
    if max_secs < MIN_ATTACK_SECS {
        return None;
    }
    let mut size = size;
    for attempt in 0..24 {
        let mut secs = MIN_ATTACK_SECS * (max_secs / MIN_ATTACK_SECS).powf(rng.f64());
        let mut n = size;
        if n as f64 / secs > MAX_RATE {
            secs = (n as f64 / MAX_RATE).min(max_secs);
            n = n.min((MAX_RATE * secs) as u64);
        }
        if (n as f64 / secs) < MIN_RATE {
            secs = n as f64 / MIN_RATE;
        }
        let dur = (secs * SEC_US as f64) as i64;
        let t0 = start_us + SEC_US + rng.below((span_us - dur - 2 * SEC_US) as u64) as i64;
        let a = Attack { victim, t0, dur, n };
        let h0 = ((t0 - start_us) / HOUR_US) as usize;
        let h1 = ((a.last() - start_us) / HOUR_US) as usize;
        let counts: Vec<(usize, u64)> = (h0..=h1)
            .map(|h| {
                let hs = start_us + h as i64 * HOUR_US;
                (h, a.lower_bound(hs + HOUR_US) - a.lower_bound(hs))
            })
            .collect();
        if counts.iter().all(|&(h, c)| c <= cap[h]) && attack_meets_thresholds_with_margin(&a) {
            for (h, c) in counts {
                cap[h] -= c;
            }
            return Some(a);
        }
        if attempt % 4 == 3 {
            size = (size * 2 / 3).max(MIN_ATTACK_PACKETS);
        }
    }
    None
}
