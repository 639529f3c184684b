//! Comparison of two sample sets: relative change of the medians with a bootstrap CI of the
//! ratio (or, for samples taken in pairs, the median of the pairs' ratios). A change is
//! significant only when the whole CI lies outside the threshold band.

use crate::analysis::{
    prng::{BOOTSTRAP_SEED, SplitMix64},
    summary::{RESAMPLES, median, quantile_sorted, resampled_median},
};

/// What a comparison concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The current set is slower beyond the threshold, with 95% confidence.
    Regressed,
    /// The current set is faster beyond the threshold, with 95% confidence.
    Improved,
    /// No change beyond noise and threshold.
    Unchanged,
}

/// The comparison of a baseline sample set with a current one.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Median of the baseline samples.
    pub baseline_median_ns: f64,
    /// Median of the current samples.
    pub current_median_ns: f64,
    /// `current / baseline - 1` of the medians (0.10 = 10% slower).
    pub change: f64,
    /// Lower bound of the 95% CI of the change.
    pub ci_low: f64,
    /// Upper bound of the 95% CI of the change.
    pub ci_high: f64,
    /// Whether the change is significant, and which way.
    pub verdict: Verdict,
}

/// Compares `current` against `baseline`; `threshold` is the relative band (0.05 = ±5%)
/// within which a change is never significant. `None` when either set is empty or the
/// baseline median is zero (no ratio exists).
pub fn compare(baseline: &[u64], current: &[u64], threshold: f64) -> Option<Comparison> {
    if baseline.is_empty() || current.is_empty() {
        return None;
    }
    let baseline_median_ns = median(baseline);
    let current_median_ns = median(current);
    if baseline_median_ns <= 0.0 {
        return None;
    }
    let mut rng = SplitMix64::new(BOOTSTRAP_SEED);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let ratios: Vec<f64> = (0..RESAMPLES)
        .filter_map(|_| {
            let base = resampled_median(baseline, &mut rng, &mut a);
            let cur = resampled_median(current, &mut rng, &mut b);
            (base > 0.0).then(|| cur / base)
        })
        .collect();
    if ratios.is_empty() {
        return None;
    }
    let change = current_median_ns / baseline_median_ns - 1.0;
    Some(conclude(
        (baseline_median_ns, current_median_ns, change),
        ratios,
        threshold,
    ))
}

/// Compares samples taken in pairs, `baseline[i]` next to `current[i]` (two builds taking
/// turns): the change is the median of the pairs' ratios, and its interval resamples whole
/// pairs, so a slow stretch of the machine that falls on both samples of a pair cancels out.
/// `None` when the sets are empty, differ in length, or a baseline sample is zero.
pub fn compare_paired(baseline: &[u64], current: &[u64], threshold: f64) -> Option<Comparison> {
    if baseline.is_empty() || baseline.len() != current.len() || baseline.contains(&0) {
        return None;
    }
    let pair_ratios: Vec<u64> = baseline
        .iter()
        .zip(current)
        .map(|(&b, &c)| ((c as f64 / b as f64) * RATIO_SCALE).round() as u64)
        .collect();
    let mut rng = SplitMix64::new(BOOTSTRAP_SEED);
    let mut scratch = Vec::new();
    let ratios: Vec<f64> = (0..RESAMPLES)
        .map(|_| resampled_median(&pair_ratios, &mut rng, &mut scratch) / RATIO_SCALE)
        .collect();
    let change = median(&pair_ratios) / RATIO_SCALE - 1.0;
    Some(conclude(
        (median(baseline), median(current), change),
        ratios,
        threshold,
    ))
}

/// Ratios are resampled as integers in millionths.
const RATIO_SCALE: f64 = 1e6;

/// The comparison whose medians and change are given and whose interval comes from the
/// resampled `ratios` of current to baseline.
fn conclude(
    (baseline_median_ns, current_median_ns, change): (f64, f64, f64),
    mut ratios: Vec<f64>,
    threshold: f64,
) -> Comparison {
    ratios.sort_by(f64::total_cmp);
    let ci_low = quantile_sorted(&ratios, 0.025) - 1.0;
    let ci_high = quantile_sorted(&ratios, 0.975) - 1.0;
    let verdict = if ci_low > threshold {
        Verdict::Regressed
    } else if ci_high < -threshold {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    };
    Comparison {
        baseline_median_ns,
        current_median_ns,
        change,
        ci_low,
        ci_high,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noisy(base: u64, n: u64) -> Vec<u64> {
        (0..n)
            .map(|i| base + (i * 7919) % (base / 50 + 1))
            .collect()
    }

    #[test]
    fn doubling_is_a_regression_and_halving_an_improvement() {
        let base = noisy(1_000_000, 10);
        let slow: Vec<u64> = base.iter().map(|x| x * 2).collect();
        let c = compare(&base, &slow, 0.05).unwrap();
        assert_eq!(c.verdict, Verdict::Regressed);
        assert!((c.change - 1.0).abs() < 1e-9);
        assert!(c.ci_low > 0.9 && c.ci_high < 1.1);
        assert_eq!(
            compare(&slow, &base, 0.05).unwrap().verdict,
            Verdict::Improved
        );
    }

    #[test]
    fn identical_sets_and_changes_inside_the_band_are_unchanged() {
        let base = noisy(1_000_000, 10);
        let c = compare(&base, &base, 0.05).unwrap();
        assert_eq!(c.verdict, Verdict::Unchanged);
        assert_eq!(c.change, 0.0);
        let slightly: Vec<u64> = base.iter().map(|x| x * 103 / 100).collect();
        assert_eq!(
            compare(&base, &slightly, 0.05).unwrap().verdict,
            Verdict::Unchanged
        );
    }

    #[test]
    fn noisy_overlapping_sets_are_not_significant() {
        let base = [100, 300, 120, 280, 90, 310];
        let cur = [130, 290, 110, 330, 100, 320];
        assert_eq!(
            compare(&base, &cur, 0.05).unwrap().verdict,
            Verdict::Unchanged
        );
    }

    #[test]
    fn pairs_cancel_what_both_samples_of_a_pair_share() {
        // The machine moves between a fast and a 30% slower stretch, and both samples of a
        // pair fall in the same one: the pairs' ratios see no change.
        let stretch = |i: u64| if i.is_multiple_of(3) { 130 } else { 100 };
        let baseline: Vec<u64> = (0..12).map(|i| stretch(i) * 1000 + i).collect();
        let current: Vec<u64> = (0..12).map(|i| stretch(i) * 1000 + 5).collect();
        let c = compare_paired(&baseline, &current, 0.05).unwrap();
        assert_eq!(c.verdict, Verdict::Unchanged);
        assert!(c.change.abs() < 0.001, "{c:?}");
        // A 10% slower current build in every pair is a regression however noisy the machine.
        let slower: Vec<u64> = baseline.iter().map(|b| b * 110 / 100).collect();
        let c = compare_paired(&baseline, &slower, 0.05).unwrap();
        assert_eq!(c.verdict, Verdict::Regressed);
        assert!((c.change - 0.10).abs() < 0.001, "{c:?}");
        assert!(compare_paired(&baseline, &slower[1..], 0.05).is_none());
    }

    #[test]
    fn empty_or_zero_baselines_are_not_comparable() {
        assert!(compare(&[], &[1], 0.05).is_none());
        assert!(compare(&[0, 0], &[1], 0.05).is_none());
    }
}
