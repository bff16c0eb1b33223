//! What every command that talks to a server shares: which server (by name
//! or `--url`), the client's options (roots, elicitation, log level, how
//! notifications show), and one session opened, used and closed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use codex_config::McpServerConfig;
use codex_mcp_client::client::ClientOptions;
use codex_mcp_client::logging::LogLevel;
use codex_mcp_client::session::Session;
use serde_json::{Map, Value};

use super::mcp_events::{ElicitationMode, TerminalEvents};
use super::mcp_interrupt::{CtrlC, Interrupted};
use super::runtime;
use crate::cli::{AdHocServer, LoginFlag, SessionFlags};
use crate::output::{print_json, table, write_stdout};
use codex_host::App;
use codex_plugin_host::PluginSet;
use codex_plugin_host::services::HostContext;

/// A usage error: printed as is, exit status 2.
pub struct Usage(pub String);

/// Looks up `name` among the configured servers; it must exist and be enabled.
fn configured<'a>(
    servers: &'a BTreeMap<String, McpServerConfig>,
    name: &str,
) -> Result<&'a McpServerConfig> {
    let server = servers
        .get(name)
        .ok_or_else(|| anyhow!("No MCP server named '{name}' found.\nhelp: `codex mcp list` shows the configured servers"))?;
    if !server.enabled {
        bail!(
            "MCP server `{name}` is disabled (`enabled = false` in config)\n\
             help: run with `-c mcp_servers.{name}.enabled=true` to use it once"
        );
    }
    Ok(server)
}

/// The name an ad-hoc `--url` server goes by in output and qualified names.
const AD_HOC_NAME: &str = "url";

/// A server table for `--url`, validated like one from config.
fn ad_hoc_server(ad_hoc: &AdHocServer) -> Result<Option<McpServerConfig>> {
    let Some(url) = &ad_hoc.url else {
        return Ok(None);
    };
    let mut table = toml::Table::new();
    table.insert("url".into(), url.clone().into());
    if let Some(var) = &ad_hoc.bearer_token_env_var {
        table.insert("bearer_token_env_var".into(), var.clone().into());
    }
    if !ad_hoc.headers.is_empty() {
        let mut headers = toml::Table::new();
        for raw in &ad_hoc.headers {
            let (name, value) = codex_config::parse_header(raw)?;
            headers.insert(name, value.into());
        }
        table.insert("http_headers".into(), headers.into());
    }
    let server = McpServerConfig::from_toml(AD_HOC_NAME, &toml::Value::Table(table))
        .map_err(|error| anyhow!("--url: {error}"))?;
    Ok(Some(server))
}

/// The servers a list command reads: the one named, the `--url` one, or
/// every enabled server.
pub fn selected_servers(
    app: &App,
    name: Option<&str>,
    ad_hoc: &AdHocServer,
) -> Result<Vec<(String, McpServerConfig)>> {
    Ok(match (ad_hoc_server(ad_hoc)?, name) {
        (Some(server), _) => vec![(AD_HOC_NAME.to_string(), server)],
        (None, Some(name)) => vec![(name.to_string(), configured(&app.servers()?, name)?.clone())],
        (None, None) => app
            .servers()?
            .into_iter()
            .filter(|(_, server)| server.enabled)
            .collect(),
    })
}

/// `NAME THING` or `--url URL THING`: the server and the thing.
pub fn server_and_item(
    app: &App,
    target: &[String],
    ad_hoc: &AdHocServer,
    command: &str,
    item: &str,
) -> Result<std::result::Result<(String, McpServerConfig, String), Usage>> {
    Ok(match (ad_hoc_server(ad_hoc)?, target) {
        (Some(server), [thing]) => Ok((AD_HOC_NAME.to_string(), server, thing.clone())),
        (Some(_), _) => Err(Usage(format!(
            "with --url, give only the {item}: `codex mcp {command} --url URL {}`",
            item.to_uppercase()
        ))),
        (None, [name, thing]) => Ok((
            name.clone(),
            configured(&app.servers()?, name)?.clone(),
            thing.clone(),
        )),
        (None, _) => Err(Usage(format!(
            "give the server and the {item}: `codex mcp {command} NAME {}` (or `--url URL {}`)",
            item.to_uppercase(),
            item.to_uppercase()
        ))),
    })
}

/// The one server of `NAME` or `--url`.
pub fn one_server(
    app: &App,
    name: Option<&str>,
    ad_hoc: &AdHocServer,
) -> Result<(String, McpServerConfig)> {
    match (ad_hoc_server(ad_hoc)?, name) {
        (Some(server), _) => Ok((AD_HOC_NAME.to_string(), server)),
        (None, Some(name)) => Ok((name.to_string(), configured(&app.servers()?, name)?.clone())),
        (None, None) => bail!("give the server's name or --url URL"),
    }
}

/// A JSON object given on the command line (`--args`, `--elicit`).
pub fn json_object(
    flag: &str,
    text: &str,
    example: &str,
) -> std::result::Result<Map<String, Value>, Usage> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(Usage(format!(
            "{flag} must be a JSON object, got {}\nhelp: for example {flag} '{example}'",
            json_kind(&other)
        ))),
        Err(error) => Err(Usage(format!(
            "{flag} is not valid JSON: {error}\nhelp: pass a JSON object, for example {flag} '{example}'"
        ))),
    }
}

pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Prints a usage error and gives exit status 2.
pub fn usage_error(usage: Usage) -> ExitCode {
    eprintln!("error: {}", usage.0);
    ExitCode::from(2)
}

/// The client's options from the flags: roots (`--root`, else `mcp_roots`,
/// else the working directory), how elicitations are answered, the log
/// level, and the terminal's events.
pub fn client_options(
    app: &App,
    flags: &SessionFlags,
) -> Result<std::result::Result<(ClientOptions, Arc<TerminalEvents>), Usage>> {
    let elicitation = match &flags.elicit {
        Some(text) => match json_object("--elicit", text, r#"{"name":"Ada"}"#) {
            Ok(content) => ElicitationMode::Given(content),
            Err(usage) => return Ok(Err(usage)),
        },
        None => ElicitationMode::from_terminal(),
    };
    let log_level: LogLevel = flags
        .log_level
        .parse()
        .map_err(|error: String| anyhow!("--log-level: {error}"))?;
    let roots = roots(app, &flags.roots)?;
    let events = Arc::new(TerminalEvents::new(elicitation));
    let options = ClientOptions {
        roots,
        events: events.clone(),
        log_level: Some(log_level),
    };
    Ok(Ok((options, events)))
}

fn roots(app: &App, given: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    if !given.is_empty() {
        return given
            .iter()
            .map(|dir| {
                let dir = cwd.join(dir);
                if !dir.is_dir() {
                    bail!(
                        "--root {}: not a directory\nhelp: give a directory that exists",
                        dir.display()
                    );
                }
                Ok(dir)
            })
            .collect();
    }
    Ok(codex_config::mcp_roots::mcp_roots(&app.config)?.unwrap_or_else(|| vec![cwd]))
}

/// Connects to `name`, runs `work` on the session, and closes it. Ctrl-C
/// while connecting or working closes the session and fails with
/// [`Interrupted`] (exit 130).
pub fn with_session<T>(
    app: &App,
    name: &str,
    server: &McpServerConfig,
    login: &LoginFlag,
    options: ClientOptions,
    work: impl AsyncFnOnce(&Session) -> Result<T>,
) -> Result<T> {
    with_session_until(
        app,
        name,
        server,
        login,
        options,
        async |session, ctrl_c| {
            tokio::select! {
                result = work(session) => result,
                () = ctrl_c.next_press() => Err(Interrupted {
                    during: format!("waiting for MCP server `{name}`"),
                }
                .into()),
            }
        },
    )
}

/// Like [`with_session`], but `work` decides what Ctrl-C does once the
/// session is up (it is handed the watch); Ctrl-C while connecting still
/// closes what was opened and fails with [`Interrupted`].
pub fn with_session_until<T>(
    app: &App,
    name: &str,
    server: &McpServerConfig,
    login: &LoginFlag,
    options: ClientOptions,
    work: impl AsyncFnOnce(&Session, &CtrlC) -> Result<T>,
) -> Result<T> {
    let host = app.host_context()?;
    super::mcp_auth::allow_login_while_connecting(app, &host, login.login)?;
    let plugins = app.plugins()?;
    runtime()?.block_on(async {
        let ctrl_c = CtrlC::watch();
        let session = connect(name, server, plugins, &host, options, &ctrl_c).await?;
        let result = work(&session, &ctrl_c).await;
        session.close().await;
        result
    })
}

/// One session, or [`Interrupted`] when Ctrl-C came first.
pub async fn connect(
    name: &str,
    server: &McpServerConfig,
    plugins: &PluginSet,
    host: &Arc<HostContext>,
    options: ClientOptions,
    ctrl_c: &CtrlC,
) -> Result<Session> {
    Session::connect_until(name, server, plugins, host, options, ctrl_c.next_press())
        .await?
        .ok_or_else(|| {
            Interrupted {
                during: format!("connecting to MCP server `{name}`"),
            }
            .into()
        })
}

/// Connects to every server at once and runs `work` on each session; the
/// outcome of each, by server, in the order given. Ctrl-C closes every
/// session and fails with [`Interrupted`].
pub fn on_every_server<T>(
    app: &App,
    servers: Vec<(String, McpServerConfig)>,
    login: &LoginFlag,
    options: ClientOptions,
    work: impl AsyncFn(&Session) -> Result<T>,
) -> Result<Vec<(String, Result<T>)>> {
    let host = app.host_context()?;
    super::mcp_auth::allow_login_while_connecting(app, &host, login.login)?;
    let plugins = app.plugins()?;
    let work = &work;
    let host = &host;
    let options = &options;
    let outcomes = runtime()?.block_on(async {
        let ctrl_c = &CtrlC::watch();
        futures::future::join_all(servers.into_iter().map(|(name, server)| async move {
            let outcome = async {
                let session =
                    connect(&name, &server, plugins, host, options.clone(), ctrl_c).await?;
                let result = tokio::select! {
                    result = work(&session) => result,
                    () = ctrl_c.next_press() => Err(Interrupted {
                        during: format!("waiting for MCP server `{name}`"),
                    }
                    .into()),
                };
                session.close().await;
                result
            }
            .await;
            (name, outcome)
        }))
        .await
    });
    interrupted_first(outcomes)
}

/// The outcomes as they are, or the interruption when Ctrl-C ended any.
pub fn interrupted_first<T>(
    outcomes: Vec<(String, Result<T>)>,
) -> Result<Vec<(String, Result<T>)>> {
    let mut outcomes = outcomes;
    if let Some(index) = outcomes
        .iter()
        .position(|(_, outcome)| matches!(outcome, Err(error) if error.is::<Interrupted>()))
    {
        let (_, outcome) = outcomes.swap_remove(index);
        outcome?;
    }
    Ok(outcomes)
}

/// Prints what a list command found on each server: a table (a row per
/// item, the server first) or `{"servers": [{"name", "status", "error",
/// KEY: [...]}]}`; exit 1 when a server failed.
pub fn print_lists<T: serde::Serialize>(
    outcomes: Vec<(String, Result<Vec<T>>)>,
    json: bool,
    key: &str,
    headers: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> Result<ExitCode> {
    let failed = outcomes
        .iter()
        .filter(|(_, outcome)| outcome.is_err())
        .count();
    if json {
        let servers: Vec<Value> = outcomes
            .iter()
            .map(|(name, outcome)| match outcome {
                Ok(items) => serde_json::json!({
                    "name": name,
                    "status": "ok",
                    "error": null,
                    key: items,
                }),
                Err(error) => serde_json::json!({
                    "name": name,
                    "status": "error",
                    "error": format!("{error:#}"),
                    key: [],
                }),
            })
            .collect();
        print_json(&serde_json::json!({ "servers": servers }))?;
    } else if outcomes.is_empty() {
        write_stdout(
            "No enabled MCP servers configured. Try `codex mcp add my-tool -- my-command`.\n",
        )?;
    } else {
        let mut rows = Vec::new();
        for (name, outcome) in &outcomes {
            match outcome {
                Ok(items) => rows.extend(items.iter().map(|item| {
                    let mut cells = vec![name.clone()];
                    cells.extend(row(item));
                    cells
                })),
                Err(error) => eprintln!("error: {error:#}"),
            }
        }
        if !rows.is_empty() {
            let mut all_headers = vec!["Server"];
            all_headers.extend_from_slice(headers);
            write_stdout(&table(&all_headers, &rows))?;
        } else if failed < outcomes.len() {
            write_stdout(&format!("No {key}.\n"))?;
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The first line of `text`, at most 80 characters.
pub fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    if line.chars().count() > 80 {
        format!("{}…", line.chars().take(79).collect::<String>())
    } else {
        line.to_string()
    }
}
