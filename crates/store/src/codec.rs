//! Binary encoding for the embedded store: flow tuples, rollups and backscatter slots are
//! stored as LZ4-compressed BLOBs of little-endian records, one BLOB per segment (addresses
//! take 5 bytes for IPv4 and 17 for IPv6; everything else is fixed width).
//! That writes and scans far faster than one SQL row per record (a day of a /16 darknet is
//! millions of flow tuples); IPv4 addresses in 16-byte fields and small counters compress well.

use crate::StoreError;
use greenwatch_model::{
    CountryCode, Enrichment, Fingerprint, RiskEvent, Timestamp, TrafficClass, Transport,
};
use greenwatch_observe::{BackscatterSlot, FlowTuple, Rollup, RollupDim};
use std::net::IpAddr;

/// A value stored as a record. `bucket` is the segment's bucket, for records that do not
/// carry their own time.
pub trait Record: Sized {
    /// Upper bound of one record's size, for buffer sizing.
    const MAX_LEN: usize;
    fn write(&self, w: &mut Vec<u8>);
    fn read(r: &mut Reader<'_>, bucket: i64) -> Result<Self, String>;
}

/// Encodes `items` into `out` (replacing its content), compressed.
pub fn encode<T: Record>(items: &[T], out: &mut Vec<u8>) {
    let mut raw = Vec::with_capacity(items.len() * T::MAX_LEN);
    for item in items {
        item.write(&mut raw);
    }
    *out = lz4_flex::compress_prepend_size(&raw);
}

/// Decodes a segment, calling `visit` for each record.
pub fn decode<T: Record>(
    what: &str,
    bucket: i64,
    compressed: &[u8],
    visit: &mut dyn FnMut(&T),
) -> Result<(), StoreError> {
    let corrupt =
        |why: String| StoreError::Corrupt(format!("{what} segment of bucket {bucket}: {why}"));
    let data =
        lz4_flex::decompress_size_prepended(compressed).map_err(|e| corrupt(e.to_string()))?;
    let mut reader = Reader { rest: &data };
    while !reader.rest.is_empty() {
        let offset = data.len() - reader.rest.len();
        let item = T::read(&mut reader, bucket)
            .map_err(|e| corrupt(format!("record at byte {offset}: {e}")))?;
        visit(&item);
    }
    Ok(())
}

/// Cursor over a segment's bytes; every read is bounds-checked.
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        if self.rest.len() < N {
            return Err(format!(
                "cut short ({} bytes left, {N} needed)",
                self.rest.len()
            ));
        }
        let (head, rest) = self.rest.split_at(N);
        self.rest = rest;
        Ok(head.try_into().expect("split_at gave N bytes"))
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_le_bytes(self.take()?))
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_le_bytes(self.take()?))
    }
    /// An address written by [`put_addr`].
    fn addr(&mut self) -> Result<IpAddr, String> {
        match self.u8()? {
            4 => Ok(IpAddr::V4(u32::from_le_bytes(self.take()?).into())),
            6 => Ok(IpAddr::V6(u128::from_le_bytes(self.take()?).into())),
            other => Err(format!("address tag {other}")),
        }
    }
    fn class(&mut self) -> Result<TrafficClass, String> {
        let code = self.u8()?;
        TrafficClass::from_code(code).ok_or_else(|| format!("class code {code}"))
    }
}

/// A tag (4 or 6), then the address as a little-endian u32 or u128.
fn put_addr(w: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(a) => {
            w.push(4);
            w.extend_from_slice(&u32::from(a).to_le_bytes());
        }
        IpAddr::V6(a) => {
            w.push(6);
            w.extend_from_slice(&u128::from(a).to_le_bytes());
        }
    }
}

/// A flow record whose two addresses are IPv4: tags and addresses 5 + 5, port 2, transport,
/// class and fingerprint 3, ASN 4, country 2, packets and bytes 16, destinations 2, TTL 1,
/// window 2, length 2.
const V4_FLOW_LEN: usize = 44;

impl Record for FlowTuple {
    const MAX_LEN: usize = 17 + 17 + 2 + 1 + 1 + 1 + 4 + 2 + 8 + 8 + 2 + 1 + 2 + 2;

    fn write(&self, w: &mut Vec<u8>) {
        // Assembled on the stack and appended once: writing field by field into the vector
        // checked its capacity per field (a sensor encodes a flow tuple per packet).
        let mut record = [0u8; Self::MAX_LEN];
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            record[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        for ip in [self.src, self.dst_net] {
            match ip {
                IpAddr::V4(a) => {
                    put(&[4]);
                    put(&u32::from(a).to_le_bytes());
                }
                IpAddr::V6(a) => {
                    put(&[6]);
                    put(&u128::from(a).to_le_bytes());
                }
            }
        }
        put(&self.dst_port.to_le_bytes());
        put(&[
            self.transport.0,
            self.class.code(),
            self.fingerprint.map_or(0, Fingerprint::code),
        ]);
        put(&self.src_asn.to_le_bytes());
        put(&self.src_country.0);
        put(&self.packets.to_le_bytes());
        put(&self.bytes.to_le_bytes());
        put(&self.unique_dsts.to_le_bytes());
        put(&[self.first_ttl]);
        put(&self.first_tcp_window.to_le_bytes());
        put(&self.first_len.to_le_bytes());
        w.extend_from_slice(&record[..at]);
    }

    fn read(r: &mut Reader<'_>, bucket: i64) -> Result<Self, String> {
        // Nearly every record of a darknet has two IPv4 addresses: one fixed layout, read
        // with one bounds check instead of one per field (reading segments is most of what a
        // cold page costs).
        if r.rest.len() >= V4_FLOW_LEN && r.rest[0] == 4 && r.rest[5] == 4 {
            let b: [u8; V4_FLOW_LEN] = r.take()?;
            let le16 = |at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
            let le32 = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"));
            let le64 = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
            return Ok(FlowTuple {
                bucket,
                src: IpAddr::V4(le32(1).into()),
                dst_net: IpAddr::V4(le32(6).into()),
                dst_port: le16(10),
                transport: Transport(b[12]),
                class: TrafficClass::from_code(b[13])
                    .ok_or_else(|| format!("class code {}", b[13]))?,
                fingerprint: Fingerprint::from_code(b[14]),
                src_asn: le32(15),
                src_country: CountryCode([b[19], b[20]]),
                packets: le64(21),
                bytes: le64(29),
                unique_dsts: le16(37),
                first_ttl: b[39],
                first_tcp_window: le16(40),
                first_len: le16(42),
            });
        }
        Ok(FlowTuple {
            bucket,
            src: r.addr()?,
            dst_net: r.addr()?,
            dst_port: r.u16()?,
            transport: Transport(r.u8()?),
            class: r.class()?,
            fingerprint: Fingerprint::from_code(r.u8()?),
            src_asn: r.u32()?,
            src_country: CountryCode(r.take()?),
            packets: r.u64()?,
            bytes: r.u64()?,
            unique_dsts: r.u16()?,
            first_ttl: r.u8()?,
            first_tcp_window: r.u16()?,
            first_len: r.u16()?,
        })
    }
}

impl Record for Rollup {
    const MAX_LEN: usize = 1 + 1 + 2 + 2 + 4 + 1 + 8 + 8 + 8;

    fn write(&self, w: &mut Vec<u8>) {
        let (kind, transport, port, country, asn) = match self.dim {
            RollupDim::Port { transport, port } => (0, transport.0, port, CountryCode::UNKNOWN, 0),
            RollupDim::Country { country } => (1, 0, 0, country, 0),
            RollupDim::Asn { asn } => (2, 0, 0, CountryCode::UNKNOWN, asn),
        };
        w.push(kind);
        w.push(transport);
        w.extend_from_slice(&port.to_le_bytes());
        w.extend_from_slice(&country.0);
        w.extend_from_slice(&asn.to_le_bytes());
        w.push(self.class.code());
        w.extend_from_slice(&self.packets.to_le_bytes());
        w.extend_from_slice(&self.bytes.to_le_bytes());
        w.extend_from_slice(&self.sources.to_le_bytes());
    }

    fn read(r: &mut Reader<'_>, bucket: i64) -> Result<Self, String> {
        let (kind, transport, port, country, asn) = (
            r.u8()?,
            Transport(r.u8()?),
            r.u16()?,
            CountryCode(r.take()?),
            r.u32()?,
        );
        let dim = match kind {
            0 => RollupDim::Port { transport, port },
            1 => RollupDim::Country { country },
            2 => RollupDim::Asn { asn },
            other => return Err(format!("rollup kind {other}")),
        };
        Ok(Rollup {
            bucket,
            dim,
            class: r.class()?,
            packets: r.u64()?,
            bytes: r.u64()?,
            sources: r.u64()?,
        })
    }
}

impl Record for BackscatterSlot {
    const MAX_LEN: usize = 17 + 1 + 8 + 4 + 2 + 8 + 8 + 8 + 8;

    fn write(&self, w: &mut Vec<u8>) {
        put_addr(w, self.victim);
        w.push(self.transport.0);
        w.extend_from_slice(&self.slot.to_le_bytes());
        w.extend_from_slice(&self.victim_asn.to_le_bytes());
        w.extend_from_slice(&self.victim_country.0);
        w.extend_from_slice(&self.packets.to_le_bytes());
        w.extend_from_slice(&self.bytes.to_le_bytes());
        w.extend_from_slice(&self.first.0.to_le_bytes());
        w.extend_from_slice(&self.last.0.to_le_bytes());
    }

    fn read(r: &mut Reader<'_>, _bucket: i64) -> Result<Self, String> {
        Ok(BackscatterSlot {
            victim: r.addr()?,
            transport: Transport(r.u8()?),
            slot: r.i64()?,
            victim_asn: r.u32()?,
            victim_country: CountryCode(r.take()?),
            packets: r.u64()?,
            bytes: r.u64()?,
            first: Timestamp(r.i64()?),
            last: Timestamp(r.i64()?),
        })
    }
}

impl Record for RiskEvent {
    const MAX_LEN: usize = 17 + 2 + 8 + 8 + 4 + 2 + 4 + 2;

    fn write(&self, w: &mut Vec<u8>) {
        put_addr(w, self.ip);
        w.extend_from_slice(&self.port.to_le_bytes());
        w.extend_from_slice(&self.time.0.to_le_bytes());
        w.extend_from_slice(&self.line.to_le_bytes());
        w.extend_from_slice(&self.feed_asn.to_le_bytes());
        w.extend_from_slice(&self.feed_country.0);
        w.extend_from_slice(&self.enrichment.asn.to_le_bytes());
        w.extend_from_slice(&self.enrichment.country.0);
    }

    fn read(r: &mut Reader<'_>, _day: i64) -> Result<Self, String> {
        Ok(RiskEvent {
            ip: r.addr()?,
            port: r.u16()?,
            time: Timestamp(r.i64()?),
            line: r.u64()?,
            feed_asn: r.u32()?,
            feed_country: CountryCode(r.take()?),
            enrichment: Enrichment {
                asn: r.u32()?,
                country: CountryCode(r.take()?),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Record + Clone + PartialEq + std::fmt::Debug>(items: Vec<T>, bucket: i64) {
        let mut buf = Vec::new();
        encode(&items, &mut buf);
        let mut back = Vec::new();
        decode::<T>("test", bucket, &buf, &mut |t| back.push(t.clone())).unwrap();
        assert_eq!(back, items);
    }

    #[test]
    fn records_round_trip_for_ipv4_and_ipv6() {
        let flow = FlowTuple {
            bucket: 3600,
            src: "1.2.3.4".parse().unwrap(),
            dst_net: "198.18.7.0".parse().unwrap(),
            dst_port: 23,
            transport: Transport::TCP,
            class: TrafficClass::Scan,
            fingerprint: Some(Fingerprint::Mirai),
            src_asn: 4134,
            src_country: "CN".parse().unwrap(),
            packets: u64::MAX,
            bytes: 1 << 40,
            unique_dsts: 256,
            first_ttl: 51,
            first_tcp_window: 14600,
            first_len: 60,
        };
        let v6 = FlowTuple {
            src: "2001:db8::1".parse().unwrap(),
            dst_net: "2001:db8:5e::".parse().unwrap(),
            fingerprint: None,
            src_country: CountryCode::UNKNOWN,
            ..flow.clone()
        };
        // Mixed families take the field-by-field path; two IPv4 addresses the fixed layout.
        let mixed = FlowTuple {
            dst_net: "2001:db8:5e::".parse().unwrap(),
            ..flow.clone()
        };
        let mixed_back = FlowTuple {
            src: "2001:db8::9".parse().unwrap(),
            ..flow.clone()
        };
        let small = FlowTuple {
            packets: 1,
            bytes: 40,
            unique_dsts: 1,
            fingerprint: None,
            ..flow.clone()
        };
        round_trip(
            vec![
                flow.clone(),
                v6,
                mixed,
                small.clone(),
                mixed_back,
                flow.clone(),
            ],
            3600,
        );
        // A bad class code in the fixed layout is an error naming the record, not a panic.
        let mut buf = Vec::new();
        encode(&[flow.clone(), small], &mut buf);
        let mut raw = lz4_flex::decompress_size_prepended(&buf).unwrap();
        assert_eq!(raw.len(), 2 * V4_FLOW_LEN);
        raw[V4_FLOW_LEN + 13] = 9;
        let bad = lz4_flex::compress_prepend_size(&raw);
        let err = decode::<FlowTuple>("flow", 3600, &bad, &mut |_| {}).unwrap_err();
        assert!(
            err.to_string().contains("record at byte 44: class code 9"),
            "{err}"
        );
        let rollups = vec![
            Rollup {
                bucket: 7200,
                dim: RollupDim::Port {
                    transport: Transport::UDP,
                    port: 53,
                },
                class: TrafficClass::Scan,
                packets: 5,
                bytes: 300,
                sources: 2,
            },
            Rollup {
                bucket: 7200,
                dim: RollupDim::Country {
                    country: "JP".parse().unwrap(),
                },
                class: TrafficClass::Other,
                packets: 1,
                bytes: 60,
                sources: 1,
            },
            Rollup {
                bucket: 7200,
                dim: RollupDim::Asn { asn: 2500 },
                class: TrafficClass::Backscatter,
                packets: 9,
                bytes: 540,
                sources: 3,
            },
        ];
        round_trip(rollups, 7200);
        let event = RiskEvent {
            ip: "203.0.113.9".parse().unwrap(),
            port: 53,
            time: Timestamp(1_790_000_000_123_456),
            line: 1_234_567,
            feed_asn: 64500,
            feed_country: "NL".parse().unwrap(),
            enrichment: Enrichment {
                asn: 64501,
                country: "DE".parse().unwrap(),
            },
        };
        let v6_event = RiskEvent {
            ip: "2001:db8::53".parse().unwrap(),
            feed_country: CountryCode::UNKNOWN,
            ..event
        };
        round_trip(vec![event, v6_event], 20_000);
        let slot = BackscatterSlot {
            victim: "2001:200::5".parse().unwrap(),
            transport: Transport::ICMPV6,
            slot: 1_760_000_010,
            victim_asn: 2500,
            victim_country: "JP".parse().unwrap(),
            packets: 40,
            bytes: 4_000,
            first: Timestamp(1_760_000_010_000_001),
            last: Timestamp(1_760_000_019_999_999),
        };
        round_trip(vec![slot], 0);
    }

    #[test]
    fn corrupt_segments_are_errors_not_panics() {
        let mut buf = Vec::new();
        encode(
            &[Rollup {
                bucket: 0,
                dim: RollupDim::Asn { asn: 1 },
                class: TrafficClass::Scan,
                packets: 1,
                bytes: 1,
                sources: 1,
            }],
            &mut buf,
        );
        let visit = &mut |_: &Rollup| {};
        assert!(decode::<Rollup>("rollup", 0, &buf[..buf.len() - 3], visit).is_err());
        assert!(decode::<Rollup>("rollup", 0, b"\x05\x00\x00\x00abc", visit).is_err());
        let bad_kind = lz4_flex::compress_prepend_size(&[9u8; Rollup::MAX_LEN]);
        assert!(decode::<Rollup>("rollup", 0, &bad_kind, visit).is_err());
    }
}
