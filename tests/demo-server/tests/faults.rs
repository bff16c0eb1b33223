//! The start-up flags make the demo server misbehave in the promised ways.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use common::{initialize_request, spawn, text_of};
use serde_json::{Value, json};

#[test]
fn exit_at_start_exits_with_the_code() {
    let mut server = spawn(&["--exit-at-start", "4"]);
    let status = server.wait_exit(Duration::from_secs(10)).unwrap();
    assert_eq!(status.code(), Some(4));
    assert_eq!(
        server.stderr_line_with("exiting"),
        "demo server exiting at start with code 4 as asked"
    );
    assert_eq!(server.next_line(Duration::from_millis(100)), None);
}

#[test]
fn startup_delay_holds_back_the_first_answer() {
    let started = Instant::now();
    let mut server = spawn(&["--startup-delay-ms", "300"]);
    let result = server.initialize("2025-11-25");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "answered after {:?}",
        started.elapsed()
    );
    assert_eq!(result["protocolVersion"], "2025-11-25");
}

#[test]
fn never_initialize_answers_nothing_and_stays_alive() {
    let mut server = spawn(&["--never-initialize"]);
    server.send(&initialize_request(1, "2025-11-25"));
    assert_eq!(server.next_line(Duration::from_millis(500)), None);
    server.close_stdin();
    assert_eq!(server.wait_exit(Duration::from_millis(300)), None);
}

#[test]
fn garbage_stdout_prints_lines_that_are_not_json_before_serving() {
    let mut server = spawn(&["--garbage-stdout"]);
    server.send(&initialize_request(1, "2025-11-25"));
    let first = server.next_line(Duration::from_secs(10)).unwrap();
    assert_eq!(first, "this is not json");
    let mut garbage = 1;
    let reply = loop {
        let line = server.next_line(Duration::from_secs(10)).unwrap();
        match serde_json::from_str::<Value>(&line) {
            Ok(message) => break message,
            Err(_) => garbage += 1,
        }
    };
    assert!(garbage >= 2, "only {garbage} garbage lines");
    assert_eq!(reply["id"], 1);
    assert_eq!(reply["result"]["protocolVersion"], "2025-11-25");
}

#[test]
fn sigterm_ends_a_normal_server() {
    let mut server = spawn(&[]);
    server.initialize("2025-11-25");
    server.signal("TERM");
    let status = server.wait_exit(Duration::from_secs(10)).unwrap();
    assert_eq!(status.code(), None, "expected death by signal: {status}");
}

#[test]
fn ignore_sigterm_survives_sigterm_but_not_sigkill() {
    let mut server = spawn(&["--ignore-sigterm"]);
    // The handler is installed before stdin is read, so an answer proves it is in place.
    server.initialize("2025-11-25");
    server.signal("TERM");
    server.stderr_line_with("ignoring SIGTERM");
    assert_eq!(server.wait_exit(Duration::from_millis(300)), None);
    let result = server.call_tool(2, "echo", json!({ "message": "alive" }));
    assert_eq!(text_of(&result), "echo: alive");
    server.signal("KILL");
    let status = server.wait_exit(Duration::from_secs(10)).unwrap();
    assert_eq!(status.code(), None);
}

/// The process group of `pid`, from `/proc/<pid>/stat`.
fn process_group(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The command name may hold spaces, so count fields after its closing ')'.
    let after_name = &stat[stat.rfind(')').unwrap() + 1..];
    after_name
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap()
}

/// `/proc/<pid>/cmdline`, waiting (boundedly) past the moment inside `exec`
/// when the new image has no arguments yet and the file reads empty.
fn command_line_once_exec_is_done(pid: u32) -> Vec<u8> {
    let path = format!("/proc/{pid}/cmdline");
    for _ in 0..100 {
        let cmdline = std::fs::read(&path).unwrap();
        if !cmdline.is_empty() {
            return cmdline;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{path} stayed empty for a second");
}

/// Kills the reported child even when an assertion fails first.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-s", "KILL", &self.0.to_string()])
            .status();
    }
}

#[test]
fn spawn_child_reports_a_sleep_in_the_same_group_and_leaves_it_running() {
    let mut server = spawn(&["--spawn-child"]);
    let line = server.stderr_line_with("child pid");
    let child: u32 = line.strip_prefix("child pid ").unwrap().parse().unwrap();
    let _cleanup = KillOnDrop(child);
    assert_eq!(command_line_once_exec_is_done(child), b"sleep\x00300\x00");
    assert_eq!(process_group(child), process_group(server.pid()));

    server.initialize("2025-11-25");
    server.signal("KILL");
    server.wait_exit(Duration::from_secs(10)).unwrap();
    // Whoever starts the server has to clean up its group; the child is still there.
    assert!(std::path::Path::new(&format!("/proc/{child}")).exists());
}

#[test]
fn crash_on_shutdown_abort_dies_of_sigabrt_when_stdin_closes() {
    let mut server = spawn(&["--crash-on-shutdown", "abort"]);
    server.initialize("2025-11-25");
    let result = server.call_tool(2, "echo", json!({ "message": "before" }));
    assert_eq!(text_of(&result), "echo: before");
    server.close_stdin();
    let status = server.wait_exit(Duration::from_secs(10)).unwrap();
    assert_eq!(status.signal(), Some(6), "expected SIGABRT: {status}");
    server.stderr_line_with("crashing on shutdown with SIGABRT");
}

#[test]
fn crash_on_shutdown_abort_dies_of_sigabrt_on_sigterm() {
    let mut server = spawn(&["--crash-on-shutdown", "abort"]);
    // The handler is installed before stdin is read, so an answer proves it is in place.
    server.initialize("2025-11-25");
    server.signal("TERM");
    let status = server.wait_exit(Duration::from_secs(10)).unwrap();
    assert_eq!(status.signal(), Some(6), "expected SIGABRT: {status}");
}

#[test]
fn crash_on_shutdown_garbage_writes_garbage_and_exits_3() {
    let mut server = spawn(&["--crash-on-shutdown", "garbage"]);
    server.initialize("2025-11-25");
    server.close_stdin();
    assert_eq!(
        server.next_line(Duration::from_secs(10)).as_deref(),
        Some("this is not json")
    );
    let status = server.wait_exit(Duration::from_secs(10)).unwrap();
    assert_eq!(status.code(), Some(3));
    server.stderr_line_with("writing garbage and exiting with code 3");
}
