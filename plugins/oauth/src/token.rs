//! The token endpoint (code exchange and refresh, RFC 6749 sections 4.1.3
//! and 6) and the revocation endpoint (RFC 7009).
//!
//! `resource` (RFC 8707) goes with every token request. Errors show the
//! OAuth `error` and `error_description`, never a token.

use codex_plugin_api::{ErrorKind, PluginError, PluginResult};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::net::{Answer, Net};
use crate::registration::Client;

/// A token endpoint's answer, as Codex stores it (`token_response`).
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: Zeroizing<String>,
    #[serde(default = "bearer")]
    pub token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Zeroizing<String>>,
    /// The granted scopes, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

fn bearer() -> String {
    "bearer".to_owned()
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "****"),
            )
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Exchanges an authorization code for tokens.
pub async fn exchange(
    net: &Net,
    endpoint: &Url,
    client: &Client,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
    resource: &str,
) -> PluginResult<TokenResponse> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
        ("resource", resource),
    ];
    let answer = net.post_form(endpoint, &form, &client.auth()?).await?;
    if !answer.status.is_success() {
        return Err(PluginError::new(
            ErrorKind::Unauthorized,
            format!(
                "the authorization server of MCP server `{}` refused the authorization code: {}",
                net.server(),
                answer.error_text(net)
            ),
        ));
    }
    read(net, &answer)
}

/// Uses `refresh_token` for new tokens. The refresh token is kept when the
/// answer brings none. `invalid_grant` (expired or revoked) says to log in.
pub async fn refresh(
    net: &Net,
    endpoint: &Url,
    client: &Client,
    refresh_token: &str,
    resource: Option<&str>,
) -> PluginResult<TokenResponse> {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(resource) = resource {
        form.push(("resource", resource));
    }
    let answer = net.post_form(endpoint, &form, &client.auth()?).await?;
    let server = net.server();
    if !answer.status.is_success() {
        if answer.json.get("error").and_then(Value::as_str) == Some("invalid_grant") {
            return Err(login_expired(server));
        }
        return Err(PluginError::new(
            ErrorKind::Unauthorized,
            format!(
                "the authorization server of MCP server `{server}` refused to refresh the token: {}; run `codex mcp login {server}` if this persists",
                answer.error_text(net)
            ),
        ));
    }
    let mut tokens = read(net, &answer)?;
    if tokens.refresh_token.is_none() {
        tokens.refresh_token = Some(Zeroizing::new(refresh_token.to_owned()));
    }
    Ok(tokens)
}

/// The error of a login that can no longer be refreshed.
pub fn login_expired(server: &str) -> PluginError {
    PluginError::new(
        ErrorKind::Unauthorized,
        format!(
            "the login of MCP server `{server}` has expired or was revoked; run `codex mcp login {server}`"
        ),
    )
}

/// Revokes `token` (RFC 7009); `hint` is `refresh_token` or `access_token`.
pub async fn revoke(
    net: &Net,
    endpoint: &Url,
    client: &Client,
    token: &str,
    hint: &str,
) -> PluginResult<()> {
    let form = [("token", token), ("token_type_hint", hint)];
    let answer = net.post_form(endpoint, &form, &client.auth()?).await?;
    if answer.status.is_success() {
        return Ok(());
    }
    Err(PluginError::new(
        ErrorKind::Unavailable,
        format!(
            "the authorization server of MCP server `{}` did not revoke the {}: {}",
            net.server(),
            hint.replace('_', " "),
            answer.error_text(net)
        ),
    ))
}

/// Reads a successful token answer.
pub fn read(net: &Net, answer: &Answer) -> PluginResult<TokenResponse> {
    let invalid = |what: &str| {
        PluginError::new(
            ErrorKind::Protocol,
            format!(
                "the token answer of MCP server `{}`'s authorization server {what}",
                net.server()
            ),
        )
    };
    let json = &answer.json;
    let access_token = json
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| invalid("has no `access_token`"))?;
    let token_type = json
        .get("token_type")
        .and_then(Value::as_str)
        .unwrap_or("bearer");
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(invalid(&format!(
            "gives a `{token_type}` token; only bearer tokens are supported"
        )));
    }
    // Some servers send the lifetime as a string.
    let expires_in = match json.get("expires_in") {
        Some(Value::Number(number)) => number.as_u64(),
        Some(Value::String(text)) => text.parse().ok(),
        _ => None,
    };
    Ok(TokenResponse {
        access_token: Zeroizing::new(access_token.to_owned()),
        token_type: "bearer".to_owned(),
        expires_in,
        refresh_token: json
            .get("refresh_token")
            .and_then(Value::as_str)
            .filter(|token| !token.is_empty())
            .map(|token| Zeroizing::new(token.to_owned())),
        scope: json.get("scope").and_then(Value::as_str).map(str::to_owned),
    })
}
