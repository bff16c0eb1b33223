//! Account login as the Codex CLI 0.169 has it, for every front end (the
//! `codex login` command today, the app server's AuthManager next):
//!
//! - [`browser`]: the browser flow, PKCE S256 and `state`, a loopback server
//!   on `localhost:1455` (`/auth/callback`, `/success`, `/cancel`);
//! - [`device`]: the device-code flow on Codex's own endpoints
//!   (`/api/accounts/deviceauth/usercode` and `/token`);
//! - [`token`]: the code exchange, refresh and revocation;
//! - [`claims`]: what the `id_token` says (email, plan, account);
//! - [`document`]: the ChatGPT `auth.json` document in Codex's format;
//! - [`policy`]: `forced_login_method` and `forced_chatgpt_workspace_id`;
//! - [`refresh`]: renewing a stored login, one process at a time;
//! - [`login_log`]: `codex-login.log`, as Codex writes it;
//! - [`agent_identity`]: the access-token login (an Agent Identity JWT).
//!
//! Nothing here stores a login or prints: the flows hand their tokens to a `save`
//! callback and report through [`LoginError`], so the caller decides where
//! the login goes (the configured credential store) and what the user sees.
//! Tokens live in zeroizing strings and never appear in an error.

pub mod agent_identity;
pub mod browser;
pub mod claims;
pub mod device;
pub mod document;
mod http;
pub mod login_log;
pub mod pkce;
pub mod policy;
pub mod refresh;
mod time;
pub mod token;

use std::fmt;

pub use claims::IdTokenClaims;
pub use document::{StoredLogin, chatgpt_document};
pub use token::{RefreshError, Tokens};

/// Codex's issuer.
pub const DEFAULT_ISSUER: &str = "https://auth.openai.com";
/// Codex's OAuth client.
pub const DEFAULT_CLIENT_ID: &str = "app_EMoamEEZ73f0CkXaXp7hrann";
/// The loopback port Codex's redirect URI is registered with.
pub const DEFAULT_PORT: u16 = 1455;
/// The second registered port, tried when the first stays busy.
pub const FALLBACK_PORT: u16 = 1457;
/// The `originator` Codex sends unless told otherwise.
pub const DEFAULT_ORIGINATOR: &str = "codex_cli_rs";
/// Sets the `originator` of login and API requests.
pub const ORIGINATOR_ENV: &str = "CODEX_INTERNAL_ORIGINATOR_OVERRIDE";
/// Codex's override of the refresh endpoint.
pub const REFRESH_URL_ENV: &str = "CODEX_REFRESH_TOKEN_URL_OVERRIDE";
/// Codex's override of the revocation endpoint.
pub const REVOKE_URL_ENV: &str = "CODEX_REVOKE_TOKEN_URL_OVERRIDE";

/// The `originator` for this process: [`ORIGINATOR_ENV`] when set and a
/// valid header value, else Codex's.
pub fn originator() -> String {
    std::env::var(ORIGINATOR_ENV)
        .ok()
        .map(|value| value.trim().to_owned())
        .filter(|value| {
            !value.is_empty()
                && value
                    .bytes()
                    .all(|byte| byte.is_ascii_graphic() || byte == b' ')
        })
        .unwrap_or_else(|| DEFAULT_ORIGINATOR.to_owned())
}

/// Who to log in with and what the login must satisfy.
#[derive(Debug, Clone)]
pub struct LoginOptions {
    /// The issuer's base URL, without a trailing `/`.
    pub issuer: String,
    pub client_id: String,
    /// The loopback port of the browser flow.
    pub port: u16,
    /// The host of the browser flow's redirect URI: `localhost` for
    /// `codex login`, `127.0.0.1` for Codex's app server.
    pub redirect_host: String,
    pub originator: String,
    /// `forced_chatgpt_workspace_id`: the login must belong to one of these.
    pub allowed_workspaces: Option<Vec<String>>,
}

impl LoginOptions {
    /// Codex's defaults, with the issuer and client given.
    pub fn new(issuer: &str, client_id: &str) -> LoginOptions {
        LoginOptions {
            issuer: issuer.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            port: DEFAULT_PORT,
            redirect_host: "localhost".to_owned(),
            originator: originator(),
            allowed_workspaces: None,
        }
    }

    /// Checks that the issuer is an `https` URL, or `http` on this machine.
    pub fn check_issuer(&self) -> Result<(), LoginError> {
        let parsed = url::Url::parse(&self.issuer).map_err(|error| {
            LoginError::Config(format!(
                "the issuer `{}` is not a URL ({error}); give a base URL such as {DEFAULT_ISSUER}",
                self.issuer
            ))
        })?;
        let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        match parsed.scheme() {
            "https" => Ok(()),
            "http" if loopback => Ok(()),
            _ => Err(LoginError::Config(format!(
                "the issuer `{}` must use https (plain http only on 127.0.0.1 or localhost)",
                self.issuer
            ))),
        }
    }
}

/// Why a login did not complete. The texts are Codex's where it has one.
#[derive(Debug)]
pub enum LoginError {
    /// The options are wrong (issuer, client id).
    Config(String),
    /// The loopback port stayed busy.
    PortInUse(String),
    /// The user or another login cancelled it (`/cancel`, Ctrl-C).
    Cancelled,
    /// The issuer has no device-code endpoints.
    DeviceCodeUnsupported,
    /// The device code expired before it was approved.
    TimedOut(String),
    /// The authorization server said no (an error callback, a refusal).
    Denied(String),
    /// The login belongs to a workspace the policy does not allow.
    Workspace(String),
    /// The token endpoint failed.
    Exchange(String),
    /// The server could not be reached or answered something unreadable.
    Network(String),
    /// The tokens could not be saved.
    Save(String),
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoginError::Config(text)
            | LoginError::PortInUse(text)
            | LoginError::TimedOut(text)
            | LoginError::Denied(text)
            | LoginError::Workspace(text)
            | LoginError::Network(text)
            | LoginError::Save(text) => f.write_str(text),
            LoginError::Cancelled => f.write_str("Login cancelled"),
            LoginError::DeviceCodeUnsupported => f.write_str(
                "device code login is not enabled for this Codex server. Use the browser login \
                 or verify the server URL. (`codex login` without --device-auth opens the \
                 browser flow.)",
            ),
            LoginError::Exchange(text) => write!(f, "Token exchange failed: {text}"),
        }
    }
}

impl std::error::Error for LoginError {}
