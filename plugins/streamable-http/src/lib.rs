//! The HTTP transports: streamable HTTP (MCP 2025-11-25) and, for older
//! servers, HTTP+SSE (MCP 2024-11-05).
//!
//! A server with `url = ...` uses `streamable-http`, which falls back to
//! HTTP+SSE when the server answers the first POST with 400, 404 or 405;
//! `transport = "sse"` uses HTTP+SSE directly. Both read the same keys:
//! `url`, `bearer_token_env_var`, `http_headers`, `env_http_headers`. The
//! work is done by `codex-http-common`, which the `oauth` plugin shares.

use codex_http_common::connection;
use codex_plugin_api::{
    AuthProbe, ConnectRequest, Connection, HostServices, MessageSink, Plugin, PluginError,
    PluginManifest, PluginResult, Transport,
};

pub use codex_http_common::{
    DELETE_WAIT, HttpConfig, MAX_BODY_BYTES, MAX_EVENT_BYTES, MAX_REDIRECTS, Mode,
    TRANSPORT_ERROR_CODE,
};

/// The plugin's name (its library is `libcodex_streamable_http.so`).
pub const PLUGIN_NAME: &str = "streamable_http";
/// The streamable HTTP transport, used for every server with a `url`.
pub const STREAMABLE_TRANSPORT: &str = "streamable-http";
/// The HTTP+SSE transport, chosen with `transport = "sse"`.
pub const SSE_TRANSPORT: &str = "sse";

/// The plugin: two transports, `streamable-http` and `sse`.
pub struct StreamableHttpPlugin;

impl Plugin for StreamableHttpPlugin {
    fn manifest() -> PluginManifest {
        PluginManifest::new(
            PLUGIN_NAME,
            env!("CARGO_PKG_VERSION"),
            "Connects to MCP servers over streamable HTTP, or the older HTTP+SSE transport",
        )
        .transport(STREAMABLE_TRANSPORT)
        .transport(SSE_TRANSPORT)
    }

    fn transport(name: &str, host: HostServices) -> PluginResult<Box<dyn Transport>> {
        let mode = match name {
            STREAMABLE_TRANSPORT => Mode::Streamable,
            SSE_TRANSPORT => Mode::Legacy,
            other => {
                return Err(PluginError::not_found(format!(
                    "the {PLUGIN_NAME} plugin provides no transport named '{other}'; its transports are '{STREAMABLE_TRANSPORT}' and '{SSE_TRANSPORT}'"
                )));
            }
        };
        Ok(Box::new(HttpTransport { host, mode }))
    }
}

codex_plugin_api::export_plugin!(StreamableHttpPlugin);

/// Connects to HTTP MCP servers; one connection per [`Transport::connect`].
pub struct HttpTransport {
    host: HostServices,
    mode: Mode,
}

impl HttpTransport {
    /// A transport starting in `mode`, logging through `host`.
    pub fn new(host: HostServices, mode: Mode) -> Self {
        HttpTransport { host, mode }
    }
}

impl Transport for HttpTransport {
    /// Reads the server's table and the environment (the bearer token and
    /// `env_http_headers`); the network is first used by the first message.
    /// A wrong key or an unset bearer variable is `InvalidConfig`.
    fn connect(
        &self,
        request: ConnectRequest,
        sink: MessageSink,
    ) -> PluginResult<Box<dyn Connection>> {
        let server = request.server_name.as_str();
        let config = HttpConfig::parse(server, request.config_json.as_str())?;
        let timeout = codex_http_common::connect_timeout(request.timeout_ms);
        let connection = connection::open(
            server,
            &config,
            self.mode,
            timeout,
            self.host.clone(),
            sink,
            None,
        )?;
        Ok(Box::new(connection))
    }

    /// Looks for RFC 9728 and RFC 8414 / OpenID metadata without opening a
    /// session, within `request.timeout_ms`.
    fn probe_auth(&self, request: ConnectRequest) -> PluginResult<AuthProbe> {
        let server = request.server_name.as_str();
        let config = HttpConfig::parse(server, request.config_json.as_str())?;
        let timeout = codex_http_common::connect_timeout(request.timeout_ms);
        codex_http_common::auth_probe::probe(server, &config, timeout)
    }
}
