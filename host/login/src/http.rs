//! The HTTP client of the login requests: rustls, bounded, Codex's
//! `originator` and a user agent of the same shape as Codex's.

use std::sync::Once;
use std::time::Duration;

use crate::LoginError;

/// How long any one login request may take. The flows wait longer in
/// total (a device code is polled for minutes), one request at a time.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A client that sends `originator` with every request.
pub fn client(originator: &str) -> Result<reqwest::Client, LoginError> {
    install_crypto_provider();
    let mut headers = reqwest::header::HeaderMap::new();
    if let Ok(value) = reqwest::header::HeaderValue::from_str(originator) {
        headers.insert("originator", value);
    }
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(format!("{originator}/{}", env!("CARGO_PKG_VERSION")))
        .default_headers(headers)
        .build()
        .map_err(|error| LoginError::Network(format!("cannot set up the HTTP client: {error}")))
}

/// The text of a transport error with its causes, the URL cut out (an
/// endpoint override may carry credentials in it).
pub fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    match error.url() {
        Some(url) => text
            .replace(&format!(" ({url})"), "")
            .replace(url.as_str(), "the endpoint"),
        None => text,
    }
}

/// Form-encodes `pairs` (`application/x-www-form-urlencoded`).
pub fn form(pairs: &[(&str, &str)]) -> zeroize::Zeroizing<String> {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        serializer.append_pair(key, value);
    }
    zeroize::Zeroizing::new(serializer.finish())
}

/// What a token endpoint's error body says: `error_description`, else
/// `error.message`, else `error` (a code), else a short plain text. Token
/// values never appear in these bodies; the text is cut at 300 characters.
pub fn error_detail(body: &str) -> String {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return "unknown error".to_owned();
    }
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(trimmed) {
        let text = |value: Option<&serde_json::Value>| {
            value
                .and_then(serde_json::Value::as_str)
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        if let Some(description) = text(json.get("error_description")) {
            return description;
        }
        if let Some(message) = text(json.get("error").and_then(|error| error.get("message"))) {
            return message;
        }
        if let Some(code) = text(json.get("error"))
            .or_else(|| text(json.get("error").and_then(|error| error.get("code"))))
        {
            return code;
        }
    }
    trimmed.chars().take(300).collect()
}

/// The error code (`error`, or `error.code`) of a token endpoint's body.
pub fn error_code(body: &str) -> Option<String> {
    let json = serde_json::from_str::<serde_json::Value>(body.trim()).ok()?;
    let error = json.get("error")?;
    error
        .as_str()
        .or_else(|| error.get("code").and_then(serde_json::Value::as_str))
        .map(str::to_owned)
}

/// The `ring` provider for rustls, installed once per process.
fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only when a provider is already installed, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
