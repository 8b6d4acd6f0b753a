//! The statistics the report prints: median, ratio to the baseline, spread.
//!
//! Samples are nanoseconds per operation. Nothing here knows about columns
//! or workloads, so the functions are easy to test on their own.

/// The median of `samples`; the mean of the middle two for an even count.
/// `None` when there are no samples.
pub(crate) fn median(samples: &[f64]) -> Option<f64> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[mid]),
        _ => Some(f64::midpoint(sorted[mid - 1], sorted[mid])),
    }
}

/// `value / baseline`, or `None` when the baseline is not a positive number.
pub(crate) fn ratio(value: f64, baseline: f64) -> Option<f64> {
    (baseline > 0.0 && baseline.is_finite() && value.is_finite()).then(|| value / baseline)
}

/// The smallest and largest sample, or `None` when there are no samples.
pub(crate) fn spread(samples: &[f64]) -> Option<(f64, f64)> {
    let min = samples.iter().copied().min_by(f64::total_cmp)?;
    let max = samples.iter().copied().max_by(f64::total_cmp)?;
    Some((min, max))
}

/// Median and spread of one cell's samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Summary {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

impl Summary {
    /// `None` when there are no samples.
    pub(crate) fn of(samples: &[f64]) -> Option<Self> {
        let (min, max) = spread(samples)?;
        Some(Self {
            median: median(samples)?,
            min,
            max,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn median_ignores_input_order_and_outliers() {
        assert_eq!(median(&[1000.0, 1.0, 2.0, 3.0, 2.0]), Some(2.0));
    }

    #[test]
    fn ratio_to_the_baseline() {
        assert_eq!(ratio(10.0, 2.0), Some(5.0));
        assert_eq!(ratio(1.0, 4.0), Some(0.25));
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(ratio(1.0, -1.0), None);
        assert_eq!(ratio(f64::NAN, 1.0), None);
    }

    #[test]
    fn spread_is_min_and_max() {
        assert_eq!(spread(&[3.0, 9.0, 1.0, 4.0]), Some((1.0, 9.0)));
        assert_eq!(spread(&[5.0]), Some((5.0, 5.0)));
        assert_eq!(spread(&[]), None);
    }

    #[test]
    fn summary_combines_them() {
        let s = Summary::of(&[2.0, 8.0, 4.0]).unwrap();
        assert_eq!(
            s,
            Summary {
                median: 4.0,
                min: 2.0,
                max: 8.0
            }
        );
        assert!(Summary::of(&[]).is_none());
    }
}
