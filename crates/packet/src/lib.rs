//! Packet layer of Greenwatch: reads pcap and pcapng captures held in memory (usually a
//! memory map) frame by frame, and decodes each frame into a classified [`Packet`] following
//! `docs/classification.md`.
//!
//! Architecture invariant: no I/O here (callers hand in bytes) and no panics on any input.
//!
//! Choices where `docs/classification.md` leaves room (the generator in `crates/generate`
//! makes the same ones):
//! - "flags exactly SYN" and every flag rule look at FIN/SYN/RST/PSH/ACK only (URG, ECE, CWR
//!   masked off), so an ECN-setup SYN (SYN+ECE+CWR) is a plain SYN; [`Packet::tcp_flags`]
//!   keeps the full byte.
//! - An ICMP/ICMPv6 header needs its 8 bytes, a TCP header its full data offset (options
//!   included), a UDP header 8 bytes; less is [`DecodeError::Truncated`].
//! - The first fragment of a fragmented datagram takes its ports from the transport header
//!   when that header is all there (zero otherwise); later fragments have ports 0. Both are
//!   `spoofed`/`fragment`.
//! - An IP header whose version nibble contradicts the link layer is [`DecodeError::NotIp`];
//!   an IPv4 IHL below 5 or past the captured bytes is `Truncated("ipv4")`.
//! - Frames from pcapng Simple Packet Blocks (which carry no timestamp) get timestamp 0 plus
//!   the interface's `if_tsoffset`.
//! - The reader is hand-written (no pcap-parser): legacy pcap in both byte orders, micro- and
//!   nanosecond magic and the libpcap "modified" variant; pcapng sections in both byte orders
//!   with per-interface link type, `if_tsresol` and `if_tsoffset`.

mod capture;
mod decode;

pub use capture::{CaptureError, CaptureFormat, CaptureReader, Frame, LinkType, MAX_CAPLEN};
pub use decode::{
    classify, decode, fingerprint, spoof_reason, DecodeError, Headers, Packet, Verdict, TCP_ACK,
    TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN,
};
