//! The stable ABI between the codex host and its plugins.
//!
//! A plugin is a dynamic library (`cdylib`) that exports one root module, a
//! [`PluginModule`], built with [`export_plugin!`]. Through it the host gets
//! the plugin's [`PluginManifest`] and creates the services it declares:
//! [`Transport`]s (which carry JSON-RPC messages to MCP servers) and
//! [`CredentialBackend`]s (which store secrets). The host hands every service
//! a [`HostServices`] object for logging, feature flags, the configured
//! credential store and talking to the user.
//!
//! Rules of the boundary (see `ARCHITECTURE.md`, "Writing a plugin"):
//! - Only `abi_stable` types (`RString`, `RVec`, `RResult`, `#[sabi_trait]`
//!   objects) cross it; configuration crosses as JSON text, so new config
//!   fields never change the ABI.
//! - No tokio handle, `std` lock, allocator-owned object or thread-local
//!   crosses it. A plugin owns its threads.
//! - Every function either side can call contains panics ([`guard`]): a plugin
//!   that panics returns an [`ErrorKind::Internal`] error and the host goes on.
//! - The root module and every `#[sabi_trait]` vtable are prefix types: a
//!   minor version may add entries at the end, and the host loads a plugin of
//!   any minor version of the same major version ([`API_VERSION`]).
//!
//! Plugin authors implement the plain Rust traits ([`Plugin`], [`Transport`],
//! [`Connection`], [`CredentialBackend`]); the `*Ffi` traits and `*Box` types
//! are the wire form the adapters produce.

// abi_stable 0.11's `#[sabi_trait]` expansion puts impl blocks inside a const
// item, which rustc's `non_local_definitions` lint flags; the code is fine.
#![allow(non_local_definitions)]

pub use abi_stable;

mod credentials;
mod error;
mod guard;
mod host;
mod manifest;
mod module;
mod transport;

pub use credentials::{
    CredentialBackend, CredentialBackendAdapter, CredentialBackendBox, CredentialBackendFfi,
    CredentialBackendFfi_TO,
};
pub use error::{ErrorKind, PluginError, PluginResult};
pub use guard::{guard, guard_unit};
pub use host::{HostServices, HostServicesBox, HostServicesFfi, HostServicesFfi_TO, LogLevel};
pub use manifest::{FeatureDecl, FeatureStage, PluginManifest, ServiceDecl, ServiceKind};
pub use module::{
    API_VERSION, Plugin, PluginModule, PluginModuleRef, ROOT_MODULE_SYMBOL, root_module,
};
pub use transport::{
    AuthProbe, ConnectRequest, Connection, ConnectionAdapter, ConnectionBox, ConnectionFfi,
    ConnectionFfi_TO, LoginRequest, MessageSink, MessageSinkBox, MessageSinkFfi, MessageSinkFfi_TO,
    RELATED_REQUEST_META, Transport, TransportAdapter, TransportBox, TransportFfi, TransportFfi_TO,
};
