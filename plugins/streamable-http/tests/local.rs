//! The streamable HTTP transport against a small server of our own, for what
//! the reference servers do not do on demand: expired sessions, dropped
//! streams, errors, oversized bodies.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use codex_plugin_api::{ErrorKind, Plugin, ServiceKind};
use codex_streamable_http::{StreamableHttpPlugin, TRANSPORT_ERROR_CODE};
use codex_test_support::server::{Request, Responder, TestServer, initialize_result, result};
use common::{Event, Harness, INITIALIZED, free_port, initialize, request};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

/// A well-behaved server: sessions `s1`, `s2`, ...; JSON answers; 405 to GET.
fn plain_server(
    on_request: impl Fn(&Request, &mut Responder<'_>) -> bool + Send + Sync + 'static,
) -> TestServer {
    let sessions = AtomicUsize::new(0);
    TestServer::start(move |request, reply| {
        if on_request(request, reply) {
            return;
        }
        match (request.method.as_str(), request.rpc_method().as_deref()) {
            ("POST", Some("initialize")) => {
                let n = sessions.fetch_add(1, Ordering::SeqCst) + 1;
                let id = format!("s{n}");
                reply.json(
                    200,
                    &[("Mcp-Session-Id", id.as_str())],
                    &initialize_result(&request.rpc_id(), "2025-06-18"),
                );
            }
            ("POST", Some(method)) if method.starts_with("notifications/") => reply.accepted(),
            ("POST", Some("tools/list")) => {
                reply.json(200, &[], &result(&request.rpc_id(), json!({ "tools": [] })))
            }
            ("DELETE", _) => reply.send(200, "", &[], ""),
            ("GET", _) => reply.send(405, "text/plain", &[], "no GET stream here"),
            _ => reply.send(400, "text/plain", &[], "unexpected request"),
        }
    })
}

fn error_message(response: &Value) -> String {
    assert_eq!(
        response["error"]["code"], TRANSPORT_ERROR_CODE,
        "{response}"
    );
    response["error"]["message"].as_str().unwrap().to_string()
}

#[test]
fn the_manifest_declares_both_transports() {
    let manifest = StreamableHttpPlugin::manifest();
    assert_eq!(manifest.name.as_str(), "streamable_http");
    let names: Vec<&str> = manifest
        .services
        .iter()
        .map(|service| {
            assert_eq!(service.kind, ServiceKind::Transport);
            service.name.as_str()
        })
        .collect();
    assert_eq!(names, ["streamable-http", "sse"]);
    let harness = Harness::new();
    let error = harness.connect("websocket", json!({})).err().unwrap();
    assert_eq!(error.kind, ErrorKind::NotFound);
}

#[test]
fn sessions_and_protocol_version_ride_on_every_later_request() {
    let server = plain_server(|_, _| false);
    let harness = Harness::new();
    let session = harness.connect_url(&server.url("/mcp"));
    let init = session.handshake();
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    session.send(&request(2, "tools/list", json!({})));
    let (tools, _) = session.response(2, WAIT);
    assert_eq!(tools["result"]["tools"], json!([]));
    // The GET stream for server messages is tried (405 here: not offered).
    assert!(server.wait_for(WAIT, |requests| requests.iter().any(|r| r.method == "GET")));
    session.connection.close().unwrap();
    assert_eq!(
        session.closed(WAIT).message.as_str(),
        "the connection to MCP server `web` was closed"
    );
    // Idempotent, and `closed` came once.
    session.connection.close().unwrap();
    session.assert_quiet(Duration::from_millis(200));
    let error = session.connection.send(INITIALIZED).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unavailable);

    let requests = server.requests();
    let init = &requests[0];
    assert_eq!(init.rpc_method().as_deref(), Some("initialize"));
    assert_eq!(init.header("content-type"), Some("application/json"));
    assert_eq!(
        init.header("accept"),
        Some("application/json, text/event-stream")
    );
    assert_eq!(init.header("mcp-session-id"), None);
    assert_eq!(init.header("mcp-protocol-version"), None);
    for later in &requests[1..] {
        assert_eq!(later.header("mcp-session-id"), Some("s1"), "{later:?}");
        assert_eq!(
            later.header("mcp-protocol-version"),
            Some("2025-06-18"),
            "{later:?}"
        );
        assert_eq!(later.header_count("mcp-session-id"), 1);
    }
    assert_eq!(server.posts("notifications/initialized").len(), 1);
    // Every POST mirrors its method in `Mcp-Method` (MCP 2026-07-28).
    for post in requests.iter().filter(|r| r.method == "POST") {
        assert_eq!(post.header("mcp-method"), post.rpc_method().as_deref());
        assert_eq!(post.header("mcp-name"), None);
    }
    // The DELETE that ends the session comes after every message.
    let delete = requests.iter().position(|r| r.method == "DELETE").unwrap();
    assert_eq!(requests[delete].header("mcp-session-id"), Some("s1"));
    assert!(requests[delete..].iter().all(|r| r.method != "POST"));
}

#[test]
fn a_401_is_unauthorized_and_names_the_login_command() {
    let server = TestServer::start(|_, reply| {
        reply.send(
            401,
            "application/json",
            &[("WWW-Authenticate", "Bearer")],
            "{}",
        )
    });
    let harness = Harness::new();
    let session = harness.connect_url(&server.url("/mcp"));
    session.send(&initialize(1));
    let reason = session.closed(WAIT);
    assert_eq!(reason.kind, ErrorKind::Unauthorized);
    assert_eq!(
        reason.message.as_str(),
        "MCP server `web` requires authorization (HTTP 401); run `codex mcp login web`, or set `bearer_token_env_var`"
    );
    // No fallback to HTTP+SSE for an authorization failure.
    assert!(server.requests().iter().all(|r| r.method == "POST"));
}

#[test]
fn a_500_fails_the_request_with_the_start_of_the_body() {
    let server = plain_server(|request, reply| {
        if request.rpc_method().as_deref() == Some("tools/list") {
            let body = format!("database exploded\n   at line 7 {}", "x".repeat(500));
            reply.send(500, "text/plain", &[], &body);
            return true;
        }
        false
    });
    let harness = Harness::new();
    let session = harness.connect_url(&server.url("/mcp"));
    session.handshake();
    session.send(&request(2, "tools/list", json!({})));
    let (response, _) = session.response(2, WAIT);
    let message = error_message(&response);
    assert!(
        message.starts_with(
            "MCP server `web` answered HTTP 500 Internal Server Error to `tools/list`: database exploded at line 7 xxx"
        ),
        "{message}"
    );
    assert!(message.ends_with('…'), "{message}");
    assert!(message.chars().count() < 300, "{message}");
    // The connection goes on.
    session.send(&request(3, "tools/list", json!({})));
    let (again, _) = session.response(3, WAIT);
    assert!(again["error"].is_object());
    session.connection.close().unwrap();
}

/// A server that forgets sessions: the first `forget` tools/list calls get 404.
fn forgetful_server(forget: usize) -> TestServer {
    let forgotten = AtomicUsize::new(0);
    plain_server(move |request, reply| {
        if request.rpc_method().as_deref() == Some("tools/list")
            && forgotten.fetch_add(1, Ordering::SeqCst) < forget
        {
            reply.send(404, "text/plain", &[], "session not found");
            return true;
        }
        false
    })
}

#[test]
fn an_expired_session_is_started_again_once_and_the_request_resent() {
    let server = forgetful_server(1);
    let harness = Harness::new();
    let session = harness.connect_url(&server.url("/mcp"));
    session.handshake();
    session.send(&request(2, "tools/list", json!({})));
    let (tools, before) = session.response(2, WAIT);
    assert_eq!(tools["result"]["tools"], json!([]));
    assert!(
        before.is_empty(),
        "the repeated initialize leaked: {before:?}"
    );
    session.assert_quiet(Duration::from_millis(200));

    let inits = server.posts("initialize");
    assert_eq!(inits.len(), 2);
    assert_eq!(
        inits[0].body, inits[1].body,
        "the same initialize is replayed"
    );
    let initialized = server.posts("notifications/initialized");
    assert_eq!(initialized.len(), 2);
    assert_eq!(initialized[1].header("mcp-session-id"), Some("s2"));
    let lists = server.posts("tools/list");
    let sessions: Vec<_> = lists.iter().map(|r| r.header("mcp-session-id")).collect();
    assert_eq!(sessions, [Some("s1"), Some("s2")]);
    // The GET stream for server messages is reopened in the new session.
    assert!(server.wait_for(WAIT, |requests| {
        requests
            .iter()
            .any(|r| r.method == "GET" && r.header("mcp-session-id") == Some("s2"))
    }));
    session.connection.close().unwrap();
    // The DELETE names the new session.
    assert!(server.wait_for(WAIT, |requests| {
        requests
            .iter()
            .any(|r| r.method == "DELETE" && r.header("mcp-session-id") == Some("s2"))
    }));
}

#[test]
fn a_second_expiry_in_a_row_is_an_error() {
    let server = forgetful_server(usize::MAX);
    let harness = Harness::new();
    let session = harness.connect_url(&server.url("/mcp"));
    session.handshake();
    session.send(&request(2, "tools/list", json!({})));
    let (response, _) = session.response(2, WAIT);
    assert_eq!(
        error_message(&response),
        "MCP server `web` rejected `tools/list` again (HTTP 404 Not Found) right after a new session was started; giving up on it"
    );
    assert_eq!(server.posts("initialize").len(), 2);
    assert_eq!(server.posts("tools/list").len(), 2);
    session.connection.close().unwrap();
}

#[test]
fn a_dropped_event_stream_is_resumed_with_last_event_id() {
    let server = plain_server(|request, reply| {
        match (request.method.as_str(), request.rpc_method().as_deref()) {
            ("POST", Some("tools/call")) => {
                reply.start_events(&[]);
                // A priming event, then the connection drops before the answer.
                reply.write(b"id: ev-1\nretry: 150\ndata:\n\n");
                true
            }
            ("GET", _) if request.header("last-event-id").is_some() => {
                reply.start_events(&[]);
                reply.event(
                    Some("ev-2"),
                    &result(
                        &json!(2),
                        json!({ "content": [{ "type": "text", "text": "late" }] }),
                    ),
                );
                thread::sleep(Duration::from_millis(300));
                true
            }
            _ => false,
        }
    });
    let harness = Harness::new();
    let session = harness.connect_url(&server.url("/mcp"));
    session.handshake();
    session.send(&request(
        2,
        "tools/call",
        json!({ "name": "slow", "arguments": {} }),
    ));
    let (response, _) = session.response(2, WAIT);
    assert_eq!(response["result"]["content"][0]["text"], "late");

    let requests = server.requests();
    let post = requests
        .iter()
        .find(|r| r.rpc_method().as_deref() == Some("tools/call"))
        .unwrap();
    assert_eq!(post.header("mcp-method"), Some("tools/call"));
    assert_eq!(post.header("mcp-name"), Some("slow"));
    let resume = requests
        .iter()
        .find(|r| r.method == "GET" && r.header("last-event-id").is_some())
        .unwrap();
    assert_eq!(resume.header("last-event-id"), Some("ev-1"));
    assert_eq!(resume.header("accept"), Some("text/event-stream"));
    assert_eq!(resume.header("mcp-session-id"), Some("s1"));
    assert_eq!(resume.header("mcp-protocol-version"), Some("2025-06-18"));
    let waited = resume.at.duration_since(post.at);
    assert!(
        waited >= Duration::from_millis(140) && waited < Duration::from_secs(2),
        "resumed after {waited:?}"
    );
    session.connection.close().unwrap();
}

#[test]
fn a_stream_without_an_event_id_cannot_resume() {
    let server = plain_server(|request, reply| {
        if request.rpc_method().as_deref() == Some("tools/list") {
            reply.start_events(&[]);
            reply.write(b": nothing useful\n\n");
            return true;
        }
        false
    });
    let harness = Harness::new();
    let session = harness.connect_url(&server.url("/mcp"));
    session.handshake();
    session.send(&request(2, "tools/list", json!({})));
    let (response, _) = session.response(2, WAIT);
    assert_eq!(
        error_message(&response),
        "MCP server `web` closed the event stream before answering `tools/list`, and sent no event id to resume from"
    );
    session.connection.close().unwrap();
}

#[test]
fn an_oversized_json_body_is_a_protocol_error() {
    let server = TestServer::start(|_, reply| {
        let head = format!(
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{{",
            64 * 1024 * 1024 + 1
        );
        reply.write(head.as_bytes());
    });
    let harness = Harness::new();
    let session = harness.connect_url(&server.url("/mcp"));
    session.send(&initialize(1));
    let reason = session.closed(WAIT);
    assert_eq!(reason.kind, ErrorKind::Protocol);
    assert_eq!(
        reason.message.as_str(),
        "MCP server `web` answered `initialize` with a body larger than 64 MiB; it was refused"
    );
}

#[test]
fn an_oversized_event_fails_the_request() {
    let server = plain_server(|request, reply| {
        if request.rpc_method().as_deref() == Some("tools/list") {
            reply.start_events(&[]);
            reply.write(b"event: message\ndata: \"");
            let block = vec![b'a'; 1024 * 1024];
            for _ in 0..70 {
                if !reply.write(&block) {
                    break;
                }
            }
            return true;
        }
        false
    });
    let harness = Harness::new();
    let session = harness.connect_url(&server.url("/mcp"));
    session.handshake();
    session.send(&request(2, "tools/list", json!({})));
    let (response, _) = session.response(2, Duration::from_secs(30));
    assert_eq!(
        error_message(&response),
        "MCP server `web` sent an event larger than 64 MiB; it was refused"
    );
    session.connection.close().unwrap();
}

#[test]
fn connection_refused_says_whether_the_server_runs() {
    let port = free_port();
    let harness = Harness::new();
    let session = harness.connect_url(&format!("http://127.0.0.1:{port}/mcp?token=abc"));
    session.send(&initialize(1));
    let reason = session.closed(WAIT);
    assert_eq!(reason.kind, ErrorKind::Unavailable);
    assert_eq!(
        reason.message.as_str(),
        format!(
            "cannot connect to http://127.0.0.1:{port}/mcp?…: connection refused; is the server running?"
        )
    );
}

#[test]
fn no_fallback_when_the_legacy_transport_fails_too() {
    let server = TestServer::start(|request, reply| match request.method.as_str() {
        "POST" => reply.send(405, "text/plain", &[], "Method Not Allowed"),
        _ => reply.send(404, "text/html", &[], "<h1>nothing here</h1>"),
    });
    let harness = Harness::new();
    let session = harness.connect_url(&server.url("/mcp"));
    session.send(&initialize(1));
    let reason = session.closed(WAIT);
    assert_eq!(
        reason.message.as_str(),
        "MCP server `web` answered HTTP 405 Method Not Allowed to `initialize`: Method Not Allowed; the HTTP+SSE transport did not work either: answered HTTP 404 Not Found to the GET that opens its event stream (HTTP+SSE transport): nothing here"
    );
}

#[test]
fn redirects_are_followed() {
    let target = Arc::new(plain_server(|_, _| false));
    let port = target.port;
    let front = TestServer::start(move |_, reply| {
        let location = format!("http://127.0.0.1:{port}/mcp");
        reply.send(307, "", &[("Location", location.as_str())], "");
    });
    let harness = Harness::new();
    let session = harness.connect_url(&front.url("/old"));
    let init = session.handshake();
    assert_eq!(init["result"]["serverInfo"]["name"], "tiny-test-server");
    session.connection.close().unwrap();
    assert_eq!(target.posts("initialize").len(), 1);
}

#[test]
fn messages_that_are_not_json_rpc_are_refused_by_send() {
    let server = plain_server(|_, _| false);
    let harness = Harness::new();
    let session = harness.connect_url(&server.url("/mcp"));
    let error = session.connection.send("not json").unwrap_err();
    assert_eq!(error.kind, ErrorKind::Protocol);
    session.connection.close().unwrap();
    assert!(matches!(session.next(WAIT), Event::Closed(_)));
}

#[test]
fn close_is_bounded_when_the_server_hangs() {
    let server = plain_server(|request, reply| {
        let hang = || thread::sleep(Duration::from_secs(15));
        match (request.method.as_str(), request.rpc_method().as_deref()) {
            ("POST", Some("tools/call")) | ("DELETE", _) => {
                hang();
                true
            }
            ("GET", _) => {
                reply.start_events(&[]);
                hang();
                true
            }
            _ => false,
        }
    });
    let harness = Harness::new();
    let session = harness.connect_url(&server.url("/mcp"));
    session.handshake();
    session.send(&request(2, "tools/call", json!({ "name": "hang" })));
    assert!(server.wait_for(WAIT, |requests| {
        requests.iter().any(|r| r.method == "GET")
            && requests
                .iter()
                .any(|r| r.rpc_method().as_deref() == Some("tools/call"))
    }));
    let started = std::time::Instant::now();
    session.connection.close().unwrap();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "close took {took:?}");
    assert_eq!(
        session.closed(WAIT).message.as_str(),
        "the connection to MCP server `web` was closed"
    );
    session.assert_quiet(Duration::from_millis(200));
}

#[test]
fn a_legacy_endpoint_on_another_origin_is_refused() {
    let server = TestServer::start(|_, reply| {
        reply.start_events(&[]);
        reply.write(b"event: endpoint\ndata: http://127.0.0.2:9/steal\n\n");
        thread::sleep(Duration::from_millis(500));
    });
    let harness = Harness::new();
    let session = harness
        .connect("sse", json!({ "url": server.url("/sse") }))
        .unwrap();
    session.send(&initialize(1));
    let reason = session.closed(WAIT);
    assert_eq!(reason.kind, ErrorKind::Protocol);
    assert_eq!(
        reason.message.as_str(),
        "MCP server `web` named a message endpoint on another origin (http://127.0.0.2:9/steal); refusing to send messages and headers there"
    );
    assert!(server.requests().iter().all(|r| r.method == "GET"));
}

#[test]
fn a_json_answer_without_the_response_fails_the_request() {
    let server = plain_server(|request, reply| {
        if request.rpc_method().as_deref() == Some("tools/list") {
            reply.json(
                200,
                &[],
                &json!({ "jsonrpc": "2.0", "method": "notifications/message" }),
            );
            return true;
        }
        false
    });
    let harness = Harness::new();
    let session = harness.connect_url(&server.url("/mcp"));
    session.handshake();
    session.send(&request(2, "tools/list", json!({})));
    let (response, before) = session.response(2, WAIT);
    // What did come is still delivered.
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(
        error_message(&response),
        r#"MCP server `web` answered `tools/list` with JSON that holds no response to it: {"jsonrpc":"2.0","method":"notifications/message"}"#
    );
    session.connection.close().unwrap();
}

#[test]
fn a_tls_failure_is_named() {
    // A plain-text server where TLS is expected.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let plain = thread::spawn(move || {
        use std::io::Write;
        if let Ok((mut stream, _)) = listener.accept() {
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
            thread::sleep(Duration::from_millis(200));
        }
    });
    let harness = Harness::new();
    let session = harness.connect_url(&format!("https://127.0.0.1:{port}/mcp"));
    session.send(&initialize(1));
    let reason = session.closed(WAIT);
    assert_eq!(reason.kind, ErrorKind::Unavailable);
    assert!(
        reason.message.as_str().starts_with(&format!(
            "cannot connect to https://127.0.0.1:{port}/mcp: TLS handshake failed ("
        )),
        "{}",
        reason.message
    );
    plain.join().unwrap();
}

#[test]
fn resuming_gives_up_when_nothing_comes() {
    let server = plain_server(|request, reply| {
        match (request.method.as_str(), request.rpc_method().as_deref()) {
            ("POST", Some("tools/call")) => {
                reply.start_events(&[]);
                reply.write(b"id: only\nretry: 20\ndata:\n\n");
                true
            }
            // Every resumption ends at once, without a new event.
            ("GET", _) if request.header("last-event-id").is_some() => {
                reply.start_events(&[]);
                true
            }
            _ => false,
        }
    });
    let harness = Harness::new();
    let session = harness.connect_url(&server.url("/mcp"));
    session.handshake();
    session.send(&request(2, "tools/call", json!({ "name": "never" })));
    let (response, _) = session.response(2, WAIT);
    assert_eq!(
        error_message(&response),
        "MCP server `web` closed the event stream before answering `tools/call`; gave up after 4 attempts to resume it"
    );
    let resumes = server
        .requests()
        .iter()
        .filter(|r| r.header("last-event-id") == Some("only"))
        .count();
    assert_eq!(resumes, 4);
    session.connection.close().unwrap();
}
