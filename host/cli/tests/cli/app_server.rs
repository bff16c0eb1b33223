//! `codex app-server` beside the pinned Codex 0.169 app-server: the same
//! request script on the same CODEX_HOME, every answer of ours validated
//! against the schema Codex generates, and the values compared. Then what
//! only ours promises: logins seen across processes, versioned writes from
//! two processes, bad input, and clients that go away.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use codex_test_support::reference::codex_cli;
use codex_test_support::{Home, codex_bin, demo_server};
use serde_json::{Value, json};

/// How long any one answer may take.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Codex's schema files, generated once per test run by the pinned binary.
pub(crate) fn schema_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new(codex_cli())
            .args(["app-server", "generate-json-schema", "--out"])
            .arg(dir.path())
            .env_remove("OPENAI_API_KEY")
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "codex app-server generate-json-schema failed"
        );
        dir
    })
    .path()
}

/// Checks `instance` against Codex's schema file `name` (under `v2/` or
/// `v1/`, or at the top), listing every violation.
pub(crate) fn assert_valid(name: &str, instance: &Value) {
    assert_valid_in(schema_dir(), "Codex's", name, instance, name);
}

/// Checks `instance` (`what` it is) against the schema file `name` of the
/// bundle in `dir` (`bundle` names it in a failure), under `v2/`, `v1/` or
/// at the top, listing every violation.
pub(crate) fn assert_valid_in(dir: &Path, bundle: &str, name: &str, instance: &Value, what: &str) {
    let path = ["v2", "v1", "."]
        .iter()
        .map(|sub| dir.join(sub).join(format!("{name}.json")))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("{bundle} bundle has no schema named {name}"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|error| panic!("{} is not JSON: {error}", path.display()));
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: {instance:#}\n does not validate against {bundle} {name}: {errors:#?}"
    );
}

/// Which app-server a client drives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Peer {
    Codex,
    Ours,
}

/// One app-server process and the lines it wrote.
pub(crate) struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Value>,
    /// Notifications seen while waiting for answers.
    pub(crate) notifications: Vec<Value>,
    /// Answers that came while another was awaited.
    pub(crate) early: BTreeMap<i64, Value>,
    next_id: i64,
}

impl Client {
    pub(crate) fn start(peer: Peer, home: &Home) -> Client {
        Client::start_with(peer, home, &[], None)
    }

    /// Started with `env` set, and its stderr in `stderr` (else discarded).
    pub(crate) fn start_with(
        peer: Peer,
        home: &Home,
        env: &[(&str, &str)],
        stderr: Option<&Path>,
    ) -> Client {
        let mut command = match peer {
            Peer::Codex => Command::new(codex_cli()),
            Peer::Ours => Command::new(codex_bin()),
        };
        command
            .arg("app-server")
            .env("CODEX_HOME", home.path())
            .env("CODEX_SYSTEM_CONFIG", home.path().join("no-system.toml"))
            .env("CODEX_MANAGED_CONFIG", home.path().join("no-managed.toml"))
            .env_remove("OPENAI_API_KEY")
            .env_remove("CODEX_API_KEY")
            .current_dir(home.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .envs(env.iter().copied());
        match stderr {
            Some(path) => command.stderr(std::fs::File::create(path).unwrap()),
            None => command.stderr(Stdio::null()),
        };
        let mut child = command.spawn().unwrap();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let value: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|_| panic!("stdout holds a line that is not JSON: {line}"));
                if sender.send(value).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            lines,
            notifications: Vec::new(),
            early: BTreeMap::new(),
            next_id: 100,
        }
    }

    /// Started and initialized.
    pub(crate) fn ready(peer: Peer, home: &Home) -> Client {
        Client::initialized(Client::start(peer, home))
    }

    /// Started as [`Client::start_with`] and initialized.
    pub(crate) fn ready_with(
        peer: Peer,
        home: &Home,
        env: &[(&str, &str)],
        stderr: Option<&Path>,
    ) -> Client {
        Client::initialized(Client::start_with(peer, home, env, stderr))
    }

    fn initialized(mut client: Client) -> Client {
        let answer = client.request(
            "initialize",
            json!({"clientInfo": {"name": "t", "title": null, "version": "1"}}),
        );
        assert!(answer.get("result").is_some(), "{answer}");
        client.notify("initialized");
        client
    }

    fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    pub(crate) fn notify(&mut self, method: &str) {
        self.send_line(&json!({"method": method}).to_string());
    }

    /// Sends a request and returns its id.
    pub(crate) fn send(&mut self, method: &str, params: Value) -> i64 {
        self.next_id += 1;
        let id = self.next_id;
        let mut request = json!({"id": id, "method": method});
        if !params.is_null() {
            request["params"] = params;
        }
        self.send_line(&request.to_string());
        id
    }

    /// The whole answer (`{id, result}` or `{id, error}`) to `id`.
    pub(crate) fn answer(&mut self, id: i64) -> Value {
        if let Some(answer) = self.early.remove(&id) {
            return answer;
        }
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(message) if message.get("id") == Some(&json!(id)) => return message,
                Ok(message) if message.get("method").is_some() => self.notifications.push(message),
                Ok(other) => match other.get("id").and_then(Value::as_i64) {
                    Some(other_id) if other_id <= self.next_id => {
                        self.early.insert(other_id, other);
                    }
                    _ => panic!("an answer to no request sent: {other}"),
                },
                Err(error) => panic!("no answer to request {id}: {error:?}"),
            }
        }
    }

    pub(crate) fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params);
        self.answer(id)
    }

    pub(crate) fn result(&mut self, method: &str, params: Value) -> Value {
        let answer = self.request(method, params.clone());
        match answer.get("result") {
            Some(result) => result.clone(),
            None => panic!("{method} {params} failed: {answer}"),
        }
    }

    pub(crate) fn error(&mut self, method: &str, params: Value) -> Value {
        let answer = self.request(method, params.clone());
        match answer.get("error") {
            Some(error) => error.clone(),
            None => panic!("{method} {params} did not fail: {answer}"),
        }
    }

    /// Waits for a notification `method` whose params satisfy `matches`.
    pub(crate) fn wait_for(&mut self, method: &str, matches: impl Fn(&Value) -> bool) -> Value {
        if let Some(index) = self
            .notifications
            .iter()
            .position(|n| n["method"] == method && matches(&n["params"]))
        {
            return self.notifications.remove(index);
        }
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(message) if message["method"] == method && matches(&message["params"]) => {
                    return message;
                }
                Ok(message) => self.notifications.push(message),
                Err(error) => panic!("no {method} notification: {error:?}"),
            }
        }
    }

    /// Closes stdin and waits for the process to end.
    pub(crate) fn finish(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the app-server did not exit after stdin closed"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A home with the demo server configured under `demo`, with a comment.
fn home_with_demo() -> Home {
    let home = Home::new();
    home.write_config(&format!(
        "# the user's own note\nmodel = \"o3\"\n\n[features]\nmemories = true\n\n[mcp_servers.demo]\ncommand = {:?}\nargs = []\n",
        demo_server().display().to_string()
    ));
    home
}

/// Runs `script` on one peer, returning every answer in order.
fn run_script(peer: Peer, home: &Home) -> BTreeMap<&'static str, Value> {
    let mut client = Client::start(peer, home);
    let mut answers = BTreeMap::new();
    answers.insert(
        "before initialize",
        client.request("account/read", json!({})),
    );
    answers.insert(
        "initialize",
        client.request(
            "initialize",
            json!({"clientInfo": {"name": "t", "title": null, "version": "1"}}),
        ),
    );
    client.notify("initialized");
    answers.insert(
        "initialize again",
        client.request(
            "initialize",
            json!({"clientInfo": {"name": "t", "title": null, "version": "1"}}),
        ),
    );
    client.send_line("this is not json");
    answers.insert("account/read", client.request("account/read", json!({})));
    answers.insert(
        "account/read wrong params",
        client.request("account/read", json!(5)),
    );
    answers.insert("unknown method", client.request("nope/nope", json!({})));
    answers.insert(
        "login",
        client.request(
            "account/login/start",
            json!({"type": "apiKey", "apiKey": "sk-test-abcdefghijklmnop1234"}),
        ),
    );
    client.wait_for("account/login/completed", |p| p["success"] == true);
    client.wait_for("account/updated", |p| p["authMode"] == "apikey");
    answers.insert(
        "account/read logged in",
        client.request("account/read", json!({})),
    );
    answers.insert(
        "getAuthStatus",
        client.request("getAuthStatus", json!({"includeToken": false})),
    );
    answers.insert("logout", client.request("account/logout", Value::Null));
    client.wait_for("account/updated", |p| p["authMode"].is_null());
    answers.insert(
        "account/read logged out",
        client.request("account/read", json!({})),
    );
    answers.insert(
        "config/read",
        client.request("config/read", json!({"includeLayers": true})),
    );
    answers.insert(
        "write",
        client.request(
            "config/value/write",
            json!({"keyPath": "model", "value": "o4-mini", "mergeStrategy": "replace"}),
        ),
    );
    answers.insert(
        "write conflict",
        client.request("config/value/write", json!({"keyPath": "model", "value": "x", "mergeStrategy": "replace", "expectedVersion": "sha256:00"})),
    );
    answers.insert(
        "write mistyped",
        client.request(
            "config/value/write",
            json!({"keyPath": "model", "value": 5, "mergeStrategy": "replace"}),
        ),
    );
    answers.insert(
        "write elsewhere",
        client.request("config/value/write", json!({"keyPath": "model", "value": "x", "mergeStrategy": "replace", "filePath": "/tmp/elsewhere.toml"})),
    );
    answers.insert(
        "write profile",
        client.request(
            "config/value/write",
            json!({"keyPath": "profile", "value": "x", "mergeStrategy": "replace"}),
        ),
    );
    answers.insert(
        "write under a string",
        client.request(
            "config/value/write",
            json!({"keyPath": "model.sub", "value": 1, "mergeStrategy": "replace"}),
        ),
    );
    answers.insert(
        "batch",
        client.request(
            "config/batchWrite",
            json!({"edits": [
                {"keyPath": "tui", "value": {"n": 1}, "mergeStrategy": "upsert"},
                {"keyPath": "tui", "value": {"m": 2}, "mergeStrategy": "upsert"},
                {"keyPath": "features.memories", "value": null, "mergeStrategy": "replace"}
            ]}),
        ),
    );
    answers.insert(
        "config/read after",
        client.request("config/read", json!({})),
    );
    answers.insert(
        "requirements",
        client.request("configRequirements/read", Value::Null),
    );
    answers.insert(
        "features",
        client.request("experimentalFeature/list", json!({})),
    );
    answers.insert(
        "features page",
        client.request("experimentalFeature/list", json!({"limit": 3})),
    );
    answers.insert(
        "pin a feature",
        client.request(
            "config/value/write",
            json!({"keyPath": "features.mentions_v2", "value": false, "mergeStrategy": "replace"}),
        ),
    );
    answers.insert(
        "enablement",
        client.request(
            "experimentalFeature/enablement/set",
            json!({"enablement": {
                "mentions_v2": true, "mcp_2026_07_28": true, "apps": true, "nosuch": true
            }}),
        ),
    );
    answers.insert(
        "features after enablement",
        client.request("experimentalFeature/list", json!({})),
    );
    answers.insert(
        "mcp status",
        client.request("mcpServerStatus/list", json!({})),
    );
    answers.insert(
        "tool call without thread",
        client.request(
            "mcpServer/tool/call",
            json!({"server": "demo", "tool": "echo", "arguments": {"message": "hi"}}),
        ),
    );
    answers.insert(
        "reload",
        client.request("config/mcpServer/reload", Value::Null),
    );
    assert!(client.finish().success(), "{peer:?} did not exit cleanly");
    answers
}

fn result_of<'a>(answers: &'a BTreeMap<&'static str, Value>, step: &str) -> &'a Value {
    answers[step]
        .get("result")
        .unwrap_or_else(|| panic!("{step} failed: {}", answers[step]))
}

fn error_of<'a>(answers: &'a BTreeMap<&'static str, Value>, step: &str) -> &'a Value {
    answers[step]
        .get("error")
        .unwrap_or_else(|| panic!("{step} did not fail: {}", answers[step]))
}

/// The script on Codex, then on ours, each on a copy of one home.
#[test]
fn answers_match_codex_and_its_schema() {
    let home = home_with_demo();
    let theirs_home = Home::new();
    std::fs::copy(home.config_path(), theirs_home.config_path()).unwrap();
    let theirs = run_script(Peer::Codex, &theirs_home);
    let ours = run_script(Peer::Ours, &home);

    // Every answer of ours has Codex's shape.
    assert_valid("JSONRPCError", &ours["before initialize"]);
    for (step, schema) in [
        ("initialize", "InitializeResponse"),
        ("account/read", "GetAccountResponse"),
        ("login", "LoginAccountResponse"),
        ("account/read logged in", "GetAccountResponse"),
        ("logout", "LogoutAccountResponse"),
        ("config/read", "ConfigReadResponse"),
        ("write", "ConfigWriteResponse"),
        ("batch", "ConfigWriteResponse"),
        ("config/read after", "ConfigReadResponse"),
        ("requirements", "ConfigRequirementsReadResponse"),
        ("features", "ExperimentalFeatureListResponse"),
        ("features page", "ExperimentalFeatureListResponse"),
        ("enablement", "ExperimentalFeatureEnablementSetResponse"),
        (
            "features after enablement",
            "ExperimentalFeatureListResponse",
        ),
        ("mcp status", "ListMcpServerStatusResponse"),
        ("reload", "McpServerRefreshResponse"),
    ] {
        assert_valid(schema, result_of(&ours, step));
    }

    // The same values.
    for step in [
        "account/read",
        "login",
        "account/read logged in",
        "logout",
        "account/read logged out",
        "requirements",
        "enablement",
        "reload",
    ] {
        assert_eq!(result_of(&ours, step), result_of(&theirs, step), "{step}");
    }
    // Only the switchable keys take, and a key the config pins keeps its value.
    let enabled = |answers: &BTreeMap<&'static str, Value>, name: &str| -> Value {
        result_of(answers, "features after enablement")["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|feature| feature["name"] == name)
            .unwrap_or_else(|| panic!("{name} is not listed"))["enabled"]
            .clone()
    };
    for name in ["mentions_v2", "mcp_2026_07_28", "apps"] {
        assert_eq!(enabled(&ours, name), enabled(&theirs, name), "{name}");
    }
    assert_eq!(enabled(&ours, "mcp_2026_07_28"), true);
    assert_eq!(enabled(&ours, "mentions_v2"), false);
    assert_eq!(
        result_of(&ours, "getAuthStatus")["authMethod"],
        result_of(&theirs, "getAuthStatus")["authMethod"]
    );
    for step in [
        "before initialize",
        "initialize again",
        "account/read wrong params",
        "write conflict",
        "write mistyped",
        "write elsewhere",
        "write profile",
        "write under a string",
    ] {
        let (mine, codex) = (error_of(&ours, step), error_of(&theirs, step));
        assert_eq!(mine["code"], codex["code"], "{step}: {mine} vs {codex}");
        assert_eq!(
            mine.get("data"),
            codex.get("data"),
            "{step}: {mine} vs {codex}"
        );
    }
    for step in [
        "before initialize",
        "initialize again",
        "account/read wrong params",
        "write conflict",
        "write mistyped",
        "write elsewhere",
        "write profile",
        "write under a string",
    ] {
        assert_eq!(
            error_of(&ours, step)["message"],
            error_of(&theirs, step)["message"],
            "{step}"
        );
    }
    assert_eq!(error_of(&ours, "unknown method")["code"], -32600);
    assert_eq!(error_of(&theirs, "unknown method")["code"], -32600);
    assert!(
        error_of(&ours, "tool call without thread")["message"]
            .as_str()
            .unwrap()
            .contains("missing field `threadId`")
    );
    assert_eq!(
        error_of(&ours, "tool call without thread")["code"],
        error_of(&theirs, "tool call without thread")["code"]
    );

    let (mine, codex) = (
        result_of(&ours, "initialize"),
        result_of(&theirs, "initialize"),
    );
    assert_eq!(mine["platformFamily"], codex["platformFamily"]);
    assert_eq!(mine["platformOs"], codex["platformOs"]);
    assert_eq!(mine["codexHome"], home.path().display().to_string());

    // Config: the values, origins and versions of what the user file sets.
    let (mine, codex) = (
        result_of(&ours, "config/read"),
        result_of(&theirs, "config/read"),
    );
    assert_eq!(mine["config"]["model"], codex["config"]["model"]);
    assert_eq!(
        mine["config"]["features"]["memories"],
        codex["config"]["features"]["memories"]
    );
    for key in ["command", "args"] {
        assert_eq!(
            mine["config"]["mcp_servers"]["demo"][key],
            codex["config"]["mcp_servers"]["demo"][key]
        );
    }
    let origin_keys = |read: &Value| -> BTreeSet<String> {
        read["origins"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(origin_keys(mine), origin_keys(codex));
    for key in origin_keys(mine) {
        assert_eq!(
            mine["origins"][&key]["version"], codex["origins"][&key]["version"],
            "version of the layer that sets {key}"
        );
        assert_eq!(
            mine["origins"][&key]["name"]["type"],
            codex["origins"][&key]["name"]["type"]
        );
    }
    let user_layer = |read: &Value| -> Value {
        read["layers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|layer| layer["name"]["type"] == "user")
            .cloned()
            .unwrap()
    };
    assert_eq!(user_layer(mine)["version"], user_layer(codex)["version"]);
    assert_eq!(user_layer(mine)["config"], user_layer(codex)["config"]);

    // Writes land with the same versions, so the files hold the same values.
    assert_eq!(result_of(&ours, "write")["status"], "ok");
    assert_eq!(
        result_of(&ours, "write")["version"],
        result_of(&theirs, "write")["version"]
    );
    assert_eq!(
        result_of(&ours, "batch")["version"],
        result_of(&theirs, "batch")["version"]
    );
    assert_eq!(
        result_of(&ours, "write")["filePath"],
        home.config_path().display().to_string()
    );
    let written: toml::Table = toml::from_str(&home.read_config()).unwrap();
    let codex_written: toml::Table = toml::from_str(&theirs_home.read_config()).unwrap();
    assert_eq!(written, codex_written);
    assert!(
        home.read_config().contains("# the user's own note"),
        "{}",
        home.read_config()
    );

    // Features: the same stages, defaults and values.
    let features = |list: &Value| -> BTreeMap<String, Value> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|feature| {
                (
                    feature["name"].as_str().unwrap().to_string(),
                    json!([
                        feature["stage"],
                        feature["enabled"],
                        feature["defaultEnabled"]
                    ]),
                )
            })
            .collect()
    };
    let (mine, codex) = (
        features(result_of(&ours, "features")),
        features(result_of(&theirs, "features")),
    );
    // Codex lists `guardianv2.thread_context` (removed) as a feature of its
    // own; in its config it is a field of the `[features.guardianv2]` table,
    // which is how this host's registry knows it.
    let differing: Vec<_> = codex
        .iter()
        .filter(|(name, _)| name.as_str() != "guardianv2.thread_context")
        .filter(|(name, value)| mine.get(*name) != Some(value))
        .map(|(name, value)| format!("{name}: codex {value}, ours {:?}", mine.get(name)))
        .collect();
    assert!(differing.is_empty(), "features that differ: {differing:#?}");
    assert_eq!(
        result_of(&ours, "features page")["data"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(result_of(&ours, "features page")["nextCursor"], "3");

    // MCP: the same servers and auth statuses; ours lists the demo's tools.
    let (mine, codex) = (
        result_of(&ours, "mcp status"),
        result_of(&theirs, "mcp status"),
    );
    let names = |list: &Value| -> Vec<(Value, Value)> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|server| (server["name"].clone(), server["authStatus"].clone()))
            .collect()
    };
    assert_eq!(names(mine), names(codex));
    let tools: BTreeSet<&str> = mine["data"][0]["tools"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert!(
        tools.contains("echo") && tools.contains("slow"),
        "{tools:?}"
    );
    assert!(codex["data"][0]["toolsError"].is_null(), "{codex}");
    for field in [
        "tools",
        "serverInfo",
        "serverCapabilities",
        "resources",
        "resourceTemplates",
    ] {
        assert_eq!(mine["data"][0][field], codex["data"][0][field], "{field}");
    }
}

/// The agent's methods say that this host runs no agent; our MCP calls
/// work on a connection kept open.
#[test]
fn agent_methods_answer_no_agent_and_tools_run_on_an_open_connection() {
    let home = home_with_demo();
    let mut client = Client::ready(Peer::Ours, &home);
    for method in ["thread/start", "turn/start", "model/list"] {
        let error = client.error(method, json!({}));
        assert_eq!(error["code"], -32601, "{method}: {error}");
        assert!(
            error["message"].as_str().unwrap().contains("runs no agent"),
            "{error}"
        );
        assert_valid("JSONRPCError", &json!({"id": 1, "error": error}));
    }
    let call = json!({"threadId": "none", "server": "demo", "tool": "echo", "arguments": {"message": "hi"}});
    let first = client.result("mcpServer/tool/call", call.clone());
    assert_valid("McpServerToolCallResponse", &first);
    assert_eq!(first["content"][0]["text"], "echo: hi");
    client.wait_for("mcpServer/startupStatus/updated", |p| {
        p["name"] == "demo" && p["status"] == "ready"
    });
    let listed = client.result(
        "mcpServerStatus/list",
        json!({"detail": "toolsAndAuthOnly"}),
    );
    assert_valid("ListMcpServerStatusResponse", &listed);
    assert_eq!(
        listed["data"][0]["serverInfo"]["name"], "codex-demo-server",
        "{listed}"
    );
    client.result("mcpServer/tool/call", call.clone());
    // One connection served all three: it started once. (`getAuthStatus`
    // is still answered by Codex 0.169 but no longer in its schema.)
    let starts = client
        .notifications
        .iter()
        .filter(|n| {
            n["method"] == "mcpServer/startupStatus/updated" && n["params"]["status"] == "starting"
        })
        .count();
    assert_eq!(
        starts, 1,
        "the connection was opened again: {:#?}",
        client.notifications
    );
    // A reload closes it; the next call opens a new one.
    client.result("config/mcpServer/reload", Value::Null);
    let again = client.result("mcpServer/tool/call", call);
    assert_eq!(again["content"][0]["text"], "echo: hi");
    let unknown = client.error(
        "mcpServer/tool/call",
        json!({"threadId": "t", "server": "nope", "tool": "echo"}),
    );
    assert_eq!(unknown["code"], -32603);
    assert_eq!(unknown["message"], "unknown MCP server 'nope'");
    assert!(client.finish().success());
}

/// Two app-servers and the CLI on one home: each login or logout is seen
/// by the other server as `account/updated`.
#[test]
fn logins_elsewhere_are_announced() {
    let home = Home::new();
    let mut first = Client::ready(Peer::Ours, &home);
    let mut second = Client::ready(Peer::Ours, &home);
    first.result(
        "account/login/start",
        json!({"type": "apiKey", "apiKey": "sk-test-abcdefghijklmnop1234"}),
    );
    second.wait_for("account/updated", |p| p["authMode"] == "apikey");
    assert_eq!(
        second.result("account/read", json!({}))["account"],
        json!({"type": "apiKey"})
    );

    let logout = home.codex().arg("logout").output().unwrap();
    assert!(logout.status.success(), "{logout:?}");
    first.wait_for("account/updated", |p| p["authMode"].is_null());
    second.wait_for("account/updated", |p| p["authMode"].is_null());
    assert_eq!(
        first.result("account/read", json!({}))["account"],
        Value::Null
    );

    home.codex()
        .args(["login", "--with-api-key"])
        .write_stdin("sk-test-zyxwvutsrqponmlk9876\n")
        .assert()
        .success();
    first.wait_for("account/updated", |p| p["authMode"] == "apikey");
    second.wait_for("account/updated", |p| p["authMode"] == "apikey");
}

/// Ten writes at once from two processes, each with the version it read:
/// each lands or is refused as a conflict, and retried conflicts lose
/// nothing.
#[test]
fn versioned_writes_from_two_processes_lose_nothing() {
    let home = Home::new();
    home.write_config("# kept\nmodel = \"o3\"\n");
    let clients: Vec<Arc<Mutex<Client>>> = (0..2)
        .map(|_| Arc::new(Mutex::new(Client::ready(Peer::Ours, &home))))
        .collect();
    let user_version = |client: &mut Client| -> String {
        let read = client.result("config/read", json!({"includeLayers": true}));
        read["layers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|layer| layer["name"]["type"] == "user")
            .unwrap()["version"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut threads = Vec::new();
    for (process, client) in clients.iter().enumerate() {
        let client = client.clone();
        threads.push(std::thread::spawn(move || {
            let mut client = client.lock().unwrap();
            let mut outcomes = Vec::new();
            // All five at once with the version read first: at most one lands.
            let version = user_version(&mut client);
            let ids: Vec<(usize, i64)> = (0..5)
                .map(|n| {
                    let id = client.send(
                        "config/value/write",
                        json!({"keyPath": format!("tui.p{process}_{n}"), "value": n, "mergeStrategy": "replace", "expectedVersion": version}),
                    );
                    (n, id)
                })
                .collect();
            let mut pending: Vec<usize> = Vec::new();
            for (n, id) in ids {
                let answer = client.answer(id);
                match (&answer.get("result"), &answer.get("error")) {
                    (Some(result), None) => {
                        assert_eq!(result["status"], "ok");
                        outcomes.push("landed");
                    }
                    (None, Some(error)) => {
                        assert_eq!(error["data"]["config_write_error_code"], "configVersionConflict", "{error}");
                        outcomes.push("conflict");
                        pending.push(n);
                    }
                    _ => panic!("{answer}"),
                }
            }
            // Each conflict is retried with a fresh version until it lands.
            for n in pending {
                let mut tries = 0;
                loop {
                    tries += 1;
                    assert!(tries < 50, "write {n} never landed");
                    let version = user_version(&mut client);
                    let answer = client.request(
                        "config/value/write",
                        json!({"keyPath": format!("tui.p{process}_{n}"), "value": n, "mergeStrategy": "replace", "expectedVersion": version}),
                    );
                    if answer.get("result").is_some() {
                        break;
                    }
                    assert_eq!(answer["error"]["data"]["config_write_error_code"], "configVersionConflict");
                }
            }
            outcomes
        }));
    }
    let outcomes: Vec<&str> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(outcomes.len(), 10);
    assert!(outcomes.contains(&"conflict"), "{outcomes:?}");
    let text = home.read_config();
    let table: toml::Table = toml::from_str(&text).unwrap();
    for process in 0..2 {
        for n in 0..5 {
            assert_eq!(
                table["tui"][&format!("p{process}_{n}")].as_integer(),
                Some(n),
                "tui.p{process}_{n} lost:\n{text}"
            );
        }
    }
    assert!(text.starts_with("# kept\n"), "{text}");
}

/// The ids of processes running an executable under `dir`.
fn processes_running_from(dir: &Path) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let exe: PathBuf = std::fs::read_link(entry.path().join("exe")).ok()?;
            exe.starts_with(dir).then_some(pid)
        })
        .collect()
}

/// Malformed lines, wrong params, a 100 MB line, requests just before
/// stdin closes, and a client that leaves mid-call.
#[test]
fn bad_input_and_departing_clients() {
    let home = Home::new();
    // A copy of the demo server in the home, so its process is known by
    // its executable's path.
    let server = home.path().join("demo-server");
    std::fs::copy(demo_server(), &server).unwrap();
    home.write_config(&format!(
        "[mcp_servers.demo]\ncommand = {:?}\n",
        server.display().to_string()
    ));

    let mut client = Client::ready(Peer::Ours, &home);
    for line in [
        "{",
        "[1,2]",
        "{\"id\":14}",
        "{\"id\":1.5,\"method\":\"account/read\"}",
        "\u{0}",
    ] {
        client.send_line(line);
    }
    let error = client.error("config/read", json!({"includeLayers": "yes"}));
    assert_eq!(error["code"], -32600);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid request: invalid type: string"),
        "{error}"
    );
    let error = client.error(
        "account/login/start",
        json!({"type": "apiKey", "apiKey": "sk bad key with spaces"}),
    );
    assert!(
        !error["message"].as_str().unwrap().contains("bad key"),
        "the key was echoed: {error}"
    );

    // 100 MB in one line: skipped, and the next request is answered.
    {
        let stdin = client.stdin.as_mut().unwrap();
        let chunk = vec![b'x'; 1024 * 1024];
        stdin
            .write_all(b"{\"id\":1,\"method\":\"account/read\",\"params\":{\"pad\":\"")
            .unwrap();
        for _ in 0..100 {
            stdin.write_all(&chunk).unwrap();
        }
        stdin.write_all(b"\"}}\n").unwrap();
    }
    assert_eq!(
        client.result("account/read", json!({}))["account"],
        Value::Null
    );

    // Requests written just before stdin closes are still answered.
    let id = client.send("configRequirements/read", Value::Null);
    drop(client.stdin.take());
    assert_eq!(client.answer(id)["result"]["requirements"], Value::Null);
    assert!(client.finish().success());

    // A client that leaves in the middle of a long call leaves no server behind.
    let mut client = Client::ready(Peer::Ours, &home);
    client.send(
        "mcpServer/tool/call",
        json!({"threadId": "t", "server": "demo", "tool": "slow", "arguments": {"ms": 60000}}),
    );
    client.wait_for("mcpServer/startupStatus/updated", |p| {
        p["status"] == "ready"
    });
    assert_eq!(processes_running_from(home.path()).len(), 1);
    let started = Instant::now();
    assert!(client.finish().success());
    assert!(started.elapsed() < Duration::from_secs(20));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !processes_running_from(home.path()).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the MCP server outlived the app-server"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Pages of servers, and server-everything's resources read through both
/// app-servers.
#[test]
fn pages_and_resources_match_codex() {
    let (node, script) = codex_test_support::server_everything();
    let config = format!(
        "[mcp_servers.alpha]\ncommand = {demo:?}\n\n[mcp_servers.everything]\ncommand = {node:?}\nargs = [{script:?}, \"stdio\"]\n\n[mcp_servers.zeta]\ncommand = {demo:?}\n",
        demo = demo_server().display().to_string(),
    );
    let mut answers = Vec::new();
    for peer in [Peer::Codex, Peer::Ours] {
        let home = Home::new();
        home.write_config(&config);
        let mut client = Client::ready(peer, &home);
        let first = client.result("mcpServerStatus/list", json!({"limit": 2}));
        let second = client.result(
            "mcpServerStatus/list",
            json!({"limit": 2, "cursor": first["nextCursor"]}),
        );
        let everything = first["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|server| server["name"] == "everything")
            .cloned()
            .unwrap();
        let uri = everything["resources"][0]["uri"]
            .as_str()
            .unwrap()
            .to_string();
        let read = client.result(
            "mcpServer/resource/read",
            json!({"server": "everything", "uri": uri}),
        );
        if peer == Peer::Ours {
            assert_valid("ListMcpServerStatusResponse", &first);
            assert_valid("ListMcpServerStatusResponse", &second);
            assert_valid("McpResourceReadResponse", &read);
        }
        answers.push((first, second, everything, read));
        assert!(client.finish().success());
    }
    let names = |page: &Value| -> Vec<Value> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|server| server["name"].clone())
            .collect()
    };
    let (codex, ours) = (&answers[0], &answers[1]);
    assert_eq!(names(&ours.0), names(&codex.0));
    assert_eq!(
        ours.0["nextCursor"].is_string(),
        codex.0["nextCursor"].is_string()
    );
    assert_eq!(names(&ours.1), names(&codex.1));
    assert_eq!(ours.1["nextCursor"], codex.1["nextCursor"]);
    for field in ["resources", "resourceTemplates", "authStatus"] {
        assert_eq!(ours.2[field], codex.2[field], "everything's {field}");
    }
    // server-everything offers some tools by the client's capabilities:
    // `get-roots-list` to clients with roots (ours), `trigger-url-elicitation`
    // to clients with URL elicitation (Codex). The rest are the same.
    let by_capability = ["get-roots-list", "trigger-url-elicitation"];
    let tools = |entry: &Value| -> BTreeMap<String, Value> {
        entry["tools"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(name, _)| !by_capability.contains(&name.as_str()))
            .map(|(name, tool)| (name.clone(), tool.clone()))
            .collect()
    };
    assert_eq!(tools(&ours.2), tools(&codex.2));
    assert!(tools(&ours.2).len() > 10);
    let uris = |read: &Value| -> Vec<Value> {
        read["contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|content| json!([content["uri"], content["mimeType"]]))
            .collect()
    };
    assert_eq!(uris(&ours.3), uris(&codex.3));
}

/// Requests from a file (not a pipe) and answers into a file: the blocking
/// stdio path serves them as the pipes' path does.
#[test]
fn requests_from_a_file_are_answered_into_a_file() {
    let home = Home::new();
    let requests = home.path().join("requests.jsonl");
    std::fs::write(
        &requests,
        concat!(
            r#"{"id":0,"method":"initialize","params":{"clientInfo":{"name":"t","title":null,"version":"1"}}}"#,
            "\n",
            r#"{"method":"initialized"}"#,
            "\n",
            r#"{"id":1,"method":"experimentalFeature/list","params":{"limit":1}}"#,
            "\n",
        ),
    )
    .unwrap();
    let answers = home.path().join("answers.jsonl");
    let status = Command::new(codex_bin())
        .arg("app-server")
        .env("CODEX_HOME", home.path())
        .env("CODEX_SYSTEM_CONFIG", home.path().join("no-system.toml"))
        .env("CODEX_MANAGED_CONFIG", home.path().join("no-managed.toml"))
        .current_dir(home.path())
        .stdin(std::fs::File::open(&requests).unwrap())
        .stdout(std::fs::File::create(&answers).unwrap())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{status:?}");
    let lines: Vec<Value> = std::fs::read_to_string(&answers)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let answer = |id: i64| {
        lines
            .iter()
            .find(|line| line["id"] == id)
            .unwrap_or_else(|| panic!("no answer {id} in {lines:?}"))
    };
    assert_eq!(
        answer(0)["result"]["codexHome"],
        home.path().display().to_string()
    );
    assert_eq!(answer(1)["result"]["data"].as_array().unwrap().len(), 1);
}
