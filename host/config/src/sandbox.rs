//! Codex's sandbox settings: `sandbox_mode` and `[sandbox_workspace_write]`
//! for `codex sandbox`, and `mcp_servers_sandbox`, the default policy of
//! every stdio MCP server. The modes are checked here, with their place;
//! the kernel side is the `codex-sandbox` crate's.

use std::path::PathBuf;

use crate::span::SpanTarget;
use crate::toml_value::describe;
use crate::{ConfigError, KeyPath, LoadedConfig};

/// Codex's sandbox mode names.
pub const SANDBOX_MODES: [&str; 3] = ["read-only", "workspace-write", "danger-full-access"];

/// The key of the default policy of stdio MCP servers.
pub const SERVERS_DEFAULT_KEY: &str = "mcp_servers_sandbox";

/// The sandbox settings of the merged configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SandboxSettings {
    /// `sandbox_mode`, one of [`SANDBOX_MODES`].
    pub mode: Option<String>,
    /// `sandbox_workspace_write.writable_roots`.
    pub writable_roots: Vec<PathBuf>,
    /// `sandbox_workspace_write.network_access`.
    pub network_access: bool,
    /// `sandbox_workspace_write.exclude_tmpdir_env_var`.
    pub exclude_tmpdir_env_var: bool,
    /// `sandbox_workspace_write.exclude_slash_tmp`.
    pub exclude_slash_tmp: bool,
}

/// Reads `sandbox_mode` and `[sandbox_workspace_write]`; a bad value is an
/// error at its file, line and column.
pub fn sandbox_settings(config: &LoadedConfig) -> Result<SandboxSettings, ConfigError> {
    let mut settings = SandboxSettings {
        mode: mode_at(config, &["sandbox_mode"])?,
        ..SandboxSettings::default()
    };
    let table_key = "sandbox_workspace_write";
    let Some(table) = config.get(&[table_key]) else {
        return Ok(settings);
    };
    let path = KeyPath::from_keys([table_key]);
    let Some(table) = table.as_table() else {
        return Err(config.invalid(
            path,
            SpanTarget::Value,
            format!("expected a table, found {}", describe(table)),
        ));
    };
    for (key, value) in table {
        let at = path.key(key);
        let flag = || match value {
            toml::Value::Boolean(on) => Ok(*on),
            other => Err(config.invalid(
                at.clone(),
                SpanTarget::Value,
                format!("expected true or false, found {}", describe(other)),
            )),
        };
        match key.as_str() {
            "writable_roots" => settings.writable_roots = paths(config, &at, value)?,
            "network_access" => settings.network_access = flag()?,
            "exclude_tmpdir_env_var" => settings.exclude_tmpdir_env_var = flag()?,
            "exclude_slash_tmp" => settings.exclude_slash_tmp = flag()?,
            // Codex ignores keys it does not know; so do we.
            _ => {}
        }
    }
    Ok(settings)
}

/// `mcp_servers_sandbox`: the policy of every stdio server without its own
/// `sandbox`.
pub fn servers_default_sandbox(config: &LoadedConfig) -> Result<Option<String>, ConfigError> {
    mode_at(config, &[SERVERS_DEFAULT_KEY])
}

/// A mode at `keys`, checked.
fn mode_at(config: &LoadedConfig, keys: &[&str]) -> Result<Option<String>, ConfigError> {
    let Some(value) = config.get(keys) else {
        return Ok(None);
    };
    check_mode(value).map(Some).map_err(|message| {
        config.invalid(
            KeyPath::from_keys(keys.iter().copied()),
            SpanTarget::Value,
            message,
        )
    })
}

/// `value` as one of [`SANDBOX_MODES`], or what was expected.
pub(crate) fn check_mode(value: &toml::Value) -> Result<String, String> {
    let expected = "expected one of \"read-only\", \"workspace-write\", \"danger-full-access\"";
    match value.as_str() {
        Some(mode) if SANDBOX_MODES.contains(&mode) => Ok(mode.to_string()),
        Some(mode) => Err(format!("unknown sandbox mode `{mode}`: {expected}")),
        None => Err(format!("{expected}, found {}", describe(value))),
    }
}

fn paths(
    config: &LoadedConfig,
    at: &KeyPath,
    value: &toml::Value,
) -> Result<Vec<PathBuf>, ConfigError> {
    let items = value.as_array().and_then(|items| {
        items
            .iter()
            .map(|item| item.as_str().filter(|s| !s.is_empty()).map(PathBuf::from))
            .collect::<Option<Vec<_>>>()
    });
    items.ok_or_else(|| {
        config.invalid(
            at.clone(),
            SpanTarget::Value,
            "expected an array of directory paths",
        )
    })
}
