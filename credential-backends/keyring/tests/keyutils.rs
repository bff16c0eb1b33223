//! The backend against the real kernel keyring, checked with `keyctl`, in
//! both directions. Each test joins a session keyring of its own first, so
//! its keys are not seen by other tests; account names are unique per run
//! because the persistent keyring (which keys are linked to) outlives it.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The Secret Service and the kernel keyring tested here are Linux stores.
#![cfg(target_os = "linux")]

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use std::{fs, thread};

use codex_plugin_api::ErrorKind;
use common::{
    AUTH, ChildRun, MCP, TestHost, backend, child_runner as run_child_ops, delete,
    join_new_session_keyring, keyctl, keyctl_read, keyutils_description, load, op_load, op_store,
    op_wait, run_in_child, store,
};
use serde_json::json;

const KEYUTILS: &str = r#"{"store": "keyutils"}"#;

/// Runs in the children; does nothing in a normal test run.
#[test]
fn child_runner() {
    run_child_ops();
}

fn unique(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{name}|{:x}{nanos:x}", std::process::id())
}

#[test]
fn stored_through_the_backend_read_back_with_keyctl() {
    join_new_session_keyring();
    let b = backend(&TestHost::default(), KEYUTILS).unwrap();
    let account = unique("cli");
    let description = keyutils_description(AUTH, &account);
    assert_eq!(description, format!("keyring-rs:{account}@Codex Auth"));

    assert_eq!(load(&b, AUTH, &account).unwrap(), None);
    store(&b, AUTH, &account, r#"{"OPENAI_API_KEY":"sk-kernel"}"#).unwrap();
    assert_eq!(
        keyctl_read(&description).as_deref(),
        Some(&br#"{"OPENAI_API_KEY":"sk-kernel"}"#[..])
    );
    store(&b, AUTH, &account, "replaced").unwrap();
    assert_eq!(keyctl_read(&description).as_deref(), Some(&b"replaced"[..]));
    assert_eq!(
        load(&b, AUTH, &account).unwrap().as_deref(),
        Some("replaced")
    );

    assert!(delete(&b, AUTH, &account).unwrap());
    assert_eq!(keyctl_read(&description), None);
    assert!(!delete(&b, AUTH, &account).unwrap());
}

#[test]
fn stored_with_keyctl_found_by_the_backend() {
    join_new_session_keyring();
    let account = unique("docs");
    let description = keyutils_description(MCP, &account);
    let added = keyctl(&["padd", "user", &description, "@s"], Some(b"from-keyctl"));
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );

    let b = backend(&TestHost::default(), KEYUTILS).unwrap();
    assert_eq!(
        load(&b, MCP, &account).unwrap().as_deref(),
        Some("from-keyctl")
    );
    assert!(delete(&b, MCP, &account).unwrap());
}

#[test]
fn a_value_over_the_kernel_limit_is_refused_whole_and_the_old_one_kept() {
    join_new_session_keyring();
    let b = backend(&TestHost::default(), KEYUTILS).unwrap();
    let account = unique("big");
    store(&b, MCP, &account, "small").unwrap();

    let big = "x".repeat(40_000);
    let error = store(&b, MCP, &account, &big).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Io);
    assert!(
        error.message.contains("the secret is 40000 bytes and this store holds at most 32767 bytes per entry; nothing was written"),
        "{}",
        error.message
    );
    assert!(error.message.contains("the kernel keyring (keyutils)"));
    assert_eq!(load(&b, MCP, &account).unwrap().as_deref(), Some("small"));

    // The largest value the kernel takes goes in and comes back whole.
    let largest = "y".repeat(32_767);
    store(&b, MCP, &account, &largest).unwrap();
    assert_eq!(
        load(&b, MCP, &account).unwrap().map(|v| v.len()),
        Some(32_767)
    );
    assert!(delete(&b, MCP, &account).unwrap());

    let error = store(&b, MCP, &account, "").unwrap_err();
    assert!(
        error.message.contains("the secret is empty"),
        "{}",
        error.message
    );
}

#[test]
fn two_processes_storing_100_entries_each_lose_none() {
    join_new_session_keyring();
    let dir = tempfile::tempdir().unwrap();
    let go = dir.path().join("go");
    let prefix = unique("run").replace('|', "-");
    let account = |id: &str, i: usize| format!("{prefix}-{id}-{i}|0000000000000000");
    let mut runs = Vec::new();
    for id in ["a", "b"] {
        let ready = dir.path().join(format!("ready-{id}"));
        let mut ops = vec![op_wait(&ready, &go)];
        ops.extend((0..100).map(|i| op_store(MCP, &account(id, i), &format!("token-{id}-{i}"))));
        runs.push((ready, ChildRun::spawn(KEYUTILS, &ops, &[])));
    }
    let started = Instant::now();
    while !runs.iter().all(|(ready, _)| ready.exists()) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the writers did not start"
        );
        thread::sleep(Duration::from_millis(5));
    }
    fs::write(&go, "").unwrap();
    for (_, run) in runs {
        for result in run.finish().0 {
            assert!(result.get("ok").is_some(), "{result}");
        }
    }
    let loads: Vec<_> = ["a", "b"]
        .iter()
        .flat_map(|id| (0..100).map(move |i| (id.to_string(), i)))
        .map(|(id, i)| op_load(MCP, &account(&id, i)))
        .collect();
    let results = run_in_child(KEYUTILS, &loads, &[]);
    let b = backend(&TestHost::default(), KEYUTILS).unwrap();
    let mut index = 0;
    for id in ["a", "b"] {
        for i in 0..100 {
            assert_eq!(
                results[index]["ok"],
                json!(format!("token-{id}-{i}")),
                "{id}-{i} was lost"
            );
            index += 1;
            delete(&b, MCP, &account(id, i)).unwrap();
        }
    }
}
