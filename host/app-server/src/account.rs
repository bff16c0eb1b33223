//! `account/*` and the v1 `getAuthStatus` that Codex 0.169 still answers,
//! over the process's [`AuthManager`].

use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth_manager::{AuthMode, LoginSnapshot, updated_params};
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
    #[allow(dead_code)]
    include_token: Option<bool>,
    #[serde(default)]
    refresh_token: Option<bool>,
}

fn snapshot_or_error(snapshot: LoginSnapshot) -> Result<Option<AuthMode>, RpcError> {
    match snapshot {
        LoginSnapshot::LoggedIn(mode) => Ok(Some(mode)),
        LoginSnapshot::LoggedOut => Ok(None),
        LoginSnapshot::Unreadable(problem) => Err(RpcError::internal(problem)),
    }
}

pub fn read(server: &Server, raw: Option<Value>) -> Answer {
    let asked: GetAccountParams = params(raw)?;
    let snapshot = if asked.refresh_token {
        server.auth.refresh_tokens()
    } else {
        server.auth.current()
    };
    let account = match snapshot_or_error(snapshot)? {
        Some(AuthMode::ApiKey) => json!({"type": "apiKey"}),
        // The plan and e-mail are in the ID token, which the login flows
        // read; until they are wired in, both are unknown.
        Some(AuthMode::ChatGpt) => json!({"type": "chatgpt", "email": null, "planType": "unknown"}),
        Some(AuthMode::AgentIdentity) | None => Value::Null,
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

pub fn login_start(server: &Server, raw: Option<Value>) -> Answer {
    match params::<LoginAccountParams>(raw)? {
        LoginAccountParams::ApiKey { api_key } => {
            let api_key = zeroize::Zeroizing::new(api_key);
            server
                .auth
                .login_api_key(&api_key)
                .map_err(RpcError::invalid_request)?;
            Ok((
                json!({"type": "apiKey"}),
                vec![
                    notification(
                        "account/login/completed",
                        json!({"loginId": null, "success": true, "error": null}),
                    ),
                    notification("account/updated", updated_params(Some(AuthMode::ApiKey))),
                ],
            ))
        }
        LoginAccountParams::Chatgpt {} | LoginAccountParams::ChatgptDeviceCode {} => {
            Err(RpcError::invalid_request(
                "ChatGPT login is not available in this codex yet; log in with an API key \
                 (`account/login/start` with {\"type\": \"apiKey\", \"apiKey\": ...})",
            ))
        }
    }
}

/// No login flow runs in this process yet, so a well-formed id is never
/// found; a malformed one is refused as Codex refuses it.
pub fn login_cancel(raw: Option<Value>) -> Answer {
    let asked: CancelLoginAccountParams = params(raw)?;
    if !looks_like_uuid(&asked.login_id) {
        return Err(RpcError::invalid_request(format!(
            "invalid login id: {}",
            asked.login_id
        )));
    }
    Ok((json!({"status": "notFound"}), Vec::new()))
}

fn looks_like_uuid(text: &str) -> bool {
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

/// v1 `getAuthStatus`. The token itself is never sent: `authToken` is
/// always null, whatever `includeToken` asks.
pub fn get_auth_status(server: &Server, raw: Option<Value>) -> Answer {
    let asked: GetAuthStatusParams = params(raw)?;
    let snapshot = if asked.refresh_token == Some(true) {
        server.auth.refresh_tokens()
    } else {
        server.auth.current()
    };
    let mode = snapshot_or_error(snapshot)?;
    Ok((
        json!({
            "authMethod": mode.map(AuthMode::wire_name),
            "authToken": null,
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
