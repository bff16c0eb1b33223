//! Credential backends: storing secrets under a key.
//!
//! A key is a `(service, account)` pair, as in an OS keyring. The host uses
//! Codex's names so that tokens stored by either program are found by both:
//! service `Codex MCP Credentials`, account `<server>|<16 hex of sha256>`, and
//! the value is the JSON document Codex keeps in the keyring. A backend that
//! stores elsewhere (a file, a vault) translates to its own format.

use abi_stable::{
    sabi_trait,
    sabi_trait::TD_Opaque,
    std_types::{RBox, ROption, RResult, RStr, RString},
};

use crate::error::{PluginError, PluginResult};
use crate::guard::guard;

/// The FFI form of [`CredentialBackend`]; implemented by plugins through
/// [`CredentialBackendAdapter`] and by the host for [`HostServices`](crate::HostServices).
#[sabi_trait]
pub trait CredentialBackendFfi: Send + Sync {
    /// The secret stored under the key, if any.
    fn load(&self, service: RStr<'_>, account: RStr<'_>) -> RResult<ROption<RString>, PluginError>;

    /// Stores `secret` under the key, replacing what was there.
    fn store(
        &self,
        service: RStr<'_>,
        account: RStr<'_>,
        secret: RStr<'_>,
    ) -> RResult<(), PluginError>;

    /// Removes the key. `true` if something was removed.
    #[sabi(last_prefix_field)]
    fn delete(&self, service: RStr<'_>, account: RStr<'_>) -> RResult<bool, PluginError>;
}

/// An owned FFI credential backend.
pub type CredentialBackendBox = CredentialBackendFfi_TO<'static, RBox<()>>;

/// A credential backend, as a plugin author writes it.
///
/// Every method may block (a file lock, a D-Bus round trip); the host calls
/// them off its async threads. A store that exists but cannot be read (a
/// corrupt file, a locked keyring) is an error, never an empty result, and is
/// never overwritten.
pub trait CredentialBackend: Send + Sync + 'static {
    /// The secret stored under `(service, account)`, if any.
    fn load(&self, service: &str, account: &str) -> PluginResult<Option<String>>;
    /// Stores `secret` under `(service, account)`.
    fn store(&self, service: &str, account: &str, secret: &str) -> PluginResult<()>;
    /// Removes `(service, account)`; `true` if it was there.
    fn delete(&self, service: &str, account: &str) -> PluginResult<bool>;
}

/// Exposes a [`CredentialBackend`] across the boundary, containing its panics.
pub struct CredentialBackendAdapter(pub Box<dyn CredentialBackend>);

impl CredentialBackendAdapter {
    /// The FFI box for `backend`.
    pub fn boxed(backend: Box<dyn CredentialBackend>) -> CredentialBackendBox {
        CredentialBackendBox::from_value(CredentialBackendAdapter(backend), TD_Opaque)
    }
}

impl CredentialBackendFfi for CredentialBackendAdapter {
    fn load(&self, service: RStr<'_>, account: RStr<'_>) -> RResult<ROption<RString>, PluginError> {
        guard("credential load", || {
            Ok(self
                .0
                .load(service.as_str(), account.as_str())?
                .map(RString::from)
                .into())
        })
    }

    fn store(
        &self,
        service: RStr<'_>,
        account: RStr<'_>,
        secret: RStr<'_>,
    ) -> RResult<(), PluginError> {
        guard("credential store", || {
            self.0
                .store(service.as_str(), account.as_str(), secret.as_str())
        })
    }

    fn delete(&self, service: RStr<'_>, account: RStr<'_>) -> RResult<bool, PluginError> {
        guard("credential delete", || {
            self.0.delete(service.as_str(), account.as_str())
        })
    }
}
