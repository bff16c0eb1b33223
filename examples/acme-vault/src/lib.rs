//! Acme Vault: an example of a third-party credential backend for codex.
//!
//! What a backend is: a dynamic library exporting one root module (through
//! [`codex_plugin_api::export_plugin!`]) whose manifest declares one or more
//! credential backends by name. The host creates a backend with the options
//! the user configured and then calls `load`, `store` and `delete` with a
//! `(service, account)` key (Codex's names, such as service `Codex Auth`,
//! account `cli|<16 hex>`) and the secret as text.
//!
//! This one keeps each secret in its own 0600 file in a private directory
//! (see [`vault`]). It also shows the optional parts of the API:
//! - a feature flag of its own (`acme_vault_audit`), listed by the host with
//!   this plugin as its origin and read through `HostServices::feature_enabled`;
//! - log lines to the host's log, which never contain a secret.
//!
//! Read `README.md` next to this file for how to build, install, configure
//! and test it.

mod options;
pub mod vault;

use std::fs::OpenOptions;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use codex_plugin_api::{
    CredentialBackend, FeatureStage, HostServices, LogLevel, Plugin, PluginError, PluginManifest,
    PluginResult,
};

use options::Options;
use vault::Vault;

/// The plugin's name, and the name config selects its backend by.
pub const NAME: &str = "acme-vault";
/// The feature flag that turns on the audit log.
pub const AUDIT_FEATURE: &str = "acme_vault_audit";

/// The plugin type the root module is built from.
pub struct AcmeVaultPlugin;

impl Plugin for AcmeVaultPlugin {
    fn manifest() -> PluginManifest {
        PluginManifest::new(
            NAME,
            env!("CARGO_PKG_VERSION"),
            "Example vault: each secret in a 0600 file in a private directory",
        )
        .credential_backend(NAME)
        .feature(
            AUDIT_FEATURE,
            FeatureStage::Experimental,
            false,
            "Append each acme-vault access (never the secret) to the vault's audit.log",
        )
    }

    fn credential_backend(
        name: &str,
        host: HostServices,
        options_json: &str,
    ) -> PluginResult<Box<dyn CredentialBackend>> {
        if name != NAME {
            return Err(PluginError::not_found(format!(
                "this plugin provides no credential backend named '{name}'"
            )));
        }
        let options = Options::parse(options_json)?;
        let dir = match options.dir {
            Some(dir) if dir.is_absolute() => dir,
            Some(dir) => host.codex_home().join(dir),
            None => host.codex_home().join("acme-vault"),
        };
        // Feature flags are fixed for the run: read once.
        let audit = host.feature_enabled(AUDIT_FEATURE).unwrap_or(false);
        host.log(
            LogLevel::Debug,
            &format!(
                "acme-vault: vault at {} (audit {})",
                dir.display(),
                if audit { "on" } else { "off" }
            ),
        );
        Ok(Box::new(AcmeVault {
            vault: Vault::new(dir),
            audit,
            host,
        }))
    }
}

codex_plugin_api::export_plugin!(AcmeVaultPlugin);

/// The backend object: the vault, and whether to audit.
struct AcmeVault {
    vault: Vault,
    audit: bool,
    host: HostServices,
}

impl AcmeVault {
    /// Records an access when auditing is on. The line names the operation
    /// and the key, never the secret.
    fn audit(&self, operation: &str, service: &str, account: &str) {
        if !self.audit {
            return;
        }
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or(0);
        let path = self.vault.dir().join("audit.log");
        let line = format!("{seconds} {operation} {service:?} {account:?}\n");
        let written = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(line.as_bytes()));
        if let Err(error) = written {
            // Auditing must not break logins; the host's log says why it stopped.
            self.host.log(
                LogLevel::Warn,
                &format!("acme-vault: cannot append to {}: {error}", path.display()),
            );
        }
    }
}

impl CredentialBackend for AcmeVault {
    fn load(&self, service: &str, account: &str) -> PluginResult<Option<String>> {
        let found = self.vault.read(service, account)?;
        self.audit("load", service, account);
        Ok(found)
    }

    fn store(&self, service: &str, account: &str, secret: &str) -> PluginResult<()> {
        self.vault.write(service, account, secret)?;
        self.audit("store", service, account);
        Ok(())
    }

    fn delete(&self, service: &str, account: &str) -> PluginResult<bool> {
        let removed = self.vault.remove(service, account)?;
        self.audit("delete", service, account);
        Ok(removed)
    }
}
