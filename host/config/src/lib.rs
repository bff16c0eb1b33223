//! Codex-compatible configuration for the codex host.
//!
//! - [`home`]: where `CODEX_HOME` is.
//! - [`overrides`]: `-c key=value`, parsed exactly as Codex does.
//! - [`layers`] and [`load`]: the system, user, project, `-c` and managed
//!   layers, merged (tables recursively; scalars and arrays replace), with
//!   the origin of every value and the source text to point errors into.
//! - [`project`]: which `.codex/config.toml` files a working directory
//!   brings in, and whether the project is trusted to apply them.
//! - [`features`]: the selected profile and model, the model's feature
//!   bundle, and every feature toggle with its place, types checked.
//! - [`mcp`]: the `[mcp_servers.NAME]` schema and its validation.
//! - [`edit`]: changing the user's `config.toml` without disturbing its
//!   comments or formatting, atomically and under a lock.
//! - [`present`]: `codex mcp list/get` text and JSON, secrets masked.
//! - [`show`]: `codex config show`, with the origin of every value.
//!
//! Errors ([`ConfigError`]) name the file, line and column (or the `-c`
//! override), the key path and what was expected, and never print a value
//! that may be a secret.

#![warn(missing_docs)]

pub mod edit;
pub mod error;
pub mod features;
pub mod glob;
pub mod home;
pub mod key_path;
pub mod layers;
pub mod load;
pub mod mask;
pub mod mcp;
pub mod overrides;
pub mod present;
pub mod project;
pub mod show;
pub mod span;

pub use edit::{
    AddOutcome, FeatureChange, NewMcpServer, add_mcp_server, parse_env_pair, parse_header,
    remove_mcp_server, remove_value, set_feature, set_value, user_config_path,
};
pub use error::{ConfigError, Location};
pub use features::{FeatureSetting, FeatureSettings, SettingScope, feature_settings};
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
