//! The authorization hook of `codex-http-common`: every request carries the
//! authorizer's header, a refused one is renewed and sent again, and a server
//! that refuses every header stops the request after a bounded number of
//! resends.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use codex_http_common::{
    Authorizer, BoxFuture, Challenge, HeaderValue, HttpConfig, MAX_AUTHORIZED_RESENDS, Mode,
    connection,
};
use codex_plugin_api::PluginResult;
use codex_plugin_test_support::{RecordingHost, channel_sink};
use codex_test_support::server::{TestServer, initialize_result};
use common::{Session, initialize, request};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

/// Hands out `tokens` in turn: the first until the first challenge, and so
/// on; the last one stays. Records the challenges.
struct Tokens {
    tokens: Vec<&'static str>,
    used: Mutex<usize>,
    challenges: Mutex<Vec<Challenge>>,
}

impl Tokens {
    fn new(tokens: &[&'static str]) -> Arc<Tokens> {
        Arc::new(Tokens {
            tokens: tokens.to_vec(),
            used: Mutex::new(0),
            challenges: Mutex::new(Vec::new()),
        })
    }
}

impl Authorizer for Tokens {
    fn authorization(&self) -> BoxFuture<'_, PluginResult<Option<HeaderValue>>> {
        let index = *self.used.lock().unwrap();
        let token = self.tokens[index.min(self.tokens.len() - 1)];
        Box::pin(async move {
            Ok(Some(
                HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
            ))
        })
    }

    fn challenged<'a>(&'a self, challenge: &'a Challenge) -> BoxFuture<'a, PluginResult<bool>> {
        self.challenges.lock().unwrap().push(challenge.clone());
        *self.used.lock().unwrap() += 1;
        Box::pin(async { Ok(true) })
    }
}

/// A server that answers only requests carrying `Bearer good`.
fn guarded_server() -> TestServer {
    TestServer::start(|request, reply| {
        if request.header("authorization") != Some("Bearer good") {
            reply.send(
                401,
                "application/json",
                &[(
                    "www-authenticate",
                    r#"Bearer error="invalid_token", resource_metadata="http://127.0.0.1/prm""#,
                )],
                "{}",
            );
            return;
        }
        match request.rpc_method().as_deref() {
            Some("initialize") => reply.json(
                200,
                &[],
                &initialize_result(&request.rpc_id(), "2025-11-25"),
            ),
            Some(_) if request.rpc_id().is_null() => reply.accepted(),
            Some(_) => reply.json(
                200,
                &[],
                &json!({"jsonrpc": "2.0", "id": request.rpc_id(), "result": {"tools": []}}),
            ),
            None => reply.send(405, "text/plain", &[], ""),
        }
    })
}

fn open(server: &TestServer, authorizer: Arc<Tokens>) -> Session {
    let config =
        HttpConfig::parse("web", &json!({ "url": server.url("/mcp") }).to_string()).unwrap();
    let host = RecordingHost::new(std::env::temp_dir(), Arc::default()).services();
    let (sink, events) = channel_sink();
    let connection = connection::open(
        "web",
        &config,
        Mode::Streamable,
        WAIT,
        host,
        sink,
        Some(authorizer),
    )
    .unwrap();
    Session {
        connection: Box::new(connection),
        events,
    }
}

#[test]
fn a_refused_header_is_renewed_once_and_the_request_sent_again() {
    let server = guarded_server();
    let tokens = Tokens::new(&["expired", "good"]);
    let session = open(&server, tokens.clone());
    session.handshake();
    session.send(&request(2, "tools/list", json!({})));
    let (answer, _) = session.response(2, WAIT);
    assert_eq!(answer["result"]["tools"], json!([]));

    let sent: Vec<Option<String>> = server
        .posts("initialize")
        .iter()
        .map(|post| post.header("authorization").map(str::to_owned))
        .collect();
    assert_eq!(
        sent,
        [Some("Bearer expired".into()), Some("Bearer good".into())]
    );
    assert!(
        server
            .requests()
            .iter()
            .skip(2)
            .all(|later| later.header("authorization") == Some("Bearer good"))
    );
    let challenges = tokens.challenges.lock().unwrap();
    assert_eq!(challenges.len(), 1);
    assert_eq!(challenges[0].status, 401);
    assert_eq!(
        challenges[0].www_authenticate,
        [r#"Bearer error="invalid_token", resource_metadata="http://127.0.0.1/prm""#]
    );
}

#[test]
fn a_server_that_refuses_every_header_fails_the_request_after_bounded_resends() {
    let server = guarded_server();
    let tokens = Tokens::new(&["bad"]);
    let session = open(&server, tokens.clone());
    session.send(&initialize(1));
    // A first message that cannot be carried ends the connection.
    let reason = session.closed(WAIT);
    let message = reason.message.as_str();
    assert!(
        message.contains("requires authorization (HTTP 401)"),
        "{message}"
    );
    assert!(!message.contains("bad"), "{message}");
    assert_eq!(server.posts("initialize").len(), 1 + MAX_AUTHORIZED_RESENDS);
    assert_eq!(
        tokens.challenges.lock().unwrap().len(),
        MAX_AUTHORIZED_RESENDS
    );
}
