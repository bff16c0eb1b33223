//! The fault matrix: servers and users that break things at the worst
//! moment. Each case checks what the user sees (exit status, a one-line
//! reason) and that nothing on disk was lost (the config file byte for byte,
//! or, for interrupted writes, every server whose `mcp add` finished).
//!
//! Faults covered elsewhere: a server exiting mid-call, a hung tool and a
//! server that never initializes (mcp_session.rs), a panicking, a hanging
//! (connect, send, close; a credential backend's set-up, read, write,
//! delete) and an incompatible plugin (plugins.rs), refused OAuth logins and
//! SIGINT during `mcp login` (oauth_login.rs), a keyring that disappears or
//! freezes mid-run (credential_stores.rs).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use codex_test_support::{Home, demo_server, stderr, stdout};

/// A home whose config has `servers` (TOML text) and the config's bytes.
fn home_with(servers: &str) -> (Home, Vec<u8>) {
    let home = Home::new();
    home.write_config(&format!("# kept as it is\n{servers}"));
    let bytes = std::fs::read(home.config_path()).unwrap();
    (home, bytes)
}

fn unchanged(home: &Home, before: &[u8]) {
    assert_eq!(
        std::fs::read(home.config_path()).unwrap(),
        before,
        "the config file changed"
    );
}

fn stdio_server(name: &str, args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|arg| format!("\"{arg}\"")).collect();
    format!(
        "[mcp_servers.{name}]\ncommand = \"{}\"\nargs = [{}]\nstartup_timeout_sec = 10\n",
        demo_server().display(),
        args.join(", ")
    )
}

#[test]
fn a_server_crashing_at_start_fails_alone_with_its_status_and_stderr() {
    let (home, before) =
        home_with(&(stdio_server("crash", &["--exit-at-start", "4"]) + &stdio_server("fine", &[])));
    let output = home.codex().args(["mcp", "tools"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let errors = stderr(&output);
    assert!(
        errors.contains("MCP server `crash` exited (exit status: 4); last stderr: demo server exiting at start with code 4 as asked"),
        "{errors}"
    );
    assert!(
        stdout(&output).contains("mcp__fine__echo"),
        "the other server still lists"
    );
    unchanged(&home, &before);
}

#[test]
fn garbage_on_stdout_before_the_protocol_is_skipped() {
    let (home, before) = home_with(&stdio_server("noisy", &["--garbage-stdout"]));
    let output = home
        .codex()
        .args([
            "mcp",
            "call",
            "noisy",
            "echo",
            "--args",
            r#"{"message":"hi"}"#,
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("echo: hi"), "{}", stdout(&output));
    unchanged(&home, &before);
}

#[test]
fn a_server_that_ignores_sigterm_is_killed_on_close() {
    let (home, before) = home_with(&stdio_server("stubborn", &["--ignore-sigterm"]));
    let started = Instant::now();
    let output = home
        .codex()
        .args([
            "mcp",
            "call",
            "stubborn",
            "add",
            "--args",
            r#"{"a":2,"b":3}"#,
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains('5'));
    // SIGTERM, a grace period, then SIGKILL: bounded, not a hang.
    assert!(started.elapsed() < Duration::from_secs(60));
    unchanged(&home, &before);
}

/// How an HTTP test server misbehaves.
#[derive(Clone, Copy)]
enum Http {
    /// 500 with a body.
    ServerError,
    /// Closes every connection without answering.
    Reset,
    /// Accepts and never sends headers.
    SlowHeaders,
    /// A JSON body without a length that never ends (a gigabyte at most).
    EndlessJson,
    /// An SSE event that grows forever (a gigabyte at most).
    EndlessEvent,
}

fn serve(kind: Http) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(50) {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                    line.clear();
                }
                match kind {
                    Http::ServerError => {
                        let body = "database is down";
                        let _ = write!(
                            stream,
                            "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    Http::Reset => drop(stream),
                    Http::SlowHeaders => std::thread::sleep(Duration::from_secs(30)),
                    Http::EndlessJson => send_endless(&mut stream, false),
                    Http::EndlessEvent => send_endless(&mut stream, true),
                }
            });
        }
    });
    format!("http://127.0.0.1:{port}/mcp")
}

fn http_fails(kind: Http, expected: &str) {
    let url = serve(kind);
    let (home, before) = home_with(&format!(
        "[mcp_servers.web]\nurl = \"{url}\"\nstartup_timeout_sec = 3\n"
    ));
    let started = Instant::now();
    let output = home.codex().args(["mcp", "tools", "web"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let errors = stderr(&output);
    assert!(
        errors.contains(expected),
        "expected `{expected}` in:\n{errors}"
    );
    assert!(!errors.contains("panicked"), "{errors}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    unchanged(&home, &before);
}

#[test]
fn an_http_500_names_the_status_and_the_start_of_the_body() {
    http_fails(Http::ServerError, "database is down");
}

#[test]
fn a_connection_closed_without_an_answer_is_one_clear_error() {
    http_fails(Http::Reset, "MCP client for `web` failed to start");
}

#[test]
fn a_server_that_never_sends_headers_hits_the_startup_timeout() {
    http_fails(Http::SlowHeaders, "timed out");
}

/// SIGINT at many moments of `mcp add`: the config always parses and keeps
/// every server whose add finished.
#[test]
fn sigint_during_a_config_write_loses_nothing() {
    let home = Home::new();
    home.write_config("# my servers\n");
    let mut finished = Vec::new();
    for index in 0..24u64 {
        let name = format!("s{index}");
        let mut child = std::process::Command::new(codex_test_support::codex_bin())
            .env("CODEX_HOME", home.path())
            .env("CODEX_SYSTEM_CONFIG", home.path().join("none.toml"))
            .env(
                "CODEX_MANAGED_CONFIG",
                home.path().join("none-managed.toml"),
            )
            .args(["mcp", "add", &name, "--", "server-binary", "--flag"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // From at once to well after the write: 0, 3, 6, ... ms.
        std::thread::sleep(Duration::from_millis(index * 3));
        // SAFETY: kill with a pid this test spawned and has not reaped.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGINT);
        }
        let status = child.wait().unwrap();
        if status.success() {
            finished.push(name);
        }
        let text = home.read_config();
        let parsed: toml::Table = toml::from_str(&text)
            .unwrap_or_else(|error| panic!("config broken after SIGINT {index}: {error}\n{text}"));
        assert!(
            text.contains("# my servers\n"),
            "the comment was lost:\n{text}"
        );
        let servers = parsed
            .get("mcp_servers")
            .and_then(toml::Value::as_table)
            .cloned()
            .unwrap_or_default();
        for name in &finished {
            assert!(servers.contains_key(name), "`{name}` was lost:\n{text}");
        }
    }
    assert!(
        finished.len() < 24,
        "no `mcp add` was interrupted: the test proves nothing"
    );
    // The file is still one the next write takes.
    let last = home
        .codex()
        .args(["mcp", "add", "last", "--", "server-binary"])
        .output()
        .unwrap();
    assert!(last.status.success(), "{}", stderr(&last));
    let text = home.read_config();
    for name in finished.iter().chain(["last".to_owned()].iter()) {
        assert!(
            text.contains(&format!("[mcp_servers.{name}]")),
            "`{name}` was lost:\n{text}"
        );
    }
}

/// Runs `codex` with `args` in `home`; its output and peak RSS in KiB.
fn run_measured(home: &Home, args: &[&str]) -> (std::process::Output, i64) {
    let child = std::process::Command::new(codex_test_support::codex_bin())
        .env("CODEX_HOME", home.path())
        .env("CODEX_SYSTEM_CONFIG", home.path().join("none.toml"))
        .env(
            "CODEX_MANAGED_CONFIG",
            home.path().join("none-managed.toml"),
        )
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let reader = std::thread::spawn(move || {
        let mut child = child;
        let mut out = Vec::new();
        let mut err = Vec::new();
        use std::io::Read;
        child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
        child.stderr.take().unwrap().read_to_end(&mut err).unwrap();
        (out, err)
    });
    let (out, err) = reader.join().unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 reaps the child this test spawned and writes only the
    // two locals it is given.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    let output = std::process::Output {
        status: std::os::unix::process::ExitStatusExt::from_raw(status),
        stdout: out,
        stderr: err,
    };
    (output, usage.ru_maxrss)
}

/// The most a failing oversized answer may cost: the 64 MiB limit on one
/// message (a line, a body, an event) with room for one copy of it.
const MAX_RSS_KIB: i64 = 400 * 1024;

#[test]
fn a_100_mb_line_from_a_stdio_server_fails_the_call_with_bounded_memory() {
    let (home, before) = home_with(&stdio_server("big", &[]));
    let (output, rss) = run_measured(
        &home,
        &[
            "mcp",
            "call",
            "big",
            "large",
            "--args",
            r#"{"bytes":100000000}"#,
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("MiB"),
        "the error names the limit: {}",
        stderr(&output)
    );
    assert!(rss < MAX_RSS_KIB, "peak RSS {rss} KiB");
    eprintln!("peak RSS {rss} KiB; {}", stderr(&output));
    unchanged(&home, &before);
}

/// An answer that never ends: a JSON body (no length) or an SSE event that
/// grows forever, up to a gigabyte; the client stops long before.
fn send_endless(stream: &mut std::net::TcpStream, event_stream: bool) {
    let (kind, start) = if event_stream {
        (
            "text/event-stream",
            "data: {\"jsonrpc\":\"2.0\",\"id\":0,\"result\":\"",
        )
    } else {
        (
            "application/json",
            "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":\"",
        )
    };
    if write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\nconnection: close\r\n\r\n{start}"
    )
    .is_err()
    {
        return;
    }
    let chunk = vec![b'x'; 1024 * 1024];
    for _ in 0..1024 {
        if stream.write_all(&chunk).is_err() {
            return;
        }
    }
}

fn endless_answer_fails_with_bounded_memory(kind: Http) {
    let url = serve(kind);
    let (home, before) = home_with(&format!(
        "[mcp_servers.web]\nurl = \"{url}\"\nstartup_timeout_sec = 60\n"
    ));
    let (output, rss) = run_measured(&home, &["mcp", "tools", "web"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let errors = stderr(&output);
    assert!(errors.contains("larger than"), "{errors}");
    assert!(rss < MAX_RSS_KIB, "peak RSS {rss} KiB");
    eprintln!("peak RSS {rss} KiB; {errors}");
    unchanged(&home, &before);
}

#[test]
fn a_gigabyte_json_answer_fails_with_bounded_memory() {
    endless_answer_fails_with_bounded_memory(Http::EndlessJson);
}

#[test]
fn an_endless_sse_event_fails_with_bounded_memory() {
    endless_answer_fails_with_bounded_memory(Http::EndlessEvent);
}

/// The per-server stderr log the stdio plugin keeps.
fn server_log(home: &Home, name: &str) -> String {
    std::fs::read_to_string(
        home.path()
            .join("log")
            .join("mcp")
            .join(format!("{name}.stderr.log")),
    )
    .unwrap_or_default()
}

/// A server that crashes while the host closes it (SIGABRT, or garbage on
/// stdout and exit status 3, on stdin EOF or SIGTERM): the call's answer is
/// printed and the command succeeds, with nothing more to say; the crash
/// itself is in the server's log.
#[test]
fn a_server_crashing_during_shutdown_keeps_the_calls_answer() {
    for (how, last_words) in [
        (
            "abort",
            "demo server crashing on shutdown with SIGABRT as asked",
        ),
        (
            "garbage",
            "demo server writing garbage and exiting with code 3 on shutdown as asked",
        ),
    ] {
        let (home, before) = home_with(&stdio_server("crashy", &["--crash-on-shutdown", how]));
        let output = home
            .codex()
            .args([
                "mcp",
                "call",
                "crashy",
                "echo",
                "--args",
                r#"{"message":"kept"}"#,
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{how}: {}", stderr(&output));
        assert_eq!(stdout(&output), "echo: kept\n", "{how}");
        assert_eq!(stderr(&output), "", "{how}");
        unchanged(&home, &before);
        // The crash did happen (the log is written by the plugin's stderr
        // reader, which may still be draining when the command ends).
        let deadline = Instant::now() + Duration::from_secs(10);
        while !server_log(&home, "crashy").contains(last_words) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            server_log(&home, "crashy").contains(last_words),
            "{how}: {}",
            server_log(&home, "crashy")
        );
    }
}

/// `mcp tools` over a server that crashes on shutdown and one that does
/// not: both list, the command succeeds.
#[test]
fn a_server_crashing_during_shutdown_still_lists_its_tools() {
    let (home, before) = home_with(
        &(stdio_server("crashy", &["--crash-on-shutdown", "abort"]) + &stdio_server("fine", &[])),
    );
    let output = home
        .codex()
        .args(["mcp", "tools", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for server in report["servers"].as_array().unwrap() {
        assert_eq!(server["status"], "ok", "{server}");
        assert!(
            server["tools"]
                .as_array()
                .unwrap()
                .iter()
                .any(|tool| tool["name"] == "echo"),
            "{server}"
        );
    }
    assert_eq!(report["servers"].as_array().unwrap().len(), 2);
    unchanged(&home, &before);
}

/// The pid the stdio plugin logged for `name`'s server, once it has started.
fn server_pid(home: &Home, name: &str) -> Option<i32> {
    server_log(home, name).lines().find_map(|line| {
        line.split_once("started (pid ")?
            .1
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    })
}

/// A server killed from outside (SIGKILL, as the OOM killer does) while a
/// call waits for it: the call fails at once, not at its timeout, naming the
/// signal.
#[test]
fn a_server_killed_mid_call_fails_the_call_at_once_naming_the_signal() {
    let (home, before) = home_with(&format!(
        "{}tool_timeout_sec = 120\n",
        stdio_server("doomed", &[])
    ));
    let started = Instant::now();
    let call = std::process::Command::new(codex_test_support::codex_bin())
        .envs(
            home.codex()
                .get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .args(["mcp", "call", "doomed", "hang"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut pid = None;
    while pid.is_none() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
        pid = server_pid(&home, "doomed");
    }
    let pid = pid.expect("the server never started");
    // Let the call reach the server before it dies.
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: kill has no memory effects; pid is the server this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let output = call.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let errors = stderr(&output);
    assert!(errors.starts_with("error: tool `hang` failed"), "{errors}");
    assert!(
        errors.contains("MCP server `doomed` exited (killed by signal 9)"),
        "{errors}"
    );
    assert_eq!(errors.lines().count(), 1, "{errors}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    unchanged(&home, &before);
}
