//! Checking one `[mcp_servers.NAME]` table against Codex's schema, with an
//! error that names the key and what was expected (never the value, which
//! may be a secret).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::key_path::KeyPath;
use crate::mcp::schema::{
    EnvVarSource, ExperimentalEnvironment, McpEnvVar, McpOAuthClient, McpServerConfig,
    McpToolConfig, ServerSandbox, ToolApprovalMode,
};
use crate::span::SpanTarget;
use crate::toml_value::describe;

/// A schema violation in one server table, not yet located in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaError {
    /// The offending key.
    pub path: KeyPath,
    /// Whether the key or its value is at fault.
    pub target: SpanTarget,
    /// What is wrong and what was expected.
    pub message: String,
    /// Whether `message` already names the key (then it is shown alone).
    pub names_key: bool,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.names_key {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for SchemaError {}

/// Keys that only a stdio server may have, in Codex's checking order, then
/// this host's sandbox keys.
const STDIO_ONLY: [&str; 7] = [
    "args",
    "env",
    "env_vars",
    "cwd",
    "sandbox",
    "sandbox_writable_roots",
    "sandbox_network",
];
/// Keys that only a streamable HTTP server may have, in Codex's order.
const HTTP_ONLY: [&str; 7] = [
    "url",
    "bearer_token_env_var",
    "http_headers",
    "env_http_headers",
    "http_headers_helper",
    "oauth_resource",
    "oauth",
];

/// Codex's load-time text for an inline `bearer_token`.
pub(crate) fn inline_bearer_token_error(name: &str) -> String {
    format!("mcp_servers.{name} uses unsupported `bearer_token`; set `bearer_token_env_var`.")
}

impl McpServerConfig {
    /// Checks and converts the table of server `name` (the value of
    /// `mcp_servers.<name>`).
    ///
    /// Codex's rules: unknown keys are ignored; `command` selects stdio and
    /// forbids the HTTP keys (`{field} is not supported for stdio`), `url`
    /// selects streamable HTTP and forbids the stdio keys (`{field} is not
    /// supported for streamable_http`), neither is `invalid transport`, and
    /// an inline `bearer_token` is refused. Our `transport = "NAME"` hands
    /// the table to a plugin, which checks its own keys.
    pub fn from_toml(name: &str, value: &toml::Value) -> Result<Self, SchemaError> {
        let path = KeyPath::from_keys(["mcp_servers", name]);
        let Some(table) = value.as_table() else {
            return Err(SchemaError {
                message: format!("expected a table, found {}", describe(value)),
                path,
                target: SpanTarget::Value,
                names_key: false,
            });
        };
        if table.contains_key("bearer_token") {
            return Err(SchemaError {
                path: path.key("bearer_token"),
                target: SpanTarget::Key,
                message: inline_bearer_token_error(name),
                names_key: true,
            });
        }
        let fields = Fields { table, path };
        let config = McpServerConfig {
            command: fields.string("command")?,
            args: fields.strings("args")?.unwrap_or_default(),
            env: fields.string_map("env")?,
            env_vars: fields.env_vars()?,
            cwd: fields.string("cwd")?.map(PathBuf::from),
            url: fields.string("url")?,
            bearer_token_env_var: fields.string("bearer_token_env_var")?,
            http_headers: fields.string_map("http_headers")?,
            env_http_headers: fields.string_map("env_http_headers")?,
            http_headers_helper: fields.headers_helper()?,
            sandbox: fields.sandbox()?,
            startup_timeout_sec: fields.seconds("startup_timeout_sec")?,
            startup_timeout_ms: fields.millis("startup_timeout_ms")?,
            tool_timeout_sec: fields.seconds("tool_timeout_sec")?,
            enabled: fields.bool("enabled")?.unwrap_or(true),
            required: fields.bool("required")?.unwrap_or(false),
            supports_parallel_tool_calls: fields
                .bool("supports_parallel_tool_calls")?
                .unwrap_or(false),
            default_tools_approval_mode: fields.approval_mode(
                table.get("default_tools_approval_mode"),
                fields.path.key("default_tools_approval_mode"),
            )?,
            tools: fields.tools()?,
            enabled_tools: fields.strings("enabled_tools")?,
            disabled_tools: fields.strings("disabled_tools")?,
            scopes: fields.strings("scopes")?,
            oauth_resource: fields.string("oauth_resource")?,
            oauth: fields.oauth()?,
            experimental_environment: fields.environment()?,
            name: fields.string("name")?,
            transport: fields.transport()?,
            disabled_reason: None,
            layer: None,
            raw: table.clone(),
        };
        fields.check_transport_keys(&config)?;
        Ok(config)
    }
}

struct Fields<'a> {
    table: &'a toml::Table,
    path: KeyPath,
}

impl Fields<'_> {
    fn error(&self, path: KeyPath, target: SpanTarget, message: String) -> SchemaError {
        SchemaError {
            path,
            target,
            message,
            names_key: false,
        }
    }

    fn expected(&self, key: &str, expected: &str, found: &toml::Value) -> SchemaError {
        self.error(
            self.path.key(key),
            SpanTarget::Value,
            format!("expected {expected}, found {}", describe(found)),
        )
    }

    fn string(&self, key: &str) -> Result<Option<String>, SchemaError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.expected(key, "a string", other)),
        }
    }

    /// `http_headers_helper`: a shell command; Codex refuses an empty one.
    fn headers_helper(&self) -> Result<Option<String>, SchemaError> {
        let helper = self.string("http_headers_helper")?;
        if helper
            .as_deref()
            .is_some_and(|command| command.trim().is_empty())
        {
            return Err(self.error(
                self.path.key("http_headers_helper"),
                SpanTarget::Value,
                "http_headers_helper must not be empty: give the command that prints the \
                 headers as a JSON object, or remove the key"
                    .into(),
            ));
        }
        Ok(helper)
    }

    /// `sandbox` (a mode), `sandbox_writable_roots` (with `workspace-write`)
    /// and `sandbox_network`; settings without a mode would be silently
    /// ignored, so they are an error instead.
    fn sandbox(&self) -> Result<Option<ServerSandbox>, SchemaError> {
        let roots = self.strings("sandbox_writable_roots")?;
        let network = self.bool("sandbox_network")?;
        let Some(value) = self.table.get("sandbox") else {
            for key in ["sandbox_writable_roots", "sandbox_network"] {
                if self.table.contains_key(key) {
                    return Err(self.error(
                        self.path.key(key),
                        SpanTarget::Key,
                        "set without `sandbox`; add sandbox = \"read-only\" or \"workspace-write\""
                            .to_owned(),
                    ));
                }
            }
            return Ok(None);
        };
        let mode = crate::sandbox::check_mode(value)
            .map_err(|message| self.error(self.path.key("sandbox"), SpanTarget::Value, message))?;
        let roots = roots.unwrap_or_default();
        if mode != "workspace-write" && !roots.is_empty() {
            return Err(self.error(
                self.path.key("sandbox_writable_roots"),
                SpanTarget::Key,
                format!("only used with sandbox = \"workspace-write\", and sandbox is \"{mode}\""),
            ));
        }
        if roots.iter().any(String::is_empty) {
            return Err(self.error(
                self.path.key("sandbox_writable_roots"),
                SpanTarget::Value,
                "expected directory paths, found an empty string".into(),
            ));
        }
        Ok(Some(ServerSandbox {
            mode,
            writable_roots: roots.into_iter().map(PathBuf::from).collect(),
            network: network.unwrap_or(false),
            from_default: false,
        }))
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, SchemaError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Boolean(b)) => Ok(Some(*b)),
            Some(other) => Err(self.expected(key, "a boolean (true or false)", other)),
        }
    }

    fn seconds(&self, key: &str) -> Result<Option<f64>, SchemaError> {
        let secs = match self.table.get(key) {
            None => return Ok(None),
            Some(toml::Value::Float(x)) => *x,
            Some(toml::Value::Integer(i)) => *i as f64,
            Some(other) => return Err(self.expected(key, "a number of seconds", other)),
        };
        if secs.is_finite() && secs >= 0.0 {
            Ok(Some(secs))
        } else {
            Err(self.error(
                self.path.key(key),
                SpanTarget::Value,
                format!("expected a non-negative number of seconds, found {secs}"),
            ))
        }
    }

    fn millis(&self, key: &str) -> Result<Option<u64>, SchemaError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Integer(i)) => u64::try_from(*i).map(Some).map_err(|_| {
                self.error(
                    self.path.key(key),
                    SpanTarget::Value,
                    format!("expected a non-negative number of milliseconds, found {i}"),
                )
            }),
            Some(other) => Err(self.expected(key, "an integer number of milliseconds", other)),
        }
    }

    fn strings(&self, key: &str) -> Result<Option<Vec<String>>, SchemaError> {
        let items = match self.table.get(key) {
            None => return Ok(None),
            Some(toml::Value::Array(items)) => items,
            Some(other) => return Err(self.expected(key, "an array of strings", other)),
        };
        items
            .iter()
            .enumerate()
            .map(|(index, item)| match item {
                toml::Value::String(s) => Ok(s.clone()),
                other => Err(self.error(
                    self.path.key(key).index(index),
                    SpanTarget::Value,
                    format!("expected a string, found {}", describe(other)),
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    fn string_map(&self, key: &str) -> Result<Option<BTreeMap<String, String>>, SchemaError> {
        let table = match self.table.get(key) {
            None => return Ok(None),
            Some(toml::Value::Table(table)) => table,
            Some(other) => return Err(self.expected(key, "a table of strings", other)),
        };
        table
            .iter()
            .map(|(name, value)| match value {
                toml::Value::String(s) => Ok((name.clone(), s.clone())),
                other => Err(self.error(
                    self.path.key(key).key(name),
                    SpanTarget::Value,
                    format!("expected a string, found {}", describe(other)),
                )),
            })
            .collect::<Result<BTreeMap<_, _>, _>>()
            .map(Some)
    }

    fn env_vars(&self) -> Result<Vec<McpEnvVar>, SchemaError> {
        let items = match self.table.get("env_vars") {
            None => return Ok(Vec::new()),
            Some(toml::Value::Array(items)) => items,
            Some(other) => {
                return Err(self.expected(
                    "env_vars",
                    "an array of variable names or `{ name, source }` tables",
                    other,
                ));
            }
        };
        let mut vars = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let path = self.path.key("env_vars").index(index);
            let var = match item {
                toml::Value::String(name) => McpEnvVar::Name(name.clone()),
                toml::Value::Table(entry) => {
                    let name = match entry.get("name") {
                        Some(toml::Value::String(name)) => name.clone(),
                        Some(other) => {
                            return Err(self.error(
                                path.key("name"),
                                SpanTarget::Value,
                                format!("expected a string, found {}", describe(other)),
                            ));
                        }
                        None => {
                            return Err(self.error(
                                path,
                                SpanTarget::Value,
                                "missing `name` (the environment variable to forward)".into(),
                            ));
                        }
                    };
                    let source = match entry.get("source") {
                        None => None,
                        Some(toml::Value::String(s)) if s == "local" => Some(EnvVarSource::Local),
                        Some(toml::Value::String(s)) if s == "remote" => Some(EnvVarSource::Remote),
                        Some(toml::Value::String(s)) => {
                            return Err(self.error(
                                path.key("source"),
                                SpanTarget::Value,
                                format!(
                                    "unsupported env_vars source `{s}`; expected `local` or `remote`"
                                ),
                            ));
                        }
                        Some(other) => {
                            return Err(self.error(
                                path.key("source"),
                                SpanTarget::Value,
                                format!("expected `local` or `remote`, found {}", describe(other)),
                            ));
                        }
                    };
                    McpEnvVar::Config { name, source }
                }
                other => {
                    return Err(self.error(
                        path,
                        SpanTarget::Value,
                        format!(
                            "expected a variable name or a `{{ name, source }}` table, found {}",
                            describe(other)
                        ),
                    ));
                }
            };
            vars.push(var);
        }
        Ok(vars)
    }

    fn approval_mode(
        &self,
        value: Option<&toml::Value>,
        path: KeyPath,
    ) -> Result<Option<ToolApprovalMode>, SchemaError> {
        match value {
            None => Ok(None),
            Some(toml::Value::String(s)) => match s.as_str() {
                "auto" => Ok(Some(ToolApprovalMode::Auto)),
                "prompt" => Ok(Some(ToolApprovalMode::Prompt)),
                "approve" => Ok(Some(ToolApprovalMode::Approve)),
                other => Err(self.error(
                    path,
                    SpanTarget::Value,
                    format!("expected one of `auto`, `prompt`, `approve`, found `{other}`"),
                )),
            },
            Some(other) => Err(self.error(
                path,
                SpanTarget::Value,
                format!(
                    "expected one of `auto`, `prompt`, `approve`, found {}",
                    describe(other)
                ),
            )),
        }
    }

    fn tools(&self) -> Result<BTreeMap<String, McpToolConfig>, SchemaError> {
        let tools = match self.table.get("tools") {
            None => return Ok(BTreeMap::new()),
            Some(toml::Value::Table(tools)) => tools,
            Some(other) => return Err(self.expected("tools", "a table of tool settings", other)),
        };
        let mut out = BTreeMap::new();
        for (tool, value) in tools {
            let tool_path = self.path.key("tools").key(tool);
            let Some(settings) = value.as_table() else {
                return Err(self.error(
                    tool_path,
                    SpanTarget::Value,
                    format!(
                        "expected a table such as `{{ approval_mode = \"prompt\" }}`, found {}",
                        describe(value)
                    ),
                ));
            };
            let approval_mode = self.approval_mode(
                settings.get("approval_mode"),
                tool_path.key("approval_mode"),
            )?;
            out.insert(tool.clone(), McpToolConfig { approval_mode });
        }
        Ok(out)
    }

    /// `[oauth]`: Codex's keys, typed; a secret needs its client ID.
    fn oauth(&self) -> Result<Option<McpOAuthClient>, SchemaError> {
        let table = match self.table.get("oauth") {
            None => return Ok(None),
            Some(toml::Value::Table(table)) => table,
            Some(other) => {
                return Err(self.expected(
                    "oauth",
                    "a table such as `{ client_id = \"...\" }`",
                    other,
                ));
            }
        };
        let inner = Fields {
            table,
            path: self.path.key("oauth"),
        };
        let callback_port = match table.get("callback_port") {
            None => None,
            Some(toml::Value::Integer(port)) => Some(u16::try_from(*port).map_err(|_| {
                inner.error(
                    inner.path.key("callback_port"),
                    SpanTarget::Value,
                    format!(
                        "invalid MCP OAuth callback port `{port}`: port must be between 1 and 65535"
                    ),
                )
            })?),
            Some(other) => return Err(inner.expected("callback_port", "a port number", other)),
        };
        let client = McpOAuthClient {
            client_id: inner.string("client_id")?,
            client_secret: inner.string("client_secret")?,
            callback_port,
            callback_url: inner.string("callback_url")?,
        };
        if client.client_secret.is_some() && client.client_id.is_none() {
            return Err(inner.error(
                inner.path.key("client_secret"),
                SpanTarget::Key,
                "oauth.client_secret requires oauth.client_id".into(),
            ));
        }
        Ok(Some(client))
    }

    fn environment(&self) -> Result<Option<ExperimentalEnvironment>, SchemaError> {
        match self.table.get("experimental_environment") {
            None => Ok(None),
            Some(toml::Value::String(s)) if s == "local" => {
                Ok(Some(ExperimentalEnvironment::Local))
            }
            Some(toml::Value::String(s)) if s == "remote" => {
                Ok(Some(ExperimentalEnvironment::Remote))
            }
            Some(toml::Value::String(s)) => Err(self.error(
                self.path.key("experimental_environment"),
                SpanTarget::Value,
                format!("unsupported experimental_environment `{s}`; expected `local` or `remote`"),
            )),
            Some(other) => {
                Err(self.expected("experimental_environment", "`local` or `remote`", other))
            }
        }
    }

    fn transport(&self) -> Result<Option<String>, SchemaError> {
        match self.string("transport")? {
            Some(name) if name.trim().is_empty() => Err(self.error(
                self.path.key("transport"),
                SpanTarget::Value,
                "expected the name of a transport plugin, found an empty string".into(),
            )),
            other => Ok(other),
        }
    }

    fn check_transport_keys(&self, config: &McpServerConfig) -> Result<(), SchemaError> {
        if config.transport.is_some() {
            return Ok(());
        }
        let (forbidden, kind): (&[&str], &str) = if config.command.is_some() {
            (&HTTP_ONLY, "stdio")
        } else if config.url.is_some() {
            (&STDIO_ONLY, "streamable_http")
        } else {
            return Err(self.error(
                self.path.clone(),
                SpanTarget::Value,
                "invalid transport: set `command` (stdio), `url` (streamable HTTP) or `transport` (a transport plugin)".into(),
            ));
        };
        match forbidden.iter().find(|key| self.table.contains_key(**key)) {
            Some(key) => Err(self.error(
                self.path.key(*key),
                SpanTarget::Key,
                format!("{key} is not supported for {kind}"),
            )),
            None => Ok(()),
        }
    }
}
