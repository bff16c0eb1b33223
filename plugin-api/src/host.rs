//! Services the host offers to every plugin.

use std::sync::Arc;

use abi_stable::{
    StableAbi, sabi_trait,
    std_types::{RBox, ROption, RResult, RStr, RString},
};

use crate::error::{PluginError, PluginResult};

/// The severity of a log line.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Detail for debugging.
    Debug,
    /// Normal operation.
    Info,
    /// Something the user may want to know.
    Warn,
    /// Something failed.
    Error,
}

/// The FFI form of [`HostServices`]; implemented by the host.
#[sabi_trait]
pub trait HostServicesFfi: Send + Sync {
    /// Writes a line to the host's log. Never pass a secret.
    fn log(&self, level: LogLevel, message: RStr<'_>);

    /// The effective value of a feature flag, or `None` for an unknown key.
    fn feature_enabled(&self, key: RStr<'_>) -> ROption<bool>;

    /// The `CODEX_HOME` directory in use.
    fn codex_home(&self) -> RString;

    /// Loads a secret from the credential store the user configured.
    fn credential_load(
        &self,
        service: RStr<'_>,
        account: RStr<'_>,
    ) -> RResult<ROption<RString>, PluginError>;

    /// Stores a secret in the credential store the user configured.
    fn credential_store(
        &self,
        service: RStr<'_>,
        account: RStr<'_>,
        secret: RStr<'_>,
    ) -> RResult<(), PluginError>;

    /// Deletes a secret from the credential store the user configured.
    fn credential_delete(&self, service: RStr<'_>, account: RStr<'_>)
    -> RResult<bool, PluginError>;

    /// Shows a line to the user (on the terminal's standard error).
    fn notify_user(&self, message: RStr<'_>);

    /// Opens `url` in the user's browser (`$BROWSER`, else the platform opener).
    fn open_url(&self, url: RStr<'_>) -> RResult<(), PluginError>;

    /// Shows `prompt` and reads one line the user types or pastes.
    #[sabi(last_prefix_field)]
    fn read_line(&self, prompt: RStr<'_>) -> RResult<RString, PluginError>;

    /// Whether a transport may start a login by itself now (open the
    /// browser and wait for the callback, e.g. for a step-up during a call),
    /// and with which options: a JSON object shaped like
    /// [`LoginRequest::options_json`](crate::LoginRequest), or `None` when no
    /// login may start (no person is there and the user did not ask for it).
    /// Added in API 1.2; an older host never lets a transport log in by itself.
    fn login_options(&self) -> ROption<RString> {
        ROption::RNone
    }
}

/// An owned FFI host-services object.
pub type HostServicesBox = HostServicesFfi_TO<'static, RBox<()>>;

/// The host's services as a plugin sees them. Cheap to clone.
#[derive(Clone)]
pub struct HostServices {
    inner: Arc<HostServicesBox>,
}

impl HostServices {
    /// Wraps the host's object.
    pub fn new(inner: HostServicesBox) -> Self {
        HostServices {
            inner: Arc::new(inner),
        }
    }

    /// Writes `message` to the host's log at `level`.
    pub fn log(&self, level: LogLevel, message: &str) {
        self.inner.log(level, message.into());
    }

    /// The effective value of feature `key`; `None` when the host does not know it.
    pub fn feature_enabled(&self, key: &str) -> Option<bool> {
        self.inner.feature_enabled(key.into()).into()
    }

    /// The `CODEX_HOME` directory in use.
    pub fn codex_home(&self) -> std::path::PathBuf {
        self.inner.codex_home().into_string().into()
    }

    /// Loads a secret from the configured credential store.
    pub fn credential_load(&self, service: &str, account: &str) -> PluginResult<Option<String>> {
        self.inner
            .credential_load(service.into(), account.into())
            .into_result()
            .map(|found| found.into_option().map(RString::into_string))
    }

    /// Stores a secret in the configured credential store.
    pub fn credential_store(&self, service: &str, account: &str, secret: &str) -> PluginResult<()> {
        self.inner
            .credential_store(service.into(), account.into(), secret.into())
            .into_result()
    }

    /// Deletes a secret from the configured credential store.
    pub fn credential_delete(&self, service: &str, account: &str) -> PluginResult<bool> {
        self.inner
            .credential_delete(service.into(), account.into())
            .into_result()
    }

    /// Shows a line to the user.
    pub fn notify_user(&self, message: &str) {
        self.inner.notify_user(message.into());
    }

    /// Opens `url` in the user's browser.
    pub fn open_url(&self, url: &str) -> PluginResult<()> {
        self.inner.open_url(url.into()).into_result()
    }

    /// The options of a login a transport may start by itself now, as JSON;
    /// `None` when it may not.
    pub fn login_options(&self) -> Option<String> {
        self.inner
            .login_options()
            .into_option()
            .map(RString::into_string)
    }

    /// Shows `prompt` and reads one line from the user.
    pub fn read_line(&self, prompt: &str) -> PluginResult<String> {
        self.inner
            .read_line(prompt.into())
            .into_result()
            .map(RString::into_string)
    }
}
