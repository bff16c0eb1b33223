//! What every front end of the host shares (the CLI, the app server and the
//! gateway): one [`App`] per process holds CODEX_HOME, the
//! merged configuration, the plugin set (loaded on first use), the feature
//! flags resolved over every layer, and the services plugins get, with the
//! MCP credential store attached.

pub mod app;
pub mod auth;
pub mod features;
pub mod stdio_pipe;

pub use app::{App, RunOptions};
