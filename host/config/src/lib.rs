//! Codex-compatible configuration for the codex host.
//!
//! - [`home`]: where `CODEX_HOME` is.
//! - [`overrides`]: `-c key=value`, parsed exactly as Codex does.
//! - [`layers`] and [`load`]: the system, user, `-c` and managed layers,
//!   merged (tables recursively; scalars and arrays replace), with the
//!   origin of every value and the source text to point errors into.
//! - [`mcp`]: the `[mcp_servers.NAME]` schema and its validation.
//! - [`edit`]: changing the user's `config.toml` without disturbing its
//!   comments or formatting, atomically and under a lock.
//! - [`present`]: `codex mcp list/get` text and JSON, secrets masked.
//!
//! Errors ([`ConfigError`]) name the file, line and column (or the `-c`
//! override), the key path and what was expected, and never print a value
//! that may be a secret.

#![warn(missing_docs)]

pub mod edit;
pub mod error;
pub mod home;
pub mod key_path;
pub mod layers;
pub mod load;
pub mod mask;
pub mod mcp;
pub mod overrides;
pub mod present;
pub mod span;

pub use edit::{
    AddOutcome, NewMcpServer, add_mcp_server, parse_env_pair, parse_header, remove_mcp_server,
    set_value, user_config_path,
};
pub use error::{ConfigError, Location};
pub use home::find_codex_home;
pub use key_path::KeyPath;
pub use layers::{ConfigLayer, ConfigPaths, LayerKind};
pub use load::{LoadedConfig, load_config};
pub use mcp::{McpServerConfig, TransportKind, load_mcp_servers, validate_server_name};
pub use overrides::{CliOverride, CliOverrides};
pub use present::AuthStatus;

/// What a command does first: parses the raw `-c` values (Codex's rules and
/// errors) and loads every layer (see [`load_config`]).
pub fn load<S: AsRef<str>>(
    paths: &ConfigPaths,
    raw_overrides: &[S],
) -> Result<LoadedConfig, ConfigError> {
    let overrides = CliOverrides::parse(raw_overrides)?;
    load_config(paths, &overrides)
}
