//! The gateway's relay between its clients and its upstreams, driven by
//! the Python SDK's client (tests/python/gateway_client.py) against a
//! Python SDK server (tests/python/relay_server.py): progress of calls
//! running at once on one upstream, sampling and roots asked of the client
//! whose call caused them (and refused when it does not offer them),
//! cancellation, list changes and the list cache, resource updates to
//! subscribers only; and the upstream that needs a login, idle upstreams
//! and `[mcp_gateway]`.

use codex_test_support::{Home, codex_bin, workspace_root};
use serde_json::{Value, json};

use super::gateway::{
    Listener, client, demo_table, home_env, over_stdio, post, python, text, tool_names,
};

fn relay_table() -> String {
    format!(
        "[mcp_servers.relay]\ncommand = \"{}\"\nargs = [\"{}\"]\nstartup_timeout_sec = 30\n",
        python().display(),
        workspace_root()
            .join("tests/python/relay_server.py")
            .display()
    )
}

/// Runs the Python client over HTTP at `listener` with `options` before
/// the mode; its JSON output.
fn over_http(home: &Home, listener: &Listener, options: &[&str], steps: Value) -> Value {
    let mut mode: Vec<String> = options.iter().map(|option| option.to_string()).collect();
    mode.extend(["http".to_string(), listener.url()]);
    let output = client(home, &mode, &steps);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "client failed: {stderr}");
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}", String::from_utf8_lossy(&output.stdout)))
}

/// A home with the relay server configured, and the gateway's HTTP
/// listener on it (no token).
fn relay_gateway() -> (Home, Listener) {
    let home = Home::new();
    home.write_config(&relay_table());
    let listener = Listener::start(&home, &["--no-auth"], &[]);
    (home, listener)
}

/// How many `notifications/resources/updated` are among `notifications`.
fn resource_updates(notifications: &Value) -> usize {
    methods(notifications)
        .iter()
        .filter(|method| *method == "notifications/resources/updated")
        .count()
}

fn methods(notifications: &Value) -> Vec<String> {
    notifications
        .as_array()
        .unwrap_or_else(|| panic!("no notifications in {notifications}"))
        .iter()
        .filter_map(|notification| notification["method"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn calls_at_once_on_one_upstream_each_get_their_own_progress() {
    let (home, listener) = relay_gateway();
    // Two sessions, each with one call that reports progress, in flight at
    // the same time on the one upstream session.
    let results = over_http(
        &home,
        &listener,
        &[],
        json!([{"op": "sessions", "plans": [
            [{"op": "call_progress", "name": "mcp__relay__progress", "args": {"steps": 3}}],
            [{"op": "call_progress", "name": "mcp__relay__progress", "args": {"steps": 5}}],
        ]}]),
    );
    let first = &results[0][0];
    let second = &results[1][0];
    assert_eq!(text(&first["result"]), "done 3", "{results}");
    assert_eq!(text(&second["result"]), "done 5", "{results}");
    assert_eq!(first["progress"], json!([1.0, 2.0, 3.0]), "{results}");
    assert_eq!(
        second["progress"],
        json!([1.0, 2.0, 3.0, 4.0, 5.0]),
        "{results}"
    );
}

#[test]
fn sampling_and_roots_go_to_the_client_of_the_call_and_are_refused_when_it_offers_neither() {
    let home = Home::new();
    home.write_config(&relay_table());
    let steps = json!([
        {"op": "call", "name": "mcp__relay__sample", "args": {"prompt": "hello"}},
        {"op": "call", "name": "mcp__relay__roots"},
    ]);
    // Over stdio, from a client that offers both.
    let mut mode: Vec<String> = [
        "--sampling",
        "the model says hi",
        "--roots",
        "file:///work/a,file:///work/b",
        "stdio",
        "--",
    ]
    .iter()
    .map(|arg| arg.to_string())
    .collect();
    mode.extend([codex_bin().display().to_string(), "mcp-server".to_string()]);
    let output = client(&home, &mode, &steps);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let results: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        text(&results[0]),
        "sampled: the model says hi",
        "{results} {stderr}"
    );
    assert_eq!(
        text(&results[1]),
        "file:///work/a file:///work/b",
        "{results} {stderr}"
    );

    // Over HTTP, from a client that offers neither: the upstream is told
    // why, and its tool reports it.
    let listener = Listener::start(&home, &["--no-auth"], &[]);
    let refused = over_http(&home, &listener, &[], steps);
    for (result, capability) in [(&refused[0], "sampling"), (&refused[1], "roots")] {
        assert_eq!(result["isError"], true, "{refused}");
        let said = text(result);
        assert!(
            said.contains(&format!("does not offer `{capability}`")),
            "{said}"
        );
        assert!(said.contains("MCP server `relay`"), "{said}");
    }
}

#[test]
fn questions_during_calls_of_one_session_go_to_it_and_of_several_sessions_are_refused() {
    let (home, listener) = relay_gateway();
    // Each call waits a second before it asks, so that both are in flight
    // when the upstream asks: MCP does not say which call a request is of.
    let sample = |prompt: &str| json!({"op": "call", "name": "mcp__relay__sample", "args": {"prompt": prompt, "delay": 1}});
    let one_session = over_http(
        &home,
        &listener,
        &["--sampling", "the model says hi"],
        json!([{"op": "together", "steps": [sample("a"), sample("b")]}]),
    );
    for result in one_session[0].as_array().unwrap() {
        assert_eq!(text(result), "sampled: the model says hi", "{one_session}");
    }
    let two_sessions = over_http(
        &home,
        &listener,
        &["--sampling", "the model says hi"],
        json!([{"op": "sessions", "plans": [[sample("a")], [sample("b")]]}]),
    );
    for plan in two_sessions.as_array().unwrap() {
        let said = text(&plan[0]);
        assert_eq!(plan[0]["isError"], true, "{two_sessions}");
        assert!(said.contains("calls of several clients are"), "{said}");
    }
}

/// Two clients, each with its own answer, call the relay's `sample` at once
/// through a gateway whose config is `config`; each must get its own.
fn two_clients_sample_at_once(config: &str) {
    let home = Home::new();
    home.write_config(config);
    let listener = Listener::start(&home, &["--no-auth"], &[]);
    let ask = |answer: &'static str| {
        let mode = vec![
            "--sampling".to_string(),
            answer.to_string(),
            "http".to_string(),
            listener.url(),
        ];
        // Both in flight when the upstream asks.
        let steps = json!([{"op": "call", "name": "mcp__relay__sample",
                            "args": {"prompt": "p", "delay": 1}}]);
        let home = &home;
        move || client(home, &mode, &steps)
    };
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(ask("from the first client"));
        let second = scope.spawn(ask("from the second client"));
        (first.join().unwrap(), second.join().unwrap())
    });
    for (output, answer) in [
        (first, "from the first client"),
        (second, "from the second client"),
    ] {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        let results: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(
            text(&results[0]),
            format!("sampled: {answer}"),
            "{config}: {results} {stderr}"
        );
    }
}

#[test]
fn an_http_upstreams_questions_reach_the_client_of_their_call_among_several() {
    use super::http_transport::{Peer, free_port};
    let port = free_port();
    let mut command = std::process::Command::new(python());
    command
        .arg(workspace_root().join("tests/python/relay_server.py"))
        .args(["--port", &port.to_string()]);
    let upstream = Peer::start(command, port, "relay_server.py over HTTP");
    let table = format!("[mcp_servers.relay]\nurl = \"{}\"\n", upstream.url("/mcp"));
    // MCP 2026-07-28 (the default for HTTP servers): the upstream asks in
    // each call's own input_required result.
    two_clients_sample_at_once(&table);
    // 2025-11-25: the upstream sends each question on the POST stream of
    // its call, which the HTTP plugin names in the question's _meta.
    two_clients_sample_at_once(&format!(
        "[features]\nmcp_protocol_2026_07_28 = false\n\n{table}"
    ));
}

#[test]
fn a_2026_client_answers_the_upstreams_questions_in_input_required_rounds() {
    let (home, listener) = relay_gateway();
    // MCP 2026-07-28 has no server requests: the upstream's elicitation,
    // sampling and roots requests come back to the client one round each,
    // answered by the SDK's own driver, while the upstream call waits.
    let results = over_http(
        &home,
        &listener,
        &[
            "--discover",
            "--elicit",
            r#"{"name": "Ada"}"#,
            "--sampling",
            "hello Ada",
            "--roots",
            "file:///work/a",
        ],
        json!([
            {"op": "call_rounds", "name": "mcp__relay__interview"},
            {"op": "call_rounds", "name": "mcp__relay__list_count"},
        ]),
    );
    assert_eq!(
        text(&results[0]["result"]),
        "Ada | hello Ada | file:///work/a",
        "{results}"
    );
    assert_eq!(
        results[0]["rounds"],
        json!([["q1"], ["q2"], ["q3"]]),
        "{results}"
    );
    assert_eq!(
        results[1]["rounds"],
        json!([]),
        "no question, no round: {results}"
    );

    // A client that offers none of them is refused as over 2025-11-25.
    let refused = over_http(
        &home,
        &listener,
        &["--discover"],
        json!([{"op": "call", "name": "mcp__relay__sample", "args": {"prompt": "hi"}}]),
    );
    assert_eq!(refused[0]["isError"], true, "{refused}");
    assert!(
        text(&refused[0]).contains("does not offer `sampling`"),
        "{refused}"
    );

    // A requestState the gateway did not hand out is an error that says
    // what to do.
    let body = json!({
        "jsonrpc": "2.0", "id": 9, "method": "tools/call",
        "params": {
            "name": "mcp__relay__interview", "arguments": {},
            "requestState": "not-a-state", "inputResponses": {},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"}
            }
        }
    })
    .to_string();
    let (status, answer) = listener.request(
        &post(
            None,
            "\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: mcp__relay__interview",
        ),
        &body,
    );
    assert!(
        answer.contains("requestState is not one of a call waiting in this gateway"),
        "{status} {answer}"
    );
}

#[test]
fn a_call_the_client_gives_up_is_cancelled_on_the_upstream() {
    let home = Home::new();
    home.write_config(&relay_table());
    let marker = home.path().join("cancelled-marker");
    let (results, stderr) = over_stdio(
        &home,
        &["mcp-server"],
        json!([
            {"op": "cancel_after", "seconds": 1.5, "name": "mcp__relay__slow",
             "args": {"seconds": 60, "marker": marker.display().to_string()}},
            {"op": "sleep", "seconds": 1.5},
            {"op": "call", "name": "mcp__relay__list_count"},
        ]),
    );
    assert_eq!(results[0]["cancelled"], true, "{results:?}");
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap_or_default(),
        "cancelled",
        "the upstream saw notifications/cancelled: {results:?} {stderr}"
    );
    // The upstream session serves the next call.
    assert!(!text(&results[2]).is_empty(), "{results:?}");
}

/// MCP 2026-07-28 cancels a call over HTTP by closing its response stream:
/// a client that hangs up mid-call has the upstream call cancelled.
#[test]
fn a_2026_client_that_hangs_up_mid_call_has_the_upstream_call_cancelled() {
    use std::io::Write;
    let (home, listener) = relay_gateway();
    let marker = home.path().join("cancelled-marker");
    let body = json!({
        "jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {
            "name": "mcp__relay__slow",
            "arguments": {"seconds": 60, "marker": marker.display().to_string()},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"}
            }
        }
    })
    .to_string();
    let head = post(
        None,
        "\r\nMCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: mcp__relay__slow",
    );
    let mut stream = std::net::TcpStream::connect(listener.address()).unwrap();
    write!(
        stream,
        "{head}\r\nHost: {}\r\nContent-Length: {}\r\n\r\n{body}",
        listener.address(),
        body.len()
    )
    .unwrap();
    // Long enough for the upstream to be started and the call to reach it.
    std::thread::sleep(std::time::Duration::from_secs(3));
    drop(stream);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read_to_string(&marker).unwrap_or_default() != "cancelled"
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap_or_default(),
        "cancelled",
        "the upstream saw notifications/cancelled after the client hung up: {:?}",
        listener.stderr_lines()
    );
}

#[test]
fn lists_are_answered_from_the_cache_until_the_upstream_says_they_changed() {
    let home = Home::new();
    home.write_config(&relay_table());
    let (results, stderr) = over_stdio(
        &home,
        &["mcp-server"],
        json!([
            {"op": "list_tools"},
            {"op": "call", "name": "mcp__relay__list_count"},
            {"op": "list_tools"},
            {"op": "list_tools"},
            {"op": "list_tools"},
            {"op": "call", "name": "mcp__relay__list_count"},
            {"op": "call", "name": "mcp__relay__add_tool"},
            {"op": "sleep", "seconds": 0.5},
            {"op": "notifications"},
            {"op": "list_tools"},
            {"op": "call", "name": "mcp__relay__added"},
            {"op": "call", "name": "mcp__relay__list_count"},
        ]),
    );
    let count = |index: usize| -> u64 {
        text(&results[index])
            .parse()
            .unwrap_or_else(|_| panic!("{results:?}"))
    };
    assert!(
        !tool_names(&results[0]).contains(&"mcp__relay__added".to_string()),
        "{results:?}"
    );
    assert_eq!(
        count(5),
        count(1),
        "three more listings reached the upstream: {results:?} {stderr}"
    );
    assert!(
        methods(&results[8]).contains(&"notifications/tools/list_changed".to_string()),
        "{results:?}"
    );
    assert!(
        tool_names(&results[9]).contains(&"mcp__relay__added".to_string()),
        "the new list after list_changed: {results:?}"
    );
    assert_eq!(text(&results[10]), "the added tool", "{results:?}");
    assert!(
        count(11) > count(5),
        "asked again after the change: {results:?}"
    );
}

#[test]
fn resource_updates_reach_only_the_sessions_that_subscribed() {
    let (home, listener) = relay_gateway();
    let uri = "relay://watched";
    let results = over_http(
        &home,
        &listener,
        &[],
        json!([{"op": "sessions", "plans": [
            [{"op": "subscribe", "uri": uri}, {"op": "sleep", "seconds": 4}, {"op": "notifications"}],
            [{"op": "sleep", "seconds": 2}, {"op": "call", "name": "mcp__relay__touch", "args": {"uri": uri}},
             {"op": "sleep", "seconds": 2}, {"op": "notifications"}],
        ]}]),
    );
    assert_eq!(
        resource_updates(&results[0][2]),
        1,
        "the subscriber: {results}"
    );
    assert_eq!(
        resource_updates(&results[1][3]),
        0,
        "the other session: {results}"
    );
    assert_eq!(text(&results[1][1]), "touched", "{results}");
}

#[test]
fn a_2026_client_listens_for_list_changes_and_resource_updates() {
    let (home, listener) = relay_gateway();
    let uri = "relay://watched";
    let subscriptions = json!({"op": "call", "name": "mcp__relay__subscriptions"});
    let results = over_http(
        &home,
        &listener,
        &["--discover"],
        json!([
            {"op": "list_tools"},
            // rmcp acknowledges a listen before the gateway has subscribed
            // upstream, so the first step waits a moment.
            {"op": "listen", "tools": true, "uris": [uri], "seconds": 1, "then": [
                {"op": "sleep", "seconds": 0.5},
                subscriptions.clone(),
                {"op": "call", "name": "mcp__relay__touch", "args": {"uri": uri}},
                {"op": "call", "name": "mcp__relay__touch", "args": {"uri": "relay://other"}},
                {"op": "call", "name": "mcp__relay__add_tool"},
            ]},
            // The stream has ended: its subscription is given up upstream.
            {"op": "sleep", "seconds": 0.5},
            subscriptions,
        ]),
    );
    let listened = &results[1];
    assert_eq!(
        text(&listened["results"][1]),
        uri,
        "subscribed upstream: {results}"
    );
    let events: Vec<&str> = listened["events"]
        .as_array()
        .unwrap_or_else(|| panic!("{results}"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(events.contains(&"ToolsListChanged"), "{results}");
    assert!(
        events.contains(&format!("ResourceUpdated {uri}").as_str()),
        "{results}"
    );
    assert!(
        !events.iter().any(|event| event.contains("relay://other")),
        "only the resource it named: {results}"
    );
    assert_eq!(
        text(&results[3]),
        "",
        "released after the stream: {results}"
    );
}

/// A session that ends without unsubscribing gives its subscription up:
/// the upstream is asked to unsubscribe once no session holds it.
#[test]
fn a_departed_sessions_subscriptions_are_given_up() {
    let (home, listener) = relay_gateway();
    let uri = "relay://watched";
    let subscriptions = json!({"op": "call", "name": "mcp__relay__subscriptions"});
    // The upstream is started first: on a loaded machine its start alone
    // can take longer than the second session waits below.
    over_http(&home, &listener, &[], json!([subscriptions.clone()]));
    let results = over_http(
        &home,
        &listener,
        &[],
        json!([{"op": "sessions", "plans": [
            [{"op": "subscribe", "uri": uri}, {"op": "sleep", "seconds": 2}],
            [{"op": "sleep", "seconds": 1}, subscriptions.clone(),
             {"op": "sleep", "seconds": 3}, subscriptions],
        ]}]),
    );
    assert_eq!(text(&results[1][1]), uri, "while subscribed: {results}");
    assert_eq!(
        text(&results[1][3]),
        "",
        "after the subscriber left: {results}"
    );
}

#[test]
fn subscriptions_are_renewed_when_their_upstream_restarts() {
    let (home, listener) = relay_gateway();
    let uri = "relay://watched";
    let results = over_http(
        &home,
        &listener,
        &[],
        json!([
            {"op": "subscribe", "uri": uri},
            {"op": "call", "name": "mcp__relay__crash"},
            // No use meanwhile: the gateway connects again by itself.
            {"op": "sleep", "seconds": 3},
            {"op": "notifications"},
            {"op": "call", "name": "mcp__relay__subscriptions"},
            {"op": "call", "name": "mcp__relay__touch", "args": {"uri": uri}},
            {"op": "sleep", "seconds": 0.5},
            {"op": "notifications"},
        ]),
    );
    assert_eq!(
        resource_updates(&results[3]),
        1,
        "told to read again after the restart, before any use: {results}"
    );
    assert_eq!(
        text(&results[4]),
        uri,
        "the new process was subscribed: {results}"
    );
    assert_eq!(
        resource_updates(&results[7]),
        2,
        "its updates arrive: {results}"
    );
}

#[test]
fn an_upstream_that_needs_a_login_names_codex_mcp_login() {
    let server = codex_test_support::oauth_mcp::start(codex_test_support::oauth_mcp::Grant::new(
        "access-token-gateway",
        "refresh-token-gateway",
    ));
    let home = Home::new();
    home.write_config(&format!(
        "[mcp_servers.web]\nurl = \"{}\"\n{}",
        server.url("/mcp"),
        demo_table("demo", "")
    ));
    let (results, stderr) = over_stdio(
        &home,
        &["mcp-server"],
        json!([
            {"op": "list_tools"},
            {"op": "notifications"},
            {"op": "call", "name": "mcp__web__echo", "args": {"message": "x"}},
            {"op": "call", "name": "mcp__demo__echo", "args": {"message": "still here"}},
        ]),
    );
    let names = tool_names(&results[0]);
    assert!(names.contains(&"mcp__demo__echo".to_string()), "{names:?}");
    let told = results[1].to_string();
    assert!(
        told.contains("codex mcp login web"),
        "the listing client is told: {told} ({stderr})"
    );
    assert_eq!(results[2]["isError"], true, "{results:?}");
    assert!(
        text(&results[2]).contains("codex mcp login web"),
        "{results:?}"
    );
    assert!(text(&results[3]).contains("still here"), "{results:?}");
}

#[test]
fn an_idle_upstream_stops_and_starts_again_on_next_use() {
    let home = Home::new();
    home.write_config(&demo_table("demo", ""));
    let (results, stderr) = over_stdio(
        &home,
        &["-v", "mcp-server", "--idle-timeout", "1"],
        json!([
            {"op": "call", "name": "mcp__demo__echo", "args": {"message": "one"}},
            {"op": "sleep", "seconds": 2.5},
            {"op": "call", "name": "mcp__demo__echo", "args": {"message": "two"}},
        ]),
    );
    assert!(text(&results[0]).contains("one"), "{results:?}");
    assert!(text(&results[2]).contains("two"), "{results:?}");
    assert!(
        stderr.contains("MCP server `demo` stopped after 1 s unused"),
        "{stderr}"
    );
}

#[test]
fn mcp_gateway_config_chooses_servers_names_and_tools_and_flags_override_it() {
    let home = Home::new();
    home.write_config(&format!(
        "{}{}[mcp_gateway]\nservers = [\"alpha\"]\nnames = \"plain\"\ninclude_tools = [\"alpha/*\"]\nexclude_tools = [\"*/add\"]\n",
        demo_table("alpha", ""),
        demo_table("beta", "")
    ));
    let (results, _) = over_stdio(&home, &["mcp-server"], json!([{"op": "list_tools"}]));
    let names = tool_names(&results[0]);
    assert!(names.contains(&"echo".to_string()), "{names:?}");
    assert!(names.contains(&"slow".to_string()), "{names:?}");
    assert!(!names.contains(&"add".to_string()), "excluded: {names:?}");
    assert!(
        names.iter().all(|name| !name.starts_with("mcp__")),
        "plain names, one server: {names:?}"
    );

    // Flags win: both servers, qualified names, no exclusion of `add` from beta.
    let (results, _) = over_stdio(
        &home,
        &[
            "mcp-server",
            "--servers",
            "alpha,beta",
            "--names",
            "qualified",
            "--tools",
            "*/add,alpha/echo",
            "--exclude-tools",
            "alpha/*",
        ],
        json!([{"op": "list_tools"}]),
    );
    assert_eq!(tool_names(&results[0]), ["mcp__beta__add"], "{results:?}");

    // A bad value is an error at its line, before any server starts.
    home.write_config("[mcp_gateway]\nnames = \"plain\"\nidle_timeout_sec = \"soon\"\n");
    let output = std::process::Command::new(codex_bin())
        .arg("mcp-server")
        .envs(home_env(&home))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("config.toml:3:"), "{stderr}");
    assert!(stderr.contains("mcp_gateway.idle_timeout_sec"), "{stderr}");

    // A flag's glob is checked the same way.
    home.write_config(&demo_table("alpha", ""));
    let output = std::process::Command::new(codex_bin())
        .args(["mcp-server", "--tools", "echo"])
        .envs(home_env(&home))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("--tools: tool pattern `echo` is not SERVER/TOOL"),
        "{stderr}"
    );
}
