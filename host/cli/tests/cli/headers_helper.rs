//! `http_headers_helper`: the command runs before connecting and its
//! headers reach the server; a helper that hangs, fails or prints garbage
//! stops the connection with a message that says so and shows no secret.

use std::time::{Duration, Instant};

use codex_test_support::oauth_mcp::{self, Grant};
use codex_test_support::{Home, stderr, stdout};

const API_KEY: &str = "helper-api-key-Ty62";
const BEARER: &str = "helper-bearer-Kc04";

/// The test MCP server's `/plain` endpoint, which answers only requests
/// with `x-api-key: API_KEY` or `Authorization: Bearer BEARER`.
fn server() -> codex_test_support::server::TestServer {
    oauth_mcp::start(Grant {
        also_accepted: vec![
            ("x-api-key".to_owned(), API_KEY.to_owned()),
            ("authorization".to_owned(), format!("Bearer {BEARER}")),
        ],
        ..Grant::new("unused-access", "unused-refresh")
    })
}

/// A home with server `docs` at `url` whose helper is the script `body`.
fn home_with_helper(url: &str, body: &str, extra: &str) -> Home {
    let home = Home::new();
    let script = home.path().join("helper.sh");
    std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    home.write_config(&format!(
        "[mcp_servers.docs]\nurl = \"{url}\"\nhttp_headers_helper = \"./helper.sh\"\n{extra}"
    ));
    home
}

fn tools(home: &Home) -> std::process::Output {
    let mut command = home.codex();
    command
        .args(["mcp", "tools", "docs"])
        .timeout(Duration::from_secs(60));
    command.output().unwrap()
}

#[test]
fn the_helpers_headers_reach_the_server_and_replace_configured_ones() {
    let server = server();
    // Run in CODEX_HOME (the script is found by a relative path) with the
    // environment cleared: a variable of ours does not reach it.
    let home = home_with_helper(
        &server.url("/plain"),
        &format!(
            "test -z \"$HELPER_TEST_SECRET\" || exit 9\n\
             printf '{{\"X-Api-Key\": \"{API_KEY}\", \"X-Extra\": \"e\"}}'"
        ),
        "http_headers = { \"x-api-key\" = \"configured-wrong\" }\n",
    );
    let mut command = home.codex();
    command
        .args(["mcp", "tools", "docs"])
        .env("HELPER_TEST_SECRET", "x")
        .timeout(Duration::from_secs(60));
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("echo"), "{}", stdout(&output));
    let posts: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST" && request.path == "/plain")
        .collect();
    assert!(!posts.is_empty());
    for post in &posts {
        assert_eq!(post.header("x-api-key"), Some(API_KEY));
        assert_eq!(post.header_count("x-api-key"), 1);
        assert_eq!(post.header("x-extra"), Some("e"));
    }
    // Nothing of the output on the terminal, even with -v.
    let mut command = home.codex();
    command
        .args(["-v", "mcp", "tools", "docs"])
        .timeout(Duration::from_secs(60));
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stderr(&output).contains(API_KEY), "{}", stderr(&output));
    assert!(!stdout(&output).contains(API_KEY));
}

#[test]
fn a_helper_may_give_the_authorization_header() {
    let server = server();
    let home = home_with_helper(
        &server.url("/plain"),
        &format!("echo '{{\"Authorization\": \"Bearer {BEARER}\"}}'"),
        "",
    );
    let output = tools(&home);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn a_helper_that_hangs_fails_or_prints_garbage_stops_the_connection_clearly() {
    let server = server();
    let url = server.url("/plain");
    for (body, problem) in [
        (
            "echo '{\"X-Api-Key\": \"partial\"}'; sleep 60",
            "did not finish within 10 seconds and was stopped",
        ),
        (
            "echo helper-leak-Vb55; exit 3",
            "exited with exit status: 3",
        ),
        (
            "echo not-json-helper-leak-Vb55",
            "did not print a JSON object of strings",
        ),
        (
            "echo '{\"X-Api-Key\": 7, \"helper-leak-Vb55\": \"x\"}'",
            "header `X-Api-Key` that is not a string",
        ),
        (
            "echo '{\"Host\": \"helper-leak-Vb55\"}'",
            "printed header `Host`, which the transport sets itself",
        ),
    ] {
        let home = home_with_helper(&url, body, "");
        let started = Instant::now();
        let output = tools(&home);
        let took = started.elapsed();
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{body}: {text}");
        assert!(
            text.contains("the MCP HTTP headers helper of server `docs` ")
                && text.contains(problem)
                && text.contains("mcp_servers.docs.http_headers_helper"),
            "{body}: {text}"
        );
        assert!(
            !text.contains("helper-leak") && !text.contains("partial"),
            "{text}"
        );
        assert!(took < Duration::from_secs(20), "{body}: took {took:?}");
    }
    // The server was never reached with a helper that failed.
    assert!(
        server
            .requests()
            .iter()
            .all(|request| request.path != "/plain"),
        "a request went out"
    );
}
