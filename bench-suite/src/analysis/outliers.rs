//! Outlier flagging by the modified z-score of Iglewicz and Hoaglin.

use crate::analysis::summary::{mad, median};

/// Modified z-scores above this are outliers (Iglewicz and Hoaglin's recommendation).
pub const CUTOFF: f64 = 3.5;

/// Indices of the samples whose modified z-score `0.6745 * |x - median| / MAD` exceeds
/// [`CUTOFF`]. With a MAD of zero nothing is flagged: the spread is too small to judge.
pub fn outliers(samples: &[u64]) -> Vec<usize> {
    if samples.len() < 3 {
        return Vec::new();
    }
    let m = median(samples);
    let spread = mad(samples);
    if spread == 0.0 {
        return Vec::new();
    }
    samples
        .iter()
        .enumerate()
        .filter(|&(_, &x)| 0.6745 * (x as f64 - m).abs() / spread > CUTOFF)
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_the_far_sample_only() {
        // Median 11, MAD 1: 40 scores 0.6745 * 29 = 19.6, 13 scores 1.35.
        assert_eq!(outliers(&[10, 11, 12, 11, 40, 13, 10]), vec![4]);
        assert!(outliers(&[10, 11, 12, 11, 13]).is_empty());
        assert!(
            outliers(&[5, 5, 5, 500]).is_empty(),
            "zero MAD flags nothing"
        );
    }
}
