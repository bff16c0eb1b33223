//! The one error type of this crate, and where an error points.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::key_path::KeyPath;

/// Where in the configuration an error was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A position in a file; `line` and `column` count from 1, the column in
    /// characters.
    File {
        /// The file, as the user knows it.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
    },
    /// A file, when no position is known.
    FileOnly {
        /// The file.
        path: PathBuf,
    },
    /// A `-c key=value` override. `text` is the override as given, with the
    /// value masked when the key may hold a secret.
    Override {
        /// The (masked) override text.
        text: String,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File { path, line, column } => {
                write!(f, "{}:{line}:{column}", path.display())
            }
            Self::FileOnly { path } => write!(f, "{}", path.display()),
            Self::Override { text } => write!(f, "in -c override `{text}`"),
        }
    }
}

/// Every error of the configuration library.
///
/// The `Display` text is one line, cargo style, without a leading `error: `
/// (the CLI adds it): what is wrong, where (file:line:column and key path)
/// and what was expected. It never contains a configured value that may be
/// a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `CODEX_HOME` names a path that does not exist (Codex's text).
    #[error("CODEX_HOME points to {value:?}, but that path does not exist")]
    CodexHomeMissing {
        /// The value of `CODEX_HOME`.
        value: String,
    },
    /// `CODEX_HOME` names something that is not a directory (Codex's text).
    #[error("CODEX_HOME points to {value:?}, but that path is not a directory")]
    CodexHomeNotDirectory {
        /// The value of `CODEX_HOME`.
        value: String,
    },
    /// `CODEX_HOME` could not be inspected.
    #[error("CODEX_HOME points to {value:?}, which cannot be read: {error}")]
    CodexHomeUnreadable {
        /// The value of `CODEX_HOME`.
        value: String,
        /// The underlying error.
        error: std::io::Error,
    },
    /// Neither `CODEX_HOME` nor the home directory is known.
    #[error(
        "cannot find the home directory ($HOME is not set); set CODEX_HOME to the Codex configuration directory"
    )]
    HomeDirUnknown,
    /// A malformed `-c key=value` (Codex's texts:
    /// `Invalid override (missing '='): …`, `Empty key in override: …`).
    #[error("{0}")]
    InvalidOverride(String),
    /// A key path that cannot be set (empty, or blocked by a value).
    #[error("invalid key path: {0}")]
    InvalidKeyPath(String),
    /// A configuration file exists but cannot be read.
    #[error("could not read {}: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// A file is not valid TOML.
    #[error("{location}: invalid TOML: {message}")]
    Syntax {
        /// Where the parser stopped.
        location: Location,
        /// The parser's description.
        message: String,
    },
    /// A value has the wrong type or is not allowed where it is.
    #[error("{location}: {key}: {message}")]
    Invalid {
        /// The layer and position that set the value.
        location: Location,
        /// The key path of the value.
        key: KeyPath,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A rejected setting whose message already names its key (for example
    /// Codex's inline `bearer_token` text).
    #[error("{location}: {message}")]
    Rejected {
        /// The layer and position that set the value.
        location: Location,
        /// The full message.
        message: String,
    },
    /// A new MCP server name outside `[A-Za-z0-9_:@/.-]+` (Codex's text).
    #[error("invalid server name '{name}' (use letters, numbers, '-', '_', ':', '@', '/', '.')")]
    InvalidServerName {
        /// The rejected name.
        name: String,
    },
    /// An `--env` argument that is not `KEY=VALUE` (Codex's text).
    #[error("environment entries must be in KEY=VALUE form")]
    InvalidEnvPair,
    /// A `--header` argument that is not `NAME: VALUE` or `NAME=VALUE`.
    #[error("invalid header: {reason}")]
    InvalidHeader {
        /// What is wrong (never includes the header value).
        reason: String,
    },
    /// A new server definition that cannot be written.
    #[error("invalid MCP server '{name}': {message}")]
    InvalidNewServer {
        /// The server name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// The configuration directory could not be created.
    #[error("could not create {}: {error}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The edit lock could not be taken or the file could not be written.
    #[error("could not write {}: {error}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// Another process held the edit lock for too long.
    #[error(
        "timed out after {} s waiting for the lock {}: another codex process is editing the configuration; try again when it has finished",
        waited.as_secs_f64(),
        path.display()
    )]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// How long we waited.
        waited: Duration,
    },
}
