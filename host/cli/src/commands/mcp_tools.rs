//! `codex mcp tools`: real MCP sessions through transport plugins.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Result;
use codex_config::McpServerConfig;
use rmcp::model::Tool;
use serde_json::{Value, json};

use super::mcp_interrupt::{CtrlC, Interrupted};
use super::mcp_session::{connect, one_line, selected_servers};
use super::runtime;
use crate::cli::ToolsArgs;
use crate::output::{print_json, progress_enabled, table, write_stdout};
use codex_host::App;
use codex_mcp_client::client::ClientOptions;
use codex_mcp_client::names;
use codex_plugin_host::PluginSet;
use codex_plugin_host::services::HostContext;

/// What connecting to one server produced.
pub struct ServerTools {
    pub name: String,
    pub outcome: Result<Vec<Tool>>,
}

pub fn tools(app: &App, args: ToolsArgs) -> Result<ExitCode> {
    let selected = selected_servers(app, args.name.as_deref(), &args.ad_hoc)?;
    if selected.is_empty() {
        if args.json {
            print_json(&json!({ "servers": [] }))?;
        } else {
            write_stdout(
                "No enabled MCP servers configured. Try `codex mcp add my-tool -- my-command`.\n",
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let host = app.host_context()?;
    super::mcp_auth::allow_login_while_connecting(app, &host, args.login.login)?;
    let plugins = app.plugins()?;
    let mut results = runtime()?.block_on(list_all(selected, plugins, host));
    if let Some(index) = results
        .iter()
        .position(|result| matches!(&result.outcome, Err(error) if error.is::<Interrupted>()))
    {
        results.swap_remove(index).outcome?;
    }
    print_tools(&results, args.json)
}

/// Prints the tools of each server as `mcp tools` does: a table with
/// qualified names, or `{"servers": [...]}`; exit 1 when a server failed.
pub fn print_tools(results: &[ServerTools], json: bool) -> Result<ExitCode> {
    // Qualified names are computed over every listed tool, so collisions
    // across servers are resolved the way the model would see them.
    let pairs: Vec<(String, String)> = results
        .iter()
        .filter_map(|result| result.outcome.as_ref().ok().map(|tools| (result, tools)))
        .flat_map(|(result, tools)| {
            tools
                .iter()
                .map(|tool| (result.name.clone(), tool.name.to_string()))
        })
        .collect();
    let qualified = names::qualify(&pairs);
    let mut qualified = qualified.into_iter();

    let failed = results
        .iter()
        .filter(|result| result.outcome.is_err())
        .count();
    if json {
        let servers: Vec<Value> = results
            .iter()
            .map(|result| match &result.outcome {
                Ok(tools) => json!({
                    "name": result.name,
                    "status": "ok",
                    "error": null,
                    "tools": tools.iter().map(|tool| json!({
                        "name": tool.name,
                        "qualified_name": qualified.next(),
                        "title": tool.title,
                        "description": tool.description,
                        "input_schema": tool.input_schema,
                        "annotations": tool.annotations,
                    })).collect::<Vec<_>>(),
                }),
                Err(error) => json!({
                    "name": result.name,
                    "status": "error",
                    "error": format!("{error:#}"),
                    "tools": [],
                }),
            })
            .collect();
        print_json(&json!({ "servers": servers }))?;
    } else {
        let mut rows = Vec::new();
        for result in results {
            match &result.outcome {
                Ok(tools) => {
                    for tool in tools {
                        rows.push(vec![
                            result.name.clone(),
                            tool.name.to_string(),
                            qualified.next().unwrap_or_default(),
                            one_line(tool.description.as_deref().unwrap_or("")),
                        ]);
                    }
                }
                Err(error) => eprintln!("error: {error:#}"),
            }
        }
        if rows.is_empty() {
            if failed < results.len() {
                write_stdout("No tools.\n")?;
            }
        } else {
            write_stdout(&table(
                &["Server", "Tool", "Qualified name", "Description"],
                &rows,
            ))?;
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

codex_feature_registry::declare_feature! {
    /// Connect to every server at once in `codex mcp tools`.
    static CONCURRENT_MCP_STARTUP = {
        key: "concurrent_mcp_startup",
        stage: Stable,
        default: true,
        description: "Connect to all MCP servers at once in `codex mcp tools`; off connects one after another",
        aliases: [],
    };
}

async fn list_all(
    selected: Vec<(String, McpServerConfig)>,
    plugins: &PluginSet,
    host: Arc<HostContext>,
) -> Vec<ServerTools> {
    let total = selected.len();
    let concurrent = host.feature_enabled(&CONCURRENT_MCP_STARTUP);
    let show_progress = total > 1 && progress_enabled();
    let done = AtomicUsize::new(0);
    let ctrl_c = &CtrlC::watch();
    let connect = |name: String, server: McpServerConfig| {
        let host = host.clone();
        let done = &done;
        async move {
            let outcome = list_one(&name, &server, plugins, &host, ctrl_c).await;
            let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
            if show_progress {
                let mut stderr = std::io::stderr();
                let _ = write!(stderr, "\rconnected to {finished}/{total} MCP servers");
                let _ = stderr.flush();
            }
            ServerTools { name, outcome }
        }
    };
    let results = if concurrent {
        futures::future::join_all(
            selected
                .into_iter()
                .map(|(name, server)| connect(name, server)),
        )
        .await
    } else {
        let mut results = Vec::with_capacity(total);
        for (name, server) in selected {
            results.push(connect(name, server).await);
        }
        results
    };
    if show_progress {
        eprint!("\r\x1b[2K");
    }
    results
}

async fn list_one(
    name: &str,
    server: &McpServerConfig,
    plugins: &PluginSet,
    host: &Arc<HostContext>,
    ctrl_c: &CtrlC,
) -> Result<Vec<Tool>> {
    let started = std::time::Instant::now();
    let session = connect(name, server, plugins, host, ClientOptions::quiet(), ctrl_c).await?;
    // Codex's start-up timeout covers initialize and the first tools/list.
    let remaining = server
        .startup_timeout()
        .saturating_sub(started.elapsed())
        .max(std::time::Duration::from_millis(100));
    let listed = tokio::select! {
        listed = session.list_tools(remaining) => listed,
        () = ctrl_c.next_press() => Err(Interrupted {
            during: format!("listing the tools of MCP server `{name}`"),
        }
        .into()),
    };
    session.close().await;
    Ok(listed?
        .into_iter()
        .filter(|tool| server.tool_allowed(&tool.name))
        .collect())
}
