//! The one rule for the `timeout_secs` option every credential backend
//! takes: the host checks it in config (where it can point at the line)
//! and bounds its own wait by it, the backends check it again when they get
//! their options, and both say the same thing.

use std::time::Duration;

/// The longest a backend may be told to wait for its store: an hour. A
/// prompt that takes longer is one nobody is answering.
pub const MAX_TIMEOUT_SECS: f64 = 3600.0;

/// What a valid value is, for error messages.
pub const TIMEOUT_SECS_RULE: &str = "a number of seconds above 0 and at most 3600";

/// `seconds` as a duration, when it is a valid `timeout_secs`.
pub fn timeout_secs(seconds: f64) -> Option<Duration> {
    (seconds.is_finite() && seconds > 0.0 && seconds <= MAX_TIMEOUT_SECS)
        .then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn above_zero_and_at_most_an_hour() {
        assert_eq!(timeout_secs(0.5), Some(Duration::from_millis(500)));
        assert_eq!(timeout_secs(3600.0), Some(Duration::from_secs(3600)));
        for bad in [0.0, -1.0, 3600.5, f64::NAN, f64::INFINITY] {
            assert_eq!(timeout_secs(bad), None, "{bad}");
        }
    }
}
