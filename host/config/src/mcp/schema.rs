//! The `[mcp_servers.NAME]` table, as typed values.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::mask::MASK;

/// Codex's default startup timeout (initialize plus the first tools/list).
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Codex's default timeout for a tool call (and resources/list, read).
pub const DEFAULT_TOOL_TIMEOUT: Duration = Duration::from_secs(120);

/// How the host reaches a server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportKind {
    /// `command` is set: a child process speaking JSON-RPC on stdio.
    Stdio,
    /// `url` is set: MCP streamable HTTP.
    StreamableHttp,
    /// `transport = "NAME"`: the transport plugin of that name gets the table.
    Plugin(String),
}

/// `default_tools_approval_mode` and `tools.<tool>.approval_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolApprovalMode {
    /// Ask only when the tool's annotations say it may be destructive.
    Auto,
    /// Always ask.
    Prompt,
    /// Never ask.
    Approve,
}

impl ToolApprovalMode {
    /// The config spelling: `auto`, `prompt`, `approve`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Prompt => "prompt",
            Self::Approve => "approve",
        }
    }
}

/// Per-tool settings, `[mcp_servers.NAME.tools.TOOL]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct McpToolConfig {
    /// Overrides `default_tools_approval_mode` for this tool.
    pub approval_mode: Option<ToolApprovalMode>,
}

/// Where a forwarded environment variable is read (`env_vars` `source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvVarSource {
    /// The local process environment.
    Local,
    /// The remote executor's environment.
    Remote,
}

impl EnvVarSource {
    /// The config spelling: `local` or `remote`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Remote => "remote",
        }
    }
}

/// One `env_vars` entry: a variable of the parent environment to forward.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum McpEnvVar {
    /// `"NAME"`.
    Name(String),
    /// `{ name = "NAME", source = "local" | "remote" }`.
    Config {
        /// The variable.
        name: String,
        /// Where it is read; local when absent.
        source: Option<EnvVarSource>,
    },
}

impl McpEnvVar {
    /// The variable's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Name(name) | Self::Config { name, .. } => name,
        }
    }
}

/// `experimental_environment`: where the server runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExperimentalEnvironment {
    /// On this machine.
    Local,
    /// On the remote executor.
    Remote,
}

/// The sandbox of a stdio server: `sandbox`, `sandbox_writable_roots` and
/// `sandbox_network` of its table, or `mcp_servers_sandbox` for all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSandbox {
    /// One of Codex's sandbox modes.
    pub mode: String,
    /// More writable directories (`workspace-write` only).
    pub writable_roots: Vec<PathBuf>,
    /// Whether IP sockets are allowed.
    pub network: bool,
    /// Set by `mcp_servers_sandbox`, not by the server's own table.
    pub from_default: bool,
}

/// `[mcp_servers.NAME.oauth]`: a client registered with the server's
/// authorization server beforehand (Codex's keys). Unknown keys are ignored.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct McpOAuthClient {
    /// The client ID; without it the table names no client.
    pub client_id: Option<String>,
    /// Its secret, for a confidential client (a secret; never printed).
    pub client_secret: Option<String>,
    /// The loopback port of the redirect (over `mcp_oauth_callback_port`).
    pub callback_port: Option<u16>,
    /// The redirect URI registered for the client; a loopback one without a
    /// port gets the listener's port.
    pub callback_url: Option<String>,
}

impl fmt::Debug for McpOAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpOAuthClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| MASK))
            .field("callback_port", &self.callback_port)
            .field("callback_url", &self.callback_url)
            .finish()
    }
}

/// One `[mcp_servers.NAME]` table, checked against Codex's schema.
///
/// Built by [`crate::mcp::load_mcp_servers`] or
/// [`McpServerConfig::from_toml`]. Unknown keys are ignored, like Codex,
/// but kept: [`McpServerConfig::to_json`] returns the whole table, so a
/// transport plugin sees its own options.
#[derive(Clone, PartialEq)]
pub struct McpServerConfig {
    /// stdio: the program to run.
    pub command: Option<String>,
    /// stdio: its arguments.
    pub args: Vec<String>,
    /// stdio: literal environment values (secrets; never print the values).
    pub env: Option<BTreeMap<String, String>>,
    /// stdio: parent environment variables to forward.
    pub env_vars: Vec<McpEnvVar>,
    /// stdio: working directory.
    pub cwd: Option<PathBuf>,
    /// streamable HTTP: the endpoint.
    pub url: Option<String>,
    /// streamable HTTP: environment variable holding a bearer token.
    pub bearer_token_env_var: Option<String>,
    /// streamable HTTP: static headers (secrets; never print the values).
    pub http_headers: Option<BTreeMap<String, String>>,
    /// streamable HTTP: header name to the environment variable holding it.
    pub env_http_headers: Option<BTreeMap<String, String>>,
    /// streamable HTTP: a shell command run before connecting that prints a
    /// JSON object of more headers (secrets; never print it or its output).
    pub http_headers_helper: Option<String>,
    /// stdio: the sandbox the server runs in (`None`: unsandboxed, as in Codex).
    pub sandbox: Option<ServerSandbox>,
    /// Startup timeout in seconds.
    pub startup_timeout_sec: Option<f64>,
    /// Legacy startup timeout in milliseconds (`startup_timeout_sec` wins).
    pub startup_timeout_ms: Option<u64>,
    /// Tool call timeout in seconds.
    pub tool_timeout_sec: Option<f64>,
    /// `false`: the server is not started (default `true`).
    pub enabled: bool,
    /// `true`: a failed start is an error, not a warning.
    pub required: bool,
    /// Whether calls to this server may run in parallel.
    pub supports_parallel_tool_calls: bool,
    /// Approval mode for tools without their own setting.
    pub default_tools_approval_mode: Option<ToolApprovalMode>,
    /// Per-tool settings.
    pub tools: BTreeMap<String, McpToolConfig>,
    /// Allow-list of raw tool names.
    pub enabled_tools: Option<Vec<String>>,
    /// Deny-list of raw tool names, applied after the allow-list.
    pub disabled_tools: Option<Vec<String>>,
    /// OAuth scopes to request (an empty list requests none).
    pub scopes: Option<Vec<String>>,
    /// RFC 8707 `resource` for OAuth.
    pub oauth_resource: Option<String>,
    /// `[oauth]`: a pre-registered OAuth client.
    pub oauth: Option<McpOAuthClient>,
    /// Where the server runs.
    pub experimental_environment: Option<ExperimentalEnvironment>,
    /// Legacy display name; accepted and ignored.
    pub name: Option<String>,
    /// The transport plugin serving this server, when not stdio or HTTP.
    pub transport: Option<String>,
    /// Why the host disabled the server (for example an administrator's
    /// allow-list). Never read from the config; shown by `list` and `get`.
    pub disabled_reason: Option<String>,
    /// The configuration layer that defines the server (the one that set
    /// its `command`, `url` or `transport`); `None` for a server that comes
    /// from no layer, such as `--url` on the command line.
    pub layer: Option<crate::layers::LayerKind>,
    pub(crate) raw: toml::Table,
}

impl McpServerConfig {
    /// Which transport serves this server. An explicit `transport` wins;
    /// otherwise `command` means stdio and `url` streamable HTTP.
    pub fn transport_kind(&self) -> TransportKind {
        match (&self.transport, &self.command) {
            (Some(plugin), _) => TransportKind::Plugin(plugin.clone()),
            (None, Some(_)) => TransportKind::Stdio,
            (None, None) => TransportKind::StreamableHttp,
        }
    }

    /// The configured startup timeout, if any (`startup_timeout_sec`, else
    /// `startup_timeout_ms`).
    pub fn startup_timeout_override(&self) -> Option<Duration> {
        match (self.startup_timeout_sec, self.startup_timeout_ms) {
            (Some(secs), _) => Duration::try_from_secs_f64(secs).ok(),
            (None, Some(ms)) => Some(Duration::from_millis(ms)),
            (None, None) => None,
        }
    }

    /// How long the server may take to start (default 30 s).
    pub fn startup_timeout(&self) -> Duration {
        self.startup_timeout_override()
            .unwrap_or(DEFAULT_STARTUP_TIMEOUT)
    }

    /// The configured tool timeout, if any.
    pub fn tool_timeout_override(&self) -> Option<Duration> {
        self.tool_timeout_sec
            .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
    }

    /// How long a tool call may take (default 120 s).
    pub fn tool_timeout(&self) -> Duration {
        self.tool_timeout_override().unwrap_or(DEFAULT_TOOL_TIMEOUT)
    }

    /// Whether the raw MCP tool name passes the filters: in `enabled_tools`
    /// (when set) and not in `disabled_tools`.
    pub fn tool_allowed(&self, raw_tool_name: &str) -> bool {
        let allowed = self
            .enabled_tools
            .as_ref()
            .is_none_or(|list| list.iter().any(|tool| tool == raw_tool_name));
        let denied = self
            .disabled_tools
            .as_ref()
            .is_some_and(|list| list.iter().any(|tool| tool == raw_tool_name));
        allowed && !denied
    }

    /// The approval mode for a tool: its own, else the server default, else
    /// `auto`.
    pub fn tool_approval_mode(&self, raw_tool_name: &str) -> ToolApprovalMode {
        self.tools
            .get(raw_tool_name)
            .and_then(|tool| tool.approval_mode)
            .or(self.default_tools_approval_mode)
            .unwrap_or(ToolApprovalMode::Auto)
    }

    /// The whole table as JSON, unknown keys included, for the plugin
    /// boundary. It contains secrets (env and header values): hand it to a
    /// plugin, never print it. It is the table as read: later changes to
    /// the public fields are not reflected.
    pub fn to_json(&self) -> serde_json::Value {
        crate::toml_value::table_to_json(&self.raw)
    }

    /// Gives a stdio server without a `sandbox` of its own the policy
    /// `mode` of `mcp_servers_sandbox`, in the table the transport sees too.
    pub fn apply_default_sandbox(&mut self, mode: &str) {
        let stdio = self.command.is_some() && self.transport.is_none();
        if !stdio || self.sandbox.is_some() {
            return;
        }
        self.sandbox = Some(ServerSandbox {
            mode: mode.to_string(),
            writable_roots: Vec::new(),
            network: false,
            from_default: true,
        });
        self.raw
            .insert("sandbox".into(), toml::Value::String(mode.to_string()));
    }

    /// The table as read (after merging the layers).
    pub fn raw_table(&self) -> &toml::Table {
        &self.raw
    }

    /// This server with the headers its `http_headers_helper` printed, as
    /// Codex applies them: each replaces a configured header of the same
    /// name (in `http_headers` or `env_http_headers`, any case), except
    /// that a configured bearer token or `Authorization` header wins over
    /// the helper's `Authorization`.
    pub fn with_helper_headers(&self, helper: &BTreeMap<String, String>) -> McpServerConfig {
        let explicit_authorization = self.bearer_token_env_var.is_some()
            || [&self.http_headers, &self.env_http_headers]
                .into_iter()
                .flatten()
                .any(|headers| {
                    headers
                        .keys()
                        .any(|k| k.eq_ignore_ascii_case("authorization"))
                });
        let mut server = self.clone();
        for (name, value) in helper {
            if explicit_authorization && name.eq_ignore_ascii_case("authorization") {
                continue;
            }
            for headers in [&mut server.http_headers, &mut server.env_http_headers]
                .into_iter()
                .flatten()
            {
                headers.retain(|configured, _| !configured.eq_ignore_ascii_case(name));
            }
            server
                .http_headers
                .get_or_insert_with(BTreeMap::new)
                .insert(name.clone(), value.clone());
        }
        let as_table = |headers: &Option<BTreeMap<String, String>>| {
            headers.as_ref().map(|headers| {
                headers
                    .iter()
                    .map(|(k, v)| (k.clone(), toml::Value::String(v.clone())))
                    .collect::<toml::Table>()
            })
        };
        for (key, headers) in [
            ("http_headers", as_table(&server.http_headers)),
            ("env_http_headers", as_table(&server.env_http_headers)),
        ] {
            if let Some(headers) = headers {
                server.raw.insert(key.into(), toml::Value::Table(headers));
            }
        }
        server
    }
}

impl fmt::Debug for McpServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Env and header values are secrets: show their keys only.
        let masked = |map: &Option<BTreeMap<String, String>>| {
            map.as_ref().map(|map| {
                map.keys()
                    .map(|key| format!("{key}={MASK}"))
                    .collect::<Vec<_>>()
            })
        };
        f.debug_struct("McpServerConfig")
            .field("transport", &self.transport_kind())
            .field("command", &self.command)
            .field("args", &self.args)
            .field("env", &masked(&self.env))
            .field("env_vars", &self.env_vars)
            .field("cwd", &self.cwd)
            .field("url", &self.url)
            .field("bearer_token_env_var", &self.bearer_token_env_var)
            .field("http_headers", &masked(&self.http_headers))
            .field("env_http_headers", &self.env_http_headers)
            .field(
                "http_headers_helper",
                &self.http_headers_helper.as_ref().map(|_| MASK),
            )
            .field("startup_timeout", &self.startup_timeout())
            .field("tool_timeout", &self.tool_timeout())
            .field("enabled", &self.enabled)
            .field("required", &self.required)
            .field("enabled_tools", &self.enabled_tools)
            .field("disabled_tools", &self.disabled_tools)
            .finish_non_exhaustive()
    }
}
