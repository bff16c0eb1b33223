//! Proxies come from the environment. One test in this binary, since it sets
//! environment variables.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use codex_plugin_api::ErrorKind;
use codex_test_support::server::TestServer;
use common::{Harness, initialize};

#[test]
fn http_proxy_from_the_environment_is_used() {
    let proxy = TestServer::start(|_, reply| {
        reply.send(
            401,
            "application/json",
            &[("WWW-Authenticate", "Bearer")],
            "{}",
        )
    });
    // SAFETY: this binary has one test, so no other thread reads the
    // environment while it is changed.
    unsafe {
        for name in ["NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"] {
            std::env::remove_var(name);
        }
        std::env::set_var("HTTP_PROXY", proxy.url(""));
        std::env::set_var("http_proxy", proxy.url(""));
    }
    let harness = Harness::new();
    // Never resolved: the proxy answers for it.
    let session = harness.connect_url("http://mcp.example.invalid/mcp");
    session.send(&initialize(1));
    let reason = session.closed(Duration::from_secs(10));
    assert_eq!(reason.kind, ErrorKind::Unauthorized, "{reason:?}");
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].path, "http://mcp.example.invalid/mcp");
}
