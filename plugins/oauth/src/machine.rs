//! Logins without a person at a browser:
//!
//! - the client-credentials grant (RFC 6749 section 4.4; OAuth 2.1), the
//!   client authenticated by its secret (`client_secret_basic` or `_post`)
//!   or by a JWT signed with its private key (`private_key_jwt`, RFC 7523);
//! - enterprise-managed authorization (the MCP extension for cross-app
//!   access): an ID token the company's identity provider issued to the
//!   user is exchanged there for an Identity Assertion JWT Authorization
//!   Grant (ID-JAG, RFC 8693 token exchange), which the MCP server's
//!   authorization server takes for an access token (RFC 7523 JWT-bearer
//!   grant).
//!
//! Neither grant gives a refresh token: when the access token expires the
//! same grant runs again from what the stored login records (the secret in
//! the credential store, the key file's path, the ID token file's path).

use codex_plugin_api::{ErrorKind, PluginError, PluginResult};
use reqwest::Url;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::config::{Grant, ServerConfig};
use crate::net::{ClientAuth, Net};
use crate::registration::Client;
use crate::store::StoredTokens;
use crate::token::{self, TokenResponse};

/// RFC 8693 token exchange.
const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// RFC 7523 JWT authorization grant.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
const ID_JAG_TYPE: &str = "urn:ietf:params:oauth:token-type:id-jag";

/// The client-credentials grant at `endpoint` for `resource` and `scopes`.
pub async fn client_credentials(
    net: &Net,
    endpoint: &Url,
    client: &Client,
    scopes: Option<&[String]>,
    resource: &str,
) -> PluginResult<TokenResponse> {
    let form = vec![("grant_type", "client_credentials"), ("resource", resource)];
    request_token(
        net,
        endpoint,
        client,
        form,
        scopes,
        (
            "refused the client credentials",
            "check the client ID and its secret or key",
        ),
    )
    .await
}

/// Posts `form` (with `scope` when `scopes` are given) to the token
/// endpoint as `client`; the tokens, or the authorization server's refusal
/// as `refusal` (what it refused, what to check) words it.
async fn request_token(
    net: &Net,
    endpoint: &Url,
    client: &Client,
    mut form: Vec<(&str, &str)>,
    scopes: Option<&[String]>,
    refusal: (&str, &str),
) -> PluginResult<TokenResponse> {
    let scope = joined(scopes);
    if let Some(scope) = &scope {
        form.push(("scope", scope));
    }
    let answer = net.post_form(endpoint, &form, &client.auth()?).await?;
    if !answer.status.is_success() {
        let (what, hint) = refusal;
        return Err(refused(
            net,
            "the authorization server",
            what,
            &answer.error_text(net),
            hint,
        ));
    }
    token::read(net, &answer)
}

/// What the identity provider is given for an ID-JAG.
pub struct IdentityProvider<'a> {
    pub token_endpoint: &'a Url,
    /// This client at the identity provider (sent as `client_id`).
    pub client_id: Option<&'a str>,
    /// The file holding the user's ID token.
    pub id_token_file: &'a str,
}

/// Enterprise-managed authorization: the ID token of `idp` exchanged for an
/// ID-JAG for the authorization server `issuer` and `resource`, then that
/// for an access token at `endpoint`.
pub async fn id_jag(
    net: &Net,
    idp: &IdentityProvider<'_>,
    issuer: &str,
    endpoint: &Url,
    client: &Client,
    scopes: Option<&[String]>,
    resource: &str,
) -> PluginResult<TokenResponse> {
    let id_token = read_id_token(idp.id_token_file)?;
    let scope = joined(scopes);
    let mut form = vec![
        ("grant_type", TOKEN_EXCHANGE_GRANT),
        ("requested_token_type", ID_JAG_TYPE),
        ("subject_token", id_token.as_str()),
        ("subject_token_type", ID_TOKEN_TYPE),
        ("audience", issuer),
        ("resource", resource),
    ];
    if let Some(scope) = &scope {
        form.push(("scope", scope));
    }
    let auth = match idp.client_id {
        Some(client_id) => ClientAuth::None { client_id },
        None => ClientAuth::Anonymous,
    };
    let answer = net.post_form(idp.token_endpoint, &form, &auth).await?;
    if !answer.status.is_success() {
        return Err(refused(
            net,
            "the identity provider",
            "refused to exchange the ID token",
            &answer.error_text(net),
            "the ID token may have expired: get a fresh one from the identity provider into the `--id-token-file` file",
        ));
    }
    let issued = answer.json.get("issued_token_type").and_then(Value::as_str);
    let grant = answer
        .json
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|grant| !grant.is_empty());
    let grant = match (issued, grant) {
        (Some(ID_JAG_TYPE), Some(grant)) => Zeroizing::new(grant.to_owned()),
        _ => {
            return Err(PluginError::new(
                ErrorKind::Protocol,
                format!(
                    "the identity provider's answer for MCP server `{}` is not an ID-JAG (`issued_token_type` is {})",
                    net.server(),
                    issued.unwrap_or("missing")
                ),
            ));
        }
    };
    let form = vec![
        ("grant_type", JWT_BEARER_GRANT),
        ("assertion", grant.as_str()),
        ("resource", resource),
    ];
    request_token(
        net,
        endpoint,
        client,
        form,
        scopes,
        (
            "refused the identity provider's grant (ID-JAG)",
            "check the client ID and secret registered with it",
        ),
    )
    .await
}

/// A new access token for the stored login `current` of a grant without
/// refresh tokens, by the same grant, from what its record holds.
pub async fn renew(
    net: &Net,
    server: &ServerConfig,
    current: &StoredTokens,
) -> PluginResult<TokenResponse> {
    let name = &server.name;
    let unusable = |what: &str| {
        PluginError::invalid_config(format!(
            "the stored login of MCP server `{name}` {what}; run `codex mcp login {name}` again with the same options"
        ))
    };
    let Some(record) = &current.oauth else {
        return Err(unusable("has no record of its authorization server"));
    };
    let endpoint = Url::parse(&record.token_endpoint)
        .map_err(|_| unusable("has a token endpoint that is not a URL"))?;
    let resource = record
        .resource
        .clone()
        .unwrap_or_else(|| crate::discovery::canonical_resource(&server.http.url));
    let scopes = Some(record.scopes.as_slice()).filter(|scopes| !scopes.is_empty());
    let client = current.client();
    match current.grant() {
        Some(Grant::ClientCredentials) => {
            client_credentials(net, &endpoint, &client, scopes, &resource).await
        }
        Some(Grant::IdJag) => {
            let (Some(idp_endpoint), Some(id_token_file)) =
                (&record.idp_token_endpoint, &record.id_token_file)
            else {
                return Err(unusable("lacks its identity provider"));
            };
            let idp_endpoint = Url::parse(idp_endpoint)
                .map_err(|_| unusable("has an identity provider endpoint that is not a URL"))?;
            let idp = IdentityProvider {
                token_endpoint: &idp_endpoint,
                client_id: record.idp_client_id.as_deref(),
                id_token_file,
            };
            id_jag(
                net,
                &idp,
                &record.issuer,
                &endpoint,
                &client,
                scopes,
                &resource,
            )
            .await
        }
        _ => Err(token::login_expired(name)),
    }
}

/// The ID token in `path`, without surrounding white space.
fn read_id_token(path: &str) -> PluginResult<Zeroizing<String>> {
    let text = std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|error| {
            PluginError::invalid_config(format!(
                "cannot read the ID token file {path}: {error}; write the identity provider's ID token for this user there"
            ))
        })?;
    let token = text.trim();
    // A JWT: three base64url parts.
    if token.split('.').count() != 3 {
        return Err(PluginError::invalid_config(format!(
            "the ID token file {path} does not hold a JWT (three base64url parts separated by dots)"
        )));
    }
    Ok(Zeroizing::new(token.to_owned()))
}

/// The `scope` parameter of a form: the scopes space-separated (RFC 6749
/// section 3.3), none when there are none.
pub(crate) fn joined(scopes: Option<&[String]>) -> Option<String> {
    scopes
        .filter(|scopes| !scopes.is_empty())
        .map(|scopes| scopes.join(" "))
}

/// `who` (of MCP server …) refused: `what`, the server's `why`, and `hint`.
fn refused(net: &Net, who: &str, what: &str, why: &str, hint: &str) -> PluginError {
    PluginError::new(
        ErrorKind::Unauthorized,
        format!(
            "{who} of MCP server `{}` {what}: {why}; {hint}",
            net.server()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_token_files_must_hold_a_jwt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("id_token");
        std::fs::write(&path, "  aaa.bbb.ccc\n").unwrap();
        let path = path.to_str().unwrap();
        assert_eq!(read_id_token(path).unwrap().as_str(), "aaa.bbb.ccc");
        std::fs::write(path, "opaque").unwrap();
        let error = read_id_token(path).unwrap_err();
        assert!(
            error.message.contains("does not hold a JWT"),
            "{}",
            error.message
        );
        let missing = read_id_token("/nonexistent/id").unwrap_err();
        assert!(missing.message.contains("cannot read the ID token file"));
        assert_eq!(joined(Some(&[])), None);
        assert_eq!(
            joined(Some(&["a".to_owned(), "b".to_owned()])).as_deref(),
            Some("a b")
        );
    }
}
