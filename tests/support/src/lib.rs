//! What the integration tests of the host and its plugins share.
//!
//! - [`home`]: a CODEX_HOME per test, the `codex` command against it, and
//!   the built binaries and plugin libraries (checked to be newer than
//!   their sources, so a stale build cannot pass);
//! - [`server`]: a tiny HTTP/1.1 server on 127.0.0.1 that records every
//!   request, and an echo MCP responder on it;
//! - [`oauth_mcp`]: an MCP server that is its own OAuth authorization server;
//! - [`keyrings`]: a real Secret Service and kernel keyring for a test;
//! - [`pty`]: a pseudo-terminal, for what a command does on a terminal;
//! - [`reference`]: the pinned Codex CLI, run beside ours.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod home;
pub mod keyrings;
pub mod oauth_mcp;
pub mod pty;
pub mod reference;
pub mod server;

pub use home::*;
pub use reference::codex_cli;
