//! The root module every plugin library exports, and the macro that exports it.

use abi_stable::{
    StableAbi,
    library::RootModule,
    package_version_strings,
    prefix_type::PrefixTypeTrait,
    sabi_types::VersionStrings,
    std_types::{RResult, RStr},
};

use crate::credentials::{CredentialBackend, CredentialBackendAdapter, CredentialBackendBox};
use crate::error::{PluginError, PluginResult};
use crate::guard::guard;
use crate::host::{HostServices, HostServicesBox};
use crate::manifest::PluginManifest;
use crate::transport::{Transport, TransportAdapter, TransportBox};

/// The table of entry points a plugin library exports.
///
/// This is a prefix type: a later minor version of the API may append fields
/// after the last one, and a host reading an older plugin sees them as absent.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModuleRef)))]
pub struct PluginModule {
    /// Describes the plugin.
    pub manifest: extern "C" fn() -> RResult<PluginManifest, PluginError>,

    /// Creates the transport named `name` (one the manifest declares).
    pub transport:
        extern "C" fn(name: RStr<'_>, host: HostServicesBox) -> RResult<TransportBox, PluginError>,

    /// Creates the credential backend named `name`, with its options as a JSON object.
    #[sabi(last_prefix_field)]
    pub credential_backend: extern "C" fn(
        name: RStr<'_>,
        host: HostServicesBox,
        options_json: RStr<'_>,
    ) -> RResult<CredentialBackendBox, PluginError>,
}

impl RootModule for PluginModuleRef {
    abi_stable::declare_root_module_statics! {PluginModuleRef}
    const BASE_NAME: &'static str = "codex_plugin";
    const NAME: &'static str = "codex plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

/// The version of this API, `MAJOR.MINOR.PATCH`. The host loads plugins built
/// against the same major version.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A plugin, as its author writes it: a type with associated functions that
/// [`export_plugin!`](crate::export_plugin) turns into the exported root module.
pub trait Plugin: 'static {
    /// Describes the plugin. Called once, right after the library is loaded.
    fn manifest() -> PluginManifest;

    /// Creates the transport `name`. The default says the plugin has none.
    fn transport(name: &str, host: HostServices) -> PluginResult<Box<dyn Transport>> {
        let _ = host;
        Err(PluginError::not_found(format!(
            "this plugin provides no transport named '{name}'"
        )))
    }

    /// Creates the credential backend `name` with its `options_json`. The
    /// default says the plugin has none.
    fn credential_backend(
        name: &str,
        host: HostServices,
        options_json: &str,
    ) -> PluginResult<Box<dyn CredentialBackend>> {
        let _ = (host, options_json);
        Err(PluginError::not_found(format!(
            "this plugin provides no credential backend named '{name}'"
        )))
    }
}

extern "C" fn manifest_entry<P: Plugin>() -> RResult<PluginManifest, PluginError> {
    guard("plugin manifest", || Ok(P::manifest()))
}

extern "C" fn transport_entry<P: Plugin>(
    name: RStr<'_>,
    host: HostServicesBox,
) -> RResult<TransportBox, PluginError> {
    guard("transport factory", || {
        P::transport(name.as_str(), HostServices::new(host)).map(TransportAdapter::boxed)
    })
}

extern "C" fn credential_backend_entry<P: Plugin>(
    name: RStr<'_>,
    host: HostServicesBox,
    options_json: RStr<'_>,
) -> RResult<CredentialBackendBox, PluginError> {
    guard("credential backend factory", || {
        P::credential_backend(
            name.as_str(),
            HostServices::new(host),
            options_json.as_str(),
        )
        .map(CredentialBackendAdapter::boxed)
    })
}

/// Builds the root module of plugin `P`. Used by [`export_plugin!`](crate::export_plugin).
pub fn root_module<P: Plugin>() -> PluginModuleRef {
    PluginModule {
        manifest: manifest_entry::<P>,
        transport: transport_entry::<P>,
        credential_backend: credential_backend_entry::<P>,
    }
    .leak_into_prefix()
}

/// The symbol the host looks up in a plugin library (abi_stable's mangled
/// root-module loader name; a test checks it against abi_stable's constant).
pub const ROOT_MODULE_SYMBOL: &str = "_1as_0lib_1header_0root_bmodule_bloader";

/// Exports `$plugin` (a type implementing [`Plugin`]) as this library's root module.
///
/// ```ignore
/// struct MyPlugin;
/// impl codex_plugin_api::Plugin for MyPlugin { /* ... */ }
/// codex_plugin_api::export_plugin!(MyPlugin);
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        #[unsafe(export_name = "_1as_0lib_1header_0root_bmodule_bloader")]
        pub static __CODEX_PLUGIN_ROOT_MODULE: $crate::abi_stable::library::LibHeader = {
            extern "C" fn erased_root_module() -> $crate::abi_stable::library::RootModuleResult {
                $crate::abi_stable::library::__call_root_module_loader(
                    $crate::root_module::<$plugin>,
                )
            }
            // SAFETY: the constructor returns the root module of type
            // `PluginModuleRef`, which is the type named here.
            unsafe {
                $crate::abi_stable::library::LibHeader::from_constructor::<$crate::PluginModuleRef>(
                    erased_root_module,
                    $crate::abi_stable::library::CheckTypeLayout::Yes,
                )
            }
        };
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_exported_symbol_is_the_one_abi_stable_looks_up() {
        assert_eq!(
            super::ROOT_MODULE_SYMBOL,
            abi_stable::library::ROOT_MODULE_LOADER_NAME
        );
    }
}
