//! The transports against `@modelcontextprotocol/server-everything`, a
//! server nobody here wrote, in its streamable HTTP and HTTP+SSE modes.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use codex_plugin_api::ErrorKind;
use common::{Everything, Harness, Session, request};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(15);

fn tool_names(response: &Value) -> Vec<String> {
    response["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools in {response}"))
        .iter()
        .map(|tool| tool["name"].as_str().unwrap().to_string())
        .collect()
}

/// initialize, tools/list, echo and get-sum over an open session.
fn list_and_call(session: &Session) {
    let init = session.handshake();
    assert_eq!(
        init["result"]["serverInfo"]["name"], "mcp-servers/everything",
        "{init}"
    );

    session.send(&request(2, "tools/list", json!({})));
    let (tools, _) = session.response(2, WAIT);
    let names = tool_names(&tools);
    for expected in ["echo", "get-sum", "trigger-long-running-operation"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }

    session.send(&request(
        3,
        "tools/call",
        json!({ "name": "echo", "arguments": { "message": "hi there" } }),
    ));
    let (echo, _) = session.response(3, WAIT);
    assert_eq!(
        echo["result"]["content"][0]["text"], "Echo: hi there",
        "{echo}"
    );

    session.send(&request(
        4,
        "tools/call",
        json!({ "name": "get-sum", "arguments": { "a": 2, "b": 3 } }),
    ));
    let (sum, _) = session.response(4, WAIT);
    assert!(
        sum["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains('5'),
        "{sum}"
    );
}

/// Progress notifications can only come before the result on an event
/// stream: this is the SSE answer path.
fn progress_before_result(session: &Session) {
    session.send(&request(
        5,
        "tools/call",
        json!({
            "name": "trigger-long-running-operation",
            "arguments": { "duration": 0.3, "steps": 3 },
            "_meta": { "progressToken": "p-1" }
        }),
    ));
    let (done, before) = session.response(5, WAIT);
    assert!(
        done["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Long running operation completed"),
        "{done}"
    );
    let progress: Vec<&Value> = before
        .iter()
        .filter(|m| {
            m["method"] == "notifications/progress" && m["params"]["progressToken"] == "p-1"
        })
        .collect();
    assert_eq!(progress.len(), 3, "{before:?}");
    assert_eq!(progress[2]["params"]["progress"], 3);
}

#[test]
fn streamable_http_lists_calls_and_streams_progress() {
    let server = Everything::start("streamableHttp");
    let harness = Harness::new();
    let session = harness.connect_url(&server.url("/mcp"));
    list_and_call(&session);
    progress_before_result(&session);

    session.connection.close().unwrap();
    let reason = session.closed(WAIT);
    assert_eq!(reason.kind, ErrorKind::Unavailable);
    assert_eq!(
        reason.message.as_str(),
        "the connection to MCP server `web` was closed"
    );
    assert!(
        harness
            .log_lines()
            .iter()
            .any(|(_, line)| line.contains("ended the session: HTTP 200")),
        "DELETE not logged: {:?}",
        harness.log_lines()
    );
}

#[test]
fn server_messages_arrive_on_the_get_stream() {
    let server = Everything::start("streamableHttp");
    let harness = Harness::new();
    let session = harness.connect_url(&server.url("/mcp"));
    session.handshake();
    // Give the GET stream a moment to open before the first log message.
    std::thread::sleep(Duration::from_millis(500));
    session.send(&request(
        2,
        "tools/call",
        json!({ "name": "toggle-simulated-logging", "arguments": {} }),
    ));
    let (started, mut seen) = session.response(2, WAIT);
    assert!(
        started["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Started simulated"),
        "{started}"
    );
    // The server logs every 5 s, outside any request: only the GET stream carries it.
    let deadline = std::time::Instant::now() + Duration::from_secs(12);
    while !seen.iter().any(|m| m["method"] == "notifications/message") {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match session.next(left) {
            common::Event::Message(text) => seen.push(serde_json::from_str(&text).unwrap()),
            common::Event::Closed(reason) => panic!("closed: {reason:?}"),
        }
    }
    session.connection.close().unwrap();
}

#[test]
fn the_sse_transport_talks_to_the_legacy_mode() {
    let server = Everything::start("sse");
    let harness = Harness::new();
    let session = harness
        .connect("sse", json!({ "url": server.url("/sse") }))
        .unwrap();
    list_and_call(&session);
    session.connection.close().unwrap();
    assert_eq!(
        session.closed(WAIT).message.as_str(),
        "the connection to MCP server `web` was closed"
    );
}

#[test]
fn streamable_http_falls_back_to_the_legacy_mode() {
    let server = Everything::start("sse");
    let harness = Harness::new();
    let session = harness.connect_url(&server.url("/sse"));
    list_and_call(&session);
    progress_before_result(&session);
    assert!(
        harness
            .log_lines()
            .iter()
            .any(|(_, line)| line
                .contains("answered HTTP 404 Not Found; trying the HTTP+SSE transport")),
        "{:?}",
        harness.log_lines()
    );
    session.connection.close().unwrap();
}

#[test]
fn a_restarted_server_gets_a_new_session() {
    // A restarted server-everything no longer knows the session and answers
    // 400 "No valid session ID provided": the transport starts a new one.
    let server = Everything::start("streamableHttp");
    let port = server.port;
    let harness = Harness::new();
    let session = harness.connect_url(&server.url("/mcp"));
    session.handshake();
    drop(server);
    let _server = Everything::start_on("streamableHttp", port);

    session.send(&request(
        2,
        "tools/call",
        json!({ "name": "echo", "arguments": { "message": "again" } }),
    ));
    let (echo, before) = session.response(2, WAIT);
    assert_eq!(
        echo["result"]["content"][0]["text"], "Echo: again",
        "{echo}"
    );
    // The repeated initialize was answered, but not delivered a second time.
    assert!(before.iter().all(|m| m["id"] != json!(1)), "{before:?}");
    let logs = harness.log_lines();
    assert!(
        logs.iter()
            .any(|(_, line)| line.contains("started a new session after the old one expired")),
        "{logs:?}"
    );
    session.connection.close().unwrap();
}
