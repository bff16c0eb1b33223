//! Project layers: `.codex/config.toml` in each directory from the project
//! root down to the working directory, as Codex finds them.
//!
//! - The project root is the closest ancestor of the working directory (or
//!   the directory itself) that holds one of `project_root_markers`
//!   (default `[".git"]`); without one, the working directory alone.
//! - Every directory from the root down to the working directory that has a
//!   `.codex/config.toml` adds a layer, the closest one last (it wins).
//!   `CODEX_HOME` itself is never read as a project directory.
//! - The layers apply only when the project is trusted:
//!   `[projects."<dir>"] trust_level = "trusted"` in the system, user, `-c`
//!   or managed configuration, for the working directory or one of its
//!   ancestors up to the root (the closest entry decides). Otherwise each
//!   file is a present-but-disabled layer that says how to trust it, and its
//!   contents are not read: a file of an untrusted project is not parsed,
//!   so its errors do not matter either.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::ConfigError;
use crate::key_path::KeyPath;
use crate::layers::{CONFIG_FILE_NAME, ConfigLayer, LayerKind};
use crate::load::LoadedConfig;
use crate::span::SpanTarget;

/// The directory inside a project that holds its `config.toml`.
pub const PROJECT_CONFIG_DIR: &str = ".codex";

/// What marks a project root when `project_root_markers` is not set.
pub const DEFAULT_ROOT_MARKERS: [&str; 1] = [".git"];

/// A project's trust level, from `[projects."<dir>"].trust_level`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Trust {
    /// `trust_level = "trusted"` for `key`.
    Trusted,
    /// `trust_level = "untrusted"` for `key`, set at `location`.
    Untrusted { key: String, location: String },
    /// No entry for the working directory or its ancestors up to the root.
    Unknown,
}

/// The project layers for a command run in `dir`, lowest precedence first.
/// `base` holds every other layer: it decides the root markers and trust.
pub(crate) fn project_layers(
    base: &LoadedConfig,
    dir: &Path,
) -> Result<Vec<ConfigLayer>, ConfigError> {
    let cwd = canonical(dir);
    let markers = root_markers(base)?;
    let root = project_root(&cwd, &markers);
    let trust = trust_of(base, &cwd, &root)?;
    let codex_home = canonical(&base.paths().codex_home);
    let user_config = base.paths().user_config();

    let mut dirs: Vec<&Path> = cwd
        .ancestors()
        .take_while(|d| d.starts_with(&root))
        .collect();
    dirs.reverse();
    let mut layers = Vec::new();
    for dir in dirs {
        let config_dir = dir.join(PROJECT_CONFIG_DIR);
        if canonical(&config_dir) == codex_home {
            continue;
        }
        let file = config_dir.join(CONFIG_FILE_NAME);
        match &trust {
            Trust::Trusted => {
                let layer = ConfigLayer::from_file(LayerKind::Project, &file)?;
                if layer.exists() {
                    layers.push(layer);
                }
            }
            Trust::Untrusted { key, location } => {
                if std::fs::symlink_metadata(&file).is_ok() {
                    let reason = format!(
                        "the project {key} is marked as untrusted ({location}); set its \
                         `trust_level` to \"trusted\" to load this file"
                    );
                    layers.push(ConfigLayer::disabled(LayerKind::Project, &file, reason));
                }
            }
            Trust::Unknown => {
                if std::fs::symlink_metadata(&file).is_ok() {
                    let table = KeyPath::from_keys(["projects", &root.display().to_string()]);
                    let reason = format!(
                        "{} is not a trusted project; to load this file, add `trust_level = \
                         \"trusted\"` under `[{table}]` in {}",
                        root.display(),
                        user_config.display()
                    );
                    layers.push(ConfigLayer::disabled(LayerKind::Project, &file, reason));
                }
            }
        }
    }
    Ok(layers)
}

/// Where a project-scoped edit (`codex mcp add --scope project`) goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProjectConfigFile {
    /// The project is trusted: its root's `.codex/config.toml`.
    Trusted(PathBuf),
    /// The project is not trusted, so a file written there would not be
    /// read; `how_to_trust` says what to add, and where.
    NotTrusted {
        /// The file that would be written.
        file: PathBuf,
        /// What to add to trust the project, and where.
        how_to_trust: String,
    },
}

/// The `.codex/config.toml` at the root of the project that `config` was
/// loaded for (its `project_dir`), and whether that project is trusted.
pub fn project_config_file(config: &LoadedConfig) -> Result<ProjectConfigFile, ConfigError> {
    let dir = config
        .paths()
        .project_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("."));
    let cwd = canonical(&dir);
    let root = project_root(&cwd, &root_markers(config)?);
    let file = root.join(PROJECT_CONFIG_DIR).join(CONFIG_FILE_NAME);
    if canonical(&root.join(PROJECT_CONFIG_DIR)) == canonical(&config.paths().codex_home) {
        return Ok(ProjectConfigFile::NotTrusted {
            file,
            how_to_trust: "this directory's .codex is CODEX_HOME itself; run the command in \
                           a project directory"
                .to_string(),
        });
    }
    Ok(match trust_of(config, &cwd, &root)? {
        Trust::Trusted => ProjectConfigFile::Trusted(file),
        Trust::Untrusted { key, location } => ProjectConfigFile::NotTrusted {
            file,
            how_to_trust: format!(
                "the project {key} is marked as untrusted ({location}); set its `trust_level` \
                 to \"trusted\" first"
            ),
        },
        Trust::Unknown => ProjectConfigFile::NotTrusted {
            file,
            how_to_trust: format!(
                "{} is not a trusted project; add these lines to {} first:\n\n[projects.{}]\ntrust_level = \"trusted\"",
                root.display(),
                config.paths().user_config().display(),
                toml_edit::Key::new(root.display().to_string()).display_repr()
            ),
        },
    })
}

/// `path` with symlinks and `..` resolved, or as given when that fails (it
/// may not exist).
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn root_markers(base: &LoadedConfig) -> Result<Vec<String>, ConfigError> {
    let Some(value) = base.get(&["project_root_markers"]) else {
        return Ok(DEFAULT_ROOT_MARKERS.iter().map(|m| m.to_string()).collect());
    };
    let expected = || {
        base.invalid(
            KeyPath::from_keys(["project_root_markers"]),
            SpanTarget::Value,
            format!(
                "expected an array of file or directory names (like [\".git\"]), found {}",
                crate::toml_value::describe(value)
            ),
        )
    };
    let items = value.as_array().ok_or_else(expected)?;
    items
        .iter()
        .map(|item| item.as_str().map(str::to_string).ok_or_else(expected))
        .collect()
}

/// The closest of `cwd` and its ancestors holding one of `markers`; `cwd`
/// when none does.
fn project_root(cwd: &Path, markers: &[String]) -> PathBuf {
    cwd.ancestors()
        .find(|dir| {
            markers
                .iter()
                .any(|marker| std::fs::symlink_metadata(dir.join(marker)).is_ok())
        })
        .unwrap_or(cwd)
        .to_path_buf()
}

fn trust_of(base: &LoadedConfig, cwd: &Path, root: &Path) -> Result<Trust, ConfigError> {
    let Some(projects) = base.get(&["projects"]) else {
        return Ok(Trust::Unknown);
    };
    let Some(projects) = projects.as_table() else {
        return Err(base.invalid(
            KeyPath::from_keys(["projects"]),
            SpanTarget::Value,
            format!(
                "expected a table of project directories, found {}",
                crate::toml_value::describe(projects)
            ),
        ));
    };
    // Keys are written by people and tools: compare them canonicalized.
    let mut entries: BTreeMap<PathBuf, (&String, &toml::Value)> = BTreeMap::new();
    for (key, entry) in projects {
        entries.insert(canonical(Path::new(key)), (key, entry));
    }
    for dir in cwd.ancestors().take_while(|d| d.starts_with(root)) {
        let Some((key, entry)) = entries.get(dir) else {
            continue;
        };
        let path = KeyPath::from_keys(["projects", key.as_str(), "trust_level"]);
        let level = entry.get("trust_level");
        return match level.and_then(toml::Value::as_str) {
            Some("trusted") => Ok(Trust::Trusted),
            Some("untrusted") => Ok(Trust::Untrusted {
                key: key.to_string(),
                location: base.locate(&path, SpanTarget::Value).to_string(),
            }),
            None if level.is_none() && entry.is_table() => Ok(Trust::Unknown),
            _ => Err(base.invalid(
                path,
                SpanTarget::Value,
                "expected \"trusted\" or \"untrusted\"",
            )),
        };
    }
    Ok(Trust::Unknown)
}
