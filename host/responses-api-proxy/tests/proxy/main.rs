//! Integration tests: the built `codex-responses-api-proxy` between real
//! clients (a raw HTTP client, the Codex CLI) and a local upstream.

mod codex_cli;
mod forwarding;
mod refusals;
mod secrets;
mod support;
mod upstream_failures;
