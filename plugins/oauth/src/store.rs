//! The stored login of one server, in the host's credential store under the
//! names Codex uses (service `Codex MCP Credentials`, account
//! `"{server}|{hash of the URL}"`), in Codex's JSON, so that each program
//! finds the other's logins.
//!
//! The record carries Codex 0.169's top-level `issuer`. It has no room for
//! what a refresh, a step-up or a logout needs (the token and revocation
//! endpoints, the client's secret and method, the resource), and Codex drops
//! unknown fields whenever it rewrites `.credentials.json` (its own login,
//! a logout, a refresh). So that goes in an entry of its own beside the
//! record, same account, service `MCP_CLIENT_SERVICE`, which Codex never
//! touches; it is used while the record's `client_id` is the one it was
//! written for. Records of older versions of this host keep it inside, under
//! `oauth`, and are still read. A record Codex wrote has neither: its
//! endpoints are discovered again when needed, and its client is public, as
//! Codex registers it.

use std::time::{SystemTime, UNIX_EPOCH};

use codex_credential_names::{MCP_CLIENT_SERVICE, MCP_SERVICE, mcp_account};
use codex_plugin_api::{ErrorKind, HostServices, PluginError, PluginResult};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::config::Grant;
use crate::registration::{AuthMethod, Client, KeyRef};
use crate::token::TokenResponse;

/// A refresh is due this long before the access token expires.
pub const REFRESH_SKEW_MS: u64 = 30_000;

/// One server's login.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredTokens {
    pub server_name: String,
    pub url: String,
    /// The authorization server that issued the tokens (Codex 0.169).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    pub client_id: String,
    pub token_response: TokenResponse,
    /// When the access token expires, in ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// What this host keeps beyond Codex's record: read from inside the
    /// record (older versions) or from its entry beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthRecord>,
}

/// The entry under `MCP_CLIENT_SERVICE`: the record, and the client it is for.
#[derive(Serialize, Deserialize)]
struct ClientEntry {
    client_id: String,
    #[serde(flatten)]
    record: OAuthRecord,
}

/// What this host keeps beyond Codex's record.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct OAuthRecord {
    pub issuer: String,
    pub token_endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Zeroizing<String>>,
    pub token_endpoint_auth_method: String,
    /// The resource (RFC 8707) the tokens are for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The scopes asked for (the grant's `scope` may be absent).
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// How the tokens were obtained (`client_credentials`, `device_code`,
    /// `id_jag`; absent: the browser flow). A client-credentials or ID-JAG
    /// login has no refresh token: a new access token is obtained the same
    /// way again, from what is recorded here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
    /// `private_key_jwt`: the PEM file of the client's key (a reference;
    /// the key itself is never stored) and its algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_algorithm: Option<String>,
    /// ID-JAG logins: the file the identity provider's ID token is read
    /// from, the provider's token endpoint and this client's ID there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_token_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_client_id: Option<String>,
}

impl StoredTokens {
    /// The granted scopes: the grant's `scope`, else what was asked for.
    pub fn granted_scopes(&self) -> Vec<String> {
        match &self.token_response.scope {
            Some(scope) => crate::challenge::split_scopes(scope),
            None => self
                .oauth
                .as_ref()
                .map(|record| record.scopes.clone())
                .unwrap_or_default(),
        }
    }

    /// Whether the access token expires within the refresh skew: at most
    /// half its lifetime when that is known, so a token that lives less
    /// than the skew is not refreshed again before every request.
    pub fn expiring(&self, now_ms: u64) -> bool {
        let skew = self
            .token_response
            .expires_in
            .map_or(REFRESH_SKEW_MS, |seconds| {
                REFRESH_SKEW_MS.min(seconds.saturating_mul(500))
            });
        self.expires_at
            .is_some_and(|expires_at| now_ms.saturating_add(skew) >= expires_at)
    }

    /// The registered client, as refresh and revocation present it.
    pub fn client(&self) -> Client {
        let record = self.oauth.as_ref();
        Client {
            client_id: self.client_id.clone(),
            client_secret: record.and_then(|record| record.client_secret.clone()),
            auth_method: record
                .and_then(|record| AuthMethod::from_name(&record.token_endpoint_auth_method))
                .unwrap_or(AuthMethod::None),
            private_key: record.and_then(|record| {
                Some(KeyRef {
                    file: record.private_key_file.clone()?,
                    algorithm: record.signing_algorithm.clone(),
                    audience: record.issuer.clone(),
                })
            }),
        }
    }

    /// The grant of this login (`None`: the browser flow, or one Codex made).
    pub fn grant(&self) -> Option<Grant> {
        self.oauth
            .as_ref()
            .and_then(|record| record.grant.as_deref())
            .and_then(Grant::from_name)
    }

    /// Whether a new access token can be had without a person: a refresh
    /// token, or a grant that is simply run again.
    pub fn renewable(&self) -> bool {
        self.token_response.refresh_token.is_some()
            || matches!(self.grant(), Some(Grant::ClientCredentials | Grant::IdJag))
    }

    /// Replaces the tokens with `tokens`, received at `now_ms`.
    pub fn renew(&mut self, tokens: TokenResponse, now_ms: u64) {
        self.expires_at = tokens
            .expires_in
            .map(|seconds| now_ms.saturating_add(seconds.saturating_mul(1000)));
        self.token_response = tokens;
    }
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Where the login of `server` at `url` is stored.
pub struct TokenStore {
    host: HostServices,
    server: String,
    account: String,
}

impl TokenStore {
    pub fn new(host: HostServices, server: &str, url: &str) -> TokenStore {
        TokenStore {
            host,
            server: server.to_owned(),
            account: mcp_account(server, url),
        }
    }

    /// The account name (also the name of the refresh lock).
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The stored login; `None` when there is none.
    pub fn load(&self) -> PluginResult<Option<StoredTokens>> {
        let Some(parsed) = self.load_entry()? else {
            return Ok(None);
        };
        let mut tokens = parsed.map_err(|error| {
            PluginError::new(
                ErrorKind::InvalidConfig,
                format!(
                    "the stored login of MCP server `{}` is not readable ({}); run `codex mcp logout {0}` and log in again",
                    self.server,
                    error.classify_name()
                ),
            )
        })?;
        self.add_client_record(&mut tokens);
        Ok(Some(tokens))
    }

    /// The stored login before a new one replaces it: an entry that does not
    /// parse counts as none, but a store that cannot be read is an error, so
    /// that a login fails before the browser opens rather than after.
    pub fn load_before_login(&self) -> PluginResult<Option<StoredTokens>> {
        let mut tokens = self.load_entry()?.and_then(Result::ok);
        if let Some(tokens) = &mut tokens {
            self.add_client_record(tokens);
        }
        Ok(tokens)
    }

    fn load_entry(&self) -> PluginResult<Option<Result<StoredTokens, serde_json::Error>>> {
        let Some(text) = self.host.credential_load(MCP_SERVICE, &self.account)? else {
            return Ok(None);
        };
        let text = Zeroizing::new(text);
        Ok(Some(serde_json::from_str(&text)))
    }

    /// Fills in `tokens.oauth` from the entry beside the record, when the
    /// record has none and the entry is for the same client. Without it the
    /// login still works as one Codex made, so a missing or unreadable entry
    /// is not an error.
    fn add_client_record(&self, tokens: &mut StoredTokens) {
        if tokens.oauth.is_some() {
            return;
        }
        let Ok(Some(text)) = self.host.credential_load(MCP_CLIENT_SERVICE, &self.account) else {
            return;
        };
        let text = Zeroizing::new(text);
        if let Ok(entry) = serde_json::from_str::<ClientEntry>(&text)
            && entry.client_id == tokens.client_id
        {
            tokens.oauth = Some(entry.record);
        }
    }

    /// Stores `tokens`, replacing what was there: Codex's record (with
    /// `issuer`), and what this host needs beyond it in its own entry. A
    /// store that cannot keep that entry gets it inside the record, as
    /// older versions did.
    pub fn save(&self, tokens: &StoredTokens) -> PluginResult<()> {
        let mut record = tokens.clone();
        if record.issuer.is_none() {
            record.issuer = record.oauth.as_ref().map(|oauth| oauth.issuer.clone());
        }
        if let Some(oauth) = record.oauth.take() {
            let entry = ClientEntry {
                client_id: record.client_id.clone(),
                record: oauth,
            };
            let stored = to_json(&entry).and_then(|text| {
                self.host
                    .credential_store(MCP_CLIENT_SERVICE, &self.account, &text)
            });
            if stored.is_err() {
                record.oauth = Some(entry.record);
            }
        }
        self.host
            .credential_store(MCP_SERVICE, &self.account, &to_json(&record)?)
    }

    /// Deletes the stored login and the entry beside it; `true` when there
    /// was a login.
    pub fn delete(&self) -> PluginResult<bool> {
        let _ = self
            .host
            .credential_delete(MCP_CLIENT_SERVICE, &self.account);
        self.host.credential_delete(MCP_SERVICE, &self.account)
    }
}

fn to_json(value: &impl Serialize) -> PluginResult<Zeroizing<String>> {
    serde_json::to_string(value)
        .map(Zeroizing::new)
        .map_err(|error| PluginError::internal(format!("cannot serialize the login: {error}")))
}

/// The kind of a JSON error, without its position's text (which could
/// quote a secret).
trait Classify {
    fn classify_name(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "an I/O error",
            serde_json::error::Category::Syntax => "not valid JSON",
            serde_json::error::Category::Data => "fields missing or of the wrong type",
            serde_json::error::Category::Eof => "cut short",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as the Codex CLI writes it.
    const CODEX_RECORD: &str = r#"{"server_name":"docs","url":"https://example.com/mcp","client_id":"abc","token_response":{"access_token":"at-secret","token_type":"bearer","expires_in":3600,"refresh_token":"rt-secret","scope":"read write"},"expires_at":1700000000000}"#;

    #[test]
    fn codex_records_are_read_and_written_back_the_same() {
        let tokens: StoredTokens = serde_json::from_str(CODEX_RECORD).unwrap();
        assert_eq!(tokens.granted_scopes(), ["read", "write"]);
        assert_eq!(tokens.client().auth_method, AuthMethod::None);
        assert!(tokens.expiring(1_700_000_000_000 - REFRESH_SKEW_MS));
        assert!(!tokens.expiring(1_700_000_000_000 - REFRESH_SKEW_MS - 1));
        assert_eq!(serde_json::to_string(&tokens).unwrap(), CODEX_RECORD);
    }

    #[test]
    fn renewal_sets_the_expiry_and_debug_hides_tokens() {
        let mut tokens: StoredTokens = serde_json::from_str(CODEX_RECORD).unwrap();
        let mut fresh = tokens.token_response.clone();
        fresh.expires_in = Some(60);
        tokens.renew(fresh, 1_000);
        assert_eq!(tokens.expires_at, Some(61_000));
        assert!(!tokens.expiring(1_000 + 60_000 - REFRESH_SKEW_MS - 1));
        assert!(tokens.expiring(1_000 + 60_000 - REFRESH_SKEW_MS));
        // A token living less than the skew is due at half its life.
        let mut short = tokens.token_response.clone();
        short.expires_in = Some(4);
        tokens.renew(short, 1_000);
        assert!(!tokens.expiring(2_999));
        assert!(tokens.expiring(3_000));
        let shown = format!("{:?}", tokens.token_response);
        assert!(!shown.contains("secret"), "{shown}");
    }
}
