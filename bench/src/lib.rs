//! The statistics of eddy's benchmark suite; the suite itself lives in `benches/suite.rs`, and
//! `cargo xtask bench` runs it.
//!
//! A row of the suite compares medians, and a ratio of medians moves from one run of the suite
//! to the next: on a shared two-core machine by ±10% and more. [`ratio_interval`] says how far
//! it could move with the runs at hand, so that a row at 1.03× can be told apart as a tie (its
//! interval holds 1.00) or as slower (its whole interval is above 1.00).
//!
//! # Examples
//!
//! ```
//! use eddy_bench::{median, ratio_interval};
//!
//! let eddy = [98.0, 101.0, 100.0, 99.0, 102.0];
//! let tokio = [100.0, 103.0, 99.0, 101.0, 100.0];
//! let smol = [140.0, 150.0, 145.0, 142.0, 148.0];
//! assert_eq!(median(&eddy), 100.0);
//! let (low, high) = ratio_interval(&eddy, &[&tokio, &smol]);
//! assert!(low <= 1.0 && 1.0 <= high, "a tie with tokio: [{low:.2}, {high:.2}]");
//! ```

/// How many resamples [`ratio_interval`] draws.
pub const RESAMPLES: usize = 2_000;

/// The median of `times`: the middle value, or for an even count the upper of the two middle
/// values (the suite's tables have always used that one).
///
/// # Panics
///
/// If `times` is empty.
pub fn median(times: &[f64]) -> f64 {
    assert!(!times.is_empty(), "the median of no runs");
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// The ratio of `first`'s median to the smallest median of `others` (eddy against its best
/// peer, or W = N against W = 1), with nothing resampled.
///
/// # Panics
///
/// If `first`, `others` or one of `others` is empty.
pub fn ratio(first: &[f64], others: &[&[f64]]) -> f64 {
    median(first) / best(others.iter().map(|times| median(times)))
}

/// A 95% interval for [`ratio`]`(first, others)`, by a percentile bootstrap: [`RESAMPLES`]
/// times, each cell's runs are drawn again with replacement (as many as it has), and the ratio
/// of the resampled medians is taken; the interval runs from the 2.5th to the 97.5th percentile
/// of those ratios. The best peer is chosen anew in each resample, as the suite's ratio does.
///
/// The draws come from a fixed seed, so the same runs always give the same interval. The
/// interval covers the runs' spread within one run of the suite; what changes between runs of
/// the suite (another load on the machine, another layout of the heap) it cannot see.
///
/// # Panics
///
/// If `first`, `others` or one of `others` is empty.
pub fn ratio_interval(first: &[f64], others: &[&[f64]]) -> (f64, f64) {
    assert!(!others.is_empty(), "a ratio against no peer");
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut scratch = Vec::new();
    let mut ratios: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let top = resampled_median(first, &mut rng, &mut scratch);
            top / best(others.iter().map(|times| resampled_median(times, &mut rng, &mut scratch)))
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[((ratios.len() - 1) as f64 * q).round() as usize];
    (at(0.025), at(0.975))
}

/// The smallest of `medians`.
fn best(medians: impl Iterator<Item = f64>) -> f64 {
    medians.min_by(f64::total_cmp).expect("a ratio against no peer")
}

/// The median of `times.len()` draws from `times` with replacement.
fn resampled_median(times: &[f64], rng: &mut XorShift, scratch: &mut Vec<f64>) -> f64 {
    assert!(!times.is_empty(), "the median of no runs");
    scratch.clear();
    scratch.extend((0..times.len()).map(|_| times[rng.below(times.len())]));
    let middle = scratch.len() / 2;
    *scratch.select_nth_unstable_by(middle, f64::total_cmp).1
}

/// xorshift64*: plenty for drawing run indices, and the same draws on every machine.
struct XorShift(u64);

impl XorShift {
    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        // The high bits are the good ones; the multiply-shift maps them onto 0..n.
        ((u128::from(x >> 32) * n as u128) >> 32) as usize
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn median_takes_the_upper_middle_of_an_even_count() {
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 3.0);
        assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
    }

    #[test]
    fn ratio_is_against_the_best_peer() {
        assert_eq!(ratio(&[90.0, 90.0, 90.0], &[&[100.0, 100.0, 100.0], &[180.0, 180.0, 180.0]]), 0.9);
        assert_eq!(ratio(&[90.0, 90.0, 90.0], &[&[180.0, 180.0, 180.0], &[100.0, 100.0, 100.0]]), 0.9);
    }

    #[test]
    fn clearly_slower_runs_give_an_interval_above_one() {
        let eddy: Vec<f64> = (0..30).map(|i| 120.0 + f64::from(i % 7)).collect();
        let tokio: Vec<f64> = (0..30).map(|i| 100.0 + f64::from(i % 5)).collect();
        let (low, high) = ratio_interval(&eddy, &[&tokio]);
        assert!(1.0 < low && low <= high, "[{low}, {high}]");
    }

    #[test]
    fn overlapping_runs_give_an_interval_around_one() {
        let eddy: Vec<f64> = (0..30).map(|i| 95.0 + f64::from((i * 7) % 11)).collect();
        let tokio: Vec<f64> = (0..30).map(|i| 95.0 + f64::from((i * 5) % 11)).collect();
        let (low, high) = ratio_interval(&eddy, &[&tokio]);
        assert!(low < 1.0 && 1.0 < high, "[{low}, {high}]");
    }

    #[test]
    fn the_same_runs_give_the_same_interval() {
        let eddy = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        let tokio = [2.0, 7.0, 1.0, 8.0, 2.0, 8.0, 1.0, 8.0];
        assert_eq!(ratio_interval(&eddy, &[&tokio]), ratio_interval(&eddy, &[&tokio]));
    }

    #[test]
    fn draws_cover_every_index() {
        let mut rng = XorShift(1);
        let mut seen = [false; 7];
        for _ in 0..1_000 {
            seen[rng.below(7)] = true;
        }
        assert_eq!(seen, [true; 7]);
    }

    fn runs() -> impl Strategy<Value = Vec<f64>> {
        proptest::collection::vec(1.0f64..1e6, 1..40)
    }

    proptest! {
        /// The interval is ordered and lies within the ratios its draws can produce: between the
        /// fastest run over the slowest peer run and the slowest run over the fastest.
        #[test]
        fn the_interval_is_ordered_and_bounded(first in runs(), a in runs(), b in runs()) {
            let (low, high) = ratio_interval(&first, &[&a, &b]);
            let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
            let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
            let floor = min(&first) / max(&a).min(max(&b));
            let ceiling = max(&first) / min(&a).min(min(&b));
            prop_assert!(floor <= low && low <= high && high <= ceiling);
        }

        /// Slowing every run of the first cell by a factor scales its interval by that factor:
        /// the draws do not depend on the values.
        #[test]
        fn the_interval_scales_with_the_first_cell(first in runs(), peer in runs(), k in 0.5f64..4.0) {
            let (low, high) = ratio_interval(&first, &[&peer]);
            let slowed: Vec<f64> = first.iter().map(|t| t * k).collect();
            let (slow_low, slow_high) = ratio_interval(&slowed, &[&peer]);
            prop_assert!((slow_low - low * k).abs() <= 1e-9 * slow_low);
            prop_assert!((slow_high - high * k).abs() <= 1e-9 * slow_high);
        }

        /// A cell against a copy of itself is a tie: its interval holds 1.
        #[test]
        fn a_cell_against_itself_is_a_tie(first in runs()) {
            let (low, high) = ratio_interval(&first, &[&first]);
            prop_assert!(low <= 1.0 && 1.0 <= high);
        }
    }
}
