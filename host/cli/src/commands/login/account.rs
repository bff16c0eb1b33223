//! The ChatGPT account login of `codex login`: the browser flow, or the
//! device-code flow with `--device-auth`, under the configured policies,
//! saved as Codex's `auth.json` document in the configured store; and the
//! revocation `codex logout` does first.
//!
//! Beside Codex's hidden `--experimental_issuer` / `--experimental_client-id`
//! (also `CODEX_LOGIN_ISSUER` / `CODEX_LOGIN_CLIENT_ID`), two variables move
//! what tests need moved: `CODEX_LOGIN_PORT` (the loopback port, default
//! 1455) and `CODEX_DEVICE_AUTH_TIMEOUT_SECS` (how long a device code is
//! waited for, default 15 minutes).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use super::{policy, say};
use crate::cli::LoginArgs;
use codex_host::App;
use codex_host::auth::{AUTH_SERVICE, open_store};
use codex_login::login_log::LoginLog;
use codex_login::policy::ForcedLoginMethod;
use codex_login::token::revoke;
use codex_login::{
    DEFAULT_CLIENT_ID, DEFAULT_ISSUER, IdTokenClaims, LoginError, LoginOptions, StoredLogin,
    Tokens, browser, chatgpt_document, device,
};

const PORT_ENV: &str = "CODEX_LOGIN_PORT";
const DEVICE_TIMEOUT_ENV: &str = "CODEX_DEVICE_AUTH_TIMEOUT_SECS";
/// Ctrl-C: the shell's convention for a command ended by SIGINT.
const CANCELLED_EXIT: u8 = 130;

/// `codex login` and `codex login --device-auth`.
pub fn login(app: &App, args: &LoginArgs) -> Result<ExitCode> {
    let options = match options(app, args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            say(ForcedLoginMethod::Api.refusal());
            return Ok(ExitCode::FAILURE);
        }
        Err(problem) => {
            say(&format!("Error logging in: {problem}"));
            return Ok(ExitCode::FAILURE);
        }
    };
    let (store, account) = open_store(app)?;
    // The login this one replaces: its tokens are revoked once the new
    // login is saved, as Codex does (a failure there is only a warning).
    let previous = store.load(AUTH_SERVICE, &account).ok().flatten();
    let save = |tokens: &Tokens, api_key: Option<&str>| {
        let document = chatgpt_document(tokens, api_key, &options).map_err(|e| e.to_string())?;
        store
            .store(AUTH_SERVICE, &account, &document)
            .map_err(|error| error.to_string())
    };
    let device_limit = match device_limit() {
        Ok(limit) => limit,
        Err(problem) => {
            say(&format!("Error logging in: {problem}"));
            return Ok(ExitCode::FAILURE);
        }
    };
    // codex-login.log, as Codex keeps it.
    let log = LoginLog::for_config(&app.codex_home, app.config.merged());
    let flow = async {
        if args.device_auth {
            log.info("codex_cli::login", "starting device code login flow");
            let code = device::request(&options).await?;
            let color = std::io::stdout().is_terminal();
            let mut stdout = std::io::stdout().lock();
            let _ = write!(stdout, "{}", device::prompt(&code, color));
            let _ = stdout.flush();
            drop(stdout);
            device::complete(&options, code, device_limit, |tokens| save(tokens, None)).await
        } else {
            log.info("codex_cli::login", "starting browser login flow");
            let login = browser::start(options.clone()).await?.with_log(log.clone());
            say(&format!(
                "Starting local login server on http://localhost:{}.\nIf your browser did not \
                 open, navigate to this URL to authenticate:\n\n{}\n\nOn a remote or headless \
                 machine? Use `codex login --device-auth` instead.",
                login.port, login.url
            ));
            // A failure is no error: the URL is printed for the person to open.
            let _ = codex_plugin_host::services::open_url(&login.url);
            login.finish(save, say).await
        }
    };
    let outcome = super::super::runtime()?.block_on(async {
        tokio::select! {
            outcome = flow => outcome,
            _ = tokio::signal::ctrl_c() => Err(LoginError::Cancelled),
        }
    });
    if outcome.is_ok()
        && let Some(previous) = previous
        && let now = store.load(AUTH_SERVICE, &account).ok().flatten()
        && superseded(&previous, now.as_ref().map(|now| now.as_str()))
        && let Err(problem) = revoke_stored(&previous)
    {
        say(&format!(
            "Warning: the tokens of the previous login could not be revoked ({problem})."
        ));
    }
    Ok(report(outcome))
}

/// Whether `previous` held ChatGPT tokens that the login now stored does
/// not (a new refresh token replaced them).
fn superseded(previous: &str, now: Option<&str>) -> bool {
    let Ok(previous) = StoredLogin::parse(previous) else {
        return false;
    };
    let Some(old) = previous.refresh_token else {
        return false;
    };
    let new = now
        .and_then(|now| StoredLogin::parse(now).ok())
        .and_then(|now| now.refresh_token);
    new.is_none_or(|new| *new != *old)
}

fn report(outcome: Result<IdTokenClaims, LoginError>) -> ExitCode {
    match outcome {
        Ok(claims) => {
            say("Successfully logged in");
            let plan = claims
                .plan_type
                .as_deref()
                .map(|plan| format!(" ({plan} plan)"));
            if let Some(email) = claims.email {
                say(&format!("Signed in as {email}{}", plan.unwrap_or_default()));
            }
            ExitCode::SUCCESS
        }
        Err(LoginError::Cancelled) => {
            say("Error logging in: Login cancelled; nothing was saved.");
            ExitCode::from(CANCELLED_EXIT)
        }
        Err(error) => {
            say(&format!("Error logging in: {error}"));
            ExitCode::FAILURE
        }
    }
}

/// The options of this login; `None` when `forced_login_method = "api"`.
fn options(app: &App, args: &LoginArgs) -> Result<Option<LoginOptions>, String> {
    if policy::forced_login_method(app)? == Some(ForcedLoginMethod::Api) {
        return Ok(None);
    }
    let issuer = non_empty(args.issuer.as_deref()).unwrap_or(DEFAULT_ISSUER);
    let client_id = non_empty(args.client_id.as_deref()).unwrap_or(DEFAULT_CLIENT_ID);
    let mut options = LoginOptions::new(issuer, client_id);
    options.allowed_workspaces = policy::forced_workspaces(app)?;
    if let Ok(port) = std::env::var(PORT_ENV) {
        options.port = port.trim().parse().map_err(|_| {
            format!("{PORT_ENV}={port} is not a port number (1-65535, or 0 for any free port)")
        })?;
    }
    options.check_issuer().map_err(|error| error.to_string())?;
    Ok(Some(options))
}

fn device_limit() -> Result<Duration, String> {
    match std::env::var(DEVICE_TIMEOUT_ENV) {
        Err(_) => Ok(device::CODE_LIFETIME),
        Ok(value) => match value.trim().parse::<u64>() {
            Ok(seconds) if seconds > 0 => Ok(Duration::from_secs(seconds)),
            _ => Err(format!(
                "{DEVICE_TIMEOUT_ENV}={value} is not a positive number of seconds"
            )),
        },
    }
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|value| !value.is_empty())
}

/// Revokes the refresh token (else the access token) of a stored ChatGPT
/// login, at the issuer it came from. An API-key login has nothing to revoke.
pub fn revoke_stored(document: &str) -> Result<(), String> {
    let stored = StoredLogin::parse(document)?;
    let (token, hint) = match (&stored.refresh_token, &stored.access_token) {
        (Some(token), _) => (token, "refresh_token"),
        (None, Some(token)) => (token, "access_token"),
        (None, None) => return Ok(()),
    };
    // The issuer the tokens came from, as a refresh would go there.
    let endpoints = codex_login::refresh::endpoints_for(&stored);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the network runtime: {error}"))?;
    runtime.block_on(revoke(&endpoints, token, hint))
}
