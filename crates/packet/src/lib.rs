//! Packet layer of Greenwatch: reads pcap and pcapng captures held in memory (usually a
//! memory map) frame by frame, and decodes each frame into a classified [`Packet`] following
//! `docs/classification.md`.
//!
//! Architecture invariant: no I/O here (callers hand in bytes) and no panics on any input.

mod capture;
mod decode;

pub use capture::{CaptureError, CaptureFormat, CaptureReader, Frame, LinkType, MAX_CAPLEN};
pub use decode::{
    classify, decode, fingerprint, spoof_reason, DecodeError, Headers, Packet, Verdict, TCP_ACK,
    TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN,
};
