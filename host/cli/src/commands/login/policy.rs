//! The login policies of the configuration: `forced_login_method` and
//! `forced_chatgpt_workspace_id` (one id, or a list), read from the merged
//! config, and the logout of a stored login that breaks them.

use codex_credentials::CredentialStore;
use codex_host::App;
use codex_host::auth::AUTH_SERVICE;
use codex_login::StoredLogin;
use codex_login::policy::{ForcedLoginMethod, violation};

/// `forced_login_method`, checked.
pub fn forced_login_method(app: &App) -> Result<Option<ForcedLoginMethod>, String> {
    match app.config.merged().get("forced_login_method") {
        None => Ok(None),
        Some(toml::Value::String(value)) => ForcedLoginMethod::parse(value).map(Some),
        Some(other) => Err(format!(
            "forced_login_method: expected \"chatgpt\" or \"api\", found a {}; fix it in {}",
            other.type_str(),
            app.codex_home.join("config.toml").display()
        )),
    }
}

/// `forced_chatgpt_workspace_id`: a string (one id, or several separated by
/// commas) or an array of strings; empty entries are dropped.
pub fn forced_workspaces(app: &App) -> Result<Option<Vec<String>>, String> {
    let ids: Vec<String> = match app.config.merged().get("forced_chatgpt_workspace_id") {
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

/// Codex's message when the stored `document` breaks the policy. A broken
/// policy value is no reason to log anyone out: it reads as no policy here
/// (the login commands report it).
pub fn violation_of(app: &App, document: &str) -> Option<String> {
    let stored = StoredLogin::parse(document).ok()?;
    let method = forced_login_method(app).ok().flatten();
    let workspaces = forced_workspaces(app).ok().flatten();
    violation(&stored, method, workspaces.as_deref())
}

/// Deletes the login; the message, with Codex's suffix when that failed.
pub fn log_out(store: &CredentialStore, account: &str, message: &str) -> String {
    match store.delete(AUTH_SERVICE, account) {
        Ok(_) => message.to_owned(),
        Err(error) => format!("{message}. Failed to remove auth.json: {error}"),
    }
}
