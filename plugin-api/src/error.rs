//! The one error type that crosses the plugin boundary.

use std::fmt;

use abi_stable::{StableAbi, std_types::RString};

/// What went wrong, in terms the host can act on.
///
/// The host maps kinds to behaviour: `Unauthorized` suggests a login command,
/// `Timeout` names the configured timeout, `InvalidConfig` names the config key.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The thing asked for does not exist (a credential, a transport name).
    NotFound,
    /// A service the plugin needs is not reachable now (a keyring daemon, a server).
    Unavailable,
    /// The peer refused the credentials, or there are none.
    Unauthorized,
    /// The configuration handed to the plugin is wrong; the message names the field.
    InvalidConfig,
    /// An operating-system I/O error.
    Io,
    /// The peer spoke something that is not the expected protocol.
    Protocol,
    /// A deadline passed.
    Timeout,
    /// A bug or a panic inside the plugin.
    Internal,
}

impl ErrorKind {
    /// The lower-case name used in messages and `--json` output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::InvalidConfig => "invalid_config",
            ErrorKind::Io => "io",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Internal => "internal",
        }
    }
}

/// A structured error returned by every fallible call across the boundary.
///
/// `message` is one line meant for the user; it must never contain a secret.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct PluginError {
    /// The category of the failure.
    pub kind: ErrorKind,
    /// What happened, for a person to read.
    pub message: RString,
}

impl PluginError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        PluginError {
            kind,
            message: RString::from(message.into()),
        }
    }

    /// Shorthand for [`ErrorKind::InvalidConfig`].
    pub fn invalid_config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidConfig, message)
    }

    /// Shorthand for [`ErrorKind::Io`].
    pub fn io(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Io, message)
    }

    /// Shorthand for [`ErrorKind::Internal`].
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// Shorthand for [`ErrorKind::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PluginError {}

/// The result type of every fallible call in the safe plugin traits.
pub type PluginResult<T> = Result<T, PluginError>;
