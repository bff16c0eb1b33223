//! The `helper` credential backend: any docker credential helper program
//! (`docker-credential-pass`, `-secretservice`, `-osxkeychain`, `-wincred`,
//! or an enterprise's own) becomes a credential store, with no Rust to write.
//!
//! Configured in the host's `config.toml` by the helper's name:
//!
//! ```toml
//! cli_auth_credentials_store = "helper"
//! [credential_backends.helper]
//! program = "docker-credential-pass"   # a name on PATH, or a path
//! timeout_secs = 30                    # optional
//! ```
//!
//! (Several helpers at once: `[credential_backends.NAME]` with
//! `backend = "helper"` and its own `program`.)
//!
//! A `(service, account)` key is filed under the server URL
//! `codex://credentials/{service}/{account}` (percent-encoded, see
//! [`server_url`]) with the account as user name. The helper runs once per
//! operation (`delete` first checks with `list`); secrets go over its stdin
//! and stdout only, and a helper's error message is shown without the secret.

mod backend;
mod options;
mod protocol;
mod server_url;

use codex_plugin_api::{CredentialBackend, HostServices, Plugin, PluginManifest};

pub use backend::HelperBackend;
pub use options::{BackendOptions, DEFAULT_TIMEOUT};
pub use server_url::{PREFIX as SERVER_URL_PREFIX, server_url};

/// The plugin's name (the library is `libcodex_credential_helper.so`).
pub const PLUGIN_NAME: &str = "credential_helper";
/// The name of its credential backend, as config selects it.
pub const BACKEND_NAME: &str = "helper";

/// The plugin: one credential backend, `helper`.
pub struct HelperPlugin;

impl Plugin for HelperPlugin {
    fn manifest() -> PluginManifest {
        PluginManifest::new(
            PLUGIN_NAME,
            env!("CARGO_PKG_VERSION"),
            "Stores credentials through a docker credential helper program",
        )
        .credential_backend(BACKEND_NAME)
    }

    fn credential_backend(
        name: &str,
        host: HostServices,
        options_json: &str,
    ) -> codex_plugin_api::PluginResult<Box<dyn CredentialBackend>> {
        let _ = host;
        if name != BACKEND_NAME {
            return Err(codex_plugin_api::PluginError::not_found(format!(
                "this plugin provides no credential backend named '{name}'"
            )));
        }
        let options = BackendOptions::parse(name, options_json)?;
        Ok(Box::new(HelperBackend::new(name, options)))
    }
}

codex_plugin_api::export_plugin!(HelperPlugin);
