//! `forced_login_method` and `forced_chatgpt_workspace_id`, with Codex's
//! messages: a flow the policy forbids is refused before it starts, a new
//! login from another workspace is refused before it is saved, and a stored
//! login that breaks the policy is to be logged out.

use crate::LoginError;
use crate::claims::IdTokenClaims;
use crate::document::StoredLogin;

/// `forced_login_method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForcedLoginMethod {
    ChatGpt,
    Api,
}

impl ForcedLoginMethod {
    /// The config value (`"chatgpt"` or `"api"`); the error names both.
    pub fn parse(value: &str) -> Result<ForcedLoginMethod, String> {
        match value {
            "chatgpt" => Ok(ForcedLoginMethod::ChatGpt),
            "api" => Ok(ForcedLoginMethod::Api),
            other => Err(format!(
                "forced_login_method: unknown value `{other}`; expected \"chatgpt\" or \"api\""
            )),
        }
    }

    /// Codex's refusal of the flow this policy forbids.
    pub fn refusal(self) -> &'static str {
        match self {
            ForcedLoginMethod::Api => "ChatGPT login is disabled. Use API key login instead.",
            ForcedLoginMethod::ChatGpt => "API key login is disabled. Use ChatGPT login instead.",
        }
    }
}

/// `forced_login_method` of a merged config, checked; `config_file` is
/// named in the error (where to fix it).
pub fn forced_login_method(
    merged: &toml::Table,
    config_file: &std::path::Path,
) -> Result<Option<ForcedLoginMethod>, String> {
    match merged.get("forced_login_method") {
        None => Ok(None),
        Some(toml::Value::String(value)) => ForcedLoginMethod::parse(value).map(Some),
        Some(other) => Err(format!(
            "forced_login_method: expected \"chatgpt\" or \"api\", found a {}; fix it in {}",
            other.type_str(),
            config_file.display()
        )),
    }
}

/// `forced_chatgpt_workspace_id` of a merged config: a string (one id, or
/// several separated by commas) or an array of strings; empty entries are
/// dropped.
pub fn forced_workspaces(merged: &toml::Table) -> Result<Option<Vec<String>>, String> {
    let ids: Vec<String> = match merged.get("forced_chatgpt_workspace_id") {
        None => return Ok(None),
        Some(toml::Value::String(value)) => value.split(',').map(str::to_owned).collect(),
        Some(toml::Value::Array(values)) => values
            .iter()
            .map(|value| {
                value.as_str().map(str::to_owned).ok_or_else(|| {
                    format!(
                        "forced_chatgpt_workspace_id: expected workspace ids (strings), found a {}",
                        value.type_str()
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(format!(
                "forced_chatgpt_workspace_id: expected a workspace id or a list of them, found a {}",
                other.type_str()
            ));
        }
    };
    let ids: Vec<String> = ids
        .into_iter()
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty())
        .collect();
    Ok((!ids.is_empty()).then_some(ids))
}

/// Checks a new login's `id_token` against the allowed workspaces; gives
/// its claims.
pub fn check_workspace(
    allowed: Option<&[String]>,
    id_token: &str,
) -> Result<IdTokenClaims, LoginError> {
    let claims = IdTokenClaims::parse(id_token)
        .map_err(|problem| LoginError::Exchange(format!("the token endpoint's {problem}")))?;
    let Some(allowed) = allowed else {
        return Ok(claims);
    };
    match claims.account_id.as_deref() {
        None => Err(LoginError::Workspace(
            "Login is restricted to a specific workspace, but the token did not include an \
             chatgpt_account_id claim."
                .to_owned(),
        )),
        Some(actual) if allowed.iter().any(|id| id == actual) => Ok(claims),
        Some(_) => Err(LoginError::Workspace(format!(
            "Login is restricted to workspace id(s) {}.",
            allowed.join(", ")
        ))),
    }
}

/// Why `stored` breaks the policy (Codex's message, ending in `Logging
/// out.`), or `None` when it does not.
pub fn violation(
    stored: &StoredLogin,
    method: Option<ForcedLoginMethod>,
    workspaces: Option<&[String]>,
) -> Option<String> {
    let api_key = stored.is_api_key();
    match method {
        Some(ForcedLoginMethod::Api) if !api_key => {
            return Some(
                "API key login is required, but ChatGPT is currently being used. Logging out."
                    .to_owned(),
            );
        }
        Some(ForcedLoginMethod::ChatGpt) if api_key => {
            return Some(
                "ChatGPT login is required, but an API key is currently being used. Logging out."
                    .to_owned(),
            );
        }
        _ => {}
    }
    let workspaces = workspaces?;
    if api_key || workspaces.is_empty() {
        return None;
    }
    let expected = workspaces.join(", ");
    match stored.account_id.as_deref() {
        Some(actual) if workspaces.iter().any(|id| id == actual) => None,
        Some(actual) => Some(format!(
            "Login is restricted to workspace(s) {expected}, but current credentials belong to \
             {actual}. Logging out."
        )),
        None => Some(format!(
            "Login is restricted to workspace(s) {expected}, but current credentials lack a \
             workspace identifier. Logging out."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(document: &str) -> StoredLogin {
        StoredLogin::parse(document).unwrap()
    }

    #[test]
    fn stored_logins_against_the_policy() {
        let key = stored(r#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-x"}"#);
        let chatgpt = stored(
            r#"{"auth_mode":"chatgpt","tokens":{"id_token":"e30.e30.c2ln","access_token":"a","refresh_token":"r","account_id":"ws-1"}}"#,
        );
        assert_eq!(violation(&key, Some(ForcedLoginMethod::Api), None), None);
        assert!(
            violation(&key, Some(ForcedLoginMethod::ChatGpt), None)
                .unwrap()
                .starts_with("ChatGPT login is required")
        );
        assert!(
            violation(&chatgpt, Some(ForcedLoginMethod::Api), None)
                .unwrap()
                .starts_with("API key login is required")
        );
        let allowed = ["ws-2".to_owned(), "ws-3".to_owned()];
        assert_eq!(
            violation(&chatgpt, None, Some(&allowed)).unwrap(),
            "Login is restricted to workspace(s) ws-2, ws-3, but current credentials belong to \
             ws-1. Logging out."
        );
        assert_eq!(violation(&chatgpt, None, Some(&["ws-1".to_owned()])), None);
        assert_eq!(violation(&key, None, Some(&allowed)), None);
    }

    #[test]
    fn new_logins_against_the_workspaces() {
        let no_claim = "e30.e30.c2ln";
        assert!(check_workspace(None, no_claim).is_ok());
        let error = check_workspace(Some(&["ws-1".to_owned()]), no_claim).unwrap_err();
        assert!(error.to_string().contains("did not include"), "{error}");
        assert_eq!(ForcedLoginMethod::parse("api"), Ok(ForcedLoginMethod::Api));
        assert!(ForcedLoginMethod::parse("API").is_err());
    }
}
