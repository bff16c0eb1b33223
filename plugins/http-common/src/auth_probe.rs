//! Finding out, without logging in, whether a server asks for OAuth (for
//! `codex mcp list` and the login `codex mcp add` starts), as Codex 0.169
//! does:
//!
//! - The server is asked the way a session starts: an unauthenticated POST
//!   of `initialize` (some servers answer a GET with 404 and name their
//!   metadata only in the challenge to it). A session the server opens
//!   instead is closed again.
//! - RFC 9728 protected-resource metadata: the document the 401's
//!   `WWW-Authenticate: Bearer` challenge names, else the well-known paths;
//!   then the metadata (RFC 8414 / OpenID) of the first authorization server
//!   it names, whose `issuer` must be that server.
//! - Otherwise RFC 8414 / OpenID authorization-server metadata at the
//!   server's origin (servers that are their own authorization server).
//! - No metadata anywhere: no OAuth. A discovery that goes wrong (the server
//!   cannot be reached, a 5xx, protected-resource metadata whose
//!   authorization server has no metadata or another issuer) is an error,
//!   which `mcp list` shows as `Unknown`.

use std::time::Duration;

use codex_plugin_api::abi_stable::std_types::{RString, RVec};
use codex_plugin_api::{AuthProbe, ErrorKind, PluginError, PluginResult};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode, Url};
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
            Ok(found) => found.map_err(|problem| {
                PluginError::new(
                    ErrorKind::Unavailable,
                    format!("OAuth discovery for MCP server `{server}` failed: {problem}"),
                )
            }),
            Err(_) => Err(PluginError::new(
                ErrorKind::Timeout,
                format!("MCP server `{server}` did not answer the authorization probe in time"),
            )),
        }
    })
}

/// The `initialize` request of a client that has not logged in, as the
/// first message of a session (the probes of the host and of the oauth
/// plugin send it).
pub fn initialize_request() -> String {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "codex", "version": env!("CARGO_PKG_VERSION")}
        }
    })
    .to_string()
}

async fn discover(http: &Http, url: &Url) -> Result<AuthProbe, String> {
    // 1. Protected-resource metadata: the challenge's, else the RFC 9728
    //    well-known locations (path-specific first, then the root).
    let resource = match challenge_resource_metadata(http, url).await? {
        Some(named) => Some(fetch_json(http, &named).await?.ok_or_else(|| {
            format!("the protected-resource metadata its challenge names ({named}) is not there")
        })?),
        None => {
            let mut found = None;
            for candidate in well_known(url, "oauth-protected-resource") {
                if let Some(resource) = fetch_json(http, &candidate).await?
                    && resource.get("authorization_servers").is_some()
                {
                    found = Some(resource);
                    break;
                }
            }
            found
        }
    };
    if let Some(resource) = resource {
        let servers = resource
            .get("authorization_servers")
            .and_then(Value::as_array)
            .map(|servers| strings(servers))
            .unwrap_or_default();
        let Some(issuer) = servers.first() else {
            return Err("its protected-resource metadata names no authorization server".into());
        };
        let metadata = authorization_server_metadata(http, issuer.as_str()).await?;
        let scopes = resource
            .get("scopes_supported")
            .or_else(|| metadata.get("scopes_supported"))
            .and_then(Value::as_array)
            .map(|scopes| strings(scopes))
            .unwrap_or_default();
        return Ok(AuthProbe {
            oauth: true,
            authorization_servers: servers,
            scopes_supported: scopes,
        });
    }
    // 2. RFC 8414 and OpenID metadata at the server's own origin (servers
    //    that are their own authorization server, 2025-03-26 style).
    let mut metadata = well_known(url, "oauth-authorization-server");
    metadata.extend(well_known(url, "openid-configuration"));
    if let Some(path_append) = path_appended_openid(url) {
        metadata.insert(metadata.len() - 1, path_append);
    }
    for candidate in metadata {
        if let Some(document) = fetch_json(http, &candidate).await?
            && is_authorization_server(&document)
        {
            return Ok(AuthProbe {
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
            });
        }
    }
    Ok(AuthProbe::default())
}

fn is_authorization_server(document: &Value) -> bool {
    document
        .get("authorization_endpoint")
        .is_some_and(Value::is_string)
        && document.get("token_endpoint").is_some_and(Value::is_string)
}

/// The metadata of authorization server `issuer` (RFC 8414, then OpenID in
/// both forms), which must name `issuer` as its own (a trailing `/` aside).
async fn authorization_server_metadata(http: &Http, issuer: &str) -> Result<Value, String> {
    let base = Url::parse(issuer)
        .map_err(|_| format!("its authorization server `{issuer}` is not a URL"))?;
    let path = base.path().trim_end_matches('/');
    let mut candidates = vec![
        format!("/.well-known/oauth-authorization-server{path}"),
        format!("/.well-known/openid-configuration{path}"),
    ];
    if !path.is_empty() {
        candidates.push(format!("{path}/.well-known/openid-configuration"));
    }
    for candidate in candidates {
        let Ok(candidate) = base.join(&candidate) else {
            continue;
        };
        if let Some(document) = fetch_json(http, &candidate).await?
            && is_authorization_server(&document)
        {
            let named = document.get("issuer").and_then(Value::as_str);
            if named.map(|named| named.trim_end_matches('/')) != Some(issuer.trim_end_matches('/'))
            {
                return Err(format!(
                    "the metadata of authorization server `{issuer}` names another issuer"
                ));
            }
            return Ok(document);
        }
    }
    Err(format!(
        "authorization server `{issuer}` has no metadata (RFC 8414 or OpenID)"
    ))
}

fn strings(values: &[Value]) -> RVec<RString> {
    values
        .iter()
        .filter_map(Value::as_str)
        .map(RString::from)
        .collect()
}

/// The protected-resource metadata URL that the 401 `Bearer` challenge of
/// an unauthenticated POST of `initialize` names. A server that cannot be
/// reached or answers 5xx is an error.
async fn challenge_resource_metadata(http: &Http, url: &Url) -> Result<Option<Url>, String> {
    let request = http
        .request(
            Method::POST,
            url,
            vec![
                (
                    ACCEPT,
                    HeaderValue::from_static("application/json, text/event-stream"),
                ),
                (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            ],
        )
        .body(initialize_request());
    let response = request
        .send()
        .await
        .map_err(|error| format!("{url} cannot be reached ({})", error.without_url()))?;
    if response.status().is_server_error() {
        return Err(format!("{url} answered {}", response.status()));
    }
    let named = (response.status() == StatusCode::UNAUTHORIZED)
        .then(|| {
            response
                .headers()
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .find(|challenge| names_resource_metadata(challenge, url))
                .and_then(|challenge| parameter(challenge, "resource_metadata"))
                .and_then(|named| url.join(&named).ok())
        })
        .flatten();
    if let Some(session) = response.headers().get("mcp-session-id").cloned() {
        drop(response);
        let header = (HeaderName::from_static("mcp-session-id"), session);
        // A courtesy to the server; the probe does not depend on it.
        let _ = http.request(Method::DELETE, url, vec![header]).send().await;
    }
    Ok(named)
}

/// Whether `challenge` is a `Bearer` challenge whose `resource_metadata`
/// is a URL (relative to the endpoint `url`).
fn names_resource_metadata(challenge: &str, url: &Url) -> bool {
    let bearer = challenge
        .split([',', ' ', '\t'])
        .any(|word| word.eq_ignore_ascii_case("bearer"));
    bearer
        && parameter(challenge, "resource_metadata")
            .is_some_and(|named| !named.is_empty() && url.join(&named).is_ok())
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

/// The JSON object at `url`; `None` when it is not there (a 4xx, or not a
/// JSON object); an error when the server cannot be reached or answers 5xx.
async fn fetch_json(http: &Http, url: &Url) -> Result<Option<Value>, String> {
    let Ok(accept) = "accept".parse() else {
        return Ok(None);
    };
    let mut response = http
        .request(
            Method::GET,
            url,
            vec![(accept, HeaderValue::from_static("application/json"))],
        )
        .send()
        .await
        .map_err(|error| format!("{url} cannot be reached ({})", error.without_url()))?;
    if response.status().is_server_error() {
        return Err(format!("{url} answered {}", response.status()));
    }
    if !response.status().is_success() {
        return Ok(None);
    }
    let Ok(body) = read_limited(&mut response, METADATA_LIMIT).await else {
        return Ok(None);
    };
    Ok(serde_json::from_slice::<Value>(&body)
        .ok()
        .filter(Value::is_object))
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
    fn only_a_bearer_challenge_naming_a_url_settles_the_probe() {
        let url = Url::parse("http://h:1/mcp").unwrap();
        for (challenge, settles) in [
            (
                r#"Bearer resource_metadata="http://h:1/.well-known/oauth-protected-resource/mcp""#,
                true,
            ),
            (
                r#"bearer error="invalid_token", resource_metadata="/.well-known/oauth-protected-resource""#,
                true,
            ),
            (
                r#"Basic realm="x", Bearer resource_metadata="http://h:1/prm""#,
                true,
            ),
            (
                r#"Basic realm="x", resource_metadata="http://h:1/prm""#,
                false,
            ),
            ("Bearer", false),
            (r#"Bearer realm="mcp""#, false),
            (r#"Bearer resource_metadata="""#, false),
            (r#"Bearer resource_metadata="http://[::1""#, false),
        ] {
            assert_eq!(
                names_resource_metadata(challenge, &url),
                settles,
                "{challenge}"
            );
        }
    }

    /// Serves `answer(path, origin)` for each request on 127.0.0.1 and
    /// records the paths.
    fn serve(
        answer: impl Fn(&str, &str) -> String + Send + 'static,
    ) -> (Url, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let url = Url::parse(&format!("{origin}/mcp")).unwrap();
        let paths = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&paths);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                let mut line = String::new();
                let mut length = 0;
                while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                    line.clear();
                }
                let mut body = vec![0; length];
                let _ = std::io::Read::read_exact(&mut reader, &mut body);
                let method = request_line.split_whitespace().next().unwrap_or("?");
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .to_owned();
                // Recorded before answering, so the probe cannot return first.
                seen.lock().unwrap().push(format!("{method} {path}"));
                let _ = stream.write_all(answer(&path, &origin).as_bytes());
            }
        });
        (url, paths)
    }

    fn json_answer(body: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    const NOT_FOUND: &str =
        "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
    const SERVER_ERROR: &str =
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
    const CHALLENGE: &str = "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Bearer resource_metadata=\"/.well-known/oauth-protected-resource/mcp\"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

    fn probe_result(url: &Url) -> PluginResult<AuthProbe> {
        let config = HttpConfig::parse("web", &format!(r#"{{"url":"{url}"}}"#)).unwrap();
        probe("web", &config, Duration::from_secs(10))
    }

    fn probe_of(url: &Url) -> AuthProbe {
        probe_result(url).unwrap()
    }

    /// Protected-resource metadata naming the test server as authorization
    /// server, and that server's metadata naming `issuer`.
    fn metadata(path: &str, origin: &str, issuer: &str) -> String {
        match path {
            "/.well-known/oauth-protected-resource/mcp" => json_answer(&format!(
                r#"{{"resource":"{origin}/mcp","authorization_servers":["{origin}/as"],"scopes_supported":["read"]}}"#
            )),
            "/.well-known/oauth-authorization-server/as" => json_answer(&format!(
                r#"{{"issuer":"{issuer}","authorization_endpoint":"{origin}/a","token_endpoint":"{origin}/t"}}"#
            )),
            _ => NOT_FOUND.to_owned(),
        }
    }

    #[test]
    fn a_challenge_leads_to_the_resource_and_authorization_server_metadata() {
        let (url, paths) = serve(|path, origin| match path {
            "/mcp" => CHALLENGE.to_owned(),
            _ => metadata(path, origin, &format!("{origin}/as")),
        });
        let found = probe_of(&url);
        assert!(found.oauth);
        assert_eq!(found.authorization_servers.len(), 1);
        assert_eq!(found.scopes_supported.as_slice(), [RString::from("read")]);
        assert_eq!(
            *paths.lock().unwrap(),
            [
                "POST /mcp",
                "GET /.well-known/oauth-protected-resource/mcp",
                "GET /.well-known/oauth-authorization-server/as"
            ]
        );
    }

    #[test]
    fn a_discovery_that_goes_wrong_is_an_error_not_no_oauth() {
        // Another issuer in the authorization server's metadata.
        let (url, _) = serve(|path, origin| match path {
            "/mcp" => CHALLENGE.to_owned(),
            _ => metadata(path, origin, "https://elsewhere.example"),
        });
        let error = probe_result(&url).unwrap_err();
        assert!(
            error.message.contains("names another issuer"),
            "{}",
            error.message
        );
        // No metadata for the authorization server it names.
        let (url, _) = serve(|path, origin| match path {
            "/mcp" => CHALLENGE.to_owned(),
            "/.well-known/oauth-authorization-server/as" => NOT_FOUND.to_owned(),
            _ => metadata(path, origin, ""),
        });
        let error = probe_result(&url).unwrap_err();
        assert!(
            error.message.contains("has no metadata"),
            "{}",
            error.message
        );
        // A 5xx on the way.
        let (url, _) = serve(|path, _| match path {
            "/mcp" => NOT_FOUND.to_owned(),
            _ => SERVER_ERROR.to_owned(),
        });
        let error = probe_result(&url).unwrap_err();
        assert!(error.message.contains("503"), "{}", error.message);
        // Nobody listening.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://{}/mcp", closed.local_addr().unwrap())).unwrap();
        drop(closed);
        let error = probe_result(&url).unwrap_err();
        assert!(
            error.message.contains("cannot be reached"),
            "{}",
            error.message
        );
    }

    #[test]
    fn without_a_challenge_the_well_known_documents_decide() {
        let (url, paths) = serve(|path, origin| match path {
            "/.well-known/oauth-protected-resource" => json_answer(&format!(
                r#"{{"resource":"x","authorization_servers":["{origin}"],"scopes_supported":["read"]}}"#,
            )),
            "/.well-known/oauth-authorization-server" => json_answer(&format!(
                r#"{{"issuer":"{origin}/","authorization_endpoint":"{origin}/a","token_endpoint":"{origin}/t"}}"#
            )),
            _ => NOT_FOUND.to_owned(),
        });
        let found = probe_of(&url);
        assert!(found.oauth);
        assert_eq!(found.scopes_supported.as_slice(), [RString::from("read")]);
        assert_eq!(
            *paths.lock().unwrap(),
            [
                "POST /mcp",
                "GET /.well-known/oauth-protected-resource/mcp",
                "GET /.well-known/oauth-protected-resource",
                "GET /.well-known/oauth-authorization-server"
            ]
        );

        let (url, _) = serve(|_, _| NOT_FOUND.to_owned());
        assert_eq!(probe_of(&url), AuthProbe::default());
    }

    #[test]
    fn a_session_the_probe_opens_is_closed() {
        let (url, paths) = serve(|path, _| {
            match path {
            "/mcp" => "HTTP/1.1 200 OK\r\nmcp-session-id: s1\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}".to_owned(),
            _ => NOT_FOUND.to_owned(),
        }
        });
        assert!(!probe_of(&url).oauth);
        assert_eq!(paths.lock().unwrap()[..2], ["POST /mcp", "DELETE /mcp"]);
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
