//! The ChatGPT `auth.json` document, as Codex 0.169 writes it (pretty JSON,
//! its key order):
//!
//! ```json
//! { "auth_mode": "chatgpt", "OPENAI_API_KEY": null,
//!   "tokens": { "id_token": "...", "access_token": "...", "refresh_token": "...",
//!               "oauth_provenance": { "issuer": "...", "client_id": "..." },
//!               "login_owner_id": "...", "account_id": "..." },
//!   "last_refresh": "RFC 3339" }
//! ```
//!
//! and what a stored one says (for logout, refresh and the policies).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::claims::IdTokenClaims;
use crate::pkce::random_token;
use crate::time::now_rfc3339;
use crate::token::Tokens;
use crate::{LoginError, LoginOptions};

#[derive(Serialize)]
struct Document<'a> {
    auth_mode: &'a str,
    #[serde(rename = "OPENAI_API_KEY")]
    api_key: Option<&'a str>,
    tokens: DocumentTokens<'a>,
    last_refresh: &'a str,
}

#[derive(Serialize)]
struct DocumentTokens<'a> {
    id_token: &'a str,
    access_token: &'a str,
    refresh_token: &'a str,
    oauth_provenance: Provenance<'a>,
    login_owner_id: &'a str,
    account_id: Option<&'a str>,
}

#[derive(Serialize, Deserialize)]
struct Provenance<'a> {
    #[serde(borrow)]
    issuer: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    client_id: std::borrow::Cow<'a, str>,
}

/// The document of a fresh ChatGPT login: `tokens` from `options`' issuer,
/// and the API key the token exchange gave, if any.
pub fn chatgpt_document(
    tokens: &Tokens,
    api_key: Option<&str>,
    options: &LoginOptions,
) -> Result<Zeroizing<String>, LoginError> {
    let claims = IdTokenClaims::parse(&tokens.id_token)
        .map_err(|problem| LoginError::Exchange(format!("the token endpoint's {problem}")))?;
    let owner = random_token(32)?;
    let last_refresh = now_rfc3339();
    let document = Document {
        auth_mode: "chatgpt",
        api_key,
        tokens: DocumentTokens {
            id_token: &tokens.id_token,
            access_token: &tokens.access_token,
            refresh_token: &tokens.refresh_token,
            oauth_provenance: Provenance {
                issuer: options.issuer.as_str().into(),
                client_id: options.client_id.as_str().into(),
            },
            login_owner_id: &owner,
            account_id: claims.account_id.as_deref(),
        },
        last_refresh: &last_refresh,
    };
    serde_json::to_string_pretty(&document)
        .map(Zeroizing::new)
        .map_err(|error| LoginError::Save(format!("cannot write the login document: {error}")))
}

/// `document` with refreshed tokens and a new `last_refresh`; every other
/// field (the API key, the provenance, fields of newer versions) is kept.
/// A refresh that gave no new id_token or refresh token keeps the old ones.
pub fn refreshed_document(document: &str, tokens: &Tokens) -> Result<Zeroizing<String>, String> {
    // serde_json's values cannot be zeroized; this one lives for the
    // rewrite only, and the text that leaves is zeroizing.
    let mut value: Value = serde_json::from_str(document)
        .map_err(|error| format!("the stored login is not JSON (line {})", error.line()))?;
    let Some(stored) = value.get_mut("tokens").and_then(Value::as_object_mut) else {
        return Err("the stored login has no ChatGPT tokens to refresh".to_owned());
    };
    if !tokens.id_token.is_empty() {
        stored.insert(
            "id_token".into(),
            Value::String(tokens.id_token.to_string()),
        );
        if let Ok(claims) = IdTokenClaims::parse(&tokens.id_token)
            && let Some(account) = claims.account_id
        {
            stored.insert("account_id".into(), Value::String(account));
        }
    }
    stored.insert(
        "access_token".into(),
        Value::String(tokens.access_token.to_string()),
    );
    if !tokens.refresh_token.is_empty() {
        stored.insert(
            "refresh_token".into(),
            Value::String(tokens.refresh_token.to_string()),
        );
    }
    if let Some(object) = value.as_object_mut() {
        object.insert("last_refresh".into(), Value::String(now_rfc3339()));
    }
    serde_json::to_string_pretty(&value)
        .map(Zeroizing::new)
        .map_err(|error| format!("cannot write the login document: {error}"))
}

#[derive(Deserialize)]
struct StoredDocument {
    #[serde(default)]
    auth_mode: Option<String>,
    #[serde(rename = "OPENAI_API_KEY", default)]
    api_key: Option<Zeroizing<String>>,
    #[serde(default)]
    tokens: Option<StoredTokens>,
    #[serde(default)]
    last_refresh: Option<String>,
}

#[derive(Deserialize)]
struct StoredTokens {
    #[serde(default)]
    id_token: Option<Zeroizing<String>>,
    #[serde(default)]
    access_token: Option<Zeroizing<String>>,
    #[serde(default)]
    refresh_token: Option<Zeroizing<String>>,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    oauth_provenance: Option<OwnedProvenance>,
}

#[derive(Deserialize)]
struct OwnedProvenance {
    issuer: String,
    client_id: String,
}

/// What a stored `auth.json` document says, for logout, refresh and the
/// login policies.
pub struct StoredLogin {
    /// `apikey`, `chatgpt`, ... as stored (absent in old documents).
    pub auth_mode: Option<String>,
    pub has_api_key: bool,
    pub access_token: Option<Zeroizing<String>>,
    pub refresh_token: Option<Zeroizing<String>>,
    /// The workspace: `tokens.account_id`, else the id_token's claim.
    pub account_id: Option<String>,
    pub claims: IdTokenClaims,
    /// The issuer and client the tokens came from (Codex 0.169 records them).
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    /// `last_refresh`, in seconds since the epoch.
    pub last_refresh: Option<i64>,
}

impl StoredLogin {
    /// Reads a stored document. The error gives a position, never a value.
    pub fn parse(document: &str) -> Result<StoredLogin, String> {
        let parsed: StoredDocument = serde_json::from_str(document).map_err(|error| {
            format!(
                "the stored login is not a valid auth.json document (line {}, column {})",
                error.line(),
                error.column()
            )
        })?;
        let tokens = parsed.tokens;
        let claims = tokens
            .as_ref()
            .and_then(|tokens| tokens.id_token.as_ref())
            .and_then(|token| IdTokenClaims::parse(token).ok())
            .unwrap_or_default();
        let (access_token, refresh_token, account_id, provenance) = match tokens {
            Some(tokens) => (
                tokens.access_token.filter(|token| !token.is_empty()),
                tokens.refresh_token.filter(|token| !token.is_empty()),
                tokens.account_id,
                tokens.oauth_provenance,
            ),
            None => (None, None, None, None),
        };
        Ok(StoredLogin {
            auth_mode: parsed.auth_mode,
            has_api_key: parsed.api_key.is_some_and(|key| !key.is_empty()),
            access_token,
            refresh_token,
            account_id: account_id.or_else(|| claims.account_id.clone()),
            claims,
            issuer: provenance.as_ref().map(|p| p.issuer.clone()),
            client_id: provenance.map(|p| p.client_id),
            last_refresh: parsed
                .last_refresh
                .as_deref()
                .and_then(crate::time::parse_rfc3339),
        })
    }

    /// Whether this is an API-key login (Codex's `AuthMode::ApiKey`): the
    /// mode says so, or an old document has a key and no mode.
    pub fn is_api_key(&self) -> bool {
        match self.auth_mode.as_deref() {
            Some("apikey") => true,
            None => self.has_api_key && self.access_token.is_none(),
            Some(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn id_token(account: &str) -> String {
        let payload = serde_json::json!({
            "email": "ada@example.com",
            "https://api.openai.com/auth": {"chatgpt_account_id": account, "chatgpt_plan_type": "plus"}
        });
        format!(
            "e30.{}.c2ln",
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(serde_json::to_vec(&payload).unwrap())
        )
    }

    fn tokens(account: &str) -> Tokens {
        Tokens {
            id_token: Zeroizing::new(id_token(account)),
            access_token: Zeroizing::new("access-1".into()),
            refresh_token: Zeroizing::new("refresh-1".into()),
        }
    }

    #[test]
    fn the_document_has_codexs_shape_and_reads_back() {
        let options = LoginOptions::new("http://127.0.0.1:9/", "client-1");
        let document = chatgpt_document(&tokens("ws-1"), None, &options).unwrap();
        let value: Value = serde_json::from_str(&document).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["auth_mode", "OPENAI_API_KEY", "tokens", "last_refresh"]
        );
        let token_keys: Vec<&str> = value["tokens"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            token_keys,
            [
                "id_token",
                "access_token",
                "refresh_token",
                "oauth_provenance",
                "login_owner_id",
                "account_id"
            ]
        );
        assert_eq!(value["tokens"]["account_id"], "ws-1");
        assert_eq!(
            value["tokens"]["oauth_provenance"]["issuer"],
            "http://127.0.0.1:9"
        );
        assert!(document.starts_with("{\n  \"auth_mode\": \"chatgpt\""));

        let stored = StoredLogin::parse(&document).unwrap();
        assert!(!stored.is_api_key());
        assert_eq!(stored.account_id.as_deref(), Some("ws-1"));
        assert_eq!(stored.claims.plan_type.as_deref(), Some("plus"));
        assert_eq!(
            stored.refresh_token.as_deref().map(String::as_str),
            Some("refresh-1")
        );
        assert_eq!(stored.client_id.as_deref(), Some("client-1"));
        assert!(stored.last_refresh.is_some());
    }

    #[test]
    fn a_refresh_keeps_what_it_did_not_change() {
        let options = LoginOptions::new("http://127.0.0.1:9", "client-1");
        let document = chatgpt_document(&tokens("ws-1"), Some("sk-kept"), &options).unwrap();
        let refreshed = refreshed_document(
            &document,
            &Tokens {
                id_token: Zeroizing::new(String::new()),
                access_token: Zeroizing::new("access-2".into()),
                refresh_token: Zeroizing::new("refresh-2".into()),
            },
        )
        .unwrap();
        let value: Value = serde_json::from_str(&refreshed).unwrap();
        assert_eq!(value["OPENAI_API_KEY"], "sk-kept");
        assert_eq!(value["tokens"]["access_token"], "access-2");
        assert_eq!(value["tokens"]["refresh_token"], "refresh-2");
        assert_eq!(value["tokens"]["id_token"], id_token("ws-1"));
        assert!(value["tokens"]["login_owner_id"].is_string());
    }

    #[test]
    fn api_key_documents_and_broken_ones() {
        let key = StoredLogin::parse(r#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-x"}"#).unwrap();
        assert!(key.is_api_key());
        let old = StoredLogin::parse(r#"{"OPENAI_API_KEY":"sk-x"}"#).unwrap();
        assert!(old.is_api_key());
        let error = StoredLogin::parse(r#"{"tokens": "sk-secret"#)
            .err()
            .unwrap();
        assert!(!error.contains("sk-secret"), "{error}");
    }
}
