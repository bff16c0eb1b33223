//! `account/login/start` with a ChatGPT account, and `account/login/cancel`:
//! codex-login's browser flow (the loopback server, its `authUrl` answered
//! at once) and device-code flow (`verificationUrl` and `userCode`), run in
//! the background until the person completes them; then
//! `account/login/completed` and, on success, `account/updated`.
//!
//! One login runs at a time, as in Codex: a new one ends the one waiting
//! ("Login cancelled"), and `account/login/cancel` ends it by its id.
//!
//! The issuer, client and port come from the environment the CLI's login
//! reads too (`CODEX_LOGIN_ISSUER`, `CODEX_LOGIN_CLIENT_ID`,
//! `CODEX_LOGIN_PORT`, `CODEX_DEVICE_AUTH_TIMEOUT_SECS`), so the flows run
//! against local servers in tests; defaults are Codex's.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use codex_login::policy::{self, ForcedLoginMethod};
use codex_login::refresh::{CLIENT_ID_ENV, ISSUER_ENV};
use codex_login::{
    DEFAULT_CLIENT_ID, DEFAULT_ISSUER, IdTokenClaims, LoginError, LoginOptions, Tokens, browser,
    chatgpt_document, device,
};
use tokio::sync::oneshot;

use crate::account::{AccountLoginCompletedNotification, LoginAccountResponse};
use crate::auth_manager::updated_params;
use crate::protocol::{RpcError, notification};
use crate::server::Server;

const PORT_ENV: &str = "CODEX_LOGIN_PORT";
const DEVICE_TIMEOUT_ENV: &str = "CODEX_DEVICE_AUTH_TIMEOUT_SECS";

/// Why a login ended before the person completed it.
enum Ended {
    /// Another `account/login/start` took its place.
    Replaced,
    /// `account/login/cancel`.
    Cancelled,
}

struct Active {
    id: String,
    end: oneshot::Sender<Ended>,
}

/// The ChatGPT login in progress, if any.
#[derive(Default)]
pub struct LoginFlows {
    active: Mutex<Option<Active>>,
}

impl LoginFlows {
    /// Registers login `id`, ending the one before it.
    fn begin(&self, id: &str) -> oneshot::Receiver<Ended> {
        let (end, ended) = oneshot::channel();
        let previous = self.lock().replace(Active {
            id: id.to_owned(),
            end,
        });
        if let Some(previous) = previous {
            let _ = previous.end.send(Ended::Replaced);
        }
        ended
    }

    /// Ends login `id`; `false` when no such login runs.
    pub fn cancel(&self, id: &str) -> bool {
        let mut active = self.lock();
        if active.as_ref().is_some_and(|active| active.id == id) {
            if let Some(active) = active.take() {
                let _ = active.end.send(Ended::Cancelled);
            }
            return true;
        }
        false
    }

    /// Forgets login `id` once it ended (a later one may have replaced it).
    fn finished(&self, id: &str) {
        let mut active = self.lock();
        if active.as_ref().is_some_and(|active| active.id == id) {
            *active = None;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Active>> {
        match self.active.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// Which ChatGPT flow to run.
pub enum Flow {
    Browser,
    DeviceCode,
}

/// Starts a ChatGPT login: the answer to `account/login/start`.
pub(crate) async fn start(
    server: Arc<Server>,
    flow: Flow,
) -> Result<LoginAccountResponse, RpcError> {
    let options = options(&server)?;
    let id = new_login_id().map_err(RpcError::internal)?;
    match flow {
        Flow::Browser => {
            // Ended first: its loopback server holds the port this one takes.
            let ended = server.logins.begin(&id);
            let login = match browser::start(options.clone()).await {
                Ok(login) => login,
                Err(error) => {
                    server.logins.finished(&id);
                    return Err(start_error(error));
                }
            };
            let answer = LoginAccountResponse::Chatgpt {
                login_id: id.clone(),
                auth_url: login.url.to_string(),
            };
            let run = {
                let server = server.clone();
                async move {
                    let save = |tokens: &Tokens, api_key: Option<&str>| {
                        save(&server, tokens, api_key, &options)
                    };
                    login
                        .finish(save, |notice| eprintln!("warning: {notice}"))
                        .await
                }
            };
            tokio::spawn(complete(server, id, run, ended));
            Ok(answer)
        }
        Flow::DeviceCode => {
            let code = device::request(&options).await.map_err(start_error)?;
            let ended = server.logins.begin(&id);
            let answer = LoginAccountResponse::ChatgptDeviceCode {
                login_id: id.clone(),
                verification_url: code.verification_url.to_string(),
                user_code: code.user_code.to_string(),
            };
            let limit = device_limit();
            let run = {
                let server = server.clone();
                async move {
                    device::complete(&options, code, limit, |tokens| {
                        save(&server, tokens, None, &options)
                    })
                    .await
                }
            };
            tokio::spawn(complete(server, id, run, ended));
            Ok(answer)
        }
    }
}

/// Runs a started login to its end and says how it ended.
async fn complete(
    server: Arc<Server>,
    id: String,
    run: impl std::future::Future<Output = Result<IdTokenClaims, LoginError>>,
    ended: oneshot::Receiver<Ended>,
) {
    let outcome = tokio::select! {
        outcome = run => outcome.map_err(|error| format!("Login server error: {error}")),
        why = ended => Err(match why {
            Ok(Ended::Cancelled) => "Login server error: Login was not completed".to_owned(),
            Ok(Ended::Replaced) | Err(_) => "Login server error: Login cancelled".to_owned(),
        }),
    };
    server.logins.finished(&id);
    match outcome {
        Ok(_) => {
            server.notify(notification(
                "account/login/completed",
                AccountLoginCompletedNotification {
                    login_id: Some(id),
                    success: true,
                    error: None,
                },
            ));
            let current = server.auth.current();
            server.notify(notification(
                "account/updated",
                updated_params(current.account()),
            ));
        }
        Err(error) => {
            server.notify(notification(
                "account/login/completed",
                AccountLoginCompletedNotification {
                    login_id: Some(id),
                    success: false,
                    error: Some(error),
                },
            ));
        }
    }
}

/// The save step of both flows: the document in the configured store.
fn save(
    server: &Server,
    tokens: &Tokens,
    api_key: Option<&str>,
    options: &LoginOptions,
) -> Result<(), String> {
    let document = chatgpt_document(tokens, api_key, options).map_err(|e| e.to_string())?;
    server.auth.store_chatgpt_login(&document)
}

/// A login that could not start: a refused policy or options are the
/// client's to fix (-32600), anything else is the server's (-32603).
fn start_error(error: LoginError) -> RpcError {
    match error {
        LoginError::Config(_) | LoginError::DeviceCodeUnsupported => {
            RpcError::invalid_request(error.to_string())
        }
        other => RpcError::internal(format!("failed to start the login: {other}")),
    }
}

/// The options of a login from this app server.
fn options(server: &Server) -> Result<LoginOptions, RpcError> {
    let app = server.app();
    let merged = app.config.merged();
    let method = policy::forced_login_method(merged, &app.codex_home.join("config.toml"))
        .map_err(RpcError::invalid_request)?;
    if method == Some(ForcedLoginMethod::Api) {
        return Err(RpcError::invalid_request(ForcedLoginMethod::Api.refusal()));
    }
    let from_env = |name: &str| {
        std::env::var(name)
            .ok()
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let issuer = from_env(ISSUER_ENV).unwrap_or_else(|| DEFAULT_ISSUER.to_owned());
    let client_id = from_env(CLIENT_ID_ENV).unwrap_or_else(|| DEFAULT_CLIENT_ID.to_owned());
    let mut options = LoginOptions::new(&issuer, &client_id);
    // Codex's app server registers its callback on 127.0.0.1.
    options.redirect_host = "127.0.0.1".to_owned();
    options.allowed_workspaces =
        policy::forced_workspaces(merged).map_err(RpcError::invalid_request)?;
    // Codex's app server sends its client's name as the originator.
    if std::env::var_os(codex_login::ORIGINATOR_ENV).is_none()
        && let Some(name) = server.client_name()
        && !name.is_empty()
        && name.bytes().all(|byte| byte.is_ascii_graphic())
    {
        options.originator = name;
    }
    if let Some(port) = from_env(PORT_ENV) {
        options.port = port.parse().map_err(|_| {
            RpcError::invalid_request(format!(
                "{PORT_ENV}={port} is not a port number (1-65535, or 0 for any free port)"
            ))
        })?;
    }
    options
        .check_issuer()
        .map_err(|error| RpcError::invalid_request(error.to_string()))?;
    Ok(options)
}

fn device_limit() -> Duration {
    std::env::var(DEVICE_TIMEOUT_ENV)
        .ok()
        .and_then(|value| value.trim().parse::<u64>().ok())
        .filter(|seconds| *seconds > 0)
        .map(Duration::from_secs)
        .unwrap_or(device::CODE_LIFETIME)
}

/// A random UUID (version 4), as Codex's login ids are.
pub(crate) fn new_login_id() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|error| format!("no randomness for a login id: {error}"))?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_ids_are_v4_uuids() {
        let id = new_login_id().unwrap();
        assert!(crate::account::looks_like_uuid(&id), "{id}");
        assert_eq!(&id[14..15], "4");
        assert_ne!(id, new_login_id().unwrap());
    }

    #[test]
    fn a_new_login_ends_the_one_before_and_cancel_finds_by_id() {
        let flows = LoginFlows::default();
        let mut first = flows.begin("a");
        let _second = flows.begin("b");
        assert!(matches!(first.try_recv(), Ok(Ended::Replaced)));
        assert!(!flows.cancel("a"));
        assert!(flows.cancel("b"));
        assert!(!flows.cancel("b"));
    }
}
