//! Benchmarks of the codex host against the Codex CLI and the floor (see
//! `tests/bench/run.sh`, the one entry point, and `BENCHMARKS.md`).
//!
//! - [`calls`]: in-process tool calls through the real plugin libraries
//!   (driven through the host's own rmcp adapter, [`host_transport`]) and
//!   the same calls on rmcp's own client transports, plus a bare pipe.
//! - [`procs`]: whole-process runs with wall time and peak RSS (`wait4`).
//! - [`slow_http`]: a small HTTP server on 127.0.0.1 whose OAuth discovery
//!   documents take a set time to arrive.
//! - [`rows`]: the rows of the benchmark issue, and [`report`] their table;
//!   [`rows_app_server`]: rows 11–14, `codex app-server` against Codex's;
//!   [`rows_gateway`]: rows 15–17, `codex mcp-server` against direct calls;
//!   [`rows_proxy`]: row 18, the responses API proxy.
//!
//! Speed is measured only here, never asserted in tests.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod calls;
pub mod procs;
pub mod report;
pub mod rows;
pub mod rows_app_server;
pub mod rows_gateway;
pub mod rows_proxy;
pub mod slow_http;
pub mod stats;

/// The host's adapter from a plugin connection to an rmcp transport: the
/// plugin side of rows 3 and 4 runs exactly the code `codex mcp call` runs.
pub use codex_mcp_client::transport as host_transport;
