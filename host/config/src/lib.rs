//! Codex-compatible configuration for the codex host.
//!
//! - [`home`]: where `CODEX_HOME` is.
//! - [`overrides`]: `-c key=value`, parsed exactly as Codex does.
//! - [`layers`], [`read`] and [`load`]: the system, user, project, `-c` and
//!   managed layers, read and merged (tables recursively; scalars and arrays replace), with
//!   the origin of every value and the source text to point errors into.
//! - [`project`]: which `.codex/config.toml` files a working directory
//!   brings in, and whether the project is trusted to apply them.
//! - [`features`]: the selected profile and model, the model's feature
//!   bundle, and every feature toggle with its place, types checked.
//! - [`mcp`]: the `[mcp_servers.NAME]` schema and its validation.
//! - [`mcp_gateway`]: `[mcp_gateway]`, the defaults of `codex mcp-server`.
//! - [`mcp_oauth`]: `mcp_oauth_*`, the settings of MCP OAuth logins.
//! - [`mcp_roots`]: `mcp_roots`, the directories offered to servers as roots.
//! - [`plugin_policy`]: which plugin files may load (`[plugin_policy]`, `plugin_dirs`).
//! - [`sandbox`]: `sandbox_mode`, `[sandbox_workspace_write]` and the default
//!   sandbox of stdio servers (`mcp_servers_sandbox`).
//! - [`credentials`]: which credential stores hold what
//!   (`*_credentials_store`, `credential_chain`, `[credential_backends]`).
//! - [`edit`]: changing the user's `config.toml` without disturbing its
//!   comments or formatting, atomically and under a lock.
//! - [`present`]: `codex mcp list/get` text and JSON, secrets masked.
//! - [`show`]: `codex config show`, with the origin of every value.
//!
//! - [`toml_value`]: naming a TOML value's type, TOML as JSON.
//!
//! Errors ([`ConfigError`]) name the file, line and column (or the `-c`
//! override), the key path and what was expected, and never print a value
//! that may be a secret.

#![warn(missing_docs)]

pub mod credentials;
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
pub mod mcp_gateway;
pub mod mcp_oauth;
pub mod mcp_roots;
pub mod overrides;
pub mod plugin_policy;
pub mod present;
pub mod project;
pub mod read;
pub mod sandbox;
pub mod show;
pub mod span;
pub mod toml_value;

pub use edit::{
    AddOutcome, FeatureChange, NewMcpServer, NewServerSettings, ProfileMigration, ProfileMove,
    add_mcp_server, add_mcp_server_to, migrate_profiles, parse_env_pair, parse_header,
    remove_mcp_server, remove_mcp_server_from, remove_value, set_feature, set_value,
    user_config_path,
};
pub use error::{ConfigError, Location};
pub use features::{FeatureSetting, FeatureSettings, SettingScope, feature_settings};
pub use home::find_codex_home;
pub use key_path::KeyPath;
pub use layers::{ConfigLayer, ConfigPaths, LayerKind, check_profile_name};
pub use load::LoadedConfig;
pub use mcp::{McpServerConfig, TransportKind, load_mcp_servers, validate_server_name};
pub use overrides::{CliOverride, CliOverrides};
pub use present::AuthStatus;
pub use read::load_config;

/// What a command does first: parses the raw `-c` values (Codex's rules and
/// errors) and loads every layer (see [`load_config`]).
pub fn load<S: AsRef<str>>(
    paths: &ConfigPaths,
    raw_overrides: &[S],
) -> Result<LoadedConfig, ConfigError> {
    let overrides = CliOverrides::parse(raw_overrides)?;
    load_config(paths, &overrides)
}
