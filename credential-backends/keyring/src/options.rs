//! The options object the host passes when it creates the backend.

use std::time::Duration;

use codex_credential_names::timeout::{TIMEOUT_SECS_RULE, timeout_secs};
use codex_plugin_api::{PluginError, PluginResult};
use serde_json::Value;

/// How long one keyring operation may take by default. A Secret Service
/// whose collection is locked may wait for a password prompt nobody answers;
/// the deadline turns that into an error instead of a hang.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Which OS store the backend uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreChoice {
    /// The platform's persistent store: the Secret Service on Linux and the
    /// BSDs, the Keychain on macOS, the Credential Manager on Windows.
    Native,
    /// The Secret Service over D-Bus (gnome-keyring, KeePassXC, KWallet).
    SecretService,
    /// The Linux kernel keyring (keyutils): always there, but lost at reboot.
    Keyutils,
    /// The Secret Service when it is reachable, else the kernel keyring.
    Auto,
    /// The macOS Keychain.
    Keychain,
    /// The Windows Credential Manager.
    CredentialManager,
}

impl StoreChoice {
    /// The value of the `store` option that selects this choice.
    pub fn option_value(self) -> &'static str {
        match self {
            StoreChoice::Native => "native",
            StoreChoice::SecretService => "secret-service",
            StoreChoice::Keyutils => "keyutils",
            StoreChoice::Auto => "auto",
            StoreChoice::Keychain => "keychain",
            StoreChoice::CredentialManager => "credential-manager",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        [
            StoreChoice::Native,
            StoreChoice::SecretService,
            StoreChoice::Keyutils,
            StoreChoice::Auto,
            StoreChoice::Keychain,
            StoreChoice::CredentialManager,
        ]
        .into_iter()
        .find(|choice| choice.option_value() == value)
    }
}

/// The backend's options: `{"store": "...", "timeout_secs": N}`, every key
/// optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendOptions {
    /// The store to use; [`StoreChoice::Native`] when not set.
    pub store: StoreChoice,
    /// The deadline of one operation.
    pub timeout: Duration,
}

impl Default for BackendOptions {
    fn default() -> Self {
        BackendOptions {
            store: StoreChoice::Native,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

const STORE_VALUES: &str = "\"native\", \"secret-service\", \"keyutils\", \"auto\", \"keychain\" or \"credential-manager\"";

impl BackendOptions {
    /// Parses `options_json`, a JSON object (an empty string counts as `{}`).
    /// Unknown keys are errors, so a misspelt option is not silently ignored.
    pub fn parse(options_json: &str) -> PluginResult<Self> {
        let mut options = Self::default();
        if options_json.trim().is_empty() {
            return Ok(options);
        }
        let value: Value = serde_json::from_str(options_json).map_err(|error| {
            PluginError::invalid_config(format!(
                "the options of credential backend `keyring` are not valid JSON (line {}, column {})",
                error.line(),
                error.column()
            ))
        })?;
        let Value::Object(map) = value else {
            return Err(PluginError::invalid_config(
                "the options of credential backend `keyring` must be a table (a JSON object)",
            ));
        };
        for (key, value) in &map {
            match key.as_str() {
                "store" => {
                    options.store =
                        value.as_str().and_then(StoreChoice::parse).ok_or_else(|| {
                            PluginError::invalid_config(format!(
                                "option `store` of credential backend `keyring` must be one of \
                                 {STORE_VALUES}"
                            ))
                        })?;
                }
                "timeout_secs" => {
                    options.timeout = value.as_f64().and_then(timeout_secs).ok_or_else(|| {
                        PluginError::invalid_config(format!(
                            "option `timeout_secs` of credential backend `keyring` must be \
                             {TIMEOUT_SECS_RULE}"
                        ))
                    })?;
                }
                other => {
                    return Err(PluginError::invalid_config(format!(
                        "unknown option `{other}` for credential backend `keyring`; the options \
                         are `store` and `timeout_secs`"
                    )));
                }
            }
        }
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_plugin_api::ErrorKind;

    #[test]
    fn defaults_and_every_store_value() {
        assert_eq!(
            BackendOptions::parse("").unwrap(),
            BackendOptions::default()
        );
        assert_eq!(
            BackendOptions::parse("{}").unwrap(),
            BackendOptions::default()
        );
        for (text, choice) in [
            ("native", StoreChoice::Native),
            ("secret-service", StoreChoice::SecretService),
            ("keyutils", StoreChoice::Keyutils),
            ("auto", StoreChoice::Auto),
            ("keychain", StoreChoice::Keychain),
            ("credential-manager", StoreChoice::CredentialManager),
        ] {
            let options = BackendOptions::parse(&format!(r#"{{"store": "{text}"}}"#)).unwrap();
            assert_eq!(options.store, choice);
            assert_eq!(choice.option_value(), text);
        }
        let options = BackendOptions::parse(r#"{"timeout_secs": 2.5}"#).unwrap();
        assert_eq!(options.timeout, Duration::from_millis(2500));
    }

    #[test]
    fn bad_options_name_the_key() {
        let error = BackendOptions::parse(r#"{"store": "vault"}"#).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidConfig);
        assert!(
            error.message.contains("option `store`"),
            "{}",
            error.message
        );
        let error = BackendOptions::parse(r#"{"timeout_secs": 0}"#).unwrap_err();
        assert!(
            error.message.contains("`timeout_secs`"),
            "{}",
            error.message
        );
        let error = BackendOptions::parse(r#"{"stroe": "auto"}"#).unwrap_err();
        assert_eq!(
            error.message.as_str(),
            "unknown option `stroe` for credential backend `keyring`; the options are `store` \
             and `timeout_secs`"
        );
        let error = BackendOptions::parse("[1]").unwrap_err();
        assert!(
            error.message.contains("must be a table"),
            "{}",
            error.message
        );
    }
}
