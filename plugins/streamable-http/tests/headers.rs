//! Configured headers, from literals and from the environment. One test in
//! this binary, since it sets environment variables.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use codex_plugin_api::ErrorKind;
use codex_test_support::server::{TestServer, initialize_result};
use common::{Harness, request};
use serde_json::json;

const TOKEN: &str = "tok-3f9a1c-very-secret";
const ENV_HEADER_VALUE: &str = "env-header-secret-77";
const STATIC_VALUE: &str = "static-header-secret-42";

#[test]
fn bearer_static_and_env_headers_are_sent_once_each_and_never_shown() {
    // SAFETY: this binary has one test, so no other thread reads the
    // environment while it is changed.
    unsafe {
        std::env::set_var("CODEX_HTTP_TEST_TOKEN", TOKEN);
        std::env::set_var("CODEX_HTTP_TEST_HEADER", ENV_HEADER_VALUE);
        std::env::set_var("CODEX_HTTP_TEST_EMPTY", "");
        std::env::set_var("CODEX_HTTP_TEST_EMPTY_TOKEN", "");
        std::env::remove_var("CODEX_HTTP_TEST_UNSET");
    }
    let server = TestServer::start(|request, reply| {
        match (request.method.as_str(), request.rpc_method().as_deref()) {
            ("POST", Some("initialize")) => reply.json(
                200,
                &[("Mcp-Session-Id", "s1")],
                &initialize_result(&request.rpc_id(), "2025-11-25"),
            ),
            ("POST", Some("tools/list")) => {
                // Echo what came in, to prove it never reaches the host's messages.
                let body = format!("bad request from {:?}", request.headers);
                reply.send(500, "text/plain", &[], &body);
            }
            ("POST", _) => reply.accepted(),
            ("GET", _) => reply.send(405, "", &[], ""),
            _ => reply.send(200, "", &[], ""),
        }
    });
    let harness = Harness::new();
    let config = json!({
        "url": server.url("/mcp"),
        "bearer_token_env_var": "CODEX_HTTP_TEST_TOKEN",
        "http_headers": { "X-Static": STATIC_VALUE, "Authorization": "Basic replaced" },
        "env_http_headers": {
            "X-From-Env": "CODEX_HTTP_TEST_HEADER",
            "X-Empty": "CODEX_HTTP_TEST_EMPTY",
            "X-Unset": "CODEX_HTTP_TEST_UNSET"
        }
    });
    let session = harness.connect("streamable-http", config.clone()).unwrap();
    session.handshake();
    session.send(&request(2, "tools/list", json!({})));
    let (failed, _) = session.response(2, Duration::from_secs(10));
    let message = failed["error"]["message"].as_str().unwrap().to_string();
    assert!(message.contains("answered HTTP 500"), "{message}");
    session.connection.close().unwrap();
    session.closed(Duration::from_secs(10));

    let requests = server.requests();
    assert!(requests.len() >= 4, "{requests:?}");
    for request in &requests {
        assert_eq!(request.header_count("authorization"), 1, "{request:?}");
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(request.header("x-static"), Some(STATIC_VALUE));
        assert_eq!(request.header("x-from-env"), Some(ENV_HEADER_VALUE));
        assert_eq!(request.header("x-empty"), None);
        assert_eq!(request.header("x-unset"), None);
    }
    // Nothing the host sees carries a secret, even when the server echoes them.
    let mut seen = message.clone();
    for (_, line) in harness.log_lines() {
        seen.push_str(&line);
    }
    for secret in [TOKEN, ENV_HEADER_VALUE, STATIC_VALUE] {
        assert!(!seen.contains(secret), "{secret} leaked into: {seen}");
    }
    assert!(message.contains("****"), "{message}");

    // An unset or empty bearer variable is a configuration error.
    let mut unset = config.clone();
    unset["bearer_token_env_var"] = json!("CODEX_HTTP_TEST_UNSET");
    let error = harness.connect("streamable-http", unset).err().unwrap();
    assert_eq!(error.kind, ErrorKind::InvalidConfig);
    assert_eq!(
        error.message.as_str(),
        "Environment variable CODEX_HTTP_TEST_UNSET for MCP server 'web' is not set"
    );
    let mut empty = config;
    empty["bearer_token_env_var"] = json!("CODEX_HTTP_TEST_EMPTY_TOKEN");
    let error = harness.connect("sse", empty).err().unwrap();
    assert_eq!(
        error.message.as_str(),
        "Environment variable CODEX_HTTP_TEST_EMPTY_TOKEN for MCP server 'web' is empty"
    );
}
