//! The top-level settings of MCP OAuth logins, as Codex names them:
//!
//! ```toml
//! mcp_oauth_callback_port = 5678                      # the loopback listener's port
//! mcp_oauth_callback_url = "https://login.example/cb"  # the redirect URI, when not loopback
//! mcp_oauth_client_metadata_url = "https://example.com/client.json"  # a client ID metadata document
//! ```

use crate::span::SpanTarget;
use crate::{ConfigError, KeyPath, LoadedConfig};

/// `mcp_oauth_*`, types checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct McpOAuthSettings {
    /// `mcp_oauth_callback_port`: 1 to 65535.
    pub callback_port: Option<u16>,
    /// `mcp_oauth_callback_url`.
    pub callback_url: Option<String>,
    /// `mcp_oauth_client_metadata_url`.
    pub client_metadata_url: Option<String>,
}

/// Reads `mcp_oauth_*` from the merged configuration; a bad value is an
/// error at its place.
pub fn mcp_oauth_settings(config: &LoadedConfig) -> Result<McpOAuthSettings, ConfigError> {
    const PORT: &str = "mcp_oauth_callback_port";
    let callback_port = match config.get(&[PORT]) {
        None => None,
        Some(toml::Value::Integer(port)) => match u16::try_from(*port) {
            Ok(port) if port != 0 => Some(port),
            _ => {
                return Err(config.invalid(
                    KeyPath::from_keys([PORT]),
                    SpanTarget::Value,
                    format!(
                        "invalid MCP OAuth callback port `{port}`: port must be between 1 and 65535"
                    ),
                ));
            }
        },
        Some(other) => {
            return Err(config.invalid(
                KeyPath::from_keys([PORT]),
                SpanTarget::Value,
                format!("expected a whole number (a port), not {}", other.type_str()),
            ));
        }
    };
    Ok(McpOAuthSettings {
        callback_port,
        callback_url: url(config, "mcp_oauth_callback_url")?,
        client_metadata_url: url(config, "mcp_oauth_client_metadata_url")?,
    })
}

/// The redirect URI `codex mcp add --oauth-client-id` writes to
/// `[mcp_servers.NAME.oauth] callback_url` for the user to register with
/// the authorization server, as Codex makes it: `mcp_oauth_callback_url`
/// (default `http://127.0.0.1/callback`, a loopback URI whose port the
/// login fills in) followed by `/` and the server URL's callback ID.
pub fn client_callback_url(settings: &McpOAuthSettings, server_url: &str) -> String {
    let base = settings
        .callback_url
        .as_deref()
        .unwrap_or("http://127.0.0.1/callback");
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        codex_credential_names::mcp_callback_id(server_url)
    )
}

fn url(config: &LoadedConfig, key: &str) -> Result<Option<String>, ConfigError> {
    match config.get(&[key]) {
        None => Ok(None),
        Some(toml::Value::String(value)) => Ok(Some(value.clone())),
        Some(other) => Err(config.invalid(
            KeyPath::from_keys([key]),
            SpanTarget::Value,
            format!("expected a string (a URL), not {}", other.type_str()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConfigLayer, ConfigPaths, LayerKind};

    fn settings(text: &str) -> Result<McpOAuthSettings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        let layer = ConfigLayer::from_file(LayerKind::User, &path).unwrap();
        let paths = ConfigPaths::with_defaults(dir.path().to_path_buf());
        mcp_oauth_settings(&LoadedConfig::from_layers(paths, vec![layer]))
    }

    #[test]
    fn client_callback_urls_are_the_ones_codex_writes() {
        let url = "http://127.0.0.1:1/mcp";
        assert_eq!(
            client_callback_url(&McpOAuthSettings::default(), url),
            "http://127.0.0.1/callback/4ncvuG_qJEiw"
        );
        let configured = McpOAuthSettings {
            callback_url: Some("http://localhost:9999/cb".into()),
            ..McpOAuthSettings::default()
        };
        assert_eq!(
            client_callback_url(&configured, url),
            "http://localhost:9999/cb/4ncvuG_qJEiw"
        );
    }

    #[test]
    fn values_are_read_and_bad_ones_located() {
        let read =
            settings("mcp_oauth_callback_port = 5678\nmcp_oauth_callback_url = \"https://x/cb\"\n")
                .unwrap();
        assert_eq!(read.callback_port, Some(5678));
        assert_eq!(read.callback_url.as_deref(), Some("https://x/cb"));
        assert_eq!(read.client_metadata_url, None);

        for (text, key) in [
            ("mcp_oauth_callback_port = 0\n", "mcp_oauth_callback_port"),
            (
                "mcp_oauth_callback_port = \"1\"\n",
                "mcp_oauth_callback_port",
            ),
            (
                "\nmcp_oauth_client_metadata_url = 3\n",
                "mcp_oauth_client_metadata_url",
            ),
        ] {
            let error = settings(text).unwrap_err().to_string();
            assert!(error.contains("config.toml:"), "{error}");
            assert!(error.contains(key), "{error}");
        }
        let error = settings("mcp_oauth_callback_port = 70000\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("port must be between 1 and 65535"),
            "{error}"
        );
    }
}
