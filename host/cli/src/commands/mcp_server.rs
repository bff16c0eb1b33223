//! `codex mcp-server`: the configured servers as one MCP server, on stdio
//! or (with `--listen`) streamable HTTP. The gateway itself is the
//! `codex-gateway` crate; this is its flags and its start-up lines.

use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Result, anyhow, bail};
use codex_gateway::http::{Auth, HttpOptions};
use codex_gateway::{Gateway, GatewayOptions, NameMode};
use codex_host::App;

use super::runtime;
use crate::cli::{GatewayNames, McpServerArgs};

pub fn serve(app: App, args: McpServerArgs) -> Result<ExitCode> {
    let options = GatewayOptions {
        names: match args.names {
            GatewayNames::Qualified => NameMode::Qualified,
            GatewayNames::Plain => NameMode::Plain,
        },
        servers: args.servers.clone(),
        verbose: app.options.verbose,
    };
    // Checked before anything starts, so a mistake costs no server start.
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
            max_body_bytes: args.max_body_bytes,
            max_concurrent: args.max_concurrent,
        },
        printed,
    ))
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
