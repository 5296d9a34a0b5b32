//! Packet layer of Greenwatch: reads pcap and pcapng captures held in memory (usually a
//! memory map) frame by frame, and decodes each frame into a classified [`Packet`] following
//! `docs/classification.md`.
//!
//! Architecture invariant: no I/O here (callers hand in bytes) and no panics on any input.

mod capture;
mod decode;

pub use capture::{CaptureError, CaptureReader, Frame, LinkType};
pub use decode::{decode, DecodeError, Packet};
