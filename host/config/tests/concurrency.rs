//! Concurrent `codex mcp add`s into one CODEX_HOME never lose a server:
//! from threads, and from separate processes (this test binary re-run as a
//! child).

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use codex_config::edit::{NewMcpServer, add_mcp_server, user_config_path};

const CHILD_ENV: &str = "CODEX_CONFIG_TEST_CHILD";

fn server(i: usize) -> NewMcpServer {
    NewMcpServer::Stdio {
        command: format!("srv-{i}"),
        args: vec!["--flag".into()],
        env: BTreeMap::from([("K".to_string(), i.to_string())]),
    }
}

fn server_names(home: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(user_config_path(home)).unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap();
    let mut names: Vec<String> = table["mcp_servers"]
        .as_table()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

fn expected_names(workers: usize, per_worker: usize) -> Vec<String> {
    let mut names: Vec<String> = (0..workers)
        .flat_map(|w| (0..per_worker).map(move |i| format!("w{w}-s{i}")))
        .collect();
    names.sort();
    names
}

#[test]
fn ten_threads_adding_twenty_servers_each_leave_two_hundred() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(user_config_path(home.path()), "# keep me\nmodel = \"o3\"\n").unwrap();
    std::thread::scope(|scope| {
        for w in 0..10 {
            let home = home.path();
            scope.spawn(move || {
                for i in 0..20 {
                    add_mcp_server(home, &format!("w{w}-s{i}"), server(i)).unwrap();
                }
            });
        }
    });
    assert_eq!(server_names(home.path()), expected_names(10, 20));
    let text = std::fs::read_to_string(user_config_path(home.path())).unwrap();
    assert!(text.starts_with("# keep me\nmodel = \"o3\"\n"));
}

/// Not a test of its own: the body of each child process of the test below.
#[test]
#[ignore = "run as a child process by processes_adding_at_once_never_lose_a_server"]
fn child_adder() {
    let spec = std::env::var(CHILD_ENV).unwrap();
    let (home, worker) = spec.rsplit_once('|').unwrap();
    for i in 0..20 {
        add_mcp_server(Path::new(home), &format!("w{worker}-s{i}"), server(i)).unwrap();
    }
}

#[test]
fn processes_adding_at_once_never_lose_a_server() {
    let home = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..5)
        .map(|w| {
            Command::new(&exe)
                .args(["--exact", "child_adder", "--ignored", "--test-threads=1"])
                .env(CHILD_ENV, format!("{}|{w}", home.path().display()))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "child failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(server_names(home.path()), expected_names(5, 20));
}
