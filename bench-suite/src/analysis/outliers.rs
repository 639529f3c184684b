//! Outlier flagging by the modified z-score of Iglewicz and Hoaglin.

use crate::analysis::summary::{mad, median};

/// Modified z-scores above this are outliers (Iglewicz and Hoaglin's recommendation).
pub const CUTOFF: f64 = 3.5;

/// Fewer samples than this are too few to call any of them an outlier.
pub const MIN_SAMPLES: usize = 5;

/// The MAD is floored at this fraction of the median, so that very stable samples quantised by
/// the timer do not flag a sample a few ticks away.
pub const MAD_FLOOR: f64 = 0.005;

/// Indices of the samples whose modified z-score `0.6745 * |x - median| / MAD` exceeds
/// [`CUTOFF`], the MAD floored at [`MAD_FLOOR`] of the median.
pub fn outliers(samples: &[u64]) -> Vec<usize> {
    if samples.len() < MIN_SAMPLES {
        return Vec::new();
    }
    let m = median(samples);
    let spread = mad(samples).max(m * MAD_FLOOR);
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
