//! The MCP client beyond tools: resources, templates, prompts, completions,
//! ping, call results, server requests, notifications and cancellation,
//! driving the built `codex` against server-everything (stdio and
//! streamable HTTP) and the Python SDK (tests/python/client_peer.py).

use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine;
use codex_test_support::{Home, pty, server_everything, stderr, stdout, workspace_root};
use serde_json::Value;

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
fn peer_config(record: &Path) -> String {
    let python_dir = workspace_root().join("tests/python");
    let python = python_dir.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `bash tests/python/setup.sh` to install the pinned Python MCP SDK",
        python.display()
    );
    format!(
        "[mcp_servers.peer]\ncommand = \"{}\"\nargs = [\"{}\", \"--record\", \"{}\"]\nstartup_timeout_sec = 30\n",
        python.display(),
        python_dir.join("client_peer.py").display(),
        record.display()
    )
}

/// `codex` on `home` as a std `Command`, for what assert_cmd does not do
/// (a pseudo-terminal, a signal while it runs).
fn std_codex(home: &Home) -> std::process::Command {
    let mut command = std::process::Command::new(codex_test_support::codex_bin());
    command.envs(
        home.codex()
            .get_envs()
            .filter_map(|(key, value)| value.map(|value| (key.to_owned(), value.to_owned()))),
    );
    command
}

/// Runs `codex ARGS` on `home`; its output.
fn codex(home: &Home, args: &[&str]) -> std::process::Output {
    home.codex().args(args).output().unwrap()
}

/// Runs `codex ARGS --json`, which must succeed; the JSON it printed.
fn codex_json(home: &Home, args: &[&str]) -> Value {
    let output = home.codex().args(args).arg("--json").output().unwrap();
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{args:?}: {error}: {}", stdout(&output)))
}

/// The `field` of every item under `servers[0][key]`.
fn names(report: &Value, key: &str, field: &str) -> Vec<String> {
    assert_eq!(report["servers"][0]["status"], "ok", "{report}");
    report["servers"][0][key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {report}"))
        .iter()
        .map(|item| item[field].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn resources_templates_and_reads_against_server_everything_over_stdio() {
    let home = everything_home();
    let resources = codex_json(&home, &["mcp", "resources", "everything"]);
    let uris = names(&resources, "resources", "uri");
    assert!(
        uris.contains(&"demo://resource/static/document/features.md".to_string()),
        "{uris:?}"
    );

    let output = codex(&home, &["mcp", "resources"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let table = stdout(&output);
    assert!(
        table.starts_with("Server ") && table.lines().next().unwrap().contains(" URI "),
        "{table}"
    );
    assert!(
        table.lines().any(|line| line.starts_with("everything")
            && line.contains("demo://resource/static/document/features.md")
            && line.contains("text/markdown")),
        "{table}"
    );

    let templates = codex_json(&home, &["mcp", "templates", "everything"]);
    assert_eq!(
        names(&templates, "templates", "uriTemplate"),
        [
            "demo://resource/dynamic/text/{resourceId}",
            "demo://resource/dynamic/blob/{resourceId}"
        ]
    );

    let output = codex(
        &home,
        &[
            "mcp",
            "read",
            "everything",
            "demo://resource/static/document/features.md",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("# Everything Server - Features"),
        "{}",
        stdout(&output)
    );

    // A blob: decoded into --output, as the base64 of --json decodes (the
    // server stamps each read with the time, so only up to the stamp).
    let blob_uri = "demo://resource/dynamic/blob/1";
    let read = codex_json(&home, &["mcp", "read", "everything", blob_uri]);
    let blob = read["contents"][0]["blob"].as_str().unwrap();
    let expected = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .unwrap();
    let file = home.path().join("blob.bin");
    let output = codex(
        &home,
        &[
            "mcp",
            "read",
            "everything",
            blob_uri,
            "--output",
            file.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let written = std::fs::read(&file).unwrap();
    let stamp = b"Resource 1: This is a base64 blob created at ";
    assert!(
        written.starts_with(stamp) && expected.starts_with(stamp),
        "{written:?}"
    );
    assert_eq!(written.len(), expected.len());
    assert!(
        stderr(&output).contains(&format!("wrote {} bytes", expected.len())),
        "{}",
        stderr(&output)
    );
}

#[test]
fn resources_and_reads_over_streamable_http_and_an_ad_hoc_url() {
    let peer = everything("streamableHttp");
    let url = peer.url("/mcp");
    let home = home_with(&format!("[mcp_servers.everything]\nurl = \"{url}\"\n"));
    let resources = codex_json(&home, &["mcp", "resources", "everything"]);
    assert!(
        names(&resources, "resources", "uri").len() >= 7,
        "{resources}"
    );
    let output = codex(
        &home,
        &[
            "mcp",
            "read",
            "--url",
            &url,
            "demo://resource/dynamic/text/3",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with("Resource 3: This is a plaintext resource"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn every_page_of_a_paginated_list_is_read() {
    let home = Home::new();
    home.write_config(&peer_config(&home.path().join("record")));
    let resources = codex_json(&home, &["mcp", "resources", "peer"]);
    assert_eq!(
        names(&resources, "resources", "name"),
        [
            "resource-1",
            "resource-2",
            "resource-3",
            "resource-4",
            "resource-5"
        ]
    );
    let templates = codex_json(&home, &["mcp", "templates", "peer"]);
    assert_eq!(
        names(&templates, "templates", "name"),
        ["template-1", "template-2", "template-3"]
    );
    let prompts = codex_json(&home, &["mcp", "prompts", "peer"]);
    assert_eq!(
        names(&prompts, "prompts", "name"),
        ["prompt-1", "prompt-2", "prompt-3", "prompt-4"]
    );
}

#[test]
fn an_unknown_uri_fails_with_what_the_server_said() {
    let home = everything_home();
    let output = codex(
        &home,
        &["mcp", "read", "everything", "demo://no/such/thing"],
    );
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("resources/read of `demo://no/such/thing` failed")
            && message.contains("MCP server `everything` answered with error"),
        "{message}"
    );
    assert!(stdout(&output).is_empty());
}

#[test]
fn a_blob_is_never_written_to_a_terminal() {
    let home = everything_home();
    let (mut controller, terminal) = pty::open();
    let mut child = std_codex(&home)
        .args([
            "mcp",
            "read",
            "everything",
            "demo://resource/dynamic/blob/1",
        ])
        .stdout(terminal)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut message = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut message)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{message}");
    assert!(
        message.contains("is binary") && message.contains("--output FILE"),
        "{message}"
    );
    // Nothing at all reached the terminal (the child closed its side).
    let drawn = read_available(&mut controller);
    assert!(drawn.is_empty(), "{drawn:?}");
}

/// What a pseudo-terminal's controller has to read now (none when empty).
fn read_available(controller: &mut std::fs::File) -> Vec<u8> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open; O_NONBLOCK only changes how reads wait.
    unsafe {
        let fd = controller.as_raw_fd();
        libc::fcntl(
            fd,
            libc::F_SETFL,
            libc::fcntl(fd, libc::F_GETFL) | libc::O_NONBLOCK,
        );
    }
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    while let Ok(read) = controller.read(&mut buffer) {
        if read == 0 {
            break;
        }
        bytes.extend_from_slice(&buffer[..read]);
    }
    bytes
}

#[test]
fn prompts_with_arguments_and_embedded_resources() {
    let home = everything_home();
    let prompts = codex_json(&home, &["mcp", "prompts", "everything"]);
    let listed = names(&prompts, "prompts", "name");
    for expected in [
        "simple-prompt",
        "args-prompt",
        "completable-prompt",
        "resource-prompt",
    ] {
        assert!(listed.contains(&expected.to_string()), "{listed:?}");
    }
    let output = codex(&home, &["mcp", "prompts", "everything"]);
    let table = stdout(&output);
    assert!(
        table
            .lines()
            .any(|line| line.contains("args-prompt") && line.contains("city [state]")),
        "{table}"
    );

    let output = codex(
        &home,
        &[
            "mcp",
            "prompt",
            "everything",
            "args-prompt",
            "--args",
            r#"{"city":"Paris","state":"Texas"}"#,
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("[user]\n"), "{text}");
    assert!(text.contains("Paris") && text.contains("Texas"), "{text}");

    let prompt = codex_json(
        &home,
        &[
            "mcp",
            "prompt",
            "everything",
            "resource-prompt",
            "--args",
            r#"{"resourceType":"Text","resourceId":"2"}"#,
        ],
    );
    let messages = prompt["messages"].as_array().unwrap();
    assert!(
        messages
            .iter()
            .any(|message| message["content"]["type"] == "resource"
                && message["content"]["resource"]["uri"] == "demo://resource/dynamic/text/2"),
        "{prompt}"
    );
}

#[test]
fn completions_of_prompt_arguments_and_template_variables() {
    let home = everything_home();
    let output = codex(
        &home,
        &[
            "mcp",
            "complete",
            "everything",
            "--prompt",
            "completable-prompt",
            "--argument",
            "department=E",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "Engineering\n");

    // The chosen department narrows the names.
    let completion = codex_json(
        &home,
        &[
            "mcp",
            "complete",
            "everything",
            "--prompt",
            "completable-prompt",
            "--argument",
            "name=",
            "--context",
            "department=Sales",
        ],
    );
    let values: Vec<&str> = completion["values"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(!values.is_empty(), "{completion}");
    let engineering = codex_json(
        &home,
        &[
            "mcp",
            "complete",
            "everything",
            "--prompt",
            "completable-prompt",
            "--argument",
            "name=",
            "--context",
            "department=Engineering",
        ],
    );
    assert_ne!(completion["values"], engineering["values"]);

    let completion = codex_json(
        &home,
        &[
            "mcp",
            "complete",
            "everything",
            "--template",
            "demo://resource/dynamic/text/{resourceId}",
            "--argument",
            "resourceId=4",
        ],
    );
    assert_eq!(completion["values"], serde_json::json!(["4"]));
}

#[test]
fn ping_reports_a_round_trip_over_stdio_and_http() {
    let home = everything_home();
    let output = codex(&home, &["mcp", "ping", "everything"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("everything: pong in ") && text.ends_with(" ms\n"),
        "{text}"
    );

    let peer = everything("streamableHttp");
    let home = home_with("");
    let report = codex_json(&home, &["mcp", "ping", "--url", &peer.url("/mcp")]);
    assert_eq!(report["status"], "ok");
    assert!(report["round_trip_ms"].as_f64().unwrap() >= 0.0, "{report}");
}

#[test]
fn malformed_prompt_arguments_and_completion_flags_are_usage_errors() {
    let home = everything_home();
    for (args, expected) in [
        (
            vec![
                "mcp",
                "prompt",
                "everything",
                "args-prompt",
                "--args",
                "{city",
            ],
            "--args is not valid JSON",
        ),
        (
            vec![
                "mcp",
                "prompt",
                "everything",
                "args-prompt",
                "--args",
                r#"{"city":3}"#,
            ],
            "prompt arguments are strings, but `city` is a number",
        ),
        (
            vec![
                "mcp",
                "complete",
                "everything",
                "--prompt",
                "completable-prompt",
                "--argument",
                "department",
            ],
            "expected NAME=PARTIAL",
        ),
        (
            vec!["mcp", "read", "everything"],
            "give the server and the uri",
        ),
    ] {
        let output = codex(&home, &args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn call_results_show_structured_content_saved_media_links_and_errors() {
    let home = everything_home();
    // Structured content as JSON, without the text that repeats it.
    let output = codex(
        &home,
        &[
            "mcp",
            "call",
            "everything",
            "get-structured-content",
            "--args",
            r#"{"location":"New York"}"#,
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let structured: Value = serde_json::from_str(&stdout(&output)).unwrap();
    for key in ["temperature", "conditions", "humidity"] {
        assert!(structured.get(key).is_some(), "{structured}");
    }

    // An image: saved and named with --output-dir, described without.
    let dir = home.path().join("media");
    let output = codex(
        &home,
        &[
            "mcp",
            "call",
            "everything",
            "get-tiny-image",
            "--output-dir",
            dir.to_str().unwrap(),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let saved = dir.join("get-tiny-image-1.png");
    assert!(
        stdout(&output).contains(&format!("[image: image/png, saved to {}]", saved.display())),
        "{}",
        stdout(&output)
    );
    assert!(std::fs::read(&saved).unwrap().starts_with(b"\x89PNG"));
    let output = codex(&home, &["mcp", "call", "everything", "get-tiny-image"]);
    assert!(
        stdout(&output).contains("`--output-dir DIR` saves it"),
        "{}",
        stdout(&output)
    );

    // Resource links, with the command that reads them.
    let output = codex(
        &home,
        &[
            "mcp",
            "call",
            "everything",
            "get-resource-links",
            "--args",
            r#"{"count":2}"#,
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output)
            .contains("`codex mcp read everything demo://resource/dynamic/text/2` reads it"),
        "{}",
        stdout(&output)
    );

    // isError: the server's text on stderr, exit 1.
    let output = codex(
        &home,
        &[
            "mcp",
            "call",
            "everything",
            "get-sum",
            "--args",
            r#"{"a":"x"}"#,
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("reported an error"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
}

#[test]
fn roots_are_the_working_directory_each_root_flag_or_mcp_roots() {
    let home = everything_home();
    let work = tempfile::tempdir().unwrap();
    let uri = |dir: &Path| {
        url::Url::from_directory_path(dir.canonicalize().unwrap())
            .unwrap()
            .to_string()
    };
    let output = home
        .codex()
        .current_dir(work.path())
        .args(["mcp", "call", "everything", "get-roots-list"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(&format!("URI: {}", uri(work.path()))),
        "{}",
        stdout(&output)
    );

    let (a, b) = (work.path().join("a"), work.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let output = home
        .codex()
        .current_dir(work.path())
        .args([
            "mcp",
            "call",
            "everything",
            "get-roots-list",
            "--root",
            "a",
            "--root",
        ])
        .arg(&b)
        .output()
        .unwrap();
    let text = stdout(&output);
    assert!(
        text.contains("(2 total)") && text.contains(&uri(&a)) && text.contains(&uri(&b)),
        "{text}"
    );

    let output = home
        .codex()
        .arg("-c")
        .arg(format!(
            "mcp_roots=[\"{}\"]",
            b.canonicalize().unwrap().display()
        ))
        .args(["mcp", "call", "everything", "get-roots-list"])
        .output()
        .unwrap();
    let text = stdout(&output);
    assert!(
        text.contains("(1 total)") && text.contains(&uri(&b)),
        "{text}"
    );

    let output = codex(
        &home,
        &[
            "mcp",
            "call",
            "everything",
            "get-roots-list",
            "--root",
            "/no/such/dir",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("--root /no/such/dir: not a directory"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn elicitation_is_answered_by_the_elicit_flag_with_the_forms_defaults() {
    let home = everything_home();
    let output = codex(
        &home,
        &[
            "mcp",
            "call",
            "everything",
            "trigger-elicitation-request",
            "--elicit",
            r#"{"name":"Ada Lovelace","check":true}"#,
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("User inputs"), "{text}");
    assert!(
        text.contains("Ada Lovelace") && text.contains("It was a dark and stormy night."),
        "{text}"
    );

    // Content that does not fit the form: declined, and said why.
    let output = codex(
        &home,
        &[
            "mcp",
            "call",
            "everything",
            "trigger-elicitation-request",
            "--elicit",
            r#"{"integer":"many"}"#,
        ],
    );
    assert!(stdout(&output).contains("declined"), "{}", stdout(&output));
    let message = stderr(&output);
    assert!(
        message.contains("--elicit does not fit the form")
            && message.contains("`name` is required")
            && message.contains("`integer`: expected a whole number"),
        "{message}"
    );

    // Malformed JSON is a usage error before anything connects.
    let output = codex(
        &home,
        &[
            "mcp",
            "call",
            "everything",
            "trigger-elicitation-request",
            "--elicit",
            "{name",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--elicit is not valid JSON"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn elicitation_without_a_terminal_is_declined_with_a_message() {
    let home = everything_home();
    let output = codex(
        &home,
        &["mcp", "call", "everything", "trigger-elicitation-request"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("User declined"),
        "{}",
        stdout(&output)
    );
    let message = stderr(&output);
    assert!(
        message.contains("asked for input (Please provide inputs for the following fields:); declined: no terminal")
            && message.contains("--elicit") && message.contains("name (text, required)"),
        "{message}"
    );
}

#[test]
fn elicitation_on_a_terminal_asks_for_each_field() {
    let home = everything_home();
    let (mut controller, terminal) = pty::open();
    let mut child = std_codex(&home)
        .args(["mcp", "call", "everything", "trigger-elicitation-request"])
        .stdin(terminal.try_clone().unwrap())
        .stderr(terminal)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Accept, a name, a wrong integer then a right one; every other field
    // takes its default or stays out.
    let answers = "y\nGrace Hopper\n\n\n\n\n\nlots\n7\n\n\n\n\n\n\n\n\n";
    std::io::Write::write_all(&mut controller, answers.as_bytes()).unwrap();
    let mut text = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let status = child.wait().unwrap();
    let drawn = String::from_utf8_lossy(&read_available(&mut controller)).into_owned();
    assert!(status.success(), "{drawn}");
    assert!(text.contains("Grace Hopper"), "{text}\n{drawn}");
    assert!(text.contains("\"integer\": 7"), "{text}");
    assert!(
        drawn.contains("MCP server `everything` asks: Please provide inputs"),
        "{drawn}"
    );
    assert!(drawn.contains("`lots` is not a whole number"), "{drawn}");
}

#[test]
fn sampling_is_refused_and_the_session_goes_on() {
    let home = Home::new();
    home.write_config(&peer_config(&home.path().join("record")));
    let output = codex(&home, &["mcp", "call", "peer", "sample"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("sampling refused") && stdout(&output).contains("runs no model"),
        "{}",
        stdout(&output)
    );
    assert!(
        stderr(&output)
            .contains("warning: MCP server `peer`: sampling/createMessage is not supported"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn progress_shows_as_lines_or_as_a_bar_on_a_terminal() {
    let home = everything_home();
    let args = [
        "mcp",
        "call",
        "everything",
        "trigger-long-running-operation",
        "--args",
        r#"{"duration":1,"steps":3}"#,
    ];
    let output = codex(&home, &args);
    assert!(output.status.success(), "{}", stderr(&output));
    for step in 1..=3 {
        assert!(
            stderr(&output).contains(&format!("everything: progress {step}/3")),
            "{}",
            stderr(&output)
        );
    }

    let (mut controller, terminal) = pty::open();
    let status = std_codex(&home)
        .args(args)
        .stderr(terminal)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let drawn = String::from_utf8_lossy(&read_available(&mut controller)).into_owned();
    assert!(
        drawn.contains("everything [") && drawn.contains("/3"),
        "{drawn:?}"
    );
    assert!(!drawn.contains("everything: progress"), "{drawn:?}");
}

#[test]
fn log_messages_at_or_above_the_log_level_go_to_stderr() {
    let home = Home::new();
    let record = home.path().join("record");
    home.write_config(&peer_config(&record));
    let output = codex(&home, &["mcp", "call", "peer", "log"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("peer: [warning] peer: warning from the peer"),
        "{message}"
    );
    assert!(
        message.contains("peer: [error] peer: error from the peer"),
        "{message}"
    );
    assert!(
        !message.contains("info from the peer") && !message.contains("debug from"),
        "{message}"
    );

    let output = codex(
        &home,
        &["mcp", "call", "peer", "log", "--log-level", "debug"],
    );
    assert!(
        stderr(&output).contains("peer: [debug] peer: debug from the peer"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(&record).unwrap(),
        "level warning\nlevel debug\n"
    );
}

#[test]
fn ctrl_c_during_a_call_cancels_it_closes_the_server_and_exits_130() {
    let home = Home::new();
    let record = home.path().join("record");
    home.write_config(&peer_config(&record));
    let child = std_codex(&home)
        .args(["mcp", "call", "peer", "slow", "--args", r#"{"seconds":60}"#])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let server_pid: i32 = loop {
        let text = std::fs::read_to_string(&record).unwrap_or_default();
        if let Some(pid) = text.lines().find_map(|line| line.strip_prefix("started ")) {
            break pid.parse().unwrap();
        }
        assert!(Instant::now() < deadline, "the call never started");
        std::thread::sleep(Duration::from_millis(50));
    };
    // SAFETY: a signal to the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let started = Instant::now();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        stderr(&output).contains("cancelled: tool `slow` of MCP server `peer`"),
        "{}",
        stderr(&output)
    );
    let text = std::fs::read_to_string(&record).unwrap();
    assert!(text.contains("cancelled"), "{text}");
    assert!(!text.contains("finished"), "{text}");
    let gone = Instant::now() + Duration::from_secs(5);
    while codex_test_support::process_alive(server_pid) && Instant::now() < gone {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !codex_test_support::process_alive(server_pid),
        "the server {server_pid} still runs"
    );
}
