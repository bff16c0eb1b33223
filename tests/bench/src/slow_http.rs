//! HTTP servers on 127.0.0.1 that ask for OAuth and take `delay` to answer
//! every discovery document (`/.well-known/...`), for `mcp list`'s Auth
//! column. Each is its own authorization server, so every client's
//! discovery order finds metadata:
//!
//! - `GET /mcp` (or any method): at once, 401 with a `WWW-Authenticate`
//!   challenge naming the protected-resource metadata;
//! - `/.well-known/oauth-protected-resource[/mcp]`: RFC 9728 metadata;
//! - `/.well-known/oauth-authorization-server[/mcp]`,
//!   `/.well-known/openid-configuration[/mcp]`,
//!   `/mcp/.well-known/openid-configuration`: RFC 8414 / OpenID metadata;
//! - anything else: 404.
//!
//! One thread per connection, `Connection: close`; every read has a timeout.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Result;

/// Largest request head read.
const HEAD_LIMIT: usize = 64 * 1024;
/// Largest body read and thrown away.
const BODY_LIMIT: usize = 1024 * 1024;

/// A running server.
pub struct SlowServer {
    pub url: String,
    /// Discovery documents served so far.
    pub served: Arc<AtomicUsize>,
}

/// Starts one server on a free port of 127.0.0.1. Its thread lives as long
/// as the process.
pub fn start(delay: Duration) -> Result<SlowServer> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let origin = format!("http://{}", listener.local_addr()?);
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let base = origin.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let base = base.clone();
            let counter = counter.clone();
            std::thread::spawn(move || {
                let _ = serve(stream, &base, delay, &counter);
            });
        }
    });
    Ok(SlowServer {
        url: format!("{origin}/mcp"),
        served,
    })
}

fn serve(stream: TcpStream, origin: &str, delay: Duration, served: &AtomicUsize) -> Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut head = Vec::new();
    let mut content_length = 0usize;
    let mut request_line = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        head.extend_from_slice(line.as_bytes());
        if head.len() > HEAD_LIMIT {
            return Ok(());
        }
        if request_line.is_empty() {
            request_line = line.trim_end().to_string();
            continue;
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().unwrap_or(0).min(BODY_LIMIT);
        }
    }
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body)?;

    let path = request_line.split(' ').nth(1).unwrap_or("/");
    let path = path.split('?').next().unwrap_or(path);
    let resource = format!("{origin}/mcp");
    let authorization_server = serde_json::json!({
        "issuer": origin,
        "authorization_endpoint": format!("{origin}/authorize"),
        "token_endpoint": format!("{origin}/token"),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["mcp"],
    });
    let (status, extra, body) = match path {
        "/mcp" => (
            "401 Unauthorized",
            format!(
                "WWW-Authenticate: Bearer resource_metadata=\"{origin}/.well-known/oauth-protected-resource/mcp\"\r\n"
            ),
            String::new(),
        ),
        "/.well-known/oauth-protected-resource" | "/.well-known/oauth-protected-resource/mcp" => (
            "200 OK",
            String::new(),
            serde_json::json!({
                "resource": resource,
                "authorization_servers": [origin],
                "scopes_supported": ["mcp"],
            })
            .to_string(),
        ),
        "/.well-known/oauth-authorization-server"
        | "/.well-known/oauth-authorization-server/mcp"
        | "/.well-known/openid-configuration"
        | "/.well-known/openid-configuration/mcp"
        | "/mcp/.well-known/openid-configuration"
        | "/mcp/.well-known/oauth-authorization-server" => {
            ("200 OK", String::new(), authorization_server.to_string())
        }
        _ => ("404 Not Found", String::new(), String::new()),
    };
    if path.contains("/.well-known/") {
        std::thread::sleep(delay);
        served.fetch_add(1, Ordering::Relaxed);
    }
    let content_type = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/json\r\n"
    };
    let response = format!(
        "HTTP/1.1 {status}\r\n{extra}{content_type}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = stream;
    stream.write_all(response.as_bytes())?;
    stream.flush()?;
    Ok(())
}
