//! A line past the 64 MiB cap ends the connection without being held.
//!
//! Alone in its binary so that the peak memory it reads is its own.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use codex_plugin_api::ErrorKind;
use common::{Harness, shell};

/// This process's peak resident memory, in bytes.
fn peak_resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .unwrap();
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kib * 1024
}

#[test]
fn an_over_long_line_is_a_protocol_error_and_is_not_buffered() {
    let harness = Harness::new();
    // 300 MB with no newline; holding it would show in the peak below.
    let session = harness
        .connect(shell("head -c 300000000 /dev/zero; sleep 30"))
        .unwrap();
    let started = Instant::now();
    let reason = session.closed(Duration::from_secs(8));
    assert_eq!(reason.kind, ErrorKind::Protocol);
    assert_eq!(
        reason.message.as_str(),
        "MCP server `demo` sent a line longer than 64 MiB; the connection was closed"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let peak = peak_resident_bytes();
    assert!(
        peak < 200 * 1024 * 1024,
        "peak resident memory {peak} bytes"
    );
    session.connection.close().unwrap();
    session.assert_quiet(Duration::from_millis(100));
}
