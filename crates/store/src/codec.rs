//! Fixed-width binary encoding of flow tuples for the embedded store: a segment of flows is
//! one BLOB, which writes and scans far faster than one SQL row per flow.

use crate::StoreError;
use greenwatch_model::{CountryCode, Fingerprint, TrafficClass, Transport};
use greenwatch_observe::FlowTuple;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Bytes per encoded flow.
pub(crate) const FLOW_RECORD_LEN: usize = 68;

const V6_FLAG: u8 = 1;

pub(crate) fn encode_flows(flows: &[FlowTuple], out: &mut Vec<u8>) {
    out.reserve(flows.len() * FLOW_RECORD_LEN);
    for f in flows {
        let start = out.len();
        let v6 = f.src.is_ipv6() || f.dst_net.is_ipv6();
        out.push(if v6 { V6_FLAG } else { 0 });
        out.extend_from_slice(&addr_bits(f.src).to_le_bytes());
        out.extend_from_slice(&addr_bits(f.dst_net).to_le_bytes());
        out.extend_from_slice(&f.dst_port.to_le_bytes());
        out.push(f.transport.0);
        out.push(f.class.code());
        out.push(f.fingerprint.map_or(0, Fingerprint::code));
        out.extend_from_slice(&f.src_asn.to_le_bytes());
        out.extend_from_slice(&f.src_country.0);
        out.extend_from_slice(&f.packets.to_le_bytes());
        out.extend_from_slice(&f.bytes.to_le_bytes());
        out.extend_from_slice(&f.unique_dsts.to_le_bytes());
        out.push(f.first_ttl);
        out.extend_from_slice(&f.first_tcp_window.to_le_bytes());
        out.extend_from_slice(&f.first_len.to_le_bytes());
        debug_assert_eq!(out.len() - start, FLOW_RECORD_LEN - 1);
        out.push(0);
    }
}

fn addr_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

fn addr_from(bits: u128, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(bits))
    } else {
        IpAddr::V4(Ipv4Addr::from(bits as u32))
    }
}

/// Decodes a segment of `bucket`, calling `visit` for each flow.
pub(crate) fn decode_flows(
    bucket: i64,
    data: &[u8],
    visit: &mut dyn FnMut(&FlowTuple),
) -> Result<(), StoreError> {
    if !data.len().is_multiple_of(FLOW_RECORD_LEN) {
        return Err(StoreError::Corrupt(format!(
            "flow segment of bucket {bucket} has {} bytes, not a multiple of {FLOW_RECORD_LEN}",
            data.len()
        )));
    }
    for r in data.chunks_exact(FLOW_RECORD_LEN) {
        let v6 = r[0] & V6_FLAG != 0;
        let u16_at = |i: usize| u16::from_le_bytes([r[i], r[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes(r[i..i + 4].try_into().expect("4 bytes"));
        let u64_at = |i: usize| u64::from_le_bytes(r[i..i + 8].try_into().expect("8 bytes"));
        let class = TrafficClass::from_code(r[36]).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "flow segment of bucket {bucket}: class code {}",
                r[36]
            ))
        })?;
        let flow = FlowTuple {
            bucket,
            src: addr_from(
                u128::from_le_bytes(r[1..17].try_into().expect("16 bytes")),
                v6,
            ),
            dst_net: addr_from(
                u128::from_le_bytes(r[17..33].try_into().expect("16 bytes")),
                v6,
            ),
            dst_port: u16_at(33),
            transport: Transport(r[35]),
            class,
            fingerprint: Fingerprint::from_code(r[37]),
            src_asn: u32_at(38),
            src_country: CountryCode([r[42], r[43]]),
            packets: u64_at(44),
            bytes: u64_at(52),
            unique_dsts: u16_at(60),
            first_ttl: r[62],
            first_tcp_window: u16_at(63),
            first_len: u16_at(65),
        };
        visit(&flow);
    }
    Ok(())
}
