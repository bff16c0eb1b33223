//! Finding out, without logging in, whether a server asks for OAuth (for
//! `codex mcp list` and the login `codex mcp add` starts).
//!
//! - The server is asked the way a session starts: an unauthenticated POST
//!   of `initialize`. A 401 whose `WWW-Authenticate: Bearer` challenge names
//!   `resource_metadata` settles it with that one request: that is how a
//!   server using MCP authorization answers (RFC 9728 section 5.1), and some
//!   name their metadata nowhere else (a GET may just be 404 or 405). The
//!   documents it names are not fetched, so a slow authorization server
//!   does not slow the listing; `codex mcp login` reads them when it needs
//!   them. A session the server opens instead is closed again.
//! - Otherwise RFC 9728 protected-resource metadata at the well-known paths,
//!   then RFC 8414 / OpenID authorization-server metadata at the server's
//!   origin.
//! - A server that cannot be reached at all is an error, not "no OAuth".

use std::time::Duration;

use codex_plugin_api::abi_stable::std_types::{RString, RVec};
use codex_plugin_api::{AuthProbe, PluginError, PluginResult};
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
            Ok(found) => found,
            Err(_) => Err(PluginError::new(
                codex_plugin_api::ErrorKind::Timeout,
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

async fn discover(http: &Http, url: &Url) -> PluginResult<AuthProbe> {
    // 1. The challenge on the endpoint itself.
    if challenge_names_resource_metadata(http, url).await? {
        return Ok(AuthProbe {
            oauth: true,
            ..AuthProbe::default()
        });
    }
    Ok(discover_documents(http, url).await)
}

/// Steps 2 and 3: the well-known documents.
async fn discover_documents(http: &Http, url: &Url) -> AuthProbe {
    // 2. RFC 9728 well-known locations: path-specific first, then the root.
    for candidate in well_known(url, "oauth-protected-resource") {
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

/// Whether an unauthenticated POST of `initialize` answers 401 with a
/// `Bearer` challenge naming the server's protected-resource metadata; an
/// error when the server cannot be reached.
async fn challenge_names_resource_metadata(http: &Http, url: &Url) -> PluginResult<bool> {
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
    let response = http.send(request, url).await?;
    let named = response.status() == StatusCode::UNAUTHORIZED
        && response
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .any(|challenge| names_resource_metadata(challenge, url));
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

    /// Serves `answer(path)` for each request on 127.0.0.1 and records the paths.
    fn serve(
        answer: impl Fn(&str) -> String + Send + 'static,
    ) -> (Url, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://{}/mcp", listener.local_addr().unwrap())).unwrap();
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
                let mut words = request_line.split_whitespace();
                let method = words.next().unwrap_or("?").to_owned();
                let path = format!("{method} {}", words.next().unwrap_or("/"));
                // Recorded before answering, so the probe cannot return first.
                seen.lock().unwrap().push(path.clone());
                let _ = stream.write_all(answer(&path).as_bytes());
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

    fn try_probe(url: &Url) -> PluginResult<AuthProbe> {
        let config = HttpConfig::parse("web", &format!(r#"{{"url":"{url}"}}"#)).unwrap();
        probe("web", &config, Duration::from_secs(10))
    }

    fn probe_of(url: &Url) -> AuthProbe {
        try_probe(url).unwrap()
    }

    /// A server that answers GET with 404 and names its metadata only in
    /// the challenge to a POST (the conformance suite's `auth/metadata-var3`).
    #[test]
    fn the_challenge_comes_from_the_post_a_session_starts_with() {
        let (url, paths) = serve(|path| {
            match path {
            "POST /mcp" => "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Bearer resource_metadata=\"/custom/metadata/location.json\"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned(),
            _ => NOT_FOUND.to_owned(),
        }
        });
        assert!(probe_of(&url).oauth);
        assert_eq!(*paths.lock().unwrap(), ["POST /mcp"]);
    }

    #[test]
    fn a_session_opened_by_the_probe_is_closed_and_an_unreachable_server_is_an_error() {
        let (url, paths) = serve(|path| {
            match path {
            "POST /mcp" => "HTTP/1.1 200 OK\r\nmcp-session-id: s1\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}".to_owned(),
            _ => NOT_FOUND.to_owned(),
        }
        });
        assert!(!probe_of(&url).oauth);
        assert_eq!(paths.lock().unwrap()[..2], ["POST /mcp", "DELETE /mcp"]);

        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://{}/mcp", closed.local_addr().unwrap())).unwrap();
        drop(closed);
        assert!(try_probe(&url).is_err());
    }

    #[test]
    fn a_challenge_naming_metadata_is_enough_and_nothing_more_is_fetched() {
        let (url, paths) = serve(|path| {
            match path {
            "POST /mcp" => "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Bearer resource_metadata=\"/.well-known/oauth-protected-resource/mcp\"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned(),
            _ => json_answer(r#"{"resource":"x","authorization_servers":["http://as"]}"#),
        }
        });
        let found = probe_of(&url);
        assert!(found.oauth);
        assert!(found.authorization_servers.is_empty());
        assert_eq!(*paths.lock().unwrap(), ["POST /mcp"]);
    }

    #[test]
    fn without_a_challenge_the_well_known_documents_decide() {
        let (url, paths) = serve(|path| match path {
            "GET /.well-known/oauth-protected-resource" => json_answer(
                r#"{"resource":"x","authorization_servers":["http://as"],"scopes_supported":["read"]}"#,
            ),
            _ => NOT_FOUND.to_owned(),
        });
        let found = probe_of(&url);
        assert!(found.oauth);
        assert_eq!(
            found.authorization_servers.as_slice(),
            [RString::from("http://as")]
        );
        assert_eq!(found.scopes_supported.as_slice(), [RString::from("read")]);
        assert_eq!(
            *paths.lock().unwrap(),
            [
                "POST /mcp",
                "GET /.well-known/oauth-protected-resource/mcp",
                "GET /.well-known/oauth-protected-resource"
            ]
        );

        let (url, _) = serve(|_| NOT_FOUND.to_owned());
        assert_eq!(probe_of(&url), AuthProbe::default());
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
