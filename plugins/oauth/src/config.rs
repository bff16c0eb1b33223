//! What a login reads: the server's table (the HTTP keys plus `scopes` and
//! `oauth_resource`) and the login options the host hands over (flags over
//! config, see `LoginRequest::options_json`).

use codex_http_common::HttpConfig;
use codex_plugin_api::{PluginError, PluginResult};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

/// One OAuth-protected server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The server's name.
    pub name: String,
    /// The HTTP keys (`url`, headers).
    pub http: HttpConfig,
    /// `url` as written in the config: the credential key is made of it,
    /// as Codex makes it.
    pub url_text: String,
    /// `scopes`: the scopes to request; an empty list requests none.
    pub scopes: Option<Vec<String>>,
    /// `oauth_resource`: the RFC 8707 resource to request tokens for.
    pub oauth_resource: Option<String>,
}

impl ServerConfig {
    /// Reads the table of server `name` from `config_json`.
    pub fn parse(name: &str, config_json: &str) -> PluginResult<ServerConfig> {
        let http = HttpConfig::parse(name, config_json)?;
        let table: Map<String, Value> = serde_json::from_str(config_json).unwrap_or_default();
        let base = format!("mcp_servers.{name}");
        let url_text = string(&table, "url", &base)?.unwrap_or_else(|| http.url.to_string());
        Ok(ServerConfig {
            name: name.to_owned(),
            http,
            url_text,
            scopes: string_list(&table, "scopes", &base)?,
            oauth_resource: string(&table, "oauth_resource", &base)?
                .filter(|resource| !resource.trim().is_empty()),
        })
    }

    /// The server URL as the credential key and the messages use it.
    pub fn url(&self) -> &str {
        &self.url_text
    }
}

/// How a client is registered with the authorization server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Registration {
    /// Pre-registered, else a client ID metadata document, else dynamic.
    #[default]
    Auto,
    /// A client ID metadata document only.
    Cimd,
    /// Dynamic client registration (RFC 7591) only.
    Dcr,
}

/// The options of one login.
#[derive(Default, Clone)]
pub struct LoginOptions {
    /// `--scopes`: overrides every other source of scopes.
    pub scopes: Option<Vec<String>>,
    /// Print the URL and read the pasted callback URL instead of listening.
    pub no_browser: bool,
    /// A pre-registered client.
    pub client_id: Option<String>,
    /// Its secret.
    pub client_secret: Option<Zeroizing<String>>,
    /// `--oauth-resource`.
    pub resource: Option<String>,
    pub registration: Registration,
    /// The loopback port to listen on (0 or none: any free port).
    pub callback_port: Option<u16>,
    /// A redirect URI used verbatim (`mcp_oauth_callback_url`).
    pub callback_url: Option<String>,
    /// The URL of this client's metadata document (`mcp_oauth_client_metadata_url`).
    pub client_metadata_url: Option<String>,
}

impl std::fmt::Debug for LoginOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginOptions")
            .field("scopes", &self.scopes)
            .field("no_browser", &self.no_browser)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "****"),
            )
            .field("registration", &self.registration)
            .field("callback_port", &self.callback_port)
            .finish_non_exhaustive()
    }
}

impl LoginOptions {
    /// Reads the options JSON; unknown keys are ignored, wrong types are errors.
    pub fn parse(json: &str) -> PluginResult<LoginOptions> {
        let base = "login options";
        let table: Map<String, Value> = match serde_json::from_str(json) {
            Ok(Value::Object(table)) => table,
            _ => {
                return Err(PluginError::invalid_config(
                    "the login options handed to the oauth plugin are not a JSON object",
                ));
            }
        };
        let registration = match string(&table, "registration", base)?.as_deref() {
            None | Some("auto") => Registration::Auto,
            Some("cimd") => Registration::Cimd,
            Some("dcr") => Registration::Dcr,
            Some(other) => {
                return Err(PluginError::invalid_config(format!(
                    "unknown client registration `{other}`; expected `auto`, `cimd` or `dcr`"
                )));
            }
        };
        let callback_port = match table.get("callback_port") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .and_then(|port| u16::try_from(port).ok())
                    .ok_or_else(|| {
                        PluginError::invalid_config(
                            "the callback port must be a number between 0 and 65535",
                        )
                    })?,
            ),
        };
        Ok(LoginOptions {
            scopes: string_list(&table, "scopes", base)?,
            no_browser: table
                .get("no_browser")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            client_id: string(&table, "client_id", base)?.filter(|id| !id.is_empty()),
            client_secret: string(&table, "client_secret", base)?
                .filter(|secret| !secret.is_empty())
                .map(Zeroizing::new),
            resource: string(&table, "resource", base)?.filter(|r| !r.trim().is_empty()),
            registration,
            callback_port: callback_port.filter(|port| *port != 0),
            callback_url: string(&table, "callback_url", base)?,
            client_metadata_url: string(&table, "client_metadata_url", base)?,
        })
    }
}

fn string(table: &Map<String, Value>, key: &str, base: &str) -> PluginResult<Option<String>> {
    match table.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(PluginError::invalid_config(format!(
            "{base}: `{key}` must be a string"
        ))),
    }
}

fn string_list(
    table: &Map<String, Value>,
    key: &str,
    base: &str,
) -> PluginResult<Option<Vec<String>>> {
    match table.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_owned).ok_or_else(|| {
                    PluginError::invalid_config(format!(
                        "{base}: `{key}` must be a list of strings"
                    ))
                })
            })
            .collect::<PluginResult<Vec<String>>>()
            .map(Some),
        Some(_) => Err(PluginError::invalid_config(format!(
            "{base}: `{key}` must be a list of strings"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_table_gives_scopes_and_resource() {
        let server = ServerConfig::parse(
            "docs",
            r#"{"url":"https://example.com/mcp","scopes":["a","b"],"oauth_resource":"https://example.com"}"#,
        )
        .unwrap();
        assert_eq!(
            server.scopes.as_deref(),
            Some(&["a".to_owned(), "b".to_owned()][..])
        );
        assert_eq!(
            server.oauth_resource.as_deref(),
            Some("https://example.com")
        );
        let error =
            ServerConfig::parse("docs", r#"{"url":"https://x/","scopes":"a"}"#).unwrap_err();
        assert_eq!(
            error.message.as_str(),
            "mcp_servers.docs: `scopes` must be a list of strings"
        );
    }

    #[test]
    fn options_are_read_and_checked() {
        let options = LoginOptions::parse(
            r#"{"scopes":[],"no_browser":true,"client_id":"c","client_secret":"s","registration":"dcr","callback_port":0,"unknown":1}"#,
        )
        .unwrap();
        assert_eq!(options.scopes, Some(vec![]));
        assert!(options.no_browser);
        assert_eq!(
            options.client_secret.as_deref().map(String::as_str),
            Some("s")
        );
        assert_eq!(options.registration, Registration::Dcr);
        assert_eq!(options.callback_port, None);
        for (bad, expected) in [
            (r#"{"registration":"x"}"#, "unknown client registration `x`"),
            (r#"{"callback_port":70000}"#, "the callback port must be"),
            (r#"[]"#, "not a JSON object"),
        ] {
            let message = LoginOptions::parse(bad).unwrap_err().message.to_string();
            assert!(message.contains(expected), "{bad}: {message}");
        }
    }
}
