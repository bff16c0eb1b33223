//! The CLI login as Codex keeps it: the `auth.json` document in the store
//! `cli_auth_credentials_store` selects. Shared by `codex login`/`logout`
//! and every front end that reports or changes the login state.
//!
//! Keys are held in zeroizing buffers and never shown whole: callers get
//! Codex's mask (`sk-proj-***ABCDE`).

use std::borrow::Cow;

use anyhow::Result;
use serde::Deserialize;
use serde::de::IgnoredAny;
use zeroize::Zeroizing;

use crate::App;
use codex_credentials::{self as credentials, CredentialStore, Purpose};

pub use codex_credentials::AUTH_SERVICE;

/// The store that holds the login, and the account name it is kept under.
pub fn open_store(app: &App) -> Result<(CredentialStore, String)> {
    let context = app.host_context()?;
    let store = credentials::open(&app.config, app.plugins()?, Purpose::CliAuth, &context)?;
    Ok((store, credentials::cli_auth_account(&app.codex_home)))
}

/// Checks that `key` is one token of the characters API keys are made of
/// (OpenAI's `sk-...` keys and others: letters, digits, `-`, `_`, `.`).
/// The problem is described by position, never by the character itself.
pub fn check_key_shape(key: &str) -> Result<(), String> {
    if let Some((index, _)) = key
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        let position = key[..index].chars().count() + 1;
        return Err(format!(
            "character {position} of {} is not a letter, digit, '-', '_' or '.'",
            key.chars().count()
        ));
    }
    if key.len() < 8 {
        return Err(format!("it is only {} characters long", key.len()));
    }
    if key.len() > 4096 {
        return Err(format!("it is {} characters long", key.len()));
    }
    Ok(())
}

/// The `auth.json` document Codex writes for an API key login. The key's
/// characters were checked ([`check_key_shape`]), so it needs no JSON escaping.
pub fn api_key_document(key: &str) -> Zeroizing<String> {
    let mut document = Zeroizing::new(String::with_capacity(key.len() + 48));
    document.push_str("{\"auth_mode\":\"apikey\",\"OPENAI_API_KEY\":\"");
    document.push_str(key);
    document.push_str("\"}");
    document
}

/// The fields of `auth.json` that say how one is logged in. Borrowed from
/// the zeroizing text where possible; the rest is skipped unread.
#[derive(Deserialize)]
struct AuthDocument<'a> {
    #[serde(default, borrow)]
    auth_mode: Option<Cow<'a, str>>,
    #[serde(rename = "OPENAI_API_KEY", default, borrow)]
    api_key: Option<Cow<'a, str>>,
    #[serde(default)]
    tokens: Option<IgnoredAny>,
    #[serde(default)]
    agent_identity: Option<IgnoredAny>,
}

/// How the stored document says one is logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginState {
    /// An API key, as Codex's mask.
    ApiKey(String),
    ChatGpt,
    AgentIdentity,
    None,
}

/// Reads the login state from an `auth.json` document. The error names the
/// position of a syntax problem only: serde's text can quote a value.
pub fn login_state(document: &str) -> Result<LoginState, String> {
    let parsed: AuthDocument<'_> = serde_json::from_str(document).map_err(|error| {
        format!(
            "the stored login is not a valid auth.json document (line {}, column {})",
            error.line(),
            error.column()
        )
    })?;
    let api_key = parsed
        .api_key
        .map(|key| Zeroizing::new(key.into_owned()))
        .filter(|key| !key.is_empty());
    let mode = parsed.auth_mode.as_deref().map(str::to_owned);
    Ok(match (mode.as_deref(), api_key) {
        (Some("apikey") | None, Some(key)) => LoginState::ApiKey(masked(&key)),
        (Some("agentIdentity"), _) => LoginState::AgentIdentity,
        (Some("chatgpt" | "chatgptAuthTokens"), _) => LoginState::ChatGpt,
        (None, None) if parsed.tokens.is_some() => LoginState::ChatGpt,
        (None, None) if parsed.agent_identity.is_some() => LoginState::AgentIdentity,
        _ => LoginState::None,
    })
}

/// Codex's mask: the first 8 and last 5 characters around `***`, or only
/// `***` for a key of 13 characters or fewer.
pub fn masked(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 13 {
        return "***".to_owned();
    }
    let prefix: String = chars[..8].iter().collect();
    let suffix: String = chars[chars.len() - 5..].iter().collect();
    format!("{prefix}***{suffix}")
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_codex() {
        assert_eq!(masked("sk-proj-abcdefghijklmnopABCDE"), "sk-proj-***ABCDE");
        assert_eq!(masked("sk-1234567890"), "***");
        assert_eq!(masked("sk-12345678901"), "sk-12345***78901");
    }

    #[test]
    fn key_shape_problems_give_a_position_not_the_character() {
        assert!(check_key_shape("sk-proj-Abc_123.xyz").is_ok());
        assert_eq!(
            check_key_shape("sk-abc def-ghi").unwrap_err(),
            "character 7 of 14 is not a letter, digit, '-', '_' or '.'"
        );
        assert_eq!(
            check_key_shape("sk-abcdef\nsecond-line").unwrap_err(),
            "character 10 of 21 is not a letter, digit, '-', '_' or '.'"
        );
        assert_eq!(
            check_key_shape("sk-1").unwrap_err(),
            "it is only 4 characters long"
        );
    }

    #[test]
    fn the_document_is_codexs_and_reads_back() {
        let document = api_key_document("sk-proj-abcdefghijklmnopABCDE");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&document).unwrap(),
            serde_json::json!({"auth_mode": "apikey", "OPENAI_API_KEY": "sk-proj-abcdefghijklmnopABCDE"})
        );
        assert!(matches!(
            login_state(&document).unwrap(),
            LoginState::ApiKey(mask) if mask == "sk-proj-***ABCDE"
        ));
    }

    #[test]
    fn other_logins_and_broken_documents() {
        assert!(matches!(
            login_state(r#"{"OPENAI_API_KEY": null, "tokens": {"id_token": "x"}}"#).unwrap(),
            LoginState::ChatGpt
        ));
        assert!(matches!(
            login_state(r#"{"auth_mode": "agentIdentity", "agent_identity": {}}"#).unwrap(),
            LoginState::AgentIdentity
        ));
        assert!(matches!(
            login_state(r#"{"OPENAI_API_KEY": null}"#).unwrap(),
            LoginState::None
        ));
        let error = login_state(r#"{"OPENAI_API_KEY": 12345678901234}"#)
            .err()
            .unwrap();
        assert!(!error.contains("12345678901234"), "{error}");
        assert!(error.contains("line 1"), "{error}");
    }
}
