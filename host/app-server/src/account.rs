//! `account/*` and the v1 `getAuthStatus` that Codex 0.169 still answers,
//! over the process's [`crate::auth_manager::AuthManager`]; the ChatGPT
//! login flows are in [`crate::account_login`].

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::account_login::{self, Flow};
use crate::auth_manager::{Account, AuthMode, LoginSnapshot, updated_params};
use crate::protocol::{RpcError, notification, params, to_result};
use crate::server::{Answer, Server};

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetAccountParams {
    /// Renew a ChatGPT login at the issuer before answering.
    #[serde(default)]
    refresh_token: bool,
}

/// How to log in, by `type`.
#[derive(Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub(crate) enum LoginAccountParams {
    /// Store this API key as the login.
    #[serde(rename_all = "camelCase")]
    ApiKey { api_key: String },
    /// A ChatGPT login in the browser.
    Chatgpt {},
    /// A ChatGPT login with a code entered on another device.
    ChatgptDeviceCode {},
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CancelLoginAccountParams {
    /// The `loginId` that `account/login/start` answered.
    login_id: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetAuthStatusParams {
    /// Put the API key or the ChatGPT access token into `authToken`.
    #[serde(default)]
    include_token: Option<bool>,
    #[serde(default)]
    refresh_token: Option<bool>,
}

/// v1 `getAuthStatus`'s answer.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetAuthStatusResponse<'a> {
    /// Null when logged out.
    auth_method: Option<AuthMode>,
    /// With `includeToken`: the API key or the ChatGPT access token.
    auth_token: Option<&'a str>,
    requires_openai_auth: bool,
}

/// The login, as `account/read` describes it.
#[derive(Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
#[schemars(rename = "Account")]
pub(crate) enum AccountInfo {
    ApiKey {},
    #[serde(rename_all = "camelCase")]
    Chatgpt {
        email: Option<String>,
        /// The plan as Codex names it, `unknown` for another.
        plan_type: Option<String>,
    },
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetAccountResponse {
    /// Null when logged out.
    account: Option<AccountInfo>,
    /// Always null: this host keeps no ChatGPT user id.
    user_id: Option<String>,
    /// Always true: the models this login is for need it.
    requires_openai_auth: bool,
    /// Always null: this host routes to no workspace.
    #[schemars(extend("x-experimental" = true))]
    workspace_routing: Option<Value>,
}

#[derive(Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub(crate) enum LoginAccountResponse {
    /// The key is stored; `account/login/completed` follows.
    ApiKey {},
    /// Open `authUrl`; `account/login/completed` says how it ended.
    #[serde(rename_all = "camelCase")]
    Chatgpt { login_id: String, auth_url: String },
    /// Show `userCode` and `verificationUrl`; `account/login/completed`
    /// says how it ended.
    #[serde(rename_all = "camelCase")]
    ChatgptDeviceCode {
        login_id: String,
        verification_url: String,
        user_code: String,
    },
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) enum CancelLoginAccountStatus {
    Canceled,
    NotFound,
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct CancelLoginAccountResponse {
    status: CancelLoginAccountStatus,
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct LogoutAccountResponse {}

/// How a login that `account/login/start` began ended.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccountLoginCompletedNotification {
    /// Null for an API key (it completes at once).
    pub login_id: Option<String>,
    pub success: bool,
    pub error: Option<String>,
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
        Some(account) if account.mode == AuthMode::ApiKey => Some(AccountInfo::ApiKey {}),
        Some(account) if account.mode == AuthMode::ChatGpt => Some(AccountInfo::Chatgpt {
            plan_type: account.wire_plan().map(str::to_owned),
            email: account.email,
        }),
        Some(_) | None => None,
    };
    let answer = GetAccountResponse {
        account,
        user_id: None,
        requires_openai_auth: true,
        workspace_routing: None,
    };
    Ok((to_result(&answer)?, Vec::new()))
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
            let completed = AccountLoginCompletedNotification {
                login_id: None,
                success: true,
                error: None,
            };
            Ok((
                to_result(&LoginAccountResponse::ApiKey {})?,
                vec![
                    notification("account/login/completed", completed),
                    notification("account/updated", updated_params(account.account())),
                ],
            ))
        }
        LoginAccountParams::Chatgpt {} => {
            let answer = account_login::start(server, Flow::Browser).await?;
            Ok((to_result(&answer)?, Vec::new()))
        }
        LoginAccountParams::ChatgptDeviceCode {} => {
            let answer = account_login::start(server, Flow::DeviceCode).await?;
            Ok((to_result(&answer)?, Vec::new()))
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
        CancelLoginAccountStatus::Canceled
    } else {
        CancelLoginAccountStatus::NotFound
    };
    Ok((
        to_result(&CancelLoginAccountResponse { status })?,
        Vec::new(),
    ))
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
        to_result(&LogoutAccountResponse {})?,
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
    let answer = GetAuthStatusResponse {
        auth_method: account.map(|account| account.mode),
        auth_token: token.as_deref().map(String::as_str),
        requires_openai_auth: true,
    };
    Ok((to_result(&answer)?, Vec::new()))
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
