//! The backend: each operation is one or two runs of the helper.

use codex_plugin_api::{CredentialBackend, ErrorKind, PluginError, PluginResult};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::options::BackendOptions;
use crate::protocol::{Helper, Reply};
use crate::server_url::server_url;

/// Stores secrets through a docker credential helper program.
pub struct HelperBackend {
    helper: Helper,
}

impl HelperBackend {
    /// A backend named `backend` running the helper in `options`.
    pub fn new(backend: &str, options: BackendOptions) -> Self {
        HelperBackend {
            helper: Helper {
                program: options.program,
                backend: backend.to_owned(),
                timeout: options.timeout,
            },
        }
    }

    fn bad_reply(&self, action: &str, what: &str) -> PluginError {
        PluginError::new(
            ErrorKind::Protocol,
            format!(
                "the credential helper `{} {action}` replied with something that is not {what}; \
                 is `{}` a docker credential helper?",
                self.helper.program, self.helper.program
            ),
        )
    }

    /// Whether the helper has an entry for `url`: from `list` (which does
    /// not fetch the secret), or from `get` when the helper cannot list.
    fn has_entry(&self, url: &str) -> PluginResult<bool> {
        if let Ok(Reply::Done(stdout)) = self.helper.run("list", b"", None)
            && let Ok(Value::Object(entries)) = serde_json::from_slice::<Value>(&stdout)
        {
            return Ok(entries.contains_key(url));
        }
        match self.helper.run("get", url.as_bytes(), None)? {
            Reply::Done(_) => Ok(true),
            Reply::NotFound => Ok(false),
        }
    }
}

impl CredentialBackend for HelperBackend {
    fn load(&self, service: &str, account: &str) -> PluginResult<Option<String>> {
        let url = server_url(service, account);
        let stdout = match self.helper.run("get", url.as_bytes(), None)? {
            Reply::Done(stdout) => stdout,
            Reply::NotFound => return Ok(None),
        };
        // Parsed field by field: serde's messages could quote the secret.
        let what = "a JSON object with a string `Secret`";
        let reply: Value =
            serde_json::from_slice(&stdout).map_err(|_| self.bad_reply("get", what))?;
        match reply.get("Secret") {
            Some(Value::String(secret)) => Ok(Some(secret.clone())),
            _ => Err(self.bad_reply("get", what)),
        }
    }

    fn store(&self, service: &str, account: &str, secret: &str) -> PluginResult<()> {
        let url = server_url(service, account);
        let quoted = |text: &str| {
            serde_json::to_string(text)
                .map(Zeroizing::new)
                .map_err(|error| PluginError::internal(format!("cannot encode JSON: {error}")))
        };
        let secret_json = quoted(secret)?;
        let mut body = Zeroizing::new(String::with_capacity(secret_json.len() + 128));
        body.push_str("{\"ServerURL\":");
        body.push_str(&quoted(&url)?);
        body.push_str(",\"Username\":");
        body.push_str(&quoted(account)?);
        body.push_str(",\"Secret\":");
        body.push_str(&secret_json);
        body.push('}');
        match self.helper.run("store", body.as_bytes(), Some(secret))? {
            Reply::Done(_) => Ok(()),
            Reply::NotFound => Err(self.bad_reply("store", "a success")),
        }
    }

    fn delete(&self, service: &str, account: &str) -> PluginResult<bool> {
        let url = server_url(service, account);
        if !self.has_entry(&url)? {
            return Ok(false);
        }
        match self.helper.run("erase", url.as_bytes(), None)? {
            Reply::Done(_) => Ok(true),
            Reply::NotFound => Ok(false),
        }
    }
}
