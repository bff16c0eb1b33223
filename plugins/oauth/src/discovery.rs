//! Finding the authorization server of an MCP server: protected-resource
//! metadata (RFC 9728), then authorization-server metadata (RFC 8414 and
//! OpenID Connect Discovery) in the order the MCP specification gives, with
//! the 2025-03-26 fall-backs for servers that publish neither.
//!
//! Refused on the way, each with its own message: metadata whose `issuer`
//! is not the issuer it was fetched for, an authorization server without
//! PKCE S256, protected-resource metadata for another resource, and an
//! authorization server on plain HTTP that is not this machine.

use codex_http_common::config::display_url;
use codex_plugin_api::{ErrorKind, PluginError, PluginResult};
use reqwest::Url;
use serde_json::Value;

use crate::challenge::BearerChallenge;
use crate::net::{Net, secure_enough};

/// What a login needs to know about the authorization server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthServer {
    /// The issuer identifier (what `iss` must equal).
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub registration_endpoint: Option<Url>,
    pub revocation_endpoint: Option<Url>,
    /// `token_endpoint_auth_methods_supported` (empty: not published).
    pub auth_methods: Vec<String>,
    /// `client_id_metadata_document_supported`.
    pub client_id_metadata_documents: bool,
    /// `authorization_response_iss_parameter_supported` (RFC 9207).
    pub iss_parameter: bool,
    /// `device_authorization_endpoint` (RFC 8628).
    pub device_authorization_endpoint: Option<Url>,
}

/// What discovery found for one MCP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// The authorization server.
    pub server: AuthServer,
    /// `resource` of the protected-resource metadata, when there was one.
    pub resource: Option<String>,
    /// `scopes_supported` of the protected-resource metadata.
    pub resource_scopes: Vec<String>,
}

/// Discovers the authorization server of the MCP server at `mcp_url`,
/// starting from `challenge` (its answer to an unauthenticated request).
pub async fn discover(
    net: &Net,
    mcp_url: &Url,
    challenge: Option<&BearerChallenge>,
) -> PluginResult<Discovered> {
    let server = net.server();
    let Some((metadata_url, resource)) = protected_resource(net, mcp_url, challenge).await? else {
        return legacy(net, mcp_url).await;
    };
    let named_resource = resource
        .get("resource")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(named) = &named_resource
        && !resource_matches(named, mcp_url)
    {
        return Err(protocol(format!(
            "the protected-resource metadata of MCP server `{server}` ({}) is for another resource ({named}), not {}; refusing to authorize",
            display_url(&metadata_url),
            display_url(mcp_url)
        )));
    }
    let issuer = resource
        .get("authorization_servers")
        .and_then(Value::as_array)
        .and_then(|servers| servers.iter().find_map(Value::as_str))
        .ok_or_else(|| {
            protocol(format!(
                "the protected-resource metadata of MCP server `{server}` ({}) names no authorization server",
                display_url(&metadata_url)
            ))
        })?;
    let issuer_url = endpoint(server, "the authorization server", issuer)?;
    let mut found = None;
    for candidate in metadata_urls(&issuer_url) {
        if let Some(metadata) = fetch_metadata(net, &candidate).await? {
            found = Some(metadata);
            break;
        }
    }
    let metadata = found.ok_or_else(|| {
        protocol(format!(
            "the authorization server {} of MCP server `{server}` publishes no OAuth or OpenID metadata",
            display_url(&issuer_url)
        ))
    })?;
    Ok(Discovered {
        server: read_auth_server(server, Some(issuer), &metadata)?,
        resource: named_resource,
        resource_scopes: strings(resource.get("scopes_supported")),
    })
}

/// The token endpoint of the identity provider whose issuer is `idp_url`,
/// from its OpenID or OAuth metadata (the `issuer` must be `idp_url`).
pub async fn idp_token_endpoint(net: &Net, idp_url: &str) -> PluginResult<Url> {
    let server = net.server();
    let issuer = endpoint(server, "the identity provider", idp_url)?;
    for candidate in metadata_urls(&issuer) {
        let Some(metadata) = fetch_metadata(net, &candidate).await? else {
            continue;
        };
        let named = metadata.get("issuer").and_then(Value::as_str);
        if named.map(|named| named.trim_end_matches('/')) != Some(idp_url.trim_end_matches('/')) {
            return Err(protocol(format!(
                "the metadata of the identity provider {} names the issuer {}, not {idp_url}; refusing to use it",
                display_url(&candidate),
                named.unwrap_or("(none)")
            )));
        }
        let Some(token) = metadata.get("token_endpoint").and_then(Value::as_str) else {
            break;
        };
        return endpoint(server, "the identity provider's token_endpoint", token);
    }
    Err(protocol(format!(
        "the identity provider {} publishes no OpenID or OAuth metadata with a `token_endpoint`; check `--idp-url`",
        display_url(&issuer)
    )))
}

/// The 2025-03-26 way: the MCP server's origin is its authorization
/// server, with metadata at the root or, without any, fixed endpoints.
async fn legacy(net: &Net, mcp_url: &Url) -> PluginResult<Discovered> {
    let server = net.server();
    let origin = origin_of(mcp_url);
    let metadata_url = join(&origin, "/.well-known/oauth-authorization-server");
    let auth_server = match fetch_metadata(net, &metadata_url).await? {
        // The issuer was not named by anyone, so there is none to check.
        Some(metadata) => read_auth_server(server, None, &metadata)?,
        None => AuthServer {
            issuer: origin.as_str().trim_end_matches('/').to_owned(),
            authorization_endpoint: join(&origin, "/authorize"),
            token_endpoint: join(&origin, "/token"),
            registration_endpoint: Some(join(&origin, "/register")),
            revocation_endpoint: None,
            auth_methods: Vec::new(),
            client_id_metadata_documents: false,
            iss_parameter: false,
            device_authorization_endpoint: None,
        },
    };
    if !secure_enough(&auth_server.token_endpoint) {
        return Err(insecure(server, &auth_server.token_endpoint));
    }
    Ok(Discovered {
        server: auth_server,
        resource: None,
        resource_scopes: Vec::new(),
    })
}

/// The protected-resource metadata: at the URL the challenge names, else
/// path-specific, else at the root (RFC 9728 section 3.1).
async fn protected_resource(
    net: &Net,
    mcp_url: &Url,
    challenge: Option<&BearerChallenge>,
) -> PluginResult<Option<(Url, Value)>> {
    let mut candidates = Vec::new();
    if let Some(named) = challenge.and_then(|challenge| challenge.resource_metadata.as_deref())
        && let Ok(url) = Url::parse(named)
        && secure_enough(&url)
    {
        candidates.push(url);
    }
    candidates.extend(well_known(mcp_url, "oauth-protected-resource"));
    for candidate in candidates {
        if let Some(metadata) = fetch_metadata(net, &candidate).await?
            && metadata.get("authorization_servers").is_some()
        {
            return Ok(Some((candidate, metadata)));
        }
    }
    Ok(None)
}

/// Where the metadata of the authorization server `issuer` may be, in the
/// order the MCP specification gives.
fn metadata_urls(issuer: &Url) -> Vec<Url> {
    let origin = origin_of(issuer);
    let path = issuer.path().trim_end_matches('/');
    if path.is_empty() {
        return vec![
            join(&origin, "/.well-known/oauth-authorization-server"),
            join(&origin, "/.well-known/openid-configuration"),
        ];
    }
    vec![
        join(
            &origin,
            &format!("/.well-known/oauth-authorization-server{path}"),
        ),
        join(&origin, &format!("/.well-known/openid-configuration{path}")),
        join(&origin, &format!("{path}/.well-known/openid-configuration")),
    ]
}

/// `/.well-known/<name>` with the URL's path appended, then at the root.
fn well_known(url: &Url, name: &str) -> Vec<Url> {
    let origin = origin_of(url);
    let path = url.path().trim_end_matches('/');
    let mut candidates = Vec::new();
    if !path.is_empty() {
        candidates.push(join(&origin, &format!("/.well-known/{name}{path}")));
    }
    candidates.push(join(&origin, &format!("/.well-known/{name}")));
    candidates
}

/// A metadata document at `url`, if there is one.
async fn fetch_metadata(net: &Net, url: &Url) -> PluginResult<Option<Value>> {
    net.get_json(url).await
}

/// Reads authorization-server metadata; `expected_issuer` is the issuer it
/// was fetched for, which `issuer` must equal (RFC 8414 section 3.3).
fn read_auth_server(
    server: &str,
    expected_issuer: Option<&str>,
    metadata: &Value,
) -> PluginResult<AuthServer> {
    let text = |key: &str| metadata.get(key).and_then(Value::as_str);
    let issuer = match (text("issuer"), expected_issuer) {
        (Some(issuer), _) => issuer,
        (None, Some(expected)) => {
            return Err(protocol(format!(
                "the authorization server metadata of MCP server `{server}` (issuer {expected}) has no `issuer`, which RFC 8414 requires; refusing to use it"
            )));
        }
        // Metadata found at the MCP server's own origin (2025-03-26): no
        // issuer was named, so none is checked.
        (None, None) => "",
    };
    if let Some(expected) = expected_issuer
        && issuer.trim_end_matches('/') != expected.trim_end_matches('/')
    {
        return Err(protocol(format!(
            "the authorization server metadata of MCP server `{server}` names the issuer {issuer}, not {expected}; refusing to use it"
        )));
    }
    let required = |key: &str| {
        let value = text(key).ok_or_else(|| {
            protocol(format!(
                "the authorization server metadata of MCP server `{server}` has no `{key}`"
            ))
        })?;
        endpoint(server, key, value)
    };
    let optional = |key: &str| {
        text(key)
            .map(|value| endpoint(server, key, value))
            .transpose()
    };
    let methods = strings(metadata.get("code_challenge_methods_supported"));
    if !methods.iter().any(|method| method == "S256") {
        return Err(protocol(format!(
            "the authorization server {issuer} of MCP server `{server}` does not offer PKCE with S256 (`code_challenge_methods_supported` is {}); refusing to log in without it",
            if methods.is_empty() {
                "missing".to_owned()
            } else {
                methods.join(", ")
            }
        )));
    }
    let flag = |key: &str| metadata.get(key).and_then(Value::as_bool).unwrap_or(false);
    Ok(AuthServer {
        issuer: issuer.to_owned(),
        authorization_endpoint: required("authorization_endpoint")?,
        token_endpoint: required("token_endpoint")?,
        registration_endpoint: optional("registration_endpoint")?,
        revocation_endpoint: optional("revocation_endpoint")?,
        auth_methods: strings(metadata.get("token_endpoint_auth_methods_supported")),
        client_id_metadata_documents: flag("client_id_metadata_document_supported"),
        iss_parameter: flag("authorization_response_iss_parameter_supported"),
        device_authorization_endpoint: optional("device_authorization_endpoint")?,
    })
}

/// An endpoint URL, which must be HTTPS or on this machine.
fn endpoint(server: &str, what: &str, value: &str) -> PluginResult<Url> {
    let url = Url::parse(value).map_err(|_| {
        protocol(format!(
            "the OAuth metadata of MCP server `{server}` gives `{what}` as `{value}`, which is not a URL"
        ))
    })?;
    if !secure_enough(&url) {
        return Err(insecure(server, &url));
    }
    Ok(url)
}

fn insecure(server: &str, url: &Url) -> PluginError {
    protocol(format!(
        "the authorization server of MCP server `{server}` is at {}, plain HTTP on another machine; refusing to send credentials over it (HTTPS is required unless the server is on 127.0.0.1 or localhost)",
        display_url(url)
    ))
}

/// Whether the protected resource `resource` covers `mcp_url`: the same
/// origin, and `mcp_url`'s path is the resource's path or below it.
pub fn resource_matches(resource: &str, mcp_url: &Url) -> bool {
    let Ok(resource) = Url::parse(resource) else {
        return false;
    };
    if resource.origin() != mcp_url.origin() {
        return false;
    }
    let base = resource.path().trim_end_matches('/');
    let path = mcp_url.path().trim_end_matches('/');
    path == base || path.starts_with(&format!("{base}/"))
}

/// The resource indicator (RFC 8707) for `url`: the URL without fragment,
/// and without the trailing `/` of an empty path.
pub fn canonical_resource(url: &Url) -> String {
    let mut url = url.clone();
    url.set_fragment(None);
    let text = url.to_string();
    if url.path() == "/" && url.query().is_none() {
        text.trim_end_matches('/').to_owned()
    } else {
        text
    }
}

fn origin_of(url: &Url) -> Url {
    let mut origin = url.clone();
    origin.set_path("/");
    origin.set_query(None);
    origin.set_fragment(None);
    let _ = origin.set_username("");
    let _ = origin.set_password(None);
    origin
}

fn join(origin: &Url, path: &str) -> Url {
    let mut url = origin.clone();
    url.set_path(path);
    url
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn protocol(message: String) -> PluginError {
    PluginError::new(ErrorKind::Protocol, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    fn texts(urls: Vec<Url>) -> Vec<String> {
        urls.into_iter().map(String::from).collect()
    }

    #[test]
    fn metadata_is_looked_for_in_the_specified_order() {
        assert_eq!(
            texts(metadata_urls(&url("https://as.example/tenant1/"))),
            [
                "https://as.example/.well-known/oauth-authorization-server/tenant1",
                "https://as.example/.well-known/openid-configuration/tenant1",
                "https://as.example/tenant1/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            texts(metadata_urls(&url("https://as.example"))),
            [
                "https://as.example/.well-known/oauth-authorization-server",
                "https://as.example/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            texts(well_known(
                &url("http://127.0.0.1:5/mcp?x=1"),
                "oauth-protected-resource"
            )),
            [
                "http://127.0.0.1:5/.well-known/oauth-protected-resource/mcp",
                "http://127.0.0.1:5/.well-known/oauth-protected-resource",
            ]
        );
    }

    fn metadata(issuer: &str) -> Value {
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "code_challenge_methods_supported": ["plain", "S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "authorization_response_iss_parameter_supported": true,
        })
    }

    #[test]
    fn good_metadata_is_read() {
        let server = read_auth_server(
            "s",
            Some("http://127.0.0.1:9/"),
            &metadata("http://127.0.0.1:9"),
        )
        .unwrap();
        assert_eq!(server.token_endpoint.as_str(), "http://127.0.0.1:9/token");
        assert_eq!(server.auth_methods, ["client_secret_basic"]);
        assert!(server.iss_parameter);
        assert!(server.registration_endpoint.is_none());
    }

    #[test]
    fn bad_metadata_is_refused_with_the_reason() {
        let mut no_s256 = metadata("https://as.example");
        no_s256["code_challenge_methods_supported"] = json!(["plain"]);
        let mut missing = metadata("https://as.example");
        missing
            .as_object_mut()
            .unwrap()
            .remove("code_challenge_methods_supported");
        let mut no_token = metadata("https://as.example");
        no_token.as_object_mut().unwrap().remove("token_endpoint");
        let mut no_issuer = metadata("https://as.example");
        no_issuer.as_object_mut().unwrap().remove("issuer");
        for (document, expected, needle) in [
            (
                no_issuer,
                "https://as.example",
                "has no `issuer`, which RFC 8414 requires",
            ),
            (
                metadata("https://evil.example"),
                "https://as.example",
                "names the issuer https://evil.example, not https://as.example",
            ),
            (
                no_s256,
                "https://as.example",
                "does not offer PKCE with S256 (`code_challenge_methods_supported` is plain)",
            ),
            (missing, "https://as.example", "is missing"),
            (no_token, "https://as.example", "has no `token_endpoint`"),
            (
                metadata("http://as.example"),
                "http://as.example",
                "plain HTTP on another machine",
            ),
        ] {
            let message = read_auth_server("s", Some(expected), &document)
                .unwrap_err()
                .message
                .to_string();
            assert!(message.contains(needle), "{message}");
        }
    }

    #[test]
    fn resources_match_by_origin_and_path_prefix() {
        let mcp = url("http://127.0.0.1:7/api/mcp");
        for (resource, expected) in [
            ("http://127.0.0.1:7/api/mcp", true),
            ("http://127.0.0.1:7/api/mcp/", true),
            ("http://127.0.0.1:7/api", true),
            ("http://127.0.0.1:7", true),
            ("http://127.0.0.1:7/ap", false),
            ("http://127.0.0.1:8/api/mcp", false),
            ("https://127.0.0.1:7/api/mcp", false),
            ("not a url", false),
        ] {
            assert_eq!(resource_matches(resource, &mcp), expected, "{resource}");
        }
    }

    #[test]
    fn canonical_resources_drop_fragment_and_bare_slash() {
        assert_eq!(
            canonical_resource(&url("HTTP://Example.COM/")),
            "http://example.com"
        );
        assert_eq!(
            canonical_resource(&url("https://example.com/mcp#x")),
            "https://example.com/mcp"
        );
        assert_eq!(
            canonical_resource(&url("https://example.com/mcp/")),
            "https://example.com/mcp/"
        );
    }
}

/// Property tests standing in for fuzz targets (cargo-fuzz needs nightly).
/// `PROPTEST_CASES=100000 cargo test -p codex-transport-oauth --lib fuzz_` runs longer.
#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;
    use serde_json::{Map, json};

    use super::*;

    const ISSUER: &str = "https://as.example/tenant";

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "\\PC{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("\\PC{0,6}", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    fn url_text() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(json!(format!("{ISSUER}/authorize"))),
            Just(json!("http://127.0.0.1:9/token")),
            Just(json!("http://localhost/x")),
            Just(json!("http://as.example/token")),
            Just(json!("file:///etc/passwd")),
            Just(json!("not a url")),
            json_value(),
        ]
    }

    /// Metadata close enough to valid that each check gets exercised.
    fn metadata() -> impl Strategy<Value = Value> {
        let issuer = prop_oneof![
            Just(json!(ISSUER)),
            Just(json!(format!("{ISSUER}/"))),
            Just(json!("https://evil.example/tenant")),
            Just(json!("https://as.example/tenan")),
            Just(json!("https://AS.example/tenant")),
            json_value(),
        ];
        let methods = prop_oneof![
            proptest::collection::vec(
                prop_oneof![
                    Just(json!("S256")),
                    Just(json!("plain")),
                    Just(json!("s256")),
                    Just(json!("S256 ")),
                    json_value(),
                ],
                0..4,
            )
            .prop_map(Value::Array),
            Just(json!("S256")),
            json_value(),
        ];
        (
            proptest::option::of(issuer),
            proptest::option::of(url_text()),
            proptest::option::of(url_text()),
            proptest::option::of(url_text()),
            proptest::option::of(methods),
            proptest::collection::btree_map("\\PC{0,6}", json_value(), 0..3),
        )
            .prop_map(|(issuer, authorize, token, register, methods, extra)| {
                let mut object: Map<String, Value> = extra.into_iter().collect();
                let fields = [
                    ("issuer", issuer),
                    ("authorization_endpoint", authorize),
                    ("token_endpoint", token),
                    ("registration_endpoint", register),
                    ("code_challenge_methods_supported", methods),
                ];
                for (key, value) in fields {
                    if let Some(value) = value {
                        object.insert(key.to_owned(), value);
                    }
                }
                Value::Object(object)
            })
    }

    fn check(expected: Option<&str>, document: &Value) -> Result<(), TestCaseError> {
        let Ok(server) = read_auth_server("s", expected, document) else {
            return Ok(());
        };
        let methods = document
            .get("code_challenge_methods_supported")
            .and_then(Value::as_array);
        prop_assert!(
            methods.is_some_and(|m| m.iter().any(|m| m.as_str() == Some("S256"))),
            "accepted without S256: {document}"
        );
        if let Some(expected) = expected {
            prop_assert_eq!(
                server.issuer.trim_end_matches('/'),
                expected.trim_end_matches('/')
            );
            if let Some(named) = document.get("issuer").and_then(Value::as_str) {
                prop_assert_eq!(named.trim_end_matches('/'), expected.trim_end_matches('/'));
            }
        }
        prop_assert!(secure_enough(&server.authorization_endpoint));
        prop_assert!(secure_enough(&server.token_endpoint));
        Ok(())
    }

    proptest! {
        #![proptest_config(codex_fuzz_support::cases(1024))]

        #[test]
        fn fuzz_read_auth_server_checks_s256_and_issuer(
            document in prop_oneof![1 => json_value(), 3 => metadata()],
            expected in prop_oneof![Just(None), Just(Some(ISSUER)), Just(Some("https://as.example/tenant/"))],
        ) {
            check(expected, &document)?;
        }
    }
}
