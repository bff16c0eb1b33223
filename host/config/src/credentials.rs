//! What the configuration says about credential stores (the keys are read
//! here, with their places; the stores themselves are `codex-credentials`):
//!
//! ```toml
//! mcp_oauth_credentials_store = "auto"     # auto | file | keyring | ephemeral | a backend name
//! cli_auth_credentials_store = "file"      # the same choices; Codex's default is "file"
//! credential_chain = ["acme-vault", "keyring", "file"]   # what `auto` means (default: keyring, file)
//!
//! [credential_backends.keyring]            # options handed to a backend, as JSON
//! store = "keyutils"
//!
//! [credential_backends.work-pass]          # a second instance of a backend under its own name
//! backend = "helper"
//! program = "docker-credential-pass"
//! ```

use std::time::Duration;

use codex_credential_names::timeout::{TIMEOUT_SECS_RULE, timeout_secs};

use crate::span::SpanTarget;
use crate::{ConfigError, KeyPath, LoadedConfig};
use serde_json::{Map, Value as Json};
use toml::Value as Toml;

/// What secrets a store is for; each purpose has its own config key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// MCP OAuth tokens (`mcp_oauth_credentials_store`, default `auto`).
    McpOAuth,
    /// The CLI's login (`cli_auth_credentials_store`, default `file`).
    CliAuth,
}

impl Purpose {
    /// The config key selecting the store.
    pub fn config_key(self) -> &'static str {
        match self {
            Purpose::McpOAuth => "mcp_oauth_credentials_store",
            Purpose::CliAuth => "cli_auth_credentials_store",
        }
    }

    /// The value when the key is not set (Codex's defaults).
    pub fn default_value(self) -> &'static str {
        match self {
            Purpose::McpOAuth => AUTO,
            Purpose::CliAuth => FILE,
        }
    }
}

/// The value that means "the chain".
pub const AUTO: &str = "auto";
/// The built-in file store.
pub const FILE: &str = "file";
/// The OS keyring.
pub const KEYRING: &str = "keyring";
/// Memory of this process only.
pub const EPHEMERAL: &str = "ephemeral";
/// The config key of the chain.
pub const CHAIN_KEY: &str = "credential_chain";
/// The table of backend options.
pub const BACKENDS_KEY: &str = "credential_backends";

/// The stores a purpose uses, from config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The config key that chose them.
    pub key: &'static str,
    /// Its value (`auto`, `file`, a backend name, ...).
    pub value: String,
    /// The stores, in order: one, or the chain for `auto`.
    pub members: Vec<String>,
}

impl Selection {
    /// Whether the stores form a chain (`auto`): an unreachable store is
    /// skipped with a warning instead of failing.
    pub fn is_chain(&self) -> bool {
        self.value == AUTO
    }
}

/// Reads the selection for `purpose`.
pub fn selection(config: &LoadedConfig, purpose: Purpose) -> Result<Selection, ConfigError> {
    let key = purpose.config_key();
    let value = match config.merged().get(key) {
        None => purpose.default_value().to_owned(),
        Some(Toml::String(value)) if is_store_name(value) => value.clone(),
        Some(_) => {
            return Err(config.invalid(
                KeyPath::from_keys([key]),
                SpanTarget::Value,
                format!(
                    "expected \"auto\", \"file\", \"keyring\", \"ephemeral\" or the name of a \
                     credential backend (letters, digits, '-' and '_'; `codex plugin list` shows \
                     the loaded ones); the default is \"{}\"",
                    purpose.default_value()
                ),
            ));
        }
    };
    let members = if value == AUTO {
        chain(config)?
    } else {
        vec![value.clone()]
    };
    Ok(Selection {
        key,
        value,
        members,
    })
}

/// `credential_chain`, or the default chain: the keyring, then the file.
fn chain(config: &LoadedConfig) -> Result<Vec<String>, ConfigError> {
    let Some(value) = config.merged().get(CHAIN_KEY) else {
        return Ok(vec![KEYRING.to_owned(), FILE.to_owned()]);
    };
    let path = KeyPath::from_keys([CHAIN_KEY]);
    let Toml::Array(items) = value else {
        return Err(config.invalid(
            path,
            SpanTarget::Value,
            "expected a list of store names, such as [\"acme-vault\", \"keyring\", \"file\"]",
        ));
    };
    if items.is_empty() {
        return Err(config.invalid(
            path,
            SpanTarget::Value,
            "the chain is empty; list at least one store, such as [\"keyring\", \"file\"]",
        ));
    }
    let mut members: Vec<String> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let name = match item.as_str() {
            Some(name) if name == AUTO => {
                return Err(config.invalid(
                    path.index(index),
                    SpanTarget::Value,
                    "\"auto\" cannot be part of the chain: the chain is what \"auto\" means",
                ));
            }
            Some(name) if is_store_name(name) => name.to_owned(),
            _ => {
                return Err(config.invalid(
                    path.index(index),
                    SpanTarget::Value,
                    "expected a store name (\"file\", \"keyring\", \"ephemeral\" or a credential \
                     backend's name)",
                ));
            }
        };
        if members.contains(&name) {
            return Err(config.invalid(
                path.index(index),
                SpanTarget::Value,
                format!("`{name}` is listed twice"),
            ));
        }
        members.push(name);
    }
    Ok(members)
}

fn is_store_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// How one store name maps to a plugin's backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendConfig {
    /// The backend a plugin declares (`keyring`, `helper`, `acme-vault`).
    pub backend: String,
    /// Its options: `[credential_backends.NAME]` less `backend`, as JSON.
    pub options_json: String,
    /// How long the host waits for one call into the backend: its
    /// `timeout_secs` option (which the backend gets too) and a grace for
    /// the backend to report its own timeout, else [`DEFAULT_CALL_LIMIT`].
    pub call_limit: Duration,
}

/// How long the host waits for a call into a credential backend whose
/// table sets no `timeout_secs`: longer than every bundled backend's own
/// deadline (keyring 10 s, helper 30 s, file lock 30 s).
pub const DEFAULT_CALL_LIMIT: Duration = Duration::from_secs(60);

/// What the host adds to a backend's `timeout_secs`, so that a backend that
/// keeps its deadline reports its own (more precise) timeout first.
const CALL_LIMIT_GRACE: Duration = Duration::from_secs(5);

/// The backend and options for store `name`.
pub fn backend_config(config: &LoadedConfig, name: &str) -> Result<BackendConfig, ConfigError> {
    let path = KeyPath::from_keys([BACKENDS_KEY, name]);
    let table = match config.merged().get(BACKENDS_KEY) {
        None => None,
        Some(Toml::Table(backends)) => backends.get(name),
        Some(_) => {
            return Err(config.invalid(
                KeyPath::from_keys([BACKENDS_KEY]),
                SpanTarget::Value,
                "expected a table of backend tables, such as [credential_backends.keyring]",
            ));
        }
    };
    let Some(table) = table else {
        return Ok(BackendConfig {
            backend: name.to_owned(),
            options_json: "{}".to_owned(),
            call_limit: DEFAULT_CALL_LIMIT,
        });
    };
    let Toml::Table(table) = table else {
        return Err(config.invalid(
            path,
            SpanTarget::Value,
            "expected a table of options for this credential backend",
        ));
    };
    let mut backend = name.to_owned();
    let mut options = Map::new();
    let mut call_limit = DEFAULT_CALL_LIMIT;
    for (key, value) in table {
        if key == "timeout_secs" {
            let seconds = match value {
                Toml::Integer(number) => Some(*number as f64),
                Toml::Float(number) => Some(*number),
                _ => None,
            };
            match seconds.and_then(timeout_secs) {
                Some(timeout) => call_limit = timeout + CALL_LIMIT_GRACE,
                None => {
                    return Err(config.invalid(
                        path.key("timeout_secs"),
                        SpanTarget::Value,
                        format!("expected {TIMEOUT_SECS_RULE}, such as 10"),
                    ));
                }
            }
        }
        if key == "backend" {
            match value.as_str() {
                Some(chosen) if is_store_name(chosen) => backend = chosen.to_owned(),
                _ => {
                    return Err(config.invalid(
                        path.key("backend"),
                        SpanTarget::Value,
                        "expected the name of a credential backend a plugin provides, such as \
                         \"helper\"",
                    ));
                }
            }
        } else {
            options.insert(key.clone(), crate::toml_value::to_json(value));
        }
    }
    Ok(BackendConfig {
        backend,
        options_json: Json::Object(options).to_string(),
        call_limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConfigLayer, ConfigPaths, LayerKind};

    fn loaded(text: &str) -> (tempfile::TempDir, LoadedConfig) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        let layer = ConfigLayer::from_file(LayerKind::User, &path).unwrap();
        let paths = ConfigPaths::with_defaults(dir.path().to_path_buf());
        (dir, LoadedConfig::from_layers(paths, vec![layer]))
    }

    #[test]
    fn defaults_are_codexs() {
        let (_dir, config) = loaded("");
        let mcp = selection(&config, Purpose::McpOAuth).unwrap();
        assert_eq!(mcp.value, "auto");
        assert_eq!(mcp.members, ["keyring", "file"]);
        assert!(mcp.is_chain());
        let cli = selection(&config, Purpose::CliAuth).unwrap();
        assert_eq!(cli.members, ["file"]);
        assert!(!cli.is_chain());
    }

    #[test]
    fn the_chain_is_what_auto_means() {
        let (_dir, config) = loaded(
            "credential_chain = [\"acme-vault\", \"file\"]\ncli_auth_credentials_store = \"auto\"\n\
             mcp_oauth_credentials_store = \"keyring\"\n",
        );
        assert_eq!(
            selection(&config, Purpose::CliAuth).unwrap().members,
            ["acme-vault", "file"]
        );
        assert_eq!(
            selection(&config, Purpose::McpOAuth).unwrap().members,
            ["keyring"]
        );
    }

    #[test]
    fn bad_values_are_located_errors() {
        let (_dir, config) = loaded("mcp_oauth_credentials_store = \"a b\"\n");
        let text = selection(&config, Purpose::McpOAuth)
            .unwrap_err()
            .to_string();
        assert!(text.contains("config.toml:1:"), "{text}");
        assert!(text.contains("mcp_oauth_credentials_store"), "{text}");

        let (_dir, config) = loaded("credential_chain = [\"keyring\", \"auto\"]\n");
        let text = selection(&config, Purpose::McpOAuth)
            .unwrap_err()
            .to_string();
        assert!(text.contains("credential_chain[1]"), "{text}");
        assert!(text.contains("cannot be part of the chain"), "{text}");

        let (_dir, config) = loaded("credential_chain = [\"file\", \"file\"]\n");
        let text = selection(&config, Purpose::McpOAuth)
            .unwrap_err()
            .to_string();
        assert!(text.contains("`file` is listed twice"), "{text}");

        let (_dir, config) = loaded("credential_chain = []\n");
        assert!(selection(&config, Purpose::McpOAuth).is_err());
    }

    #[test]
    fn backend_tables_become_options_and_may_alias_a_backend() {
        let (_dir, config) = loaded(
            "[credential_backends.keyring]\nstore = \"keyutils\"\ntimeout_secs = 2\n\
             [credential_backends.work-pass]\nbackend = \"helper\"\nprogram = \"docker-credential-pass\"\n",
        );
        let keyring = backend_config(&config, "keyring").unwrap();
        assert_eq!(keyring.backend, "keyring");
        assert_eq!(
            serde_json::from_str::<Json>(&keyring.options_json).unwrap(),
            serde_json::json!({"store": "keyutils", "timeout_secs": 2})
        );
        let pass = backend_config(&config, "work-pass").unwrap();
        assert_eq!(pass.backend, "helper");
        assert_eq!(pass.options_json, r#"{"program":"docker-credential-pass"}"#);
        let file = backend_config(&config, "file").unwrap();
        assert_eq!(file.options_json, "{}");
    }

    #[test]
    fn timeout_secs_bounds_the_hosts_wait_too() {
        let (_dir, config) = loaded(
            "[credential_backends.keyring]
timeout_secs = 2
             [credential_backends.slow]
backend = \"helper\"
timeout_secs = 0.5
",
        );
        let keyring = backend_config(&config, "keyring").unwrap();
        assert_eq!(
            keyring.call_limit,
            Duration::from_secs(2) + CALL_LIMIT_GRACE
        );
        let slow = backend_config(&config, "slow").unwrap();
        assert_eq!(
            slow.call_limit,
            Duration::from_millis(500) + CALL_LIMIT_GRACE
        );
        assert_eq!(
            backend_config(&config, "file").unwrap().call_limit,
            DEFAULT_CALL_LIMIT
        );
        for bad in ["0", "-1", "\"10\"", "1e9"] {
            let (_dir, config) = loaded(&format!(
                "[credential_backends.keyring]\ntimeout_secs = {bad}\n"
            ));
            let text = backend_config(&config, "keyring").unwrap_err().to_string();
            assert!(
                text.contains("credential_backends.keyring.timeout_secs"),
                "{bad}: {text}"
            );
        }
    }
}
