//! Decoding and classification of one frame.
//!
//! Hand-written, bounds-checked parsing: every header read goes through a fixed-size array
//! taken with `get`, so no input can panic and the optimiser drops the per-field checks.

use crate::Frame;
use greenwatch_model::{Fingerprint, SpoofReason, Timestamp, TrafficClass, Transport};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A decoded, classified IP packet. Plain data: `Copy`, no borrow of the capture.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub ts: Timestamp,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub transport: Transport,
    /// TCP/UDP source port; ICMP type.
    pub src_port: u16,
    /// TCP/UDP destination port; ICMP code.
    pub dst_port: u16,
    pub wire_len: u32,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 identification (0 for IPv6).
    pub ip_id: u16,
    /// TCP flags byte (0 for other transports).
    pub tcp_flags: u8,
    pub tcp_window: u16,
    pub tcp_seq: u32,
    pub class: TrafficClass,
    pub fingerprint: Option<Fingerprint>,
    pub spoof_reason: Option<SpoofReason>,
}

/// Why a frame yields no packet; counted by reason in the ingest summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not an IP packet")]
    NotIp,
    #[error("truncated {0} header")]
    Truncated(&'static str),
    #[error("unsupported link type {0}")]
    UnsupportedLinkType(u32),
}

impl DecodeError {
    /// Stable key for error counts (`errors.<key>` in summaries).
    pub fn key(&self) -> &'static str {
        match self {
            Self::NotIp => "not_ip",
            Self::Truncated(_) => "truncated",
            Self::UnsupportedLinkType(_) => "unsupported_link_type",
        }
    }
}

/// TCP flag bits that the rules look at (URG, ECE, CWR are ignored everywhere).
pub const TCP_FIN: u8 = 0x01;
pub const TCP_SYN: u8 = 0x02;
pub const TCP_RST: u8 = 0x04;
pub const TCP_PSH: u8 = 0x08;
pub const TCP_ACK: u8 = 0x10;
const TCP_RULE_MASK: u8 = TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_ACK;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

#[inline(always)]
fn arr<const N: usize>(d: &[u8], at: usize) -> Option<&[u8; N]> {
    d.get(at..)?.get(..N)?.try_into().ok()
}

#[inline(always)]
fn be16(b: [u8; 2]) -> u16 {
    u16::from_be_bytes(b)
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Ip {
    V4,
    V6,
}

/// The header fields the classification rules read, before classification.
///
/// Public so that other code (a traffic generator, a test) can apply the very same rules
/// with [`classify`] to packets it describes field by field.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Headers {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub transport: Transport,
    pub src_port: u16,
    pub dst_port: u16,
    pub ttl: u8,
    pub ip_id: u16,
    pub tcp_flags: u8,
    pub tcp_seq: u32,
    /// IPv4 MF flag or non-zero fragment offset; IPv6 Fragment header present.
    pub fragment: bool,
}

/// The outcome of the rules in `docs/classification.md` for one packet.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub class: TrafficClass,
    pub fingerprint: Option<Fingerprint>,
    pub spoof_reason: Option<SpoofReason>,
}

/// Scanner fingerprint (rule 1): only IPv4 TCP with flags exactly SYN.
#[inline]
pub fn fingerprint(h: &Headers) -> Option<Fingerprint> {
    let IpAddr::V4(dst) = h.dst else {
        return None;
    };
    if h.transport != Transport::TCP || h.tcp_flags & TCP_RULE_MASK != TCP_SYN {
        return None;
    }
    let dst = u32::from(dst);
    if h.tcp_seq == dst {
        Some(Fingerprint::Mirai)
    } else if h.ip_id as u32 == (dst ^ h.dst_port as u32 ^ h.tcp_seq) & 0xffff {
        Some(Fingerprint::Masscan)
    } else if h.ip_id == 54321 {
        Some(Fingerprint::Zmap)
    } else {
        None
    }
}

/// TCP flag combinations that are not `abnormal_tcp_flags` (after masking URG/ECE/CWR).
#[inline]
fn normal_tcp_flags(f: u8) -> bool {
    matches!(
        f,
        TCP_SYN
            | TCP_ACK
            | TCP_RST
            | TCP_FIN
            // SYN+FIN
            | 0x03
            // SYN+ACK
            | 0x12
            // FIN+ACK
            | 0x11
            // ACK+PSH
            | 0x18
            // FIN+ACK+PSH
            | 0x19
            // RST+ACK
            | 0x14
    )
}

/// Likely-spoofed rule (rule 2), first matching reason in order.
#[inline]
pub fn spoof_reason(h: &Headers, fp: Option<Fingerprint>) -> Option<SpoofReason> {
    if h.fragment {
        return Some(SpoofReason::Fragment);
    }
    if h.src == h.dst {
        return Some(SpoofReason::SourceIsDestination);
    }
    if let IpAddr::V4(s) = h.src {
        let last = s.octets()[3];
        if last == 0 || last == 255 {
            return Some(SpoofReason::SourceLastByte);
        }
    }
    let tcp = h.transport == Transport::TCP;
    if (tcp || h.transport == Transport::UDP) && (h.src_port == 0 || h.dst_port == 0) {
        return Some(SpoofReason::PortZero);
    }
    if tcp && !normal_tcp_flags(h.tcp_flags & TCP_RULE_MASK) {
        return Some(SpoofReason::AbnormalTcpFlags);
    }
    if h.ttl >= 200
        && !h.transport.is_icmp()
        && !matches!(fp, Some(Fingerprint::Masscan | Fingerprint::Zmap))
    {
        return Some(SpoofReason::HighTtl);
    }
    None
}

/// Applies every rule of `docs/classification.md` in order: fingerprint, spoofed,
/// backscatter, scan, other.
#[inline]
pub fn classify(h: &Headers) -> Verdict {
    let fp = fingerprint(h);
    if let Some(reason) = spoof_reason(h, fp) {
        return Verdict {
            class: TrafficClass::Spoofed,
            fingerprint: None,
            spoof_reason: Some(reason),
        };
    }
    let class = match h.transport {
        Transport::TCP => match h.tcp_flags & TCP_RULE_MASK {
            0x12 | TCP_RST | 0x14 => TrafficClass::Backscatter,
            TCP_SYN => TrafficClass::Scan,
            _ => TrafficClass::Other,
        },
        Transport::UDP => TrafficClass::Scan,
        Transport::ICMP => match h.src_port {
            0 | 3 | 4 | 5 | 11 | 12 | 14 | 16 | 18 => TrafficClass::Backscatter,
            8 => TrafficClass::Scan,
            _ => TrafficClass::Other,
        },
        Transport::ICMPV6 => match h.src_port {
            1..=4 | 129 => TrafficClass::Backscatter,
            128 => TrafficClass::Scan,
            _ => TrafficClass::Other,
        },
        _ => TrafficClass::Other,
    };
    Verdict {
        class,
        fingerprint: fp,
        spoof_reason: None,
    }
}

/// Decodes and classifies one frame following `docs/classification.md`.
///
/// Errors: [`DecodeError::NotIp`] for non-IP frames (ARP, LLDP, an unknown loopback family, an
/// IP header whose version nibble disagrees with the link layer); [`DecodeError::Truncated`]
/// naming the layer (`ethernet`, `vlan`, `sll`, `sll2`, `null`, `ipv4`, `ipv6`, `tcp`, `udp`,
/// `icmp`, `icmp6`) whose header is cut short or whose length field is impossible;
/// [`DecodeError::UnsupportedLinkType`] otherwise.
#[inline]
pub fn decode(frame: &Frame<'_>) -> Result<Packet, DecodeError> {
    let d = frame.data;
    let (ip, l3) = match frame.link_type.0 {
        1 => ethernet(d)?,
        113 => {
            let h = arr::<16>(d, 0).ok_or(DecodeError::Truncated("sll"))?;
            (ethertype(be16([h[14], h[15]]))?, &d[16..])
        }
        276 => {
            let h = arr::<20>(d, 0).ok_or(DecodeError::Truncated("sll2"))?;
            (ethertype(be16([h[0], h[1]]))?, &d[20..])
        }
        101 | 12 | 14 => match d.first().map(|b| b >> 4) {
            Some(4) => (Ip::V4, d),
            Some(6) => (Ip::V6, d),
            Some(_) => return Err(DecodeError::NotIp),
            None => return Err(DecodeError::Truncated("ipv4")),
        },
        228 => (Ip::V4, d),
        229 => (Ip::V6, d),
        0 | 108 => {
            let h = arr::<4>(d, 0).ok_or(DecodeError::Truncated("null"))?;
            // DLT_NULL is in the capturing host's byte order, DLT_LOOP big-endian: accept both.
            let fam = u32::from_le_bytes(*h);
            let fam = if fam > 0xffff { fam.swap_bytes() } else { fam };
            let ip = match fam {
                2 => Ip::V4,
                // AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, Darwin.
                10 | 24 | 28 | 30 => Ip::V6,
                _ => return Err(DecodeError::NotIp),
            };
            (ip, &d[4..])
        }
        other => return Err(DecodeError::UnsupportedLinkType(other)),
    };
    let h = match ip {
        Ip::V4 => ipv4(l3)?,
        Ip::V6 => ipv6(l3)?,
    };
    let (h, tcp_window) = h;
    let v = classify(&h);
    Ok(Packet {
        ts: frame.ts,
        src: h.src,
        dst: h.dst,
        transport: h.transport,
        src_port: h.src_port,
        dst_port: h.dst_port,
        wire_len: frame.wire_len,
        ttl: h.ttl,
        ip_id: h.ip_id,
        tcp_flags: h.tcp_flags,
        tcp_window,
        tcp_seq: h.tcp_seq,
        class: v.class,
        fingerprint: v.fingerprint,
        spoof_reason: v.spoof_reason,
    })
}

#[inline(always)]
fn ethertype(t: u16) -> Result<Ip, DecodeError> {
    match t {
        ETHERTYPE_IPV4 => Ok(Ip::V4),
        ETHERTYPE_IPV6 => Ok(Ip::V6),
        _ => Err(DecodeError::NotIp),
    }
}

#[inline(always)]
fn ethernet(d: &[u8]) -> Result<(Ip, &[u8]), DecodeError> {
    let h = arr::<14>(d, 0).ok_or(DecodeError::Truncated("ethernet"))?;
    let mut t = be16([h[12], h[13]]);
    let mut off = 14;
    // 802.1Q / 802.1ad tags; a small bound keeps hostile stacks of tags cheap.
    let mut tags = 0;
    while matches!(t, ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD) {
        tags += 1;
        if tags > 8 {
            return Err(DecodeError::NotIp);
        }
        let v = arr::<4>(d, off).ok_or(DecodeError::Truncated("vlan"))?;
        t = be16([v[2], v[3]]);
        off += 4;
    }
    Ok((ethertype(t)?, &d[off..]))
}

/// Transport fields: (src_port, dst_port, tcp_flags, tcp_seq, tcp_window).
type L4 = (u16, u16, u8, u32, u16);

#[inline(always)]
fn transport(proto: u8, l4: &[u8]) -> Result<L4, DecodeError> {
    match proto {
        6 => {
            let t = arr::<20>(l4, 0).ok_or(DecodeError::Truncated("tcp"))?;
            let doff = (t[12] >> 4) as usize * 4;
            if doff < 20 || l4.len() < doff {
                return Err(DecodeError::Truncated("tcp"));
            }
            Ok((
                be16([t[0], t[1]]),
                be16([t[2], t[3]]),
                t[13],
                u32::from_be_bytes([t[4], t[5], t[6], t[7]]),
                be16([t[14], t[15]]),
            ))
        }
        17 => {
            let u = arr::<8>(l4, 0).ok_or(DecodeError::Truncated("udp"))?;
            Ok((be16([u[0], u[1]]), be16([u[2], u[3]]), 0, 0, 0))
        }
        1 | 58 => {
            let i = arr::<8>(l4, 0).ok_or(DecodeError::Truncated(if proto == 1 {
                "icmp"
            } else {
                "icmp6"
            }))?;
            Ok((i[0] as u16, i[1] as u16, 0, 0, 0))
        }
        _ => Ok((0, 0, 0, 0, 0)),
    }
}

/// Transport fields of the first fragment of a fragmented datagram: taken when the header is
/// all there, zero otherwise (the packet is spoofed/fragment either way).
#[inline]
fn transport_lenient(proto: u8, l4: &[u8]) -> L4 {
    transport(proto, l4).unwrap_or((0, 0, 0, 0, 0))
}

#[inline(always)]
fn ipv4(d: &[u8]) -> Result<(Headers, u16), DecodeError> {
    let h = arr::<20>(d, 0).ok_or(DecodeError::Truncated("ipv4"))?;
    if h[0] >> 4 != 4 {
        return Err(DecodeError::NotIp);
    }
    let ihl = (h[0] & 0x0f) as usize * 4;
    if ihl < 20 || d.len() < ihl {
        return Err(DecodeError::Truncated("ipv4"));
    }
    let total = be16([h[2], h[3]]) as usize;
    // Bound the payload by the IP total length (drops Ethernet padding) unless the field is
    // unusable (0 with TSO, or larger than what was captured).
    let end = if total >= ihl && total <= d.len() {
        total
    } else {
        d.len()
    };
    let l4 = &d[ihl..end];
    let frag = be16([h[6], h[7]]);
    let mf = frag & 0x2000 != 0;
    let foff = frag & 0x1fff;
    let proto = h[9];
    let (sp, dp, fl, seq, win) = if foff != 0 {
        (0, 0, 0, 0, 0)
    } else if mf {
        transport_lenient(proto, l4)
    } else {
        transport(proto, l4)?
    };
    Ok((
        Headers {
            src: IpAddr::V4(Ipv4Addr::new(h[12], h[13], h[14], h[15])),
            dst: IpAddr::V4(Ipv4Addr::new(h[16], h[17], h[18], h[19])),
            transport: Transport(proto),
            src_port: sp,
            dst_port: dp,
            ttl: h[8],
            ip_id: be16([h[4], h[5]]),
            tcp_flags: fl,
            tcp_seq: seq,
            fragment: mf || foff != 0,
        },
        win,
    ))
}

#[inline(always)]
fn ipv6(d: &[u8]) -> Result<(Headers, u16), DecodeError> {
    let h = arr::<40>(d, 0).ok_or(DecodeError::Truncated("ipv6"))?;
    if h[0] >> 4 != 6 {
        return Err(DecodeError::NotIp);
    }
    let plen = be16([h[4], h[5]]) as usize;
    let end = if plen > 0 && 40 + plen <= d.len() {
        40 + plen
    } else {
        d.len()
    };
    let body = &d[..end];
    let mut next = h[6];
    let mut off = 40;
    let mut fragment = false;
    let mut first_fragment = true;
    // Walk hop-by-hop, routing, fragment and destination-options headers.
    loop {
        match next {
            0 | 43 | 60 => {
                let e = arr::<2>(body, off).ok_or(DecodeError::Truncated("ipv6"))?;
                let len = (e[1] as usize + 1) * 8;
                if body.len() < off + len {
                    return Err(DecodeError::Truncated("ipv6"));
                }
                next = e[0];
                off += len;
            }
            44 => {
                let f = arr::<8>(body, off).ok_or(DecodeError::Truncated("ipv6"))?;
                fragment = true;
                next = f[0];
                off += 8;
                if be16([f[2], f[3]]) >> 3 != 0 {
                    // Non-first fragment: what follows is payload, not headers.
                    first_fragment = false;
                    break;
                }
            }
            _ => break,
        }
    }
    let l4 = &body[off..];
    let (sp, dp, fl, seq, win) = if !first_fragment {
        (0, 0, 0, 0, 0)
    } else if fragment {
        transport_lenient(next, l4)
    } else {
        transport(next, l4)?
    };
    let src: [u8; 16] = h[8..24]
        .try_into()
        .map_err(|_| DecodeError::Truncated("ipv6"))?;
    let dst: [u8; 16] = h[24..40]
        .try_into()
        .map_err(|_| DecodeError::Truncated("ipv6"))?;
    Ok((
        Headers {
            src: IpAddr::V6(Ipv6Addr::from(src)),
            dst: IpAddr::V6(Ipv6Addr::from(dst)),
            transport: Transport(next),
            src_port: sp,
            dst_port: dp,
            ttl: h[7],
            ip_id: 0,
            tcp_flags: fl,
            tcp_seq: seq,
            fragment,
        },
        win,
    ))
}

#[cfg(test)]
mod tests;
