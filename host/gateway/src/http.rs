//! The streamable HTTP listener of `codex mcp-server --listen ADDR`.
//!
//! MCP itself (2025-11-25 sessions, 2026-07-28 without them, SSE streams,
//! `MCP-Session-Id`, the `Host` check against DNS rebinding, the body limit)
//! is rmcp's `StreamableHttpService`; hyper serves the connections. This
//! module is the gate in front of it, checked in this order:
//!
//! 1. `GET /health` answers without authentication (for load balancers);
//!    any path but `/mcp` is 404;
//! 2. a request whose `Origin` is not a loopback origin or one of
//!    `--allow-origin` is 403, so a web page cannot drive the gateway;
//! 3. without `Authorization: Bearer TOKEN` (compared in constant time) it
//!    is 401 with `WWW-Authenticate: Bearer`, unless `--no-auth`;
//! 4. a declared body over the limit is 413, and when the limit of
//!    requests at once is reached, 503 with `Retry-After`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::sync::Semaphore;

use crate::Gateway;
use crate::handler::GatewayHandler;
use crate::sessions::InstanceSessions;

/// The MCP endpoint's path.
pub const MCP_PATH: &str = "/mcp";
/// The unauthenticated health check's path.
pub const HEALTH_PATH: &str = "/health";

/// The largest request body accepted by default (4 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// How many requests are handled at once by default.
pub const DEFAULT_MAX_CONCURRENT: usize = 256;

/// How a downstream client proves it may use the gateway.
#[derive(Clone)]
pub enum Auth {
    /// `Authorization: Bearer TOKEN`.
    Bearer(Arc<str>),
    /// Nothing (`--no-auth`, loopback only).
    None,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token itself.
        f.write_str(match self {
            Auth::Bearer(_) => "Auth::Bearer(..)",
            Auth::None => "Auth::None",
        })
    }
}

#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub listen: SocketAddr,
    pub auth: Auth,
    /// Origins allowed beyond loopback ones (`scheme://host[:port]`).
    pub allowed_origins: Vec<String>,
    pub max_body_bytes: usize,
    pub max_concurrent: usize,
    /// Put before every session id (`--instance-id`), for load balancers.
    pub instance_id: Option<String>,
    /// Close a call's SSE stream after this long for the client to poll
    /// (`--poll-after`); its events are kept for `Last-Event-ID`.
    pub poll_after: Option<Duration>,
}

/// 32 random bytes from the kernel, as 64 hex digits.
pub fn generate_token() -> Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .context("mcp-server: reading /dev/urandom for a bearer token")?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

type Body = BoxBody<Bytes, Infallible>;

fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(text.to_string())).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Whether `a` and `b` are equal, in time that depends only on their lengths.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Whether the `Origin` value is a page on this machine (any port) or one
/// of `allowed`.
fn origin_allowed(origin: &str, allowed: &[String]) -> bool {
    if allowed
        .iter()
        .any(|entry| entry.eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let Ok(uri) = origin.parse::<http::Uri>() else {
        return false;
    };
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    let host = uri.host().unwrap_or_default();
    scheme_ok && matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1")
}

/// The gate in front of rmcp's service.
struct Gate {
    mcp: StreamableHttpService<GatewayHandler, InstanceSessions>,
    options: HttpOptions,
    slots: Semaphore,
}

impl Gate {
    async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Response<Body> {
        let path = request.uri().path();
        if path == HEALTH_PATH {
            let mut response = plain(StatusCode::OK, "{\"status\":\"ok\"}");
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            );
            return response;
        }
        if path != MCP_PATH {
            return plain(
                StatusCode::NOT_FOUND,
                "not found: the MCP endpoint is /mcp, the health check /health",
            );
        }
        if let Some(origin) = request.headers().get(header::ORIGIN) {
            let allowed = origin
                .to_str()
                .is_ok_and(|origin| origin_allowed(origin, &self.options.allowed_origins));
            if !allowed {
                return plain(
                    StatusCode::FORBIDDEN,
                    "forbidden: this Origin may not use the gateway (start it with --allow-origin ORIGIN to allow one)",
                );
            }
        }
        if let Auth::Bearer(token) = &self.options.auth {
            let given = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|value| value.as_bytes().strip_prefix(b"Bearer "));
            if !given.is_some_and(|given| same_secret(given, token.as_bytes())) {
                let mut response = plain(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized: send Authorization: Bearer TOKEN with the gateway's token",
                );
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer realm=\"codex mcp-server\""),
                );
                return response;
            }
        }
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<usize>().ok());
        if declared.is_some_and(|length| length > self.options.max_body_bytes) {
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload too large: the gateway takes request bodies up to its limit",
            );
        }
        let Ok(_slot) = self.slots.try_acquire() else {
            let mut response = plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy: too many requests at once; try again",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            return response;
        };
        let mut mcp = self.mcp.clone();
        match tower_service::Service::call(&mut mcp, request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

/// Serves the gateway over streamable HTTP until SIGTERM or SIGINT, then
/// ends every upstream. `bound` is told the address actually bound (the
/// port of `:0` chosen by the kernel).
pub async fn serve_http(
    gateway: Arc<Gateway>,
    options: HttpOptions,
    bound: impl FnOnce(SocketAddr),
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("mcp-server: cannot listen on {}", options.listen))?;
    let local = listener.local_addr()?;
    let ip = local.ip();
    let mut hosts = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if !ip.is_loopback() && !ip.is_unspecified() {
        hosts.push(ip.to_string());
    }
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_max_request_body_bytes(options.max_body_bytes)
        .with_sse_keep_alive(Some(Duration::from_secs(15)));
    let shutdown = config.cancellation_token.clone();
    let factory_gateway = gateway.clone();
    let mcp = StreamableHttpService::new(
        move || Ok(GatewayHandler::new(factory_gateway.clone())),
        Arc::new(InstanceSessions::new(
            options.instance_id.as_deref(),
            options.poll_after,
        )),
        config,
    );
    let gate = Arc::new(Gate {
        mcp,
        slots: Semaphore::new(options.max_concurrent.max(1)),
        options,
    });
    bound(local);
    let stop = crate::stop_signal();
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let (stream, _) = match accepted {
            Ok(accepted) => accepted,
            // Out of descriptors and the like: wait a moment, keep serving.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // An answer goes out in several writes (head, then each SSE event):
        // with Nagle's algorithm a write waits for the client's delayed ACK
        // of the one before, 40 ms on Linux.
        let _ = stream.set_nodelay(true);
        let gate = gate.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let gate = gate.clone();
                async move { Ok::<_, Infallible>(gate.handle(request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
    shutdown.cancel();
    gateway.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_origins_pass_and_others_do_not() {
        assert!(origin_allowed("http://localhost:3000", &[]));
        assert!(origin_allowed("http://127.0.0.1", &[]));
        assert!(origin_allowed("http://[::1]:8080", &[]));
        assert!(!origin_allowed("https://evil.example", &[]));
        assert!(!origin_allowed("http://localhost.evil.example", &[]));
        assert!(!origin_allowed("null", &[]));
        assert!(origin_allowed(
            "https://app.example",
            &["https://app.example".to_string()]
        ));
    }

    #[test]
    fn secrets_compare_by_content() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
    }

    #[test]
    fn tokens_are_64_hex_digits_and_differ() {
        let one = generate_token().unwrap();
        let two = generate_token().unwrap();
        assert_eq!(one.len(), 64);
        assert!(one.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(one, two);
    }
}
