//! A plugin whose services panic, for testing that the host contains panics
//! raised inside plugin code.
//!
//! - manifest name `panicking`, transport `panicking`, credential backend `panicking`;
//! - `Transport::connect` panics with "deliberate panic in connect";
//! - the credential backend's `load` panics, `store` succeeds, `delete` finds nothing;
//! - opening the library writes the load marker (see `load_marker.rs`).
//!
//! It is not a real plugin: its file is not named `libcodex_*.so`, so the host
//! never loads it from a build directory; tests copy it into a plugin directory.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use codex_plugin_api::{
    ConnectRequest, Connection, CredentialBackend, HostServices, MessageSink, Plugin,
    PluginManifest, PluginResult, Transport,
};

#[path = "../../load_marker.rs"]
mod load_marker;

/// The text of the panic raised by [`PanickingTransport::connect`].
pub const CONNECT_PANIC: &str = "deliberate panic in connect";

/// The text of the panic raised by [`PanickingBackend::load`].
pub const LOAD_PANIC: &str = "deliberate panic in credential load";

/// The service name used for both the transport and the credential backend.
const SERVICE: &str = "panicking";

struct PanickingPlugin;

impl Plugin for PanickingPlugin {
    fn manifest() -> PluginManifest {
        PluginManifest::new(
            "panicking",
            env!("CARGO_PKG_VERSION"),
            "Test plugin whose transport and credential backend panic",
        )
        .transport(SERVICE)
        .credential_backend(SERVICE)
    }

    fn transport(name: &str, host: HostServices) -> PluginResult<Box<dyn Transport>> {
        let _ = host;
        if name == SERVICE {
            Ok(Box::new(PanickingTransport))
        } else {
            Err(codex_plugin_api::PluginError::not_found(format!(
                "the panicking plugin provides no transport named '{name}'"
            )))
        }
    }

    fn credential_backend(
        name: &str,
        host: HostServices,
        options_json: &str,
    ) -> PluginResult<Box<dyn CredentialBackend>> {
        let _ = (host, options_json);
        if name == SERVICE {
            Ok(Box::new(PanickingBackend))
        } else {
            Err(codex_plugin_api::PluginError::not_found(format!(
                "the panicking plugin provides no credential backend named '{name}'"
            )))
        }
    }
}

/// A transport whose `connect` always panics.
struct PanickingTransport;

impl Transport for PanickingTransport {
    fn connect(
        &self,
        request: ConnectRequest,
        sink: MessageSink,
    ) -> PluginResult<Box<dyn Connection>> {
        let _ = (request, sink);
        panic!("{CONNECT_PANIC}");
    }
}

/// A credential backend whose `load` panics while `store` works.
struct PanickingBackend;

impl CredentialBackend for PanickingBackend {
    fn load(&self, service: &str, account: &str) -> PluginResult<Option<String>> {
        let _ = (service, account);
        panic!("{LOAD_PANIC}");
    }

    fn store(&self, service: &str, account: &str, secret: &str) -> PluginResult<()> {
        let _ = (service, account, secret);
        Ok(())
    }

    fn delete(&self, service: &str, account: &str) -> PluginResult<bool> {
        let _ = (service, account);
        Ok(false)
    }
}

codex_plugin_api::export_plugin!(PanickingPlugin);
