//! OAuth logins, done by the `oauth` transport plugin: which servers it
//! serves, the options a login gets (flags over config), and the calls for
//! `codex mcp login`, `codex mcp logout` and the login `mcp add` starts.
//!
//! The host never sees a token: the plugin stores what it gets through the
//! host's credential store. The host decides only *whether* a login may
//! start (see [`HostContext::allow_login`]) and with which options.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use codex_config::{LoadedConfig, McpServerConfig};
use codex_plugin_api::{ConnectRequest, LoginRequest, ServiceKind};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use codex_plugin_host::PluginSet;
use codex_plugin_host::services::HostContext;
use codex_plugin_host::transports::{self, FoundTransport};

use crate::auth;

/// The transport of the `oauth` plugin.
pub const OAUTH_TRANSPORT: &str = "oauth";
/// How long a login may take: the browser, a person, the provider's pages.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a device login may take: the person finds another device
/// first (the device code's own expiry usually ends it sooner).
pub const DEVICE_LOGIN_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// What the user said on the command line about a login.
#[derive(Debug, Default)]
pub struct LoginFlags {
    pub scopes: Option<Vec<String>>,
    pub no_browser: bool,
    pub client_id: Option<String>,
    pub client_secret: Option<Zeroizing<String>>,
    pub resource: Option<String>,
    pub registration: Option<String>,
    pub callback_port: Option<u16>,
    /// The grant (`client_credentials`, `device_code`, `id_jag`; none: the
    /// browser flow).
    pub grant: Option<&'static str>,
    /// `--private-key`, `--signing-algorithm`, `--id-token-file`,
    /// `--idp-url`, `--idp-client-id` (files as absolute paths: the login
    /// records them to use again).
    pub private_key_file: Option<String>,
    pub signing_algorithm: Option<String>,
    pub id_token_file: Option<String>,
    pub idp_url: Option<String>,
    pub idp_client_id: Option<String>,
}

/// The options of a login as the plugin reads them (see
/// [`LoginRequest::options_json`]): the flags, and the top-level config keys
/// `mcp_oauth_callback_port` (as `config_callback_port`: a server's own
/// `[oauth] callback_port` wins over it), `mcp_oauth_callback_url` and
/// `mcp_oauth_client_metadata_url`.
pub fn login_options(config: &LoadedConfig, flags: &LoginFlags) -> Result<Zeroizing<String>> {
    let settings = codex_config::mcp_oauth::mcp_oauth_settings(config)?;
    let mut options = Map::new();
    if let Some(port) = flags.callback_port {
        options.insert("callback_port".into(), port.into());
    }
    // Below a server's own `[oauth] callback_port`, which the plugin reads.
    if let Some(port) = settings.callback_port {
        options.insert("config_callback_port".into(), port.into());
    }
    if let Some(url) = settings.callback_url {
        options.insert("callback_url".into(), url.into());
    }
    if let Some(url) = settings.client_metadata_url {
        options.insert("client_metadata_url".into(), url.into());
    }
    if let Some(scopes) = &flags.scopes {
        options.insert("scopes".into(), scopes.clone().into());
    }
    if flags.no_browser {
        options.insert("no_browser".into(), true.into());
    }
    if let Some(grant) = flags.grant {
        options.insert("grant".into(), grant.into());
    }
    for (key, value) in [
        ("client_id", &flags.client_id),
        ("resource", &flags.resource),
        ("registration", &flags.registration),
        ("private_key_file", &flags.private_key_file),
        ("signing_algorithm", &flags.signing_algorithm),
        ("id_token_file", &flags.id_token_file),
        ("idp_url", &flags.idp_url),
        ("idp_client_id", &flags.idp_client_id),
    ] {
        if let Some(value) = value {
            options.insert(key.into(), value.clone().into());
        }
    }
    if let Some(secret) = &flags.client_secret {
        options.insert("client_secret".into(), secret.as_str().into());
    }
    let json = Zeroizing::new(Value::Object(options).to_string());
    // The map held a copy of the secret; it is dropped here, the JSON kept.
    Ok(json)
}

/// Whether `server` is one the `oauth` transport serves now: an HTTP server
/// without a configured bearer token or `Authorization` header, when the
/// plugin is loaded, and either tokens are stored for it or a login may
/// start. Anything else keeps its own transport.
pub fn serves(
    name: &str,
    server: &McpServerConfig,
    plugins: &PluginSet,
    host: &HostContext,
) -> bool {
    if transports::transport_name(server) != transports::HTTP_TRANSPORT
        || auth::status_from_config(server).is_some()
        || plugins
            .provider(ServiceKind::Transport, OAUTH_TRANSPORT)
            .is_none()
    {
        return false;
    }
    if host.login_allowed() {
        return true;
    }
    let url = server.url.as_deref().unwrap_or_default();
    codex_credentials::stored_mcp_tokens(host, name, url)
        .is_ok_and(|stored| stored != codex_credentials::StoredMcpTokens::Missing)
}

/// The `oauth` transport, or an error that says how to get it.
fn oauth_transport(name: &str, plugins: &PluginSet) -> Result<FoundTransport> {
    transports::find_named_transport(name, OAUTH_TRANSPORT, plugins)
}

/// Logs in to `name` through the `oauth` plugin with `options` (JSON);
/// returns the plugin's answer (`message` and more).
pub async fn login(
    name: &str,
    server: &McpServerConfig,
    plugins: &PluginSet,
    host: &Arc<HostContext>,
    options: Zeroizing<String>,
) -> Result<Value> {
    if server.url.is_none() {
        bail!(
            "OAuth login is only supported for streamable_http transports (MCP server `{name}` has a `command`)."
        );
    }
    let found = oauth_transport(name, plugins)?;
    let device = serde_json::from_str::<Value>(&options)
        .ok()
        .and_then(|options| options.get("grant").cloned())
        == Some(Value::from("device_code"));
    let limit = if device {
        DEVICE_LOGIN_TIMEOUT
    } else {
        LOGIN_TIMEOUT
    };
    let request = LoginRequest {
        server_name: name.into(),
        config_json: server.to_json().to_string().into(),
        options_json: options.as_str().into(),
        timeout_ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
    };
    let services = host.services();
    let running =
        tokio::task::spawn_blocking(move || found.create(services)?.login(request).into_result());
    // The plugin bounds the login itself; this only guards against a plugin
    // that hangs past its own deadline.
    let answer = match tokio::time::timeout(limit + Duration::from_secs(10), running).await {
        Err(_) => bail!(
            "the login to MCP server `{name}` did not finish in {} s",
            limit.as_secs()
        ),
        Ok(Err(join)) => bail!("the login to MCP server `{name}` failed: {join}"),
        Ok(Ok(Err(error))) => bail!("{}", error.message),
        Ok(Ok(Ok(answer))) => answer,
    };
    parse_answer(name, answer.as_str())
}

/// Revokes (where the server supports it) and deletes the tokens of `name`
/// through the `oauth` plugin; `None` when the plugin is not loaded.
pub async fn logout(
    name: &str,
    server: &McpServerConfig,
    plugins: &PluginSet,
    host: &Arc<HostContext>,
) -> Result<Option<Value>> {
    if plugins
        .provider(ServiceKind::Transport, OAUTH_TRANSPORT)
        .is_none()
    {
        return Ok(None);
    }
    let found = oauth_transport(name, plugins)?;
    let request: ConnectRequest =
        transports::connect_request(name, server, Duration::from_secs(30));
    let services = host.services();
    let running =
        tokio::task::spawn_blocking(move || found.create(services)?.logout(request).into_result());
    let answer = match tokio::time::timeout(Duration::from_secs(60), running).await {
        Err(_) => bail!("the logout from MCP server `{name}` did not finish in 60 s"),
        Ok(Err(join)) => bail!("the logout from MCP server `{name}` failed: {join}"),
        Ok(Ok(Err(error))) => bail!("{}", error.message),
        Ok(Ok(Ok(answer))) => answer,
    };
    parse_answer(name, answer.as_str()).map(Some)
}

/// The plugin's JSON answer; it must be an object with a `message`.
fn parse_answer(name: &str, answer: &str) -> Result<Value> {
    match serde_json::from_str::<Value>(answer) {
        Ok(value) if value.get("message").is_some_and(Value::is_string) => Ok(value),
        _ => Err(anyhow!(
            "the oauth plugin's answer for MCP server `{name}` is not a JSON object with a `message`"
        )),
    }
}

/// The one line for the user in an answer.
pub fn message(answer: &Value) -> &str {
    answer
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config with nothing but the `-c` overrides `overrides`.
    fn config(overrides: &[&str]) -> LoadedConfig {
        let dir = tempfile::tempdir().unwrap();
        let paths = codex_config::ConfigPaths {
            codex_home: dir.path().to_path_buf(),
            system_config: dir.path().join("none.toml"),
            managed_config: dir.path().join("none-managed.toml"),
            project_dir: None,
            profile: None,
        };
        codex_config::load(&paths, overrides).unwrap()
    }

    #[test]
    fn flags_win_over_config_and_absent_values_are_left_out() {
        let loaded = config(&[
            "mcp_oauth_callback_port=5555",
            "mcp_oauth_callback_url=http://127.0.0.1:5555/cb",
        ]);
        let flags = LoginFlags {
            callback_port: Some(6000),
            scopes: Some(vec!["a".into(), "b".into()]),
            client_secret: Some(Zeroizing::new("s3cret".into())),
            ..LoginFlags::default()
        };
        let json: Value = serde_json::from_str(&login_options(&loaded, &flags).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "callback_port": 6000,
                "config_callback_port": 5555,
                "callback_url": "http://127.0.0.1:5555/cb",
                "scopes": ["a", "b"],
                "client_secret": "s3cret"
            })
        );
    }

    #[test]
    fn a_zero_callback_port_is_refused_as_codex_does() {
        let error = login_options(
            &config(&["mcp_oauth_callback_port=0"]),
            &LoginFlags::default(),
        )
        .unwrap_err()
        .to_string();
        // Codex's words, at the place of the value (here the `-c` override).
        assert!(
            error.contains("invalid MCP OAuth callback port `0`"),
            "{error}"
        );
        assert!(
            error.contains("in -c override `mcp_oauth_callback_port="),
            "{error}"
        );
    }
}
