//! Medians and spreads of samples.

/// The median of `values` (the mean of the middle two for an even count);
/// NaN when there are none.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

/// The smallest and largest of `values`.
pub fn range(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), v| {
            (low.min(*v), high.max(*v))
        })
}

/// The order in which round `round` runs its `n` sides: a rotation, so that
/// every side goes first as often as every other (drift and warm caches hit
/// all of them alike).
pub fn rotation(round: usize, n: usize) -> Vec<usize> {
    (0..n).map(|i| (i + round) % n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn rotations_put_every_side_first_in_turn() {
        assert_eq!(rotation(0, 2), vec![0, 1]);
        assert_eq!(rotation(1, 2), vec![1, 0]);
        assert_eq!(rotation(2, 3), vec![2, 0, 1]);
    }
}
