//! The store's segment encoding of flow tuples and backscatter slots, for other crates that
//! move them (the sensor's batches): one encoding, already compact and compressed.

use crate::codec::{decode, encode, Record};
use crate::StoreError;
use greenwatch_observe::{BackscatterSlot, FlowTuple};

/// Most bytes one flow tuple takes decompressed: a segment of `n` flow tuples decompresses to
/// at most `n` times this.
pub const FLOW_RECORD_MAX_BYTES: usize = FlowTuple::MAX_LEN;

/// Most bytes one backscatter slot takes decompressed.
pub const BACKSCATTER_RECORD_MAX_BYTES: usize = BackscatterSlot::MAX_LEN;

/// Compressed flow tuples of one bucket.
pub fn encode_flows(flows: &[FlowTuple]) -> Vec<u8> {
    let mut out = Vec::new();
    encode(flows, &mut out);
    out
}

/// Compressed backscatter slots.
pub fn encode_backscatter(slots: &[BackscatterSlot]) -> Vec<u8> {
    let mut out = Vec::new();
    encode(slots, &mut out);
    out
}

/// The flow tuples of bucket `bucket` in `segment`, refusing a segment that claims to
/// decompress to more than `max_bytes` (before decompressing it).
pub fn decode_flows(
    bucket: i64,
    segment: &[u8],
    max_bytes: usize,
) -> Result<Vec<FlowTuple>, StoreError> {
    check_size("flow", bucket, segment, max_bytes)?;
    let mut flows = Vec::new();
    decode("flow", bucket, segment, &mut |f: &FlowTuple| {
        flows.push(f.clone())
    })?;
    Ok(flows)
}

/// The backscatter slots in `segment`, with the same size limit as [`decode_flows`].
pub fn decode_backscatter(
    segment: &[u8],
    max_bytes: usize,
) -> Result<Vec<BackscatterSlot>, StoreError> {
    check_size("backscatter", 0, segment, max_bytes)?;
    let mut slots = Vec::new();
    decode("backscatter", 0, segment, &mut |s: &BackscatterSlot| {
        slots.push(s.clone())
    })?;
    Ok(slots)
}

/// The size `segment` claims to decompress to, read without decompressing: a segment starts
/// with it (u32, little-endian). Decompressing allocates that much at once.
pub fn claimed_size(what: &str, bucket: i64, segment: &[u8]) -> Result<usize, StoreError> {
    segment
        .get(..4)
        .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
        .ok_or_else(|| StoreError::Corrupt(format!("{what} segment of bucket {bucket}: cut short")))
}

fn check_size(what: &str, bucket: i64, segment: &[u8], max_bytes: usize) -> Result<(), StoreError> {
    let size = claimed_size(what, bucket, segment)?;
    if size > max_bytes {
        return Err(StoreError::Corrupt(format!(
            "{what} segment of bucket {bucket} would decompress to {size} bytes (limit {max_bytes})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenwatch_model::{CountryCode, TrafficClass, Transport};

    fn flow(src: &str, port: u16) -> FlowTuple {
        FlowTuple {
            bucket: 3600,
            src: src.parse().unwrap(),
            dst_net: "198.51.100.0".parse().unwrap(),
            dst_port: port,
            transport: Transport::TCP,
            class: TrafficClass::Scan,
            fingerprint: None,
            src_asn: 0,
            src_country: CountryCode::UNKNOWN,
            packets: 3,
            bytes: 180,
            unique_dsts: 2,
            first_ttl: 51,
            first_tcp_window: 1024,
            first_len: 60,
        }
    }

    #[test]
    fn flows_round_trip_and_oversized_claims_are_refused_before_decompressing() {
        let flows = vec![flow("192.0.2.1", 23), flow("2001:db8::1", 443)];
        let segment = encode_flows(&flows);
        assert_eq!(decode_flows(3600, &segment, 1 << 20).unwrap(), flows);
        let err = decode_flows(3600, &segment, 8).unwrap_err().to_string();
        assert!(err.contains("limit 8"), "{err}");
        let mut bomb = segment.clone();
        bomb[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_flows(3600, &bomb, 1 << 20).is_err());
        assert!(decode_flows(3600, &segment[..2], 1 << 20).is_err());
        assert_eq!(
            claimed_size("flow", 3600, &bomb).unwrap(),
            u32::MAX as usize
        );
    }

    #[test]
    fn record_bounds_cover_the_longest_records() {
        let v6 = flow("2001:db8::1", 443);
        let v6 = FlowTuple {
            dst_net: "2001:db8:5e::".parse().unwrap(),
            ..v6
        };
        let segment = encode_flows(std::slice::from_ref(&v6));
        assert_eq!(
            claimed_size("flow", 3600, &segment).unwrap(),
            FLOW_RECORD_MAX_BYTES
        );
    }
}
