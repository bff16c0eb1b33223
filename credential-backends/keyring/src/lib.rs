//! The `keyring` credential backend: secrets in the operating system's
//! credential store, under the service and account names the Codex CLI
//! uses, so tokens stored by either program are found by both.
//!
//! Stores (chosen by the option `store`, see [`StoreChoice`]):
//! - Linux and the BSDs: the Secret Service over D-Bus (pure Rust, no C
//!   library), the default; on Linux also the kernel keyring (`keyutils`),
//!   which needs no daemon but forgets everything at reboot.
//! - macOS: the Keychain. Windows: the Credential Manager.
//!
//! It is built on `keyring-core` and the per-store crates that the `keyring`
//! 4.x facade is made of. The facade itself picks one store per platform
//! through a process-wide default; linking the store crates directly lets
//! the options choose, and keeps each backend instance independent.
//!
//! Values are never cut: a secret larger than a store's limit (32767 bytes in
//! the kernel keyring, 2560 bytes of UTF-16 in the Credential Manager) is an
//! error saying so, and nothing is written. Every operation runs under a
//! deadline (option `timeout_secs`, default 10 s), so a keyring waiting for a
//! password prompt returns an error instead of hanging the command.
//!
//! Options: `{"store": "native" | "secret-service" | "keyutils" | "auto" |
//! "keychain" | "credential-manager", "timeout_secs": N}`; in the host's
//! config they are the table `[credential_backends.keyring]`.

mod backend;
mod deadline;
mod errors;
mod ops;
mod options;
mod stores;

use codex_plugin_api::{CredentialBackend, HostServices, Plugin, PluginError, PluginManifest};

pub use backend::KeyringBackend;
pub use options::{BackendOptions, DEFAULT_TIMEOUT, StoreChoice};
pub use stores::{KEYUTILS_MAX_BYTES, KEYUTILS_PREFIX, StoreKind};

/// The name of the plugin and of its one credential backend.
pub const BACKEND_NAME: &str = "keyring";

/// The plugin: one credential backend, `keyring`.
pub struct KeyringPlugin;

impl Plugin for KeyringPlugin {
    fn manifest() -> PluginManifest {
        PluginManifest::new(
            BACKEND_NAME,
            env!("CARGO_PKG_VERSION"),
            "Stores credentials in the OS keyring (Secret Service, kernel keyring, Keychain, \
             Credential Manager) under Codex's names",
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
        // Checked now so that a store this platform lacks is a config error
        // at once, not an unreachable keyring later.
        stores::kinds_for(options.store)?;
        Ok(Box::new(KeyringBackend::new(options, Some(host))))
    }
}

codex_plugin_api::export_plugin!(KeyringPlugin);
