//! `codex mcp add|list|get|remove`: the `[mcp_servers]` table of the user's config.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Result, bail};
use codex_config::mcp::McpOAuthClient;
use codex_config::{AuthStatus, McpServerConfig, NewMcpServer};

use crate::cli::AddArgs;
use crate::output::{print_json, write_stdout};
use codex_credentials::StoredMcpTokens;
use codex_host::App;
use codex_mcp_client::auth;

/// Each server's auth status: from config where it decides, else from a
/// probe by the server's transport plugin (all servers at once).
pub(super) fn auth_statuses(
    app: &App,
    servers: &BTreeMap<String, McpServerConfig>,
) -> Result<BTreeMap<String, AuthStatus>> {
    let mut statuses = BTreeMap::new();
    let mut to_probe = Vec::new();
    for (name, server) in servers {
        match auth::status_from_config(server) {
            Some(status) => {
                statuses.insert(name.clone(), status);
            }
            None => to_probe.push((name.clone(), server.clone())),
        }
    }
    // Plugins are loaded only when a server needs a look at the credential
    // store or a probe, so listing stdio servers never opens a library.
    if !to_probe.is_empty() {
        let host = app.host_context()?;
        // Then, as in Codex 0.169: stored tokens (`Not logged in` once they
        // are expired and cannot be refreshed), a headers helper (not run just
        // to list: `Unknown`), and only then a probe.
        let mut unknown = Vec::new();
        for (name, server) in to_probe {
            let url = server.url.clone().unwrap_or_default();
            let status = match codex_credentials::stored_mcp_tokens(&host, &name, &url) {
                Ok(StoredMcpTokens::Usable) => AuthStatus::OAuth,
                Ok(StoredMcpTokens::Expired) => AuthStatus::NotLoggedIn,
                Ok(StoredMcpTokens::Missing) if server.http_headers_helper.is_some() => {
                    AuthStatus::Unknown
                }
                Ok(StoredMcpTokens::Missing) => {
                    unknown.push((name, server));
                    continue;
                }
                Err(error) => {
                    eprintln!("warning: cannot read stored credentials for `{name}`: {error:#}");
                    AuthStatus::Unknown
                }
            };
            statuses.insert(name, status);
        }
        let to_probe = unknown;
        let probed = auth::probe_all(&to_probe, app.plugins()?, &host);
        for (name, _) in to_probe {
            let status = probed
                .get(&name)
                .copied()
                .unwrap_or(AuthStatus::Unsupported);
            statuses.insert(name, status);
        }
    }
    Ok(statuses)
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

pub fn add(app: &App, args: AddArgs) -> Result<ExitCode> {
    codex_config::validate_server_name(&args.name)?;
    // An invalid existing config makes `add` fail, as in Codex: better than
    // writing next to a file the next command cannot read.
    app.servers()?;
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
    codex_config::add_mcp_server(&app.codex_home, &args.name, server)?;
    let mut message = format!("{}\n", codex_config::present::added_message(&args.name));
    if let Some(url) = callback_url {
        // The redirect URI to register with the authorization server.
        message.push_str(&format!("OAuth callback URL: {url}\n"));
    }
    write_stdout(&message)?;
    if is_http && !args.no_login {
        // The login reads the server from the config, which now has it.
        let reloaded = App::load(app.options.clone())?;
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

pub fn remove(app: &App, name: &str) -> Result<ExitCode> {
    let removed = codex_config::remove_mcp_server(&app.codex_home, name)?;
    let message = if removed {
        codex_config::present::removed_message(name)
    } else {
        codex_config::present::not_found_message(name)
    };
    write_stdout(&format!("{message}\n"))?;
    Ok(ExitCode::SUCCESS)
}
