//! The `file` credential backend: credentials in plain files under
//! `CODEX_HOME`, in exactly the formats the Codex CLI reads and writes.
//!
//! - Service `Codex MCP Credentials`: MCP OAuth tokens in `.credentials.json`,
//!   a JSON object mapping `"{server}|{16 hex}"` (see [`mcp_account_key`]) to
//!   `{server_name, server_url, client_id, access_token, expires_at,
//!   refresh_token, scopes}`. The secret exchanged with the host is the JSON
//!   Codex keeps in the keyring; the backend converts both ways.
//! - Service `Codex Auth`: the whole `auth.json` document.
//!
//! Every change happens under an exclusive lock on a sibling `NAME.lock`
//! file, re-reads the file under that lock, and replaces it atomically with a
//! 0600 file, so concurrent processes never lose each other's updates. A file
//! that is not a JSON object is reported (file, line, column) and never
//! written over.
//!
//! The library is a plugin (`export_plugin!(FilePlugin)`); its options are
//! `{"dir": "<path>"}` to use another directory than `CODEX_HOME`.

mod backend;
mod json_file;
mod lock;
mod log;
mod mcp_record;
mod options;

use codex_plugin_api::{CredentialBackend, HostServices, Plugin, PluginError, PluginManifest};

pub use backend::{AUTH_FILE, AUTH_SERVICE, CREDENTIALS_FILE, FileBackend, MCP_SERVICE};
pub use codex_credential_names::mcp_account as mcp_account_key;
pub use lock::DEFAULT_LOCK_TIMEOUT;
pub use options::BackendOptions;

/// The name of the plugin and of its one credential backend.
pub const BACKEND_NAME: &str = "file";

/// The plugin: one credential backend, `file`.
pub struct FilePlugin;

impl Plugin for FilePlugin {
    fn manifest() -> PluginManifest {
        PluginManifest::new(
            BACKEND_NAME,
            env!("CARGO_PKG_VERSION"),
            "Stores credentials in CODEX_HOME/.credentials.json and auth.json, in Codex's format",
        )
        .credential_backend(BACKEND_NAME)
    }

    fn credential_backend(
        name: &str,
        host: HostServices,
        options_json: &str,
    ) -> codex_plugin_api::PluginResult<Box<dyn CredentialBackend>> {
        if name != BACKEND_NAME {
            return Err(PluginError::not_found(format!(
                "this plugin provides no credential backend named '{name}'"
            )));
        }
        let options = BackendOptions::parse(options_json)?;
        let home = host.codex_home();
        let dir = match options.dir {
            Some(dir) if dir.is_absolute() => dir,
            Some(dir) => home.join(dir),
            None => home,
        };
        if dir.as_os_str().is_empty() {
            return Err(PluginError::invalid_config(
                "the credential backend `file` got no directory: CODEX_HOME is empty and no \
                 `dir` option is set",
            ));
        }
        Ok(Box::new(FileBackend::new(dir).with_host(host)))
    }
}

codex_plugin_api::export_plugin!(FilePlugin);
