//! Writing to a server that closed its stdin must not kill the host, even a
//! host that left SIGPIPE at its default action.
//!
//! Alone in its binary: it changes this process's SIGPIPE disposition.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use codex_plugin_api::LogLevel;
use common::{Harness, shell};

#[test]
fn a_closed_stdin_is_an_error_not_a_signal() {
    // SAFETY: restores the default action, as a C host would have it.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let harness = Harness::new();
    let session = harness
        .connect(shell(r#"exec 0<&-; echo '{"stdin":"closed"}'; sleep 5"#))
        .unwrap();
    assert_eq!(session.message(), r#"{"stdin":"closed"}"#);
    // The write happens in `send` itself: it fails there, and the process lives.
    let error = session.connection.send(r#"{"id":1}"#).unwrap_err();
    assert!(
        error.message.contains("no longer accepts input") && error.message.contains("Broken pipe"),
        "{}",
        error.message
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    while !harness.logged(LogLevel::Debug, "stopped writing to MCP server `demo`") {
        assert!(Instant::now() < deadline, "the write did not fail");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(harness.logged(LogLevel::Debug, "Broken pipe"));
    session.connection.close().unwrap();
}
