//! HTTP plumbing shared by both transports: the client, the headers every
//! request carries, bounded body reads, and one-line error messages.
//!
//! Messages never carry header values or tokens: server text is scrubbed of
//! every configured secret before a snippet of it is shown, and URLs are shown
//! without user info or query.

use std::error::Error as StdError;
use std::sync::{Arc, Once};
use std::time::Duration;

use codex_plugin_api::{ErrorKind, PluginError, PluginResult};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};

use crate::authorize::{Authorizer, Challenge, MAX_AUTHORIZED_RESENDS};
use crate::config::{ResolvedHeaders, display_url};

/// The largest JSON response body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// The largest single SSE event accepted.
pub const MAX_EVENT_BYTES: usize = 64 * 1024 * 1024;
/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 10;
/// How much of an error body is read, and how much of it is shown.
const ERROR_BODY_BYTES: usize = 4096;
const SNIPPET_CHARS: usize = 200;

/// `text/event-stream`.
pub const EVENT_STREAM: &str = "text/event-stream";

/// The client and what every request to one server carries.
pub struct Http {
    /// The server's name, for messages.
    pub server: String,
    /// The configured endpoint.
    pub url: Url,
    client: reqwest::Client,
    headers: HeaderMap,
    secrets: Vec<String>,
    bearer_from: Option<String>,
    authorizer: Option<Arc<dyn Authorizer>>,
}

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// It is larger than the limit.
    TooLarge,
    /// The connection failed while reading it.
    Read(reqwest::Error),
}

impl Http {
    /// A client for `server` at `url` with `headers`, connecting within `connect_timeout`.
    pub fn new(
        server: &str,
        url: Url,
        headers: ResolvedHeaders,
        connect_timeout: Duration,
    ) -> PluginResult<Http> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .user_agent(concat!("codex-mcp-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| {
                PluginError::internal(format!(
                    "cannot set up the HTTP client for MCP server `{server}`: {}",
                    innermost(&error)
                ))
            })?;
        Ok(Http {
            server: server.to_owned(),
            url,
            client,
            headers: headers.headers,
            secrets: headers.secrets,
            bearer_from: headers.bearer_from,
            authorizer: None,
        })
    }

    /// The same client, with `authorizer` putting `Authorization` on every
    /// request sent through [`Http::execute`].
    pub fn with_authorizer(mut self, authorizer: Option<Arc<dyn Authorizer>>) -> Http {
        self.authorizer = authorizer;
        self
    }

    /// Sends a request to `url` with the configured headers, `extra`, and
    /// `body`; with an authorizer, adds its `Authorization` header and, when
    /// the server answers 401 or 403 and the authorizer has renewed it, sends
    /// the request again (at most [`MAX_AUTHORIZED_RESENDS`] times). The last
    /// answer is returned whatever its status.
    pub async fn execute(
        &self,
        method: Method,
        url: &Url,
        extra: Vec<(HeaderName, HeaderValue)>,
        body: Option<&str>,
    ) -> PluginResult<Response> {
        let mut resends = 0;
        loop {
            let mut headers = extra.clone();
            if let Some(authorizer) = &self.authorizer
                && let Some(mut value) = authorizer.authorization().await?
            {
                value.set_sensitive(true);
                headers.push((reqwest::header::AUTHORIZATION, value));
            }
            let mut request = self.request(method.clone(), url, headers);
            if let Some(body) = body {
                request = request.body(body.to_owned());
            }
            let response = self.send(request, url).await?;
            let Some(authorizer) = &self.authorizer else {
                return Ok(response);
            };
            let Some(challenge) = Challenge::of(&response) else {
                return Ok(response);
            };
            if resends == MAX_AUTHORIZED_RESENDS || !authorizer.challenged(&challenge).await? {
                return Ok(response);
            }
            resends += 1;
        }
    }

    /// A request to `url` with the configured headers plus `extra` (which
    /// replace configured headers of the same name, so each is sent once).
    pub fn request(
        &self,
        method: Method,
        url: &Url,
        extra: Vec<(HeaderName, HeaderValue)>,
    ) -> RequestBuilder {
        let mut headers = self.headers.clone();
        for (name, value) in extra {
            headers.insert(name, value);
        }
        self.client.request(method, url.clone()).headers(headers)
    }

    /// Sends `request`, turning a failure to get a response into one line.
    pub async fn send(&self, request: RequestBuilder, url: &Url) -> PluginResult<Response> {
        request
            .send()
            .await
            .map_err(|error| self.transport_error(url, &error))
    }

    /// A failure to reach `url` (or to read from it), in one line.
    pub fn transport_error(&self, url: &Url, error: &reqwest::Error) -> PluginError {
        let shown = display_url(url);
        if error.is_redirect() {
            return PluginError::new(
                ErrorKind::Protocol,
                format!("{shown} redirected more than {MAX_REDIRECTS} times"),
            );
        }
        if error.is_timeout() {
            let what = if error.is_connect() {
                format!("cannot connect to {shown}: timed out")
            } else {
                format!("{shown} did not answer in time")
            };
            return PluginError::new(ErrorKind::Timeout, what);
        }
        if let Some(tls) = find_tls_error(error) {
            return PluginError::new(
                ErrorKind::Unavailable,
                format!("cannot connect to {shown}: TLS handshake failed ({tls})"),
            );
        }
        if let Some(io) = find_io_error(error) {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    return PluginError::new(
                        ErrorKind::Unavailable,
                        format!(
                            "cannot connect to {shown}: connection refused; is the server running?"
                        ),
                    );
                }
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted => {
                    return PluginError::new(
                        ErrorKind::Unavailable,
                        format!("the connection to {shown} was reset by the server"),
                    );
                }
                _ => {}
            }
        }
        if mentions(error, "dns error") {
            let host = url.host_str().unwrap_or_default();
            return PluginError::new(
                ErrorKind::Unavailable,
                format!(
                    "cannot connect to {shown}: cannot resolve host `{host}` ({}); check the URL",
                    innermost(error)
                ),
            );
        }
        if error.is_connect() {
            return PluginError::new(
                ErrorKind::Unavailable,
                format!("cannot connect to {shown}: {}", innermost(error)),
            );
        }
        PluginError::new(
            ErrorKind::Unavailable,
            format!("HTTP request to {shown} failed: {}", innermost(error)),
        )
    }

    /// The error for a 401 or 403 answer.
    pub fn unauthorized(&self, status: StatusCode) -> PluginError {
        let server = &self.server;
        let code = status.as_u16();
        let message = match &self.bearer_from {
            None => format!(
                "MCP server `{server}` requires authorization (HTTP {code}); run `codex mcp login {server}`, or set `bearer_token_env_var`"
            ),
            Some(variable) => format!(
                "MCP server `{server}` rejected the bearer token from `{variable}` (HTTP {code}); check the token, or run `codex mcp login {server}`"
            ),
        };
        PluginError::new(ErrorKind::Unauthorized, message)
    }

    /// The error for an unexpected status, with the start of the body.
    pub fn status_error(&self, status: StatusCode, snippet: &str, what: &str) -> PluginError {
        let body = if snippet.is_empty() {
            " (empty body)".to_owned()
        } else {
            format!(": {snippet}")
        };
        PluginError::new(
            ErrorKind::Unavailable,
            format!(
                "MCP server `{}` answered {} to {what}{body}",
                self.server,
                status_label(status)
            ),
        )
    }

    /// The start of `response`'s body, as one short line without secrets.
    pub async fn snippet(&self, response: &mut Response) -> String {
        let mut bytes = Vec::new();
        while bytes.len() < ERROR_BODY_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        bytes.truncate(ERROR_BODY_BYTES);
        self.shorten(&String::from_utf8_lossy(&bytes))
    }

    /// `text` scrubbed of secrets, on one line, at most 200 characters.
    pub fn shorten(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            if !secret.is_empty() {
                text = text.replace(secret.as_str(), "****");
            }
        }
        // An HTML error page says what it says in its text, not its markup.
        if text.trim_start().starts_with('<') {
            text = strip_tags(&text);
        }
        let words: Vec<&str> = text.split_whitespace().collect();
        let line = words.join(" ");
        match line.char_indices().nth(SNIPPET_CHARS) {
            Some((cut, _)) => format!("{}…", &line[..cut]),
            None => line,
        }
    }
}

/// `html` without its tags (each replaced by a space).
fn strip_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// `HTTP 404 Not Found`.
pub fn status_label(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

/// The media type of `response` (`text/event-stream`), lower case, without parameters.
pub fn media_type(response: &Response) -> Option<String> {
    let value = response.headers().get(CONTENT_TYPE)?.to_str().ok()?;
    let media = value.split(';').next().unwrap_or_default().trim();
    Some(media.to_ascii_lowercase())
}

/// Whether `media` is JSON (`application/json` or `application/*+json`).
pub fn is_json(media: &str) -> bool {
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// Reads the whole body, refusing more than `limit` bytes.
pub async fn read_limited(response: &mut Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A header value the server must accept: visible ASCII.
pub fn header(text: &str) -> Option<HeaderValue> {
    if !text.is_empty() && text.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        HeaderValue::from_str(text).ok()
    } else {
        None
    }
}

/// The `ring` provider for rustls, installed once per process (this library
/// has its own copy of rustls, so the choice does not leak into the host).
fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only when a provider is already installed, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn chain(error: &reqwest::Error) -> impl Iterator<Item = &(dyn StdError + 'static)> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(error);
    std::iter::from_fn(move || {
        let current = next?;
        next = current.source();
        Some(current)
    })
}

/// Every error in the chain, looking inside `io::Error`s too: one that wraps
/// another error hides it from `source()` (which skips to the inner error's
/// own source), and TLS errors travel as `io::Error(io::Error(rustls::Error))`.
fn causes(error: &reqwest::Error) -> Vec<&(dyn StdError + 'static)> {
    let mut found = Vec::new();
    for cause in chain(error) {
        found.push(cause);
        let mut io = cause.downcast_ref::<std::io::Error>();
        while let Some(inner) = io.and_then(std::io::Error::get_ref) {
            let inner: &(dyn StdError + 'static) = inner;
            found.push(inner);
            io = inner.downcast_ref::<std::io::Error>();
        }
    }
    found
}

/// The innermost `io::Error` (its kind is the one that says what happened).
fn find_io_error(error: &reqwest::Error) -> Option<&std::io::Error> {
    causes(error)
        .into_iter()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .last()
}

fn find_tls_error(error: &reqwest::Error) -> Option<String> {
    causes(error)
        .into_iter()
        .find_map(|cause| cause.downcast_ref::<rustls::Error>())
        .map(ToString::to_string)
}

fn mentions(error: &reqwest::Error, needle: &str) -> bool {
    chain(error).any(|cause| cause.to_string().contains(needle))
}

/// The deepest cause's message: the one that says what happened.
fn innermost(error: &reqwest::Error) -> String {
    chain(error)
        .last()
        .map(ToString::to_string)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HttpConfig;

    fn http(config: &str, env: &[(&str, &str)]) -> Http {
        let config = HttpConfig::parse("web", config).unwrap();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let headers = config
            .resolve_headers("web", |name| {
                env.iter().find(|(k, _)| k == name).map(|(_, v)| v.into())
            })
            .unwrap();
        Http::new("web", config.url, headers, Duration::from_secs(1)).unwrap()
    }

    #[test]
    fn snippets_are_one_short_line_without_secrets() {
        let http = http(
            r#"{"url":"http://127.0.0.1:1/","bearer_token_env_var":"T","http_headers":{"X-Key":"hdr-secret"}}"#,
            &[("T", "tok-secret")],
        );
        let text = format!(
            "error:\n  token tok-secret and\theader hdr-secret {}",
            "x".repeat(300)
        );
        let shown = http.shorten(&text);
        assert!(
            shown.starts_with("error: token **** and header **** xxx"),
            "{shown}"
        );
        assert_eq!(shown.chars().count(), SNIPPET_CHARS + 1);
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn html_error_pages_are_shown_as_text() {
        let http = http(r#"{"url":"http://127.0.0.1:1/"}"#, &[]);
        assert_eq!(
            http.shorten("<!DOCTYPE html>\n<html><head><title>Error</title></head><body><pre>Cannot POST /x</pre></body></html>"),
            "Error Cannot POST /x"
        );
        assert_eq!(http.shorten("a < b > c"), "a < b > c");
    }

    #[test]
    fn unauthorized_messages_point_at_the_fix() {
        let plain = http(r#"{"url":"http://127.0.0.1:1/"}"#, &[]);
        let error = plain.unauthorized(StatusCode::UNAUTHORIZED);
        assert_eq!(error.kind, ErrorKind::Unauthorized);
        assert_eq!(
            error.message.as_str(),
            "MCP server `web` requires authorization (HTTP 401); run `codex mcp login web`, or set `bearer_token_env_var`"
        );
        let bearer = http(
            r#"{"url":"http://127.0.0.1:1/","bearer_token_env_var":"T"}"#,
            &[("T", "x")],
        );
        assert_eq!(
            bearer.unauthorized(StatusCode::FORBIDDEN).message.as_str(),
            "MCP server `web` rejected the bearer token from `T` (HTTP 403); check the token, or run `codex mcp login web`"
        );
    }

    #[test]
    fn media_types_are_recognised() {
        assert!(is_json("application/json"));
        assert!(is_json("application/vnd.x+json"));
        assert!(!is_json("text/html"));
        assert_eq!(status_label(StatusCode::NOT_FOUND), "HTTP 404 Not Found");
        assert!(header("abc-123").is_some());
        assert!(header("a b").is_none());
        assert!(header("").is_none());
    }
}
