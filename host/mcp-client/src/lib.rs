//! The MCP client of the host: sessions (on rmcp) with configured servers
//! over transport plugins.
//!
//! - [`transport`]: a plugin connection as an rmcp transport, with the
//!   reason the connection ended and the plugin calls still in flight;
//! - [`session`]: connect, initialize, list and call, under the server's
//!   timeouts;
//! - [`auth`]: the auth status of `codex mcp list` (config, stored tokens,
//!   then a probe of every HTTP server through its plugin);
//! - [`oauth`]: when the `oauth` transport serves a server, and its
//!   login/logout;
//! - [`headers_helper`]: runs a server's `http_headers_helper` before it
//!   connects;
//! - [`names`]: Codex's qualified tool names.

pub mod auth;
pub mod headers_helper;
pub mod names;
pub mod oauth;
pub mod session;
pub mod transport;
