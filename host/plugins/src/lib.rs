//! The host side of the plugin ABI: finding, vetting and loading plugin
//! libraries ([`PluginSet`]), the services plugins get ([`services`]), and
//! which plugin serves a configured MCP server ([`transports`]).
//!
//! Order of events for every candidate file: policy (allow/deny) → trust
//! checks on the file system → SHA-256 pin → open → ABI version and layout
//! check → manifest. Nothing before "open" runs any of the plugin's code.

mod load;
pub mod services;
pub mod transports;
mod trust;

use std::collections::BTreeSet;
use std::env::consts::{DLL_PREFIX, DLL_SUFFIX};
use std::fs;
use std::path::{Path, PathBuf};

use codex_plugin_api::{PluginManifest, PluginModuleRef, ServiceKind};
use serde::Serialize;

pub use codex_config::plugin_policy::PluginPolicy;

/// The file-name prefix that marks a plugin: `libcodex_NAME.so` on Linux.
const PLUGIN_FILE_PREFIX: &str = "codex_";

/// Where a plugin directory comes from, in search order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DirOrigin {
    /// The directory of the `codex` executable (bundled plugins).
    Executable,
    /// `../lib/codex/plugins` beside the executable: the plugins of an
    /// installed tree (`PREFIX/bin/codex`, `PREFIX/lib/codex/plugins`).
    Prefix,
    /// `$CODEX_HOME/plugins`.
    CodexHome,
    /// `plugin_dirs` in config.
    Config,
}

impl DirOrigin {
    /// Whether plugins found here were built and shipped with `codex` itself.
    pub fn ships_with_codex(self) -> bool {
        matches!(self, DirOrigin::Executable | DirOrigin::Prefix)
    }
}

/// Where an installed tree keeps its plugins, relative to its `bin/`.
pub const PREFIX_PLUGIN_DIR: &str = "../lib/codex/plugins";

/// A directory to search for plugins.
#[derive(Debug, Clone)]
pub struct PluginDir {
    pub path: PathBuf,
    pub origin: DirOrigin,
}

/// The search path: the executable's directory, `../lib/codex/plugins`
/// beside it, `$CODEX_HOME/plugins`, then the configured `plugin_dirs`.
/// The executable's path is resolved first, so a symlink to an installed
/// `PREFIX/bin/codex` finds `PREFIX/lib/codex/plugins`.
pub fn search_path(codex_home: &Path, policy: &PluginPolicy) -> Vec<PluginDir> {
    let mut dirs = Vec::new();
    if let Ok(exe) = std::env::current_exe()
        && let Ok(exe) = fs::canonicalize(exe)
        && let Some(dir) = exe.parent()
    {
        dirs.push(PluginDir {
            path: dir.to_path_buf(),
            origin: DirOrigin::Executable,
        });
        let prefix_dir = dir.join(PREFIX_PLUGIN_DIR);
        if let Ok(prefix_dir) = fs::canonicalize(prefix_dir) {
            dirs.push(PluginDir {
                path: prefix_dir,
                origin: DirOrigin::Prefix,
            });
        }
    }
    dirs.push(PluginDir {
        path: codex_home.join("plugins"),
        origin: DirOrigin::CodexHome,
    });
    dirs.extend(policy.extra_dirs.iter().map(|path| PluginDir {
        path: path.clone(),
        origin: DirOrigin::Config,
    }));
    dirs
}

/// What an opened library says of itself.
#[derive(Debug, Clone)]
pub struct Declared {
    /// The ABI version the library was built against.
    pub api_version: String,
    pub manifest: PluginManifest,
}

/// What happened to one candidate file, with what each outcome knows.
#[derive(Clone)]
pub enum PluginState {
    /// Opened, checked and ready.
    Loaded {
        declared: Declared,
        module: PluginModuleRef,
    },
    /// Not opened: a policy or trust check said no.
    Refused(String),
    /// Opened, but built for another ABI. `detail` is the long layout
    /// report, kept for `--verbose`.
    Incompatible {
        reason: String,
        detail: Option<String>,
    },
    /// Opened, but not a working plugin; what it declared, when it got
    /// that far (a manifest whose name is not the file's).
    Broken {
        reason: String,
        declared: Option<Declared>,
    },
}

impl PluginState {
    /// `loaded`, `refused`, `incompatible` or `broken`.
    pub fn label(&self) -> &'static str {
        match self {
            PluginState::Loaded { .. } => "loaded",
            PluginState::Refused(_) => "refused",
            PluginState::Incompatible { .. } => "incompatible",
            PluginState::Broken { .. } => "broken",
        }
    }

    /// Why the plugin is not loaded; `None` when it is.
    pub fn reason(&self) -> Option<&str> {
        match self {
            PluginState::Loaded { .. } => None,
            PluginState::Refused(why) => Some(why),
            PluginState::Incompatible { reason, .. } | PluginState::Broken { reason, .. } => {
                Some(reason)
            }
        }
    }

    /// `loaded`, `refused: why`, ... for text output.
    pub fn describe(&self) -> String {
        match self.reason() {
            None => self.label().to_string(),
            Some(why) => format!("{}: {why}", self.label()),
        }
    }
}

/// One candidate plugin file and what became of it.
pub struct PluginEntry {
    /// The name from the file name (`libcodex_NAME.so`).
    pub name: String,
    pub path: PathBuf,
    pub origin: DirOrigin,
    pub state: PluginState,
}

impl PluginEntry {
    /// Whether the plugin is loaded and usable.
    pub fn is_loaded(&self) -> bool {
        matches!(self.state, PluginState::Loaded { .. })
    }

    /// The entry points of a loaded plugin.
    pub fn module(&self) -> Option<PluginModuleRef> {
        match &self.state {
            PluginState::Loaded { module, .. } => Some(*module),
            _ => None,
        }
    }

    /// What the library declared, once it was opened.
    pub fn declared(&self) -> Option<&Declared> {
        match &self.state {
            PluginState::Loaded { declared, .. } => Some(declared),
            PluginState::Broken { declared, .. } => declared.as_ref(),
            PluginState::Refused(_) | PluginState::Incompatible { .. } => None,
        }
    }

    /// The manifest, once the library was opened.
    pub fn manifest(&self) -> Option<&PluginManifest> {
        self.declared().map(|declared| &declared.manifest)
    }

    /// The long layout report of an incompatible plugin.
    pub fn detail(&self) -> Option<&str> {
        match &self.state {
            PluginState::Incompatible { detail, .. } => detail.as_deref(),
            _ => None,
        }
    }

    /// Whether this loaded plugin provides service `name` of `kind`.
    pub fn provides(&self, kind: ServiceKind, name: &str) -> bool {
        self.is_loaded()
            && self.manifest().is_some_and(|manifest| {
                manifest
                    .services
                    .iter()
                    .any(|service| service.kind == kind && service.name.as_str() == name)
            })
    }
}

/// Every candidate found on the search path, loaded where allowed.
pub struct PluginSet {
    pub entries: Vec<PluginEntry>,
}

impl PluginSet {
    /// Finds every candidate in `dirs` and loads those that pass the checks.
    pub fn load(dirs: &[PluginDir], policy: &PluginPolicy) -> PluginSet {
        let mut entries: Vec<PluginEntry> = Vec::new();
        let mut seen = BTreeSet::new();
        for dir in dirs {
            for (name, path) in candidates(&dir.path) {
                let state = if seen.insert(name.clone()) {
                    load_state(&name, &path, policy)
                } else {
                    PluginState::Refused(format!(
                        "a plugin named `{name}` was already found earlier on the search path"
                    ))
                };
                entries.push(PluginEntry {
                    name,
                    path,
                    origin: dir.origin,
                    state,
                });
            }
        }
        PluginSet { entries }
    }

    /// The loaded plugin providing service `name` of `kind`.
    pub fn provider(&self, kind: ServiceKind, name: &str) -> Option<&PluginEntry> {
        self.entries.iter().find(|entry| entry.provides(kind, name))
    }

    /// Why no loaded plugin provides `name` of `kind`: the candidate that
    /// would have, if one was found but not loaded.
    pub fn why_missing(&self, name: &str) -> Option<&PluginEntry> {
        self.entries
            .iter()
            .find(|entry| entry.name == name && !entry.is_loaded())
    }
}

/// Vets, opens and checks the candidate `name` at `path`.
fn load_state(name: &str, path: &Path, policy: &PluginPolicy) -> PluginState {
    if let Some(why) = policy.refusal(name) {
        return PluginState::Refused(why);
    }
    if let Err(why) = trust::check_file(path) {
        return PluginState::Refused(why);
    }
    if let Some(pin) = policy.sha256.get(name)
        && let Err(why) = trust::check_pin(path, &policy.pin_key(name), pin)
    {
        return PluginState::Refused(why);
    }
    match load::open(path) {
        Ok(opened) => {
            let declared = Declared {
                api_version: opened.api_version,
                manifest: opened.manifest,
            };
            let calls_itself = declared.manifest.name.to_string();
            if calls_itself.replace('-', "_") != name.replace('-', "_") {
                PluginState::Broken {
                    reason: format!(
                        "the file is named for plugin `{name}` but the plugin calls itself `{calls_itself}`; \
                         rename the file to {DLL_PREFIX}{PLUGIN_FILE_PREFIX}{calls_itself}{DLL_SUFFIX}"
                    ),
                    declared: Some(declared),
                }
            } else {
                PluginState::Loaded {
                    declared,
                    module: opened.module,
                }
            }
        }
        Err(load::LoadFailure::Incompatible { reason, detail }) => {
            PluginState::Incompatible { reason, detail }
        }
        Err(load::LoadFailure::Broken(reason)) => PluginState::Broken {
            reason,
            declared: None,
        },
    }
}

/// Plugin files in `dir`, sorted by name: `(name, path)`.
fn candidates(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(read) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(String, PathBuf)> = read
        .filter_map(Result::ok)
        .filter_map(|item| {
            let file_name = item.file_name().into_string().ok()?;
            let name = file_name
                .strip_prefix(DLL_PREFIX)?
                .strip_prefix(PLUGIN_FILE_PREFIX)?
                .strip_suffix(DLL_SUFFIX)?;
            if name.is_empty() {
                return None;
            }
            Some((name.to_string(), item.path()))
        })
        .collect();
    found.sort();
    found
}
