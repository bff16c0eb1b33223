//! `codex mcp add` and `codex mcp remove`: changing one `[mcp_servers.NAME]`
//! in the user's config.toml (or a trusted project's) and nothing else.

use std::collections::BTreeMap;
use std::path::Path;

use toml_edit::{Array, DocumentMut, Item, Table, Value, value};

use crate::edit::file::edit_config_file;
use crate::error::ConfigError;
use crate::key_path::KeyPath;
use crate::layers::CONFIG_FILE_NAME;
use crate::mcp::{McpOAuthClient, validate_server_name};
use crate::span::{SpanTarget, locate_in_text};

/// The fields `codex mcp add` sets; everything else keeps its default.
#[derive(Clone, PartialEq, Eq)]
pub enum NewMcpServer {
    /// `codex mcp add NAME [--env K=V]... -- COMMAND [ARGS]...`
    Stdio {
        /// The program.
        command: String,
        /// Its arguments.
        args: Vec<String>,
        /// Literal environment values (written to the file; never printed).
        env: BTreeMap<String, String>,
    },
    /// `codex mcp add NAME --url URL [--bearer-token-env-var VAR] [--header K:V]...
    /// [--oauth-resource R] [--oauth-client-id ID [--oauth-client-secret ...]]`
    StreamableHttp {
        /// The endpoint.
        url: String,
        /// Environment variable holding a bearer token.
        bearer_token_env_var: Option<String>,
        /// Static headers (written to the file; never printed).
        http_headers: BTreeMap<String, String>,
        /// Header name to the environment variable holding its value.
        env_http_headers: BTreeMap<String, String>,
        /// The RFC 8707 resource of its OAuth tokens.
        oauth_resource: Option<String>,
        /// A pre-registered OAuth client (`[oauth]`; the secret is written
        /// to the file, as Codex does, and never printed).
        oauth: Option<McpOAuthClient>,
    },
}

impl std::fmt::Debug for NewMcpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Env and header values are secrets: show their keys only.
        match self {
            Self::Stdio { command, args, env } => f
                .debug_struct("Stdio")
                .field("command", command)
                .field("args", args)
                .field("env", &env.keys().collect::<Vec<_>>())
                .finish(),
            Self::StreamableHttp {
                url,
                bearer_token_env_var,
                http_headers,
                env_http_headers,
                oauth_resource,
                oauth,
            } => f
                .debug_struct("StreamableHttp")
                .field("url", url)
                .field("bearer_token_env_var", bearer_token_env_var)
                .field("http_headers", &http_headers.keys().collect::<Vec<_>>())
                .field("env_http_headers", env_http_headers)
                .field("oauth_resource", oauth_resource)
                .field("oauth", oauth)
                .finish(),
        }
    }
}

/// The settings `codex mcp add` may write beside the transport; the
/// defaults write nothing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewServerSettings {
    /// `startup_timeout_sec`.
    pub startup_timeout_sec: Option<f64>,
    /// `tool_timeout_sec`.
    pub tool_timeout_sec: Option<f64>,
    /// `enabled_tools`: the allow-list of raw tool names.
    pub enabled_tools: Option<Vec<String>>,
    /// `disabled_tools`: the deny-list of raw tool names.
    pub disabled_tools: Option<Vec<String>>,
    /// `enabled = false` when set.
    pub disabled: bool,
}

impl NewServerSettings {
    fn check(&self, name: &str) -> Result<(), ConfigError> {
        for (flag, seconds) in [
            ("--startup-timeout", self.startup_timeout_sec),
            ("--tool-timeout", self.tool_timeout_sec),
        ] {
            if seconds.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
                return Err(ConfigError::InvalidNewServer {
                    name: name.to_string(),
                    message: format!("{flag} must be a positive number of seconds"),
                });
            }
        }
        for (flag, tools) in [
            ("--enabled-tools", &self.enabled_tools),
            ("--disabled-tools", &self.disabled_tools),
        ] {
            if tools.iter().flatten().any(|tool| tool.trim().is_empty()) {
                return Err(ConfigError::InvalidNewServer {
                    name: name.to_string(),
                    message: format!(
                        "{flag} has an empty tool name; give names separated by commas"
                    ),
                });
            }
        }
        Ok(())
    }

    fn write_into(&self, table: &mut Table) {
        for (key, seconds) in [
            ("startup_timeout_sec", self.startup_timeout_sec),
            ("tool_timeout_sec", self.tool_timeout_sec),
        ] {
            if let Some(seconds) = seconds {
                table.insert(key, value(seconds));
            }
        }
        for (key, tools) in [
            ("enabled_tools", &self.enabled_tools),
            ("disabled_tools", &self.disabled_tools),
        ] {
            if let Some(tools) = tools {
                let array: Array = tools.iter().map(String::as_str).collect();
                table.insert(key, Item::Value(Value::Array(array)));
            }
        }
        if self.disabled {
            table.insert("enabled", value(false));
        }
    }
}

/// What [`add_mcp_server`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddOutcome {
    /// There was no server of that name in the user file.
    Added,
    /// The user file's server of that name was replaced.
    Replaced,
}

impl NewMcpServer {
    fn check(&self, name: &str) -> Result<(), ConfigError> {
        let invalid = |message: &str| ConfigError::InvalidNewServer {
            name: name.to_string(),
            message: message.to_string(),
        };
        match self {
            Self::Stdio { command, env, .. } => {
                if command.trim().is_empty() {
                    return Err(invalid("the command is empty; give it after `--`"));
                }
                if env.keys().any(|key| key.trim().is_empty()) {
                    return Err(ConfigError::InvalidEnvPair);
                }
            }
            Self::StreamableHttp {
                url,
                bearer_token_env_var,
                http_headers,
                env_http_headers,
                oauth,
                ..
            } => {
                if url.trim().is_empty() {
                    return Err(invalid("the URL is empty"));
                }
                if bearer_token_env_var
                    .as_ref()
                    .is_some_and(|var| var.trim().is_empty())
                {
                    return Err(invalid(
                        "--bearer-token-env-var is empty; give the name of an environment variable",
                    ));
                }
                for (header, value) in http_headers {
                    check_header(header, value)?;
                }
                for (header, var) in env_http_headers {
                    check_header(header, "")?;
                    if var.trim().is_empty() {
                        return Err(invalid(&format!(
                            "--env-header {header}= names no environment variable; give it as {header}=VAR"
                        )));
                    }
                }
                if let Some(oauth) = oauth {
                    if oauth
                        .client_id
                        .as_ref()
                        .is_none_or(|id| id.trim().is_empty())
                    {
                        return Err(invalid(
                            "--oauth-client-id is empty; give the client ID registered with the authorization server",
                        ));
                    }
                    if oauth.client_secret.as_ref().is_some_and(String::is_empty) {
                        return Err(invalid("--oauth-client-secret must not be empty"));
                    }
                }
            }
        }
        Ok(())
    }

    /// The table Codex writes for this server: `command`, `args`, `[env]`
    /// for stdio; `url`, `bearer_token_env_var`, `[http_headers]`,
    /// `oauth_resource`, `[oauth]` for HTTP. Empty lists and maps are left out.
    fn to_table(&self) -> Table {
        let mut table = Table::new();
        match self {
            Self::Stdio { command, args, env } => {
                table.insert("command", value(command.as_str()));
                if !args.is_empty() {
                    let array: Array = args.iter().map(String::as_str).collect();
                    table.insert("args", Item::Value(Value::Array(array)));
                }
                if !env.is_empty() {
                    table.insert("env", Item::Table(string_table(env)));
                }
            }
            Self::StreamableHttp {
                url,
                bearer_token_env_var,
                http_headers,
                env_http_headers,
                oauth_resource,
                oauth,
            } => {
                table.insert("url", value(url.as_str()));
                if let Some(var) = bearer_token_env_var {
                    table.insert("bearer_token_env_var", value(var.as_str()));
                }
                if !http_headers.is_empty() {
                    table.insert("http_headers", Item::Table(string_table(http_headers)));
                }
                if !env_http_headers.is_empty() {
                    let headers = string_table(env_http_headers);
                    table.insert("env_http_headers", Item::Table(headers));
                }
                if let Some(resource) = oauth_resource {
                    table.insert("oauth_resource", value(resource.as_str()));
                }
                if let Some(oauth) = oauth {
                    let mut client = Table::new();
                    let port = oauth.callback_port.map(i64::from);
                    for (key, text) in [
                        ("client_id", &oauth.client_id),
                        ("client_secret", &oauth.client_secret),
                    ] {
                        if let Some(text) = text {
                            client.insert(key, value(text.as_str()));
                        }
                    }
                    if let Some(port) = port {
                        client.insert("callback_port", value(port));
                    }
                    if let Some(url) = &oauth.callback_url {
                        client.insert("callback_url", value(url.as_str()));
                    }
                    table.insert("oauth", Item::Table(client));
                }
            }
        }
        table
    }
}

fn string_table(map: &BTreeMap<String, String>) -> Table {
    let mut table = Table::new();
    for (key, val) in map {
        table.insert(key, value(val.as_str()));
    }
    table
}

/// Adds (or replaces) `[mcp_servers.NAME]` in `$CODEX_HOME/config.toml`.
///
/// Only the user file is read and written: servers from the system or
/// managed layers are never copied into it. Everything else in the file
/// (comments, order, formatting) stays byte for byte. A server of the same
/// name in the user file is replaced where it stands, in the style it was
/// written in (a `[table]`, dotted keys or an inline table). The edit is
/// locked, atomic and keeps the file's mode (see
/// [`crate::edit::edit_config_file`]); `CODEX_HOME` is created (0700) if it
/// does not exist.
pub fn add_mcp_server(
    codex_home: &Path,
    name: &str,
    server: NewMcpServer,
) -> Result<AddOutcome, ConfigError> {
    let config_file = codex_home.join(CONFIG_FILE_NAME);
    add_mcp_server_to(&config_file, name, server, &NewServerSettings::default())
}

/// [`add_mcp_server`] into any config file (the user's, or a trusted
/// project's `.codex/config.toml`), with `settings` beside the transport.
pub fn add_mcp_server_to(
    config_file: &Path,
    name: &str,
    server: NewMcpServer,
    settings: &NewServerSettings,
) -> Result<AddOutcome, ConfigError> {
    validate_server_name(name)?;
    server.check(name)?;
    settings.check(name)?;
    let mut entry = server.to_table();
    settings.write_into(&mut entry);
    edit_config_file(config_file, |doc| {
        insert_server(doc, config_file, name, entry)
    })
}

/// Removes `[mcp_servers.NAME]` from `$CODEX_HOME/config.toml`; `false`
/// when the user file has no such server (then nothing is written).
///
/// A server defined only in the system or managed layer is not in the user
/// file, so it is not removed (and `false` is returned).
pub fn remove_mcp_server(codex_home: &Path, name: &str) -> Result<bool, ConfigError> {
    remove_mcp_server_from(&codex_home.join(CONFIG_FILE_NAME), name)
}

/// [`remove_mcp_server`] from any config file.
pub fn remove_mcp_server_from(config_file: &Path, name: &str) -> Result<bool, ConfigError> {
    if !config_file.exists() && std::fs::symlink_metadata(config_file).is_err() {
        return Ok(false);
    }
    edit_config_file(config_file, |doc| Ok(remove_server(doc, name)))
}

fn insert_server(
    doc: &mut DocumentMut,
    config_file: &Path,
    name: &str,
    entry: Table,
) -> Result<AddOutcome, ConfigError> {
    // Before any change, the document renders to the file's text.
    let original = doc.to_string();
    let root = doc.as_table_mut();
    let Some(servers) = root.get_mut("mcp_servers") else {
        let mut servers = Table::new();
        servers.set_implicit(true);
        servers.insert(name, Item::Table(entry));
        root.insert("mcp_servers", Item::Table(servers));
        return Ok(AddOutcome::Added);
    };
    match servers {
        Item::Table(servers) => {
            if let Some(existing) = servers.get_mut(name) {
                replace_entry(existing, entry);
                return Ok(AddOutcome::Replaced);
            }
            let mut entry = entry;
            if servers.is_dotted() {
                make_dotted(&mut entry);
            }
            servers.insert(name, Item::Table(entry));
            Ok(AddOutcome::Added)
        }
        Item::Value(Value::InlineTable(servers)) => {
            let inline = entry.into_inline_table();
            match servers.get_mut(name) {
                Some(existing) => {
                    let decor = existing.decor().clone();
                    *existing = Value::InlineTable(inline);
                    *existing.decor_mut() = decor;
                    Ok(AddOutcome::Replaced)
                }
                None => {
                    servers.insert(name, Value::InlineTable(inline));
                    Ok(AddOutcome::Added)
                }
            }
        }
        other => {
            let key = KeyPath::from_keys(["mcp_servers"]);
            Err(ConfigError::Invalid {
                location: locate_in_text(config_file, &original, &key, SpanTarget::Value),
                key,
                message: format!(
                    "expected a table of servers, found {}; fix or remove it, then add the server again",
                    describe_item(other)
                ),
            })
        }
    }
}

/// "an integer", "a string", "an array of tables", … for messages.
pub(crate) fn describe_item(item: &Item) -> String {
    let name = match item {
        Item::ArrayOfTables(_) => "array of tables",
        other => other.type_name(),
    };
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

/// Puts `entry` where `existing` is, keeping its comments, position and
/// style (standard table, dotted keys or inline table).
fn replace_entry(existing: &mut Item, mut entry: Table) {
    match existing {
        Item::Table(old) => {
            if old.is_dotted() {
                make_dotted(&mut entry);
            } else {
                entry.set_position(old.position());
            }
            *entry.decor_mut() = old.decor().clone();
            *existing = Item::Table(entry);
        }
        Item::Value(old) => {
            let decor = old.decor().clone();
            let mut inline = Value::InlineTable(entry.into_inline_table());
            *inline.decor_mut() = decor;
            *existing = Item::Value(inline);
        }
        Item::None | Item::ArrayOfTables(_) => *existing = Item::Table(entry),
    }
}

fn make_dotted(table: &mut Table) {
    table.set_dotted(true);
    for (_, item) in table.iter_mut() {
        if let Item::Table(inner) = item {
            make_dotted(inner);
        }
    }
}

fn remove_server(doc: &mut DocumentMut, name: &str) -> bool {
    let root = doc.as_table_mut();
    let Some(servers) = root.get_mut("mcp_servers") else {
        return false;
    };
    let removed = match servers {
        Item::Table(servers) => servers.remove(name).is_some(),
        Item::Value(Value::InlineTable(servers)) => servers.remove(name).is_some(),
        _ => false,
    };
    // A `mcp_servers` that existed only to hold this server goes with it;
    // one the user wrote as `[mcp_servers]` stays.
    let now_empty_and_unwritten = match servers {
        Item::Table(servers) => {
            servers.is_empty() && (servers.is_implicit() || servers.is_dotted())
        }
        _ => false,
    };
    if removed && now_empty_and_unwritten {
        root.remove("mcp_servers");
    }
    removed
}

/// Parses an `--env KEY=VALUE` argument (Codex's rule: split on the first
/// `=`, the key is trimmed and must not be empty; the value is kept as is).
pub fn parse_env_pair(raw: &str) -> Result<(String, String), ConfigError> {
    let (key, val) = raw.split_once('=').ok_or(ConfigError::InvalidEnvPair)?;
    let key = key.trim();
    if key.is_empty() {
        return Err(ConfigError::InvalidEnvPair);
    }
    Ok((key.to_string(), val.to_string()))
}

/// Parses a `--header` argument: `NAME: VALUE` or `NAME=VALUE` (split on
/// whichever of `:` and `=` comes first; both sides trimmed). The name must
/// be an HTTP token; the value must not contain line breaks. Errors never
/// include the value.
pub fn parse_header(raw: &str) -> Result<(String, String), ConfigError> {
    let Some(at) = raw.find([':', '=']) else {
        return Err(ConfigError::InvalidHeader {
            reason: "expected `NAME: VALUE` or `NAME=VALUE`".to_string(),
        });
    };
    let name = raw[..at].trim();
    let val = raw[at + 1..].trim();
    check_header(name, val)?;
    Ok((name.to_string(), val.to_string()))
}

fn check_header(name: &str, val: &str) -> Result<(), ConfigError> {
    if name.is_empty() {
        return Err(ConfigError::InvalidHeader {
            reason: "the header name is empty; expected `NAME: VALUE` or `NAME=VALUE`".to_string(),
        });
    }
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if !name.chars().all(is_token_char) {
        return Err(ConfigError::InvalidHeader {
            reason: format!(
                "`{}` is not a valid header name (use letters, digits and !#$%&'*+-.^_`|~)",
                name.escape_debug()
            ),
        });
    }
    if val.contains(['\r', '\n', '\0']) {
        return Err(ConfigError::InvalidHeader {
            reason: format!("the value of header `{name}` contains a line break or NUL"),
        });
    }
    Ok(())
}
