//! The login policies of the configuration: `forced_login_method` and
//! `forced_chatgpt_workspace_id` (one id, or a list), read from the merged
//! config, and the logout of a stored login that breaks them.

use codex_credentials::CredentialStore;
use codex_host::App;
use codex_host::auth::AUTH_SERVICE;
use codex_login::StoredLogin;
use codex_login::policy::{self, ForcedLoginMethod, violation};

/// `forced_login_method`, checked.
pub fn forced_login_method(app: &App) -> Result<Option<ForcedLoginMethod>, String> {
    policy::forced_login_method(app.config.merged(), &app.codex_home.join("config.toml"))
}

/// `forced_chatgpt_workspace_id`: one id, several separated by commas, or a list.
pub fn forced_workspaces(app: &App) -> Result<Option<Vec<String>>, String> {
    policy::forced_workspaces(app.config.merged())
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
