//! Which plugin files the user (or the fleet's managed config) allows.
//!
//! ```toml
//! plugin_dirs = ["/opt/acme/codex-plugins"]
//! [plugins]
//! allow = ["stdio", "file", "acme_vault"]   # when set, nothing else loads
//! deny = ["experimental_ws"]
//! [plugins.sha256]
//! acme_vault = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::span::SpanTarget;
use crate::{ConfigError, KeyPath, LoadedConfig};

/// The table of the plugin policy.
pub const POLICY_KEY: &str = "plugins";
/// The extra plugin directories.
pub const DIRS_KEY: &str = "plugin_dirs";

/// Plugin-related settings from the merged configuration.
#[derive(Debug, Default, Clone)]
pub struct PluginPolicy {
    /// Extra directories to search, after the built-in ones.
    pub extra_dirs: Vec<PathBuf>,
    /// When set, only these plugin names may load.
    pub allow: Option<Vec<String>>,
    /// These plugin names never load.
    pub deny: Vec<String>,
    /// Required SHA-256 digests (lower-case hex) by plugin name.
    pub sha256: BTreeMap<String, String>,
}

impl PluginPolicy {
    /// Reads `plugin_dirs` and the `[plugins]` table from the merged config;
    /// a bad value is an error at its place.
    pub fn from_config(config: &LoadedConfig) -> Result<Self, ConfigError> {
        let mut policy = PluginPolicy::default();
        if let Some(dirs) = config.get(&[DIRS_KEY]) {
            policy.extra_dirs = string_list(config, KeyPath::from_keys([DIRS_KEY]), dirs)?
                .into_iter()
                .map(PathBuf::from)
                .collect();
        }
        let Some(table) = config.get(&[POLICY_KEY]) else {
            return Ok(policy);
        };
        let path = KeyPath::from_keys([POLICY_KEY]);
        let Some(table) = table.as_table() else {
            return Err(config.invalid(
                path,
                SpanTarget::Value,
                "expected a table with `allow`, `deny` and `sha256` keys",
            ));
        };
        for (key, value) in table {
            let key_path = path.key(key);
            match key.as_str() {
                "allow" => policy.allow = Some(string_list(config, key_path, value)?),
                "deny" => policy.deny = string_list(config, key_path, value)?,
                "sha256" => {
                    let Some(pins) = value.as_table() else {
                        return Err(config.invalid(
                            key_path,
                            SpanTarget::Value,
                            "expected a table of plugin name = \"hex digest\"",
                        ));
                    };
                    for (name, digest) in pins {
                        let digest = digest.as_str().map(|d| d.trim().to_ascii_lowercase());
                        match digest {
                            Some(digest)
                                if digest.len() == 64
                                    && digest.bytes().all(|b| b.is_ascii_hexdigit()) =>
                            {
                                policy.sha256.insert(name.clone(), digest);
                            }
                            _ => {
                                return Err(config.invalid(
                                    key_path.key(name),
                                    SpanTarget::Value,
                                    "expected a string of 64 hex digits (a SHA-256 digest, as \
                                     `sha256sum FILE` prints it)",
                                ));
                            }
                        }
                    }
                }
                other => {
                    return Err(config.invalid(
                        key_path,
                        SpanTarget::Key,
                        format!(
                            "unknown key `{POLICY_KEY}.{other}`; expected `allow`, `deny` or `sha256`"
                        ),
                    ));
                }
            }
        }
        Ok(policy)
    }

    /// Why `name` may not load, if it may not.
    pub fn refusal(&self, name: &str) -> Option<String> {
        if self.deny.iter().any(|denied| denied == name) {
            return Some(format!("denied by `{POLICY_KEY}.deny` in config"));
        }
        if let Some(allow) = &self.allow
            && !allow.iter().any(|allowed| allowed == name)
        {
            return Some(format!("not in `{POLICY_KEY}.allow` in config"));
        }
        None
    }
}

fn string_list(
    config: &LoadedConfig,
    path: KeyPath,
    value: &toml::Value,
) -> Result<Vec<String>, ConfigError> {
    let items = value.as_array().map(|items| {
        items
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect::<Option<Vec<String>>>()
    });
    match items {
        Some(Some(items)) => Ok(items),
        _ => Err(config.invalid(path, SpanTarget::Value, "expected an array of strings")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConfigLayer, ConfigPaths, LayerKind};

    fn policy(text: &str) -> Result<PluginPolicy, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        let layer = ConfigLayer::from_file(LayerKind::User, &path).unwrap();
        let paths = ConfigPaths::with_defaults(dir.path().to_path_buf());
        PluginPolicy::from_config(&LoadedConfig::from_layers(paths, vec![layer]))
    }

    #[test]
    fn deny_beats_allow_and_allow_restricts() {
        let policy = policy("[plugins]\nallow = [\"stdio\", \"acme\"]\ndeny = [\"acme\"]").unwrap();
        assert_eq!(policy.refusal("stdio"), None);
        assert!(policy.refusal("acme").unwrap().contains("plugins.deny"));
        assert!(policy.refusal("file").unwrap().contains("plugins.allow"));
    }

    #[test]
    fn pins_must_be_sha256_hex() {
        let error = policy("[plugins.sha256]\nstdio = \"abc\"")
            .unwrap_err()
            .to_string();
        assert!(error.contains("config.toml:2:"), "{error}");
        assert!(error.contains("plugins.sha256.stdio"), "{error}");
        let digest = "A".repeat(64);
        let policy = policy(&format!("[plugins.sha256]\nstdio = \"{digest}\"")).unwrap();
        assert_eq!(policy.sha256["stdio"], "a".repeat(64));
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_errors_at_their_place() {
        let error = policy("[plugins]\nalow = []").unwrap_err().to_string();
        assert!(error.contains("plugins.alow"), "{error}");
        assert!(error.contains("config.toml:2:1"), "{error}");
        let error = policy("plugin_dirs = \"/x\"").unwrap_err().to_string();
        assert!(error.contains("config.toml:1:"), "{error}");
        assert!(error.contains("plugin_dirs"), "{error}");
    }
}
