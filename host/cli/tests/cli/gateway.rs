//! `codex mcp-server`, the gateway: the built `codex` serving the configured
//! servers (server-everything, the demo server) as one MCP server, driven by
//! the Python SDK's client (tests/python/gateway_client.py) over stdio and
//! streamable HTTP, and by raw HTTP requests for the listener's checks.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use codex_test_support::{Home, codex_bin, demo_server, server_everything, workspace_root};
use serde_json::{Value, json};

pub(crate) fn python() -> PathBuf {
    let python = workspace_root().join("tests/python/.venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `bash tests/python/setup.sh` to install the pinned Python MCP SDK",
        python.display()
    );
    python
}

/// The environment `codex` runs with on `home` (no system or managed layer).
pub(crate) fn home_env(home: &Home) -> Vec<(String, String)> {
    vec![
        ("CODEX_HOME".into(), home.path().display().to_string()),
        (
            "CODEX_SYSTEM_CONFIG".into(),
            home.path()
                .join("no-system-config.toml")
                .display()
                .to_string(),
        ),
        (
            "CODEX_MANAGED_CONFIG".into(),
            home.path()
                .join("no-managed-config.toml")
                .display()
                .to_string(),
        ),
    ]
}

/// Runs gateway_client.py with `mode_args` and `steps`; its output.
pub(crate) fn client(home: &Home, mode_args: &[String], steps: &Value) -> Output {
    client_with(home, mode_args, steps, &[])
}

pub(crate) fn client_with(
    home: &Home,
    mode_args: &[String],
    steps: &Value,
    env: &[(&str, &str)],
) -> Output {
    let mut child = Command::new(python())
        .arg(workspace_root().join("tests/python/gateway_client.py"))
        .args(mode_args)
        .envs(home_env(home))
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(steps.to_string().as_bytes())
        .unwrap();
    wait_bounded(child, Duration::from_secs(120))
}

pub(crate) fn wait_bounded(mut child: Child, limit: Duration) -> Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("the client did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The results of `steps` run by the Python client against `codex ARGS`
/// over stdio; and the client's stderr (which carries the gateway's).
pub(crate) fn over_stdio(home: &Home, gateway_args: &[&str], steps: Value) -> (Vec<Value>, String) {
    let mut mode = vec![
        "stdio".to_string(),
        "--".to_string(),
        codex_bin().display().to_string(),
    ];
    mode.extend(gateway_args.iter().map(|arg| arg.to_string()));
    let output = client(home, &mode, &steps);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "client failed: {stderr}");
    let results: Vec<Value> = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}", String::from_utf8_lossy(&output.stdout)));
    (results, stderr)
}

pub(crate) fn tool_names(listing: &Value) -> Vec<String> {
    listing["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools in {listing}"))
        .iter()
        .map(|tool| tool["name"].as_str().unwrap().to_string())
        .collect()
}

pub(crate) fn text(result: &Value) -> String {
    result["content"]
        .as_array()
        .unwrap_or_else(|| panic!("no content in {result}"))
        .iter()
        .filter_map(|block| block["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn demo_table(name: &str, extra: &str) -> String {
    format!(
        "[mcp_servers.{name}]\ncommand = \"{}\"\nargs = [\"--name\", \"{name}\"]\n{extra}\n",
        demo_server().display()
    )
}

pub(crate) fn everything_table() -> String {
    let (node, script) = server_everything();
    format!(
        "[mcp_servers.everything]\ncommand = \"{node}\"\nargs = [\"{script}\", \"stdio\"]\nstartup_timeout_sec = 60\n"
    )
}

#[test]
fn python_client_uses_server_everything_and_the_demo_server_through_one_stdio_gateway() {
    let home = Home::new();
    home.write_config(&format!(
        "{}{}",
        everything_table(),
        demo_table("demo", "disabled_tools = [\"slow\"]")
    ));
    let (results, stderr) = over_stdio(
        &home,
        &["mcp-server"],
        json!([
            {"op": "list_tools"},
            {"op": "call", "name": "mcp__everything__echo", "args": {"message": "through the gateway"}},
            {"op": "call", "name": "mcp__demo__add", "args": {"a": 2, "b": 3}},
            {"op": "call", "name": "mcp__demo__slow", "args": {"ms": 1}},
            {"op": "list_prompts"},
            {"op": "list_resources"},
            {"op": "read_first"},
            {"op": "list_templates"},
        ]),
    );
    let names = tool_names(&results[0]);
    for expected in ["mcp__everything__echo", "mcp__demo__add", "mcp__demo__echo"] {
        assert!(
            names.contains(&expected.to_string()),
            "{expected} missing: {names:?}"
        );
    }
    assert!(
        !names.contains(&"mcp__demo__slow".to_string()),
        "disabled_tools is applied: {names:?}"
    );
    assert!(names.iter().all(|name| name.len() <= 64), "{names:?}");
    assert!(
        text(&results[1]).contains("through the gateway"),
        "{}",
        results[1]
    );
    assert_eq!(text(&results[2]), "5", "{}", results[2]);
    assert!(
        results[3]["error"]
            .as_str()
            .is_some_and(|error| error.contains("unknown tool")),
        "a disabled tool cannot be called: {} ({stderr})",
        results[3]
    );
    let prompts = results[4]["prompts"].as_array().unwrap();
    assert!(
        prompts.iter().any(|prompt| prompt["name"]
            .as_str()
            .unwrap()
            .starts_with("mcp__everything__")),
        "{}",
        results[4]
    );
    assert!(
        !results[5]["resources"].as_array().unwrap().is_empty(),
        "{}",
        results[5]
    );
    assert!(
        !results[6]["contents"].as_array().unwrap().is_empty(),
        "read through the gateway: {}",
        results[6]
    );
    assert!(
        !results[7]["resourceTemplates"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{}",
        results[7]
    );
}

#[test]
fn plain_names_keep_each_servers_own_names_and_qualify_only_collisions() {
    let home = Home::new();
    home.write_config(&format!(
        "{}{}",
        demo_table("alpha", ""),
        demo_table("beta", "enabled_tools = [\"echo\"]")
    ));
    let (results, stderr) = over_stdio(
        &home,
        &["mcp-server", "--names", "plain"],
        json!([
            {"op": "list_tools"},
            {"op": "call", "name": "add", "args": {"a": 1, "b": 1}},
            {"op": "call", "name": "mcp__beta__echo", "args": {"message": "from beta"}},
        ]),
    );
    let names = tool_names(&results[0]);
    assert!(names.contains(&"add".to_string()), "{names:?}");
    assert!(names.contains(&"mcp__alpha__echo".to_string()), "{names:?}");
    assert!(names.contains(&"mcp__beta__echo".to_string()), "{names:?}");
    assert!(!names.contains(&"echo".to_string()), "{names:?}");
    assert_eq!(text(&results[1]), "2");
    assert_eq!(text(&results[2]), "echo: from beta");
    assert!(
        stderr.contains("tool `echo` is offered by alpha, beta"),
        "the collision is reported: {stderr}"
    );
}

#[test]
fn servers_flag_serves_only_the_named_servers_and_refuses_unknown_ones() {
    let home = Home::new();
    home.write_config(&format!(
        "{}{}",
        demo_table("alpha", ""),
        demo_table("beta", "")
    ));
    let (results, _) = over_stdio(
        &home,
        &["mcp-server", "--servers", "beta"],
        json!([{"op": "list_tools"}]),
    );
    let names = tool_names(&results[0]);
    assert!(
        names.iter().all(|name| name.starts_with("mcp__beta__")),
        "{names:?}"
    );
    assert!(!names.is_empty());

    let output = home
        .codex()
        .args(["mcp-server", "--servers", "gamma"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no MCP server named `gamma`") && stderr.contains("alpha, beta"),
        "{stderr}"
    );
}

#[test]
fn a_crashing_hanging_or_broken_upstream_is_reported_while_the_others_keep_working() {
    let home = Home::new();
    let broken = format!(
        "[mcp_servers.broken]\ncommand = \"{}\"\nargs = [\"--exit-at-start\", \"3\"]\n",
        demo_server().display()
    );
    // Lines on stdout that are not JSON-RPC before it serves.
    let garbled = format!(
        "[mcp_servers.garbled]\ncommand = \"{}\"\nargs = [\"--garbage-stdout\"]\n",
        demo_server().display()
    );
    home.write_config(&format!(
        "{}{}{}{broken}{garbled}",
        demo_table("crashy", ""),
        demo_table("hangs", "tool_timeout_sec = 1"),
        demo_table("steady", ""),
    ));
    let (results, stderr) = over_stdio(
        &home,
        &["mcp-server", "-v"],
        json!([
            {"op": "list_tools"},
            {"op": "call", "name": "mcp__crashy__exit", "args": {"code": 7}},
            {"op": "call", "name": "mcp__steady__echo", "args": {"message": "still here"}},
            {"op": "call", "name": "mcp__crashy__echo", "args": {"message": "back again"}},
            {"op": "call", "name": "mcp__hangs__hang", "args": {}},
            {"op": "call", "name": "mcp__hangs__echo", "args": {"message": "after the hang"}},
            {"op": "call", "name": "mcp__garbled__echo", "args": {"message": "past the garbage"}},
        ]),
    );
    let names = tool_names(&results[0]);
    assert!(
        names.contains(&"mcp__steady__echo".to_string()),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|name| name.starts_with("mcp__broken__")),
        "{names:?}"
    );
    assert!(
        stderr.contains("MCP server `broken`"),
        "the server that cannot start is reported: {stderr}"
    );
    assert_eq!(results[1]["isError"], true, "{}", results[1]);
    assert_eq!(text(&results[2]), "echo: still here");
    assert_eq!(
        text(&results[3]),
        "echo: back again",
        "a dead server is started again on its next use: {} ({stderr})",
        results[3]
    );
    assert_eq!(results[4]["isError"], true, "{}", results[4]);
    assert!(text(&results[4]).contains("timed out"), "{}", results[4]);
    assert_eq!(text(&results[5]), "echo: after the hang");
    assert_eq!(
        text(&results[6]),
        "echo: past the garbage",
        "non-JSON lines of a server are skipped: {}",
        results[6]
    );
    // -v logs every call: server, tool, duration, outcome; never arguments.
    assert!(
        stderr.contains("tools/call server=steady tool=echo") && stderr.contains(" ms ok"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("still here"),
        "arguments are not logged: {stderr}"
    );
}

/// A `codex mcp-server --listen 127.0.0.1:0 ...` running on `home`, and the
/// address it printed.
pub(crate) struct Listener {
    child: Child,
    address: String,
    stderr: std::sync::mpsc::Receiver<String>,
}

impl Listener {
    pub(crate) fn start(home: &Home, args: &[&str], env: &[(&str, &str)]) -> Listener {
        let mut child = Command::new(codex_bin())
            .args(["mcp-server", "--listen", "127.0.0.1:0"])
            .args(args)
            .envs(home_env(home))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (lines, stderr) = std::sync::mpsc::channel();
        let reader = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let mut address = None;
        let deadline = Instant::now() + Duration::from_secs(30);
        while address.is_none() && Instant::now() < deadline {
            if let Ok(line) = stderr.recv_timeout(Duration::from_millis(100))
                && let Some(rest) = line.split("on http://").nth(1)
            {
                address = rest.strip_suffix("/mcp").map(str::to_string);
            }
        }
        Listener {
            child,
            address: address.expect("the gateway printed its address"),
            stderr,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}/mcp", self.address)
    }

    /// One raw HTTP/1.1 request; the status and the whole answer.
    pub(crate) fn request(&self, head: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let request = format!(
            "{head}\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|status| status.parse().ok())
            .unwrap_or_else(|| panic!("no status in {answer:?}"));
        (status, answer)
    }

    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn stderr_lines(&self) -> Vec<String> {
        self.stderr.try_iter().collect()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        // SIGTERM: the gateway ends its upstreams and exits.
        // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;

pub(crate) fn post(token: Option<&str>, extra: &str) -> String {
    let mut head = "POST /mcp HTTP/1.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream".to_string();
    if let Some(token) = token {
        head.push_str(&format!("\r\nAuthorization: Bearer {token}"));
    }
    head.push_str(extra);
    head
}

#[test]
fn http_listener_checks_token_origin_and_size_and_serves_the_python_client() {
    let home = Home::new();
    home.write_config(&demo_table("demo", ""));
    let token = "gateway-test-token-7c1f";
    let listener = Listener::start(
        &home,
        &[
            "--token-env-var",
            "GATEWAY_TOKEN",
            "--max-body-bytes",
            "65536",
        ],
        &[("GATEWAY_TOKEN", token)],
    );

    let (status, answer) = listener.request("GET /health HTTP/1.1", "");
    assert_eq!(status, 200, "/health needs no token: {answer}");
    let (status, answer) = listener.request(&post(None, ""), INITIALIZE);
    assert_eq!(status, 401, "{answer}");
    assert!(
        answer.contains("WWW-Authenticate: Bearer") || answer.contains("www-authenticate: Bearer"),
        "{answer}"
    );
    let (status, _) = listener.request(&post(Some("wrong-token"), ""), INITIALIZE);
    assert_eq!(status, 401);
    let (status, answer) = listener.request(
        &post(Some(token), "\r\nOrigin: https://evil.example"),
        INITIALIZE,
    );
    assert_eq!(status, 403, "a foreign Origin is refused: {answer}");
    let (status, answer) = listener.request(
        &post(Some(token), "\r\nOrigin: http://localhost:5173"),
        INITIALIZE,
    );
    assert_eq!(status, 200, "a loopback Origin passes: {answer}");
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(70_000));
    let (status, _) = listener.request(&post(Some(token), ""), &big);
    assert_eq!(status, 413, "a body over --max-body-bytes is refused");
    let (status, _) = listener.request("GET /elsewhere HTTP/1.1", "");
    assert_eq!(status, 404);

    let output = client_with(
        &home,
        &[
            "http".to_string(),
            listener.url(),
            "--token-env".to_string(),
            "GATEWAY_TOKEN".to_string(),
        ],
        &json!([
            {"op": "list_tools"},
            {"op": "call", "name": "mcp__demo__add", "args": {"a": 20, "b": 22}},
        ]),
        &[("GATEWAY_TOKEN", token)],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert!(tool_names(&results[0]).contains(&"mcp__demo__add".to_string()));
    assert_eq!(text(&results[1]), "42", "{}", results[1]);
    let said = listener.stderr_lines().join("\n");
    assert!(
        !said.contains(token),
        "a token from the environment is never printed: {said}"
    );
}

#[test]
fn http_listener_generates_a_token_once_and_refuses_no_auth_off_loopback() {
    let home = Home::new();
    home.write_config(&demo_table("demo", ""));
    let listener = Listener::start(&home, &[], &[]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut token = None;
    while token.is_none() && Instant::now() < deadline {
        if let Ok(line) = listener.stderr.recv_timeout(Duration::from_millis(100)) {
            token = line
                .rsplit_once("bearer token")
                .and_then(|(_, rest)| rest.rsplit(' ').next().map(str::to_string));
        }
    }
    let token = token.expect("a generated token is printed on stderr");
    assert_eq!(token.len(), 64, "{token}");
    let (status, _) = listener.request(&post(None, ""), INITIALIZE);
    assert_eq!(status, 401);
    let (status, answer) = listener.request(&post(Some(&token), ""), INITIALIZE);
    assert_eq!(status, 200, "{answer}");

    let output = home
        .codex()
        .args(["mcp-server", "--listen", "0.0.0.0:0", "--no-auth"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("--no-auth is only allowed on a loopback address"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn concurrent_http_clients_share_one_upstream_without_errors() {
    let home = Home::new();
    home.write_config(&demo_table("demo", ""));
    let listener = Listener::start(&home, &["--no-auth"], &[]);
    let clients = 10;
    let calls = 20;
    let output = client(
        &home,
        &["http".to_string(), listener.url()],
        &json!([{"op": "parallel", "clients": clients, "calls": calls,
                 "name": "mcp__demo__echo", "args": {"message": "x"}}]),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let counts: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(counts["failed"], json!([]), "{counts}");
    assert_eq!(counts["ok"], clients * calls, "{counts}");
}

#[test]
fn the_pinned_codex_lists_the_aggregated_tools_of_our_gateway_in_its_app_server() {
    // The servers behind the gateway, in a home of their own.
    let inner = Home::new();
    inner.write_config(&format!(
        "{}{}",
        demo_table("alpha", ""),
        demo_table("beta", "")
    ));
    // Codex's home: our gateway as its one stdio server.
    let outer = Home::new();
    let env: Vec<String> = home_env(&inner)
        .into_iter()
        .map(|(key, value)| format!("{key} = \"{value}\""))
        .collect();
    outer.write_config(&format!(
        "[mcp_servers.gateway]\ncommand = \"{}\"\nargs = [\"mcp-server\"]\nenv = {{ {} }}\nstartup_timeout_sec = 30\n",
        codex_bin().display(),
        env.join(", ")
    ));
    let mut codex = Command::new(codex_test_support::codex_cli())
        .arg("app-server")
        .env("CODEX_HOME", outer.path())
        .env_remove("OPENAI_API_KEY")
        .env_remove("CODEX_API_KEY")
        .current_dir(outer.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = codex.stdin.take().unwrap();
    let (lines, answers) = std::sync::mpsc::channel();
    let reader = BufReader::new(codex.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let answer = |id: u64| -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(line) = answers.recv_timeout(Duration::from_millis(200))
                && let Ok(message) = serde_json::from_str::<Value>(&line)
                && message["id"] == id
            {
                return message;
            }
        }
        panic!("Codex's app-server did not answer request {id}");
    };
    let mut send = |message: Value| {
        stdin.write_all(format!("{message}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    };
    send(
        json!({"id": 1, "method": "initialize", "params": {"clientInfo": {"name": "gateway-test", "title": "t", "version": "1"}}}),
    );
    answer(1);
    send(json!({"method": "initialized"}));
    send(json!({"id": 2, "method": "mcpServerStatus/list", "params": {}}));
    let listed = answer(2);
    let _ = codex.kill();
    let _ = codex.wait();
    let server = &listed["result"]["data"][0];
    assert_eq!(server["name"], "gateway", "{listed}");
    assert!(server["toolsError"].is_null(), "{listed}");
    let tools: Vec<&String> = server["tools"]
        .as_object()
        .unwrap_or_else(|| panic!("no tools in {listed}"))
        .keys()
        .collect();
    for expected in ["mcp__alpha__add", "mcp__beta__echo"] {
        assert!(
            tools.iter().any(|tool| tool.ends_with(expected)),
            "{expected} missing from Codex's list: {tools:?}"
        );
    }
}

/// node and the conformance suite's entry point, from tests/setup.sh.
pub(crate) fn conformance_suite() -> (String, String) {
    let script = std::env::var("CODEX_TEST_CONFORMANCE").unwrap_or_else(|_| {
        workspace_root()
            .join("tests/node_modules/@modelcontextprotocol/conformance/dist/index.js")
            .display()
            .to_string()
    });
    assert!(
        std::path::Path::new(&script).exists(),
        "the conformance suite is not installed at {script}: run tests/setup.sh (tests/run.sh does)"
    );
    let node = std::env::var("CODEX_TEST_NODE").unwrap_or_else(|_| "node".to_string());
    (node, script)
}

/// tests/python/conformance_fixtures.py as the server `fixtures`.
fn fixtures_table() -> String {
    format!(
        "[mcp_servers.fixtures]\ncommand = \"{}\"\nargs = [\"{}\"]\nstartup_timeout_sec = 30\n",
        python().display(),
        workspace_root()
            .join("tests/python/conformance_fixtures.py")
            .display()
    )
}

#[test]
fn the_conformance_suites_server_scenarios_pass_through_the_gateway() {
    let home = Home::new();
    home.write_config(&fixtures_table());
    // Plain names: the suite calls the fixtures by their own names. Calls
    // running over a second have their streams closed for the client to
    // resume (server-sse-polling calls one that takes 2.5 s).
    let listener = Listener::start(
        &home,
        &["--no-auth", "--names", "plain", "--poll-after", "1"],
        &[],
    );
    let (node, suite) = conformance_suite();
    let results = tempfile::tempdir().unwrap();
    let child = Command::new(node)
        .arg(suite)
        .args(["server", "--url", &listener.url(), "--suite", "all"])
        .arg("--expected-failures")
        .arg(workspace_root().join("tests/conformance/gateway-expected-failures.yml"))
        .arg("--output-dir")
        .arg(results.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = wait_bounded(child, Duration::from_secs(240));
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "unexpected failures or stale expected failures: {said}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        said.contains("dns-rebinding-protection: 2 passed, 0 failed"),
        "{said}"
    );
    assert!(said.contains("Baseline check passed"), "{said}");
}

/// The value of `name` in an HTTP answer's head, by any case of the name.
fn header_value(answer: &str, name: &str) -> Option<String> {
    let head = answer.split("\r\n\r\n").next()?;
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().to_string())
    })
}

#[test]
fn a_call_answered_while_its_client_was_away_is_resumed_with_last_event_id() {
    let home = Home::new();
    home.write_config(&fixtures_table());
    let listener = Listener::start(&home, &["--no-auth", "--poll-after", "1"], &[]);
    let (status, answer) = listener.request(&post(None, ""), INITIALIZE);
    assert_eq!(status, 200, "{answer}");
    let session = header_value(&answer, "mcp-session-id")
        .unwrap_or_else(|| panic!("no session id: {answer}"));
    let in_session = format!("\r\nMcp-Session-Id: {session}\r\nMcp-Protocol-Version: 2025-11-25");
    let (status, answer) = listener.request(
        &post(None, &in_session),
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    assert_eq!(status, 202, "{answer}");

    // The call takes 2.5 s; the gateway closes its stream after 1 s.
    let started = Instant::now();
    let (status, first) = listener.request(
        &post(None, &in_session),
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"mcp__fixtures__test_reconnection","arguments":{}}}"#,
    );
    let closed_after = started.elapsed();
    assert_eq!(status, 200, "{first}");
    assert!(
        !first.contains("Reconnection test completed"),
        "the stream was closed before the answer: {first}"
    );
    assert!(
        first.contains("retry:"),
        "a retry hint before the close: {first}"
    );
    assert!(
        closed_after < Duration::from_millis(2400),
        "{closed_after:?}"
    );
    let last_event_id = first
        .lines()
        .filter_map(|line| line.strip_prefix("id:"))
        .next_back()
        .map(|id| id.trim().to_string())
        .unwrap_or_else(|| panic!("no event id: {first}"));

    // Away until after the answer came: it is kept for the client.
    std::thread::sleep(Duration::from_millis(2500));
    let (status, resumed) = listener.request(
        &format!(
            "GET /mcp HTTP/1.1\r\nAccept: text/event-stream{in_session}\r\nLast-Event-ID: {last_event_id}"
        ),
        "",
    );
    assert_eq!(status, 200, "{resumed}");
    assert!(
        resumed.contains("Reconnection test completed successfully")
            && resumed.contains("\"id\":2"),
        "the answer after Last-Event-ID {last_event_id}: {resumed}"
    );
}
