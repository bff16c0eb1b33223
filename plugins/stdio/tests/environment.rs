//! The child's environment: the whitelist, `env_vars`, then `env`.
//!
//! One test only: it sets variables in this process's environment.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use codex_stdio::INHERITED_VARIABLES;
use common::Harness;
use serde_json::json;

#[test]
fn the_child_gets_the_whitelist_env_vars_and_env_only() {
    // SAFETY: this binary runs this single test, and nothing else in it reads
    // or writes the environment concurrently.
    unsafe {
        std::env::set_var("STDIO_TEST_SECRET", "must-not-leak");
        std::env::set_var("STDIO_TEST_FORWARDED", "forwarded");
        std::env::set_var("STDIO_TEST_TABLE_FORM", "table");
        std::env::set_var("STDIO_TEST_OVERRIDDEN", "from-parent");
        std::env::set_var("HOME", "/home/stdio-test");
        std::env::remove_var("STDIO_TEST_UNSET");
    }
    let harness = Harness::new();
    let session = harness
        .connect(json!({
            "command": "env",
            "env": { "FOO": "bar", "STDIO_TEST_OVERRIDDEN": "from-env" },
            "env_vars": [
                "STDIO_TEST_FORWARDED",
                { "name": "STDIO_TEST_TABLE_FORM", "source": "local" },
                "STDIO_TEST_OVERRIDDEN",
                "STDIO_TEST_UNSET"
            ],
        }))
        .unwrap();
    let (lines, _) = session.drain(Duration::from_secs(5));
    let environment: BTreeMap<String, String> = lines
        .iter()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();

    assert_eq!(environment["FOO"], "bar");
    assert_eq!(environment["STDIO_TEST_FORWARDED"], "forwarded");
    assert_eq!(environment["STDIO_TEST_TABLE_FORM"], "table");
    assert_eq!(environment["STDIO_TEST_OVERRIDDEN"], "from-env");
    assert_eq!(environment["HOME"], "/home/stdio-test");
    assert_eq!(environment.get("PATH"), std::env::var("PATH").ok().as_ref());
    assert!(!environment.contains_key("STDIO_TEST_SECRET"));
    assert!(!environment.contains_key("STDIO_TEST_UNSET"));
    let allowed = |name: &str| {
        INHERITED_VARIABLES.contains(&name) || name == "FOO" || name.starts_with("STDIO_TEST_")
    };
    for name in environment.keys() {
        assert!(allowed(name), "`{name}` reached the child");
    }
}
