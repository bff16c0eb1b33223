//! Running MCP (on rmcp) over transport plugins.

pub mod auth;
pub mod names;
pub mod oauth;
pub mod session;
mod transport;
