//! `codex mcp tools` and `codex mcp call` against real servers over the stdio plugin.

use std::time::{Duration, Instant};

use codex_test_support::{Home, demo_server, process_alive, server_everything, stderr, stdout};
use serde_json::Value;

fn demo_config(name: &str, extra_args: &[&str], extra_keys: &str) -> String {
    let args: Vec<String> = extra_args.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        "[mcp_servers.{name}]\ncommand = \"{}\"\nargs = [{}]\n{extra_keys}\n",
        demo_server().display(),
        args.join(", ")
    )
}

#[test]
fn tools_and_call_against_the_demo_server() {
    let home = Home::new();
    home.write_config(&demo_config("demo", &[], ""));

    let output = home
        .codex()
        .args(["mcp", "tools", "demo"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("Server"), "{text}");
    for tool in ["echo", "add", "slow", "exit", "large", "hang"] {
        assert!(
            text.lines().any(
                |line| line.starts_with("demo") && line.contains(&format!("mcp__demo__{tool}"))
            ),
            "{tool} missing from:\n{text}"
        );
    }

    let output = home
        .codex()
        .args([
            "mcp",
            "call",
            "demo",
            "echo",
            "--args",
            r#"{"message":"hello there"}"#,
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "echo: hello there\n");

    let output = home
        .codex()
        .args([
            "mcp",
            "call",
            "demo",
            "add",
            "--args",
            r#"{"a":2,"b":3}"#,
            "--json",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["content"][0]["text"], "5");

    let output = home
        .codex()
        .args([
            "mcp",
            "call",
            "demo",
            "large",
            "--args",
            r#"{"bytes":3000000}"#,
            "--json",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        result["content"][0]["text"].as_str().unwrap().len(),
        3_000_000
    );
}

#[test]
fn tools_and_call_against_server_everything_over_stdio() {
    let (node, script) = server_everything();
    let home = Home::new();
    home.write_config(&format!(
        "[mcp_servers.everything]\ncommand = \"{node}\"\nargs = [\"{script}\", \"stdio\"]\nstartup_timeout_sec = 60\n"
    ));
    let output = home
        .codex()
        .args(["mcp", "tools", "everything", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let tools = report["servers"][0]["tools"].as_array().unwrap();
    let sum = tools
        .iter()
        .find(|t| t["name"] == "get-sum")
        .expect("get-sum listed");
    assert_eq!(sum["qualified_name"], "mcp__everything__get_sum");
    assert!(tools.iter().any(|t| t["name"] == "echo"));

    let output = home
        .codex()
        .args([
            "mcp",
            "call",
            "everything",
            "get-sum",
            "--args",
            r#"{"a":2,"b":3}"#,
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("The sum of 2 and 3 is 5"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_server_that_exits_mid_call_fails_that_call_while_another_still_answers() {
    let home = Home::new();
    home.write_config(&(demo_config("crashy", &[], "") + &demo_config("steady", &[], "")));
    let crashing = std::process::Command::new(codex_test_support::codex_bin())
        .envs(
            home.codex()
                .get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .args(["mcp", "call", "crashy", "exit", "--args", r#"{"code":7}"#])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let steady = home
        .codex()
        .args([
            "mcp",
            "call",
            "steady",
            "echo",
            "--args",
            r#"{"message":"still here"}"#,
        ])
        .output()
        .unwrap();
    let crashed = crashing.wait_with_output().unwrap();

    assert_eq!(crashed.status.code(), Some(1));
    let message = stderr(&crashed);
    assert!(message.contains("exit status: 7"), "{message}");
    assert!(
        message.contains("demo server exiting with code 7 as asked"),
        "{message}"
    );
    assert!(steady.status.success(), "{}", stderr(&steady));
    assert_eq!(stdout(&steady), "echo: still here\n");
}

fn child_pid_from_log(home: &Home, server: &str) -> i32 {
    let log = home
        .path()
        .join("log")
        .join("mcp")
        .join(format!("{server}.stderr.log"));
    let text = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    text.lines()
        .find_map(|line| line.strip_prefix("child pid "))
        .and_then(|pid| pid.trim().parse().ok())
        .unwrap_or_else(|| panic!("no child pid in {text}"))
}

fn gone_within(pid: i32, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if !process_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    !process_alive(pid)
}

#[test]
fn a_hung_tool_hits_tool_timeout_and_the_whole_process_group_is_gone() {
    let home = Home::new();
    home.write_config(&demo_config(
        "stuck",
        &["--spawn-child", "--ignore-sigterm"],
        "tool_timeout_sec = 1",
    ));
    let started = Instant::now();
    let output = home
        .codex()
        .args(["mcp", "call", "stuck", "hang"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("timed out after 1 s"), "{message}");
    assert!(message.contains("tool_timeout_sec"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    let child = child_pid_from_log(&home, "stuck");
    assert!(
        gone_within(child, Duration::from_secs(5)),
        "child {child} of the server survived"
    );
}

#[test]
fn a_server_that_never_initializes_hits_startup_timeout() {
    let home = Home::new();
    home.write_config(&demo_config(
        "sleepy",
        &["--never-initialize"],
        "startup_timeout_sec = 1",
    ));
    let started = Instant::now();
    let output = home
        .codex()
        .args(["mcp", "tools", "sleepy"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("MCP client for `sleepy` timed out after 1 seconds"),
        "{message}"
    );
    assert!(message.contains("startup_timeout_sec"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn tools_with_no_name_lists_every_enabled_server_and_filters_tools() {
    let home = Home::new();
    home.write_config(
        &(demo_config(
            "one",
            &["--name", "one"],
            "enabled_tools = [\"echo\", \"add\"]\ndisabled_tools = [\"add\"]",
        ) + &demo_config("two", &[], "")
            + &demo_config("off", &[], "enabled = false")),
    );
    let output = home
        .codex()
        .args(["mcp", "tools", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let servers = report["servers"].as_array().unwrap();
    let names: Vec<&str> = servers
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["one", "two"]);
    let one: Vec<&str> = servers[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(one, ["echo"]);
    assert!(servers[1]["tools"].as_array().unwrap().len() >= 6);

    let disabled = home
        .codex()
        .args(["mcp", "call", "one", "add", "--args", r#"{"a":1,"b":1}"#])
        .output()
        .unwrap();
    assert_eq!(disabled.status.code(), Some(1));
    assert!(stderr(&disabled).contains("turned off by `enabled_tools`/`disabled_tools`"));
    let off = home.codex().args(["mcp", "tools", "off"]).output().unwrap();
    assert_eq!(off.status.code(), Some(1));
    assert!(stderr(&off).contains("is disabled"));
}

#[test]
fn call_arguments_must_be_a_json_object() {
    let home = Home::new();
    home.write_config(&demo_config("demo", &[], ""));
    for (args, expected) in [
        ("[1,2]", "must be a JSON object, got an array"),
        ("{nope", "is not valid JSON"),
    ] {
        let output = home
            .codex()
            .args(["mcp", "call", "demo", "echo", "--args", args])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args}");
        assert!(stderr(&output).contains(expected), "{}", stderr(&output));
    }
}

/// With standard error on a terminal, `mcp tools` over several servers
/// shows how many are connected and clears the line before the table.
#[test]
fn tools_shows_progress_on_a_terminal() {
    use std::io::Read;
    use std::os::fd::FromRawFd;

    let home = Home::new();
    home.write_config(&(demo_config("one", &[], "") + &demo_config("two", &[], "")));
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes the two descriptors; the other arguments may be null.
    let status = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(status, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned here.
    let (mut master, slave) = unsafe {
        (
            std::fs::File::from_raw_fd(master),
            std::fs::File::from_raw_fd(slave),
        )
    };
    let child = std::process::Command::new(codex_test_support::codex_bin())
        .env("CODEX_HOME", home.path())
        .env("CODEX_SYSTEM_CONFIG", home.path().join("none.toml"))
        .env(
            "CODEX_MANAGED_CONFIG",
            home.path().join("none-managed.toml"),
        )
        .args(["mcp", "tools"])
        .stdin(std::process::Stdio::null())
        .stderr(slave)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert!(
        stdout(&output).contains("mcp__one__echo"),
        "{}",
        stdout(&output)
    );
    // The child is gone and held the only other end: the terminal's
    // buffer reads to its end, then EIO.
    let mut shown = Vec::new();
    let mut buffer = [0u8; 4096];
    while let Ok(read) = master.read(&mut buffer) {
        if read == 0 {
            break;
        }
        shown.extend_from_slice(&buffer[..read]);
    }
    let shown = String::from_utf8_lossy(&shown);
    assert!(
        shown.contains("\rconnected to 1/2 MCP servers"),
        "{shown:?}"
    );
    assert!(
        shown.contains("\rconnected to 2/2 MCP servers"),
        "{shown:?}"
    );
    assert!(shown.ends_with("\r\x1b[2K"), "{shown:?}");
}
