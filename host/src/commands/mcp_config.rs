//! `codex mcp add|list|get|remove`: the `[mcp_servers]` table of the user's config.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Result, bail};
use codex_config::{AuthStatus, McpServerConfig, NewMcpServer, TransportKind};

use crate::app::App;
use crate::cli::AddArgs;
use crate::output::{print_json, write_stdout};

/// Codex's auth status, as far as the configuration alone tells it.
fn auth_status(server: &McpServerConfig) -> AuthStatus {
    if !server.enabled {
        return AuthStatus::Unsupported;
    }
    match server.transport_kind() {
        TransportKind::StreamableHttp => {
            let has_authorization_header =
                server.http_headers.as_ref().is_some_and(|headers| {
                    headers
                        .keys()
                        .any(|k| k.eq_ignore_ascii_case("authorization"))
                }) || server.env_http_headers.as_ref().is_some_and(|headers| {
                    headers
                        .keys()
                        .any(|k| k.eq_ignore_ascii_case("authorization"))
                });
            if server.bearer_token_env_var.is_some() || has_authorization_header {
                AuthStatus::BearerToken
            } else {
                AuthStatus::Unsupported
            }
        }
        TransportKind::Stdio | TransportKind::Plugin(_) => AuthStatus::Unsupported,
    }
}

pub fn list(app: &App, json: bool) -> Result<ExitCode> {
    let servers = app.servers()?;
    let auth: BTreeMap<String, AuthStatus> = servers
        .iter()
        .map(|(name, server)| (name.clone(), auth_status(server)))
        .collect();
    if json {
        print_json(&codex_config::present::list_json(&servers, &auth))?;
    } else {
        write_stdout(&codex_config::present::list_text(&servers, &auth))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn get(app: &App, name: &str, json: bool) -> Result<ExitCode> {
    let servers = app.servers()?;
    let Some(server) = servers.get(name) else {
        bail!("No MCP server named '{name}' found.");
    };
    if json {
        print_json(&codex_config::present::get_json(name, server))?;
    } else {
        write_stdout(&codex_config::present::get_text(name, server))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn add(app: &App, args: AddArgs) -> Result<ExitCode> {
    codex_config::validate_server_name(&args.name)?;
    // An invalid existing config makes `add` fail, as in Codex: better than
    // writing next to a file the next command cannot read.
    app.servers()?;
    let server = if let Some(url) = args.url {
        if !args.env.is_empty() {
            bail!(
                "--env is only for stdio servers; an HTTP server reads `env_http_headers` instead"
            );
        }
        let mut http_headers = BTreeMap::new();
        for raw in &args.headers {
            let (name, value) = codex_config::parse_header(raw)?;
            http_headers.insert(name, value);
        }
        NewMcpServer::StreamableHttp {
            url,
            bearer_token_env_var: args.bearer_token_env_var,
            http_headers,
        }
    } else {
        let mut words = args.command.into_iter();
        let Some(command) = words.next() else {
            bail!(
                "a command is required after `--`, e.g. `codex mcp add {} -- my-server`",
                args.name
            );
        };
        let mut env = BTreeMap::new();
        for pair in &args.env {
            let (key, value) = codex_config::parse_env_pair(pair)?;
            env.insert(key, value);
        }
        NewMcpServer::Stdio {
            command,
            args: words.collect(),
            env,
        }
    };
    codex_config::add_mcp_server(&app.codex_home, &args.name, server)?;
    write_stdout(&format!(
        "{}\n",
        codex_config::present::added_message(&args.name)
    ))?;
    Ok(ExitCode::SUCCESS)
}

pub fn remove(app: &App, name: &str) -> Result<ExitCode> {
    codex_config::validate_server_name(name)?;
    let removed = codex_config::remove_mcp_server(&app.codex_home, name)?;
    let message = if removed {
        codex_config::present::removed_message(name)
    } else {
        codex_config::present::not_found_message(name)
    };
    write_stdout(&format!("{message}\n"))?;
    Ok(ExitCode::SUCCESS)
}
