//! Which plugin files the user (or the fleet's managed config) allows.
//!
//! ```toml
//! plugin_dirs = ["/opt/acme/codex-plugins"]
//! [plugin_policy]
//! allow = ["stdio", "file", "acme_vault"]   # when set, nothing else loads
//! deny = ["experimental_ws"]
//! [plugin_policy.sha256]
//! acme_vault = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//! ```
//!
//! The policy once lived under `[plugins]`, which Codex 0.169 uses for its
//! marketplace plugins (`[plugins."NAME@MARKETPLACE"]`) and refuses other
//! keys in. The old `allow`/`deny`/`sha256` there are still read, with a
//! warning that says how to move them, and never written; Codex's entries
//! beside them are Codex's business and pass without a word.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::span::SpanTarget;
use crate::{ConfigError, KeyPath, LoadedConfig};

/// The table of the plugin policy.
pub const POLICY_KEY: &str = "plugin_policy";
/// Where the policy used to be; Codex's marketplace plugins live there.
pub const LEGACY_POLICY_KEY: &str = "plugins";
/// The extra plugin directories.
pub const DIRS_KEY: &str = "plugin_dirs";
/// The keys of a policy table.
const POLICY_KEYS: [&str; 3] = ["allow", "deny", "sha256"];

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
    /// Read from the legacy `[plugins]` keys.
    legacy: bool,
    /// What the user should change (the legacy keys), one line each.
    pub warnings: Vec<String>,
}

impl PluginPolicy {
    /// Reads `plugin_dirs` and the `[plugin_policy]` table from the merged
    /// config (or the legacy policy keys of `[plugins]`, see the module
    /// docs); a bad value is an error at its place.
    pub fn from_config(config: &LoadedConfig) -> Result<Self, ConfigError> {
        let mut policy = PluginPolicy::default();
        if let Some(dirs) = config.get(&[DIRS_KEY]) {
            policy.extra_dirs = string_list(config, KeyPath::from_keys([DIRS_KEY]), dirs)?
                .into_iter()
                .map(PathBuf::from)
                .collect();
        }
        let legacy = legacy_policy_keys(config);
        if let Some(table) = config.get(&[POLICY_KEY]) {
            let path = KeyPath::from_keys([POLICY_KEY]);
            let Some(table) = table.as_table() else {
                return Err(config.invalid(
                    path,
                    SpanTarget::Value,
                    "expected a table with `allow`, `deny` and `sha256` keys",
                ));
            };
            for (key, value) in table {
                if !POLICY_KEYS.contains(&key.as_str()) {
                    return Err(config.invalid(
                        path.key(key),
                        SpanTarget::Key,
                        format!(
                            "unknown key `{POLICY_KEY}.{key}`; expected `allow`, `deny` or `sha256`"
                        ),
                    ));
                }
                policy.set(config, &path, key, value)?;
            }
            if !legacy.is_empty() {
                policy.warnings.push(format!(
                    "{} ignored: [{POLICY_KEY}] is set, and it alone is the plugin policy; remove the old keys",
                    legacy_list(config, &legacy)
                ));
            }
            return Ok(policy);
        }
        if legacy.is_empty() {
            return Ok(policy);
        }
        let path = KeyPath::from_keys([LEGACY_POLICY_KEY]);
        for key in &legacy {
            if let Some(value) = config.get(&[LEGACY_POLICY_KEY, key]) {
                policy.set(config, &path, key, value)?;
            }
        }
        policy.legacy = true;
        policy.warnings.push(format!(
            "{} is the old place of the plugin policy, which Codex refuses; \
             move these keys to a [{POLICY_KEY}] table (same names and values)",
            legacy_list(config, &legacy)
        ));
        Ok(policy)
    }

    /// Sets one policy key from `value`, found under the table at `table`.
    fn set(
        &mut self,
        config: &LoadedConfig,
        table: &KeyPath,
        key: &str,
        value: &toml::Value,
    ) -> Result<(), ConfigError> {
        let key_path = table.key(key);
        match key {
            "allow" => self.allow = Some(string_list(config, key_path, value)?),
            "deny" => self.deny = string_list(config, key_path, value)?,
            _ => {
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
                            self.sha256.insert(name.clone(), digest);
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
        }
        Ok(())
    }

    /// The config key of the digest pin of plugin `name`, for messages.
    pub fn pin_key(&self, name: &str) -> String {
        format!("{}.sha256.{name}", self.table_name())
    }

    /// The table the policy's keys are named by in messages.
    fn table_name(&self) -> &'static str {
        if self.legacy {
            LEGACY_POLICY_KEY
        } else {
            POLICY_KEY
        }
    }

    /// Why `name` may not load, if it may not.
    pub fn refusal(&self, name: &str) -> Option<String> {
        if self.deny.iter().any(|denied| denied == name) {
            return Some(format!("denied by `{}.deny` in config", self.table_name()));
        }
        if let Some(allow) = &self.allow
            && !allow.iter().any(|allowed| allowed == name)
        {
            return Some(format!("not in `{}.allow` in config", self.table_name()));
        }
        None
    }
}

/// The policy keys present in the legacy `[plugins]` table. Everything
/// else there (Codex's `"NAME@MARKETPLACE"` tables) is not ours to judge.
fn legacy_policy_keys(config: &LoadedConfig) -> Vec<String> {
    match config.get(&[LEGACY_POLICY_KEY]) {
        Some(toml::Value::Table(table)) => POLICY_KEYS
            .iter()
            .filter(|key| table.contains_key(**key))
            .map(|key| key.to_string())
            .collect(),
        _ => Vec::new(),
    }
}

/// `` `plugins.allow` (at FILE:LINE:COL) `` for each key, joined.
fn legacy_list(config: &LoadedConfig, keys: &[String]) -> String {
    keys.iter()
        .map(|key| {
            let path = KeyPath::from_keys([LEGACY_POLICY_KEY, key.as_str()]);
            format!(
                "`{LEGACY_POLICY_KEY}.{key}` (at {})",
                config.locate(&path, SpanTarget::Key)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
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
        let policy =
            policy("[plugin_policy]\nallow = [\"stdio\", \"acme\"]\ndeny = [\"acme\"]").unwrap();
        assert_eq!(policy.refusal("stdio"), None);
        assert!(
            policy
                .refusal("acme")
                .unwrap()
                .contains("plugin_policy.deny")
        );
        assert!(
            policy
                .refusal("file")
                .unwrap()
                .contains("plugin_policy.allow")
        );
        assert!(policy.warnings.is_empty());
    }

    #[test]
    fn pins_must_be_sha256_hex() {
        let error = policy("[plugin_policy.sha256]\nstdio = \"abc\"")
            .unwrap_err()
            .to_string();
        assert!(error.contains("config.toml:2:"), "{error}");
        assert!(error.contains("plugin_policy.sha256.stdio"), "{error}");
        let digest = "A".repeat(64);
        let policy = policy(&format!("[plugin_policy.sha256]\nstdio = \"{digest}\"")).unwrap();
        assert_eq!(policy.sha256["stdio"], "a".repeat(64));
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_errors_at_their_place() {
        let error = policy("[plugin_policy]\nalow = []")
            .unwrap_err()
            .to_string();
        assert!(error.contains("plugin_policy.alow"), "{error}");
        assert!(error.contains("config.toml:2:1"), "{error}");
        let error = policy("plugin_dirs = \"/x\"").unwrap_err().to_string();
        assert!(error.contains("config.toml:1:"), "{error}");
        assert!(error.contains("plugin_dirs"), "{error}");
    }

    #[test]
    fn the_legacy_keys_still_apply_with_a_warning_and_codex_entries_pass() {
        let legacy =
            policy("[plugins]\ndeny = [\"acme\"]\n[plugins.\"demo@mkt\"]\nenabled = true\n")
                .unwrap();
        assert!(legacy.refusal("acme").unwrap().contains("`plugins.deny`"));
        assert_eq!(legacy.warnings.len(), 1, "{:?}", legacy.warnings);
        assert!(
            legacy.warnings[0].contains("`plugins.deny` (at "),
            "{:?}",
            legacy.warnings
        );
        assert!(
            legacy.warnings[0].contains("[plugin_policy]"),
            "{:?}",
            legacy.warnings
        );

        let only_codex = policy("[plugins.\"demo@mkt\"]\nenabled = true\n").unwrap();
        assert!(only_codex.warnings.is_empty());
        assert_eq!(only_codex.refusal("anything"), None);
    }

    #[test]
    fn the_new_table_wins_over_legacy_keys() {
        let policy =
            policy("[plugins]\ndeny = [\"a\"]\n[plugin_policy]\ndeny = [\"b\"]\n").unwrap();
        assert_eq!(policy.refusal("a"), None);
        assert!(policy.refusal("b").is_some());
        assert!(
            policy.warnings[0].contains("ignored"),
            "{:?}",
            policy.warnings
        );
    }
}
