//! Where the backend's warnings go.

use codex_plugin_api::{HostServices, LogLevel};

/// The host's log when the backend was created by the host, nowhere otherwise.
#[derive(Clone, Default)]
pub(crate) struct Log(pub Option<HostServices>);

impl Log {
    /// Logs `message` (which must hold no secret) at warning level.
    pub fn warn(&self, message: &str) {
        if let Some(host) = &self.0 {
            host.log(LogLevel::Warn, message);
        }
    }
}
