//! DoS attack inference from backscatter, with the CAIDA corsaro RS-DoS thresholds
//! (docs/classification.md). Works on 10-second slots so that captures ingested separately,
//! in any order, give the same attacks as one long capture.

use greenwatch_model::{CountryCode, Timestamp, Transport};
use serde::Serialize;
use std::net::IpAddr;

/// Width of a backscatter slot; the 60 s threshold window slides by one slot.
pub const DOS_SLOT_SECS: i64 = 10;
/// A gap longer than this ends an attack vector.
const VECTOR_TIMEOUT_SECS: i64 = 300;
const MIN_PACKETS: u64 = 25;
const MIN_DURATION_SECS: i64 = 60;
const MIN_WINDOW_PACKETS: u64 = 30;
const WINDOW_SLOTS: i64 = 6;

/// Backscatter from one victim and protocol within one 10 s slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BackscatterSlot {
    pub victim: IpAddr,
    pub transport: Transport,
    /// Slot start, seconds since the epoch (a multiple of [`DOS_SLOT_SECS`]).
    pub slot: i64,
    pub victim_asn: u32,
    pub victim_country: CountryCode,
    pub packets: u64,
    pub bytes: u64,
    pub first: Timestamp,
    pub last: Timestamp,
}

/// An inferred attack on one victim over one protocol. `V` is how the victim is given: the
/// stored address, or the address as one viewer may see it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DosAttack<V = IpAddr> {
    pub victim: V,
    pub protocol: Transport,
    pub country: CountryCode,
    pub asn: u32,
    pub first: Timestamp,
    pub last: Timestamp,
    pub duration_secs: f64,
    pub packets: u64,
    pub bytes: u64,
    /// Most packets in any 60 s window (sliding by 10 s).
    pub peak_packets_per_minute: u64,
    /// Mean backscatter rate, packets per second.
    pub mean_pps: f64,
}

impl<V> DosAttack<V> {
    /// The same attack with its victim given as `victim`.
    pub fn with_victim<W>(self, victim: W) -> DosAttack<W> {
        DosAttack {
            victim,
            protocol: self.protocol,
            country: self.country,
            asn: self.asn,
            first: self.first,
            last: self.last,
            duration_secs: self.duration_secs,
            packets: self.packets,
            bytes: self.bytes,
            peak_packets_per_minute: self.peak_packets_per_minute,
            mean_pps: self.mean_pps,
        }
    }
}

/// Infers attacks from slots in any order, possibly with several slots for the same
/// (victim, protocol, slot) from different captures (they are merged). Sorted by (first, victim).
pub fn infer_dos(mut slots: Vec<BackscatterSlot>) -> Vec<DosAttack> {
    slots.sort_unstable_by_key(|s| (s.victim, s.transport, s.slot));
    let merged = merge_same_slot(slots);
    let mut attacks = Vec::new();
    let mut start = 0;
    for i in 1..=merged.len() {
        let split = i == merged.len() || {
            let (a, b) = (&merged[i - 1], &merged[i]);
            a.victim != b.victim
                || a.transport != b.transport
                || b.first.0 - a.last.0 > VECTOR_TIMEOUT_SECS * Timestamp::MICROS_PER_SEC
        };
        if split {
            if let Some(attack) = qualify(&merged[start..i]) {
                attacks.push(attack);
            }
            start = i;
        }
    }
    attacks.sort_by_key(|a| (a.first, a.victim));
    attacks
}

fn merge_same_slot(slots: Vec<BackscatterSlot>) -> Vec<BackscatterSlot> {
    let mut out: Vec<BackscatterSlot> = Vec::with_capacity(slots.len());
    for s in slots {
        match out.last_mut() {
            Some(prev)
                if prev.victim == s.victim
                    && prev.transport == s.transport
                    && prev.slot == s.slot =>
            {
                prev.packets += s.packets;
                prev.bytes += s.bytes;
                prev.first = prev.first.min(s.first);
                prev.last = prev.last.max(s.last);
            }
            _ => out.push(s),
        }
    }
    out
}

/// One vector (consecutive slots of a victim with no long gap) → an attack if it passes.
fn qualify(vector: &[BackscatterSlot]) -> Option<DosAttack> {
    let packets: u64 = vector.iter().map(|s| s.packets).sum();
    let first = vector.first()?.first;
    let last = vector.last()?.last;
    if packets < MIN_PACKETS || last.0 - first.0 < MIN_DURATION_SECS * Timestamp::MICROS_PER_SEC {
        return None;
    }
    let peak = peak_window(vector);
    if peak < MIN_WINDOW_PACKETS {
        return None;
    }
    let head = &vector[0];
    let duration_secs = (last.0 - first.0) as f64 / 1e6;
    Some(DosAttack {
        victim: head.victim,
        protocol: head.transport,
        country: head.victim_country,
        asn: head.victim_asn,
        first,
        last,
        duration_secs,
        packets,
        bytes: vector.iter().map(|s| s.bytes).sum(),
        peak_packets_per_minute: peak,
        mean_pps: packets as f64 / duration_secs,
    })
}

/// Largest packet count over windows of six consecutive slots (slots are sorted, may have holes).
fn peak_window(vector: &[BackscatterSlot]) -> u64 {
    let mut best = 0;
    let mut sum = 0;
    let mut tail = 0;
    for head in vector {
        sum += head.packets;
        while vector[tail].slot <= head.slot - WINDOW_SLOTS * DOS_SLOT_SECS {
            sum -= vector[tail].packets;
            tail += 1;
        }
        best = best.max(sum);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn victim() -> IpAddr {
        "203.0.113.7".parse().unwrap()
    }

    /// Slots built from packet times (seconds) for one victim over TCP.
    fn slots_from(times: &[f64]) -> Vec<BackscatterSlot> {
        let mut out: Vec<BackscatterSlot> = Vec::new();
        for &t in times {
            let ts = Timestamp((t * 1e6) as i64);
            let slot = ts.secs().div_euclid(DOS_SLOT_SECS) * DOS_SLOT_SECS;
            out.push(BackscatterSlot {
                victim: victim(),
                transport: Transport::TCP,
                slot,
                victim_asn: 64500,
                victim_country: "JP".parse().unwrap(),
                packets: 1,
                bytes: 60,
                first: ts,
                last: ts,
            });
        }
        out
    }

    fn evenly(start: f64, count: usize, every: f64) -> Vec<f64> {
        (0..count).map(|i| start + i as f64 * every).collect()
    }

    #[test]
    fn steady_attack_meeting_all_thresholds_is_reported_with_exact_bounds() {
        let attacks = infer_dos(slots_from(&evenly(1000.0, 120, 1.0)));
        assert_eq!(attacks.len(), 1);
        let a = &attacks[0];
        assert_eq!(
            (a.packets, a.first, a.last),
            (120, Timestamp::from_secs(1000), Timestamp::from_secs(1119))
        );
        assert_eq!(a.peak_packets_per_minute, 60);
        assert_eq!(a.country.as_str(), Some("JP"));
    }

    #[test]
    fn too_few_packets_too_short_or_too_slow_is_not_an_attack() {
        // 24 packets over 2 minutes.
        assert!(infer_dos(slots_from(&evenly(0.0, 24, 5.0))).is_empty());
        // 40 packets in 39 s: duration under 60 s.
        assert!(infer_dos(slots_from(&evenly(0.0, 40, 1.0))).is_empty());
        // 60 packets, one every 4 s: at most 15-16 per minute.
        assert!(infer_dos(slots_from(&evenly(0.0, 60, 4.0))).is_empty());
    }

    #[test]
    fn gap_over_timeout_splits_vectors_and_merge_is_order_independent() {
        let mut times = evenly(0.0, 100, 1.0);
        times.extend(evenly(100.0 + 301.0, 100, 1.0));
        let mut slots = slots_from(&times);
        slots.reverse();
        let attacks = infer_dos(slots);
        assert_eq!(attacks.len(), 2);
        assert_eq!(attacks[0].packets + attacks[1].packets, 200);
        // The same packets split across two "captures" in the same slots merge back.
        let half = slots_from(&evenly(0.0, 100, 1.0));
        let mut doubled = half.clone();
        doubled.extend(half);
        assert_eq!(infer_dos(doubled)[0].packets, 200);
    }

    #[test]
    fn peak_window_slides_over_holes() {
        // 20 packets in slot 0, 12 in slot 50 (inside one window), then 25 in slot 200.
        let mut times = vec![0.5; 20];
        times.extend(vec![55.0; 12]);
        times.extend(vec![205.0; 25]);
        let attacks = infer_dos(slots_from(&times));
        assert_eq!(attacks.len(), 1);
        assert_eq!(attacks[0].peak_packets_per_minute, 32);
    }
}
