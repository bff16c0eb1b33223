//! The MCP client of the host: sessions (on rmcp) with configured servers
//! over transport plugins.
//!
//! - [`transport`]: a plugin connection as an rmcp transport, with the
//!   reason the connection ended and the plugin calls still in flight;
//! - [`session`]: connect, initialize, list and call (cancellably), under
//!   the server's timeouts;
//! - [`server_features`]: resources, templates, prompts, completions, ping
//!   and the log level of a session;
//! - [`client`]: the host's side of a session: its capabilities, its
//!   answers to server requests (roots, elicitation, sampling refused) and
//!   the notifications it hands to the front end ([`client::ClientEvents`]),
//!   each tied to the tool call that caused it where that can be known
//!   (`in_flight`);
//! - [`elicitation`]: the form of an elicitation: fields, typed answers,
//!   defaults and checks;
//! - [`logging`]: MCP log levels;
//! - [`auth`]: the auth status of `codex mcp list` (config, stored tokens,
//!   then a probe of every HTTP server through its plugin);
//! - [`oauth`]: when the `oauth` transport serves a server, and its
//!   login/logout;
//! - [`headers_helper`]: runs a server's `http_headers_helper` before it
//!   connects;
//! - [`names`]: Codex's qualified tool names.

pub mod auth;
pub mod client;
pub mod elicitation;
pub mod headers_helper;
mod in_flight;
pub mod logging;
pub mod names;
pub mod oauth;
pub mod server_features;
pub mod session;
pub mod transport;
