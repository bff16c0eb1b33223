//! What the HTTP transport plugins share: streamable HTTP (MCP 2025-11-25)
//! with the fallback to HTTP+SSE (MCP 2024-11-05), the configuration keys
//! `url`, `bearer_token_env_var`, `http_headers`, `env_http_headers`, the
//! authorization probe, and the [`Authorizer`] hook through which the
//! `oauth` plugin adds and renews tokens.
//!
//! The host runs MCP itself; this code carries JSON-RPC text over HTTP.
//! Each connection owns a small tokio runtime; closing it ends the session
//! (DELETE), cancels every request in flight and stops its threads.

pub mod auth_probe;
mod authorize;
pub mod config;
pub mod connection;
mod context;
mod events;
mod gate;
pub mod http;
mod legacy;
mod message;
mod sse;
mod streamable;

use std::time::Duration;

pub use authorize::{Authorizer, BoxFuture, Challenge, MAX_AUTHORIZED_RESENDS};
pub use config::HttpConfig;
pub use connection::{DELETE_WAIT, HttpConnection, Mode};
pub use http::{MAX_BODY_BYTES, MAX_EVENT_BYTES, MAX_REDIRECTS};
pub use message::TRANSPORT_ERROR_CODE;
/// The header type an [`Authorizer`] answers with.
pub use reqwest::header::HeaderValue;

/// The connect timeout when the host gives none.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The timeout a request's `timeout_ms` asks for (0: the default, 30 s).
pub fn connect_timeout(timeout_ms: u64) -> Duration {
    match timeout_ms {
        0 => DEFAULT_CONNECT_TIMEOUT,
        ms => Duration::from_millis(ms),
    }
}
