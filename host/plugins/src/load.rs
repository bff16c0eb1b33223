//! Opening a plugin library and checking that it speaks our ABI.

use std::path::Path;

use abi_stable::library::{LibraryError, lib_header_from_path};
use codex_plugin_api::{API_VERSION, PluginManifest, PluginModuleRef};

/// Why an opened (or attempted) library cannot be used.
#[derive(Debug)]
pub enum LoadFailure {
    /// Built against another ABI version or layout. `detail` is the long
    /// layout report, kept for `--verbose`.
    Incompatible {
        reason: String,
        detail: Option<String>,
    },
    /// Not a plugin, or its initialisation or manifest failed.
    Broken(String),
}

/// A library that passed the version and layout checks.
pub struct Opened {
    pub module: PluginModuleRef,
    pub api_version: String,
    pub manifest: PluginManifest,
}

/// Opens `path` (which must already have passed the trust checks) and checks
/// its ABI version and layout against this host's.
pub fn open(path: &Path) -> Result<Opened, LoadFailure> {
    let header = lib_header_from_path(path).map_err(|error| match error {
        LibraryError::OpenError { err, .. } => {
            LoadFailure::Broken(format!("cannot open the library: {}", first_line(&err.to_string())))
        }
        LibraryError::GetSymbolError { .. } => LoadFailure::Broken(
            "not a codex plugin: it exports no plugin root module (build it with `codex_plugin_api::export_plugin!`)"
                .to_string(),
        ),
        other => LoadFailure::Broken(first_line(&other.to_string())),
    })?;
    let api_version = header.version_strings().to_string();
    let module = header
        .init_root_module::<PluginModuleRef>()
        .map_err(|error| describe_init_failure(error, &api_version))?;
    let manifest = (module.manifest())()
        .into_result()
        .map_err(|error| LoadFailure::Broken(format!("its manifest failed: {error}")))?;
    Ok(Opened {
        module,
        api_version,
        manifest,
    })
}

fn describe_init_failure(error: LibraryError, api_version: &str) -> LoadFailure {
    let major = API_VERSION.split('.').next().unwrap_or(API_VERSION);
    match error {
        LibraryError::IncompatibleVersionNumber {
            expected_version,
            actual_version,
            ..
        } => LoadFailure::Incompatible {
            reason: format!(
                "built for plugin API {actual_version}, this host speaks plugin API {expected_version}; \
                 rebuild the plugin against codex-plugin-api {major}.x"
            ),
            detail: None,
        },
        LibraryError::AbiInstability(report) => LoadFailure::Incompatible {
            reason: format!(
                "its ABI layout does not match plugin API {API_VERSION} although it claims {api_version}; \
                 rebuild the plugin against codex-plugin-api {major}.x (run with --verbose for the layout report)"
            ),
            detail: Some(report.to_string()),
        },
        LibraryError::RootModule { err, .. } => LoadFailure::Broken(format!(
            "its initialisation failed: {}",
            first_line(&err.to_string())
        )),
        other => LoadFailure::Broken(first_line(&other.to_string())),
    }
}

fn first_line(text: &str) -> String {
    text.trim().lines().next().unwrap_or("").trim().to_string()
}
