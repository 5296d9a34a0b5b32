//! Small deterministic pseudo-random tools: a SplitMix64 generator, a stateless mixer for
//! "random access" values (attack jitter, permutations) and a Zipf-like weighted picker.
//! Own code so that the output bytes never change with a dependency's release.

/// SplitMix64: one add and a 64-bit finaliser per draw; plenty for synthetic traffic.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 finaliser: a bijective 64-bit mix.
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of two words, for values that must be computable in any order.
#[inline]
pub(crate) fn hash2(a: u64, b: u64) -> u64 {
    mix(a ^ mix(b.wrapping_add(GOLDEN)))
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(mix(seed ^ 0x6A09_E667_F3BC_C908))
    }

    /// A generator for a named sub-stream, independent of the parent's position.
    pub(crate) fn stream(seed: u64, label: u64) -> Rng {
        Rng::new(hash2(seed, label))
    }

    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }

    #[inline]
    pub(crate) fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    #[inline]
    pub(crate) fn next_u16(&mut self) -> u16 {
        (self.next_u64() >> 48) as u16
    }

    /// Uniform in `0..n` (n > 0), multiply-shift; the bias is below 2^-32 for our ranges.
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    #[inline]
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in [0, 1).
    #[inline]
    pub(crate) fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    #[inline]
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Standard normal (Box-Muller), for log-normal sizes.
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.f64();
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// Picks indices with cumulative weights (heavy hitters and a long tail).
#[derive(Clone, Debug, Default)]
pub(crate) struct Cumulative {
    cum: Vec<f64>,
}

impl Cumulative {
    pub(crate) fn new(weights: impl IntoIterator<Item = f64>) -> Cumulative {
        let mut acc = 0.0;
        let cum = weights
            .into_iter()
            .map(|w| {
                acc += w;
                acc
            })
            .collect();
        Cumulative { cum }
    }

    /// Zipf-like weights 1/(rank+1)^s for `n` items.
    pub(crate) fn zipf(n: usize, s: f64) -> Cumulative {
        Cumulative::new((0..n).map(|i| 1.0 / ((i + 1) as f64).powf(s)))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.cum.is_empty()
    }

    pub(crate) fn total(&self) -> f64 {
        self.cum.last().copied().unwrap_or(0.0)
    }

    /// Weight of item `i`.
    pub(crate) fn weight(&self, i: usize) -> f64 {
        self.cum[i] - if i == 0 { 0.0 } else { self.cum[i - 1] }
    }

    #[inline]
    pub(crate) fn pick(&self, rng: &mut Rng) -> usize {
        let x = rng.f64() * self.total();
        self.cum
            .partition_point(|&c| c <= x)
            .min(self.cum.len() - 1)
    }
}

/// A keyed pseudo-random permutation of `0..size` (Feistel network with cycle walking), so
/// that the k-th allocated address is distinct from every other without remembering them.
#[derive(Clone, Debug)]
pub(crate) struct Permutation {
    size: u64,
    half_bits: u32,
    keys: [u64; 4],
}

impl Permutation {
    pub(crate) fn new(size: u64, seed: u64) -> Permutation {
        assert!(size > 0);
        let bits = (64 - (size - 1).leading_zeros()).max(2);
        let half_bits = bits.div_ceil(2);
        let mut rng = Rng::stream(seed, 0x5045_524D);
        let keys = [
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64(),
        ];
        Permutation {
            size,
            half_bits,
            keys,
        }
    }

    fn feistel(&self, x: u64) -> u64 {
        let mask = (1u64 << self.half_bits) - 1;
        let (mut l, mut r) = (x >> self.half_bits, x & mask);
        for k in self.keys {
            let f = mix(r ^ k) & mask;
            (l, r) = (r, l ^ f);
        }
        (l << self.half_bits) | r
    }

    /// The image of `i` (< size).
    pub(crate) fn apply(&self, i: u64) -> u64 {
        debug_assert!(i < self.size);
        let mut x = self.feistel(i);
        while x >= self.size {
            x = self.feistel(x);
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_is_a_bijection() {
        for size in [1u64, 2, 3, 7, 100, 1000, 4097] {
            let p = Permutation::new(size, 42);
            let mut seen = vec![false; size as usize];
            for i in 0..size {
                let j = p.apply(i) as usize;
                assert!(!seen[j], "size {size}: {j} twice");
                seen[j] = true;
            }
        }
    }

    #[test]
    fn below_and_cumulative_stay_in_range() {
        let mut r = Rng::new(1);
        let c = Cumulative::zipf(10, 1.0);
        let mut hits = [0u32; 10];
        for _ in 0..10_000 {
            assert!(r.below(7) < 7);
            hits[c.pick(&mut r)] += 1;
        }
        assert!(hits[0] > hits[9] * 4, "{hits:?}");
        assert!(hits.iter().all(|&h| h > 0));
    }
}
