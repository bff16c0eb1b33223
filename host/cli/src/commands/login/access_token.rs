//! `codex login --with-access-token` and `login status` of such a login,
//! under Codex 0.169's texts: the token is checked with ChatGPT's keys
//! (codex-login's `agent_identity`) and stored as it came; status checks it
//! again and registers a task, which is the backend saying it still holds.

use std::process::ExitCode;

use anyhow::Result;
use codex_host::App;
use codex_host::auth::{AUTH_SERVICE, open_store};
use codex_login::agent_identity::{self, Endpoints};
use codex_login::policy::ForcedLoginMethod;

use super::{policy, read_stdin, say};

const NOT_ON_A_TERMINAL: &str = "--with-access-token expects the access token on stdin. Try \
                                 piping it, e.g. `printenv CODEX_ACCESS_TOKEN | codex login \
                                 --with-access-token`.";
const FAILED: &str = "Error logging in with access token";

/// `codex login --with-access-token`.
pub fn login(app: &App) -> Result<ExitCode> {
    say("Reading access token from stdin...");
    match policy::forced_login_method(app) {
        Ok(Some(ForcedLoginMethod::Api)) => {
            say("Access token login is disabled. Use API key login instead.");
            return Ok(ExitCode::FAILURE);
        }
        Ok(_) => {}
        Err(problem) => {
            say(&format!("{FAILED}: {problem}"));
            return Ok(ExitCode::FAILURE);
        }
    }
    let Some(input) = read_stdin("access token", NOT_ON_A_TERMINAL, FAILED) else {
        return Ok(ExitCode::FAILURE);
    };
    let token = input.trim();
    let endpoints = endpoints(app);
    let checked = match &endpoints.jwks_url {
        Some(jwks_url) => super::super::runtime()?.block_on(agent_identity::verify(
            token,
            jwks_url,
            &codex_login::originator(),
        )),
        // Codex checks no signature outside ChatGPT's own environments.
        None => agent_identity::decode(token)
            .map_err(|problem| format!("failed to decode agent identity JWT: {problem}")),
    };
    if let Err(problem) = checked {
        say(&format!("{FAILED}: {problem}"));
        return Ok(ExitCode::FAILURE);
    }
    let document = match agent_identity::document(token) {
        Ok(document) => document,
        Err(problem) => {
            say(&format!("{FAILED}: {problem}"));
            return Ok(ExitCode::FAILURE);
        }
    };
    let (store, account) = open_store(app)?;
    match store.store(AUTH_SERVICE, &account, &document) {
        Ok(()) => {
            say("Successfully logged in");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            say(&format!("{FAILED}: {error}"));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `codex login status` of a stored access-token login.
pub fn status(app: &App, document: &str) -> ExitCode {
    if let Ok(Some(ForcedLoginMethod::Api)) = policy::forced_login_method(app) {
        // Codex keeps the login and reports none.
        say("Not logged in");
        return ExitCode::FAILURE;
    }
    match check_stored(app, document) {
        Ok(()) => {
            say("Logged in using access token");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            say(&format!("Error checking login status: {problem}"));
            ExitCode::FAILURE
        }
    }
}

fn check_stored(app: &App, document: &str) -> Result<(), String> {
    let token = agent_identity::stored_token(document)
        .ok_or_else(|| "agent identity auth is missing an agent identity token".to_owned())?;
    let endpoints = endpoints(app);
    let runtime = super::super::runtime()
        .map_err(|error| format!("cannot start the network runtime: {error}"))?;
    let originator = codex_login::originator();
    runtime.block_on(async {
        let identity = match &endpoints.jwks_url {
            Some(jwks_url) => agent_identity::verify(&token, jwks_url, &originator).await?,
            None => agent_identity::decode(&token)
                .map_err(|problem| format!("failed to decode agent identity JWT: {problem}"))?,
        };
        let authapi = endpoints.authapi_base_url.clone()?;
        agent_identity::register_task(&identity, &authapi, &originator)
            .await
            .map(|_task| ())
    })
}

fn endpoints(app: &App) -> Endpoints {
    let merged = app.config.merged();
    Endpoints::new(merged.get("chatgpt_base_url").and_then(toml::Value::as_str))
}
