//! The OS stores this backend can use, and how each is opened.
//!
//! Every store is a `keyring-core` store crate, the same ones the `keyring`
//! 4.x facade links; they are opened here directly so that the options can
//! choose one. Entries are named the way `keyring` 3 (which the Codex CLI
//! uses) names them, so both programs find each other's secrets:
//! - Secret Service: items found by the attributes `service` and `username`;
//!   new items also carry `target = "default"` and
//!   `application = "rust-keyring"`, as `keyring` 3 writes them.
//! - kernel keyring: a `user` key described `keyring-rs:{account}@{service}`
//!   in the session keyring, linked to the persistent keyring.
//! - Keychain and Credential Manager: the stores' own service/account pairs.

use std::sync::Arc;

use codex_plugin_api::{ErrorKind, PluginError, PluginResult};
use keyring_core::CredentialStore;

use crate::errors::describe;
use crate::options::StoreChoice;

/// One concrete OS store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// The Secret Service over D-Bus.
    SecretService,
    /// The Linux kernel keyring.
    Keyutils,
    /// The macOS Keychain.
    Keychain,
    /// The Windows Credential Manager.
    CredentialManager,
}

/// The largest value the kernel accepts in a `user` key.
pub const KEYUTILS_MAX_BYTES: usize = 32_767;

/// The description prefix `keyring` 3 gives kernel keys (Codex's cache).
pub const KEYUTILS_PREFIX: &str = "keyring-rs:";

impl StoreKind {
    /// The store, as named in messages.
    pub fn describe(self) -> &'static str {
        match self {
            StoreKind::SecretService => "the Secret Service (D-Bus org.freedesktop.secrets)",
            StoreKind::Keyutils => "the kernel keyring (keyutils)",
            StoreKind::Keychain => "the macOS Keychain",
            StoreKind::CredentialManager => "the Windows Credential Manager",
        }
    }

    /// The option value selecting this store alone.
    pub fn option_value(self) -> &'static str {
        match self {
            StoreKind::SecretService => StoreChoice::SecretService.option_value(),
            StoreKind::Keyutils => StoreChoice::Keyutils.option_value(),
            StoreKind::Keychain => StoreChoice::Keychain.option_value(),
            StoreKind::CredentialManager => StoreChoice::CredentialManager.option_value(),
        }
    }

    /// The largest secret (in bytes of UTF-8) the store keeps whole, when
    /// the store has a limit this backend checks before writing. (The
    /// Credential Manager's limit is on UTF-16 and is reported by the store.)
    pub fn max_secret_bytes(self) -> Option<usize> {
        match self {
            StoreKind::Keyutils => Some(KEYUTILS_MAX_BYTES),
            _ => None,
        }
    }
}

/// The stores to try, in order, for `choice` on this platform.
pub fn kinds_for(choice: StoreChoice) -> PluginResult<Vec<StoreKind>> {
    let native = native_kind();
    let kinds = match choice {
        StoreChoice::Native => native.into_iter().collect(),
        StoreChoice::Auto => {
            let mut kinds: Vec<StoreKind> = native.into_iter().collect();
            if cfg!(target_os = "linux") && !kinds.contains(&StoreKind::Keyutils) {
                kinds.push(StoreKind::Keyutils);
            }
            kinds
        }
        StoreChoice::SecretService => vec![StoreKind::SecretService],
        StoreChoice::Keyutils => vec![StoreKind::Keyutils],
        StoreChoice::Keychain => vec![StoreKind::Keychain],
        StoreChoice::CredentialManager => vec![StoreKind::CredentialManager],
    };
    if let Some(kind) = kinds.iter().find(|kind| !available_here(**kind)) {
        return Err(PluginError::invalid_config(format!(
            "option `store = \"{}\"` of credential backend `keyring`: {} is not available on \
             this operating system ({})",
            choice.option_value(),
            kind.describe(),
            std::env::consts::OS
        )));
    }
    if kinds.is_empty() {
        return Err(PluginError::new(
            ErrorKind::Unavailable,
            format!(
                "the credential backend `keyring` knows no OS store on this operating system \
                 ({}); use the `file` store",
                std::env::consts::OS
            ),
        ));
    }
    Ok(kinds)
}

fn native_kind() -> Option<StoreKind> {
    if cfg!(target_os = "macos") {
        Some(StoreKind::Keychain)
    } else if cfg!(target_os = "windows") {
        Some(StoreKind::CredentialManager)
    } else if cfg!(all(
        unix,
        not(any(
            target_os = "macos",
            target_os = "ios",
            target_os = "android"
        ))
    )) {
        Some(StoreKind::SecretService)
    } else {
        None
    }
}

fn available_here(kind: StoreKind) -> bool {
    match kind {
        StoreKind::SecretService => cfg!(all(
            unix,
            not(any(
                target_os = "macos",
                target_os = "ios",
                target_os = "android"
            ))
        )),
        StoreKind::Keyutils => cfg!(target_os = "linux"),
        StoreKind::Keychain => cfg!(target_os = "macos"),
        StoreKind::CredentialManager => cfg!(target_os = "windows"),
    }
}

/// An open store.
pub struct Opened {
    /// Which store it is.
    pub kind: StoreKind,
    /// The store.
    pub store: Arc<CredentialStore>,
    /// For the Secret Service on Linux: the kernel keyring in which `keyring`
    /// 3 caches Secret Service values. Codex reads that cache first, so a
    /// cached copy is updated or removed with the item.
    pub cache: Option<Arc<CredentialStore>>,
}

/// Opens `kind`. For the Secret Service this connects to D-Bus and opens a
/// session with the service, so an unreachable service fails here.
pub fn open(kind: StoreKind) -> PluginResult<Opened> {
    let unreachable = |error: keyring_core::Error| {
        PluginError::new(
            ErrorKind::Unavailable,
            format!("{} is not reachable: {}", kind.describe(), describe(&error)),
        )
    };
    match kind {
        StoreKind::SecretService => {
            let store = open_secret_service().map_err(unreachable)?;
            Ok(Opened {
                kind,
                store,
                cache: open_keyutils().ok(),
            })
        }
        StoreKind::Keyutils => Ok(Opened {
            kind,
            store: open_keyutils().map_err(unreachable)?,
            cache: None,
        }),
        StoreKind::Keychain => Ok(Opened {
            kind,
            store: open_keychain().map_err(unreachable)?,
            cache: None,
        }),
        StoreKind::CredentialManager => Ok(Opened {
            kind,
            store: open_credential_manager().map_err(unreachable)?,
            cache: None,
        }),
    }
}

fn not_here() -> keyring_core::Error {
    keyring_core::Error::NotSupportedByStore(format!(
        "not available on this operating system ({})",
        std::env::consts::OS
    ))
}

#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
fn open_secret_service() -> keyring_core::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = zbus_secret_service_keyring_store::Store::new()?;
    Ok(store)
}

#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
fn open_secret_service() -> keyring_core::Result<Arc<CredentialStore>> {
    Err(not_here())
}

#[cfg(target_os = "linux")]
fn open_keyutils() -> keyring_core::Result<Arc<CredentialStore>> {
    let config = std::collections::HashMap::from([("prefix", KEYUTILS_PREFIX)]);
    let store: Arc<CredentialStore> =
        linux_keyutils_keyring_store::Store::new_with_configuration(&config)?;
    Ok(store)
}

#[cfg(not(target_os = "linux"))]
fn open_keyutils() -> keyring_core::Result<Arc<CredentialStore>> {
    Err(not_here())
}

#[cfg(target_os = "macos")]
fn open_keychain() -> keyring_core::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()?;
    Ok(store)
}

#[cfg(not(target_os = "macos"))]
fn open_keychain() -> keyring_core::Result<Arc<CredentialStore>> {
    Err(not_here())
}

#[cfg(target_os = "windows")]
fn open_credential_manager() -> keyring_core::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = windows_native_keyring_store::Store::new()?;
    Ok(store)
}

#[cfg(not(target_os = "windows"))]
fn open_credential_manager() -> keyring_core::Result<Arc<CredentialStore>> {
    Err(not_here())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_native_is_the_secret_service_and_auto_adds_the_kernel_keyring() {
        assert_eq!(
            kinds_for(StoreChoice::Native).unwrap(),
            vec![StoreKind::SecretService]
        );
        assert_eq!(
            kinds_for(StoreChoice::Auto).unwrap(),
            vec![StoreKind::SecretService, StoreKind::Keyutils]
        );
        let error = kinds_for(StoreChoice::Keychain).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidConfig);
        assert!(
            error
                .message
                .contains("the macOS Keychain is not available"),
            "{}",
            error.message
        );
    }
}
