//! `codex mcp-server`: the configured servers as one MCP server, on stdio
//! or (with `--listen`) streamable HTTP. The gateway itself is the
//! `codex-gateway` crate; this is its flags and its start-up lines.

use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Result, anyhow, bail};
use codex_config::mcp_gateway::{McpGatewaySettings, ToolGlobs, check_tool_glob};
use codex_gateway::http::{Auth, HttpOptions};
use codex_gateway::{Gateway, GatewayOptions, NameMode};
use codex_host::App;

use super::runtime;
use crate::cli::{GatewayNames, McpServerArgs};

pub fn serve(app: App, args: McpServerArgs) -> Result<ExitCode> {
    // Flags override `[mcp_gateway]`; everything is checked before anything
    // starts, so a mistake costs no server start.
    let settings = codex_config::mcp_gateway::mcp_gateway_settings(&app.config)?;
    let args = merge(args, settings)?;
    let options = GatewayOptions {
        names: match args.names {
            Some(GatewayNames::Plain) => NameMode::Plain,
            Some(GatewayNames::Qualified) | None => NameMode::Qualified,
        },
        servers: args.servers.clone(),
        verbose: app.options.verbose,
        tools: ToolGlobs {
            include: args.tools.clone(),
            exclude: args.exclude_tools.clone(),
        },
        idle_timeout: args.idle_timeout.map(std::time::Duration::from_secs),
    };
    let http = match &args.listen {
        Some(listen) => Some(http_options(listen, &args)?),
        None => None,
    };
    let gateway = Arc::new(Gateway::new(Arc::new(app), options)?);
    runtime()?.block_on(async move {
        if args.eager {
            gateway.start_all().await;
        }
        match http {
            None => codex_gateway::serve_stdio(gateway).await,
            Some((options, token_printed)) => {
                let names = gateway.server_names().join(", ");
                codex_gateway::http::serve_http(gateway, options, |bound| {
                    eprintln!(
                        "codex mcp-server: serving {} on http://{bound}/mcp",
                        if names.is_empty() { "no servers".to_string() } else { names }
                    );
                    if let Some(token) = token_printed {
                        eprintln!(
                            "codex mcp-server: bearer token (shown once; pass --token-env-var VAR to choose one): {token}"
                        );
                    }
                })
                .await
            }
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The listener's options, and the generated token to print once (none
/// when it came from the environment or auth is off).
fn http_options(listen: &str, args: &McpServerArgs) -> Result<(HttpOptions, Option<String>)> {
    let address = listen_address(listen)?;
    if args.no_auth && !address.ip().is_loopback() {
        bail!(
            "--no-auth is only allowed on a loopback address, not {address}\n\
             help: listen on 127.0.0.1:{port}, or keep the token (--token-env-var VAR)",
            port = address.port()
        );
    }
    let (auth, printed) = if args.no_auth {
        (Auth::None, None)
    } else if let Some(var) = &args.token_env_var {
        match std::env::var(var) {
            Ok(token) if !token.trim().is_empty() => (Auth::Bearer(token.trim().into()), None),
            Ok(_) => bail!(
                "--token-env-var {var}: the variable is empty\nhelp: export {var}=TOKEN first"
            ),
            Err(_) => bail!(
                "--token-env-var {var}: the variable is not set\nhelp: export {var}=TOKEN first"
            ),
        }
    } else {
        let token = codex_gateway::http::generate_token()?;
        (Auth::Bearer(token.as_str().into()), Some(token))
    };
    Ok((
        HttpOptions {
            listen: address,
            auth,
            allowed_origins: args.allow_origin.clone(),
            max_body_bytes: args
                .max_body_bytes
                .unwrap_or(codex_gateway::http::DEFAULT_MAX_BODY_BYTES),
            max_concurrent: args
                .max_concurrent
                .unwrap_or(codex_gateway::http::DEFAULT_MAX_CONCURRENT),
            instance_id: args.instance_id.clone(),
            poll_after: args.poll_after.map(std::time::Duration::from_secs),
        },
        printed,
    ))
}

/// The flags, with `[mcp_gateway]`'s value for each one not given; the
/// flags' own values checked as the config's are.
fn merge(mut args: McpServerArgs, settings: McpGatewaySettings) -> Result<McpServerArgs> {
    for (flag, patterns) in [
        ("--tools", &args.tools),
        ("--exclude-tools", &args.exclude_tools),
    ] {
        for pattern in patterns {
            if let Err(problem) = check_tool_glob(pattern) {
                bail!("{flag}: {problem}");
            }
        }
    }
    if let Some(seconds) = args.idle_timeout
        && !(1..=codex_config::mcp_gateway::MAX_IDLE_TIMEOUT_SECS).contains(&seconds)
    {
        bail!(
            "--idle-timeout {seconds}: expected 1 to {} seconds",
            codex_config::mcp_gateway::MAX_IDLE_TIMEOUT_SECS
        );
    }
    if let Some(seconds) = args.poll_after
        && !(1..=codex_config::mcp_gateway::MAX_POLL_AFTER_SECS).contains(&seconds)
    {
        bail!(
            "--poll-after {seconds}: expected 1 to {} seconds",
            codex_config::mcp_gateway::MAX_POLL_AFTER_SECS
        );
    }
    if args.max_body_bytes == Some(0) || args.max_concurrent == Some(0) {
        bail!("--max-body-bytes and --max-concurrent must be at least 1");
    }
    args.listen = args.listen.or(settings.listen);
    if args.listen.is_none() {
        for (given, flag) in [
            (args.token_env_var.is_some(), "--token-env-var"),
            (args.no_auth, "--no-auth"),
            (!args.allow_origin.is_empty(), "--allow-origin"),
            (args.max_body_bytes.is_some(), "--max-body-bytes"),
            (args.max_concurrent.is_some(), "--max-concurrent"),
            (args.instance_id.is_some(), "--instance-id"),
            (args.poll_after.is_some(), "--poll-after"),
        ] {
            if given {
                bail!(
                    "{flag} applies to the HTTP listener only\n\
                     help: add --listen 127.0.0.1:PORT (or `listen` under [mcp_gateway])"
                );
            }
        }
    }
    if args.servers.is_empty() {
        args.servers = settings.servers;
    }
    if args.names.is_none() {
        args.names = match settings.names.as_deref() {
            Some("plain") => Some(GatewayNames::Plain),
            Some(_) => Some(GatewayNames::Qualified),
            None => None,
        };
    }
    if args.tools.is_empty() {
        args.tools = settings.tools.include;
    }
    if args.exclude_tools.is_empty() {
        args.exclude_tools = settings.tools.exclude;
    }
    args.idle_timeout = args.idle_timeout.or(settings.idle_timeout_secs);
    // `--no-auth` says there is no token, whatever the config names.
    if !args.no_auth {
        args.token_env_var = args.token_env_var.or(settings.token_env_var);
    }
    if args.allow_origin.is_empty() {
        args.allow_origin = settings.allow_origins;
    }
    args.max_body_bytes = args.max_body_bytes.or(settings.max_body_bytes);
    args.max_concurrent = args.max_concurrent.or(settings.max_concurrent);
    args.instance_id = args.instance_id.or(settings.instance_id);
    args.poll_after = args.poll_after.or(settings.poll_after_secs);
    if let Some(name) = &args.instance_id
        && !codex_gateway::sessions::valid_instance_id(name)
    {
        bail!("--instance-id {name}: expected 1 to 32 of A-Z a-z 0-9 _ -");
    }
    Ok(args)
}

/// `ADDR:PORT` (an IP address, `[::1]:PORT`, or `localhost:PORT`).
fn listen_address(listen: &str) -> Result<SocketAddr> {
    if let Ok(address) = listen.parse::<SocketAddr>() {
        return Ok(address);
    }
    let usage = || {
        anyhow!(
            "--listen {listen}: expected ADDR:PORT, for example 127.0.0.1:8765 (port 0 picks a free one)"
        )
    };
    let (host, _) = listen.rsplit_once(':').ok_or_else(usage)?;
    if host != "localhost" {
        return Err(usage());
    }
    listen
        .to_socket_addrs()
        .map_err(|_| usage())?
        .find(|address| address.is_ipv4())
        .ok_or_else(usage)
}
