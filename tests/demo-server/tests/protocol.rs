//! The demo server speaks MCP over stdio and its tools do what they say.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{spawn, text_of};
use serde_json::json;

#[test]
fn initialize_answers_2025_11_25() {
    let mut server = spawn(&[]);
    let result = server.initialize("2025-11-25");
    assert_eq!(result["protocolVersion"], "2025-11-25");
    assert_eq!(result["serverInfo"]["name"], "codex-demo-server");
    assert!(result["capabilities"]["tools"].is_object(), "{result}");
}

#[test]
fn initialize_answers_2025_06_18() {
    let mut server = spawn(&[]);
    let result = server.initialize("2025-06-18");
    assert_eq!(result["protocolVersion"], "2025-06-18");
    assert_eq!(result["serverInfo"]["name"], "codex-demo-server");
}

#[test]
fn name_flag_sets_the_reported_server_name() {
    let mut server = spawn(&["--name", "quick-start"]);
    let result = server.initialize("2025-11-25");
    assert_eq!(result["serverInfo"]["name"], "quick-start");
}

#[test]
fn tools_list_shows_the_seven_tools() {
    let mut server = spawn(&[]);
    server.initialize("2025-11-25");
    let reply = server.call(2, "tools/list", json!({}));
    let tools = reply["result"]["tools"].as_array().unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["add", "echo", "exit", "hang", "large", "slow", "stderr"]
    );
    for tool in tools {
        let description = tool["description"].as_str().unwrap_or_default();
        assert!(!description.is_empty(), "no description: {tool}");
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
    }
    let add = tools.iter().find(|t| t["name"] == "add").unwrap();
    assert_eq!(add["inputSchema"]["required"], json!(["a", "b"]));
    assert_eq!(add["inputSchema"]["properties"]["a"]["type"], "number");
    let large = tools.iter().find(|t| t["name"] == "large").unwrap();
    assert_eq!(
        large["inputSchema"]["properties"]["bytes"]["type"],
        "integer"
    );
}

#[test]
fn echo_prefixes_the_message() {
    let mut server = spawn(&[]);
    server.initialize("2025-11-25");
    let result = server.call_tool(2, "echo", json!({ "message": "hello there" }));
    assert_eq!(text_of(&result), "echo: hello there");
    assert_eq!(result["isError"], false);
}

#[test]
fn add_prints_sums_without_a_needless_fraction() {
    let mut server = spawn(&[]);
    server.initialize("2025-11-25");
    let cases = [
        (json!(2), json!(3), "5"),
        (json!(1.5), json!(2.25), "3.75"),
        (json!(-1), json!(1), "0"),
        (json!(-10), json!(2.5), "-7.5"),
    ];
    for (id, (a, b, expected)) in (10..).zip(cases) {
        let result = server.call_tool(id, "add", json!({ "a": a, "b": b }));
        assert_eq!(text_of(&result), expected, "{a} + {b}");
    }
}

#[test]
fn add_rejects_a_missing_argument() {
    let mut server = spawn(&[]);
    server.initialize("2025-11-25");
    let reply = server.call(
        2,
        "tools/call",
        json!({ "name": "add", "arguments": { "a": 1 } }),
    );
    let failed = reply.get("error").is_some() || reply["result"]["isError"] == true;
    assert!(failed, "{reply}");
}

#[test]
fn slow_sleeps_before_answering() {
    let mut server = spawn(&[]);
    server.initialize("2025-11-25");
    let started = Instant::now();
    let result = server.call_tool(2, "slow", json!({ "ms": 250 }));
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(text_of(&result), "slept 250 ms");
}

#[test]
fn large_returns_exactly_that_many_x() {
    let mut server = spawn(&[]);
    server.initialize("2025-11-25");
    for (id, bytes) in [(2, 0_usize), (3, 1), (4, 3_000_001)] {
        let result = server.call_tool(id, "large", json!({ "bytes": bytes }));
        let text = text_of(&result);
        assert_eq!(text.len(), bytes);
        assert!(text.bytes().all(|b| b == b'x'));
    }
}

#[test]
fn large_above_256_mib_is_a_tool_error() {
    let mut server = spawn(&[]);
    server.initialize("2025-11-25");
    let result = server.call_tool(2, "large", json!({ "bytes": 268_435_457_u64 }));
    assert_eq!(result["isError"], true);
    assert!(text_of(&result).contains("268435456"), "{result}");
}

#[test]
fn hang_never_answers_while_other_calls_still_do() {
    let mut server = spawn(&[]);
    server.initialize("2025-11-25");
    server.send(&json!({
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": { "name": "hang", "arguments": {} }
    }));
    // `reply` skips other ids, so an answer to the hang call would be missed
    // here; the check that none came is the read below.
    let result = server.call_tool(3, "echo", json!({ "message": "still here" }));
    assert_eq!(text_of(&result), "echo: still here");
    assert_eq!(server.next_line(Duration::from_millis(500)), None);
    assert_eq!(server.wait_exit(Duration::ZERO), None, "the server died");
}

#[test]
fn stderr_writes_the_message_and_answers_ok() {
    let mut server = spawn(&[]);
    server.initialize("2025-11-25");
    let result = server.call_tool(2, "stderr", json!({ "message": "a line for the log" }));
    assert_eq!(text_of(&result), "ok");
    assert_eq!(
        server.stderr_line_with("a line for the log"),
        "a line for the log"
    );
}

#[test]
fn exit_ends_the_process_with_the_code_and_no_reply() {
    let mut server = spawn(&[]);
    server.initialize("2025-11-25");
    server.send(&json!({
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": { "name": "exit", "arguments": { "code": 7 } }
    }));
    let status = server.wait_exit(Duration::from_secs(10)).unwrap();
    assert_eq!(status.code(), Some(7));
    assert_eq!(server.next_line(Duration::from_millis(200)), None);
    assert_eq!(
        server.stderr_line_with("exiting"),
        "demo server exiting with code 7 as asked"
    );
}

#[test]
fn exit_refuses_a_code_outside_0_to_255() {
    let mut server = spawn(&[]);
    server.initialize("2025-11-25");
    let result = server.call_tool(2, "exit", json!({ "code": 300 }));
    assert_eq!(result["isError"], true);
    assert_eq!(server.wait_exit(Duration::from_millis(200)), None);
}

#[test]
fn closing_stdin_ends_the_server_cleanly() {
    let mut server = spawn(&[]);
    server.initialize("2025-11-25");
    server.close_stdin();
    let status = server.wait_exit(Duration::from_secs(10)).unwrap();
    assert!(status.success(), "{status}");
}
