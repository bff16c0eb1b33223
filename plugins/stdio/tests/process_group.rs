//! Closing or dropping a connection ends every process of the server's group.
//!
//! This binary makes itself a child subreaper, so the server's orphaned
//! helpers are reparented here and can be reaped by the test: otherwise a
//! killed helper may linger as a zombie (which `kill(pid, 0)` still finds)
//! under an init that does not reap.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io;
use std::time::{Duration, Instant};

use common::{Harness, Session, shell};

/// The ids a server script prints: its helper's pid and its own (the group id).
fn ids(session: &Session) -> (libc::pid_t, libc::pid_t) {
    let message: serde_json::Value = serde_json::from_str(&session.message()).unwrap();
    let pid = message["pid"].as_i64().unwrap() as libc::pid_t;
    let pgid = message["pgid"].as_i64().unwrap() as libc::pid_t;
    (pid, pgid)
}

fn become_subreaper() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes one integer argument.
    unsafe {
        assert_eq!(libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1), 0);
    }
}

/// Reaps the members of group `pgid` that were reparented here once they
/// die, until none is left; gives up after a second.
fn reap_orphans(pgid: libc::pid_t) {
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        let mut status = 0;
        // SAFETY: `status` is a valid out pointer; `-pgid` selects children
        // in that group only, never another test's server.
        let reaped = unsafe { libc::waitpid(-pgid, &mut status, libc::WNOHANG) };
        if reaped == -1 {
            return;
        }
        if reaped == 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn assert_gone(pid: libc::pid_t, pgid: libc::pid_t) {
    reap_orphans(pgid);
    // SAFETY: signal 0 only checks for existence.
    let process = unsafe { libc::kill(pid, 0) };
    assert_eq!(process, -1, "helper {pid} still exists");
    assert_eq!(io::Error::last_os_error().raw_os_error(), Some(libc::ESRCH));
    // SAFETY: as above, for the group.
    let group = unsafe { libc::killpg(pgid, 0) };
    assert_eq!(group, -1, "group {pgid} still exists");
    assert_eq!(io::Error::last_os_error().raw_os_error(), Some(libc::ESRCH));
}

const PRINT_IDS: &str = r#"sleep 300 & echo "{\"pid\":$!,\"pgid\":$$}"; sleep 300"#;

#[test]
fn close_ends_the_whole_group_quickly() {
    become_subreaper();
    let harness = Harness::new();
    let session = harness.connect(shell(PRINT_IDS)).unwrap();
    let (pid, pgid) = ids(&session);
    let started = Instant::now();
    session.connection.close().unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert_gone(pid, pgid);
}

#[test]
fn close_kills_a_group_that_ignores_sigterm_after_the_grace_period() {
    become_subreaper();
    let harness = Harness::new();
    let session = harness
        .connect(shell(&format!("trap '' TERM; {PRINT_IDS}")))
        .unwrap();
    let (pid, pgid) = ids(&session);
    let started = Instant::now();
    session.connection.close().unwrap();
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1900), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_gone(pid, pgid);
}

#[test]
fn dropping_a_connection_cleans_up_like_close() {
    become_subreaper();
    let harness = Harness::new();
    let session = harness.connect(shell(PRINT_IDS)).unwrap();
    let (pid, pgid) = ids(&session);
    drop(session.connection);
    assert!(matches!(
        session.events.recv_timeout(Duration::from_secs(1)),
        Ok(common::Event::Closed(_))
    ));
    assert_gone(pid, pgid);
}

#[test]
fn helpers_left_behind_by_an_exited_server_are_killed() {
    become_subreaper();
    let harness = Harness::new();
    let session = harness
        .connect(shell(
            r#"sleep 300 >/dev/null 2>&1 & echo "{\"pid\":$!,\"pgid\":$$}"; exit 0"#,
        ))
        .unwrap();
    let (pid, pgid) = ids(&session);
    let reason = session.closed(Duration::from_secs(5));
    assert!(
        reason.message.as_str().contains("exit status: 0"),
        "{}",
        reason.message
    );
    assert_gone(pid, pgid);
}
