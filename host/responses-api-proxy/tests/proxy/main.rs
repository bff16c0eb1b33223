//! Integration tests: the built `codex-responses-api-proxy` between real
//! clients (a raw HTTP client, the Codex CLI) and a local upstream.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod codex_cli;
mod forwarding;
mod refusals;
mod secrets;
mod support;
mod upstream_failures;
