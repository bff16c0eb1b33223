//! The host side of the plugin ABI: finding, vetting and loading plugin
//! libraries ([`PluginSet`]), the services plugins get ([`services`]), and
//! which plugin serves a configured MCP server ([`transports`]).
//!
//! Order of events for every candidate file: policy (allow/deny) → trust
//! checks on the file system → SHA-256 pin → open → ABI version and layout
//! check → manifest. Nothing before "open" runs any of the plugin's code.

mod load;
pub mod policy;
pub mod services;
pub mod transports;
mod trust;

use std::collections::BTreeSet;
use std::env::consts::{DLL_PREFIX, DLL_SUFFIX};
use std::fs;
use std::path::{Path, PathBuf};

use codex_plugin_api::{PluginManifest, PluginModuleRef, ServiceKind};
use serde::Serialize;

use policy::PluginPolicy;

/// The file-name prefix that marks a plugin: `libcodex_NAME.so` on Linux.
const PLUGIN_FILE_PREFIX: &str = "codex_";

/// Where a plugin directory comes from, in search order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DirOrigin {
    /// The directory of the `codex` executable (bundled plugins).
    Executable,
    /// `$CODEX_HOME/plugins`.
    CodexHome,
    /// `plugin_dirs` in config.
    Config,
}

/// A directory to search for plugins.
#[derive(Debug, Clone)]
pub struct PluginDir {
    pub path: PathBuf,
    pub origin: DirOrigin,
}

/// The search path: the executable's directory, `$CODEX_HOME/plugins`, then
/// the configured `plugin_dirs`.
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

/// What happened to one candidate file.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum PluginState {
    /// Opened, checked and ready.
    Loaded,
    /// Not opened: a policy or trust check said no.
    Refused(String),
    /// Opened, but built for another ABI.
    Incompatible(String),
    /// Opened, but not a working plugin.
    Broken(String),
}

impl PluginState {
    /// `loaded`, `refused: why`, ... for text output.
    pub fn describe(&self) -> String {
        match self {
            PluginState::Loaded => "loaded".to_string(),
            PluginState::Refused(why) => format!("refused: {why}"),
            PluginState::Incompatible(why) => format!("incompatible: {why}"),
            PluginState::Broken(why) => format!("broken: {why}"),
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
    /// The ABI version the library was built against, once opened.
    pub api_version: Option<String>,
    pub manifest: Option<PluginManifest>,
    /// The long layout report of an incompatible plugin.
    pub detail: Option<String>,
    module: Option<PluginModuleRef>,
}

impl PluginEntry {
    /// The entry points of a loaded plugin.
    pub fn module(&self) -> Option<PluginModuleRef> {
        self.module
    }

    /// Whether this loaded plugin provides service `name` of `kind`.
    pub fn provides(&self, kind: ServiceKind, name: &str) -> bool {
        self.manifest.as_ref().is_some_and(|manifest| {
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
                let mut entry = PluginEntry {
                    name: name.clone(),
                    path,
                    origin: dir.origin,
                    state: PluginState::Loaded,
                    api_version: None,
                    manifest: None,
                    detail: None,
                    module: None,
                };
                if !seen.insert(name.clone()) {
                    entry.state = PluginState::Refused(format!(
                        "a plugin named `{name}` was already found earlier on the search path"
                    ));
                } else {
                    load_entry(&mut entry, policy);
                }
                entries.push(entry);
            }
        }
        PluginSet { entries }
    }

    /// The loaded plugin providing service `name` of `kind`.
    pub fn provider(&self, kind: ServiceKind, name: &str) -> Option<&PluginEntry> {
        self.entries
            .iter()
            .find(|entry| matches!(entry.state, PluginState::Loaded) && entry.provides(kind, name))
    }

    /// Why no loaded plugin provides `name` of `kind`: the candidate that
    /// would have, if one was found but not loaded.
    pub fn why_missing(&self, name: &str) -> Option<&PluginEntry> {
        self.entries
            .iter()
            .find(|entry| entry.name == name && !matches!(entry.state, PluginState::Loaded))
    }
}

fn load_entry(entry: &mut PluginEntry, policy: &PluginPolicy) {
    if let Some(why) = policy.refusal(&entry.name) {
        entry.state = PluginState::Refused(why);
        return;
    }
    if let Err(why) = trust::check_file(&entry.path) {
        entry.state = PluginState::Refused(why);
        return;
    }
    if let Some(pin) = policy.sha256.get(&entry.name)
        && let Err(why) = trust::check_pin(&entry.path, &entry.name, pin)
    {
        entry.state = PluginState::Refused(why);
        return;
    }
    match load::open(&entry.path) {
        Ok(opened) => {
            entry.api_version = Some(opened.api_version);
            let declared = opened.manifest.name.to_string();
            if declared.replace('-', "_") != entry.name.replace('-', "_") {
                entry.state = PluginState::Broken(format!(
                    "the file is named for plugin `{}` but the plugin calls itself `{declared}`; \
                     rename the file to {DLL_PREFIX}{PLUGIN_FILE_PREFIX}{declared}{DLL_SUFFIX}",
                    entry.name
                ));
            } else {
                entry.module = Some(opened.module);
            }
            entry.manifest = Some(opened.manifest);
        }
        Err(load::LoadFailure::Incompatible { reason, detail }) => {
            entry.state = PluginState::Incompatible(reason);
            entry.detail = detail;
        }
        Err(load::LoadFailure::Broken(reason)) => entry.state = PluginState::Broken(reason),
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
