//! Decoding and classification of one frame.

use crate::Frame;
use greenwatch_model::{Fingerprint, SpoofReason, Timestamp, TrafficClass, Transport};
use std::net::IpAddr;

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

/// Decodes and classifies one frame following `docs/classification.md`.
pub fn decode(frame: &Frame<'_>) -> Result<Packet, DecodeError> {
    let _ = frame;
    todo!("helper: packet crate")
}
