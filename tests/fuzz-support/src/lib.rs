//! What every fuzz target shares (the `fuzz_*` property tests; SECURITY.md,
//! "Fuzzing", lists them and how to run them).

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::test_runner::Config;

/// A target's config: `default` cases, so that `cargo test` stays quick, or
/// `PROPTEST_CASES` for a longer run.
pub fn cases(default: u32) -> Config {
    Config::with_cases(
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(default),
    )
}
