//! Which loaded plugin serves a configured MCP server, and what it is given.
//!
//! `command` → the bundled `stdio` transport, `url` → `streamable-http`,
//! `transport = "NAME"` → any loaded plugin that provides `NAME`.

use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use codex_config::McpServerConfig;
use codex_plugin_api::{
    ConnectRequest, HostServicesBox, PluginError, PluginModuleRef, ServiceKind, TransportBox,
};

use crate::PluginSet;

/// The name of the built-in transport for servers with a `command`.
pub const STDIO_TRANSPORT: &str = "stdio";
/// The name of the built-in transport for servers with a `url`.
pub const HTTP_TRANSPORT: &str = "streamable-http";

/// The transport plugin name that serves `server`.
pub fn transport_name(server: &McpServerConfig) -> String {
    match server.transport_kind() {
        codex_config::TransportKind::Stdio => STDIO_TRANSPORT.to_string(),
        codex_config::TransportKind::StreamableHttp => HTTP_TRANSPORT.to_string(),
        codex_config::TransportKind::Plugin(name) => name,
    }
}

/// Where the plugin's `send` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendPath {
    /// On the runtime thread that sends: no thread hop per message, for
    /// plugins known to keep the rule that `send` only queues (those
    /// bundled with the host).
    Inline,
    /// On a thread of the connection's own, so that a plugin whose `send`
    /// blocks holds that thread and never a runtime thread (with every
    /// runtime thread stuck, no deadline could fire).
    Thread,
}

/// What a transport plugin gets for `server`: its table as JSON and a deadline.
pub fn connect_request(name: &str, server: &McpServerConfig, timeout: Duration) -> ConnectRequest {
    ConnectRequest {
        server_name: name.into(),
        config_json: server.to_json().to_string().into(),
        timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
    }
}

/// A transport plugin found for a server, ready to be instantiated.
pub struct FoundTransport {
    module: PluginModuleRef,
    name: String,
    /// The name of the plugin that provides it.
    pub plugin: String,
    /// Where its connections' `send` runs: bundled plugins are trusted to
    /// only queue; any other may block, and gets a thread of its own.
    pub send_path: SendPath,
}

impl FoundTransport {
    /// Creates the transport object (plugin code: call it off async threads).
    pub fn create(&self, services: HostServicesBox) -> Result<TransportBox, PluginError> {
        (self.module.transport())(self.name.as_str().into(), services).into_result()
    }
}

/// The loaded plugin that provides the transport `server` needs, or an error
/// that says why it is missing and how to find out more.
pub fn find_transport(
    name: &str,
    server: &McpServerConfig,
    plugins: &PluginSet,
) -> Result<FoundTransport> {
    find_named_transport(name, &transport_name(server), plugins)
}

/// The loaded plugin that provides the transport `transport_name` for
/// server `name`, or an error that says why it is missing.
pub fn find_named_transport(
    name: &str,
    transport_name: &str,
    plugins: &PluginSet,
) -> Result<FoundTransport> {
    let Some(provider) = plugins.provider(ServiceKind::Transport, transport_name) else {
        let why = match plugins.why_missing(transport_name) {
            Some(entry) => format!(
                "the plugin at {} is {}",
                entry.path.display(),
                entry.state.describe()
            ),
            None => "no plugin on the search path provides it".to_string(),
        };
        bail!(
            "MCP server `{name}` needs the transport `{transport_name}`, which is not available: {why}\n\
             help: run `codex plugin list` to see what was found and why"
        );
    };
    let module = provider
        .module()
        .ok_or_else(|| anyhow!("plugin `{}` is not loaded", provider.name))?;
    Ok(FoundTransport {
        module,
        name: transport_name.to_string(),
        plugin: provider.name.clone(),
        send_path: if provider.origin.ships_with_codex() {
            SendPath::Inline
        } else {
            SendPath::Thread
        },
    })
}
