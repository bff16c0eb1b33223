//! `mcpServer/oauth/login`: an MCP server's OAuth login through the `oauth`
//! transport plugin (the same login `codex mcp login NAME` runs, its tokens
//! stored where that command stores them), answered with the
//! `authorizationUrl` as soon as the plugin has one, for the client to open;
//! when the login ends, `mcpServer/oauthLogin/completed`.
//!
//! The plugin asks the host to open the URL; the login's own host context
//! hands it to this request instead of a browser. A login that fails before
//! it has a URL (discovery, registration) is the request's error.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use codex_mcp_client::oauth::{self, LoginFlags};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::mcp_rpc::configured;
use crate::protocol::{RpcError, notification, params, to_result};
use crate::server::{Answer, Server};

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct McpServerOauthLoginParams {
    /// A configured streamable HTTP server.
    name: String,
    /// The scopes to ask for; else the server's or the challenge's.
    #[serde(default)]
    scopes: Option<Vec<String>>,
    /// Given back in `mcpServer/oauthLogin/completed`.
    #[serde(default)]
    thread_id: Option<String>,
    /// `auto`, `cimd` or `dcr`, as `codex mcp login --registration`.
    #[serde(default)]
    #[schemars(extend("enum" = ["auto", "cimd", "dcr", null]))]
    client_registration: Option<String>,
    /// Accepted as Codex's; the plugin bounds a login itself
    /// ([`oauth::LOGIN_TIMEOUT`]).
    #[serde(default)]
    #[allow(dead_code)]
    timeout_secs: Option<i64>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct McpServerOauthLoginResponse {
    /// For the client to open in a browser.
    authorization_url: String,
    /// Names this login in `mcpServer/oauthLogin/completed`.
    login_id: String,
}

/// How a login that `mcpServer/oauth/login` began ended.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct McpServerOauthLoginCompletedNotification {
    name: String,
    success: bool,
    error: Option<String>,
    login_id: String,
    thread_id: Option<String>,
}

pub async fn login(server: Arc<Server>, raw: Option<Value>) -> Answer {
    let asked: McpServerOauthLoginParams = params(raw)?;
    let app = server.app();
    let name = asked.name.clone();
    let config = match configured(&app, &name) {
        Ok(config) => config,
        Err(_) => {
            return Err(RpcError::invalid_request(format!(
                "No MCP server named '{name}' found."
            )));
        }
    };
    if config.url.is_none() {
        return Err(RpcError::invalid_request(
            "OAuth login is only supported for streamable HTTP servers.",
        ));
    }
    let registration = match asked.client_registration.as_deref() {
        None | Some("auto") => None,
        Some(kind @ ("cimd" | "dcr")) => Some(kind.to_owned()),
        Some(other) => {
            return Err(RpcError::invalid_request(format!(
                "Invalid request: unknown clientRegistration `{other}`, expected one of `auto`, \
                 `cimd`, `dcr`"
            )));
        }
    };
    let flags = LoginFlags {
        scopes: asked.scopes.clone(),
        registration,
        ..LoginFlags::default()
    };
    let failed = |error: anyhow::Error| {
        RpcError::internal(format!("failed to login to MCP server '{name}': {error:#}"))
    };
    let options = oauth::login_options(&app.config, &flags).map_err(failed)?;
    // A context of its own: the URL goes to this request, not a browser.
    let host = app.host_context().map_err(failed)?;
    let (url_sender, mut urls) = mpsc::unbounded_channel::<String>();
    let handed_out = Arc::new(AtomicBool::new(false));
    {
        let handed_out = handed_out.clone();
        host.set_url_opener(Arc::new(move |url: &str| {
            handed_out.store(true, Ordering::SeqCst);
            let _ = url_sender.send(url.to_owned());
            Ok(())
        }));
    }
    host.allow_login(options.clone());

    let login_id = crate::account_login::new_login_id().map_err(RpcError::internal)?;
    let (early_end, ended_early) = oneshot::channel::<String>();
    {
        let server = server.clone();
        let login_id = login_id.clone();
        let thread_id = asked.thread_id.clone();
        tokio::spawn(async move {
            let outcome = match app.plugins() {
                Ok(plugins) => oauth::login(&name, &config, plugins, &host, options).await,
                Err(error) => Err(error),
            };
            let error = outcome
                .err()
                .map(|error| format!("failed to login to MCP server '{name}': {error:#}"));
            if !handed_out.load(Ordering::SeqCst) {
                // No URL reached the client: the request itself fails.
                let _ = early_end.send(error.unwrap_or_else(|| {
                    format!("the login to MCP server '{name}' ended without an authorization URL")
                }));
                return;
            }
            server.notify(notification(
                "mcpServer/oauthLogin/completed",
                McpServerOauthLoginCompletedNotification {
                    name,
                    success: error.is_none(),
                    error,
                    login_id,
                    thread_id,
                },
            ));
        });
    }
    tokio::select! {
        url = urls.recv() => match url {
            Some(url) => {
                let answer = McpServerOauthLoginResponse {
                    authorization_url: url,
                    login_id,
                };
                Ok((to_result(&answer)?, Vec::new()))
            }
            None => Err(RpcError::internal("the login ended without an authorization URL")),
        },
        error = ended_early => Err(RpcError::internal(
            error.unwrap_or_else(|_| "the login ended without an authorization URL".to_owned()),
        )),
    }
}
