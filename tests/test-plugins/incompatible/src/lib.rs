//! A library that claims to be a codex plugin of a future major version.
//!
//! It exports an `abi_stable` root module with the root-module name of
//! `codex_plugin_api::PluginModuleRef` ("codex plugin") but version 2.0.0 and
//! its own module layout. A host built against API 1.x must refuse it
//! (abi_stable reports `IncompatibleVersionNumber` before it looks at the
//! layout or calls anything in the library). Opening it writes the load
//! marker (see `load_marker.rs`), so tests can also check that a host that
//! refuses it from its file name or metadata never opened it.
//!
//! Its file is not named `libcodex_*.so`; tests copy it into a plugin
//! directory under such a name.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use abi_stable::{
    StableAbi, export_root_module,
    library::RootModule,
    prefix_type::PrefixTypeTrait,
    sabi_types::VersionStrings,
    std_types::{RStr, RString},
};

#[path = "../../load_marker.rs"]
mod load_marker;

/// The API version this library claims.
pub const CLAIMED_VERSION: &str = "2.0.0";

/// The root module of an imagined API 2.0: a different table of entry points.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = FutureModuleRef)))]
pub struct FutureModule {
    /// The plugin's description as JSON text.
    pub manifest_json: extern "C" fn() -> RString,

    /// Opens something by name; never reached by a 1.x host.
    #[sabi(last_prefix_field)]
    pub open: extern "C" fn(name: RStr<'_>) -> RString,
}

impl RootModule for FutureModuleRef {
    abi_stable::declare_root_module_statics! {FutureModuleRef}
    const BASE_NAME: &'static str = "codex_plugin";
    const NAME: &'static str = "codex plugin";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new(CLAIMED_VERSION);
}

extern "C" fn manifest_json() -> RString {
    RString::from(r#"{"name":"incompatible","version":"2.0.0"}"#)
}

extern "C" fn open(name: RStr<'_>) -> RString {
    RString::from(name.as_str())
}

/// The exported root module.
#[export_root_module]
pub fn future_module() -> FutureModuleRef {
    FutureModule {
        manifest_json,
        open,
    }
    .leak_into_prefix()
}
