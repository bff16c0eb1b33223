//! The backend against a real Secret Service (gnome-keyring on a private
//! D-Bus session bus), checked with `secret-tool`, in both directions.
//!
//! The backend runs in child processes of this test binary, which get the
//! private bus's address in their environment (see `common::ChildRun`).

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The Secret Service and the kernel keyring tested here are Linux stores.
#![cfg(target_os = "linux")]

mod common;

use std::ffi::OsString;
use std::time::{Duration, Instant};
use std::{fs, thread};

use common::{
    AUTH, ChildRun, MCP, SecretService, child_runner as run_child_ops, join_new_session_keyring,
    keyctl, keyctl_read, keyutils_description, op_delete, op_load, op_store, op_wait, run_in_child,
};
use serde_json::{Value, json};

const SS: &str = r#"{"store": "secret-service", "timeout_secs": 20}"#;
const DOCS: &str = "docs|9a70b85417749d5c";

/// Runs in the children; does nothing in a normal test run.
#[test]
fn child_runner() {
    run_child_ops();
}

fn ok(result: &Value) -> &Value {
    result
        .get("ok")
        .unwrap_or_else(|| panic!("operation failed: {result}"))
}

fn err(result: &Value) -> (&str, &str) {
    let error = result
        .get("err")
        .unwrap_or_else(|| panic!("operation succeeded: {result}"));
    (
        error["kind"].as_str().unwrap(),
        error["message"].as_str().unwrap(),
    )
}

#[test]
fn stored_through_the_backend_read_back_with_secret_tool() {
    let ss = SecretService::start();
    let record = r#"{"server_name":"docs","url":"https://example.com/mcp","token_response":{"access_token":"at-1"}}"#;
    let results = run_in_child(
        SS,
        &[
            op_store(MCP, DOCS, record),
            op_store(AUTH, "cli|00aa", "sk-first"),
        ],
        &ss.env(),
    );
    ok(&results[0]);
    ok(&results[1]);

    assert_eq!(ss.lookup(MCP, DOCS).as_deref(), Some(record));
    assert_eq!(ss.lookup(AUTH, "cli|00aa").as_deref(), Some("sk-first"));

    // Written with the attributes Codex's keyring library writes and searches.
    let items = ss.search(MCP, DOCS);
    assert_eq!(items.len(), 1, "{items:?}");
    for attribute in [
        "attribute.service = Codex MCP Credentials",
        &format!("attribute.username = {DOCS}"),
        "attribute.target = default",
        "attribute.application = rust-keyring",
    ] {
        assert!(
            items[0].contains(attribute),
            "{attribute} missing in {}",
            items[0]
        );
    }

    // Replacing updates the one item.
    let results = run_in_child(SS, &[op_store(AUTH, "cli|00aa", "sk-second")], &ss.env());
    ok(&results[0]);
    assert_eq!(ss.lookup(AUTH, "cli|00aa").as_deref(), Some("sk-second"));
    assert_eq!(ss.search(AUTH, "cli|00aa").len(), 1);

    // Deleting removes it; a second delete finds nothing.
    let results = run_in_child(
        SS,
        &[
            op_delete(AUTH, "cli|00aa"),
            op_delete(AUTH, "cli|00aa"),
            op_load(AUTH, "cli|00aa"),
        ],
        &ss.env(),
    );
    assert_eq!(ok(&results[0]), &json!(true));
    assert_eq!(ok(&results[1]), &json!(false));
    assert_eq!(ok(&results[2]), &Value::Null);
    assert_eq!(ss.lookup(AUTH, "cli|00aa"), None);
    assert_eq!(ss.lookup(MCP, DOCS).as_deref(), Some(record));
}

#[test]
fn stored_with_secret_tool_found_by_the_backend() {
    let ss = SecretService::start();
    // As Codex's keyring 3 writes it (all four attributes) ...
    let output = ss.secret_tool(
        &[
            "store",
            "--label=docs@Codex MCP Credentials:default (keyring v3.6.3)",
            "service",
            MCP,
            "username",
            DOCS,
            "target",
            "default",
            "application",
            "rust-keyring",
        ],
        Some("from-codex"),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // ... and as a person would with only the two that matter.
    let output = ss.secret_tool(
        &[
            "store",
            "--label=by hand",
            "service",
            AUTH,
            "username",
            "cli|11bb",
        ],
        Some("by-hand"),
    );
    assert!(output.status.success());

    let results = run_in_child(
        SS,
        &[
            op_load(MCP, DOCS),
            op_load(AUTH, "cli|11bb"),
            op_load(AUTH, "cli|missing"),
        ],
        &ss.env(),
    );
    assert_eq!(ok(&results[0]), &json!("from-codex"));
    assert_eq!(ok(&results[1]), &json!("by-hand"));
    assert_eq!(ok(&results[2]), &Value::Null);
}

#[test]
fn duplicate_items_are_an_error_on_read_and_cleaned_up_on_write() {
    let ss = SecretService::start();
    for (extra, value) in [("one", "first"), ("two", "second")] {
        let output = ss.secret_tool(
            &[
                "store",
                "--label=dup",
                "service",
                AUTH,
                "username",
                "cli|dup",
                "extra",
                extra,
            ],
            Some(value),
        );
        assert!(output.status.success());
    }
    let results = run_in_child(
        SS,
        &[
            op_load(AUTH, "cli|dup"),
            op_store(AUTH, "cli|dup", "fixed"),
            op_load(AUTH, "cli|dup"),
        ],
        &ss.env(),
    );
    let (kind, message) = err(&results[0]);
    assert_eq!(kind, "protocol");
    assert!(message.contains("2 entries match"), "{message}");
    assert!(
        message.contains("secret-tool clear service 'Codex Auth' username 'cli|dup'"),
        "{message}"
    );
    assert!(
        !message.contains("first") && !message.contains("second"),
        "{message}"
    );
    ok(&results[1]);
    assert_eq!(ok(&results[2]), &json!("fixed"));
    assert_eq!(ss.search(AUTH, "cli|dup").len(), 1);
}

#[test]
fn a_large_value_round_trips_whole() {
    let ss = SecretService::start();
    // Larger than the kernel keyring's limit: the Secret Service has none.
    let big: String = (0..100_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let results = run_in_child(
        SS,
        &[
            op_store(MCP, "big|0000000000000000", &big),
            op_load(MCP, "big|0000000000000000"),
        ],
        &ss.env(),
    );
    ok(&results[0]);
    assert_eq!(ok(&results[1]).as_str().map(str::len), Some(big.len()));
    assert_eq!(ok(&results[1]), &json!(big));
    assert_eq!(
        ss.lookup(MCP, "big|0000000000000000").as_deref(),
        Some(big.as_str())
    );
}

/// An environment whose session bus does not exist.
fn no_bus_env(dir: &std::path::Path) -> Vec<(OsString, OsString)> {
    vec![
        (
            "DBUS_SESSION_BUS_ADDRESS".into(),
            format!("unix:path={}", dir.join("no-bus").display()).into(),
        ),
        ("XDG_RUNTIME_DIR".into(), dir.as_os_str().to_owned()),
    ]
}

#[test]
fn no_secret_service_is_an_unavailable_error_naming_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let results = run_in_child(
        SS,
        &[op_load(AUTH, "cli|x"), op_store(AUTH, "cli|x", "v")],
        &no_bus_env(dir.path()),
    );
    for result in &results {
        let (kind, message) = err(result);
        assert_eq!(kind, "unavailable");
        assert!(
            message.starts_with(
                "no keyring is reachable: the Secret Service (D-Bus org.freedesktop.secrets) is \
                 not reachable: "
            ),
            "{message}"
        );
        assert!(message.contains("store = \"keyutils\""), "{message}");
    }
}

#[test]
fn auto_uses_the_kernel_keyring_when_no_secret_service_is_reachable() {
    join_new_session_keyring();
    let dir = tempfile::tempdir().unwrap();
    let run = ChildRun::spawn(
        r#"{"store": "auto"}"#,
        &[
            op_store(AUTH, "cli|auto", "in-the-kernel"),
            op_load(AUTH, "cli|auto"),
        ],
        &no_bus_env(dir.path()),
    );
    let (results, logs) = run.finish();
    ok(&results[0]);
    assert_eq!(ok(&results[1]), &json!("in-the-kernel"));
    assert_eq!(
        keyctl_read(&keyutils_description(AUTH, "cli|auto")).as_deref(),
        Some(&b"in-the-kernel"[..])
    );
    assert!(
        logs.iter().any(|line| line
            .contains("the Secret Service (D-Bus org.freedesktop.secrets) is not reachable")
            && line.contains("using the kernel keyring (keyutils)")),
        "{logs:?}"
    );
}

#[test]
fn a_kernel_keyring_copy_of_a_secret_service_value_is_kept_in_step() {
    // Codex's keyring 3 caches Secret Service values in the kernel keyring
    // and reads the cache first: a stale copy would hide an update.
    join_new_session_keyring();
    let ss = SecretService::start();
    let description = keyutils_description(AUTH, "cli|cache");
    let added = keyctl(&["padd", "user", &description, "@s"], Some(b"old-cached"));
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );

    let results = run_in_child(SS, &[op_store(AUTH, "cli|cache", "new-value")], &ss.env());
    ok(&results[0]);
    assert_eq!(
        keyctl_read(&description).as_deref(),
        Some(&b"new-value"[..])
    );

    let results = run_in_child(SS, &[op_delete(AUTH, "cli|cache")], &ss.env());
    assert_eq!(ok(&results[0]), &json!(true));
    assert_eq!(keyctl_read(&description), None);

    // No copy is made where there was none.
    let results = run_in_child(SS, &[op_store(AUTH, "cli|nocache", "v")], &ss.env());
    ok(&results[0]);
    assert_eq!(
        keyctl_read(&keyutils_description(AUTH, "cli|nocache")),
        None
    );
}

#[test]
fn two_processes_storing_100_entries_each_lose_none() {
    let ss = SecretService::start();
    let dir = tempfile::tempdir().unwrap();
    let go = dir.path().join("go");
    let mut runs = Vec::new();
    for id in ["a", "b"] {
        let ready = dir.path().join(format!("ready-{id}"));
        let mut ops = vec![op_wait(&ready, &go)];
        ops.extend((0..100).map(|i| {
            op_store(
                MCP,
                &format!("{id}-{i}|0000000000000000"),
                &format!("token-{id}-{i}"),
            )
        }));
        runs.push((ready, ChildRun::spawn(SS, &ops, &ss.env())));
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
        let (results, _) = run.finish();
        for result in &results {
            ok(result);
        }
    }
    let loads: Vec<_> = ["a", "b"]
        .iter()
        .flat_map(|id| (0..100).map(move |i| op_load(MCP, &format!("{id}-{i}|0000000000000000"))))
        .collect();
    let results = run_in_child(SS, &loads, &ss.env());
    let mut index = 0;
    for id in ["a", "b"] {
        for i in 0..100 {
            assert_eq!(
                ok(&results[index]),
                &json!(format!("token-{id}-{i}")),
                "{id}-{i} was lost"
            );
            index += 1;
        }
    }
}
