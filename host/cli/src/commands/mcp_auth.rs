//! `codex mcp login` and `codex mcp logout`, and the logins other commands
//! may start (`mcp add` on a server that asks for OAuth, `mcp tools/call`
//! on a terminal or with `--login`).

use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use codex_config::McpServerConfig;
use serde_json::json;
use zeroize::Zeroizing;

use super::runtime;
use crate::cli::McpLoginArgs;
use crate::output::{print_json, write_stdout};
use codex_host::App;
use codex_mcp_client::oauth::{self, LoginFlags};
use codex_plugin_host::services::HostContext;

codex_feature_registry::declare_feature! {
    /// `codex mcp add --url` logs in by itself.
    static MCP_OAUTH_AUTO_LOGIN = {
        key: "mcp_oauth_auto_login",
        stage: Stable,
        default: true,
        description: "`codex mcp add --url` logs in by itself when the server asks for OAuth (with a terminal or $BROWSER)",
        aliases: [],
    };
}

/// The configured HTTP server `name`.
fn http_server(app: &App, name: &str) -> Result<McpServerConfig> {
    let servers = app.servers()?;
    let Some(server) = servers.get(name) else {
        bail!(
            "No MCP server named '{name}' found in configuration.\nhelp: `codex mcp list` shows the configured servers"
        );
    };
    if server.url.is_none() {
        bail!(
            "OAuth login is only supported for streamable_http transports (MCP server `{name}` has a `command`)."
        );
    }
    Ok(server.clone())
}

/// `codex mcp login NAME`.
pub fn login(app: &App, args: McpLoginArgs) -> Result<ExitCode> {
    let server = http_server(app, &args.name)?;
    let grant = if args.client_credentials {
        Some("client_credentials")
    } else if args.device {
        Some("device_code")
    } else if args.id_token_file.is_some() {
        Some("id_jag")
    } else {
        None
    };
    let machine = matches!(grant, Some("client_credentials" | "id_jag"));
    if args.client_secret_stdin && args.client_id.is_none() && !machine {
        bail!(
            "--client-secret-stdin needs --client-id ID (the client the secret belongs to)\nhelp: printf %s \"$SECRET\" | codex mcp login {} --client-id ID --client-secret-stdin",
            args.name
        );
    }
    if args.private_key.is_some() && !machine {
        bail!(
            "--private-key signs the client's assertion for --client-credentials or --id-token-file; the browser and device logins do not use it\nhelp: codex mcp login {} --client-credentials --client-id ID --private-key FILE",
            args.name
        );
    }
    let client_secret = if args.client_secret_stdin {
        Some(read_client_secret(
            "--client-secret-stdin",
            "codex mcp login NAME --client-id ID --client-secret-stdin",
        )?)
    } else {
        None
    };
    let flags = LoginFlags {
        scopes: args.scopes,
        no_browser: args.no_browser,
        client_id: args.client_id,
        client_secret,
        resource: args.oauth_resource,
        registration: args.oauth_client_registration,
        callback_port: args.callback_port,
        grant,
        private_key_file: args
            .private_key
            .as_deref()
            .map(|path| absolute_file("--private-key", path))
            .transpose()?,
        signing_algorithm: args.signing_algorithm,
        id_token_file: args
            .id_token_file
            .as_deref()
            .map(|path| absolute_file("--id-token-file", path))
            .transpose()?,
        idp_url: args.idp_url,
        idp_client_id: args.idp_client_id,
    };
    let options = oauth::login_options(&app.config, &flags)?;
    let host = app.host_context()?;
    // A step-up the plugin needs during this login uses the same options.
    host.allow_login(options.clone());
    let plugins = app.plugins()?;
    let login = oauth::login(&args.name, &server, plugins, &host, options);
    let answer = runtime()?.block_on(async {
        tokio::select! {
            answer = login => answer.map(Some),
            // Nothing is stored before the token arrives, so leaving here
            // leaves nothing behind.
            _ = tokio::signal::ctrl_c() => Ok(None),
        }
    })?;
    let Some(answer) = answer else {
        eprintln!(
            "Login to MCP server '{}' cancelled; nothing was saved.",
            args.name
        );
        return Ok(ExitCode::from(CANCELLED_EXIT));
    };
    if args.json {
        print_json(&answer)?;
    } else {
        write_stdout(&format!("{}\n", oauth::message(&answer)))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C: the shell's convention for a command ended by SIGINT.
const CANCELLED_EXIT: u8 = 130;

/// `path` made absolute (a login records it, to read it again later from
/// any directory); it must be a readable file.
fn absolute_file(flag: &str, path: &std::path::Path) -> Result<String> {
    let absolute = std::fs::canonicalize(path)
        .with_context(|| format!("{flag} {}: cannot find that file", path.display()))?;
    if !absolute.is_file() {
        bail!("{flag} {}: not a file", path.display());
    }
    absolute
        .into_os_string()
        .into_string()
        .map_err(|_| anyhow::anyhow!("{flag} {}: the path is not UTF-8", path.display()))
}

/// The client secret, one line from stdin (a terminal gets a prompt), for
/// `flag`; `example` shows how to pipe it in.
pub(crate) fn read_client_secret(flag: &str, example: &str) -> Result<Zeroizing<String>> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Client secret: ");
    }
    let mut secret = Zeroizing::new(String::new());
    stdin
        .read_to_string(&mut secret)
        .context("cannot read the client secret from stdin")?;
    let trimmed = Zeroizing::new(secret.trim_end_matches(['\r', '\n']).to_owned());
    if trimmed.is_empty() {
        bail!(
            "{flag}: stdin was empty; pipe the secret in, e.g. `printf %s \"$SECRET\" | {example}`"
        );
    }
    Ok(trimmed)
}

/// `codex mcp logout NAME`: revokes through the `oauth` plugin where it is
/// loaded, then deletes from every store (Codex's messages; nothing stored
/// is not an error).
pub fn logout(app: &App, name: &str) -> Result<ExitCode> {
    let servers = app.servers()?;
    let Some(server) = servers.get(name) else {
        bail!("No MCP server named '{name}' found in configuration.");
    };
    let Some(url) = server.url.as_deref() else {
        bail!("OAuth logout is only supported for streamable_http transports.");
    };
    let host = app.host_context()?;
    let plugins = app.plugins()?;
    // The plugin deletes from the configured store what it revoked; the
    // host then deletes from every store the tokens may be in.
    let removed_by_plugin = match runtime()?.block_on(oauth::logout(name, server, plugins, &host)) {
        Ok(Some(answer)) => {
            if answer.get("revoked") == Some(&json!(true)) {
                eprintln!("Revoked the OAuth tokens of '{name}' at its authorization server.");
            }
            answer.get("removed") == Some(&json!(true))
        }
        Ok(None) => false,
        // Revocation is a courtesy to the server; deleting is what the
        // user asked for, and it still happens.
        Err(error) => {
            eprintln!("warning: {error:#}");
            false
        }
    };
    let removed = codex_credentials::delete_mcp_tokens(&host, name, url)
        .map_err(|error| anyhow::anyhow!("failed to delete OAuth credentials: {error:#}"))?
        || removed_by_plugin;
    let message = if removed {
        format!("Removed OAuth credentials for '{name}'.")
    } else {
        format!("No OAuth credentials stored for '{name}'.")
    };
    write_stdout(&format!("{message}\n"))?;
    Ok(ExitCode::SUCCESS)
}

/// Whether a person can complete a browser login now: a terminal, or a
/// `$BROWSER` that the user set up (a script, a headless browser).
fn person_or_browser() -> bool {
    (std::io::stdin().is_terminal() && std::io::stderr().is_terminal())
        || std::env::var_os("BROWSER").is_some_and(|value| !value.is_empty())
}

/// After `codex mcp add NAME --url ...`: when the server asks for OAuth and
/// no token is configured, logs in (feature `mcp_oauth_auto_login`, with a
/// terminal or `$BROWSER`; `registration` is `--oauth-client-registration`),
/// else says which command does it, also when the server could not be asked
/// (Codex's words). The server stays added whatever happens here.
pub fn login_after_add(app: &App, name: &str, registration: Option<String>) -> Result<()> {
    let servers = app.servers()?;
    let Some(server) = servers.get(name) else {
        return Ok(());
    };
    if codex_mcp_client::auth::status_from_config(server).is_some() {
        return Ok(());
    }
    let host = app.host_context()?;
    let plugins = app.plugins()?;
    match codex_mcp_client::auth::probe_one(name, server, plugins, &host) {
        Ok(true) => {}
        Ok(false) => return Ok(()),
        Err(error) => {
            host.log(
                codex_plugin_api::LogLevel::Debug,
                &format!("auth probe of `{name}`: {error}"),
            );
            eprintln!(
                "MCP server may or may not require login. Run `codex mcp login {name}` to login."
            );
            return Ok(());
        }
    }
    let auto = host.feature_enabled(&MCP_OAUTH_AUTO_LOGIN);
    if !auto || !person_or_browser() {
        eprintln!("MCP server `{name}` asks for OAuth; run `codex mcp login {name}` to log in.");
        return Ok(());
    }
    eprintln!("MCP server `{name}` asks for OAuth; logging in.");
    let flags = LoginFlags {
        registration,
        ..LoginFlags::default()
    };
    let options = oauth::login_options(&app.config, &flags)?;
    host.allow_login(options.clone());
    match runtime()?.block_on(oauth::login(name, server, plugins, &host, options)) {
        Ok(answer) => eprintln!("{}", oauth::message(&answer)),
        Err(error) => eprintln!(
            "warning: the login failed: {error:#}\nhelp: run `codex mcp login {name}` to try again"
        ),
    }
    Ok(())
}

/// For `mcp tools/call`: lets transports log in by themselves when the user
/// asked for it (`--login`) or can complete a login now (a terminal or
/// `$BROWSER`, the same rule as the login `mcp add` starts).
pub fn allow_login_while_connecting(app: &App, host: &Arc<HostContext>, asked: bool) -> Result<()> {
    if asked || person_or_browser() {
        host.allow_login(oauth::login_options(&app.config, &LoginFlags::default())?);
    }
    Ok(())
}
