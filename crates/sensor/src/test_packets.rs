//! Packets for the crate's unit tests.

use greenwatch_model::{Timestamp, TrafficClass, Transport};
use greenwatch_packet::Packet;

/// A TCP SYN scan from `src` to 198.51.100.9:`port` at `secs`.
pub(crate) fn scan(src: &str, port: u16, secs: i64) -> Packet {
    Packet {
        ts: Timestamp::from_secs(secs),
        src: src.parse().unwrap(),
        dst: "198.51.100.9".parse().unwrap(),
        transport: Transport::TCP,
        src_port: 40000,
        dst_port: port,
        wire_len: 60,
        ttl: 52,
        ip_id: 1,
        tcp_flags: 0x02,
        tcp_window: 1024,
        tcp_seq: 9,
        class: TrafficClass::Scan,
        fingerprint: None,
        spoof_reason: None,
    }
}
