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

use anyhow::{Context, Result, bail};

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
    /// Reads `plugin_dirs` and the `[plugins]` table from the merged config.
    pub fn from_config(config: &toml::Table) -> Result<Self> {
        let mut policy = PluginPolicy::default();
        if let Some(dirs) = config.get("plugin_dirs") {
            policy.extra_dirs = string_list(dirs, "plugin_dirs")?
                .into_iter()
                .map(PathBuf::from)
                .collect();
        }
        let Some(table) = config.get("plugins") else {
            return Ok(policy);
        };
        let Some(table) = table.as_table() else {
            bail!("`plugins` must be a table with `allow`, `deny` and `sha256` keys");
        };
        for (key, value) in table {
            match key.as_str() {
                "allow" => policy.allow = Some(string_list(value, "plugins.allow")?),
                "deny" => policy.deny = string_list(value, "plugins.deny")?,
                "sha256" => {
                    let pins = value.as_table().context(
                        "`plugins.sha256` must be a table of plugin name = \"hex digest\"",
                    )?;
                    for (name, digest) in pins {
                        let digest = digest.as_str().with_context(|| {
                            format!("`plugins.sha256.{name}` must be a string of 64 hex digits")
                        })?;
                        let digest = digest.trim().to_ascii_lowercase();
                        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                            bail!(
                                "`plugins.sha256.{name}` must be 64 hex digits (a SHA-256 digest)"
                            );
                        }
                        policy.sha256.insert(name.clone(), digest);
                    }
                }
                other => {
                    bail!("unknown key `plugins.{other}`; expected `allow`, `deny` or `sha256`")
                }
            }
        }
        Ok(policy)
    }

    /// Why `name` may not load, if it may not.
    pub fn refusal(&self, name: &str) -> Option<String> {
        if self.deny.iter().any(|denied| denied == name) {
            return Some("denied by `plugins.deny` in config".to_string());
        }
        if let Some(allow) = &self.allow
            && !allow.iter().any(|allowed| allowed == name)
        {
            return Some("not in `plugins.allow` in config".to_string());
        }
        None
    }
}

fn string_list(value: &toml::Value, key: &str) -> Result<Vec<String>> {
    let items = value
        .as_array()
        .with_context(|| format!("`{key}` must be an array of strings"))?;
    items
        .iter()
        .map(|item| {
            item.as_str()
                .map(str::to_string)
                .with_context(|| format!("`{key}` must be an array of strings"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(text: &str) -> Result<PluginPolicy> {
        PluginPolicy::from_config(&text.parse::<toml::Table>().unwrap())
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
        assert!(policy("[plugins.sha256]\nstdio = \"abc\"").is_err());
        let digest = "A".repeat(64);
        let policy = policy(&format!("[plugins.sha256]\nstdio = \"{digest}\"")).unwrap();
        assert_eq!(policy.sha256["stdio"], "a".repeat(64));
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_errors() {
        assert!(
            policy("[plugins]\nalow = []")
                .unwrap_err()
                .to_string()
                .contains("plugins.alow")
        );
        assert!(policy("plugin_dirs = \"/x\"").is_err());
    }
}
