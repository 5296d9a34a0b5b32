//! Source address pools drawn from a `SourcePool`: uniform over the routed IPv4 space
//! (merged ranges) and over IPv6 ranges weighted by size. Shared by every generator.

use crate::rng::{Cumulative, Rng};
use crate::GenerateError;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Whether an IPv4 address can be a host (does not end in .0 or .255).
#[inline]
pub(crate) fn usable_v4_source(a: u32) -> bool {
    let last = a & 0xff;
    last != 0 && last != 255
}

/// IPv4 source ranges, merged, with cumulative sizes for uniform-by-address draws.
pub(crate) struct Pool4 {
    starts: Vec<u32>,
    /// Exclusive cumulative sizes.
    cum: Vec<u64>,
    total: u64,
    fallback: u32,
}

impl Pool4 {
    pub(crate) fn new(ranges: &[(u32, u32)]) -> Result<Pool4, GenerateError> {
        let mut r: Vec<(u32, u32)> = ranges.to_vec();
        if let Some(bad) = r.iter().find(|(a, b)| a > b) {
            return Err(GenerateError::Spec(format!(
                "source pool range {}-{} has first > last",
                Ipv4Addr::from(bad.0),
                Ipv4Addr::from(bad.1)
            )));
        }
        r.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(r.len());
        for (a, b) in r {
            match merged.last_mut() {
                Some(last) if a as u64 <= last.1 as u64 + 1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        let mut total = 0u64;
        let mut starts = Vec::with_capacity(merged.len());
        let mut cum = Vec::with_capacity(merged.len());
        let mut fallback = None;
        for (a, b) in merged {
            total += (b - a) as u64 + 1;
            starts.push(a);
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
            cum,
            total,
            fallback,
        })
    }

    pub(crate) fn size(&self) -> u64 {
        self.total
    }

    /// The `idx`-th address of the pool (idx < size).
    #[inline]
    pub(crate) fn at(&self, idx: u64) -> u32 {
        let i = self.cum.partition_point(|&c| c <= idx);
        let before = if i == 0 { 0 } else { self.cum[i - 1] };
        self.starts[i] + (idx - before) as u32
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
