//! The configuration layers: where each one comes from and what it holds.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{ConfigError, Location};
use crate::key_path::KeyPath;
use crate::overrides::CliOverrides;
use crate::span::{SpanTarget, find_span, line_column};

/// Environment variable overriding the system config file path (tests).
pub const SYSTEM_CONFIG_ENV: &str = "CODEX_SYSTEM_CONFIG";
/// Environment variable overriding the managed config file path (tests).
pub const MANAGED_CONFIG_ENV: &str = "CODEX_MANAGED_CONFIG";
/// The user config file's name inside `CODEX_HOME`.
pub const CONFIG_FILE_NAME: &str = "config.toml";

/// The files the configuration is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigPaths {
    /// `CODEX_HOME`; the user layer is `codex_home/config.toml`.
    pub codex_home: PathBuf,
    /// The system layer (default `/etc/codex/config.toml`).
    pub system_config: PathBuf,
    /// The managed layer, above `-c` (default `/etc/codex/managed_config.toml`).
    pub managed_config: PathBuf,
    /// The directory project layers are searched from (the working
    /// directory of a command); `None` loads no project layer.
    pub project_dir: Option<PathBuf>,
    /// The profile of `--profile P`: its layer is `$CODEX_HOME/P.config.toml`.
    pub profile: Option<String>,
}

impl ConfigPaths {
    /// Codex's default paths, each overridable by a non-empty
    /// `CODEX_SYSTEM_CONFIG` / `CODEX_MANAGED_CONFIG` (full file paths).
    pub fn from_env(codex_home: PathBuf) -> Self {
        let mut paths = Self::with_defaults(codex_home);
        if let Some(path) = env_path(SYSTEM_CONFIG_ENV) {
            paths.system_config = path;
        }
        if let Some(path) = env_path(MANAGED_CONFIG_ENV) {
            paths.managed_config = path;
        }
        paths
    }

    /// Codex's default paths, ignoring the environment.
    pub fn with_defaults(codex_home: PathBuf) -> Self {
        let (system_config, managed_config) = default_system_paths(&codex_home);
        Self {
            codex_home,
            system_config,
            managed_config,
            project_dir: None,
            profile: None,
        }
    }

    /// These paths with project layers searched from `dir` (see
    /// [`ConfigPaths::project_dir`]).
    pub fn with_project_dir(mut self, dir: PathBuf) -> Self {
        self.project_dir = Some(dir);
        self
    }

    /// These paths with the layer of profile `name` (checked with
    /// [`check_profile_name`]).
    pub fn with_profile(mut self, name: String) -> Self {
        self.profile = Some(name);
        self
    }

    /// `$CODEX_HOME/config.toml`, the file edits write.
    pub fn user_config(&self) -> PathBuf {
        self.codex_home.join(CONFIG_FILE_NAME)
    }

    /// `$CODEX_HOME/NAME.config.toml`, the layer of profile `name` (and the
    /// file `features enable -p NAME` writes).
    pub fn profile_config(&self, name: &str) -> PathBuf {
        self.codex_home.join(format!("{name}.{CONFIG_FILE_NAME}"))
    }
}

/// A profile name must be a plain file-name part: `work`, not `../x`
/// (Codex's rule and words).
pub fn check_profile_name(name: &str) -> Result<(), String> {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if plain {
        Ok(())
    } else {
        Err(format!(
            "invalid --profile value `{name}`; pass a plain name such as `work`"
        ))
    }
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

#[cfg(unix)]
fn default_system_paths(_codex_home: &Path) -> (PathBuf, PathBuf) {
    (
        PathBuf::from("/etc/codex/config.toml"),
        PathBuf::from("/etc/codex/managed_config.toml"),
    )
}

#[cfg(not(unix))]
fn default_system_paths(codex_home: &Path) -> (PathBuf, PathBuf) {
    let program_data = std::env::var_os("ProgramData")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(r"C:\ProgramData"));
    (
        program_data
            .join("OpenAI")
            .join("Codex")
            .join("config.toml"),
        codex_home.join("managed_config.toml"),
    )
}

/// Which layer a value comes from. Later variants win over earlier ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum LayerKind {
    /// `/etc/codex/config.toml`.
    System,
    /// `$CODEX_HOME/config.toml`.
    User,
    /// `$CODEX_HOME/P.config.toml` of `--profile P`, over the user file.
    Profile,
    /// `.codex/config.toml` of a trusted project, one layer per directory
    /// from the project root down to the working directory.
    Project,
    /// `-c key=value` on the command line (Codex's "session flags").
    SessionFlags,
    /// `/etc/codex/managed_config.toml`, set by an administrator.
    Managed,
}

impl LayerKind {
    /// Codex's precedence number (higher wins): 10, 20, 25, 30, 40; the
    /// profile layer, which Codex puts just over the user file, is 21 here.
    pub fn precedence(self) -> u8 {
        match self {
            Self::System => 10,
            Self::User => 20,
            Self::Profile => 21,
            Self::Project => 25,
            Self::SessionFlags => 30,
            Self::Managed => 40,
        }
    }

    /// A short name: `system`, `user`, `profile`, `project`, `-c`, `managed`.
    pub fn label(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Profile => "profile",
            Self::Project => "project",
            Self::SessionFlags => "-c",
            Self::Managed => "managed",
        }
    }
}

impl fmt::Display for LayerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One layer: its origin, its source text (to point errors into it) and its
/// parsed table.
#[derive(Clone)]
pub struct ConfigLayer {
    kind: LayerKind,
    path: Option<PathBuf>,
    text: Option<String>,
    /// The text parsed with positions, for locating keys and values.
    document: Option<Arc<toml_edit::Document<String>>>,
    overrides: CliOverrides,
    table: toml::Table,
    /// Why the layer is present but not applied (an untrusted project).
    disabled: Option<String>,
}

impl ConfigLayer {
    /// Reads a file layer. A missing file is an empty layer; a file that
    /// cannot be read or parsed is an error naming it (file:line:column for
    /// syntax errors).
    pub fn from_file(kind: LayerKind, path: &Path) -> Result<Self, ConfigError> {
        let Some(text) = read_optional(path)? else {
            return Ok(Self::empty(kind, Some(path.to_path_buf())));
        };
        let table = parse_document(path, &text)?;
        let document = toml_edit::Document::parse(text.clone()).ok().map(Arc::new);
        Ok(Self {
            kind,
            path: Some(path.to_path_buf()),
            text: Some(text),
            document,
            overrides: CliOverrides::new(),
            table,
            disabled: None,
        })
    }

    /// A layer whose file exists but is not applied, and why (for
    /// `config show --origin`). Its text is neither read nor parsed.
    pub fn disabled(kind: LayerKind, path: &Path, reason: impl Into<String>) -> Self {
        Self {
            disabled: Some(reason.into()),
            ..Self::empty(kind, Some(path.to_path_buf()))
        }
    }

    /// The `-c` layer.
    pub fn from_overrides(overrides: &CliOverrides) -> Self {
        Self {
            table: overrides.to_table(),
            overrides: overrides.clone(),
            ..Self::empty(LayerKind::SessionFlags, None)
        }
    }

    fn empty(kind: LayerKind, path: Option<PathBuf>) -> Self {
        Self {
            kind,
            path,
            text: None,
            document: None,
            overrides: CliOverrides::new(),
            table: toml::Table::new(),
            disabled: None,
        }
    }

    /// Which layer this is.
    pub fn kind(&self) -> LayerKind {
        self.kind
    }

    /// The file of a file layer.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Whether the layer's file exists (always true for `-c`).
    pub fn exists(&self) -> bool {
        self.path.is_none() || self.text.is_some() || self.disabled.is_some()
    }

    /// Why the layer is present but not applied; `None` when it applies.
    pub fn disabled_reason(&self) -> Option<&str> {
        self.disabled.as_deref()
    }

    /// The file's text. It may contain secrets: never print it.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The overrides of the `-c` layer (empty for file layers).
    pub fn overrides(&self) -> &CliOverrides {
        &self.overrides
    }

    /// The layer's values (empty for a disabled layer).
    pub fn table(&self) -> &toml::Table {
        &self.table
    }

    /// Where this layer comes from, for `config show --origin`: the file
    /// path, or `-c` for the command line.
    pub fn describe(&self) -> String {
        match &self.path {
            Some(path) => path.display().to_string(),
            None => "-c".to_string(),
        }
    }

    /// Where the key or value at `path` is in this layer: file:line:column,
    /// the file alone when the path is not in it, or the `-c` override that
    /// set it (value masked when it may be a secret).
    pub fn locate(&self, path: &KeyPath, target: SpanTarget) -> Location {
        match (&self.path, &self.document) {
            (Some(file), Some(document)) => match find_span(document, path, target) {
                Some(span) => {
                    let (line, column) = line_column(document.raw(), span.start);
                    Location::File {
                        path: file.clone(),
                        line,
                        column,
                    }
                }
                None => Location::FileOnly { path: file.clone() },
            },
            (Some(file), None) => Location::FileOnly { path: file.clone() },
            (None, _) => {
                let keys = path.leading_keys();
                let text = self
                    .overrides
                    .find_for(&keys)
                    .map(|ov| ov.masked())
                    .unwrap_or_default();
                Location::Override { text }
            }
        }
    }
}

impl fmt::Debug for ConfigLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The text and values may hold secrets; show only where they come from.
        f.debug_struct("ConfigLayer")
            .field("kind", &self.kind)
            .field("path", &self.path)
            .field("exists", &self.exists())
            .field("disabled", &self.disabled)
            .field("overrides", &self.overrides)
            .finish_non_exhaustive()
    }
}

/// The text of `path`; `None` when the file does not exist. Any other
/// failure (permissions, a directory, invalid UTF-8) is an error naming it.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>, ConfigError> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| ConfigError::Read {
                path: path.to_path_buf(),
                error: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "the file is not valid UTF-8",
                ),
            }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            error: source,
        }),
    }
}

/// Parses TOML text into a table, with syntax errors located in `path`.
pub(crate) fn parse_document(path: &Path, text: &str) -> Result<toml::Table, ConfigError> {
    // toml_edit's parser gives the span of a syntax error; the values used
    // for merging come from the `toml` crate.
    if let Err(err) = toml_edit::Document::parse(text) {
        return Err(syntax_error(path, text, err.message(), err.span()));
    }
    toml::from_str::<toml::Table>(text)
        .map_err(|err| syntax_error(path, text, err.message(), err.span()))
}

pub(crate) fn syntax_error(
    path: &Path,
    text: &str,
    message: &str,
    span: Option<std::ops::Range<usize>>,
) -> ConfigError {
    let location = match span {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            Location::File {
                path: path.to_path_buf(),
                line,
                column,
            }
        }
        None => Location::FileOnly {
            path: path.to_path_buf(),
        },
    };
    ConfigError::Syntax {
        location,
        message: message.to_string(),
    }
}
