//! Summary statistics of one sample set: median, extremes, MAD and a bootstrap CI.

use anyhow::ensure;

use crate::{
    analysis::prng::{BOOTSTRAP_SEED, SplitMix64},
    model::Stats,
};

/// Bootstrap resamples used for confidence intervals.
pub const RESAMPLES: usize = 2000;

/// The median of `values` (sorted in place). `values` must not be empty.
pub fn median_in_place(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The median of integer samples. `samples` must not be empty.
pub fn median(samples: &[u64]) -> f64 {
    let mut values: Vec<f64> = samples.iter().map(|&s| s as f64).collect();
    median_in_place(&mut values)
}

/// The median absolute deviation from the median (unscaled).
pub fn mad(samples: &[u64]) -> f64 {
    let m = median(samples);
    let mut deviations: Vec<f64> = samples.iter().map(|&s| (s as f64 - m).abs()).collect();
    median_in_place(&mut deviations)
}

/// The `q` quantile (0..=1) of sorted values, interpolating linearly between neighbours.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = position.ceil() as usize;
    sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
}

/// The median of one resample (with replacement) of `samples`.
pub fn resampled_median(samples: &[u64], rng: &mut SplitMix64, scratch: &mut Vec<f64>) -> f64 {
    scratch.clear();
    scratch.extend((0..samples.len()).map(|_| samples[rng.below(samples.len())] as f64));
    median_in_place(scratch)
}

/// The percentile-bootstrap 95% confidence interval of the median.
pub fn median_ci95(samples: &[u64]) -> (f64, f64) {
    let mut rng = SplitMix64::new(BOOTSTRAP_SEED);
    let mut scratch = Vec::with_capacity(samples.len());
    let mut medians: Vec<f64> = (0..RESAMPLES)
        .map(|_| resampled_median(samples, &mut rng, &mut scratch))
        .collect();
    medians.sort_by(f64::total_cmp);
    (
        quantile_sorted(&medians, 0.025),
        quantile_sorted(&medians, 0.975),
    )
}

/// Summarises `samples`.
///
/// # Errors
/// When there are no samples.
pub fn summarize(samples: &[u64]) -> anyhow::Result<Stats> {
    ensure!(
        !samples.is_empty(),
        "cannot summarise an empty set of samples"
    );
    let (ci95_low_ns, ci95_high_ns) = median_ci95(samples);
    Ok(Stats {
        median_ns: median(samples),
        min_ns: *samples.iter().min().unwrap_or(&0),
        max_ns: *samples.iter().max().unwrap_or(&0),
        mad_ns: mad(samples),
        ci95_low_ns,
        ci95_high_ns,
        samples_ns: samples.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        let s = [1, 2, 3, 4, 100];
        assert_eq!(median(&s), 3.0);
        // Deviations from 3: 2, 1, 0, 1, 97 -> median 1.
        assert_eq!(mad(&s), 1.0);
        assert_eq!(median(&[1, 2, 3, 4]), 2.5);
        assert_eq!(quantile_sorted(&[0.0, 10.0], 0.25), 2.5);
        let stats = summarize(&s).unwrap();
        assert_eq!((stats.min_ns, stats.max_ns), (1, 100));
        assert_eq!(stats.samples_ns, s);
    }

    #[test]
    fn ci_brackets_the_median_and_collapses_on_constant_samples() {
        let s: Vec<u64> = (1..=21).collect();
        let (low, high) = median_ci95(&s);
        assert!(low < 11.0 && high > 11.0, "{low}..{high}");
        assert!(low >= 1.0 && high <= 21.0);
        assert_eq!(median_ci95(&[7, 7, 7]), (7.0, 7.0));
        assert_eq!(median_ci95(&[5]), (5.0, 5.0));
    }

    #[test]
    fn ci_is_reproducible() {
        let s = [10, 12, 9, 30, 11, 10, 13];
        assert_eq!(median_ci95(&s), median_ci95(&s));
    }

    #[test]
    fn empty_samples_are_an_error() {
        assert!(summarize(&[]).is_err());
    }
}
