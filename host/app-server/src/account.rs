//! `account/*` and the v1 `getAuthStatus` that Codex 0.169 still answers,
//! over the process's [`crate::auth_manager::AuthManager`]; the ChatGPT
//! login flows are in [`crate::account_login`].

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::account_login::{self, Flow};
use crate::auth_manager::{Account, AuthMode, LoginSnapshot, updated_params};
use crate::protocol::{RpcError, notification, params};
use crate::server::{Answer, Server};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetAccountParams {
    #[serde(default)]
    refresh_token: bool,
}

/// `account/login/start`, tagged by `type` as Codex's is.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
enum LoginAccountParams {
    #[serde(rename_all = "camelCase")]
    ApiKey {
        api_key: String,
    },
    Chatgpt {},
    ChatgptDeviceCode {},
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CancelLoginAccountParams {
    login_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetAuthStatusParams {
    #[serde(default)]
    include_token: Option<bool>,
    #[serde(default)]
    refresh_token: Option<bool>,
}

fn snapshot_or_error(snapshot: LoginSnapshot) -> Result<Option<Account>, RpcError> {
    match snapshot {
        LoginSnapshot::LoggedIn(account) => Ok(Some(account)),
        LoginSnapshot::LoggedOut => Ok(None),
        LoginSnapshot::Unreadable(problem) => Err(RpcError::internal(problem)),
    }
}

/// The login, renewed as asked: `refresh` renews now; otherwise a ChatGPT
/// login older than Codex's interval is renewed first. A refresh refused for
/// good was reported (once) by the AuthManager; the login is answered as it is.
fn login(server: &Server, refresh: bool) -> LoginSnapshot {
    if refresh {
        server
            .auth
            .refresh_tokens()
            .unwrap_or_else(|_| server.auth.current())
    } else {
        server.auth.fresh()
    }
}

/// `account/read`. Blocking (a refresh may reach the issuer).
pub fn read(server: &Server, raw: Option<Value>) -> Answer {
    let asked: GetAccountParams = params(raw)?;
    let account = match snapshot_or_error(login(server, asked.refresh_token))? {
        Some(account) if account.mode == AuthMode::ApiKey => json!({"type": "apiKey"}),
        Some(account) if account.mode == AuthMode::ChatGpt => json!({
            "type": "chatgpt",
            "email": account.email,
            "planType": account.wire_plan(),
        }),
        Some(_) | None => Value::Null,
    };
    Ok((
        json!({
            "account": account,
            "userId": null,
            "requiresOpenaiAuth": true,
            "workspaceRouting": null,
        }),
        Vec::new(),
    ))
}

pub async fn login_start(server: Arc<Server>, raw: Option<Value>) -> Answer {
    match params::<LoginAccountParams>(raw)? {
        LoginAccountParams::ApiKey { api_key } => {
            let api_key = zeroize::Zeroizing::new(api_key);
            server
                .auth
                .login_api_key(&api_key)
                .map_err(RpcError::invalid_request)?;
            let account = server.auth.current();
            Ok((
                json!({"type": "apiKey"}),
                vec![
                    notification(
                        "account/login/completed",
                        json!({"loginId": null, "success": true, "error": null}),
                    ),
                    notification("account/updated", updated_params(account.account())),
                ],
            ))
        }
        LoginAccountParams::Chatgpt {} => {
            let answer = account_login::start(server, Flow::Browser).await?;
            Ok((answer, Vec::new()))
        }
        LoginAccountParams::ChatgptDeviceCode {} => {
            let answer = account_login::start(server, Flow::DeviceCode).await?;
            Ok((answer, Vec::new()))
        }
    }
}

/// Ends the ChatGPT login in progress with this id; a malformed id is
/// refused as Codex refuses it.
pub fn login_cancel(server: &Server, raw: Option<Value>) -> Answer {
    let asked: CancelLoginAccountParams = params(raw)?;
    if !looks_like_uuid(&asked.login_id) {
        return Err(RpcError::invalid_request(format!(
            "invalid login id: {}",
            asked.login_id
        )));
    }
    let status = if server.logins.cancel(&asked.login_id) {
        "canceled"
    } else {
        "notFound"
    };
    Ok((json!({"status": status}), Vec::new()))
}

pub fn looks_like_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.chars().all(|c| c.is_ascii_hexdigit()))
}

pub fn logout(server: &Server) -> Answer {
    server.auth.logout().map_err(RpcError::internal)?;
    Ok((
        json!({}),
        vec![notification("account/updated", updated_params(None))],
    ))
}

/// v1 `getAuthStatus`, as Codex 0.169 answers it: `params` required,
/// `authToken` (the API key, or the ChatGPT access token) only with
/// `includeToken: true`, and null once a refresh was refused for good. The
/// token goes into the answer and nowhere else. Blocking.
pub fn get_auth_status(server: &Server, raw: Option<Value>) -> Answer {
    if raw.is_none() {
        return Err(RpcError::invalid_request(
            "Invalid request: missing field `params`",
        ));
    }
    let asked: GetAuthStatusParams = params(raw)?;
    let account = snapshot_or_error(login(server, asked.refresh_token == Some(true)))?;
    let token = match (&account, asked.include_token) {
        (Some(_), Some(true)) => server.auth.token(),
        _ => None,
    };
    Ok((
        json!({
            "authMethod": account.map(|account| account.mode.wire_name()),
            "authToken": token.as_deref().map(String::as_str),
            "requiresOpenaiAuth": true,
        }),
        Vec::new(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_ids_are_uuids() {
        assert!(looks_like_uuid("01a24241-4b88-75a2-ac1d-e6a243757108"));
        assert!(!looks_like_uuid("x"));
        assert!(!looks_like_uuid("01a24241-4b88-75a2-ac1d-e6a24375710g"));
    }
}
