//! `codex mcp tools` and `codex mcp call` over the HTTP transport plugin,
//! against server-everything (streamable HTTP and HTTP+SSE), the Python MCP
//! SDK, and small servers of our own for bearer tokens and expiring sessions.

use codex_test_support::server;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use codex_test_support::{Home, built_library, server_everything, stderr, stdout};
use serde_json::Value;
use server::{Request, Responder, TestServer, echo_mcp};

/// A server process on 127.0.0.1, killed when dropped.
pub(crate) struct Peer {
    child: Child,
    port: u16,
}

impl Peer {
    /// Runs `command` (which must listen on `port`) and waits until it does.
    pub(crate) fn start(mut command: Command, port: u16, what: &str) -> Peer {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {what}: {error}"));
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{what} exited before listening ({status})");
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{what} did not listen on port {port} within 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Peer { child, port }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// server-everything in `mode` (`streamableHttp` or `sse`).
pub(crate) fn everything(mode: &str) -> Peer {
    let (node, script) = server_everything();
    let port = free_port();
    let mut command = Command::new(node);
    command.arg(script).arg(mode).env("PORT", port.to_string());
    Peer::start(command, port, &format!("server-everything {mode}"))
}

/// tests/python/echo_server.py on the Python MCP SDK.
fn python_server(extra: &[&str]) -> Peer {
    let python_dir = codex_test_support::workspace_root().join("tests/python");
    let python = python_dir.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `bash tests/python/setup.sh` (tests/setup.sh runs it) to install the pinned Python MCP SDK",
        python.display()
    );
    let port = free_port();
    let mut command = Command::new(python);
    command
        .arg(python_dir.join("echo_server.py"))
        .arg(port.to_string())
        .args(extra);
    Peer::start(command, port, "the Python MCP server")
}

/// A home whose `codex` finds the HTTP plugin next to itself, with `config`.
pub(crate) fn home_with(config: &str) -> Home {
    built_library("codex_streamable_http");
    let home = Home::new();
    home.write_config(config);
    home
}

/// `codex mcp tools NAME --json`: the tool names, or the failure.
fn tool_names(home: &Home, name: &str) -> Vec<String> {
    let output = home
        .codex()
        .args(["mcp", "tools", name, "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let listing: Value = serde_json::from_slice(&output.stdout).unwrap();
    let server = &listing["servers"][0];
    assert_eq!(server["name"], name);
    assert_eq!(server["status"], "ok", "{listing}");
    server["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["name"].as_str().unwrap().to_string())
        .collect()
}

/// `codex mcp call NAME TOOL --args ARGS`, which must succeed; its stdout.
fn call(home: &Home, name: &str, tool: &str, args: &str) -> String {
    let output = home
        .codex()
        .args(["mcp", "call", name, tool, "--args", args])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

fn assert_everything_works(home: &Home, name: &str) {
    let tools = tool_names(home, name);
    for expected in ["echo", "get-sum"] {
        assert!(
            tools.iter().any(|t| t == expected),
            "{expected} in {tools:?}"
        );
    }
    assert_eq!(
        call(home, name, "get-sum", r#"{"a":2,"b":3}"#),
        "The sum of 2 and 3 is 5.\n"
    );
}

#[test]
fn server_everything_over_streamable_http() {
    let peer = everything("streamableHttp");
    let home = home_with(&format!(
        "[mcp_servers.everything]\nurl = \"{}\"\n",
        peer.url("/mcp")
    ));
    assert_everything_works(&home, "everything");
    assert_eq!(
        call(&home, "everything", "echo", r#"{"message":"over http"}"#),
        "Echo: over http\n"
    );
}

#[test]
fn a_long_tool_streams_its_progress_to_the_user() {
    let peer = everything("streamableHttp");
    let home = home_with(&format!(
        "[mcp_servers.everything]\nurl = \"{}\"\n",
        peer.url("/mcp")
    ));
    let output = home
        .codex()
        .args([
            "--verbose",
            "mcp",
            "call",
            "everything",
            "trigger-long-running-operation",
        ])
        .args(["--args", r#"{"duration":1,"steps":3}"#])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let progress = String::from_utf8_lossy(&output.stderr);
    for step in 1..=3 {
        assert!(
            progress.contains(&format!("everything: progress {step}/3")),
            "{progress}"
        );
    }
    assert!(String::from_utf8_lossy(&output.stdout).contains("Long running operation completed"));
}

#[test]
fn server_everything_over_http_sse() {
    let peer = everything("sse");
    // Chosen explicitly, and found by falling back from streamable HTTP.
    let home = home_with(&format!(
        "[mcp_servers.legacy]\nurl = \"{url}\"\ntransport = \"sse\"\n\n[mcp_servers.fallback]\nurl = \"{url}\"\n",
        url = peer.url("/sse")
    ));
    assert_everything_works(&home, "legacy");
    assert_everything_works(&home, "fallback");
}

#[test]
fn the_python_sdk_server_with_event_stream_and_json_answers() {
    for extra in [&[][..], &["--json-response"][..]] {
        let peer = python_server(extra);
        let home = home_with(&format!(
            "[mcp_servers.py]\nurl = \"{}\"\n",
            peer.url("/mcp")
        ));
        let mut tools = tool_names(&home, "py");
        tools.sort();
        assert_eq!(tools, ["add", "echo"], "{extra:?}");
        assert_eq!(call(&home, "py", "add", r#"{"a":2,"b":3}"#), "5\n");
        assert_eq!(
            call(&home, "py", "echo", r#"{"message":"from python"}"#),
            "from python\n"
        );
    }
}

#[test]
fn with_2026_07_28_on_a_server_that_speaks_it_is_used_without_initialize_and_others_fall_back() {
    let python = python_server(&[]);
    let everything = everything("streamableHttp");
    let home = home_with(&format!(
        "[features]\nmcp_protocol_2026_07_28 = true\n\
         [mcp_servers.py]\nurl = \"{}\"\n\
         [mcp_servers.everything]\nurl = \"{}\"\n",
        python.url("/mcp"),
        everything.url("/mcp")
    ));
    for (name, tool, args, expected, revision) in [
        ("py", "add", r#"{"a":2,"b":3}"#, "5\n", "2026-07-28"),
        (
            "everything",
            "echo",
            r#"{"message":"hi"}"#,
            "Echo: hi\n",
            "2025-11-25",
        ),
    ] {
        let output = home
            .codex()
            .args(["--verbose", "mcp", "call", name, tool, "--args", args])
            .output()
            .unwrap();
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        assert_eq!(stdout(&output), expected);
        assert!(
            stderr(&output).contains(&format!("MCP server `{name}` speaks MCP {revision}")),
            "{name}: {}",
            stderr(&output)
        );
    }
}

/// A minimal MCP server: sessions `s1`, `s2`, ...; an `echo` tool; 405 to GET.
/// `gate` may answer a request itself (returning true).
fn mini_mcp(
    gate: impl Fn(&Request, &mut Responder<'_>) -> bool + Send + Sync + 'static,
) -> TestServer {
    let sessions = AtomicUsize::new(0);
    TestServer::start(move |request, reply| {
        if gate(request, reply) {
            return;
        }
        echo_mcp(request, reply, &sessions);
    })
}

const TOKEN: &str = "T-7d2c91e4-bearer-secret";

/// Every file under `dir`, read as text.
fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                found.push((path, String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
    }
    found
}

/// `codex -v ARGS` with the bearer token in the environment, which must
/// succeed; its stdout and stderr are added to `shown`.
fn with_token(home: &Home, args: &[&str], shown: &mut String) -> std::process::Output {
    let output = home
        .codex()
        .env("CODEX_TEST_HTTP_TOKEN", TOKEN)
        .arg("-v")
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    shown.push_str(&stdout(&output));
    shown.push_str(&stderr(&output));
    output
}

#[test]
fn a_bearer_token_from_the_environment_is_sent_and_never_shown() {
    let bearer = format!("Bearer {TOKEN}");
    let server = mini_mcp(move |request, reply| {
        if request.header_count("authorization") != 1
            || request.header("authorization") != Some(bearer.as_str())
        {
            reply.send(
                401,
                "application/json",
                &[("WWW-Authenticate", "Bearer")],
                r#"{"error":"invalid_token"}"#,
            );
            return true;
        }
        false
    });
    let home = home_with(&format!(
        "[mcp_servers.secure]\nurl = \"{url}\"\nbearer_token_env_var = \"CODEX_TEST_HTTP_TOKEN\"\n\n\
         [mcp_servers.open]\nurl = \"{url}\"\n",
        url = server.url("/mcp")
    ));
    let mut shown = String::new();

    // With the token: works, even with plugin logs on (-v).
    let output = with_token(
        &home,
        &[
            "mcp",
            "call",
            "secure",
            "echo",
            "--args",
            r#"{"message":"let me in"}"#,
        ],
        &mut shown,
    );
    assert_eq!(stdout(&output), "let me in\n");
    let posts = server.posts("tools/call");
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].header_count("authorization"), 1);

    // Every machine-readable output, with the token set: it is not in any.
    let tools = with_token(&home, &["mcp", "tools", "secure", "--json"], &mut shown);
    let listing: Value = serde_json::from_slice(&tools.stdout).unwrap();
    assert_eq!(
        listing["servers"][0]["tools"][0]["name"], "echo",
        "{listing}"
    );
    let called = with_token(
        &home,
        &[
            "mcp",
            "call",
            "secure",
            "echo",
            "--json",
            "--args",
            r#"{"message":"as json"}"#,
        ],
        &mut shown,
    );
    let result: Value = serde_json::from_slice(&called.stdout).unwrap();
    assert_eq!(result["content"][0]["text"], "as json", "{result}");
    let list = with_token(&home, &["mcp", "list", "--json"], &mut shown);
    let servers: Value = serde_json::from_slice(&list.stdout).unwrap();
    let secure = servers
        .as_array()
        .unwrap()
        .iter()
        .find(|server| server["name"] == "secure")
        .unwrap();
    assert_eq!(secure["auth_status"], "bearer_token", "{servers}");
    assert_eq!(
        secure["transport"]["bearer_token_env_var"], "CODEX_TEST_HTTP_TOKEN",
        "{servers}"
    );
    let get = with_token(&home, &["mcp", "get", "secure", "--json"], &mut shown);
    let shown_server: Value = serde_json::from_slice(&get.stdout).unwrap();
    assert_eq!(
        shown_server["transport"]["bearer_token_env_var"], "CODEX_TEST_HTTP_TOKEN",
        "{shown_server}"
    );
    for text_command in [&["mcp", "list"][..], &["mcp", "get", "secure"]] {
        let output = with_token(&home, text_command, &mut shown);
        assert!(
            stdout(&output).contains("CODEX_TEST_HTTP_TOKEN"),
            "{}",
            stdout(&output)
        );
    }

    // Without the variable, or with it empty: a configuration error naming
    // it, before anything is sent.
    let sent = server.requests().len();
    for (value, problem) in [(None, "is not set"), (Some(""), "is empty")] {
        for command in [
            &["mcp", "tools", "secure"][..],
            &["mcp", "call", "secure", "echo", "--args", "{}"],
        ] {
            let mut codex = home.codex();
            match value {
                Some(value) => codex.env("CODEX_TEST_HTTP_TOKEN", value),
                None => codex.env_remove("CODEX_TEST_HTTP_TOKEN"),
            };
            let output = codex.args(command).output().unwrap();
            assert_eq!(
                output.status.code(),
                Some(1),
                "{command:?}: {}",
                stderr(&output)
            );
            let errors = stderr(&output);
            let line = errors
                .lines()
                .find(|line| line.starts_with("error: "))
                .unwrap_or_else(|| panic!("no error line in:\n{errors}"));
            assert!(
                line.contains(&format!(
                    "Environment variable CODEX_TEST_HTTP_TOKEN for MCP server 'secure' {problem}"
                )),
                "{command:?}: {errors}"
            );
        }
    }
    assert_eq!(
        server.requests().len(),
        sent,
        "a request went out without a token"
    );

    // A wrong token: the server's 401, naming the variable, not its value.
    let output = home
        .codex()
        .env("CODEX_TEST_HTTP_TOKEN", "wrong-token-value")
        .args(["-v", "mcp", "tools", "secure"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(
        text.contains(
            "MCP server `secure` rejected the bearer token from `CODEX_TEST_HTTP_TOKEN` (HTTP 401)"
        ),
        "{text}"
    );
    assert!(!text.contains("wrong-token-value"), "{text}");

    // No token configured at all: how to log in.
    let output = home
        .codex()
        .env("CODEX_TEST_HTTP_TOKEN", TOKEN)
        .args(["-v", "mcp", "tools", "open"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(
        text.contains("MCP server `open` requires authorization (HTTP 401); run `codex mcp login open`, or set `bearer_token_env_var`"),
        "{text}"
    );
    shown.push_str(&stdout(&output));
    shown.push_str(&text);

    assert!(!shown.contains(TOKEN), "the token leaked: {shown}");
    for (path, text) in files_under(home.path()) {
        assert!(
            !text.contains(TOKEN),
            "the token leaked into {}",
            path.display()
        );
    }
}

#[test]
fn an_expired_session_is_started_again_within_one_call() {
    // The session is forgotten right after the handshake, once.
    let forgot = AtomicBool::new(false);
    let server = mini_mcp(move |request, reply| {
        if request.method == "POST"
            && request.rpc_method().as_deref() == Some("tools/call")
            && !forgot.swap(true, Ordering::SeqCst)
        {
            reply.send(
                404,
                "application/json",
                &[],
                r#"{"error":"unknown session"}"#,
            );
            return true;
        }
        false
    });
    let home = home_with(&format!(
        "[mcp_servers.forgetful]\nurl = \"{}\"\n",
        server.url("/mcp")
    ));
    let output = home
        .codex()
        .args(["-v", "mcp", "call", "forgetful", "echo", "--args"])
        .arg(r#"{"message":"still here"}"#)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "still here\n");
    assert!(
        stderr(&output).contains("started a new session after the old one expired"),
        "{}",
        stderr(&output)
    );
    assert_eq!(server.posts("initialize").len(), 2, "one re-initialize");
    let calls: Vec<Option<String>> = server
        .posts("tools/call")
        .iter()
        .map(|r| r.header("mcp-session-id").map(str::to_owned))
        .collect();
    assert_eq!(calls, [Some("s1".to_string()), Some("s2".to_string())]);
}

#[test]
fn a_server_that_is_not_running_is_reported_as_such() {
    let port = free_port();
    let home = home_with(&format!(
        "[mcp_servers.down]\nurl = \"http://127.0.0.1:{port}/mcp\"\n"
    ));
    let output = home
        .codex()
        .args(["mcp", "call", "down", "echo"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains(&format!(
            "MCP client for `down` failed to start: cannot connect to http://127.0.0.1:{port}/mcp: connection refused; is the server running?"
        )),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_host_that_does_not_resolve_is_named_in_one_line() {
    let home = Home::new();
    let output = home
        .codex()
        .args(["mcp", "tools", "--url", "http://does-not-exist.invalid/mcp"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    let line = errors
        .lines()
        .find(|line| line.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line in:\n{errors}"));
    assert!(
        line.contains(
            "cannot connect to http://does-not-exist.invalid/mcp: cannot resolve host `does-not-exist.invalid`"
        ) && line.ends_with("check the URL"),
        "{errors}"
    );
}

/// tests/python/echo_server.py serving on `listener`, handed to it as file
/// descriptor 3 (as systemd socket activation hands a socket to a service),
/// with its log in `log`.
fn python_server_on(listener: &TcpListener, extra: &[&str], log: &Path) -> Child {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let python_dir = codex_test_support::workspace_root().join("tests/python");
    let python = python_dir.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `bash tests/python/setup.sh` (tests/setup.sh runs it)",
        python.display()
    );
    let fd = listener.as_raw_fd();
    let mut command = Command::new(python);
    command
        .arg(python_dir.join("echo_server.py"))
        .args(["--fd", "3"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    // SAFETY: between fork and exec only async-signal-safe calls (dup2, fcntl).
    unsafe {
        command.pre_exec(move || {
            // dup2 gives fd 3 without close-on-exec; when the listener is
            // already fd 3, its close-on-exec flag is cleared instead.
            let done = if fd == 3 {
                libc::fcntl(3, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, 3)
            };
            if done < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.spawn().expect("start the Python MCP server")
}

/// Waits at most `limit` for `child` to exit by itself.
fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills a server process when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The session expires because the real server is restarted in the middle of
/// one `codex mcp call` (one `codex` process is one session, so a restart
/// between two commands would meet two fresh sessions and test nothing).
///
/// The Python SDK server answers the handshake, then stops accepting and
/// exits by itself (`--exit-after-handshake`), forgetting its sessions, and
/// the test starts it again on the same listening socket, which the test
/// holds and hands to each process (as socket activation does): the
/// requests `codex` sends meanwhile wait in the socket's backlog rather than
/// being refused, and reach the new process with the old session id. Its 404
/// makes the plugin start a new session once and send the call again.
#[test]
fn a_server_restarted_in_the_middle_of_a_session_gets_a_new_session() {
    built_library("codex_streamable_http");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let logs = tempfile::tempdir().unwrap();
    let (first_log, second_log) = (
        logs.path().join("first.log"),
        logs.path().join("second.log"),
    );
    let mut first = Running(python_server_on(
        &listener,
        &["--exit-after-handshake"],
        &first_log,
    ));
    // MCP 2026-07-28, which the Python SDK speaks, has no sessions: the
    // session this test is about is 2025-11-25's.
    let home = home_with(&format!(
        "[features]\nmcp_protocol_2026_07_28 = false\n\
         [mcp_servers.restarting]\nurl = \"http://127.0.0.1:{port}/mcp\"\n\
         startup_timeout_sec = 60\ntool_timeout_sec = 60\n"
    ));
    let call = std::thread::spawn({
        let mut codex = home.codex();
        codex
            .args(["-v", "mcp", "call", "restarting", "echo", "--args"])
            .arg(r#"{"message":"after a restart"}"#);
        move || codex.output().unwrap()
    });
    let exited = wait_exit(&mut first.0, Duration::from_secs(60));
    drop(first);
    let _second = Running(python_server_on(&listener, &[], &second_log));
    let output = call.join().unwrap();
    let first_log_text = std::fs::read_to_string(&first_log).unwrap_or_default();
    let second_log_text = std::fs::read_to_string(&second_log).unwrap_or_default();
    let everything = format!(
        "codex:\n{}\nfirst server:\n{first_log_text}\nsecond server:\n{second_log_text}",
        stderr(&output)
    );
    assert!(
        exited.is_some_and(|status| status.success()),
        "the first server did not exit by itself after the handshake ({exited:?}):\n{everything}"
    );
    assert!(output.status.success(), "{everything}");
    assert_eq!(stdout(&output), "after a restart\n");
    assert!(
        stderr(&output).contains("started a new session after the old one expired"),
        "{}",
        stderr(&output)
    );
    // The first process started the one session and the second, asked for
    // it, refused it before starting a new one.
    let created = |log: &str| -> Vec<String> {
        log.lines()
            .filter_map(|line| line.strip_prefix("Created new transport with session ID: "))
            .map(str::to_owned)
            .collect()
    };
    let first_sessions = created(&first_log_text);
    assert_eq!(first_sessions.len(), 1, "{everything}");
    assert!(
        second_log_text.contains(&format!(
            "Rejected request with unknown or expired session ID: {}",
            first_sessions[0]
        )),
        "{everything}"
    );
    assert_eq!(created(&second_log_text).len(), 1, "{everything}");
}

/// A new CA that signed nothing, written to `dir`; its `ca.pem`.
fn test_ca(dir: &Path) -> PathBuf {
    let python_dir = codex_test_support::workspace_root().join("tests/python");
    let status = Command::new(python_dir.join(".venv/bin/python"))
        .arg(python_dir.join("test_ca.py"))
        .arg(dir)
        .status()
        .expect("run tests/python/test_ca.py");
    assert!(status.success());
    dir.join("ca.pem")
}

/// HTTPS with a certificate from a CA made for the test: trusted through
/// `SSL_CERT_FILE` (which rustls-platform-verifier reads on Linux through
/// rustls-native-certs, in place of the system store), and refused in one
/// line when the file names another CA.
#[test]
fn an_https_server_is_trusted_through_ssl_cert_file() {
    let certificates = tempfile::tempdir().unwrap();
    let server_ca_dir = certificates.path().join("server");
    let peer = python_server(&["--tls", server_ca_dir.to_str().unwrap()]);
    let other_ca_dir = certificates.path().join("other");
    std::fs::create_dir(&other_ca_dir).unwrap();
    let other_ca = test_ca(&other_ca_dir);
    let url = format!("https://127.0.0.1:{}/mcp", peer.port);
    let home = home_with(&format!("[mcp_servers.tls]\nurl = \"{url}\"\n"));

    let trusted = |command: &[&str]| {
        home.codex()
            .env("SSL_CERT_FILE", server_ca_dir.join("ca.pem"))
            .env_remove("SSL_CERT_DIR")
            .args(command)
            .output()
            .unwrap()
    };
    let output = trusted(&[
        "mcp",
        "call",
        "tls",
        "echo",
        "--args",
        r#"{"message":"over tls"}"#,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "over tls\n");
    let output = trusted(&["mcp", "tools", "--url", &url, "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let listing: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(listing["servers"][0]["status"], "ok", "{listing}");

    let output = home
        .codex()
        .env("SSL_CERT_FILE", &other_ca)
        .env_remove("SSL_CERT_DIR")
        .args(["mcp", "call", "tls", "echo", "--args", "{}"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    let error_lines: Vec<&str> = errors
        .lines()
        .filter(|line| line.starts_with("error: "))
        .collect();
    assert_eq!(
        error_lines,
        [format!(
            "error: MCP client for `tls` failed to start: cannot connect to {url}: TLS handshake failed (invalid peer certificate: UnknownIssuer)"
        )],
        "{errors}"
    );
}
