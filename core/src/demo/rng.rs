//! Random numbers: a small SplitMix64 generator, seeded from [`super::DemoOptions::seed`],
//! and the ways the demo draws from it (uniform, weighted, cities, digits).
//!
//! Every choice of the demo goes through this generator, so the same options give the same
//! data; the order of draws is part of that promise.

use super::insert::to_u64;
use super::names::City;

pub(super) const STREAM_MAIN: u64 = 1;
pub(super) const STREAM_COUNTS: u64 = 2;

/// SplitMix64: tiny, fast and good enough for demo data.
#[derive(Debug, Clone)]
pub(super) struct Rng {
    state: u64,
}

impl Rng {
    pub(super) fn new(seed: u64, stream: u64) -> Self {
        let mut rng = Rng {
            state: seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03),
        };
        rng.next_u64();
        rng
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub(super) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    pub(super) fn index(&mut self, len: usize) -> usize {
        usize::try_from(self.below(to_u64(len))).unwrap_or(0)
    }

    /// Uniform in `lo..=hi`.
    pub(super) fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = hi.abs_diff(lo).saturating_add(1);
        lo.saturating_add_unsigned(self.below(span))
    }

    /// Uniform in `[0, 1)`.
    pub(super) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn digit(&mut self) -> char {
        char::from(b'0' + (self.below(10) as u8))
    }
}

/// One item of a slice, uniformly (the default value for an empty slice).
pub(super) fn pick<T: Copy + Default>(rng: &mut Rng, items: &[T]) -> T {
    items.get(rng.index(items.len())).copied().unwrap_or_default()
}

/// One item of a weighted list (the default value for an empty list).
pub(super) fn pick_weighted<T: Copy + Default>(rng: &mut Rng, items: &[(T, u32)]) -> T {
    let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
    let mut r = rng.below(total);
    for (item, weight) in items {
        let weight = u64::from(*weight);
        if r < weight {
            return *item;
        }
        r -= weight;
    }
    items.last().map(|(item, _)| *item).unwrap_or_default()
}

pub(super) fn pick_city(rng: &mut Rng, cities: &[City]) -> City {
    let total: u64 = cities.iter().map(|c| u64::from(c.weight)).sum();
    let mut r = rng.below(total);
    for city in cities {
        let weight = u64::from(city.weight);
        if r < weight {
            return *city;
        }
        r -= weight;
    }
    cities.first().copied().unwrap_or_default()
}

/// Replaces every `#` of `template` by a random digit.
pub(super) fn fill_digits(rng: &mut Rng, template: &str) -> String {
    template
        .chars()
        .map(|c| if c == '#' { rng.digit() } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_numbers() {
        let mut a = Rng::new(42, STREAM_MAIN);
        let mut b = Rng::new(42, STREAM_MAIN);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut c = Rng::new(43, STREAM_MAIN);
        assert_ne!(Rng::new(42, STREAM_MAIN).next_u64(), c.next_u64());
    }

    #[test]
    fn between_stays_in_range() {
        let mut rng = Rng::new(7, STREAM_MAIN);
        for _ in 0..10_000 {
            let n = rng.between(-3, 5);
            assert!((-3..=5).contains(&n));
        }
        assert_eq!(rng.between(5, 5), 5);
        assert_eq!(rng.below(0), 0);
    }
}
