//! The gateway with peers nobody here wrote: the MCP Inspector CLI listing
//! and calling tools through it, two gateways behind nginx (Debian's
//! package) with the README's configuration, and 50 Python SDK clients ×
//! 100 calls with the gateway's descriptors, memory and processes bounded.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use codex_test_support::{Home, workspace_root};
use serde_json::{Value, json};

use super::gateway::{Listener, client, demo_table, wait_bounded};

const TOKEN: &str = "gateway-peers-token-51b2";

/// The Inspector CLI's entry point, from tests/package-lock.json.
fn inspector() -> PathBuf {
    let script = workspace_root()
        .join("tests/node_modules/@modelcontextprotocol/inspector-cli/build/index.js");
    assert!(
        script.exists(),
        "the MCP Inspector CLI is not installed at {}: run tests/setup.sh",
        script.display()
    );
    script
}

/// Runs the Inspector CLI with `args`; its JSON answer.
fn inspect(args: &[&str]) -> Value {
    let script = inspector();
    let node = std::env::var("CODEX_TEST_NODE").unwrap_or_else(|_| "node".to_string());
    // It finds its own package.json relative to the working directory.
    let child = Command::new(node)
        .arg(&script)
        .args(args)
        .current_dir(script.parent().unwrap())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = wait_bounded(child, Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "inspector {args:?}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
}

#[test]
fn the_inspector_cli_lists_and_calls_tools_through_the_gateway() {
    let home = Home::new();
    home.write_config(&demo_table("demo", ""));
    let listener = Listener::start(
        &home,
        &["--token-env-var", "GATEWAY_TOKEN"],
        &[("GATEWAY_TOKEN", TOKEN)],
    );
    let url = listener.url();
    let auth = format!("Authorization: Bearer {TOKEN}");
    let common = [
        url.as_str(),
        "--transport",
        "http",
        "--header",
        auth.as_str(),
    ];
    let listed = inspect(&[&common[..], &["--method", "tools/list"]].concat());
    let names: Vec<&str> = listed["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"))
        .iter()
        .filter_map(|tool| tool["name"].as_str())
        .collect();
    assert!(names.contains(&"mcp__demo__add"), "{names:?}");
    let called = inspect(
        &[
            &common[..],
            &[
                "--method",
                "tools/call",
                "--tool-name",
                "mcp__demo__add",
                "--tool-arg",
                "a=2",
                "b=3",
            ],
        ]
        .concat(),
    );
    assert_eq!(called["content"][0]["text"], "5", "{called}");
    assert_eq!(called["isError"], false, "{called}");
}

/// A port free on 127.0.0.1 now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The README's nginx configuration (its one ```nginx block).
fn readme_nginx() -> String {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let start = readme
        .find("```nginx\n")
        .expect("the README has an nginx configuration")
        + "```nginx\n".len();
    let end = start + readme[start..].find("```").unwrap();
    readme[start..end].to_string()
}

/// nginx (Debian's, installed by tests/setup.sh) running in the
/// foreground on `config` with its files in `dir`.
struct Nginx {
    child: Child,
    log: PathBuf,
}

impl Nginx {
    fn start(dir: &std::path::Path, site: &str, port: u16) -> Nginx {
        let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|path| std::path::Path::new(path).exists())
            .expect("nginx is not installed: run tests/setup.sh (it installs Debian's nginx)");
        let log = dir.join("access.log");
        let d = dir.display();
        let config = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 512; }}\nhttp {{\n\
             log_format mcp '$upstream_addr $http_mcp_session_id';\naccess_log {d}/access.log mcp;\n\
             client_body_temp_path {d}/body;\nproxy_temp_path {d}/proxy;\nfastcgi_temp_path {d}/fastcgi;\n\
             uwsgi_temp_path {d}/uwsgi;\nscgi_temp_path {d}/scgi;\n{site}\n}}\n"
        );
        let path = dir.join("nginx.conf");
        std::fs::write(&path, config).unwrap();
        let child = Command::new(nginx)
            .args(["-p", &d.to_string(), "-c", &path.display().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
                let _ = stream.write_all(
                    b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                );
                let mut answer = String::new();
                let _ = stream.read_to_string(&mut answer);
                if answer.starts_with("HTTP/1.1 200") {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not answer on {port}: {}",
                std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Nginx { child, log }
    }

    /// `(upstream address, session id)` of every request nginx passed on.
    fn passed(&self) -> Vec<(String, String)> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|line| {
                let (upstream, session) = line.split_once(' ').unwrap_or((line, "-"));
                (upstream.to_string(), session.to_string())
            })
            .collect()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn two_gateways_behind_nginx_keep_sessions_by_their_id_and_share_sessionless_calls() {
    let home = Home::new();
    home.write_config(&demo_table("demo", ""));
    let env = [("GW_TOKEN", TOKEN)];
    let a = Listener::start(
        &home,
        &["--token-env-var", "GW_TOKEN", "--instance-id", "a"],
        &env,
    );
    let b = Listener::start(
        &home,
        &["--token-env-var", "GW_TOKEN", "--instance-id", "b"],
        &env,
    );
    let port = free_port();
    let site = readme_nginx()
        .replace("127.0.0.1:8765", a.address())
        .replace("127.0.0.1:8766", b.address())
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    let dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(dir.path(), &site, port);
    let url = format!("http://127.0.0.1:{port}/mcp");
    let run = |options: &[&str], steps: Value| -> Value {
        let mut mode: Vec<String> = options.iter().map(|option| option.to_string()).collect();
        mode.extend([
            "http".into(),
            url.clone(),
            "--token-env".into(),
            "GW_TOKEN".into(),
        ]);
        let output = super::gateway::client_with(&home, &mode, &steps, &env);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    };

    // 2025-11-25: six sessions, each on the instance that made it.
    let counts = run(
        &[],
        json!([{"op": "parallel", "clients": 6, "calls": 10,
                "name": "mcp__demo__echo", "args": {"message": "x"}}]),
    );
    assert_eq!(counts["failed"], json!([]), "{counts}");
    assert_eq!(counts["ok"], 60, "{counts}");
    let passed = nginx.passed();
    let mut instances = std::collections::BTreeSet::new();
    for (upstream, session) in &passed {
        if let Some((instance, _)) = session.split_once('.') {
            let expected = if instance == "a" {
                a.address()
            } else {
                b.address()
            };
            assert_eq!(upstream, expected, "session {session}: {passed:?}");
            instances.insert(instance.to_string());
        }
    }
    assert_eq!(
        instances.into_iter().collect::<Vec<_>>(),
        ["a", "b"],
        "sessions were made on both instances: {passed:?}"
    );

    // 2026-07-28: no session; the calls land on both instances.
    let before = passed.len();
    let counts = run(
        &["--discover"],
        json!([{"op": "parallel", "clients": 2, "calls": 10,
                "name": "mcp__demo__echo", "args": {"message": "y"}}]),
    );
    assert_eq!(counts["failed"], json!([]), "{counts}");
    assert_eq!(counts["ok"], 20, "{counts}");
    let sessionless: std::collections::BTreeSet<String> = nginx.passed()[before..]
        .iter()
        .filter(|(_, session)| session == "-")
        .map(|(upstream, _)| upstream.clone())
        .collect();
    assert!(
        sessionless.contains(a.address()) && sessionless.contains(b.address()),
        "{sessionless:?}"
    );
}

/// The open descriptors, resident memory (KiB) and child processes of `pid`.
fn footprint(pid: u32) -> (usize, u64, usize) {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap();
    let children = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|task| {
            let task = task.ok()?;
            std::fs::read_to_string(task.path().join("children")).ok()
        })
        .map(|children| children.split_whitespace().count())
        .sum();
    (fds, rss, children)
}

#[test]
fn fifty_clients_times_a_hundred_calls_leak_no_descriptor_memory_or_process() {
    let home = Home::new();
    home.write_config(&demo_table("demo", ""));
    let listener = Listener::start(&home, &["--no-auth", "--max-concurrent", "512"], &[]);
    let load = |calls: u64| {
        let output = client(
            &home,
            &["http".to_string(), listener.url()],
            &json!([{"op": "parallel", "clients": 50, "calls": calls,
                     "name": "mcp__demo__echo", "args": {"message": "load"}}]),
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let counts: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(counts["failed"], json!([]), "{counts}");
        assert_eq!(counts["ok"], 50 * calls, "{counts}");
    };
    // A first round brings the gateway to its working size.
    load(5);
    std::thread::sleep(Duration::from_millis(500));
    let (fds, rss, children) = footprint(listener.pid());
    load(100);
    std::thread::sleep(Duration::from_millis(500));
    let (fds_after, rss_after, children_after) = footprint(listener.pid());
    assert_eq!(children, 1, "one upstream process");
    assert_eq!(children_after, 1, "still one upstream process");
    assert!(
        fds_after <= fds + 8,
        "descriptors {fds} before, {fds_after} after"
    );
    assert!(
        rss_after <= rss + 32 * 1024,
        "resident memory {rss} KiB before, {rss_after} KiB after"
    );
}
