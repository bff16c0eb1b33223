//! The options object the host passes when it creates the backend.

use std::path::PathBuf;

use codex_plugin_api::{PluginError, PluginResult};
use serde_json::Value;

use crate::mcp_record::kind_of;

/// The backend's options: `{"dir": "<path>"}`, every key optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackendOptions {
    /// Where the files live instead of `CODEX_HOME`. A relative path is taken
    /// relative to `CODEX_HOME`.
    pub dir: Option<PathBuf>,
}

impl BackendOptions {
    /// Parses `options_json`, a JSON object (an empty string counts as `{}`).
    /// Unknown keys are errors, so a misspelt option is not silently ignored.
    pub fn parse(options_json: &str) -> PluginResult<Self> {
        if options_json.trim().is_empty() {
            return Ok(Self::default());
        }
        let value: Value = serde_json::from_str(options_json).map_err(|error| {
            PluginError::invalid_config(format!(
                "the options of credential backend `file` are not valid JSON (line {}, column {})",
                error.line(),
                error.column()
            ))
        })?;
        let Value::Object(map) = value else {
            return Err(PluginError::invalid_config(format!(
                "the options of credential backend `file` must be a JSON object, not {}",
                kind_of(&value)
            )));
        };
        let mut options = Self::default();
        for (key, value) in &map {
            match key.as_str() {
                "dir" => match value {
                    Value::String(dir) if !dir.is_empty() => {
                        options.dir = Some(PathBuf::from(dir));
                    }
                    _ => {
                        return Err(PluginError::invalid_config(
                            "option `dir` of credential backend `file` must be a non-empty \
                             string naming a directory",
                        ));
                    }
                },
                other => {
                    return Err(PluginError::invalid_config(format!(
                        "unknown option `{other}` for credential backend `file`; \
                         the only option is `dir`"
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
    fn empty_and_dir_options() {
        assert_eq!(
            BackendOptions::parse("{}").unwrap(),
            BackendOptions::default()
        );
        assert_eq!(
            BackendOptions::parse("").unwrap(),
            BackendOptions::default()
        );
        assert_eq!(
            BackendOptions::parse(r#"{"dir": "/tmp/x"}"#).unwrap().dir,
            Some(PathBuf::from("/tmp/x"))
        );
    }

    #[test]
    fn unknown_and_mistyped_options_are_config_errors() {
        let error = BackendOptions::parse(r#"{"dri": "/tmp"}"#).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidConfig);
        assert_eq!(
            error.message.as_str(),
            "unknown option `dri` for credential backend `file`; the only option is `dir`"
        );
        let error = BackendOptions::parse(r#"{"dir": 3}"#).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidConfig);
        assert!(error.message.contains("`dir`"), "{}", error.message);
        let error = BackendOptions::parse("[]").unwrap_err();
        assert_eq!(
            error.message.as_str(),
            "the options of credential backend `file` must be a JSON object, not an array"
        );
    }
}
