//! The OAuth transport plugin: streamable HTTP (with its HTTP+SSE
//! fallback, from `codex-http-common`) to servers that ask for MCP
//! authorization.
//!
//! The host picks transport `oauth` for a `url` server without a configured
//! bearer token when tokens are stored for it or a login may start. Every
//! request of such a connection carries the stored access token through
//! [`authorizer::OAuthAuthorizer`], which refreshes it and, where the host
//! allows, logs in again. `login` and `logout` serve `codex mcp login`,
//! the login `codex mcp add` starts, and `codex mcp logout`.
//!
//! Tokens never reach the host: they go to the host's configured credential
//! store through `HostServices::credential_*`, under Codex's names.

mod assertion;
mod authorizer;
mod callback;
mod challenge;
mod config;
mod device;
mod discovery;
mod lock;
mod login;
mod machine;
mod net;
mod pkce;
mod registration;
mod store;
mod token;

use std::sync::Arc;
use std::time::Duration;

use codex_http_common::{Mode, connection};
use codex_plugin_api::{
    AuthProbe, ConnectRequest, Connection, HostServices, LogLevel, LoginRequest, MessageSink,
    Plugin, PluginError, PluginManifest, PluginResult, Transport,
};
use serde_json::json;

use crate::authorizer::OAuthAuthorizer;
use crate::config::{LoginOptions, ServerConfig};
use crate::login::Trigger;
use crate::net::{Net, REQUEST_TIMEOUT};
use crate::store::TokenStore;

/// The plugin's name (its library is `libcodex_oauth.so`).
pub const PLUGIN_NAME: &str = "oauth";
/// Its one transport.
pub const OAUTH_TRANSPORT: &str = "oauth";

/// The plugin: transport `oauth`.
pub struct OAuthPlugin;

impl Plugin for OAuthPlugin {
    fn manifest() -> PluginManifest {
        PluginManifest::new(
            PLUGIN_NAME,
            env!("CARGO_PKG_VERSION"),
            "Connects to MCP servers over streamable HTTP with OAuth authorization (login, refresh, step-up, logout)",
        )
        .transport(OAUTH_TRANSPORT)
    }

    fn transport(name: &str, host: HostServices) -> PluginResult<Box<dyn Transport>> {
        if name != OAUTH_TRANSPORT {
            return Err(PluginError::not_found(format!(
                "the {PLUGIN_NAME} plugin provides no transport named '{name}'; its transport is '{OAUTH_TRANSPORT}'"
            )));
        }
        Ok(Box::new(OAuthTransport { host }))
    }
}

codex_plugin_api::export_plugin!(OAuthPlugin);

/// Connects to, logs in to and logs out of OAuth-protected servers.
pub struct OAuthTransport {
    host: HostServices,
}

impl OAuthTransport {
    /// Runs `work` on a runtime of this call's own (a login, a logout).
    fn block_on<T>(&self, work: impl Future<Output = PluginResult<T>>) -> PluginResult<T> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| {
                PluginError::internal(format!("cannot start the OAuth runtime: {error}"))
            })?;
        runtime.block_on(work)
    }
}

impl Transport for OAuthTransport {
    fn connect(
        &self,
        request: ConnectRequest,
        sink: MessageSink,
    ) -> PluginResult<Box<dyn Connection>> {
        let name = request.server_name.as_str();
        let server = ServerConfig::parse(name, request.config_json.as_str())?;
        let timeout = codex_http_common::connect_timeout(request.timeout_ms);
        let authorizer = Arc::new(OAuthAuthorizer::new(self.host.clone(), server.clone()));
        let connection = connection::open(
            name,
            &server.http,
            Mode::Streamable,
            timeout,
            self.host.clone(),
            sink,
            Some(authorizer),
        )?;
        Ok(Box::new(connection))
    }

    fn probe_auth(&self, request: ConnectRequest) -> PluginResult<AuthProbe> {
        let name = request.server_name.as_str();
        let server = ServerConfig::parse(name, request.config_json.as_str())?;
        let timeout = codex_http_common::connect_timeout(request.timeout_ms);
        codex_http_common::auth_probe::probe(name, &server.http, timeout)
    }

    /// Answers `{"message", "scopes", "issuer"}`.
    fn login(&self, request: LoginRequest) -> PluginResult<String> {
        let name = request.server_name.as_str();
        let server = ServerConfig::parse(name, request.config_json.as_str())?;
        let options = LoginOptions::parse(request.options_json.as_str())?;
        let timeout = match request.timeout_ms {
            0 => login::DEFAULT_LOGIN_TIMEOUT,
            ms => Duration::from_millis(ms),
        };
        let previous =
            TokenStore::new(self.host.clone(), name, server.url()).load_before_login()?;
        let stored = self.block_on(async {
            let running = login::login(
                &self.host,
                &server,
                &options,
                Trigger::Requested,
                previous.as_ref(),
            );
            tokio::time::timeout(timeout, running)
                .await
                .map_err(|_| login::timed_out(&server, timeout))?
        })?;
        let issuer = stored.oauth.as_ref().map(|record| record.issuer.clone());
        Ok(json!({
            "message": format!("Successfully logged in to MCP server '{name}'."),
            "server": name,
            "grant": options.grant.as_str(),
            "scopes": stored.granted_scopes(),
            "issuer": issuer,
            "expires_at": stored.expires_at,
            "refresh_token": stored.token_response.refresh_token.is_some(),
        })
        .to_string())
    }

    /// Revokes the stored tokens where the authorization server offers
    /// revocation (RFC 7009), then deletes them. Answers `{"message",
    /// "revoked", "removed"}`.
    fn logout(&self, request: ConnectRequest) -> PluginResult<String> {
        let name = request.server_name.as_str();
        let server = ServerConfig::parse(name, request.config_json.as_str())?;
        let store = TokenStore::new(self.host.clone(), name, server.url());
        let Some(tokens) = store.load()? else {
            return Ok(json!({
                "message": format!("No OAuth credentials stored for '{name}'."),
                "revoked": false,
                "removed": false,
            })
            .to_string());
        };
        let revoked = self.block_on(async {
            let net = Net::new(&server, REQUEST_TIMEOUT)?;
            let recorded = tokens
                .oauth
                .as_ref()
                .and_then(|record| record.revocation_endpoint.as_deref())
                .and_then(|endpoint| reqwest::Url::parse(endpoint).ok());
            let endpoint = match recorded {
                Some(endpoint) => Some(endpoint),
                None => discovery::discover(&net, &server.http.url, None)
                    .await
                    .ok()
                    .and_then(|found| found.server.revocation_endpoint),
            };
            let Some(endpoint) = endpoint else {
                return Ok(false);
            };
            let client = tokens.client();
            let response = &tokens.token_response;
            // The refresh token first: revoking it ends the whole grant at
            // most providers.
            if let Some(refresh) = &response.refresh_token {
                token::revoke(&net, &endpoint, &client, refresh, "refresh_token").await?;
            }
            token::revoke(
                &net,
                &endpoint,
                &client,
                &response.access_token,
                "access_token",
            )
            .await?;
            Ok(true)
        });
        let revoked = match revoked {
            Ok(revoked) => revoked,
            Err(error) => {
                self.host.log(LogLevel::Warn, &error.message);
                false
            }
        };
        let removed = store.delete()?;
        let message = if removed {
            format!("Removed OAuth credentials for '{name}'.")
        } else {
            format!("No OAuth credentials stored for '{name}'.")
        };
        Ok(json!({"message": message, "revoked": revoked, "removed": removed}).to_string())
    }
}
