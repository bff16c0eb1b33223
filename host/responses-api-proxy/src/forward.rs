//! The upstream side: one accepted request sent on with the key, and the
//! answer streamed back piece by piece as the upstream sends it.

use std::io::{self, Read, Write};
use std::time::Duration;

use ureq::http::header::{AUTHORIZATION, HOST};
use ureq::http::{HeaderName, HeaderValue, Method, Request, Uri};

use crate::Error;
use crate::dump::Dumper;
use crate::http::{self, Framing, RequestHead};
use crate::key::AuthHeader;

/// Connecting (DNS, TCP, TLS) that takes longer than this has failed; the
/// answer itself has no limit unless `--upstream-idle-timeout` sets one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Headers that belong to one connection, not to the request (RFC 9110
/// 7.6.1), and those the proxy frames itself.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

/// Where requests go, and with what key.
pub struct Upstream {
    agent: ureq::Agent,
    uri: Uri,
    host: HeaderValue,
    auth: AuthHeader,
}

impl Upstream {
    pub fn new(url: &str, idle_timeout: Option<Duration>, auth: AuthHeader) -> Result<Self, Error> {
        let bad = |why: &str| {
            Error::new(format!(
                "--upstream-url {url:?} {why} (expected e.g. https://api.openai.com/v1/responses)"
            ))
        };
        let uri: Uri = url.parse().map_err(|_| bad("is not a URL"))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(bad("must start with http:// or https://"));
        }
        let authority = uri.authority().ok_or_else(|| bad("has no host"))?;
        // Credentials in the URL would be a second secret, outside this
        // crate's care.
        if authority.as_str().contains('@') {
            return Err(bad("must not contain a user name or password"));
        }
        let host = HeaderValue::from_str(authority.as_str()).map_err(|_| bad("has a bad host"))?;
        let config = ureq::Agent::config_builder()
            // The upstream's own statuses (401, 429, 500...) go to the
            // client as they are, and so do redirects: following one could
            // carry the key elsewhere.
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_per_read(idle_timeout)
            .build();
        Ok(Self {
            agent: config.into(),
            uri,
            host,
            auth,
        })
    }

    pub fn auth(&self) -> AuthHeader {
        self.auth
    }

    /// Sends `body` with the client's headers (less `Authorization`, `Host`
    /// and hop-by-hop ones) and the key, and streams the answer to `client`.
    /// Errors are logged here; the connection is finished either way.
    pub fn forward(
        &self,
        head: &RequestHead,
        body: Vec<u8>,
        client: &mut (impl Write + Shutdown),
        dumper: Option<&Dumper>,
    ) {
        let mut dump = dumper.map(|dumper| {
            dumper.request(
                &head.method,
                &head.target,
                head.headers
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_slice())),
                &body,
            )
        });
        let request = match self.request(head, body) {
            Ok(request) => request,
            Err(message) => {
                let _ = http::write_text(client, 400, &format!("{message}\n"));
                return;
            }
        };
        let response = match self.agent.run(request) {
            Ok(response) => response,
            Err(error) => {
                // Before anything was sent back, a failure can still be an
                // answer the client understands.
                eprintln!("responses-api-proxy: upstream request failed: {error}");
                let _ =
                    http::write_text(client, 502, &format!("upstream request failed: {error}\n"));
                return;
            }
        };
        let status = response.status().as_u16();
        let framing = Framing::for_answer(status, head.minor_version);
        let headers: Vec<(&str, &[u8])> = response
            .headers()
            .iter()
            .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
            .collect();
        if let Some(dump) = dump.as_mut() {
            dump.head(status, headers.iter().copied());
        }
        if http::write_head(client, status, headers.into_iter(), framing).is_err() {
            return;
        }
        if framing == Framing::None {
            return;
        }
        let mut reader = response.into_body().into_reader();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => {
                    let _ = http::write_end(client, framing);
                    return;
                }
                Ok(n) => n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    // Too late for a status: end the connection without the
                    // final chunk, so the client sees a cut stream, not a
                    // complete one.
                    eprintln!("responses-api-proxy: upstream answer broke off: {error}");
                    client.shutdown();
                    return;
                }
            };
            if let Some(dump) = dump.as_mut() {
                dump.piece(&buf[..n]);
            }
            // A client that went away ends the exchange; dropping the reader
            // closes the upstream connection.
            if http::write_piece(client, framing, &buf[..n]).is_err() {
                return;
            }
        }
    }

    fn request(&self, head: &RequestHead, body: Vec<u8>) -> Result<Request<Vec<u8>>, String> {
        // Headers the client lists in `Connection` are hop-by-hop as well.
        let listed: Vec<String> = head
            .values("connection")
            .flat_map(|value| value.split(|&byte| byte == b','))
            .map(|name| String::from_utf8_lossy(name.trim_ascii()).to_ascii_lowercase())
            .collect();
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.uri.clone())
            .body(body)
            .map_err(|error| format!("cannot build the upstream request: {error}"))?;
        let headers = request.headers_mut();
        for (name, value) in &head.headers {
            let lower = name.to_ascii_lowercase();
            if lower == "authorization"
                || lower == "host"
                || lower == "expect"
                || HOP_BY_HOP.contains(&lower.as_str())
                || listed.contains(&lower)
            {
                continue;
            }
            let name = HeaderName::from_bytes(lower.as_bytes())
                .map_err(|_| format!("bad request header name {name:?}"))?;
            let value = HeaderValue::from_bytes(value)
                .map_err(|_| format!("bad value for request header {name}"))?;
            headers.append(name, value);
        }
        // from_static: the header refers to the one locked copy of the key
        // instead of copying it; sensitive: the http stack keeps it out of
        // Debug output and (for HTTP/2) out of compression tables.
        let mut auth = HeaderValue::from_static(self.auth.value());
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert(HOST, self.host.clone());
        Ok(request)
    }
}

/// Ending a connection early (the client must see the stream was cut).
pub trait Shutdown {
    fn shutdown(&mut self);
}

impl Shutdown for std::net::TcpStream {
    fn shutdown(&mut self) {
        let _ = std::net::TcpStream::shutdown(self, std::net::Shutdown::Both);
    }
}
