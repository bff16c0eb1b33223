//! What a login reads: the server's table (the HTTP keys plus `scopes`,
//! `oauth_resource` and Codex's `[oauth]` pre-registered client) and the
//! login options the host hands over (flags and the `mcp_oauth_*` config,
//! see `LoginRequest::options_json`); [`LoginOptions::for_server`] puts
//! the two together.

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
    /// `[oauth]`: a client registered beforehand.
    pub client: PreRegistered,
}

/// `[mcp_servers.NAME.oauth]`, Codex's keys.
#[derive(Clone, Default)]
pub struct PreRegistered {
    pub client_id: Option<String>,
    pub client_secret: Option<Zeroizing<String>>,
    pub callback_port: Option<u16>,
    pub callback_url: Option<String>,
}

impl std::fmt::Debug for PreRegistered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreRegistered")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "****"),
            )
            .field("callback_port", &self.callback_port)
            .field("callback_url", &self.callback_url)
            .finish()
    }
}

impl PreRegistered {
    fn parse(table: &Map<String, Value>, base: &str) -> PluginResult<PreRegistered> {
        let Some(value) = table.get("oauth") else {
            return Ok(PreRegistered::default());
        };
        let base = format!("{base}.oauth");
        let Value::Object(oauth) = value else {
            return Err(PluginError::invalid_config(format!(
                "{base} must be a table"
            )));
        };
        let callback_port = match oauth.get("callback_port") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .and_then(|port| u16::try_from(port).ok())
                    .ok_or_else(|| {
                        PluginError::invalid_config(format!(
                            "{base}.callback_port must be a port number"
                        ))
                    })?,
            ),
        };
        Ok(PreRegistered {
            client_id: string(oauth, "client_id", &base)?.filter(|id| !id.trim().is_empty()),
            client_secret: string(oauth, "client_secret", &base)?
                .filter(|secret| !secret.is_empty())
                .map(Zeroizing::new),
            callback_port,
            callback_url: string(oauth, "callback_url", &base)?,
        })
    }
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
            client: PreRegistered::parse(&table, &base)?,
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

/// How a login gets its tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Grant {
    /// A person approves in a browser: the authorization-code flow with PKCE.
    #[default]
    AuthorizationCode,
    /// The client alone (RFC 6749 section 4.4), with a secret or a signed
    /// assertion (RFC 7523): no person, no browser.
    ClientCredentials,
    /// A person approves on another device (RFC 8628).
    Device,
    /// An ID token of the company's identity provider, exchanged there for
    /// an ID-JAG (RFC 8693), then for an access token (RFC 7523).
    IdJag,
}

impl Grant {
    /// The name in login options and stored records.
    pub fn as_str(self) -> &'static str {
        match self {
            Grant::AuthorizationCode => "authorization_code",
            Grant::ClientCredentials => "client_credentials",
            Grant::Device => "device_code",
            Grant::IdJag => "id_jag",
        }
    }

    /// The grant named `name`.
    pub fn from_name(name: &str) -> Option<Grant> {
        [
            Grant::AuthorizationCode,
            Grant::ClientCredentials,
            Grant::Device,
            Grant::IdJag,
        ]
        .into_iter()
        .find(|grant| grant.as_str() == name)
    }
}

/// The options of one login.
#[derive(Default, Clone)]
pub struct LoginOptions {
    /// How the tokens are obtained.
    pub grant: Grant,
    /// `--private-key FILE`: the client authenticates with a JWT signed by
    /// this key (`private_key_jwt`, RFC 7523 section 2.2).
    pub private_key_file: Option<String>,
    /// `--signing-algorithm`: the JWS algorithm of that assertion (default:
    /// the one the key's type implies).
    pub signing_algorithm: Option<String>,
    /// `--id-token-file FILE`: where the identity provider's ID token is
    /// (re-read whenever a new access token is needed).
    pub id_token_file: Option<String>,
    /// `--idp-url`: the identity provider's issuer.
    pub idp_url: Option<String>,
    /// `--idp-client-id`: this client at the identity provider.
    pub idp_client_id: Option<String>,
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
    /// The loopback port to listen on (`--callback-port`; none: any free port).
    pub callback_port: Option<u16>,
    /// `mcp_oauth_callback_port`, below the server's own `callback_port`.
    pub config_callback_port: Option<u16>,
    /// The redirect URI (`mcp_oauth_callback_url`); a loopback one without
    /// a port gets the listener's.
    pub callback_url: Option<String>,
    /// The URL of this client's metadata document (`mcp_oauth_client_metadata_url`).
    pub client_metadata_url: Option<String>,
}

impl std::fmt::Debug for LoginOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginOptions")
            .field("grant", &self.grant)
            .field("private_key_file", &self.private_key_file)
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
    /// These options with the server's `[oauth]` client filled in where the
    /// flags name none, as Codex uses it: its `client_id` and
    /// `client_secret` (no registration), its `callback_port` over
    /// `mcp_oauth_callback_port`, and its `callback_url` (by default Codex's
    /// `{mcp_oauth_callback_url or http://127.0.0.1/callback}/{callback ID}`,
    /// the URI `codex mcp add` tells the user to register).
    pub fn for_server(&self, server: &ServerConfig) -> PluginResult<LoginOptions> {
        let mut options = self.clone();
        let table = &server.client;
        if table.callback_port == Some(0) {
            return Err(PluginError::invalid_config(
                "invalid MCP OAuth callback port `0`: port must be between 1 and 65535",
            ));
        }
        options.callback_port = self
            .callback_port
            .or(table.callback_port)
            .or(self.config_callback_port);
        if self.client_id.is_none()
            && let Some(client_id) = &table.client_id
        {
            options.client_id = Some(client_id.clone());
            // A secret given with the login (a client ID from the table
            // with the secret on stdin) wins over the table's.
            options.client_secret = self
                .client_secret
                .clone()
                .or_else(|| table.client_secret.clone());
            let base = self
                .callback_url
                .as_deref()
                .unwrap_or("http://127.0.0.1/callback")
                .trim_end_matches('/');
            options.callback_url = Some(table.callback_url.clone().unwrap_or_else(|| {
                format!(
                    "{base}/{}",
                    codex_credential_names::mcp_callback_id(server.url())
                )
            }));
        }
        Ok(options)
    }

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
        let port = |key: &str| match table.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value
                .as_u64()
                .and_then(|port| u16::try_from(port).ok())
                .map(Some)
                .ok_or_else(|| {
                    PluginError::invalid_config(
                        "the callback port must be a number between 0 and 65535",
                    )
                }),
        };
        let grant = match string(&table, "grant", base)?.as_deref() {
            None => Grant::AuthorizationCode,
            Some(name) => Grant::from_name(name).ok_or_else(|| {
                PluginError::invalid_config(format!(
                    "unknown grant `{name}`; expected `authorization_code`, `client_credentials`, `device_code` or `id_jag`"
                ))
            })?,
        };
        let path = |key: &str| -> PluginResult<Option<String>> {
            Ok(string(&table, key, base)?.filter(|path| !path.trim().is_empty()))
        };
        Ok(LoginOptions {
            grant,
            private_key_file: path("private_key_file")?,
            signing_algorithm: string(&table, "signing_algorithm", base)?,
            id_token_file: path("id_token_file")?,
            idp_url: path("idp_url")?,
            idp_client_id: string(&table, "idp_client_id", base)?.filter(|id| !id.is_empty()),
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
            callback_port: port("callback_port")?.filter(|port| *port != 0),
            config_callback_port: port("config_callback_port")?.filter(|port| *port != 0),
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
    fn the_oauth_table_names_the_client_unless_a_flag_does() {
        let server = ServerConfig::parse(
            "corp",
            r#"{"url":"http://127.0.0.1:1/mcp","oauth":{"client_id":"cid","client_secret":"s3cret","callback_port":5555}}"#,
        )
        .unwrap();
        assert!(!format!("{:?}", server.client).contains("s3cret"));
        let config = LoginOptions::parse(r#"{"config_callback_port":7000}"#).unwrap();
        let merged = config.for_server(&server).unwrap();
        assert_eq!(merged.client_id.as_deref(), Some("cid"));
        assert_eq!(
            merged.client_secret.as_deref().map(String::as_str),
            Some("s3cret")
        );
        // The server's port over `mcp_oauth_callback_port`; Codex's path.
        assert_eq!(merged.callback_port, Some(5555));
        assert_eq!(
            merged.callback_url.as_deref(),
            Some("http://127.0.0.1/callback/4ncvuG_qJEiw")
        );
        let flagged = LoginOptions::parse(r#"{"client_id":"other","callback_port":6000}"#)
            .unwrap()
            .for_server(&server)
            .unwrap();
        assert_eq!(flagged.client_id.as_deref(), Some("other"));
        assert!(flagged.client_secret.is_none());
        assert_eq!(flagged.callback_port, Some(6000));
        assert_eq!(flagged.callback_url, None);
        let plain = ServerConfig::parse("p", r#"{"url":"http://127.0.0.1:1/mcp"}"#).unwrap();
        let unchanged = config.for_server(&plain).unwrap();
        assert_eq!(unchanged.client_id, None);
        assert_eq!(unchanged.callback_port, Some(7000));
        let zero = ServerConfig::parse(
            "z",
            r#"{"url":"http://127.0.0.1:1/mcp","oauth":{"client_id":"c","callback_port":0}}"#,
        )
        .unwrap();
        let error = config.for_server(&zero).unwrap_err();
        assert!(
            error
                .message
                .contains("invalid MCP OAuth callback port `0`")
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
        assert_eq!(options.grant, Grant::AuthorizationCode);
        let machine = LoginOptions::parse(
            r#"{"grant":"client_credentials","private_key_file":"/k.pem","signing_algorithm":"ES256"}"#,
        )
        .unwrap();
        assert_eq!(machine.grant, Grant::ClientCredentials);
        assert_eq!(machine.private_key_file.as_deref(), Some("/k.pem"));
        for grant in [
            Grant::AuthorizationCode,
            Grant::ClientCredentials,
            Grant::Device,
            Grant::IdJag,
        ] {
            assert_eq!(Grant::from_name(grant.as_str()), Some(grant));
        }
        for (bad, expected) in [
            (r#"{"registration":"x"}"#, "unknown client registration `x`"),
            (r#"{"callback_port":70000}"#, "the callback port must be"),
            (r#"[]"#, "not a JSON object"),
            (r#"{"grant":"implicit"}"#, "unknown grant `implicit`"),
        ] {
            let message = LoginOptions::parse(bad).unwrap_err().message.to_string();
            assert!(message.contains(expected), "{bad}: {message}");
        }
    }
}
