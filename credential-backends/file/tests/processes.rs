//! Two processes writing one `.credentials.json` at the same time.
//!
//! The test re-runs this test binary twice, each copy running only
//! `child_writer`, which stores 100 keys when the environment tells it to.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use std::{env, fs, thread};

use codex_file::{FileBackend, mcp_account_key};
use codex_plugin_api::CredentialBackend;
use common::{MCP, token_record};

const DIR_VAR: &str = "CODEX_FILE_CREDENTIALS_TEST_WRITER_DIR";
const ID_VAR: &str = "CODEX_FILE_CREDENTIALS_TEST_WRITER_ID";
const KEYS_PER_WRITER: usize = 100;

fn url(id: &str, i: usize) -> String {
    format!("http://127.0.0.1:9/{id}/{i}")
}

/// Waits (bounded) until `path` exists.
fn wait_for(path: &Path, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if path.exists() {
            return true;
        }
        thread::sleep(Duration::from_millis(5));
    }
    false
}

/// A writer when run as a child of `two_processes_storing_at_once_lose_nothing`;
/// does nothing otherwise.
#[test]
fn child_writer() {
    let Ok(dir) = env::var(DIR_VAR) else {
        return;
    };
    let id = env::var(ID_VAR).unwrap();
    let dir = Path::new(&dir);
    // Both writers start together, so their writes interleave.
    fs::write(dir.join(format!("ready-{id}")), "").unwrap();
    assert!(wait_for(&dir.join("go"), Duration::from_secs(10)));

    let backend = FileBackend::new(dir.join("home"));
    for i in 0..KEYS_PER_WRITER {
        let name = format!("{id}-{i}");
        let record = token_record(&name, &url(&id, i), &format!("token-{id}-{i}"), None);
        backend
            .store(
                MCP,
                &mcp_account_key(&name, &url(&id, i)),
                &record.to_string(),
            )
            .unwrap();
    }
}

fn spawn_writer(dir: &Path, id: &str) -> Child {
    Command::new(env::current_exe().unwrap())
        .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
        .env(DIR_VAR, dir)
        .env(ID_VAR, id)
        .spawn()
        .unwrap()
}

#[test]
fn two_processes_storing_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ids = ["a", "b"];
    let mut children: Vec<Child> = ids.iter().map(|id| spawn_writer(dir.path(), id)).collect();
    for id in ids {
        assert!(
            wait_for(
                &dir.path().join(format!("ready-{id}")),
                Duration::from_secs(10)
            ),
            "writer {id} did not start"
        );
    }
    fs::write(dir.path().join("go"), "").unwrap();

    let deadline = Instant::now() + Duration::from_secs(60);
    for child in &mut children {
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                child.kill().unwrap();
                panic!("a writer did not finish in time");
            }
            thread::sleep(Duration::from_millis(10));
        };
        assert!(status.success(), "writer failed: {status}");
    }

    let backend = FileBackend::new(dir.path().join("home"));
    for id in ids {
        for i in 0..KEYS_PER_WRITER {
            let name = format!("{id}-{i}");
            let secret = backend
                .load(MCP, &mcp_account_key(&name, &url(id, i)))
                .unwrap()
                .unwrap_or_else(|| panic!("{name} was lost"));
            let secret: serde_json::Value = serde_json::from_str(&secret).unwrap();
            assert_eq!(
                secret["token_response"]["access_token"],
                format!("token-{id}-{i}")
            );
        }
    }
    let text = fs::read_to_string(dir.path().join("home/.credentials.json")).unwrap();
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(map.len(), 2 * KEYS_PER_WRITER);
}
