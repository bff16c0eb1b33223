//! The HTTP requests of a login: metadata, registration, token, revocation.
//!
//! The server's configured headers (`http_headers`, `env_http_headers`) go
//! to the MCP server's own origin only, never to another one (an
//! authorization server elsewhere has no business seeing them). Every
//! request is bounded in time and every body in size; messages never show a
//! header value, a token or a query string.

use std::time::Duration;

use base64::Engine as _;
use codex_http_common::config::{ResolvedHeaders, display_url};
use codex_http_common::http::{BodyError, Http, read_limited};
use codex_plugin_api::{ErrorKind, PluginError, PluginResult};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Response, StatusCode, Url};
use serde_json::Value;

use crate::config::ServerConfig;

/// Metadata, registration and token answers are small.
const BODY_LIMIT: usize = 1024 * 1024;
/// How long one request to an authorization server may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An answer: its status and its body as JSON (`Null` when it is not JSON).
pub struct Answer {
    pub status: StatusCode,
    pub json: Value,
}

/// The HTTP client of one login or refresh.
pub struct Net {
    /// Carries the configured headers; for the MCP server's origin only.
    own: Http,
    /// Carries none; for every other origin.
    foreign: Http,
    timeout: Duration,
}

/// How a client authenticates at the token endpoint.
pub enum ClientAuth<'a> {
    /// A public client: `client_id` in the body.
    None { client_id: &'a str },
    /// `client_secret_basic`: an `Authorization: Basic` header.
    Basic { client_id: &'a str, secret: &'a str },
    /// `client_secret_post`: both in the body.
    Post { client_id: &'a str, secret: &'a str },
    /// `private_key_jwt`: a signed assertion in the body (RFC 7523 section 2.2).
    Assertion {
        client_id: &'a str,
        assertion: zeroize::Zeroizing<String>,
    },
    /// No client authentication and no `client_id` (an identity provider
    /// that knows the client from the token it is given).
    Anonymous,
}

/// `client_assertion_type` of a JWT client assertion.
const JWT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

impl Net {
    /// A client for `server`, each request within `timeout`.
    pub fn new(server: &ServerConfig, timeout: Duration) -> PluginResult<Net> {
        let headers = server
            .http
            .resolve_headers(&server.name, |name| std::env::var_os(name))?;
        let empty = ResolvedHeaders {
            headers: HeaderMap::new(),
            secrets: headers.secrets.clone(),
            bearer_from: None,
            omitted: Vec::new(),
        };
        let url = server.http.url.clone();
        Ok(Net {
            own: Http::new(&server.name, url.clone(), headers, timeout)?,
            foreign: Http::new(&server.name, url, empty, timeout)?,
            timeout,
        })
    }

    /// The server's name.
    pub fn server(&self) -> &str {
        &self.own.server
    }

    /// `text` on one short line, without secrets.
    pub fn shorten(&self, text: &str) -> String {
        self.own.shorten(text)
    }

    fn http_for(&self, url: &Url) -> &Http {
        if url.origin() == self.own.url.origin() {
            &self.own
        } else {
            &self.foreign
        }
    }

    /// Sends `method` to `url` with `headers` and `body`, within the timeout.
    pub async fn send(
        &self,
        method: Method,
        url: &Url,
        headers: Vec<(HeaderName, HeaderValue)>,
        body: Option<String>,
    ) -> PluginResult<Response> {
        let http = self.http_for(url);
        let mut request = http.request(method, url, headers);
        if let Some(body) = body {
            request = request.body(body);
        }
        match tokio::time::timeout(self.timeout, http.send(request, url)).await {
            Ok(answer) => answer,
            Err(_) => Err(PluginError::new(
                ErrorKind::Timeout,
                format!(
                    "{} did not answer in {} s",
                    display_url(url),
                    self.timeout.as_secs()
                ),
            )),
        }
    }

    /// GETs a JSON document; `None` when the answer is not a 2xx JSON object.
    pub async fn get_json(&self, url: &Url) -> PluginResult<Option<Value>> {
        let accept = (ACCEPT, HeaderValue::from_static("application/json"));
        let answer = self.answer(Method::GET, url, vec![accept], None).await?;
        Ok(match answer.json {
            Value::Object(_) if answer.status.is_success() => Some(answer.json),
            _ => None,
        })
    }

    /// POSTs a form (`application/x-www-form-urlencoded`) with client
    /// authentication `auth`.
    pub async fn post_form(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        auth: &ClientAuth<'_>,
    ) -> PluginResult<Answer> {
        let mut pairs: Vec<(&str, &str)> = form.to_vec();
        let mut headers = vec![
            (ACCEPT, HeaderValue::from_static("application/json")),
            (
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            ),
        ];
        match auth {
            ClientAuth::Anonymous => {}
            ClientAuth::None { client_id } => pairs.push(("client_id", client_id)),
            ClientAuth::Assertion {
                client_id,
                assertion,
            } => {
                pairs.push(("client_id", client_id));
                pairs.push(("client_assertion_type", JWT_ASSERTION_TYPE));
                pairs.push(("client_assertion", assertion.as_str()));
            }
            ClientAuth::Post { client_id, secret } => {
                pairs.push(("client_id", client_id));
                pairs.push(("client_secret", secret));
            }
            ClientAuth::Basic { client_id, secret } => {
                // RFC 6749 section 2.3.1: both are form-encoded first.
                let credentials = format!("{}:{}", form_encode(client_id), form_encode(secret));
                let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
                let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
                    .map_err(|_| PluginError::internal("cannot build the client credentials"))?;
                value.set_sensitive(true);
                headers.push((AUTHORIZATION, value));
            }
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.answer(Method::POST, url, headers, Some(body)).await
    }

    /// POSTs a JSON document.
    pub async fn post_json(&self, url: &Url, body: &Value) -> PluginResult<Answer> {
        let headers = vec![
            (ACCEPT, HeaderValue::from_static("application/json")),
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
        ];
        self.answer(Method::POST, url, headers, Some(body.to_string()))
            .await
    }

    async fn answer(
        &self,
        method: Method,
        url: &Url,
        headers: Vec<(HeaderName, HeaderValue)>,
        body: Option<String>,
    ) -> PluginResult<Answer> {
        let mut response = self.send(method, url, headers, body).await?;
        let status = response.status();
        let read = tokio::time::timeout(self.timeout, read_limited(&mut response, BODY_LIMIT));
        let bytes = match read.await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(BodyError::TooLarge)) => {
                return Err(PluginError::new(
                    ErrorKind::Protocol,
                    format!(
                        "the answer of {} is larger than {} KiB",
                        display_url(url),
                        BODY_LIMIT / 1024
                    ),
                ));
            }
            Ok(Err(BodyError::Read(error))) => {
                return Err(self.http_for(url).transport_error(url, &error));
            }
            Err(_) => {
                return Err(PluginError::new(
                    ErrorKind::Timeout,
                    format!(
                        "{} did not finish its answer in {} s",
                        display_url(url),
                        self.timeout.as_secs()
                    ),
                ));
            }
        };
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Answer { status, json })
    }
}

impl Answer {
    /// What an error answer says, on one line without secrets: the OAuth
    /// `error` and `error_description` (RFC 6749 section 5.2), else the status.
    pub fn error_text(&self, net: &Net) -> String {
        let field = |key: &str| self.json.get(key).and_then(Value::as_str);
        let status = codex_http_common::http::status_label(self.status);
        match (field("error"), field("error_description")) {
            (Some(error), Some(description)) => {
                net.shorten(&format!("{error}: {description} ({status})"))
            }
            (Some(error), None) => net.shorten(&format!("{error} ({status})")),
            _ => status,
        }
    }
}

/// `text` encoded as a form value.
fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Whether `url` may carry OAuth traffic: HTTPS, or plain HTTP to a
/// loopback host (a local test or a local provider).
pub fn secure_enough(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => is_loopback(url),
        _ => false,
    }
}

/// Whether `url`'s host is this machine.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_secure_enough() {
        for (url, expected) in [
            ("https://as.example.com/", true),
            ("http://127.0.0.1:9/", true),
            ("http://localhost:9/x", true),
            ("http://[::1]:9/", true),
            ("http://as.example.com/", false),
            ("http://10.0.0.1/", false),
            ("ftp://127.0.0.1/", false),
        ] {
            assert_eq!(secure_enough(&Url::parse(url).unwrap()), expected, "{url}");
        }
    }

    #[test]
    fn basic_credentials_are_form_encoded() {
        assert_eq!(form_encode("a b:c/é"), "a+b%3Ac%2F%C3%A9");
    }
}
