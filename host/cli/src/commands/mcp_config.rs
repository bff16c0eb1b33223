//! `codex mcp add|list|get|remove`: the `[mcp_servers]` table of the user's
//! config (or, with `--scope project`, of the trusted project's).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use codex_config::mcp::McpOAuthClient;
use codex_config::project::ProjectConfigFile;
use codex_config::{AddOutcome, AuthStatus, McpServerConfig, NewMcpServer, NewServerSettings};
use serde_json::json;

use crate::cli::{AddArgs, RemoveArgs, Scope};
use crate::output::{print_json, write_stdout};
use codex_host::App;
use codex_mcp_client::auth;

/// Each server's auth status, as `codex mcp list` reports it.
pub(super) fn auth_statuses(
    app: &App,
    servers: &BTreeMap<String, McpServerConfig>,
) -> Result<BTreeMap<String, AuthStatus>> {
    auth::statuses(servers, || Ok((app.host_context()?, app.plugins()?)))
}

pub fn list(app: &App, json: bool) -> Result<ExitCode> {
    let servers = app.servers()?;
    let auth = auth_statuses(app, &servers)?;
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
    let one = BTreeMap::from([(name.to_owned(), server.clone())]);
    let auth = auth_statuses(app, &one)?
        .remove(name)
        .unwrap_or(AuthStatus::Unsupported);
    if json {
        print_json(&codex_config::present::get_json(name, server, auth))?;
    } else {
        write_stdout(&codex_config::present::get_text(name, server, auth))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The config file a `--scope` names: the user's, or the trusted project's
/// (refused, with the lines that trust it, when the project is not trusted).
fn scoped_file(app: &App, scope: Scope) -> Result<PathBuf> {
    match scope {
        Scope::User => Ok(codex_config::user_config_path(&app.codex_home)),
        Scope::Project => match codex_config::project::project_config_file(&app.config)? {
            ProjectConfigFile::Trusted(file) => Ok(file),
            ProjectConfigFile::NotTrusted { file, how_to_trust } => {
                bail!("cannot use {}: {how_to_trust}", file.display())
            }
        },
    }
}

pub fn add(app: &App, args: AddArgs) -> Result<ExitCode> {
    codex_config::validate_server_name(&args.name)?;
    // An invalid existing config makes `add` fail, as in Codex: better than
    // writing next to a file the next command cannot read.
    app.servers()?;
    let config_file = scoped_file(app, args.scope)?;
    let is_http = args.url.is_some();
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
        let mut env_http_headers = BTreeMap::new();
        for raw in &args.env_headers {
            let Some((name, var)) = raw.split_once('=') else {
                bail!(
                    "--env-header takes NAME=ENV_VAR (the header, then the variable that holds its value), e.g. --env-header X-Api-Key=API_KEY"
                );
            };
            env_http_headers.insert(name.trim().to_owned(), var.trim().to_owned());
        }
        let oauth = match args.oauth_client_id {
            Some(client_id) => Some(preregistered_client(
                app,
                &args.name,
                &url,
                client_id,
                args.oauth_client_secret,
                args.oauth_client_secret_stdin,
            )?),
            None => None,
        };
        NewMcpServer::StreamableHttp {
            url,
            bearer_token_env_var: args.bearer_token_env_var,
            http_headers,
            env_http_headers,
            oauth_resource: args.oauth_resource,
            oauth,
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
    let callback_url = match &server {
        NewMcpServer::StreamableHttp {
            oauth: Some(oauth), ..
        } => oauth.callback_url.clone(),
        _ => None,
    };
    let settings = NewServerSettings {
        startup_timeout_sec: args.startup_timeout,
        tool_timeout_sec: args.tool_timeout,
        enabled_tools: args.enabled_tools,
        disabled_tools: args.disabled_tools,
        disabled: args.disabled,
    };
    let outcome = codex_config::add_mcp_server_to(&config_file, &args.name, server, &settings)?;
    // The server as the next command sees it (every layer merged).
    let reloaded = App::load(app.options.clone())?;
    if args.json {
        let servers = reloaded.servers()?;
        let shown = servers.get(&args.name).map(|server| {
            codex_config::present::get_json(&args.name, server, AuthStatus::Unsupported)
        });
        print_json(&json!({
            "name": args.name,
            "outcome": match outcome {
                AddOutcome::Added => "added",
                AddOutcome::Replaced => "replaced",
            },
            "scope": args.scope.label(),
            "file": config_file,
            "oauth_callback_url": callback_url,
            "server": shown,
        }))?;
    } else {
        let mut message = match args.scope {
            Scope::User => format!("{}\n", codex_config::present::added_message(&args.name)),
            Scope::Project => format!(
                "Added project MCP server '{}' to {}.\n",
                args.name,
                config_file.display()
            ),
        };
        if let Some(url) = callback_url {
            // The redirect URI to register with the authorization server.
            message.push_str(&format!("OAuth callback URL: {url}\n"));
        }
        write_stdout(&message)?;
    }
    if is_http && !args.no_login && !args.disabled {
        // The login reads the server from the config, which now has it.
        super::mcp_auth::login_after_add(&reloaded, &args.name, args.oauth_client_registration)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `[mcp_servers.NAME.oauth]` for `--oauth-client-id`: the secret from the
/// flag (with a warning: it is in the process list) or stdin, and Codex's
/// redirect URI for the user to register.
fn preregistered_client(
    app: &App,
    name: &str,
    url: &str,
    client_id: String,
    secret: Option<String>,
    secret_from_stdin: bool,
) -> Result<McpOAuthClient> {
    let client_secret = if secret_from_stdin {
        let example = format!(
            "codex mcp add {name} --url URL --oauth-client-id ID --oauth-client-secret-stdin"
        );
        let secret = super::mcp_auth::read_client_secret("--oauth-client-secret-stdin", &example)?;
        Some(secret.as_str().to_owned())
    } else {
        if secret.is_some() {
            eprintln!(
                "warning: a secret given as --oauth-client-secret shows in the process list; next time pipe it to --oauth-client-secret-stdin"
            );
        }
        secret
    };
    let settings = codex_config::mcp_oauth::mcp_oauth_settings(&app.config)?;
    Ok(McpOAuthClient {
        client_id: Some(client_id),
        client_secret,
        callback_port: None,
        callback_url: Some(codex_config::mcp_oauth::client_callback_url(&settings, url)),
    })
}

pub fn remove(app: &App, args: RemoveArgs) -> Result<ExitCode> {
    let name = args.name.as_str();
    let config_file = scoped_file(app, args.scope)?;
    let removed = codex_config::remove_mcp_server_from(&config_file, name)?;
    let message = match (removed, args.scope) {
        (true, Scope::User) => codex_config::present::removed_message(name),
        (true, Scope::Project) => format!(
            "Removed project MCP server '{name}' from {}.",
            config_file.display()
        ),
        (false, _) => codex_config::present::not_found_message(name),
    };
    write_stdout(&format!("{message}\n"))?;
    Ok(ExitCode::SUCCESS)
}
