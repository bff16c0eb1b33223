//! The options object the host passes when it creates the backend.

use std::time::Duration;

use codex_credential_names::timeout::{TIMEOUT_SECS_RULE, timeout_secs};
use codex_plugin_api::{PluginError, PluginResult};
use serde_json::Value;

/// How long one run of the helper may take by default. Helpers may ask for a
/// passphrase (gpg for `pass`) or unlock a keychain, so this is generous.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The backend's options: `{"program": "...", "timeout_secs": N}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendOptions {
    /// The helper program: a name looked up on `PATH` (such as
    /// `docker-credential-pass`) or a path.
    pub program: String,
    /// The deadline of one run of the helper.
    pub timeout: Duration,
}

impl BackendOptions {
    /// Parses `options_json`, a JSON object. `program` is required; unknown
    /// keys are errors, so a misspelt option is not silently ignored.
    pub fn parse(backend: &str, options_json: &str) -> PluginResult<Self> {
        let text = if options_json.trim().is_empty() {
            "{}"
        } else {
            options_json
        };
        let value: Value = serde_json::from_str(text).map_err(|error| {
            PluginError::invalid_config(format!(
                "the options of credential backend `{backend}` are not valid JSON (line {}, \
                 column {})",
                error.line(),
                error.column()
            ))
        })?;
        let Value::Object(map) = value else {
            return Err(PluginError::invalid_config(format!(
                "the options of credential backend `{backend}` must be a table (a JSON object)"
            )));
        };
        let mut program = None;
        let mut timeout = DEFAULT_TIMEOUT;
        for (key, value) in &map {
            match key.as_str() {
                "program" => match value.as_str().map(str::trim) {
                    Some(name) if !name.is_empty() => program = Some(name.to_owned()),
                    _ => {
                        return Err(PluginError::invalid_config(format!(
                            "option `program` of credential backend `{backend}` must be a \
                             non-empty string: the helper's name on PATH (such as \
                             \"docker-credential-pass\") or its path"
                        )));
                    }
                },
                "timeout_secs" => {
                    timeout = value.as_f64().and_then(timeout_secs).ok_or_else(|| {
                        PluginError::invalid_config(format!(
                            "option `timeout_secs` of credential backend `{backend}` must be \
                             {TIMEOUT_SECS_RULE}"
                        ))
                    })?;
                }
                other => {
                    return Err(PluginError::invalid_config(format!(
                        "unknown option `{other}` for credential backend `{backend}`; the options \
                         are `program` and `timeout_secs`"
                    )));
                }
            }
        }
        let program = program.ok_or_else(|| {
            PluginError::invalid_config(format!(
                "credential backend `{backend}` needs the option `program`, the docker credential \
                 helper to run; for example in config.toml:\n  [credential_backends.{backend}]\n  \
                 program = \"docker-credential-pass\""
            ))
        })?;
        Ok(BackendOptions { program, timeout })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_plugin_api::ErrorKind;

    #[test]
    fn program_is_required_and_timeout_optional() {
        let options =
            BackendOptions::parse("helper", r#"{"program": "docker-credential-pass"}"#).unwrap();
        assert_eq!(options.program, "docker-credential-pass");
        assert_eq!(options.timeout, DEFAULT_TIMEOUT);
        let options =
            BackendOptions::parse("helper", r#"{"program": "x", "timeout_secs": 1}"#).unwrap();
        assert_eq!(options.timeout, Duration::from_secs(1));

        let error = BackendOptions::parse("helper", "{}").unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidConfig);
        assert!(
            error.message.contains("needs the option `program`"),
            "{}",
            error.message
        );
        assert!(error.message.contains("[credential_backends.helper]"));
    }

    #[test]
    fn bad_options_name_the_key_and_the_backend() {
        let error = BackendOptions::parse("pass", r#"{"program": ""}"#).unwrap_err();
        assert!(
            error
                .message
                .contains("option `program` of credential backend `pass`")
        );
        let error = BackendOptions::parse("pass", r#"{"program": "x", "prog": 1}"#).unwrap_err();
        assert!(
            error.message.contains("unknown option `prog`"),
            "{}",
            error.message
        );
        let error =
            BackendOptions::parse("pass", r#"{"program": "x", "timeout_secs": -1}"#).unwrap_err();
        assert!(error.message.contains("`timeout_secs`"));
    }
}
