//! `codex app-server generate-json-schema`: our bundle has Codex's file
//! names and layout, and describes what both app-servers answer: a script
//! covering every method we serve runs on ours and on the pinned Codex,
//! and each request, answer and notification is validated against OUR
//! files. Then the errors of an `--out` that cannot be written.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use codex_test_support::{Home, codex_bin, demo_server};
use serde_json::{Value, json};

use crate::app_server::{Client, Peer, assert_valid_in, schema_dir};

fn generate(out: &Path, experimental: bool) -> Output {
    let mut command = Command::new(codex_bin());
    command
        .args(["app-server", "generate-json-schema", "--out"])
        .arg(out)
        .env_remove("OPENAI_API_KEY")
        .stdin(Stdio::null());
    if experimental {
        command.arg("--experimental");
    }
    command.output().unwrap()
}

/// Our bundle, generated once per test run.
fn our_schema_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let output = generate(dir.path(), false);
        assert!(
            output.status.success(),
            "generate-json-schema failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        dir
    })
    .path()
}

/// Every file under `dir`, relative to it.
fn files_under(dir: &Path) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.insert(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    found
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|error| panic!("{} is not JSON: {error}", path.display()))
}

/// Checks `instance` against our schema file `name` (under `v2/`, `v1/`
/// or at the top), listing every violation.
fn assert_ours_valid(name: &str, instance: &Value, what: &str) {
    assert_valid_in(our_schema_dir(), "our", name, instance, what);
}

/// The methods a union file of ours lists.
fn union_methods(file: &str) -> BTreeSet<String> {
    read_json(&our_schema_dir().join(file))["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|variant| {
            variant["properties"]["method"]["enum"][0]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn every_file_has_a_namesake_in_codexs_bundle() {
    let codex = files_under(schema_dir());
    let plain = tempfile::tempdir().unwrap();
    let experimental = tempfile::tempdir().unwrap();
    assert!(generate(plain.path(), false).status.success());
    assert!(generate(experimental.path(), true).status.success());
    let ours = files_under(plain.path());
    assert_eq!(ours, files_under(experimental.path()));
    for expected in [
        "ClientRequest.json",
        "ServerNotification.json",
        "ClientNotification.json",
        "JSONRPCMessage.json",
        "RequestId.json",
        "v1/InitializeParams.json",
        "v1/InitializeResponse.json",
        "v2/CommandExecParams.json",
        "v2/McpServerRefreshResponse.json",
        "v2/AccountUpdatedNotification.json",
        "codex_app_server_protocol.schemas.json",
        "codex_app_server_protocol.v2.schemas.json",
    ] {
        assert!(
            ours.contains(Path::new(expected)),
            "no {expected}: {ours:?}"
        );
    }
    // We send no requests to the client.
    assert!(!ours.contains(Path::new("ServerRequest.json")));
    for file in &ours {
        assert!(
            codex.contains(file),
            "{} is not in Codex's bundle",
            file.display()
        );
        let schema = read_json(&plain.path().join(file));
        assert_eq!(
            schema["$schema"],
            "http://json-schema.org/draft-07/schema#",
            "{}",
            file.display()
        );
        // Each file is titled as its type (the two bundles as Codex's are),
        // and Codex's file of the same name has the same title.
        let stem = file.file_stem().unwrap().to_str().unwrap();
        let title = match stem {
            "codex_app_server_protocol.schemas" => "CodexAppServerProtocol",
            "codex_app_server_protocol.v2.schemas" => "CodexAppServerProtocolV2",
            stem => stem,
        };
        assert_eq!(schema["title"], title, "{}", file.display());
        assert_eq!(
            read_json(&schema_dir().join(file))["title"],
            title,
            "{}",
            file.display()
        );
        jsonschema::validator_for(&schema)
            .unwrap_or_else(|error| panic!("{} is no valid schema: {error}", file.display()));
    }
    // What a client sends besides requests.
    let initialized = json!({"method": "initialized"});
    assert_ours_valid("ClientNotification", &initialized, "initialized");
    assert_ours_valid("JSONRPCMessage", &initialized, "initialized");
    assert_ours_valid("RequestId", &json!("a"), "a string id");
    assert_ours_valid("RequestId", &json!(7), "an integer id");

    // The experimental field appears only with --experimental.
    let account = |dir: &Path| read_json(&dir.join("v2/GetAccountResponse.json"));
    assert!(account(plain.path())["properties"]["workspaceRouting"].is_null());
    assert!(account(experimental.path())["properties"]["workspaceRouting"].is_object());

    // The unions list our methods only: what server.rs dispatches.
    let requests = union_methods("ClientRequest.json");
    for method in [
        "initialize",
        "account/read",
        "getAuthStatus",
        "config/batchWrite",
        "configRequirements/read",
        "experimentalFeature/enablement/set",
        "mcpServer/oauth/login",
        "config/mcpServer/reload",
        "command/exec/resize",
    ] {
        assert!(requests.contains(method), "{method} not in {requests:?}");
    }
    assert!(!requests.contains("thread/start"), "{requests:?}");
    assert_eq!(requests.len(), 21, "{requests:?}");
    let notifications = union_methods("ServerNotification.json");
    assert_eq!(
        notifications,
        [
            "account/login/completed",
            "account/updated",
            "command/exec/outputDelta",
            "mcpServer/oauthLogin/completed",
            "mcpServer/startupStatus/updated",
        ]
        .into_iter()
        .map(String::from)
        .collect::<BTreeSet<_>>()
    );
}

/// A CODEX_HOME outside `/tmp` (Codex's terminals need it there), with
/// our demo server and server-everything (which has resources).
fn script_home() -> Home {
    let base = std::env::var_os("HOME").map(PathBuf::from).unwrap();
    let dir = tempfile::tempdir_in(base).unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let home = Home { dir };
    let (node, script) = codex_test_support::server_everything();
    home.write_config(&format!(
        "model = \"o3\"\n\n[mcp_servers.demo]\ncommand = {demo:?}\n\n[mcp_servers.everything]\ncommand = {node:?}\nargs = [{script:?}, \"stdio\"]\n",
        demo = demo_server().display().to_string(),
    ));
    home
}

/// One request of the script, the answer, and the schema of its result.
struct Step {
    label: &'static str,
    request: Value,
    answer: Value,
    result_schema: Option<&'static str>,
}

/// Records requests and answers on one peer.
struct Script {
    client: Client,
    steps: Vec<Step>,
    /// Notifications taken out of `client.notifications` by `wait_for`.
    waited: Vec<Value>,
}

impl Script {
    fn request_of(id: i64, method: &str, params: &Value) -> Value {
        let mut request = json!({"id": id, "method": method});
        if !params.is_null() {
            request["params"] = params.clone();
        }
        request
    }

    /// Sends without waiting; `finish_step` collects the answer.
    fn send(&mut self, method: &str, params: Value) -> (i64, Value) {
        let id = self.client.send(method, params.clone());
        (id, Script::request_of(id, method, &params))
    }

    fn finish_step(
        &mut self,
        label: &'static str,
        sent: (i64, Value),
        result_schema: Option<&'static str>,
    ) -> Value {
        let answer = self.client.answer(sent.0);
        self.steps.push(Step {
            label,
            request: sent.1,
            answer: answer.clone(),
            result_schema,
        });
        answer
    }

    fn step(
        &mut self,
        label: &'static str,
        method: &str,
        params: Value,
        result_schema: Option<&'static str>,
    ) -> Value {
        let sent = self.send(method, params);
        self.finish_step(label, sent, result_schema)
    }

    fn wait_for(&mut self, method: &str, matches: impl Fn(&Value) -> bool) {
        let notification = self.client.wait_for(method, matches);
        self.waited.push(notification);
    }

    /// Waits until the output deltas of `process_id` hold `text`.
    fn wait_for_output(&mut self, process_id: &str, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let bytes: Vec<u8> = self
                .client
                .notifications
                .iter()
                .filter(|n| {
                    n["method"] == "command/exec/outputDelta"
                        && n["params"]["processId"] == process_id
                })
                .flat_map(|n| {
                    BASE64
                        .decode(n["params"]["deltaBase64"].as_str().unwrap())
                        .unwrap()
                })
                .collect();
            if String::from_utf8_lossy(&bytes).contains(text) {
                return;
            }
            assert!(Instant::now() < deadline, "no {text:?} from {process_id}");
            // A request answered at once lets the notifications in.
            self.client.request("configRequirements/read", Value::Null);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Every method we serve, with the schema its result must match.
fn run_script(peer: Peer, home: &Home) -> (Vec<Step>, Vec<Value>) {
    let mut script = Script {
        client: Client::start(peer, home),
        steps: Vec::new(),
        waited: Vec::new(),
    };
    let s = &mut script;
    s.step(
        "initialize",
        "initialize",
        json!({"clientInfo": {"name": "t", "title": null, "version": "1"}}),
        Some("InitializeResponse"),
    );
    s.client.notify("initialized");
    s.step(
        "account/read",
        "account/read",
        json!({}),
        Some("GetAccountResponse"),
    );
    s.step(
        "login",
        "account/login/start",
        json!({"type": "apiKey", "apiKey": "sk-test-abcdefghijklmnop1234"}),
        Some("LoginAccountResponse"),
    );
    s.wait_for("account/login/completed", |p| p["success"] == true);
    s.wait_for("account/updated", |p| p["authMode"] == "apikey");
    s.step(
        "account/read logged in",
        "account/read",
        json!({"refreshToken": false}),
        Some("GetAccountResponse"),
    );
    s.step(
        "getAuthStatus",
        "getAuthStatus",
        json!({"includeToken": false}),
        None,
    );
    s.step(
        "cancel",
        "account/login/cancel",
        json!({"loginId": "01a24241-4b88-75a2-ac1d-e6a243757108"}),
        Some("CancelLoginAccountResponse"),
    );
    s.step(
        "logout",
        "account/logout",
        Value::Null,
        Some("LogoutAccountResponse"),
    );
    s.wait_for("account/updated", |p| p["authMode"].is_null());
    s.step(
        "config/read",
        "config/read",
        json!({"includeLayers": true}),
        Some("ConfigReadResponse"),
    );
    s.step(
        "write",
        "config/value/write",
        json!({"keyPath": "model", "value": "o4-mini", "mergeStrategy": "replace"}),
        Some("ConfigWriteResponse"),
    );
    s.step(
        "write conflict",
        "config/value/write",
        json!({"keyPath": "model", "value": "x", "mergeStrategy": "replace", "expectedVersion": "sha256:00"}),
        None,
    );
    s.step(
        "batch",
        "config/batchWrite",
        json!({"edits": [
            {"keyPath": "tui", "value": {"n": 1}, "mergeStrategy": "upsert"},
            {"keyPath": "mcp_servers.demo.startup_timeout_sec", "value": 20, "mergeStrategy": "replace"}
        ]}),
        Some("ConfigWriteResponse"),
    );
    s.step(
        "config/read after",
        "config/read",
        json!({}),
        Some("ConfigReadResponse"),
    );
    s.step(
        "requirements",
        "configRequirements/read",
        Value::Null,
        Some("ConfigRequirementsReadResponse"),
    );
    let features = s.step(
        "features",
        "experimentalFeature/list",
        json!({"limit": 5}),
        Some("ExperimentalFeatureListResponse"),
    );
    s.step(
        "features page 2",
        "experimentalFeature/list",
        json!({"limit": 5, "cursor": features["result"]["nextCursor"]}),
        Some("ExperimentalFeatureListResponse"),
    );
    s.step(
        "enablement",
        "experimentalFeature/enablement/set",
        json!({"enablement": {"memories": true}}),
        Some("ExperimentalFeatureEnablementSetResponse"),
    );
    let status = s.step(
        "mcp status",
        "mcpServerStatus/list",
        json!({}),
        Some("ListMcpServerStatusResponse"),
    );
    s.step(
        "mcp status short",
        "mcpServerStatus/list",
        json!({"detail": "toolsAndAuthOnly", "limit": 1}),
        Some("ListMcpServerStatusResponse"),
    );
    let uri = status["result"]["data"]
        .as_array()
        .and_then(|servers| servers.iter().find(|server| server["name"] == "everything"))
        .and_then(|everything| everything["resources"][0]["uri"].as_str())
        .unwrap_or_else(|| panic!("{peer:?}: server-everything lists no resource: {status}"))
        .to_owned();
    s.step(
        "resource",
        "mcpServer/resource/read",
        json!({"server": "everything", "uri": uri}),
        Some("McpResourceReadResponse"),
    );
    s.step(
        "tool call",
        "mcpServer/tool/call",
        json!({"threadId": "t", "server": "demo", "tool": "echo", "arguments": {"message": "hi"}}),
        Some("McpServerToolCallResponse"),
    );
    s.step(
        "oauth login of a stdio server",
        "mcpServer/oauth/login",
        json!({"name": "demo"}),
        None,
    );
    s.step(
        "reload",
        "config/mcpServer/reload",
        Value::Null,
        Some("McpServerRefreshResponse"),
    );
    s.step(
        "exec",
        "command/exec",
        json!({"command": ["sh", "-c", "echo hi; echo err >&2; exit 3"]}),
        Some("CommandExecResponse"),
    );
    let cat = s.send(
        "command/exec",
        json!({"command": ["cat"], "processId": "cat", "streamStdin": true, "streamStdoutStderr": true}),
    );
    s.step(
        "write stdin",
        "command/exec/write",
        json!({"processId": "cat", "deltaBase64": BASE64.encode("hello\n")}),
        Some("CommandExecWriteResponse"),
    );
    s.wait_for_output("cat", "hello");
    s.step(
        "close stdin",
        "command/exec/write",
        json!({"processId": "cat", "closeStdin": true}),
        Some("CommandExecWriteResponse"),
    );
    s.finish_step("cat", cat, Some("CommandExecResponse"));
    let tty = s.send(
        "command/exec",
        json!({"command": ["sh", "-c", "stty size; read line; echo got=$line"],
               "processId": "tty", "tty": true, "size": {"rows": 30, "cols": 100}}),
    );
    s.wait_for_output("tty", "30 100");
    s.step(
        "resize",
        "command/exec/resize",
        json!({"processId": "tty", "size": {"rows": 40, "cols": 120}}),
        Some("CommandExecResizeResponse"),
    );
    s.step(
        "write tty",
        "command/exec/write",
        json!({"processId": "tty", "deltaBase64": BASE64.encode("x\n")}),
        Some("CommandExecWriteResponse"),
    );
    s.finish_step("tty", tty, Some("CommandExecResponse"));
    let sleeper = s.send(
        "command/exec",
        json!({"command": ["sleep", "30"], "processId": "sleep"}),
    );
    std::thread::sleep(Duration::from_millis(300));
    s.step(
        "terminate",
        "command/exec/terminate",
        json!({"processId": "sleep"}),
        Some("CommandExecTerminateResponse"),
    );
    s.finish_step("terminated", sleeper, Some("CommandExecResponse"));
    s.step(
        "terminate unknown",
        "command/exec/terminate",
        json!({"processId": "nobody"}),
        None,
    );
    let Script {
        client,
        steps,
        mut waited,
    } = script;
    let mut client = client;
    // Whatever is still on its way before the end.
    client.request("configRequirements/read", Value::Null);
    waited.append(&mut client.notifications);
    assert!(client.finish().success(), "{peer:?} did not exit cleanly");
    (steps, waited)
}

/// Checks one peer's script against our files; returns the labels of the
/// steps whose result was validated.
fn check_against_our_schema(
    peer: Peer,
    steps: &[Step],
    notifications: &[Value],
) -> Vec<&'static str> {
    let what = |label: &str| format!("{peer:?} {label}");
    let mut validated = Vec::new();
    for step in steps {
        assert_ours_valid("ClientRequest", &step.request, &what(step.label));
        assert_ours_valid("JSONRPCMessage", &step.answer, &what(step.label));
        match (step.answer.get("result"), step.result_schema) {
            (Some(result), Some(schema)) => {
                assert_ours_valid(schema, result, &what(step.label));
                assert_ours_valid("JSONRPCResponse", &step.answer, &what(step.label));
                validated.push(step.label);
            }
            (Some(_), None) => {}
            (None, _) => assert_ours_valid("JSONRPCError", &step.answer, &what(step.label)),
        }
    }
    let ours = union_methods("ServerNotification.json");
    for notification in notifications {
        let method = notification["method"].as_str().unwrap_or_default();
        if ours.contains(method) {
            assert_ours_valid("ServerNotification", notification, &what(method));
            assert_ours_valid("JSONRPCNotification", notification, &what(method));
        } else {
            // Codex sends notifications of its agent too; ours sends
            // only what our union lists.
            assert_eq!(
                peer,
                Peer::Codex,
                "ours sent {notification} outside our union"
            );
        }
    }
    validated
}

#[test]
fn both_app_servers_answer_as_our_schema_says() {
    let ours_home = script_home();
    let codex_home = script_home();
    let (ours, ours_notes) = run_script(Peer::Ours, &ours_home);
    let (codex, codex_notes) = run_script(Peer::Codex, &codex_home);

    let validated = check_against_our_schema(Peer::Ours, &ours, &ours_notes);
    // Every step of ours that has a schema succeeded and was checked.
    let expected: Vec<&str> = ours
        .iter()
        .filter(|step| step.result_schema.is_some())
        .map(|step| step.label)
        .collect();
    assert_eq!(
        validated,
        expected,
        "steps of ours that failed: {:#?}",
        ours.iter()
            .filter(|s| s.answer.get("error").is_some())
            .map(|s| (s.label, &s.answer))
            .collect::<Vec<_>>()
    );
    for step in [
        "write conflict",
        "oauth login of a stdio server",
        "terminate unknown",
    ] {
        let answer = &ours.iter().find(|s| s.label == step).unwrap().answer;
        assert!(
            answer.get("error").is_some(),
            "{step} did not fail: {answer}"
        );
    }
    let ours_methods: BTreeSet<&str> = ours_notes
        .iter()
        .filter_map(|n| n["method"].as_str())
        .collect();
    for method in [
        "account/login/completed",
        "account/updated",
        "mcpServer/startupStatus/updated",
        "command/exec/outputDelta",
    ] {
        assert!(
            ours_methods.contains(method),
            "ours sent no {method}: {ours_methods:?}"
        );
    }

    let codex_validated = check_against_our_schema(Peer::Codex, &codex, &codex_notes);
    // Codex answers the same methods; only its tool call needs a thread of
    // its agent.
    let codex_missing: Vec<&&str> = expected
        .iter()
        .filter(|label| !codex_validated.contains(label))
        .collect();
    assert!(
        codex_missing.iter().all(|label| **label == "tool call"),
        "Codex failed steps with a schema: {codex_missing:?}: {:#?}",
        codex
            .iter()
            .filter(|s| s.answer.get("error").is_some())
            .map(|s| (s.label, &s.answer))
            .collect::<Vec<_>>()
    );
    let codex_methods: BTreeSet<&str> = codex_notes
        .iter()
        .filter_map(|n| n["method"].as_str())
        .collect();
    assert!(
        codex_methods.contains("command/exec/outputDelta"),
        "{codex_methods:?}"
    );
}

/// A directory that cannot be written: a read-only one, or where even root
/// cannot make one (sysfs) when permissions do not bind us.
fn unwritable_dir(scratch: &Path) -> PathBuf {
    let read_only = scratch.join("read-only");
    std::fs::create_dir(&read_only).unwrap();
    std::fs::set_permissions(
        &read_only,
        std::os::unix::fs::PermissionsExt::from_mode(0o555),
    )
    .unwrap();
    if std::fs::write(read_only.join("probe"), "x").is_ok() {
        return PathBuf::from("/sys/codex-schema-test");
    }
    read_only.join("schema")
}

fn assert_refused(out: &Path, blamed: &Path) -> String {
    let output = generate(out, false);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{}: {stderr}", out.display());
    assert!(
        stderr.contains("error: cannot write the schema into"),
        "{stderr}"
    );
    assert!(stderr.contains("--out"), "no fix named: {stderr}");
    assert!(
        stderr.contains(&format!("{}:", blamed.display())),
        "{} not named: {stderr}",
        blamed.display()
    );
    stderr
}

#[test]
fn an_out_that_cannot_be_written_is_named_with_its_reason() {
    let scratch = tempfile::tempdir().unwrap();

    // A file where the directory should be.
    let file = scratch.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let stderr = assert_refused(&file, &file);
    assert!(stderr.contains("cannot create the directory"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a directory");

    // A file where `v2/` should be.
    let blocked = scratch.path().join("blocked");
    std::fs::create_dir(&blocked).unwrap();
    std::fs::write(blocked.join("v2"), "in the way").unwrap();
    assert_refused(&blocked, &blocked.join("v2"));

    // A directory where a schema file should be.
    let taken = scratch.path().join("taken");
    std::fs::create_dir_all(taken.join("v2/GetAccountParams.json")).unwrap();
    let stderr = assert_refused(&taken, &taken.join("v2/GetAccountParams.json"));
    assert!(stderr.contains("cannot write"), "{stderr}");

    // A place that cannot be written.
    let unwritable = unwritable_dir(scratch.path());
    assert_refused(&unwritable, &unwritable);
}

#[test]
fn the_directory_is_created_and_files_replaced() {
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("new/nested");
    std::fs::create_dir_all(out.join("v2")).unwrap();
    let stale = out.join("v2/GetAccountParams.json");
    std::fs::write(&stale, "stale").unwrap();
    std::fs::write(out.join("mine.txt"), "kept").unwrap();
    let output = generate(&out, false);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(read_json(&stale)["title"], "GetAccountParams");
    assert_eq!(
        std::fs::read_to_string(out.join("mine.txt")).unwrap(),
        "kept"
    );
    assert!(out.join("v1/InitializeResponse.json").is_file());

    let fresh = scratch.path().join("fresh/a/b");
    assert!(generate(&fresh, true).status.success());
    assert!(fresh.join("ClientRequest.json").is_file());
}

#[test]
fn help_shows_an_example() {
    let output = Command::new(codex_bin())
        .args(["app-server", "generate-json-schema", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{help}");
    assert!(help.contains("--out <DIR>"), "{help}");
    assert!(help.contains("--experimental"), "{help}");
    assert!(
        help.contains("codex app-server generate-json-schema --out schema"),
        "{help}"
    );
    let output = Command::new(codex_bin())
        .args(["app-server", "generate-json-schema"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--out <DIR>"));
}
