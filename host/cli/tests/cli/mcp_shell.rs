//! `codex mcp shell`: a script on stdin against server-everything (stdio and
//! streamable HTTP), a person at a pseudo-terminal (completion, history),
//! Ctrl-C during a call and list changes against the Python SDK peer
//! (tests/python/client_peer.py), and Ctrl-C while connecting.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codex_test_support::{
    Home, process_alive, pty, server_everything, stderr, stdout, workspace_root,
};

use crate::http_transport::{everything, home_with};

/// A home with server-everything over stdio as `everything`.
fn everything_home() -> Home {
    let (node, script) = server_everything();
    let home = Home::new();
    home.write_config(&format!(
        "[mcp_servers.everything]\ncommand = \"{node}\"\nargs = [\"{script}\", \"stdio\"]\nstartup_timeout_sec = 60\n"
    ));
    home
}

/// tests/python/client_peer.py as the stdio server `peer`, recording into `record`.
fn peer_home() -> (Home, std::path::PathBuf) {
    let python_dir = workspace_root().join("tests/python");
    let python = python_dir.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `bash tests/python/setup.sh` to install the pinned Python MCP SDK",
        python.display()
    );
    let home = Home::new();
    let record = home.path().join("record");
    home.write_config(&format!(
        "[mcp_servers.peer]\ncommand = \"{}\"\nargs = [\"{}\", \"--record\", \"{}\"]\nstartup_timeout_sec = 30\n",
        python.display(),
        python_dir.join("client_peer.py").display(),
        record.display()
    ));
    (home, record)
}

/// `codex` on `home` as a std `Command` (for a terminal, or signals).
fn std_codex(home: &Home) -> std::process::Command {
    let mut command = std::process::Command::new(codex_test_support::codex_bin());
    command.envs(
        home.codex()
            .get_envs()
            .filter_map(|(key, value)| value.map(|value| (key.to_owned(), value.to_owned()))),
    );
    command
}

/// Runs `codex mcp shell ARGS` with `script` on stdin.
fn shell_script(home: &Home, args: &[&str], script: &str) -> std::process::Output {
    home.codex()
        .args(["mcp", "shell"])
        .args(args)
        .write_stdin(script)
        .output()
        .unwrap()
}

/// How many servers the stdio plugin started for `name` (its log says each).
fn starts(home: &Home, name: &str) -> usize {
    let log = home
        .path()
        .join("log")
        .join("mcp")
        .join(format!("{name}.stderr.log"));
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .matches("started (pid ")
        .count()
}

#[test]
fn a_script_runs_every_command_on_one_connection_and_prints_as_the_commands_do() {
    let home = everything_home();
    let script = "\
tools
call echo message='hello shell'
call get-sum a=2 b=3
call get-sum {\"a\": 4, \"b\": 5}
resources
read demo://resource/static/document/features.md
templates
prompts
prompt args-prompt city=Paris state=Texas
complete prompt completable-prompt department=E
ping
help
quit
call echo message=never
";
    let output = shell_script(&home, &["everything"], script);
    let out = stdout(&output);
    assert!(output.status.success(), "{}\n{out}", stderr(&output));
    assert_eq!(
        starts(&home, "everything"),
        1,
        "one connection for every command"
    );

    // Each result is what the one-shot command prints.
    let one_shot = |args: &[&str]| {
        let output = home.codex().args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        stdout(&output)
    };
    for expected in [
        one_shot(&[
            "mcp",
            "call",
            "everything",
            "echo",
            "--args",
            r#"{"message":"hello shell"}"#,
        ]),
        one_shot(&[
            "mcp",
            "call",
            "everything",
            "get-sum",
            "--args",
            r#"{"a":2,"b":3}"#,
        ]),
        one_shot(&[
            "mcp",
            "call",
            "everything",
            "get-sum",
            "--args",
            r#"{"a":4,"b":5}"#,
        ]),
        one_shot(&[
            "mcp",
            "read",
            "everything",
            "demo://resource/static/document/features.md",
        ]),
        one_shot(&["mcp", "templates", "everything"]),
        one_shot(&["mcp", "prompts", "everything"]),
        one_shot(&[
            "mcp",
            "prompt",
            "everything",
            "args-prompt",
            "--args",
            r#"{"city":"Paris","state":"Texas"}"#,
        ]),
        one_shot(&[
            "mcp",
            "complete",
            "everything",
            "--prompt",
            "completable-prompt",
            "--argument",
            "department=E",
        ]),
    ] {
        assert!(out.contains(&expected), "missing:\n{expected}\nin:\n{out}");
    }
    assert!(out.contains("Echo: hello shell"), "{out}");
    assert!(out.contains("The sum of 4 and 5 is 9."), "{out}");
    // `tools` is `mcp tools`'s table (qualified names too).
    assert!(
        out.lines().any(|line| line.starts_with("everything") && line.contains("mcp__everything__get_sum")),
        "{out}"
    );
    assert!(
        out.contains("demo://resource/static/document/features.md"),
        "{out}"
    );
    assert!(out.contains("everything: pong in "), "{out}");
    assert!(
        out.contains("Commands:") && out.contains("call TOOL [JSON | key=value ...]"),
        "{out}"
    );
    // Nothing after `quit` ran, and no prompt is drawn without a terminal.
    assert!(!out.contains("Echo: never"), "{out}");
    assert!(!out.contains("everything> "), "{out}");
}

#[test]
fn mistakes_are_told_and_the_session_goes_on() {
    let home = everything_home();
    let script = "\
tool
call echo {\"message\":
call echo [1]
read demo://no/such/thing
read demo://resource/dynamic/blob/1
prompt args-prompt {\"city\": 3}
complete prompt completable-prompt department
call no-such-tool
call echo message='still here'
";
    let output = shell_script(&home, &["everything"], script);
    let (out, err) = (stdout(&output), stderr(&output));
    // A script whose commands failed exits 1, after running all of them.
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(
        err.contains("unknown command `tool`") && err.contains("did you mean `tools`?"),
        "{err}"
    );
    assert!(
        err.contains("tool `echo`: the arguments are not valid JSON"),
        "{err}"
    );
    assert!(err.contains("`[1]` is not key=value"), "{err}");
    assert!(
        err.contains("resources/read of `demo://no/such/thing` failed")
            && err.contains("MCP server `everything` answered with error"),
        "{err}"
    );
    // A blob is written to a pipe as bytes (as `mcp read` does), so the
    // terminal case is the pty test's; here it arrived.
    assert!(
        err.contains("prompt `args-prompt`: its arguments are strings, but `city` is a number"),
        "{err}"
    );
    assert!(err.contains("is not ARG=PARTIAL"), "{err}");
    assert!(
        err.contains("Tool no-such-tool not found")
            && err.contains(
                "error: tool `no-such-tool` of MCP server `everything` reported an error"
            ),
        "{err}"
    );
    assert!(out.contains("Echo: still here"), "{out}\n{err}");
    assert_eq!(starts(&home, "everything"), 1);
}

#[test]
fn an_ad_hoc_url_over_streamable_http() {
    let peer = everything("streamableHttp");
    let url = peer.url("/mcp");
    let home = home_with("");
    let output = shell_script(
        &home,
        &["--url", &url],
        "call echo message=http\nread demo://resource/dynamic/text/3\nping\n",
    );
    let out = stdout(&output);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(out.contains("Echo: http"), "{out}");
    assert!(
        out.contains("Resource 3: This is a plaintext resource"),
        "{out}"
    );
    assert!(out.contains("url: pong in "), "{out}");
}

#[test]
fn json_prints_every_result_as_the_json_of_the_commands() {
    let home = everything_home();
    let output = shell_script(
        &home,
        &["everything", "--json"],
        "call get-sum a=1 b=2\nping\n",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let values: Vec<serde_json::Value> = serde_json::Deserializer::from_slice(&output.stdout)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(values.len(), 2, "{}", stdout(&output));
    assert_eq!(values[0]["content"][0]["text"], "The sum of 1 and 2 is 3.");
    assert_eq!(values[1]["status"], "ok");
}

/// What a child draws on a pseudo-terminal, read on a thread as it comes.
struct Screen {
    controller: std::fs::File,
    drawn: Arc<Mutex<Vec<u8>>>,
}

impl Screen {
    /// Starts `command` with the terminal as its stdin, stdout and stderr,
    /// and as its controlling terminal (so Ctrl-C is a SIGINT, as for a person).
    fn start(mut command: std::process::Command) -> (Screen, Child) {
        use std::os::unix::process::CommandExt;
        let (controller, terminal) = pty::open();
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command
            .env("TERM", "xterm")
            .stdin(terminal.try_clone().unwrap())
            .stdout(terminal.try_clone().unwrap())
            .stderr(terminal)
            .spawn()
            .unwrap();
        let drawn = Arc::new(Mutex::new(Vec::new()));
        let mut reader = controller.try_clone().unwrap();
        let sink = drawn.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            // The read fails (EIO) once the child closed the terminal.
            while let Ok(read) = reader.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buffer[..read]);
            }
        });
        (Screen { controller, drawn }, child)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.drawn.lock().unwrap()).into_owned()
    }

    /// Waits until `text` has been drawn `count` times in all.
    fn wait_for(&self, text: &str, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.text().matches(text).count() < count {
            assert!(
                Instant::now() < deadline,
                "never drew {text:?} ({count}×):\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the editor waits for keys: the prompt is the last thing
    /// drawn and nothing more comes for a moment (keys typed before the
    /// editor reads them reach the terminal in its cooked mode).
    fn wait_for_prompt(&self, prompt: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = String::new();
        let mut since = Instant::now();
        loop {
            let text = self.text();
            if text != last {
                last = text;
                since = Instant::now();
            } else if ends_with_prompt(&last, prompt)
                && since.elapsed() > Duration::from_millis(300)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "never waited at {prompt:?}:\n{last}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn type_keys(&mut self, keys: &str) {
        self.controller.write_all(keys.as_bytes()).unwrap();
        self.controller.flush().unwrap();
    }
}

/// Whether `text` ends with `prompt`, leaving out the terminal's control
/// sequences (`ESC [ ... final`) and carriage returns.
fn ends_with_prompt(text: &str, prompt: &str) -> bool {
    let mut plain = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else if c != '\r' {
            plain.push(c);
        }
    }
    plain.ends_with(prompt)
}

/// Waits for `child` for at most 30 s.
fn exit_status(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the shell did not end");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn on_a_terminal_tab_completes_and_history_is_kept_private() {
    let home = everything_home();
    let mut command = std_codex(&home);
    command.args(["mcp", "shell", "everything"]);
    let (mut screen, mut child) = Screen::start(command);
    let prompt = "everything> ";
    screen.wait_for_prompt(prompt);
    // A command name, then a tool's name, completed by Tab.
    screen.type_keys("cal\t");
    screen.wait_for("call ", 1);
    screen.type_keys("get-su\t");
    screen.wait_for("get-sum ", 1);
    screen.type_keys("a=2 b=3\r");
    screen.wait_for("The sum of 2 and 3 is 5.", 1);
    screen.wait_for_prompt(prompt);
    // A resource URI, completed.
    screen.type_keys("read demo://resource/static/document/feat\t");
    screen.wait_for("features.md ", 1);
    screen.type_keys("\r");
    screen.wait_for("# Everything Server - Features", 1);
    screen.wait_for_prompt(prompt);
    // A blob is never written to the terminal; the session goes on.
    screen.type_keys("read demo://resource/dynamic/blob/1\r");
    screen.wait_for("is binary", 1);
    screen.wait_for_prompt(prompt);
    // Ctrl-C at the prompt drops the line; Ctrl-D quits.
    screen.type_keys("call echo message=dropped\x03");
    screen.wait_for_prompt(prompt);
    screen.type_keys("\x04");
    let status = exit_status(&mut child);
    assert!(status.success(), "{}", screen.text());
    assert!(
        !screen.text().contains("Echo: dropped"),
        "{}",
        screen.text()
    );

    let history = home.path().join("mcp_shell_history");
    let mode = std::fs::metadata(&history).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let kept = std::fs::read_to_string(&history).unwrap();
    assert!(kept.contains("call get-sum a=2 b=3"), "{kept}");
    assert!(!kept.contains("dropped"), "{kept}");

    // The next session has it: up twice is the `call`, run again.
    let mut command = std_codex(&home);
    command.args(["mcp", "shell", "everything"]);
    let (mut screen, mut child) = Screen::start(command);
    screen.wait_for_prompt(prompt);
    screen.type_keys("\x1b[A\x1b[A\x1b[A\r");
    screen.wait_for("The sum of 2 and 3 is 5.", 1);
    screen.wait_for_prompt(prompt);
    screen.type_keys("quit\r");
    assert!(exit_status(&mut child).success(), "{}", screen.text());
}

/// Waits until the record of the peer has a line starting with `prefix`; the rest of it.
fn recorded(record: &Path, prefix: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(record).unwrap_or_default();
        if let Some(rest) = text.lines().find_map(|line| line.strip_prefix(prefix)) {
            return rest.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "the peer never recorded {prefix:?}: {text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn ctrl_c_cancels_a_call_and_the_session_goes_on() {
    let (home, record) = peer_home();
    let mut child = std_codex(&home)
        .args(["mcp", "shell", "peer"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"call slow seconds=60\n").unwrap();
    let server: i32 = recorded(&record, "started ").parse().unwrap();
    // SAFETY: a signal to the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&record)
        .unwrap()
        .contains("cancelled")
    {
        assert!(
            Instant::now() < deadline,
            "the server never saw notifications/cancelled"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    stdin.write_all(b"call log\nquit\n").unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    assert!(
        err.contains("cancelled: tool `slow` of MCP server `peer` was told to stop"),
        "{err}"
    );
    assert_eq!(stdout(&output), "logged\n");
    assert!(
        !std::fs::read_to_string(&record)
            .unwrap()
            .contains("finished")
    );
    assert_eq!(starts(&home, "peer"), 1);
    let gone = Instant::now() + Duration::from_secs(5);
    while process_alive(server) && Instant::now() < gone {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!process_alive(server), "the server {server} still runs");
}

#[test]
fn list_changes_are_told_and_completion_sees_the_new_names() {
    let (home, record) = peer_home();
    let output = shell_script(
        &home,
        &["peer"],
        "call grow name=fresh\ncall grow name=later seconds=2\ncall fresh\nprompts\n",
    );
    let (out, err) = (stdout(&output), stderr(&output));
    assert!(output.status.success(), "{err}");
    assert!(
        err.contains("MCP server `peer`: tools changed (5 tools)"),
        "{err}"
    );
    assert!(
        err.contains("MCP server `peer`: prompts changed (5 prompts)"),
        "{err}"
    );
    // The change during the long call is read while the call still runs.
    assert!(
        err.contains("MCP server `peer`: tools changed (6 tools)"),
        "{err}"
    );
    assert!(
        out.contains("added fresh") && out.contains("fresh ran"),
        "{out}"
    );
    assert!(out.lines().any(|line| line.contains("later")), "{out}");

    // On a terminal, a tool that appeared completes.
    let mut command = std_codex(&home);
    command.args(["mcp", "shell", "peer"]);
    let (mut screen, mut child) = Screen::start(command);
    screen.wait_for_prompt("peer> ");
    // Ctrl-C during a call cancels it and gives the prompt back.
    screen.type_keys("call slow seconds=60\r");
    recorded(&record, "started ");
    screen.type_keys("\x03");
    screen.wait_for("cancelled: tool `slow` of MCP server `peer`", 1);
    screen.wait_for_prompt("peer> ");
    screen.type_keys("call grow name=zebra-tool\r");
    screen.wait_for("tools changed (5 tools)", 1);
    screen.wait_for("prompts changed (5 prompts)", 1);
    screen.wait_for_prompt("peer> ");
    screen.type_keys("call zeb\t");
    screen.wait_for("zebra-tool ", 1);
    screen.type_keys("\r");
    screen.wait_for("zebra-tool ran", 1);
    screen.wait_for_prompt("peer> ");
    screen.type_keys("\x04");
    assert!(exit_status(&mut child).success(), "{}", screen.text());
}

#[test]
fn mcp_call_tells_a_list_change_during_a_long_call() {
    let (home, _record) = peer_home();
    let output = home
        .codex()
        .args([
            "mcp",
            "call",
            "peer",
            "grow",
            "--args",
            r#"{"name":"late","seconds":2}"#,
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "added late\n");
    let err = stderr(&output);
    assert!(
        err.contains("MCP server `peer`: tools changed (5 tools)"),
        "{err}"
    );
    assert!(
        err.contains("MCP server `peer`: prompts changed (5 prompts)"),
        "{err}"
    );
}

/// The demo server as the stdio server `demo`.
fn demo_home() -> Home {
    let home = Home::new();
    home.write_config(&format!(
        "[mcp_servers.demo]\ncommand = \"{}\"\n",
        codex_test_support::demo_server().display()
    ));
    home
}

#[test]
fn a_server_that_exits_mid_session_ends_it_with_the_reason() {
    let home = demo_home();
    let output = shell_script(
        &home,
        &["demo"],
        "call echo message=first\ncall exit code=3\ncall echo message=never\n",
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert_eq!(stdout(&output), "echo: first\n");
    assert!(err.contains("exit status: 3"), "{err}");
    assert!(
        err.contains("MCP server `demo` closed the connection"),
        "{err}"
    );
}

#[test]
fn ctrl_c_while_a_script_waits_for_input_exits_130_and_closes_the_server() {
    use std::io::BufRead;
    let home = demo_home();
    let mut child = std_codex(&home)
        .args(["mcp", "shell", "demo"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"ping\n").unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with("demo: pong in "), "{line}");
    let log = std::fs::read_to_string(home.path().join("log/mcp/demo.stderr.log")).unwrap();
    let server: i32 = log
        .lines()
        .find_map(|line| {
            line.split_once("started (pid ")?
                .1
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no pid in {log}"));
    // SAFETY: a signal to the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = exit_status(&mut child);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted (Ctrl-C) while reading commands"),
        "{err}"
    );
    let gone = Instant::now() + Duration::from_secs(5);
    while process_alive(server) && Instant::now() < gone {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!process_alive(server), "the server {server} still runs");
    drop(stdin);
}

/// A stdio server that never answers `initialize` (and has a child in its
/// process group): Ctrl-C while connecting exits 130 at once, both gone.
#[test]
fn ctrl_c_while_connecting_to_a_stdio_server_exits_130_and_ends_its_group() {
    let home = Home::new();
    let demo = codex_test_support::demo_server();
    home.write_config(&format!(
        "[mcp_servers.stuck]\ncommand = \"{}\"\nargs = [\"--never-initialize\", \"--spawn-child\"]\nstartup_timeout_sec = 120\n",
        demo.display()
    ));
    let log = home.path().join("log").join("mcp").join("stuck.stderr.log");
    for args in [
        &["mcp", "shell", "stuck"][..],
        &["mcp", "tools", "stuck"],
        &["mcp", "call", "stuck", "echo"],
    ] {
        let _ = std::fs::remove_file(&log);
        let child = std_codex(&home)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let grandchild: i32 = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(pid) = text
                .lines()
                .find_map(|line| line.strip_prefix("child pid "))
            {
                break pid.trim().parse().unwrap();
            }
            assert!(
                Instant::now() < deadline,
                "{args:?}: the server never started: {text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let server: Option<i32> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .find_map(|line| {
                line.split_once("started (pid ")?
                    .1
                    .split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse()
                    .ok()
            });
        let pressed = Instant::now();
        // SAFETY: a signal to the child this test started.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(130),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            pressed.elapsed() < Duration::from_secs(10),
            "{args:?}: took {:?}",
            pressed.elapsed()
        );
        assert!(
            stderr(&output).contains("interrupted (Ctrl-C) while connecting to MCP server `stuck`"),
            "{args:?}: {}",
            stderr(&output)
        );
        for pid in server.into_iter().chain([grandchild]) {
            let gone = Instant::now() + Duration::from_secs(5);
            while process_alive(pid) && Instant::now() < gone {
                std::thread::sleep(Duration::from_millis(50));
            }
            assert!(
                !process_alive(pid),
                "{args:?}: {pid} of the server's group still runs"
            );
        }
    }
}

/// An HTTP server that accepts the connection and never answers.
#[test]
fn ctrl_c_while_connecting_to_a_hanging_http_server_exits_130() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let held = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            held.lock().unwrap().push(stream);
        }
    });
    let home = home_with("");
    let child = std_codex(&home)
        .args(["mcp", "shell", "--url", &url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while accepted.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "codex never connected");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pressed = Instant::now();
    // SAFETY: a signal to the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(
        pressed.elapsed() < Duration::from_secs(10),
        "took {:?}",
        pressed.elapsed()
    );
    assert!(
        stderr(&output).contains("interrupted (Ctrl-C) while connecting to MCP server `url`"),
        "{}",
        stderr(&output)
    );
}
