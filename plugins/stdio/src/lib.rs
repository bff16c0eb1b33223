//! The stdio transport: MCP servers run as child processes that speak
//! newline-delimited JSON-RPC on their standard input and output.
//!
//! Compatible with Codex's launcher: the same environment whitelist,
//! `env_vars` and `env` handling, `cwd`, its own process group, SIGTERM then
//! SIGKILL after two seconds. On top of that, every server's stderr is kept
//! in `$CODEX_HOME/log/mcp/NAME.stderr.log`, and a server that dies is
//! reported with its exit status and the last lines of its stderr.

mod config;
mod connection;
mod environment;
mod lines;
mod process;
mod stderr_log;
mod stdin_writer;

use codex_plugin_api::{
    ConnectRequest, Connection, HostServices, MessageSink, Plugin, PluginError, PluginManifest,
    PluginResult, Transport,
};

pub use config::StdioConfig;
pub use environment::INHERITED_VARIABLES;
pub use lines::MAX_LINE_BYTES;
pub use process::{EXIT_GRACE, TERM_GRACE};

/// The name of the transport this plugin provides.
pub const TRANSPORT_NAME: &str = "stdio";

/// The plugin: one transport, `stdio`.
pub struct StdioPlugin;

impl Plugin for StdioPlugin {
    fn manifest() -> PluginManifest {
        PluginManifest::new(
            "stdio",
            env!("CARGO_PKG_VERSION"),
            "Runs MCP servers as child processes speaking newline-delimited JSON-RPC on stdin/stdout",
        )
        .transport(TRANSPORT_NAME)
    }

    fn transport(name: &str, host: HostServices) -> PluginResult<Box<dyn Transport>> {
        if name == TRANSPORT_NAME {
            Ok(Box::new(StdioTransport::new(host)))
        } else {
            Err(PluginError::not_found(format!(
                "the stdio plugin provides no transport named '{name}'; its only transport is '{TRANSPORT_NAME}'"
            )))
        }
    }
}

codex_plugin_api::export_plugin!(StdioPlugin);

/// Starts stdio servers; one per [`Transport::connect`].
pub struct StdioTransport {
    host: HostServices,
}

impl StdioTransport {
    /// A transport that logs through, and keeps stderr logs under the
    /// `CODEX_HOME` of, `host`.
    pub fn new(host: HostServices) -> Self {
        StdioTransport { host }
    }
}

impl Transport for StdioTransport {
    /// Reads `command`, `args`, `env`, `env_vars` and `cwd` from the server's
    /// table and starts it. Wrong types are `InvalidConfig` errors naming the
    /// key; a missing program is `NotFound`.
    fn connect(
        &self,
        request: ConnectRequest,
        sink: MessageSink,
    ) -> PluginResult<Box<dyn Connection>> {
        let server = request.server_name.as_str();
        let config = StdioConfig::parse(server, request.config_json.as_str())?;
        let connection = connection::open(server, &config, self.host.clone(), sink)?;
        Ok(Box::new(connection))
    }
}
