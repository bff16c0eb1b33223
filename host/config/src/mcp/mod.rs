//! MCP server configuration: the `[mcp_servers.NAME]` schema, its
//! validation, and loading every server from the merged layers.

mod parse;
mod schema;

use std::collections::BTreeMap;

pub use parse::SchemaError;
pub use schema::{
    DEFAULT_STARTUP_TIMEOUT, DEFAULT_TOOL_TIMEOUT, EnvVarSource, ExperimentalEnvironment,
    McpEnvVar, McpOAuthClient, McpServerConfig, McpToolConfig, ServerSandbox, ToolApprovalMode,
    TransportKind,
};

use crate::error::ConfigError;
use crate::key_path::KeyPath;
use crate::load::LoadedConfig;
use crate::span::SpanTarget;

/// The characters a new server name may have besides ASCII letters and
/// digits (Codex 0.169's rule: `npm:@scope/pkg.v1` is a name).
const NAME_PUNCTUATION: [char; 6] = ['-', '_', ':', '@', '/', '.'];

/// Checks the name of a server being added: not empty, only ASCII letters,
/// digits and [`NAME_PUNCTUATION`] (Codex's rule and text). Names already
/// in a config file are not checked, as in Codex: whatever the file holds
/// can be listed, used and removed.
pub fn validate_server_name(name: &str) -> Result<(), ConfigError> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || NAME_PUNCTUATION.contains(&c));
    if valid {
        Ok(())
    } else {
        Err(ConfigError::InvalidServerName {
            name: name.to_string(),
        })
    }
}

/// Every `[mcp_servers.NAME]` of the merged configuration, checked.
///
/// Like Codex, one bad server fails the whole load; the error points at the
/// file, line and column (or the `-c` override) that set the bad value. An
/// inline `bearer_token` anywhere is refused first, with Codex's text.
pub fn load_mcp_servers(
    config: &LoadedConfig,
) -> Result<BTreeMap<String, McpServerConfig>, ConfigError> {
    let Some(value) = config.get(&["mcp_servers"]) else {
        return Ok(BTreeMap::new());
    };
    let Some(servers) = value.as_table() else {
        return Err(config.invalid(
            KeyPath::from_keys(["mcp_servers"]),
            SpanTarget::Value,
            format!(
                "expected a table of servers, found {}",
                crate::toml_value::describe(value)
            ),
        ));
    };
    for (name, server) in servers {
        if server
            .as_table()
            .is_some_and(|t| t.contains_key("bearer_token"))
        {
            let path = KeyPath::from_keys(["mcp_servers", name, "bearer_token"]);
            return Err(ConfigError::Rejected {
                location: config.locate(&path, SpanTarget::Key),
                message: parse::inline_bearer_token_error(name),
            });
        }
    }
    let mut out = BTreeMap::new();
    let default_sandbox = crate::sandbox::servers_default_sandbox(config)?;
    for (name, server) in servers {
        let mut parsed = McpServerConfig::from_toml(name, server).map_err(|err| {
            let location = config.locate(&err.path, err.target);
            if err.names_key {
                ConfigError::Rejected {
                    location,
                    message: err.message,
                }
            } else {
                ConfigError::Invalid {
                    location,
                    key: err.path,
                    message: err.message,
                }
            }
        })?;
        if let Some(mode) = &default_sandbox {
            parsed.apply_default_sandbox(mode);
        }
        parsed.layer = defining_layer(config, name);
        out.insert(name.clone(), parsed);
    }
    Ok(out)
}

/// The layer that set the server's transport key, or else the highest
/// layer that set any of its keys (a layer may only override `enabled`).
fn defining_layer(config: &LoadedConfig, name: &str) -> Option<crate::layers::LayerKind> {
    ["command", "url", "transport"]
        .iter()
        .find_map(|key| config.origin(&["mcp_servers", name, key]))
        .or_else(|| {
            config
                .origins()
                .filter(|(path, _)| {
                    let keys = path.leading_keys();
                    keys.len() > 2 && keys[0] == "mcp_servers" && keys[1] == name
                })
                .map(|(_, layer)| layer)
                .max_by_key(|layer| layer.kind())
        })
        .map(|layer| layer.kind())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(text: &str) -> Result<McpServerConfig, SchemaError> {
        let table: toml::Table = toml::from_str(text).unwrap();
        McpServerConfig::from_toml("demo", &toml::Value::Table(table))
    }

    fn error(text: &str) -> String {
        server(text).unwrap_err().to_string()
    }

    #[test]
    fn server_names_follow_codex() {
        for ok in [
            "a",
            "docs",
            "my-tool_2",
            "A-Z",
            "a.b",
            "npm:@x/y.v1",
            ":@/.",
        ] {
            assert!(validate_server_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "with space", "é", "a!b"] {
            let err = validate_server_name(bad).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "invalid server name '{bad}' (use letters, numbers, '-', '_', ':', '@', '/', '.')"
                )
            );
        }
    }

    #[test]
    fn every_field_is_read() {
        let s = server(
            r#"
            command = "srv"
            args = ["-v"]
            env = { K = "v" }
            env_vars = ["A", { name = "B", source = "remote" }, { name = "C" }]
            cwd = "/tmp"
            startup_timeout_sec = 1.5
            startup_timeout_ms = 99
            tool_timeout_sec = 7
            enabled = false
            required = true
            supports_parallel_tool_calls = true
            default_tools_approval_mode = "prompt"
            tools = { t1 = { approval_mode = "approve" } }
            enabled_tools = ["t1", "t2"]
            disabled_tools = ["t2"]
            scopes = []
            experimental_environment = "remote"
            name = "Legacy"
            trust_level = "trusted"
            "#,
        )
        .unwrap();
        assert_eq!(s.transport_kind(), TransportKind::Stdio);
        assert_eq!(s.command.as_deref(), Some("srv"));
        assert_eq!(s.args, ["-v"]);
        assert_eq!(s.env.as_ref().unwrap()["K"], "v");
        assert_eq!(
            s.env_vars,
            vec![
                McpEnvVar::Name("A".into()),
                McpEnvVar::Config {
                    name: "B".into(),
                    source: Some(EnvVarSource::Remote)
                },
                McpEnvVar::Config {
                    name: "C".into(),
                    source: None
                },
            ]
        );
        assert_eq!(s.cwd.as_deref(), Some(std::path::Path::new("/tmp")));
        assert_eq!(s.startup_timeout(), std::time::Duration::from_millis(1500));
        assert_eq!(s.tool_timeout(), std::time::Duration::from_secs(7));
        assert!(!s.enabled && s.required && s.supports_parallel_tool_calls);
        assert_eq!(s.tool_approval_mode("t1"), ToolApprovalMode::Approve);
        assert_eq!(s.tool_approval_mode("t9"), ToolApprovalMode::Prompt);
        assert_eq!(s.scopes, Some(vec![]));
        assert_eq!(
            s.experimental_environment,
            Some(ExperimentalEnvironment::Remote)
        );
        assert_eq!(s.name.as_deref(), Some("Legacy"));
        // Unknown keys are ignored but kept for plugins.
        assert_eq!(s.to_json()["trust_level"], "trusted");

        let http = server(
            r#"
            url = "http://127.0.0.1:1/mcp"
            bearer_token_env_var = "TOK"
            http_headers = { X = "1" }
            env_http_headers = { Y = "ENV_Y" }
            oauth_resource = "https://r"
            "#,
        )
        .unwrap();
        assert_eq!(http.transport_kind(), TransportKind::StreamableHttp);
        assert_eq!(http.bearer_token_env_var.as_deref(), Some("TOK"));
        assert_eq!(http.http_headers.as_ref().unwrap()["X"], "1");
        assert_eq!(http.env_http_headers.as_ref().unwrap()["Y"], "ENV_Y");
        assert_eq!(http.oauth_resource.as_deref(), Some("https://r"));
        assert!(http.enabled);
        assert_eq!(http.startup_timeout(), DEFAULT_STARTUP_TIMEOUT);
        assert_eq!(http.tool_timeout(), DEFAULT_TOOL_TIMEOUT);
    }

    #[test]
    fn an_oauth_table_is_read_as_codex_reads_it() {
        let s = server(
            "url = 'http://h/mcp'\n[oauth]\nclient_id = 'cid'\nclient_secret = 's3cret'\ncallback_port = 5555\ncallback_url = 'http://127.0.0.1/cb'\nother = 1",
        )
        .unwrap();
        let oauth = s.oauth.clone().unwrap();
        assert_eq!(oauth.client_id.as_deref(), Some("cid"));
        assert_eq!(oauth.client_secret.as_deref(), Some("s3cret"));
        assert_eq!(oauth.callback_port, Some(5555));
        assert_eq!(oauth.callback_url.as_deref(), Some("http://127.0.0.1/cb"));
        assert!(!format!("{oauth:?}").contains("s3cret"));
        // The table reaches the transport plugin.
        assert_eq!(s.to_json()["oauth"]["client_id"], "cid");
        for (text, expected) in [
            (
                "url = 'http://h'\n[oauth]\nclient_secret = 's'",
                "mcp_servers.demo.oauth.client_secret: oauth.client_secret requires oauth.client_id",
            ),
            (
                "command = 'x'\n[oauth]\nclient_id = 'c'",
                "mcp_servers.demo.oauth: oauth is not supported for stdio",
            ),
            (
                "url = 'http://h'\n[oauth]\nclient_id = 5",
                "mcp_servers.demo.oauth.client_id: expected a string, found an integer",
            ),
            (
                "url = 'http://h'\n[oauth]\ncallback_port = 70000",
                "mcp_servers.demo.oauth.callback_port: invalid MCP OAuth callback port `70000`: port must be between 1 and 65535",
            ),
            (
                "url = 'http://h'\noauth = 'x'",
                "mcp_servers.demo.oauth: expected a table such as `{ client_id = \"...\" }`, found a string",
            ),
        ] {
            assert_eq!(error(text), expected, "{text}");
        }
    }

    #[test]
    fn legacy_millisecond_timeout_applies_when_seconds_are_absent() {
        let s = server("command = 'x'\nstartup_timeout_ms = 2500").unwrap();
        assert_eq!(s.startup_timeout(), std::time::Duration::from_millis(2500));
    }

    #[test]
    fn transport_mixing_uses_codex_texts() {
        assert_eq!(
            error("command = 'x'\nurl = 'http://h'"),
            "mcp_servers.demo.url: url is not supported for stdio"
        );
        for key in ["bearer_token_env_var", "oauth_resource"] {
            assert_eq!(
                error(&format!("command = 'x'\n{key} = 'v'")),
                format!("mcp_servers.demo.{key}: {key} is not supported for stdio")
            );
        }
        for key in ["http_headers", "env_http_headers"] {
            assert_eq!(
                error(&format!("command = 'x'\n{key} = {{ A = 'v' }}")),
                format!("mcp_servers.demo.{key}: {key} is not supported for stdio")
            );
        }
        assert_eq!(
            error("url = 'http://h'\nargs = []"),
            "mcp_servers.demo.args: args is not supported for streamable_http"
        );
        assert_eq!(
            error("url = 'http://h'\nenv = {}"),
            "mcp_servers.demo.env: env is not supported for streamable_http"
        );
        assert_eq!(
            error("url = 'http://h'\nenv_vars = ['A']"),
            "mcp_servers.demo.env_vars: env_vars is not supported for streamable_http"
        );
        assert_eq!(
            error("url = 'http://h'\ncwd = '/'"),
            "mcp_servers.demo.cwd: cwd is not supported for streamable_http"
        );
        assert!(error("enabled = true").starts_with("mcp_servers.demo: invalid transport"));
        assert_eq!(
            error("command = 'x'\nbearer_token = 'secret'"),
            "mcp_servers.demo uses unsupported `bearer_token`; set `bearer_token_env_var`."
        );
    }

    #[test]
    fn type_errors_name_the_key_and_never_the_value() {
        let cases = [
            (
                "command = 1",
                "mcp_servers.demo.command: expected a string, found an integer",
            ),
            (
                "command = 'x'\nargs = 'secret-arg'",
                "mcp_servers.demo.args: expected an array of strings, found a string",
            ),
            (
                "command = 'x'\nargs = ['a', 2]",
                "mcp_servers.demo.args[1]: expected a string, found an integer",
            ),
            (
                "command = 'x'\nenv = 'TOKEN=secret'",
                "mcp_servers.demo.env: expected a table of strings, found a string",
            ),
            (
                "command = 'x'\nenv = { PORT = 1 }",
                "mcp_servers.demo.env.PORT: expected a string, found an integer",
            ),
            (
                "command = 'x'\nenabled = 'yes'",
                "mcp_servers.demo.enabled: expected a boolean (true or false), found a string",
            ),
            (
                "command = 'x'\nstartup_timeout_sec = 'long'",
                "mcp_servers.demo.startup_timeout_sec: expected a number of seconds, found a string",
            ),
            (
                "command = 'x'\ntool_timeout_sec = -1",
                "mcp_servers.demo.tool_timeout_sec: expected a non-negative number of seconds, found -1",
            ),
            (
                "command = 'x'\nstartup_timeout_ms = -5",
                "mcp_servers.demo.startup_timeout_ms: expected a non-negative number of milliseconds, found -5",
            ),
            (
                "command = 'x'\nenv_vars = [{ name = 'A', source = 'cloud' }]",
                "mcp_servers.demo.env_vars[0].source: unsupported env_vars source `cloud`; expected `local` or `remote`",
            ),
            (
                "command = 'x'\nenv_vars = [{ source = 'local' }]",
                "mcp_servers.demo.env_vars[0]: missing `name` (the environment variable to forward)",
            ),
            (
                "command = 'x'\nexperimental_environment = 'mars'",
                "mcp_servers.demo.experimental_environment: unsupported experimental_environment `mars`; expected `local` or `remote`",
            ),
            (
                "command = 'x'\ndefault_tools_approval_mode = 'never'",
                "mcp_servers.demo.default_tools_approval_mode: expected one of `auto`, `prompt`, `approve`, found `never`",
            ),
            (
                "command = 'x'\ntools = { t = { approval_mode = 1 } }",
                "mcp_servers.demo.tools.t.approval_mode: expected one of `auto`, `prompt`, `approve`, found an integer",
            ),
            (
                "command = 'x'\nenabled_tools = 'a'",
                "mcp_servers.demo.enabled_tools: expected an array of strings, found a string",
            ),
            (
                "transport = ''",
                "mcp_servers.demo.transport: expected the name of a transport plugin, found an empty string",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(error(text), expected, "{text}");
        }
        let not_table = McpServerConfig::from_toml("demo", &toml::Value::String("x".into()))
            .unwrap_err()
            .to_string();
        assert_eq!(
            not_table,
            "mcp_servers.demo: expected a table, found a string"
        );
    }

    #[test]
    fn plugin_transport_needs_neither_command_nor_url_and_keeps_its_options() {
        let s = server(
            "transport = 'websocket'\nendpoint = 'ws://127.0.0.1:9/'\nurl = 'ws://x'\nargs = ['a']",
        )
        .unwrap();
        assert_eq!(
            s.transport_kind(),
            TransportKind::Plugin("websocket".into())
        );
        let json = s.to_json();
        assert_eq!(json["endpoint"], "ws://127.0.0.1:9/");
        assert_eq!(json["transport"], "websocket");
        assert_eq!(json["args"], serde_json::json!(["a"]));
    }

    #[test]
    fn tool_filter_applies_allow_list_then_deny_list() {
        let none = server("command = 'x'").unwrap();
        assert!(none.tool_allowed("anything"));
        let allow = server("command = 'x'\nenabled_tools = ['a', 'b']").unwrap();
        assert!(allow.tool_allowed("a"));
        assert!(!allow.tool_allowed("c"));
        let deny = server("command = 'x'\ndisabled_tools = ['b']").unwrap();
        assert!(deny.tool_allowed("a"));
        assert!(!deny.tool_allowed("b"));
        let both =
            server("command = 'x'\nenabled_tools = ['a', 'b']\ndisabled_tools = ['b']").unwrap();
        assert!(both.tool_allowed("a"));
        assert!(!both.tool_allowed("b"));
        assert!(!both.tool_allowed("c"));
        let empty = server("command = 'x'\nenabled_tools = []").unwrap();
        assert!(!empty.tool_allowed("a"));
    }

    #[test]
    fn debug_output_masks_secrets() {
        let s = server("command = 'x'\nenv = { TOKEN = 'hunter2' }").unwrap();
        let debug = format!("{s:?}");
        assert!(debug.contains("TOKEN=*****"), "{debug}");
        assert!(!debug.contains("hunter2"));
    }
}
