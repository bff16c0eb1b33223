//! `codex login --with-api-key`, `codex login status`, `codex logout`: the
//! CLI login, kept in the store `cli_auth_credentials_store` selects, as the
//! `auth.json` document Codex writes, under Codex's texts and exit codes.
//!
//! The key is read from standard input only (never an argument, where other
//! processes could see it), held in zeroizing buffers, and never printed:
//! `login status` shows Codex's mask (`sk-proj-***ABCDE`).

use std::borrow::Cow;
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use anyhow::Result;
use serde::Deserialize;
use serde::de::IgnoredAny;
use zeroize::Zeroizing;

use crate::cli::{LoginArgs, LoginCommand};
use codex_credentials::{self as credentials, AUTH_SERVICE, CredentialStore, Purpose};
use codex_host::App;

/// More than any API key; a larger input is something else piped by mistake.
const MAX_INPUT: u64 = 64 * 1024;

const NOT_ON_A_TERMINAL: &str = "--with-api-key expects the API key on stdin. Try piping it, \
                                 e.g. `printenv OPENAI_API_KEY | codex login --with-api-key`.";

/// Writes one line to standard error (where Codex prints every login message).
fn say(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

/// `codex login ...`.
pub fn login(app: &App, args: LoginArgs) -> Result<ExitCode> {
    if args.api_key.is_some() {
        say(
            "The --api-key flag is no longer supported: a key on the command line is visible to \
             other processes. Pipe it instead, e.g. `printenv OPENAI_API_KEY | codex login \
             --with-api-key`.",
        );
        return Ok(ExitCode::FAILURE);
    }
    match args.action {
        Some(LoginCommand::Status) => status(app),
        None if args.with_api_key => with_api_key(app),
        None => {
            say(
                "Error logging in: ChatGPT login is not available in this codex; log in with an \
                 API key: `printenv OPENAI_API_KEY | codex login --with-api-key`",
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

fn open_store(app: &App) -> Result<(CredentialStore, String)> {
    let context = app.host_context()?;
    let store = credentials::open(&app.config, app.plugins()?, Purpose::CliAuth, &context)?;
    Ok((store, credentials::cli_auth_account(&app.codex_home)))
}

fn with_api_key(app: &App) -> Result<ExitCode> {
    if app
        .config
        .merged()
        .get("forced_login_method")
        .and_then(toml::Value::as_str)
        == Some("chatgpt")
    {
        say("API key login is disabled. Use ChatGPT login instead.");
        return Ok(ExitCode::FAILURE);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        say(NOT_ON_A_TERMINAL);
        return Ok(ExitCode::FAILURE);
    }
    let mut input = Zeroizing::new(Vec::new());
    if let Err(error) = stdin.lock().take(MAX_INPUT + 1).read_to_end(&mut input) {
        say(&format!(
            "Error logging in: cannot read standard input: {error}"
        ));
        return Ok(ExitCode::FAILURE);
    }
    if input.len() as u64 > MAX_INPUT {
        say(
            "Error logging in: the input on stdin is larger than 64 KiB; an API key is much \
             shorter. Check what is piped in.",
        );
        return Ok(ExitCode::FAILURE);
    }
    let Ok(text) = std::str::from_utf8(&input) else {
        say("Error logging in: the API key on stdin is not UTF-8 text.");
        return Ok(ExitCode::FAILURE);
    };
    let key = text.trim();
    if key.is_empty() {
        say("No API key provided via stdin.");
        return Ok(ExitCode::FAILURE);
    }
    if let Err(problem) = check_key_shape(key) {
        say(&format!(
            "Error logging in: that does not look like an API key: {problem} (the key is not \
             shown). Check what is piped in."
        ));
        return Ok(ExitCode::FAILURE);
    }
    let document = auth_document(key);
    let (store, account) = open_store(app)?;
    match store.store(AUTH_SERVICE, &account, &document) {
        Ok(()) => {
            say("Successfully logged in");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            say(&format!("Error logging in: {error}"));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Checks that `key` is one token of the characters API keys are made of
/// (OpenAI's `sk-...` keys and others: letters, digits, `-`, `_`, `.`).
/// The problem is described by position, never by the character itself.
fn check_key_shape(key: &str) -> Result<(), String> {
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
/// characters were checked, so it needs no JSON escaping.
fn auth_document(key: &str) -> Zeroizing<String> {
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
enum LoginState {
    ApiKey(String),
    ChatGpt,
    AgentIdentity,
    None,
}

fn login_state(document: &str) -> Result<LoginState, String> {
    let parsed: AuthDocument<'_> = serde_json::from_str(document).map_err(|error| {
        // Only the position: serde's text can quote a value.
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
fn masked(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 13 {
        return "***".to_owned();
    }
    let prefix: String = chars[..8].iter().collect();
    let suffix: String = chars[chars.len() - 5..].iter().collect();
    format!("{prefix}***{suffix}")
}

fn status(app: &App) -> Result<ExitCode> {
    let (store, account) = open_store(app)?;
    let document = match store.load(AUTH_SERVICE, &account) {
        Ok(Some(document)) => document,
        Ok(None) => {
            say("Not logged in");
            return Ok(ExitCode::FAILURE);
        }
        Err(error) => {
            say(&format!("Error checking login status: {error}"));
            return Ok(ExitCode::FAILURE);
        }
    };
    match login_state(&document) {
        Ok(LoginState::ApiKey(masked)) => {
            say(&format!("Logged in using an API key - {masked}"));
            Ok(ExitCode::SUCCESS)
        }
        Ok(LoginState::ChatGpt) => {
            say("Logged in using ChatGPT");
            Ok(ExitCode::SUCCESS)
        }
        Ok(LoginState::AgentIdentity) => {
            say("Logged in using Agent Identity");
            Ok(ExitCode::SUCCESS)
        }
        Ok(LoginState::None) => {
            say("Not logged in");
            Ok(ExitCode::FAILURE)
        }
        Err(problem) => {
            say(&format!(
                "Error checking login status: {problem} in {}",
                store.describe()
            ));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `codex logout`.
pub fn logout(app: &App) -> Result<ExitCode> {
    let (store, account) = open_store(app)?;
    match store.delete(AUTH_SERVICE, &account) {
        Ok(true) => {
            say("Successfully logged out");
            Ok(ExitCode::SUCCESS)
        }
        Ok(false) => {
            say("Not logged in");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            say(&format!("Error logging out: {error}"));
            Ok(ExitCode::FAILURE)
        }
    }
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
        let document = auth_document("sk-proj-abcdefghijklmnopABCDE");
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
