//! `codex login` (the browser flow), `codex login --device-auth`,
//! `codex login --with-api-key`, `codex login --with-access-token`,
//! `codex login status`, `codex logout`: the
//! CLI login, kept in the store `cli_auth_credentials_store` selects, as the
//! `auth.json` document Codex writes, under Codex's texts and exit codes.
//! The flows themselves are codex-login's; this module picks the options
//! (flags, environment, `forced_login_method`, `forced_chatgpt_workspace_id`),
//! prints, and stores.
//!
//! The key is read from standard input only (never an argument, where other
//! processes could see it), held in zeroizing buffers, and never printed:
//! `login status` shows Codex's mask (`sk-proj-***ABCDE`). Tokens are never
//! printed either.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use anyhow::Result;
use zeroize::Zeroizing;

use crate::cli::{LoginArgs, LoginCommand};
use codex_host::App;
use codex_host::auth::{
    AUTH_SERVICE, LoginState, api_key_document, check_key_shape, login_state, open_store,
};
use codex_login::policy::ForcedLoginMethod;

mod access_token;
mod account;
mod policy;

/// More than any API key; a larger input is something else piped by mistake.
const MAX_INPUT: u64 = 64 * 1024;

const NOT_ON_A_TERMINAL: &str = "--with-api-key expects the API key on stdin. Try piping it, \
                                 e.g. `printenv OPENAI_API_KEY | codex login --with-api-key`.";

/// Writes one line to standard error (where Codex prints every login message).
pub(crate) fn say(line: &str) {
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
        None if args.with_access_token => access_token::login(app),
        None => account::login(app, &args),
    }
}

fn with_api_key(app: &App) -> Result<ExitCode> {
    let forced = match policy::forced_login_method(app) {
        Ok(forced) => forced,
        Err(problem) => {
            say(&format!("Error logging in: {problem}"));
            return Ok(ExitCode::FAILURE);
        }
    };
    if forced == Some(ForcedLoginMethod::ChatGpt) {
        say(ForcedLoginMethod::ChatGpt.refusal());
        return Ok(ExitCode::FAILURE);
    }
    let Some(input) = read_stdin("API key", NOT_ON_A_TERMINAL, "Error logging in") else {
        return Ok(ExitCode::FAILURE);
    };
    let key = input.trim();
    if let Err(problem) = check_key_shape(key) {
        say(&format!(
            "Error logging in: that does not look like an API key: {problem} (the key is not \
             shown). Check what is piped in."
        ));
        return Ok(ExitCode::FAILURE);
    }
    let document = api_key_document(key);
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

/// Reads a secret (`what`: "API key", "access token") from standard input,
/// at most [`MAX_INPUT`] bytes of UTF-8, into a zeroizing string. `None`
/// when there is none to read, after saying why (`prefix` starts Codex's
/// error line).
pub(crate) fn read_stdin(
    what: &str,
    on_a_terminal: &str,
    prefix: &str,
) -> Option<Zeroizing<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        say(on_a_terminal);
        return None;
    }
    let mut input = Zeroizing::new(Vec::new());
    if let Err(error) = stdin.lock().take(MAX_INPUT + 1).read_to_end(&mut input) {
        say(&format!("{prefix}: cannot read standard input: {error}"));
        return None;
    }
    if input.len() as u64 > MAX_INPUT {
        say(&format!(
            "{prefix}: the input on stdin is larger than 64 KiB; an {what} is much shorter. \
             Check what is piped in."
        ));
        return None;
    }
    let Ok(text) = std::str::from_utf8(&input) else {
        say(&format!("{prefix}: the {what} on stdin is not UTF-8 text."));
        return None;
    };
    if text.trim().is_empty() {
        say(&format!("No {what} provided via stdin."));
        return None;
    }
    Some(Zeroizing::new(text.to_owned()))
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
    if login_state(&document) == Ok(LoginState::AgentIdentity) {
        // Its own policy rule: an API-only policy hides it and keeps it.
        return Ok(access_token::status(app, &document));
    }
    if let Some(message) = policy::violation_of(app, &document) {
        // Codex logs such a login out where it loads it; so does status.
        say(&policy::log_out(&store, &account, &message));
        return Ok(ExitCode::FAILURE);
    }
    match login_state(&document) {
        Ok(LoginState::ApiKey(masked)) => {
            say(&format!("Logged in using an API key - {masked}"));
            Ok(ExitCode::SUCCESS)
        }
        Ok(LoginState::ChatGpt) => {
            say("Logged in using ChatGPT");
            Ok(ExitCode::SUCCESS)
        }
        Ok(LoginState::AgentIdentity) => Ok(access_token::status(app, &document)),
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

/// `codex logout`: revoke the tokens (best effort: a failure is a warning,
/// the login is removed all the same), then delete.
pub fn logout(app: &App) -> Result<ExitCode> {
    let (store, account) = open_store(app)?;
    if let Ok(Some(document)) = store.load(AUTH_SERVICE, &account)
        && let Err(problem) = account::revoke_stored(&document)
    {
        say(&format!(
            "Warning: the tokens could not be revoked at the issuer ({problem}); they are removed \
             here and expire on their own."
        ));
    }
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
