//! The MCP methods: `mcpServerStatus/list`, `config/mcpServer/reload`,
//! `mcpServer/tool/call`, `mcpServer/resource/read`. Sessions are opened on
//! first use and kept open, one per server, shared by every request of
//! the process; a reload closes them.

use std::collections::BTreeMap;
use std::sync::Arc;

use codex_config::{AuthStatus, McpServerConfig};
use codex_host::App;
use codex_mcp_client::auth;
use codex_mcp_client::client::ClientOptions;
use codex_mcp_client::session::Session;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use crate::protocol::{RpcError, notification, params, to_result};
use crate::server::{Answer, Server};

/// One server's session, or none yet; locked while it connects.
type Slot = Arc<Mutex<Option<Arc<Session>>>>;

/// The open sessions, by server name. Each slot has its own lock, so two
/// requests for one server share one connection and other servers do not
/// wait for it.
#[derive(Default)]
pub struct Connections {
    slots: std::sync::Mutex<BTreeMap<String, Slot>>,
}

impl Connections {
    fn slot(&self, name: &str) -> Slot {
        let mut slots = match self.slots.lock() {
            Ok(slots) => slots,
            Err(poisoned) => poisoned.into_inner(),
        };
        slots.entry(name.to_string()).or_default().clone()
    }

    /// Forgets every session and closes each one no request holds.
    pub async fn close_all(&self) {
        let slots = {
            let mut slots = match self.slots.lock() {
                Ok(slots) => slots,
                Err(poisoned) => poisoned.into_inner(),
            };
            std::mem::take(&mut *slots)
        };
        for (_, slot) in slots {
            if let Some(session) = slot.lock().await.take()
                && let Ok(session) = Arc::try_unwrap(session)
            {
                session.close().await;
            }
        }
    }

    /// Drops a session whose connection failed, so the next request
    /// connects anew.
    async fn forget(&self, name: &str) {
        let slot = self.slot(name);
        let taken = slot.lock().await.take();
        if let Some(session) = taken
            && let Ok(session) = Arc::try_unwrap(session)
        {
            session.close().await;
        }
    }
}

/// The open session of `name`, connecting it first if needed; the
/// `mcpServer/startupStatus/updated` notifications of a new connection
/// go to `server`'s client.
async fn session(
    server: &Server,
    app: &Arc<App>,
    name: &str,
    config: &McpServerConfig,
) -> Result<Arc<Session>, String> {
    let slot = server.connections.slot(name);
    let mut held = slot.lock().await;
    if let Some(session) = held.as_ref() {
        return Ok(session.clone());
    }
    server.notify(startup_status(name, McpServerStartupState::Starting, None));
    let connected = async {
        let host = server
            .host_context()
            .map_err(|error| format!("{error:#}"))?;
        let plugins = app.plugins().map_err(|error| format!("{error:#}"))?;
        Session::connect(name, config, plugins, &host, ClientOptions::quiet())
            .await
            .map_err(|error| format!("{error:#}"))
    }
    .await;
    match connected {
        Ok(session) => {
            server.notify(startup_status(name, McpServerStartupState::Ready, None));
            let session = Arc::new(session);
            *held = Some(session.clone());
            Ok(session)
        }
        Err(error) => {
            server.notify(startup_status(
                name,
                McpServerStartupState::Failed,
                Some(error.clone()),
            ));
            Err(error)
        }
    }
}

#[derive(Serialize, JsonSchema, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub(crate) enum McpServerStartupState {
    Starting,
    Ready,
    Failed,
}

/// A session of the server is being opened, is open, or failed to open.
#[derive(Serialize, JsonSchema)]
pub(crate) struct McpServerStatusUpdatedNotification {
    name: String,
    status: McpServerStartupState,
    /// Why it failed.
    error: Option<String>,
}

fn startup_status(name: &str, status: McpServerStartupState, error: Option<String>) -> Value {
    let params = McpServerStatusUpdatedNotification {
        name: name.to_string(),
        status,
        error,
    };
    notification("mcpServer/startupStatus/updated", params)
}

#[derive(Deserialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) enum McpServerStatusDetail {
    /// Tools, resources and resource templates.
    Full,
    ToolsAndAuthOnly,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListMcpServerStatusParams {
    /// The `nextCursor` of the previous page.
    #[serde(default)]
    cursor: Option<String>,
    /// The page size; none or 0 lists all.
    #[serde(default)]
    limit: Option<u32>,
    /// `full` when left out.
    #[serde(default)]
    detail: Option<McpServerStatusDetail>,
    /// Only this server.
    #[serde(default)]
    server_name: Option<String>,
}

/// As `codex mcp list` reports it.
#[derive(Serialize, JsonSchema, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub(crate) enum McpAuthStatus {
    Unknown,
    Unsupported,
    NotLoggedIn,
    BearerToken,
    #[serde(rename = "oAuth")]
    OAuth,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct McpServerInfo {
    name: String,
    version: String,
    title: Option<String>,
    description: Option<String>,
    website_url: Option<String>,
    /// Always null here.
    icons: Option<Vec<Value>>,
}

/// One configured server. A disabled one is listed without connecting.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct McpServerStatus {
    name: String,
    /// Always null: this host runs no threads.
    runtime_status: Option<Value>,
    /// Always null: no server here comes from a Codex plugin.
    plugin_id: Option<String>,
    /// `scheme://host[:port]` of an HTTP server's URL; null for stdio.
    http_origin: Option<String>,
    /// What the server said of itself when it initialized.
    server_info: Option<McpServerInfo>,
    /// The server's MCP capabilities.
    server_capabilities: Option<Value>,
    /// Always null here.
    tool_list_meta: Option<Value>,
    /// The MCP tools, by name.
    tools: Map<String, Value>,
    /// Why the tools could not be listed (or the server not started).
    tools_error: Option<String>,
    /// MCP resources (with `detail: full`).
    resources: Vec<Value>,
    /// MCP resource templates (with `detail: full`).
    resource_templates: Vec<Value>,
    auth_status: McpAuthStatus,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListMcpServerStatusResponse {
    data: Vec<McpServerStatus>,
    /// Null on the last page.
    next_cursor: Option<String>,
}

fn auth_status_name(status: AuthStatus) -> McpAuthStatus {
    match status {
        AuthStatus::Unsupported => McpAuthStatus::Unsupported,
        AuthStatus::NotLoggedIn => McpAuthStatus::NotLoggedIn,
        AuthStatus::BearerToken => McpAuthStatus::BearerToken,
        AuthStatus::OAuth => McpAuthStatus::OAuth,
        _ => McpAuthStatus::Unknown,
    }
}

/// Each server's auth status as `codex mcp list` reports it; `Unknown`
/// for those that need the plugins when these cannot be opened.
fn auth_statuses(
    server: &Server,
    app: &App,
    servers: &[(String, McpServerConfig)],
) -> BTreeMap<String, AuthStatus> {
    let servers: BTreeMap<String, McpServerConfig> = servers.iter().cloned().collect();
    auth::statuses(&servers, || {
        anyhow::Ok((server.host_context()?, app.plugins()?))
    })
    .unwrap_or_else(|_| {
        servers
            .iter()
            .map(|(name, config)| {
                let status = auth::status_from_config(config).unwrap_or(AuthStatus::Unknown);
                (name.clone(), status)
            })
            .collect()
    })
}

fn invalid_cursor(cursor: &str) -> RpcError {
    RpcError::invalid_request(format!(
        "invalid cursor: {cursor}; pass the nextCursor of the previous page"
    ))
}

pub async fn status_list(server: Arc<Server>, raw: Option<Value>) -> Answer {
    let asked: ListMcpServerStatusParams = params(raw)?;
    let app = server.app();
    let servers = app
        .servers()
        .map_err(|error| RpcError::internal(format!("{error:#}")))?;
    let mut selected: Vec<(String, McpServerConfig)> = servers
        .into_iter()
        .filter(|(name, _)| asked.server_name.as_ref().is_none_or(|only| only == name))
        .collect();
    let start = match &asked.cursor {
        None => 0,
        Some(cursor) => cursor
            .parse::<usize>()
            .map_err(|_| invalid_cursor(cursor))?,
    };
    if start > selected.len() {
        return Err(invalid_cursor(asked.cursor.as_deref().unwrap_or_default()));
    }
    let end = match asked.limit {
        Some(limit) if limit > 0 => selected.len().min(start.saturating_add(limit as usize)),
        _ => selected.len(),
    };
    let next = (end < selected.len()).then(|| end.to_string());
    selected.truncate(end);
    let page: Vec<(String, McpServerConfig)> = selected.split_off(start);

    let statuses = {
        let server = server.clone();
        let app = app.clone();
        let page = page.clone();
        tokio::task::spawn_blocking(move || auth_statuses(&server, &app, &page))
            .await
            .unwrap_or_default()
    };
    let full = asked.detail != Some(McpServerStatusDetail::ToolsAndAuthOnly);
    let mut tasks = tokio::task::JoinSet::new();
    for (index, (name, config)) in page.into_iter().enumerate() {
        let server = server.clone();
        let app = app.clone();
        let auth = statuses
            .get(&name)
            .copied()
            .unwrap_or(AuthStatus::Unsupported);
        tasks.spawn(async move {
            (
                index,
                describe_server(&server, &app, &name, &config, auth, full).await,
            )
        });
    }
    let mut described = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Ok(entry) = done {
            described.push(entry);
        }
    }
    described.sort_by_key(|(index, _)| *index);
    let data = described.into_iter().map(|(_, entry)| entry).collect();
    let answer = ListMcpServerStatusResponse {
        data,
        next_cursor: next,
    };
    Ok((to_result(&answer)?, Vec::new()))
}

async fn describe_server(
    server: &Server,
    app: &Arc<App>,
    name: &str,
    config: &McpServerConfig,
    auth: AuthStatus,
    full: bool,
) -> McpServerStatus {
    let mut entry = McpServerStatus {
        name: name.to_string(),
        runtime_status: None,
        plugin_id: None,
        http_origin: config.url.as_deref().and_then(http_origin),
        server_info: None,
        server_capabilities: None,
        tool_list_meta: None,
        tools: Map::new(),
        tools_error: None,
        resources: Vec::new(),
        resource_templates: Vec::new(),
        auth_status: auth_status_name(auth),
    };
    if !config.enabled {
        return entry;
    }
    let session = match session(server, app, name, config).await {
        Ok(session) => session,
        Err(error) => {
            entry.tools_error = Some(format!("MCP startup failed: {error}"));
            return entry;
        }
    };
    if let Some(info) = session.server_info() {
        entry.server_info = Some(McpServerInfo {
            name: info.name.clone(),
            version: info.version.clone(),
            title: info.title.clone(),
            description: info.description.clone(),
            website_url: info.website_url.clone(),
            icons: None,
        });
    }
    entry.server_capabilities = serde_json::to_value(session.capabilities()).ok();
    match session.list_tools(config.startup_timeout()).await {
        Ok(tools) => {
            let mut map = Map::new();
            for tool in tools {
                let name = tool.name.to_string();
                map.insert(name, serde_json::to_value(&tool).unwrap_or(Value::Null));
            }
            entry.tools = map;
        }
        Err(error) => {
            entry.tools_error = Some(format!("{error:#}"));
            server.connections.forget(name).await;
            return entry;
        }
    }
    if full {
        if let Ok(resources) = session.list_resources().await {
            entry.resources = to_values(&resources);
        }
        if let Ok(templates) = session.list_resource_templates().await {
            entry.resource_templates = to_values(&templates);
        }
    }
    entry
}

/// MCP objects as JSON; one that does not encode is left out.
fn to_values<T: Serialize>(items: &[T]) -> Vec<Value> {
    items
        .iter()
        .filter_map(|item| serde_json::to_value(item).ok())
        .collect()
}

/// `scheme://host[:port]` of a URL, nothing of its path or credentials.
fn http_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    Some(format!("{scheme}://{host}"))
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct McpServerToolCallParams {
    /// Required as in Codex; this host has no threads, so any id is taken.
    #[allow(dead_code)]
    thread_id: String,
    /// A configured, enabled server.
    server: String,
    tool: String,
    /// The tool's arguments: an object, or null for none.
    #[serde(default)]
    arguments: Option<Value>,
}

/// The MCP `CallToolResult` of the server, as it sent it.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct McpServerToolCallResponse {
    /// MCP content blocks.
    #[serde(default)]
    content: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    structured_content: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    is_error: Option<bool>,
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    meta: Option<Value>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct McpResourceReadParams {
    server: String,
    uri: String,
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct McpResourceReadResponse {
    /// MCP resource contents (text or blob).
    contents: Vec<Value>,
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct McpServerRefreshResponse {}

/// The configured, enabled server `name`.
pub(crate) fn configured(app: &App, name: &str) -> Result<McpServerConfig, RpcError> {
    let servers = app
        .servers()
        .map_err(|error| RpcError::internal(format!("{error:#}")))?;
    match servers.get(name) {
        Some(config) if config.enabled => Ok(config.clone()),
        Some(_) => Err(RpcError::internal(format!(
            "MCP server '{name}' is disabled (`enabled = false` in config)"
        ))),
        None => Err(RpcError::internal(format!("unknown MCP server '{name}'"))),
    }
}

pub async fn tool_call(server: Arc<Server>, raw: Option<Value>) -> Answer {
    let asked: McpServerToolCallParams = params(raw)?;
    let arguments = match asked.arguments {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(arguments)) => arguments,
        Some(_) => {
            return Err(RpcError::invalid_request(
                "Invalid request: arguments must be a JSON object",
            ));
        }
    };
    let app = server.app();
    let config = configured(&app, &asked.server)?;
    let session = session(&server, &app, &asked.server, &config)
        .await
        .map_err(RpcError::internal)?;
    match session.call_tool(&asked.tool, arguments).await {
        Ok(result) => {
            // Through JSON: the result as the server sent it, checked to
            // be a tool result.
            let answer: McpServerToolCallResponse = to_result(&result).and_then(|json| {
                serde_json::from_value(json).map_err(|error| {
                    RpcError::internal(format!("the tool result is malformed: {error}"))
                })
            })?;
            Ok((to_result(&answer)?, Vec::new()))
        }
        Err(error) => {
            server.connections.forget(&asked.server).await;
            Err(RpcError::internal(format!("{error:#}")))
        }
    }
}

pub async fn resource_read(server: Arc<Server>, raw: Option<Value>) -> Answer {
    let asked: McpResourceReadParams = params(raw)?;
    let app = server.app();
    let config = configured(&app, &asked.server)?;
    let session = session(&server, &app, &asked.server, &config)
        .await
        .map_err(RpcError::internal)?;
    match session.read_resource(&asked.uri).await {
        Ok(result) => {
            let answer = McpResourceReadResponse {
                contents: to_values(&result.contents),
            };
            Ok((to_result(&answer)?, Vec::new()))
        }
        Err(error) => Err(RpcError::internal(format!("{error:#}"))),
    }
}

/// Re-reads the config and closes every open session.
pub async fn reload(server: Arc<Server>) -> Answer {
    server.reload_config();
    server.connections.close_all().await;
    Ok((to_result(&McpServerRefreshResponse {})?, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_leave_out_credentials_and_paths() {
        assert_eq!(
            http_origin("https://user:pw@example.com:8443/mcp?x=1").as_deref(),
            Some("https://example.com:8443")
        );
        assert_eq!(http_origin("not a url"), None);
    }
}
