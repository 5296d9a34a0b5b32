//! Source address pools drawn from a `SourcePool`: uniform over the routed IPv4 space
//! (merged ranges), or weighted the way a darknet's sources are (`SourcePool::darknet`: by
//! country, see `sources.rs`), and over IPv6 ranges weighted by size. Shared by every
//! generator.

use crate::rng::{mix, Cumulative, Rng};
use crate::GenerateError;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Whether an IPv4 address can be a host (does not end in .0 or .255).
#[inline]
pub(crate) fn usable_v4_source(a: u32) -> bool {
    let last = a & 0xff;
    last != 0 && last != 255
}

/// IPv4 source ranges, each with a number of slots: uniform-by-address draws over the slots.
/// A uniform pool has one slot per address; a weighted one gives a range fewer slots than
/// addresses (its weight), each slot one address of its own stretch of the range, so distinct
/// slots are always distinct addresses.
pub(crate) struct Pool4 {
    starts: Vec<u32>,
    /// Addresses of each range; empty for a uniform pool (slots are addresses).
    sizes: Vec<u64>,
    /// Exclusive cumulative slots.
    cum: Vec<u64>,
    total: u64,
    fallback: u32,
}

impl Pool4 {
    /// One slot per address of the (merged) ranges.
    pub(crate) fn new(ranges: &[(u32, u32)]) -> Result<Pool4, GenerateError> {
        let mut r: Vec<(u32, u32)> = ranges.to_vec();
        check_order(&r)?;
        r.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(r.len());
        for (a, b) in r {
            match merged.last_mut() {
                Some(last) if a as u64 <= last.1 as u64 + 1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        let slots = merged.iter().map(|&(a, b)| (a, b, (b - a) as u64 + 1));
        Pool4::build(slots, false)
    }

    /// Ranges drawn in proportion to `weight` (any positive scale; a range of weight 0 is
    /// never drawn). The densest range gets a slot per address, every other one fewer.
    pub(crate) fn weighted(ranges: &[(u32, u32, f64)]) -> Result<Pool4, GenerateError> {
        check_order(&ranges.iter().map(|&(a, b, _)| (a, b)).collect::<Vec<_>>())?;
        let mut r: Vec<(u32, u32, f64)> = ranges
            .iter()
            .copied()
            .filter(|&(_, _, w)| w > 0.0 && w.is_finite())
            .collect();
        r.sort_unstable_by_key(|&(a, b, _)| (a, b));
        // Overlapping ranges keep their first part only.
        let mut kept: Vec<(u32, u32, f64)> = Vec::with_capacity(r.len());
        for (a, b, w) in r {
            let a = match kept.last() {
                Some(&(_, last, _)) if a <= last => match last.checked_add(1) {
                    Some(next) if next <= b => next,
                    _ => continue,
                },
                _ => a,
            };
            kept.push((a, b, w));
        }
        let density = |&(a, b, w): &(u32, u32, f64)| w / ((b - a) as f64 + 1.0);
        let densest = kept.iter().map(density).fold(0.0, f64::max);
        let slots = kept.iter().map(|&(a, b, w)| {
            let size = (b - a) as u64 + 1;
            (a, b, ((w / densest).round() as u64).clamp(1, size))
        });
        Pool4::build(slots, true)
    }

    fn build(
        ranges: impl Iterator<Item = (u32, u32, u64)>,
        weighted: bool,
    ) -> Result<Pool4, GenerateError> {
        let mut total = 0u64;
        let mut starts = Vec::new();
        let mut sizes = Vec::new();
        let mut cum = Vec::new();
        let mut fallback = None;
        for (a, b, slots) in ranges {
            total += slots;
            starts.push(a);
            if weighted {
                sizes.push((b - a) as u64 + 1);
            }
            cum.push(total);
            if fallback.is_none() {
                fallback = (a..=b.min(a.saturating_add(2))).find(|&x| usable_v4_source(x));
            }
        }
        let Some(fallback) = fallback else {
            return Err(GenerateError::Spec(
                "the IPv4 source pool has no usable address (empty, or only .0/.255 addresses)"
                    .into(),
            ));
        };
        Ok(Pool4 {
            starts,
            sizes,
            cum,
            total,
            fallback,
        })
    }

    /// Slots of the pool: distinct indices below it are distinct addresses.
    pub(crate) fn size(&self) -> u64 {
        self.total
    }

    /// The address of slot `idx` (idx < size).
    #[inline]
    pub(crate) fn at(&self, idx: u64) -> u32 {
        let i = self.cum.partition_point(|&c| c <= idx);
        let before = if i == 0 { 0 } else { self.cum[i - 1] };
        let offset = idx - before;
        let Some(&size) = self.sizes.get(i) else {
            return self.starts[i] + offset as u32;
        };
        // Slot `offset` of `slots` owns addresses [lo, hi) of the range; one of them, fixed.
        let slots = (self.cum[i] - before) as u128;
        let lo = (offset as u128 * size as u128 / slots) as u64;
        let hi = ((offset as u128 + 1) * size as u128 / slots) as u64;
        let pick = mix(idx ^ ((self.starts[i] as u64) << 32)) % (hi - lo).max(1);
        self.starts[i] + (lo + pick) as u32
    }

    #[inline]
    pub(crate) fn any(&self, rng: &mut Rng) -> u32 {
        self.at(rng.below(self.total))
    }

    /// A source address that does not end in .0 or .255.
    #[inline]
    pub(crate) fn source(&self, rng: &mut Rng) -> u32 {
        for _ in 0..64 {
            let a = self.any(rng);
            if usable_v4_source(a) {
                return a;
            }
        }
        self.fallback
    }
}

/// An error for the first range whose first address is above its last.
fn check_order(ranges: &[(u32, u32)]) -> Result<(), GenerateError> {
    match ranges.iter().find(|(a, b)| a > b) {
        Some(bad) => Err(GenerateError::Spec(format!(
            "source pool range {}-{} has first > last",
            Ipv4Addr::from(bad.0),
            Ipv4Addr::from(bad.1)
        ))),
        None => Ok(()),
    }
}

/// IPv6 source ranges weighted by size.
pub(crate) struct Pool6 {
    ranges: Vec<(u128, u128)>,
    pick: Cumulative,
}

impl Pool6 {
    pub(crate) fn new(ranges: &[(u128, u128)]) -> Result<Option<Pool6>, GenerateError> {
        if let Some(bad) = ranges.iter().find(|(a, b)| a > b) {
            return Err(GenerateError::Spec(format!(
                "source pool range {}-{} has first > last",
                Ipv6Addr::from(bad.0),
                Ipv6Addr::from(bad.1)
            )));
        }
        if ranges.is_empty() {
            return Ok(None);
        }
        let pick = Cumulative::new(ranges.iter().map(|(a, b)| (b - a) as f64 + 1.0));
        Ok(Some(Pool6 {
            ranges: ranges.to_vec(),
            pick,
        }))
    }

    pub(crate) fn source(&self, rng: &mut Rng) -> u128 {
        let (a, b) = self.ranges[self.pick.pick(rng)];
        let r = ((rng.next_u64() as u128) << 64) | rng.next_u64() as u128;
        match (b - a).checked_add(1) {
            Some(span) => a + r % span,
            None => r,
        }
    }
}
