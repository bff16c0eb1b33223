//! The stdio transport against real processes.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use codex_plugin_api::{ErrorKind, LogLevel, Plugin, ServiceKind};
use codex_stdio::StdioPlugin;
use common::{Event, Harness, failure, shell};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn the_manifest_declares_one_stdio_transport() {
    let manifest = StdioPlugin::manifest();
    assert_eq!(manifest.name.as_str(), "stdio");
    assert_eq!(manifest.version.as_str(), env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest.services.len(), 1);
    assert_eq!(manifest.services[0].kind, ServiceKind::Transport);
    assert_eq!(manifest.services[0].name.as_str(), "stdio");
}

#[test]
fn messages_round_trip_through_cat_in_order() {
    let harness = Harness::new();
    let session = harness.connect(json!({ "command": "cat" })).unwrap();
    session
        .connection
        .send(r#"{"jsonrpc":"2.0","id":1}"#)
        .unwrap();
    session
        .connection
        .send(r#"{"jsonrpc":"2.0","id":2}"#)
        .unwrap();
    assert_eq!(session.message(), r#"{"jsonrpc":"2.0","id":1}"#);
    assert_eq!(session.message(), r#"{"jsonrpc":"2.0","id":2}"#);

    session.connection.close().unwrap();
    let reason = session.closed(WAIT);
    assert_eq!(reason.kind, ErrorKind::Unavailable);
    // Idempotent, and `closed` came once.
    session.connection.close().unwrap();
    session.assert_quiet(Duration::from_millis(200));
    let (kind, _) = failure(session.connection.send("{}"));
    assert_eq!(kind, ErrorKind::Unavailable);
}

#[test]
fn a_message_with_line_breaks_stays_one_line() {
    let harness = Harness::new();
    let session = harness.connect(json!({ "command": "cat" })).unwrap();
    session.connection.send("{\n  \"id\": 1\r\n}").unwrap();
    assert_eq!(session.message(), "{   \"id\": 1  }");
}

#[test]
fn the_working_directory_is_honoured() {
    let harness = Harness::new();
    let dir = tempfile::tempdir().unwrap();
    let session = harness
        .connect(json!({ "command": "pwd", "cwd": dir.path() }))
        .unwrap();
    let (messages, _) = session.drain(WAIT);
    assert_eq!(
        messages,
        [dir.path().canonicalize().unwrap().display().to_string()]
    );
}

#[test]
fn a_missing_working_directory_is_a_config_error() {
    let harness = Harness::new();
    let missing = harness.codex_home().join("nope");
    let (kind, message) = failure(harness.connect(json!({ "command": "cat", "cwd": missing })));
    assert_eq!(kind, ErrorKind::InvalidConfig);
    assert_eq!(
        message,
        format!(
            "mcp_servers.demo.cwd: directory `{}` does not exist; create it or fix the path",
            missing.display()
        )
    );
}

#[test]
fn a_missing_command_is_not_found() {
    let harness = Harness::new();
    let (kind, message) = failure(harness.connect(json!({ "command": "no-such-mcp-server-x" })));
    assert_eq!(kind, ErrorKind::NotFound);
    assert_eq!(
        message,
        "failed to start MCP server `demo`: `no-such-mcp-server-x` not found (is it installed and on PATH?)"
    );
}

#[test]
fn a_command_that_cannot_run_reports_the_os_error() {
    let harness = Harness::new();
    let dir = harness.codex_home();
    let (kind, message) = failure(harness.connect(json!({ "command": dir })));
    assert_eq!(kind, ErrorKind::Io);
    assert!(
        message.starts_with(&format!(
            "failed to start MCP server `demo`: `{}`: ",
            dir.display()
        )),
        "{message}"
    );
}

#[test]
fn bad_config_types_name_the_key() {
    let harness = Harness::new();
    let (kind, message) = failure(harness.connect(json!({ "command": "cat", "args": "-u" })));
    assert_eq!(kind, ErrorKind::InvalidConfig);
    assert_eq!(
        message,
        "mcp_servers.demo.args: expected an array of strings, found a string"
    );
    let (kind, message) =
        failure(harness.connect(
            json!({ "command": "cat", "env_vars": [{ "name": "X", "source": "remote" }] }),
        ));
    assert_eq!(kind, ErrorKind::InvalidConfig);
    assert_eq!(
        message,
        "mcp_servers.demo.env_vars[0].source: env_vars source `remote` needs a remote executor, which this host does not have"
    );
}

#[test]
fn a_server_that_exits_mid_conversation_reports_status_and_stderr() {
    let harness = Harness::new();
    let session = harness
        .connect(shell("read l; echo oops >&2; exit 3"))
        .unwrap();
    session.connection.send(r#"{"id":1}"#).unwrap();
    let reason = session.closed(WAIT);
    assert_eq!(reason.kind, ErrorKind::Unavailable);
    let log = harness.codex_home().join("log/mcp/demo.stderr.log");
    assert_eq!(
        reason.message.as_str(),
        format!(
            "MCP server `demo` exited (exit status: 3); last stderr: oops (full log: {})",
            log.display()
        )
    );
    let (kind, _) = failure(session.connection.send("{}"));
    assert_eq!(kind, ErrorKind::Unavailable);
    session.connection.close().unwrap();
    session.assert_quiet(Duration::from_millis(200));
}

#[test]
fn a_killed_server_reports_its_signal_and_silence() {
    let harness = Harness::new();
    let session = harness.connect(shell("kill -9 $$")).unwrap();
    let reason = session.closed(WAIT);
    assert!(
        reason.message.as_str().starts_with(
            "MCP server `demo` exited (killed by signal 9); last stderr: (no stderr output)"
        ),
        "{}",
        reason.message
    );
}

#[test]
fn output_before_exit_is_delivered_before_closed() {
    let harness = Harness::new();
    let session = harness
        .connect(shell(
            r#"i=0; while [ $i -lt 50 ]; do echo "{\"n\":$i}"; i=$((i+1)); done"#,
        ))
        .unwrap();
    let (messages, reason) = session.drain(WAIT);
    let expected: Vec<String> = (0..50).map(|n| format!("{{\"n\":{n}}}")).collect();
    assert_eq!(messages, expected);
    assert!(reason.message.as_str().contains("exit status: 0"));
}

#[test]
fn invalid_utf8_lines_are_skipped_with_a_warning() {
    let harness = Harness::new();
    let session = harness
        .connect(shell(r#"printf '\377\376\n{"ok":1}\n'; read l"#))
        .unwrap();
    assert_eq!(session.message(), r#"{"ok":1}"#);
    assert!(harness.logged(LogLevel::Warn, "sent a line that is not valid UTF-8"));
    session.connection.close().unwrap();
}

#[test]
fn stderr_is_appended_to_a_private_per_server_log() {
    let harness = Harness::new();
    let session = harness
        .connect_named(
            "logged",
            shell(r#"echo to-the-log >&2; echo '{"ready":true}'; read l"#),
        )
        .unwrap();
    assert_eq!(session.message(), r#"{"ready":true}"#);
    session.connection.close().unwrap();
    let path = harness.codex_home().join("log/mcp/logged.stderr.log");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("started (pid "), "{text}");
    assert!(text.ends_with("to-the-log\n"), "{text}");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn an_unwritable_log_leaves_the_tail_in_memory() {
    let harness = Harness::new();
    // A file where the log directory should be.
    std::fs::write(harness.codex_home().join("log"), "").unwrap();
    let session = harness.connect(shell("echo kept >&2; exit 1")).unwrap();
    let reason = session.closed(WAIT);
    assert_eq!(
        reason.message.as_str(),
        "MCP server `demo` exited (exit status: 1); last stderr: kept"
    );
    assert!(harness.logged(LogLevel::Warn, "cannot open the stderr log"));
}

#[test]
fn a_server_that_closes_stdout_but_keeps_running_is_stopped() {
    let harness = Harness::new();
    let started = Instant::now();
    let session = harness
        .connect(shell("exec >/dev/null; echo closing >&2; sleep 30"))
        .unwrap();
    let reason = session.closed(WAIT);
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(
        reason.message.as_str().starts_with(
            "MCP server `demo` closed its stdout and was stopped (killed by signal 9); last stderr: closing"
        ),
        "{}",
        reason.message
    );
}

#[test]
fn closed_comes_once_when_close_races_an_exit() {
    for _ in 0..5 {
        let harness = Harness::new();
        let session = harness.connect(shell("exit 0")).unwrap();
        session.connection.close().unwrap();
        assert!(matches!(session.next(WAIT), Event::Closed(_)));
        session.assert_quiet(Duration::from_millis(50));
    }
}
