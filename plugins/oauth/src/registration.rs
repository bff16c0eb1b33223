//! Who this client is to the authorization server, in the order the MCP
//! specification recommends: a pre-registered client (`--client-id`), a
//! client ID metadata document (a URL as the client ID), or dynamic client
//! registration (RFC 7591).

use codex_plugin_api::{ErrorKind, PluginError, PluginResult};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::assertion::SigningKey;
use crate::config::{LoginOptions, Registration};
use crate::discovery::AuthServer;
use crate::net::{ClientAuth, Net};

/// How the client authenticates at the token endpoint (RFC 7591 section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    None,
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
}

impl AuthMethod {
    /// The registered name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::None => "none",
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }

    /// The method named `name`; `None` for one this client cannot use.
    pub fn from_name(name: &str) -> Option<AuthMethod> {
        match name {
            "none" => Some(AuthMethod::None),
            "client_secret_basic" => Some(AuthMethod::ClientSecretBasic),
            "client_secret_post" => Some(AuthMethod::ClientSecretPost),
            "private_key_jwt" => Some(AuthMethod::PrivateKeyJwt),
            _ => None,
        }
    }
}

/// A registered client.
#[derive(Debug, Clone)]
pub struct Client {
    pub client_id: String,
    pub client_secret: Option<Zeroizing<String>>,
    pub auth_method: AuthMethod,
    /// For `private_key_jwt`: the key that signs its assertions.
    pub private_key: Option<KeyRef>,
}

/// Where a client's private key is and whom its assertions are for.
#[derive(Debug, Clone)]
pub struct KeyRef {
    /// The PEM file (read for each assertion, never copied).
    pub file: String,
    /// The JWS algorithm, when not the key's default.
    pub algorithm: Option<String>,
    /// The authorization server's issuer identifier: the assertion's `aud`.
    pub audience: String,
}

impl Client {
    /// A client without a secret or a key.
    pub fn public(client_id: String) -> Client {
        Client {
            client_id,
            client_secret: None,
            auth_method: AuthMethod::None,
            private_key: None,
        }
    }

    /// The client authentication of a token request (a fresh signed
    /// assertion for `private_key_jwt`).
    pub fn auth(&self) -> PluginResult<ClientAuth<'_>> {
        let client_id = self.client_id.as_str();
        if self.auth_method == AuthMethod::PrivateKeyJwt
            && let Some(key) = &self.private_key
        {
            let signer = SigningKey::load(&key.file, key.algorithm.as_deref())?;
            return Ok(ClientAuth::Assertion {
                client_id,
                assertion: signer.client_assertion(client_id, &key.audience)?,
            });
        }
        Ok(match (self.auth_method, &self.client_secret) {
            (AuthMethod::ClientSecretBasic, Some(secret)) => ClientAuth::Basic {
                client_id,
                secret: secret.as_str(),
            },
            (AuthMethod::ClientSecretPost, Some(secret)) => ClientAuth::Post {
                client_id,
                secret: secret.as_str(),
            },
            _ => ClientAuth::None { client_id },
        })
    }
}

/// Registers (or names) the client for `auth_server`.
pub async fn register(
    net: &Net,
    auth_server: &AuthServer,
    options: &LoginOptions,
    redirect_uri: Option<&str>,
) -> PluginResult<Client> {
    let server = net.server();
    if let Some(client_id) = &options.client_id {
        let auth_method = match &options.client_secret {
            None => AuthMethod::None,
            Some(_) => secret_method(&auth_server.auth_methods),
        };
        return Ok(Client {
            client_id: client_id.clone(),
            client_secret: options.client_secret.clone(),
            auth_method,
            private_key: None,
        });
    }
    // A metadata document names redirect URIs for the browser flow; a
    // device login (no redirect URI) registers by itself.
    let metadata_document = options
        .client_metadata_url
        .as_ref()
        .filter(|_| auth_server.client_id_metadata_documents && redirect_uri.is_some());
    match (options.registration, metadata_document) {
        (Registration::Auto | Registration::Cimd, Some(url)) => {
            return Ok(Client::public(url.clone()));
        }
        (Registration::Cimd, None) => {
            let why = if options.client_metadata_url.is_none() {
                "no client metadata URL is set (config key `mcp_oauth_client_metadata_url`)"
                    .to_owned()
            } else {
                format!(
                    "the authorization server {} does not accept client ID metadata documents",
                    auth_server.issuer
                )
            };
            return Err(PluginError::invalid_config(format!(
                "cannot register with a client ID metadata document for MCP server `{server}`: {why}; use `--oauth-client-registration auto`"
            )));
        }
        _ => {}
    }
    dynamic(net, auth_server, redirect_uri).await
}

/// `grant_type` of the device flow (RFC 8628 section 3.4).
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Dynamic client registration (RFC 7591): for the browser flow with
/// `redirect_uri`, else for the device flow.
async fn dynamic(
    net: &Net,
    auth_server: &AuthServer,
    redirect_uri: Option<&str>,
) -> PluginResult<Client> {
    let server = net.server();
    let Some(endpoint) = &auth_server.registration_endpoint else {
        return Err(PluginError::new(
            ErrorKind::Unauthorized,
            format!(
                "the authorization server {} of MCP server `{server}` offers no dynamic client registration; register a client with it and run `codex mcp login {server} --client-id ID --client-secret-stdin`",
                auth_server.issuer
            ),
        ));
    };
    let requested = if auth_server.auth_methods.is_empty()
        || auth_server.auth_methods.iter().any(|m| m == "none")
    {
        AuthMethod::None
    } else {
        secret_method(&auth_server.auth_methods)
    };
    let body = match redirect_uri {
        Some(redirect_uri) => json!({
            "client_name": "Codex",
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": requested.as_str(),
            "application_type": "native",
        }),
        None => json!({
            "client_name": "Codex",
            "redirect_uris": [],
            "grant_types": [DEVICE_CODE_GRANT, "refresh_token"],
            "response_types": [],
            "token_endpoint_auth_method": requested.as_str(),
            "application_type": "native",
        }),
    };
    let answer = net.post_json(endpoint, &body).await?;
    if !answer.status.is_success() {
        return Err(PluginError::new(
            ErrorKind::Unauthorized,
            format!(
                "the authorization server of MCP server `{server}` refused to register this client: {}",
                answer.error_text(net)
            ),
        ));
    }
    let client_id = answer
        .json
        .get("client_id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            PluginError::new(
                ErrorKind::Protocol,
                format!(
                    "the client registration answer of MCP server `{server}`'s authorization server has no `client_id`"
                ),
            )
        })?;
    let client_secret = answer
        .json
        .get("client_secret")
        .and_then(Value::as_str)
        .filter(|secret| !secret.is_empty())
        .map(|secret| Zeroizing::new(secret.to_owned()));
    // The answer's method is the one registered (RFC 7591 section 3.2.1).
    let auth_method = answer
        .json
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
        .and_then(AuthMethod::from_name)
        .unwrap_or(requested);
    let auth_method = if client_secret.is_none() {
        AuthMethod::None
    } else {
        auth_method
    };
    Ok(Client {
        client_id: client_id.to_owned(),
        client_secret,
        auth_method,
        private_key: None,
    })
}

/// The secret-based method to use with a server supporting `supported`.
pub fn secret_method(supported: &[String]) -> AuthMethod {
    let has = |name: &str| supported.iter().any(|method| method == name);
    if has("client_secret_basic") || !has("client_secret_post") {
        AuthMethod::ClientSecretBasic
    } else {
        AuthMethod::ClientSecretPost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_method_follows_the_server() {
        let list = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(secret_method(&list(&[])), AuthMethod::ClientSecretBasic);
        assert_eq!(
            secret_method(&list(&["client_secret_post"])),
            AuthMethod::ClientSecretPost
        );
        assert_eq!(
            secret_method(&list(&["client_secret_post", "client_secret_basic"])),
            AuthMethod::ClientSecretBasic
        );
        for method in [
            AuthMethod::PrivateKeyJwt,
            AuthMethod::None,
            AuthMethod::ClientSecretBasic,
            AuthMethod::ClientSecretPost,
        ] {
            assert_eq!(AuthMethod::from_name(method.as_str()), Some(method));
        }
        assert_eq!(AuthMethod::from_name("tls_client_auth"), None);
    }
}
