//! Text and JSON for `codex mcp list` and `codex mcp get`, with Codex's
//! layout. Secrets are always masked: env values and static header values
//! print as `*****` in text and in JSON (Codex shows them in its JSON).
//!
//! Every text function returns whole lines, each ending in `\n`: print it
//! with `print!`. JSON values are printed with [`to_pretty_json`].

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::layers::LayerKind;
use crate::mask::MASK;
use crate::mcp::{McpEnvVar, McpServerConfig, ServerSandbox, TransportKind};

/// Printed by `codex mcp list` when no server is configured (Codex's text).
pub const EMPTY_LIST_MESSAGE: &str =
    "No MCP servers configured yet. Try `codex mcp add my-tool -- my-command`.";

/// `Added global MCP server '{name}'.`
pub fn added_message(name: &str) -> String {
    format!("Added global MCP server '{name}'.")
}

/// `Removed global MCP server '{name}'.`
pub fn removed_message(name: &str) -> String {
    format!("Removed global MCP server '{name}'.")
}

/// `No MCP server named '{name}' found.` (remove exits 0 with it; get
/// exits 1).
pub fn not_found_message(name: &str) -> String {
    format!("No MCP server named '{name}' found.")
}

/// How Codex 0.169 shows a configured `http_headers_helper`.
const HELPER_MASK: &str = "<redacted>";

/// How a server authenticates, as `codex mcp list` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthStatus {
    /// No authentication applies (stdio, disabled, or no OAuth found).
    Unsupported,
    /// The server supports OAuth and no token is stored.
    NotLoggedIn,
    /// A bearer token (env var or `Authorization` header) is configured.
    BearerToken,
    /// OAuth tokens are stored.
    OAuth,
    /// It could not be found out: discovery failed or the server did not
    /// answer, the stored credentials cannot be read, or a headers helper
    /// (not run just to list) supplies the credentials.
    Unknown,
}

impl fmt::Display for AuthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unsupported => "Unsupported",
            Self::NotLoggedIn => "Not logged in",
            Self::BearerToken => "Bearer token",
            Self::OAuth => "OAuth",
            Self::Unknown => "Unknown",
        })
    }
}

/// `value` as Codex prints JSON: pretty, with a final newline.
pub fn to_pretty_json(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_string());
    text.push('\n');
    text
}

/// `codex mcp list`: the stdio table, a blank line, the streamable HTTP
/// table, then (ours) the transport-plugin table; each only when it has
/// rows. A server missing from `auth` shows `Unsupported`.
pub fn list_text(
    servers: &BTreeMap<String, McpServerConfig>,
    auth: &BTreeMap<String, AuthStatus>,
) -> String {
    if servers.is_empty() {
        return format!("{EMPTY_LIST_MESSAGE}\n");
    }
    // Codex's columns, a Sandbox column when a stdio server has one, and a
    // Layer column when a server comes from a file other than the user's.
    let sandboxed = servers.values().any(|server| server.sandbox.is_some());
    let layered = servers
        .values()
        .any(|server| server.layer.is_some_and(|layer| layer != LayerKind::User));
    let header = |cells: &[&str], sandbox: bool| {
        let mut header: Vec<String> = cells.iter().map(|cell| cell.to_string()).collect();
        if sandbox {
            header.push("Sandbox".to_string());
        }
        if layered {
            header.push("Layer".to_string());
        }
        vec![header]
    };
    let mut stdio = header(
        &["Name", "Command", "Args", "Env", "Cwd", "Status", "Auth"],
        sandboxed,
    );
    let mut http = header(
        &["Name", "Url", "Bearer Token Env Var", "Status", "Auth"],
        false,
    );
    let mut plugin = header(&["Name", "Transport", "Status", "Auth"], false);
    for (name, server) in servers {
        let status = status_text(server);
        let auth = auth_for(auth, name).to_string();
        let (table, mut cells) = match server.transport_kind() {
            TransportKind::Stdio => {
                let mut cells = vec![
                    name.clone(),
                    server.command.clone().unwrap_or_default(),
                    dash_if_empty(server.args.join(" ")),
                    env_display(server),
                    cwd_display(server),
                    status,
                    auth,
                ];
                if sandboxed {
                    cells.push(
                        server
                            .sandbox
                            .as_ref()
                            .map_or("-".into(), |s| s.mode.clone()),
                    );
                }
                (&mut stdio, cells)
            }
            TransportKind::StreamableHttp => (
                &mut http,
                vec![
                    name.clone(),
                    server.url.clone().unwrap_or_default(),
                    server
                        .bearer_token_env_var
                        .clone()
                        .unwrap_or_else(|| "-".to_string()),
                    status,
                    auth,
                ],
            ),
            TransportKind::Plugin(transport) => {
                (&mut plugin, vec![name.clone(), transport, status, auth])
            }
        };
        if layered {
            cells.push(layer_label(server).to_string());
        }
        table.push(cells);
    }
    [stdio, http, plugin]
        .iter()
        .filter(|table| table.len() > 1)
        .map(|table| render_table(table))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `codex mcp list --json`: Codex's array shape, masked.
pub fn list_json(
    servers: &BTreeMap<String, McpServerConfig>,
    auth: &BTreeMap<String, AuthStatus>,
) -> Value {
    Value::Array(
        servers
            .iter()
            .map(|(name, server)| {
                with_layer(server, json!({
                    "name": name,
                    "enabled": server.enabled,
                    "disabled_reason": server.disabled_reason,
                    "transport": transport_json(server),
                    "startup_timeout_sec": server.startup_timeout_override().map(|d| d.as_secs_f64()),
                    "tool_timeout_sec": server.tool_timeout_override().map(|d| d.as_secs_f64()),
                    "auth_status": auth_for(auth, name),
                }))
            })
            .collect(),
    )
}

/// `codex mcp get NAME`: Codex's indented listing plus an `auth:` line (the
/// Auth column of `mcp list`), or one line for a disabled server
/// (`NAME (disabled)` / `NAME (disabled: REASON)`).
pub fn get_text(name: &str, server: &McpServerConfig, auth: AuthStatus) -> String {
    if !server.enabled {
        return match &server.disabled_reason {
            Some(reason) => format!("{name} (disabled: {reason})\n"),
            None => format!("{name} (disabled)\n"),
        };
    }
    let mut lines = vec![name.to_string(), "  enabled: true".to_string()];
    if let Some(tools) = &server.enabled_tools {
        lines.push(format!("  enabled_tools: {}", tool_list(tools)));
    }
    if let Some(tools) = &server.disabled_tools {
        lines.push(format!("  disabled_tools: {}", tool_list(tools)));
    }
    match server.transport_kind() {
        TransportKind::Stdio => {
            lines.push("  transport: stdio".to_string());
            lines.push(format!(
                "  command: {}",
                server.command.as_deref().unwrap_or_default()
            ));
            lines.push(format!("  args: {}", dash_if_empty(server.args.join(" "))));
            lines.push(format!("  cwd: {}", cwd_display(server)));
            lines.push(format!("  env: {}", env_display(server)));
            if let Some(sandbox) = &server.sandbox {
                lines.push(format!("  sandbox: {}", sandbox_display(sandbox)));
            }
        }
        TransportKind::StreamableHttp => {
            lines.push("  transport: streamable_http".to_string());
            lines.push(format!(
                "  url: {}",
                server.url.as_deref().unwrap_or_default()
            ));
            lines.push(format!(
                "  bearer_token_env_var: {}",
                server.bearer_token_env_var.as_deref().unwrap_or("-")
            ));
            lines.push(format!(
                "  http_headers: {}",
                pairs_display(server.http_headers.as_ref(), |_| MASK.to_string())
            ));
            lines.push(format!(
                "  env_http_headers: {}",
                pairs_display(server.env_http_headers.as_ref(), |var| var.to_string())
            ));
            lines.push(format!(
                "  http_headers_helper: {}",
                server
                    .http_headers_helper
                    .as_ref()
                    .map_or("-", |_| HELPER_MASK)
            ));
        }
        TransportKind::Plugin(transport) => {
            lines.push(format!("  transport: {transport}"));
        }
    }
    if let Some(timeout) = server.startup_timeout_override() {
        lines.push(format!("  startup_timeout_sec: {}", timeout.as_secs_f64()));
    }
    if let Some(timeout) = server.tool_timeout_override() {
        lines.push(format!("  tool_timeout_sec: {}", timeout.as_secs_f64()));
    }
    if let Some(mode) = server.default_tools_approval_mode {
        lines.push(format!("  default_tools_approval_mode: {}", mode.as_str()));
    }
    lines.push(format!("  auth: {auth}"));
    // Codex's lines stop here for a server of the user file.
    match server.layer {
        Some(LayerKind::User) | None => {
            lines.push(format!("  remove: codex mcp remove {name}"));
        }
        Some(LayerKind::Project) => {
            lines.push("  layer: project".to_string());
            lines.push(format!("  remove: codex mcp remove --scope project {name}"));
        }
        Some(layer) => lines.push(format!("  layer: {layer}")),
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// `codex mcp get NAME --json`: Codex's object shape, masked, plus
/// `auth_status` as in `mcp list --json`.
pub fn get_json(name: &str, server: &McpServerConfig, auth: AuthStatus) -> Value {
    with_layer(
        server,
        json!({
            "name": name,
            "enabled": server.enabled,
            "disabled_reason": server.disabled_reason,
            "transport": transport_json(server),
            "enabled_tools": server.enabled_tools,
            "disabled_tools": server.disabled_tools,
            "startup_timeout_sec": server.startup_timeout_override().map(|d| d.as_secs_f64()),
            "tool_timeout_sec": server.tool_timeout_override().map(|d| d.as_secs_f64()),
            "auth_status": auth,
        }),
    )
}

/// Adds `"layer"` to a server's JSON when it comes from a file other than
/// the user's; for the user's, the object stays exactly Codex's.
fn with_layer(server: &McpServerConfig, mut object: Value) -> Value {
    if let (Some(layer), Some(fields)) = (server.layer, object.as_object_mut())
        && layer != LayerKind::User
    {
        fields.insert(
            "layer".to_string(),
            Value::String(layer.label().to_string()),
        );
    }
    object
}

/// The layer a server comes from, for the Layer column (`-` for none).
fn layer_label(server: &McpServerConfig) -> &'static str {
    server.layer.map_or("-", LayerKind::label)
}

fn auth_for(auth: &BTreeMap<String, AuthStatus>, name: &str) -> AuthStatus {
    auth.get(name).copied().unwrap_or(AuthStatus::Unsupported)
}

/// Left-aligned columns as wide as their widest cell, two spaces apart;
/// like Codex, the last column is padded too.
pub fn render_table(rows: &[Vec<String>]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|col| {
            rows.iter()
                .map(|row| row.get(col).map_or(0, |cell| cell.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(&cells.join("  "));
        out.push('\n');
    }
    out
}

fn status_text(server: &McpServerConfig) -> String {
    match (server.enabled, &server.disabled_reason) {
        (true, _) => "enabled".to_string(),
        (false, Some(reason)) => format!("disabled: {reason}"),
        (false, None) => "disabled".to_string(),
    }
}

fn dash_if_empty(text: String) -> String {
    if text.is_empty() {
        "-".to_string()
    } else {
        text
    }
}

fn cwd_display(server: &McpServerConfig) -> String {
    dash_if_empty(
        server
            .cwd
            .as_ref()
            .map(|cwd| cwd.display().to_string())
            .unwrap_or_default(),
    )
}

/// Codex's `format_env_display`: `KEY=*****` for each `env` key (sorted),
/// then each `env_vars` name, joined by `, `; `-` when there is none.
fn env_display(server: &McpServerConfig) -> String {
    let mut parts: Vec<String> = server
        .env
        .iter()
        .flat_map(|env| env.keys())
        .map(|key| format!("{key}={MASK}"))
        .collect();
    parts.extend(
        server
            .env_vars
            .iter()
            .map(|var| format!("{}={MASK}", var.name())),
    );
    dash_if_empty(parts.join(", "))
}

fn pairs_display(map: Option<&BTreeMap<String, String>>, show: impl Fn(&str) -> String) -> String {
    let parts: Vec<String> = map
        .into_iter()
        .flatten()
        .map(|(key, value)| format!("{key}={}", show(value)))
        .collect();
    dash_if_empty(parts.join(", "))
}

fn tool_list(tools: &[String]) -> String {
    if tools.is_empty() {
        "[]".to_string()
    } else {
        tools.join(", ")
    }
}

fn masked_map(map: Option<&BTreeMap<String, String>>) -> Value {
    match map {
        Some(map) => Value::Object(
            map.keys()
                .map(|key| (key.clone(), Value::String(MASK.to_string())))
                .collect(),
        ),
        None => Value::Null,
    }
}

fn env_var_json(var: &McpEnvVar) -> Value {
    match var {
        McpEnvVar::Name(name) => Value::String(name.clone()),
        McpEnvVar::Config { name, source } => {
            let mut entry = serde_json::Map::new();
            entry.insert("name".to_string(), Value::String(name.clone()));
            if let Some(source) = source {
                entry.insert(
                    "source".to_string(),
                    Value::String(source.as_str().to_string()),
                );
            }
            Value::Object(entry)
        }
    }
}

/// `workspace-write (writable: /a, /b; network: off; from mcp_servers_sandbox)`.
fn sandbox_display(sandbox: &ServerSandbox) -> String {
    let mut details = Vec::new();
    if !sandbox.writable_roots.is_empty() {
        let roots: Vec<String> = sandbox
            .writable_roots
            .iter()
            .map(|root| root.display().to_string())
            .collect();
        details.push(format!("writable: {}", roots.join(", ")));
    }
    details.push(format!(
        "network: {}",
        if sandbox.network { "on" } else { "off" }
    ));
    if sandbox.from_default {
        details.push(format!("from {}", crate::sandbox::SERVERS_DEFAULT_KEY));
    }
    format!("{} ({})", sandbox.mode, details.join("; "))
}

fn transport_json(server: &McpServerConfig) -> Value {
    match server.transport_kind() {
        TransportKind::Stdio => {
            let mut transport = json!({
                "type": "stdio",
                "command": server.command,
                "args": server.args,
                "env": masked_map(server.env.as_ref()),
                "env_vars": server.env_vars.iter().map(env_var_json).collect::<Vec<_>>(),
                "cwd": server.cwd.as_ref().map(|cwd| cwd.display().to_string()),
            });
            // Only when there is one: a server without stays as Codex shows it.
            if let Some(sandbox) = &server.sandbox {
                transport["sandbox"] = json!({
                    "mode": sandbox.mode,
                    "writable_roots": sandbox.writable_roots,
                    "network": sandbox.network,
                    "from_default": sandbox.from_default,
                });
            }
            transport
        }
        TransportKind::StreamableHttp => json!({
            "type": "streamable_http",
            "url": server.url,
            "bearer_token_env_var": server.bearer_token_env_var,
            "http_headers": masked_map(server.http_headers.as_ref()),
            "env_http_headers": server.env_http_headers,
            // A command line may hold a secret: shown as Codex 0.169 shows it.
            "http_headers_helper": server.http_headers_helper.as_ref().map(|_| HELPER_MASK),
        }),
        TransportKind::Plugin(transport) => json!({ "type": transport }),
    }
}
