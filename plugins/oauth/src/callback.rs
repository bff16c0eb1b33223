//! The end of an authorization: the browser comes back to the redirect URI
//! with a code. Either a loopback listener receives it (on 127.0.0.1, the
//! exact path, nothing else accepted), or the user pastes the URL the
//! browser ended at (`--no-browser`, for SSH and containers).
//!
//! Every answer is judged the same way: `state` must be this login's (a
//! mismatch is refused and the wait goes on), `iss` must be the issuer's
//! when present or when the server promised it (RFC 9207), and an `error`
//! ends the login with the server's reason.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use codex_plugin_api::{ErrorKind, PluginError, PluginResult};
use reqwest::Url;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use zeroize::Zeroizing;

use crate::config::LoginOptions;
use crate::net::is_loopback;

/// The page shown when the login worked.
const SUCCESS_PAGE: &str = "Authentication complete. You may close this window.";
/// The largest request head the listener reads.
const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// How long one browser connection may take to send its request.
const REQUEST_WAIT: Duration = Duration::from_secs(10);

/// What an answer must carry to be this login's.
pub struct Expected<'a> {
    pub server: &'a str,
    pub state: &'a str,
    pub issuer: &'a str,
    /// The server promised `iss` (`authorization_response_iss_parameter_supported`).
    pub iss_required: bool,
}

/// The judgement of one answer.
#[derive(Debug)]
pub enum Verdict {
    /// The authorization code.
    Code(Zeroizing<String>),
    /// Not this login's answer: refused, and the wait goes on.
    Refused(String),
    /// This login's answer, and it failed.
    Failed(PluginError),
}

/// Judges the query of an answer.
pub fn judge(query: &str, expected: &Expected<'_>) -> Verdict {
    let pairs: Vec<(String, Zeroizing<String>)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| (key.into_owned(), Zeroizing::new(value.into_owned())))
        .collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let server = expected.server;
    if get("state") != Some(expected.state) {
        return Verdict::Refused(
            "Invalid OAuth callback: it is not the answer to this login (the state does not match)"
                .to_owned(),
        );
    }
    match get("iss") {
        Some(iss) if iss != expected.issuer => {
            // The error text of such an answer is not shown: it is not the
            // server's (RFC 9207 section 2.4).
            return Verdict::Failed(PluginError::new(
                ErrorKind::Unauthorized,
                format!(
                    "the answer to the login of MCP server `{server}` comes from issuer `{iss}`, not `{}`; it was discarded (a mix-up attack, or a misconfigured server)",
                    expected.issuer
                ),
            ));
        }
        None if expected.iss_required => {
            return Verdict::Failed(PluginError::new(
                ErrorKind::Unauthorized,
                format!(
                    "the answer to the login of MCP server `{server}` has no `iss` although its authorization server promised one; it was discarded"
                ),
            ));
        }
        _ => {}
    }
    if let Some(error) = get("error") {
        let description = get("error_description")
            .map(|text| format!(": {}", one_line(text)))
            .unwrap_or_default();
        return Verdict::Failed(PluginError::new(
            ErrorKind::Unauthorized,
            format!(
                "the authorization server refused the login of MCP server `{server}`: {}{description}",
                one_line(error)
            ),
        ));
    }
    match get("code").filter(|code| !code.is_empty()) {
        Some(code) => Verdict::Code(Zeroizing::new(code.to_owned())),
        None => Verdict::Refused("Invalid OAuth callback: it carries no code".to_owned()),
    }
}

/// Judges a URL the user pasted: it must be the redirect URI with a query.
pub fn judge_pasted(text: &str, redirect_uri: &str, expected: &Expected<'_>) -> Verdict {
    let text = text.trim();
    let (Ok(pasted), Ok(redirect)) = (Url::parse(text), Url::parse(redirect_uri)) else {
        return Verdict::Refused(
            "that is not a URL; paste the whole address the browser ended at".to_owned(),
        );
    };
    if pasted.origin() != redirect.origin() || pasted.path() != redirect.path() {
        return Verdict::Refused(format!(
            "that URL is not the redirect address of this login (it should start with {redirect_uri})"
        ));
    }
    judge(pasted.query().unwrap_or_default(), expected)
}

/// A configured redirect URI: as written, or with the listener's port.
enum FixedUri {
    Verbatim(String),
    WithPort(Url),
}

/// The loopback listener of one login.
pub struct Listener {
    listener: TcpListener,
    path: String,
    /// The redirect URI to register and send.
    pub redirect_uri: String,
}

impl Listener {
    /// Listens where the options say: on the port and path of
    /// `callback_url` when given (on every interface when its host is not
    /// loopback, as the redirect then comes from elsewhere; a loopback one
    /// without a port, such as the `http://127.0.0.1/callback/ID` that
    /// `codex mcp add` writes, gets `callback_port` or any free port, as
    /// RFC 8252 lets native clients do), else on 127.0.0.1 at
    /// `callback_port`, else at `reuse_port` when it is free (the port of
    /// an earlier login, whose registered client then still fits), else any
    /// free port, path `/callback`.
    pub async fn bind(options: &LoginOptions, reuse_port: Option<u16>) -> PluginResult<Listener> {
        let (address, path, fixed_uri) = match &options.callback_url {
            Some(text) => {
                let url = Url::parse(text).map_err(|_| {
                    PluginError::invalid_config(format!(
                        "the OAuth callback URL `{text}` is not a URL; fix `callback_url` in `[mcp_servers.NAME.oauth]` or `mcp_oauth_callback_url`"
                    ))
                })?;
                let loopback = is_loopback(&url);
                let port = options
                    .callback_port
                    .or_else(|| url.port())
                    .or_else(|| url.port_or_known_default().filter(|_| !loopback))
                    .unwrap_or(0);
                let ip = match url.host() {
                    Some(url::Host::Ipv6(ip)) if ip.is_loopback() => IpAddr::V6(ip),
                    _ if loopback => IpAddr::V4(Ipv4Addr::LOCALHOST),
                    _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                };
                let fixed = if loopback && url.port().is_none() {
                    FixedUri::WithPort(url.clone())
                } else {
                    FixedUri::Verbatim(text.clone())
                };
                (
                    SocketAddr::new(ip, port),
                    url.path().to_owned(),
                    Some(fixed),
                )
            }
            None => (
                SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::LOCALHOST),
                    options.callback_port.unwrap_or(0),
                ),
                "/callback".to_owned(),
                None,
            ),
        };
        let reused = match (
            options.callback_port,
            options.callback_url.as_ref(),
            reuse_port,
        ) {
            (None, None, Some(port)) => TcpListener::bind(SocketAddr::new(address.ip(), port))
                .await
                .ok(),
            _ => None,
        };
        let listener = match reused {
            Some(listener) => Ok(listener),
            None => TcpListener::bind(address).await,
        };
        let listener = listener.map_err(|error| {
            PluginError::io(format!(
                "cannot listen for the OAuth callback on {address}: {error}{}",
                if address.port() == 0 {
                    String::new()
                } else {
                    "; choose another port with `--callback-port` or `mcp_oauth_callback_port`"
                        .to_owned()
                }
            ))
        })?;
        let port = listener
            .local_addr()
            .map_err(|error| PluginError::io(format!("cannot read the callback address: {error}")))?
            .port();
        let redirect_uri = match fixed_uri {
            Some(FixedUri::Verbatim(text)) => text,
            Some(FixedUri::WithPort(mut url)) => {
                // Setting the port of an http URL cannot fail.
                let _ = url.set_port(Some(port));
                url.to_string()
            }
            None => format!("http://127.0.0.1:{port}{path}"),
        };
        Ok(Listener {
            listener,
            path,
            redirect_uri,
        })
    }

    /// Answers browsers until one brings this login's answer, which it
    /// returns (or its failure). The caller bounds the wait.
    pub async fn wait(&self, expected: &Expected<'_>) -> PluginResult<Zeroizing<String>> {
        loop {
            let Ok((stream, _)) = self.listener.accept().await else {
                // Out of descriptors, say: wait a little rather than spin.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            match tokio::time::timeout(REQUEST_WAIT, self.serve(stream, expected)).await {
                Ok(Some(Verdict::Code(code))) => return Ok(code),
                Ok(Some(Verdict::Failed(error))) => return Err(error),
                _ => {}
            }
        }
    }

    /// Reads one request and answers it; `None` when it was not a callback.
    async fn serve(&self, mut stream: TcpStream, expected: &Expected<'_>) -> Option<Verdict> {
        let target = read_target(&mut stream).await?;
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        if path != self.path {
            respond(&mut stream, "404 Not Found", "Not found.").await;
            return None;
        }
        let verdict = judge(query, expected);
        match &verdict {
            Verdict::Code(_) => respond(&mut stream, "200 OK", SUCCESS_PAGE).await,
            Verdict::Refused(reason) => respond(&mut stream, "400 Bad Request", reason).await,
            Verdict::Failed(error) => {
                let page = format!("Login failed: {}", error.message);
                respond(&mut stream, "400 Bad Request", &page).await;
            }
        }
        Some(verdict)
    }
}

/// The request target of a `GET` request; `None` for anything else.
async fn read_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 2048];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 || head.len() + read > MAX_REQUEST_BYTES {
            return None;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let line = head.split(|byte| *byte == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("GET"), Some(target), Some(version)) if version.starts_with("HTTP/1.") => {
            Some(target.to_owned())
        }
        _ => None,
    }
}

async fn respond(stream: &mut TcpStream, status: &str, message: &str) {
    let body = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Codex</title></head><body><p>{}</p></body></html>",
        escape_html(message)
    );
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // The browser may be gone; the login's outcome does not depend on it.
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Server-chosen text on one line, bounded.
fn one_line(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPECTED: Expected<'static> = Expected {
        server: "docs",
        state: "st",
        issuer: "https://as.example",
        iss_required: false,
    };

    fn code(verdict: Verdict) -> String {
        match verdict {
            Verdict::Code(code) => code.to_string(),
            other => panic!("expected a code, got {other:?}"),
        }
    }

    fn message(verdict: Verdict) -> String {
        match verdict {
            Verdict::Refused(reason) => format!("refused: {reason}"),
            Verdict::Failed(error) => format!("failed: {}", error.message),
            Verdict::Code(_) => "code".to_owned(),
        }
    }

    #[test]
    fn answers_are_judged() {
        assert_eq!(code(judge("code=c1&state=st", &EXPECTED)), "c1");
        assert_eq!(
            code(judge(
                "code=c1&state=st&iss=https%3A%2F%2Fas.example",
                &EXPECTED
            )),
            "c1"
        );
        for (query, needle) in [
            (
                "code=c1&state=other",
                "refused: Invalid OAuth callback: it is not the answer",
            ),
            (
                "code=c1",
                "refused: Invalid OAuth callback: it is not the answer",
            ),
            (
                "state=st",
                "refused: Invalid OAuth callback: it carries no code",
            ),
            (
                "code=c1&state=st&iss=https%3A%2F%2Fevil.example",
                "failed: the answer to the login of MCP server `docs` comes from issuer `https://evil.example`",
            ),
            (
                "code=c1&state=st&iss=https%3A%2F%2Fas.example%2F",
                "comes from issuer",
            ),
            (
                "error=access_denied&error_description=no%0Athanks&state=st",
                "failed: the authorization server refused the login of MCP server `docs`: access_denied: no thanks",
            ),
            (
                "error=access_denied&state=st&iss=https%3A%2F%2Fevil.example",
                "comes from issuer",
            ),
        ] {
            let shown = message(judge(query, &EXPECTED));
            assert!(shown.contains(needle), "{query}: {shown}");
        }
        let strict = Expected {
            iss_required: true,
            ..EXPECTED
        };
        assert!(message(judge("code=c1&state=st", &strict)).contains("has no `iss`"));
    }

    #[test]
    fn pasted_urls_must_be_the_redirect_uri() {
        let redirect = "http://127.0.0.1:5000/callback";
        assert_eq!(
            code(judge_pasted(
                " http://127.0.0.1:5000/callback?code=c&state=st\n",
                redirect,
                &EXPECTED
            )),
            "c"
        );
        for text in [
            "nonsense",
            "http://127.0.0.1:5001/callback?code=c&state=st",
            "http://127.0.0.1:5000/other?code=c&state=st",
        ] {
            assert!(
                message(judge_pasted(text, redirect, &EXPECTED)).starts_with("refused"),
                "{text}"
            );
        }
    }

    #[tokio::test]
    async fn the_listener_answers_browsers_until_the_right_callback() {
        let listener = Listener::bind(&LoginOptions::default(), None)
            .await
            .unwrap();
        assert!(listener.redirect_uri.starts_with("http://127.0.0.1:"));
        assert!(listener.redirect_uri.ends_with("/callback"));
        let base = listener.redirect_uri.clone();
        let browser = tokio::spawn(async move {
            let mut pages = Vec::new();
            for target in [
                format!("{}/x", base.trim_end_matches("/callback")),
                format!("{base}?code=c&state=wrong"),
                format!("{base}?code=good&state=st"),
            ] {
                pages.push(get(&target).await);
            }
            pages
        });
        let code = tokio::time::timeout(Duration::from_secs(10), listener.wait(&EXPECTED))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(code.as_str(), "good");
        let pages = browser.await.unwrap();
        assert!(pages[0].starts_with("HTTP/1.1 404"), "{}", pages[0]);
        assert!(pages[1].starts_with("HTTP/1.1 400") && pages[1].contains("state does not match"));
        assert!(pages[2].starts_with("HTTP/1.1 200") && pages[2].contains(SUCCESS_PAGE));
    }

    #[tokio::test]
    async fn a_loopback_callback_url_without_a_port_gets_the_listeners() {
        let options = LoginOptions {
            callback_url: Some("http://127.0.0.1/callback/4ncvuG_qJEiw".into()),
            ..LoginOptions::default()
        };
        let listener = Listener::bind(&options, None).await.unwrap();
        let port = listener.listener.local_addr().unwrap().port();
        assert_eq!(
            listener.redirect_uri,
            format!("http://127.0.0.1:{port}/callback/4ncvuG_qJEiw")
        );
        assert_eq!(listener.path, "/callback/4ncvuG_qJEiw");
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let fixed = free.local_addr().unwrap().port();
        drop(free);
        let options = LoginOptions {
            callback_port: Some(fixed),
            ..options
        };
        let listener = Listener::bind(&options, None).await.unwrap();
        assert_eq!(
            listener.redirect_uri,
            format!("http://127.0.0.1:{fixed}/callback/4ncvuG_qJEiw")
        );
        drop(listener);
        // A URL with a port is used as written.
        let options = LoginOptions {
            callback_url: Some(format!("http://127.0.0.1:{fixed}/cb")),
            ..LoginOptions::default()
        };
        let listener = Listener::bind(&options, None).await.unwrap();
        assert_eq!(
            listener.redirect_uri,
            format!("http://127.0.0.1:{fixed}/cb")
        );
    }

    /// A bare HTTP/1.1 GET, the whole answer as text.
    async fn get(url: &str) -> String {
        let url = Url::parse(url).unwrap();
        let mut stream = TcpStream::connect((url.host_str().unwrap(), url.port().unwrap()))
            .await
            .unwrap();
        let target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        stream
            .write_all(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    }
}
