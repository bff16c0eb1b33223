//! The token endpoint: the authorization-code exchange (both flows), the
//! best-effort API-key exchange Codex does after a browser login, refresh,
//! and revocation (RFC 7009).
//!
//! Refresh is sent form-encoded (RFC 6749 section 6) where Codex sends
//! JSON: OpenAI's endpoint takes forms (the code exchange is one), and so
//! do standard authorization servers. Revocation goes as Codex sends it
//! (JSON), and once more as a form when the server refuses JSON.

use std::time::Duration;

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::http::{self, error_code, error_detail, form};
use crate::{LoginError, LoginOptions, REFRESH_URL_ENV, REVOKE_URL_ENV};

/// Codex refreshes a login whose `last_refresh` is older than this.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(8 * 24 * 60 * 60);

/// The tokens of a login. After a refresh, `id_token` and `refresh_token`
/// are empty when the server sent none (the old ones stay valid).
pub struct Tokens {
    pub id_token: Zeroizing<String>,
    pub access_token: Zeroizing<String>,
    pub refresh_token: Zeroizing<String>,
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    id_token: Option<Zeroizing<String>>,
    access_token: Zeroizing<String>,
    #[serde(default)]
    refresh_token: Option<Zeroizing<String>>,
}

/// `{issuer}/oauth/token`.
pub fn token_url(issuer: &str) -> String {
    format!("{}/oauth/token", issuer.trim_end_matches('/'))
}

/// Exchanges an authorization code (with its PKCE verifier) for tokens.
pub async fn exchange_code(
    client: &reqwest::Client,
    options: &LoginOptions,
    redirect_uri: &str,
    verifier: &str,
    code: &str,
) -> Result<Tokens, LoginError> {
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("client_id", &options.client_id),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ]);
    let response = client
        .post(token_url(&options.issuer))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .map_err(|error| LoginError::Exchange(http::describe(&error)))?;
    let status = response.status();
    let text = Zeroizing::new(
        response
            .text()
            .await
            .map_err(|error| LoginError::Exchange(http::describe(&error)))?,
    );
    if !status.is_success() {
        return Err(LoginError::Exchange(format!(
            "token endpoint returned status {status}: {}",
            error_detail(&text)
        )));
    }
    let parsed: TokenResponse = serde_json::from_str(&text).map_err(|error| {
        LoginError::Exchange(format!(
            "the token endpoint's answer is not a token response ({})",
            position(&error)
        ))
    })?;
    let (Some(id_token), Some(refresh_token)) = (parsed.id_token, parsed.refresh_token) else {
        return Err(LoginError::Exchange(
            "the token endpoint's answer lacks an id_token or a refresh_token (ask for the \
             `openid` and `offline_access` scopes)"
                .to_owned(),
        ));
    };
    Ok(Tokens {
        id_token,
        access_token: parsed.access_token,
        refresh_token,
    })
}

/// Codex's exchange of the id_token for an API key (RFC 8693). Best effort,
/// as in Codex: `None` when the server does not offer it.
pub async fn obtain_api_key(
    client: &reqwest::Client,
    options: &LoginOptions,
    id_token: &str,
) -> Option<Zeroizing<String>> {
    let body = form(&[
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("client_id", &options.client_id),
        ("requested_token", "openai-api-key"),
        ("subject_token", id_token),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:id_token",
        ),
    ]);
    let response = client
        .post(token_url(&options.issuer))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let text = Zeroizing::new(response.text().await.ok()?);
    #[derive(Deserialize)]
    struct Exchanged {
        access_token: Zeroizing<String>,
    }
    let parsed: Exchanged = serde_json::from_str(&text).ok()?;
    Some(parsed.access_token).filter(|key| !key.is_empty())
}

/// Where refresh and revocation go, and as which client.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub refresh_url: String,
    pub revoke_url: String,
    pub client_id: String,
    pub originator: String,
}

impl Endpoints {
    /// `issuer`'s endpoints, or Codex's overrides
    /// (`CODEX_REFRESH_TOKEN_URL_OVERRIDE`, `CODEX_REVOKE_TOKEN_URL_OVERRIDE`).
    pub fn for_issuer(issuer: &str, client_id: &str) -> Endpoints {
        let from_env = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let issuer = issuer.trim_end_matches('/');
        Endpoints {
            refresh_url: from_env(REFRESH_URL_ENV).unwrap_or_else(|| token_url(issuer)),
            revoke_url: from_env(REVOKE_URL_ENV)
                .unwrap_or_else(|| format!("{issuer}/oauth/revoke")),
            client_id: client_id.to_owned(),
            originator: crate::originator(),
        }
    }
}

/// Why a refresh failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshError {
    /// The refresh token is spent, expired or revoked: only a new login
    /// helps. The text is Codex's, with the command that fixes it.
    Permanent(String),
    /// The server could not be reached or failed: try again later.
    Transient(String),
}

impl std::fmt::Display for RefreshError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RefreshError::Permanent(text) | RefreshError::Transient(text) => f.write_str(text),
        }
    }
}

/// Codex's message for a refresh the server refused for good.
fn permanent_message(code: Option<&str>) -> String {
    let reason = match code {
        Some("refresh_token_expired") => {
            "Your access token could not be refreshed because your refresh token has expired."
        }
        Some("refresh_token_reused") => {
            "Your access token could not be refreshed because your refresh token was already used."
        }
        Some("refresh_token_invalidated") => {
            "Your access token could not be refreshed because your refresh token was revoked."
        }
        _ => "Your access token could not be refreshed.",
    };
    format!("{reason} Please log out and sign in again: `codex logout && codex login`.")
}

/// Trades `refresh_token` for new tokens. The caller serialises refreshes
/// (one at a time, the stored login re-read first) and writes the result
/// with [`crate::document::refreshed_document`].
pub async fn refresh(endpoints: &Endpoints, refresh_token: &str) -> Result<Tokens, RefreshError> {
    let client = http::client(&endpoints.originator)
        .map_err(|error| RefreshError::Transient(error.to_string()))?;
    let body = form(&[
        ("grant_type", "refresh_token"),
        ("client_id", &endpoints.client_id),
        ("refresh_token", refresh_token),
    ]);
    let response = client
        .post(&endpoints.refresh_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .map_err(|error| {
            RefreshError::Transient(format!(
                "cannot reach the token endpoint: {}",
                http::describe(&error)
            ))
        })?;
    let status = response.status();
    let text = Zeroizing::new(response.text().await.map_err(|error| {
        RefreshError::Transient(format!(
            "the token endpoint's answer broke off: {}",
            http::describe(&error)
        ))
    })?);
    if !status.is_success() {
        let code = error_code(&text);
        let permanent = status == reqwest::StatusCode::UNAUTHORIZED
            || matches!(
                code.as_deref(),
                Some(
                    "invalid_grant"
                        | "refresh_token_expired"
                        | "refresh_token_reused"
                        | "refresh_token_invalidated"
                )
            );
        return Err(if permanent {
            RefreshError::Permanent(permanent_message(code.as_deref()))
        } else {
            RefreshError::Transient(format!(
                "the token endpoint returned status {status}: {}",
                error_detail(&text)
            ))
        });
    }
    let parsed: TokenResponse = serde_json::from_str(&text).map_err(|error| {
        RefreshError::Transient(format!(
            "the token endpoint's answer is not a token response ({})",
            position(&error)
        ))
    })?;
    Ok(Tokens {
        id_token: parsed.id_token.unwrap_or_default(),
        access_token: parsed.access_token,
        refresh_token: parsed.refresh_token.unwrap_or_default(),
    })
}

/// Revokes `token` (a refresh token, else an access token: `hint`). A
/// server that refuses Codex's JSON body gets the RFC 7009 form.
pub async fn revoke(endpoints: &Endpoints, token: &str, hint: &str) -> Result<(), String> {
    let client = http::client(&endpoints.originator).map_err(|error| error.to_string())?;
    #[derive(serde::Serialize)]
    struct Revocation<'a> {
        token: &'a str,
        token_type_hint: &'a str,
        client_id: &'a str,
    }
    let json = Zeroizing::new(
        serde_json::to_string(&Revocation {
            token,
            token_type_hint: hint,
            client_id: &endpoints.client_id,
        })
        .map_err(|error| error.to_string())?,
    );
    let send = async |content_type: &'static str, body: String| {
        client
            .post(&endpoints.revoke_url)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .map_err(|error| {
                format!(
                    "cannot reach the revocation endpoint: {}",
                    http::describe(&error)
                )
            })
    };
    let first = send("application/json", json.to_string()).await?;
    let status = first.status();
    if status.is_success() {
        return Ok(());
    }
    let refused_json = status == reqwest::StatusCode::BAD_REQUEST
        || status == reqwest::StatusCode::UNSUPPORTED_MEDIA_TYPE;
    if !refused_json {
        let text = first.text().await.unwrap_or_default();
        return Err(format!(
            "the revocation endpoint returned status {status}: {}",
            error_detail(&text)
        ));
    }
    let body = form(&[
        ("token", token),
        ("token_type_hint", hint),
        ("client_id", &endpoints.client_id),
    ]);
    let second = send("application/x-www-form-urlencoded", body.to_string()).await?;
    let status = second.status();
    if status.is_success() {
        return Ok(());
    }
    let text = second.text().await.unwrap_or_default();
    Err(format!(
        "the revocation endpoint returned status {status}: {}",
        error_detail(&text)
    ))
}

/// Where a JSON error is, never what the text there was.
fn position(error: &serde_json::Error) -> String {
    format!("line {}, column {}", error.line(), error.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanent_failures_name_the_fix() {
        let text = permanent_message(Some("refresh_token_reused"));
        assert!(text.contains("already used"), "{text}");
        assert!(text.ends_with("`codex logout && codex login`."), "{text}");
    }
}
