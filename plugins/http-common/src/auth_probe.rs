//! Finding out, without opening a session, whether a server asks for OAuth
//! (for `codex mcp list`): RFC 9728 protected-resource metadata, named by the
//! server's `WWW-Authenticate` challenge or at the well-known paths, then
//! RFC 8414 / OpenID authorization-server metadata at the server's origin.

use std::time::Duration;

use codex_plugin_api::abi_stable::std_types::{RString, RVec};
use codex_plugin_api::{AuthProbe, PluginError, PluginResult};
use reqwest::{Method, StatusCode, Url, header::HeaderValue};
use serde_json::Value;

use crate::config::HttpConfig;
use crate::http::{Http, read_limited};

/// Metadata documents are small; anything bigger is not metadata.
const METADATA_LIMIT: usize = 1024 * 1024;

/// Probes `config.url` within `timeout` (for everything together).
pub fn probe(server: &str, config: &HttpConfig, timeout: Duration) -> PluginResult<AuthProbe> {
    let headers = config.resolve_headers(server, |name| std::env::var_os(name))?;
    let http = Http::new(server, config.url.clone(), headers, timeout)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            PluginError::internal(format!("cannot start the HTTP runtime: {error}"))
        })?;
    runtime.block_on(async {
        match tokio::time::timeout(timeout, discover(&http, &config.url)).await {
            Ok(found) => Ok(found),
            Err(_) => Err(PluginError::new(
                codex_plugin_api::ErrorKind::Timeout,
                format!("MCP server `{server}` did not answer the authorization probe in time"),
            )),
        }
    })
}

async fn discover(http: &Http, url: &Url) -> AuthProbe {
    // 1. The challenge on the endpoint itself may name the metadata.
    let mut candidates = Vec::new();
    if let Some(named) = challenge_metadata_url(http, url).await {
        candidates.push(named);
    }
    // 2. RFC 9728 well-known locations: path-specific first, then the root.
    candidates.extend(well_known(url, "oauth-protected-resource"));
    for candidate in candidates {
        if let Some(resource) = fetch_json(http, &candidate).await
            && let Some(servers) = resource
                .get("authorization_servers")
                .and_then(Value::as_array)
        {
            return AuthProbe {
                oauth: true,
                authorization_servers: strings(servers),
                scopes_supported: resource
                    .get("scopes_supported")
                    .and_then(Value::as_array)
                    .map(|scopes| strings(scopes))
                    .unwrap_or_default(),
            };
        }
    }
    // 3. RFC 8414 and OpenID metadata at the server's own origin (servers
    //    that are their own authorization server, 2025-03-26 style).
    let mut metadata = well_known(url, "oauth-authorization-server");
    metadata.extend(well_known(url, "openid-configuration"));
    if let Some(path_append) = path_appended_openid(url) {
        metadata.insert(metadata.len() - 1, path_append);
    }
    for candidate in metadata {
        if let Some(document) = fetch_json(http, &candidate).await
            && document
                .get("authorization_endpoint")
                .is_some_and(Value::is_string)
            && document.get("token_endpoint").is_some_and(Value::is_string)
        {
            return AuthProbe {
                oauth: true,
                authorization_servers: document
                    .get("issuer")
                    .and_then(Value::as_str)
                    .map(|issuer| vec![issuer.into()])
                    .unwrap_or_default()
                    .into(),
                scopes_supported: document
                    .get("scopes_supported")
                    .and_then(Value::as_array)
                    .map(|scopes| strings(scopes))
                    .unwrap_or_default(),
            };
        }
    }
    AuthProbe::default()
}

fn strings(values: &[Value]) -> RVec<RString> {
    values
        .iter()
        .filter_map(Value::as_str)
        .map(RString::from)
        .collect()
}

/// The `resource_metadata` URL of a `WWW-Authenticate: Bearer` challenge on
/// an unauthenticated GET of the endpoint (no session is created by a GET).
async fn challenge_metadata_url(http: &Http, url: &Url) -> Option<Url> {
    let accept = (
        "accept".parse().ok()?,
        HeaderValue::from_static("text/event-stream"),
    );
    let response = http
        .request(Method::GET, url, vec![accept])
        .send()
        .await
        .ok()?;
    if response.status() != StatusCode::UNAUTHORIZED {
        return None;
    }
    let challenge = response.headers().get("www-authenticate")?.to_str().ok()?;
    let named = parameter(challenge, "resource_metadata")?;
    url.join(&named).ok()
}

/// The value of `name="value"` (or `name=value`) in a challenge.
fn parameter(challenge: &str, name: &str) -> Option<String> {
    let lower = challenge.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find(name) {
        let start = from + found;
        from = start + name.len();
        let before_ok = start == 0 || matches!(lower.as_bytes()[start - 1], b' ' | b',');
        let rest = challenge[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let rest = rest[1..].trim_start();
        return Some(match rest.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next().unwrap_or("").to_string(),
            None => rest.split([',', ' ']).next().unwrap_or("").to_string(),
        });
    }
    None
}

/// `{origin}/.well-known/{suffix}{path}` when the URL has a path, then
/// `{origin}/.well-known/{suffix}`.
fn well_known(url: &Url, suffix: &str) -> Vec<Url> {
    let path = url.path().trim_end_matches('/');
    let mut found = Vec::new();
    if !path.is_empty()
        && let Ok(specific) = url.join(&format!("/.well-known/{suffix}{path}"))
    {
        found.push(specific);
    }
    if let Ok(root) = url.join(&format!("/.well-known/{suffix}")) {
        found.push(root);
    }
    found
}

/// OpenID's own form, the suffix appended to the path: `{path}/.well-known/openid-configuration`.
fn path_appended_openid(url: &Url) -> Option<Url> {
    let path = url.path().trim_end_matches('/');
    if path.is_empty() {
        return None;
    }
    url.join(&format!("{path}/.well-known/openid-configuration"))
        .ok()
}

async fn fetch_json(http: &Http, url: &Url) -> Option<Value> {
    let accept = (
        "accept".parse().ok()?,
        HeaderValue::from_static("application/json"),
    );
    let mut response = http
        .request(Method::GET, url, vec![accept])
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let body = read_limited(&mut response, METADATA_LIMIT).await.ok()?;
    serde_json::from_slice::<Value>(&body)
        .ok()
        .filter(Value::is_object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_parameters_are_found_quoted_or_not() {
        let header = r#"Bearer error="invalid_token", resource_metadata="http://a/.well-known/oauth-protected-resource/mcp""#;
        assert_eq!(
            parameter(header, "resource_metadata").as_deref(),
            Some("http://a/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(
            parameter("Bearer scope=read, realm=x", "scope").as_deref(),
            Some("read")
        );
        assert_eq!(
            parameter("Bearer notresource_metadata=x", "resource_metadata"),
            None
        );
    }

    #[test]
    fn well_known_paths_follow_the_rfcs() {
        let url = Url::parse("http://h:1/tenant/mcp").unwrap();
        let found: Vec<String> = well_known(&url, "oauth-protected-resource")
            .iter()
            .map(Url::to_string)
            .collect();
        assert_eq!(
            found,
            [
                "http://h:1/.well-known/oauth-protected-resource/tenant/mcp",
                "http://h:1/.well-known/oauth-protected-resource"
            ]
        );
        assert_eq!(
            path_appended_openid(&url).unwrap().as_str(),
            "http://h:1/tenant/mcp/.well-known/openid-configuration"
        );
    }
}
