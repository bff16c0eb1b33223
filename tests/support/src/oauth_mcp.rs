//! An MCP server on 127.0.0.1 that is its own OAuth authorization server,
//! for tests of where `codex mcp login` keeps tokens and who can read them.
//!
//! - `/mcp`: MCP (an `echo` tool) for requests with the issued access token,
//!   or with one of the other credentials it was told to accept (a bearer
//!   token, a header); else 401 with RFC 9728 protected-resource metadata.
//! - `/plain`: the same MCP server, but a 401 without metadata: a server
//!   that takes only configured credentials.
//! - The authorization server: metadata (RFC 8414, with a revocation
//!   endpoint), dynamic registration, an authorization endpoint that
//!   redirects straight back with a code, a token endpoint that issues the
//!   tokens given, and revocation that accepts anything.
//!
//! Built on [`crate::server`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use serde_json::json;

use crate::server::{Request, TestServer, echo_mcp};

/// What runs when the token endpoint is called, before it answers (a test
/// stops a keyring there, while `codex mcp login` is waiting).
pub type Hook = Arc<dyn Fn() + Send + Sync>;

/// The tokens the server issues and the credentials it accepts.
#[derive(Clone)]
pub struct Grant {
    /// The access token the token endpoint issues.
    pub access_token: String,
    /// The refresh token it issues.
    pub refresh_token: String,
    /// Other `(header, value)` pairs `/mcp` and `/plain` accept, such as
    /// `("authorization", "Bearer T")` or `("x-api-key", "K")`.
    pub also_accepted: Vec<(String, String)>,
    /// Runs on each call of the token endpoint.
    pub before_token: Option<Hook>,
    /// Makes registration issue a confidential client with this secret
    /// (`client_secret_post`); `None`: a public client.
    pub client_secret: Option<String>,
}

impl Grant {
    /// Issues `access_token` and `refresh_token`; accepts nothing else.
    pub fn new(access_token: &str, refresh_token: &str) -> Self {
        Grant {
            access_token: access_token.to_owned(),
            refresh_token: refresh_token.to_owned(),
            also_accepted: Vec::new(),
            before_token: None,
            client_secret: None,
        }
    }
}

/// Whether `request` carries a credential the server accepts.
fn authorized(request: &Request, grant: &Grant) -> bool {
    let issued = format!("Bearer {}", grant.access_token);
    if request.header("authorization") == Some(issued.as_str()) {
        return true;
    }
    grant
        .also_accepted
        .iter()
        .any(|(name, value)| request.header(name) == Some(value.as_str()))
}

/// The value of `key` in a query string or form body.
fn param(text: &str, key: &str) -> String {
    url::form_urlencoded::parse(text.as_bytes())
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// Starts the server; `server.url("/mcp")` is the OAuth-protected MCP URL.
pub fn start(grant: Grant) -> TestServer {
    let sessions = AtomicUsize::new(0);
    // The port is known only once the server runs; the handler reads the
    // origin from the request's Host header instead.
    TestServer::start(move |request, reply| {
        let origin = format!("http://{}", request.header("host").unwrap_or("127.0.0.1"));
        let (path, query) = request
            .path
            .split_once('?')
            .unwrap_or((request.path.as_str(), ""));
        match path {
            "/mcp" | "/plain" if authorized(request, &grant) => echo_mcp(request, reply, &sessions),
            "/mcp" => {
                let challenge = format!(
                    "Bearer resource_metadata=\"{origin}/.well-known/oauth-protected-resource/mcp\""
                );
                reply.send(401, "", &[("WWW-Authenticate", challenge.as_str())], "");
            }
            "/plain" => reply.send(401, "", &[("WWW-Authenticate", "Bearer")], ""),
            "/.well-known/oauth-protected-resource/mcp" => reply.json(
                200,
                &[],
                &json!({"resource": format!("{origin}/mcp"), "authorization_servers": [origin]}),
            ),
            "/.well-known/oauth-authorization-server" => reply.json(
                200,
                &[],
                &json!({
                    "issuer": origin,
                    "authorization_endpoint": format!("{origin}/authorize"),
                    "token_endpoint": format!("{origin}/token"),
                    "registration_endpoint": format!("{origin}/register"),
                    "revocation_endpoint": format!("{origin}/revoke"),
                    "code_challenge_methods_supported": ["S256"],
                }),
            ),
            "/register" => reply.json(
                201,
                &[],
                &match &grant.client_secret {
                    None => json!({
                        "client_id": "store-test-client",
                        "token_endpoint_auth_method": "none"
                    }),
                    // A confidential client's answer echoes its metadata,
                    // as RFC 7591 asks (Codex requires `redirect_uris`).
                    Some(secret) => json!({
                        "client_id": "store-test-client",
                        "client_secret": secret,
                        "redirect_uris": request.json()["redirect_uris"],
                        "token_endpoint_auth_method": "client_secret_post"
                    }),
                },
            ),
            "/authorize" => {
                let mut location = match url::Url::parse(&param(query, "redirect_uri")) {
                    Ok(location) => location,
                    Err(_) => return reply.send(400, "text/plain", &[], "bad redirect_uri"),
                };
                location
                    .query_pairs_mut()
                    .append_pair("code", "the-code")
                    .append_pair("state", &param(query, "state"));
                reply.send(307, "", &[("Location", location.as_str())], "");
            }
            "/token" => {
                if let Some(hook) = &grant.before_token {
                    hook();
                }
                reply.json(
                    200,
                    &[],
                    &json!({
                        "access_token": grant.access_token,
                        "token_type": "Bearer",
                        "expires_in": 3600,
                        "refresh_token": grant.refresh_token,
                    }),
                );
            }
            "/revoke" => reply.send(200, "", &[], ""),
            _ => reply.send(404, "", &[], ""),
        }
    })
}

/// A `$BROWSER` in `dir` that goes to the authorization URL, takes its
/// redirect and goes there (the login's callback), as a person's browser
/// would after they approve.
pub fn browser(dir: &Path) -> PathBuf {
    let path = dir.join("browser.py");
    let script = r#"#!/usr/bin/env python3
import sys, urllib.error, urllib.request
class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
try:
    urllib.request.build_opener(Stay).open(sys.argv[1], timeout=30)
    sys.exit("browser.py: no redirect")
except urllib.error.HTTPError as answer:
    location = answer.headers["Location"]
try:
    urllib.request.urlopen(location, timeout=60)
except urllib.error.HTTPError as answer:
    print(f"browser.py: {answer.code}", file=sys.stderr)
"#;
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}
