//! The listener: 127.0.0.1 only, a thread per connection, one request per
//! connection, and the rule of what is forwarded.

use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::args::Args;
use crate::dump::Dumper;
use crate::forward::Upstream;
use crate::http::{self, ReadError};
use crate::{Error, key};

/// A client has this long to send its whole request; a stalled one must not
/// hold a thread for ever.
const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// A client that reads nothing of the answer for this long is gone.
const ANSWER_WRITE_TIMEOUT: Duration = Duration::from_secs(300);
/// More connections at once than this are answered 503, so a flood (or an
/// upstream that hangs) cannot exhaust threads.
const MAX_CONNECTIONS: usize = 256;

/// The one path and method that is forwarded.
const FORWARDED_PATH: &str = "/v1/responses";

struct Proxy {
    upstream: Upstream,
    dumper: Option<Dumper>,
    http_shutdown: bool,
    connections: AtomicUsize,
}

/// Reads the key from stdin, listens, and serves until `GET /shutdown` (with
/// `--http-shutdown`) or a signal ends the process. Returns only on an error.
///
/// Call [`crate::pre_main_hardening`] before this.
pub fn run(args: Args) -> Result<(), Error> {
    let auth = key::read_from_stdin()?;
    let upstream = Upstream::new(
        &args.upstream_url,
        args.upstream_idle_timeout.map(Duration::from_secs),
        auth,
    )?;
    let dumper = args
        .dump_dir
        .map(|dir| Dumper::new(dir, upstream.auth().key()))
        .transpose()?;
    let requested = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port.unwrap_or(0)));
    let listener = TcpListener::bind(requested).map_err(|error| {
        Error::new(format!(
            "cannot listen on {requested}: {error} (choose another --port, or omit it for a free one)"
        ))
    })?;
    let address = listener
        .local_addr()
        .map_err(|error| Error::new(format!("cannot read the listening address: {error}")))?;
    if let Some(path) = &args.server_info {
        write_server_info(path, address.port())?;
    }
    eprintln!("responses-api-proxy listening on {address}");
    let proxy = Arc::new(Proxy {
        upstream,
        dumper,
        http_shutdown: args.http_shutdown,
        connections: AtomicUsize::new(0),
    });
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            Err(error) => {
                // Out of descriptors, or a connection reset before accept:
                // wait a little rather than spin, and go on serving.
                eprintln!("responses-api-proxy: accept failed: {error}");
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let proxy = Arc::clone(&proxy);
        let spawned = std::thread::Builder::new()
            .name("connection".into())
            .spawn(move || proxy.serve(stream));
        if let Err(error) = spawned {
            eprintln!("responses-api-proxy: cannot start a connection thread: {error}");
        }
    }
    Err(Error::new("the listener stopped accepting connections"))
}

impl Proxy {
    fn serve(&self, mut stream: TcpStream) {
        let Some(_slot) = Slot::take(&self.connections) else {
            let _ = http::write_text(&mut stream, 503, "too many connections\n");
            return;
        };
        let _ = stream.set_nodelay(true);
        let _ = stream.set_write_timeout(Some(ANSWER_WRITE_TIMEOUT));
        let mut request = Deadline {
            stream: &stream,
            at: Instant::now() + REQUEST_READ_TIMEOUT,
        };
        let (head, rest) = match http::read_head(&mut request) {
            Ok(read) => read,
            Err(ReadError::Gone) => return,
            Err(ReadError::Refused(status, message)) => {
                return refuse(&stream, status, &format!("{message}\n"));
            }
        };
        let route = (head.method.as_str(), head.target.as_str());
        if self.http_shutdown && route == ("GET", "/shutdown") {
            let _ = http::write_text(&mut stream, 200, "");
            let _ = stream.flush();
            std::process::exit(0);
        }
        // Exactly this method and path; a query string, another version of
        // the path or any other method is not what the key was lent for.
        if route != ("POST", FORWARDED_PATH) {
            return refuse(&stream, 403, "");
        }
        // Browsers send `Origin` with every POST; API clients (Codex, the
        // SDKs, curl) do not. Refusing it keeps any web page the user visits
        // (directly, or through DNS rebinding) from spending the key.
        if head.values("origin").next().is_some() {
            return refuse(
                &stream,
                403,
                "requests from web pages (with an Origin header) are not forwarded\n",
            );
        }
        if head
            .values("expect")
            .any(|value| value.eq_ignore_ascii_case(b"100-continue"))
            && head.minor_version == 1
        {
            let _ = (&stream).write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let body = match http::read_body(&head, rest, &mut request) {
            Ok(body) => body,
            Err(ReadError::Gone) => return,
            Err(ReadError::Refused(status, message)) => {
                return refuse(&stream, status, &format!("{message}\n"));
            }
        };
        self.upstream
            .forward(&head, body, &mut stream, self.dumper.as_ref());
    }
}

/// Answers `status` and closes gently: a body the client is still sending
/// is read and dropped for a moment first, because closing a socket with
/// unread input resets it, and the reset can destroy the answer before the
/// client reads it.
fn refuse(mut stream: &TcpStream, status: u16, text: &str) {
    if http::write_text(&mut stream, status, text).is_err() {
        return;
    }
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let drain = Deadline {
        stream,
        at: Instant::now() + Duration::from_secs(1),
    };
    let _ = std::io::copy(&mut drain.take(1 << 20), &mut std::io::sink());
}

/// Reads from a client until a deadline for the whole request, not per
/// read, so a client that trickles bytes cannot hold a thread for long.
struct Deadline<'a> {
    stream: &'a TcpStream,
    at: Instant,
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.at.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        (&mut &*self.stream).read(buf)
    }
}

/// One of the [`MAX_CONNECTIONS`] places, given back when dropped.
struct Slot<'a>(&'a AtomicUsize);

impl<'a> Slot<'a> {
    fn take(count: &'a AtomicUsize) -> Option<Self> {
        let before = count.fetch_add(1, Ordering::AcqRel);
        let slot = Slot(count);
        (before < MAX_CONNECTIONS).then_some(slot)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Writes `{"port":N,"pid":N}` and a newline, through a temporary file and a
/// rename so that a reader polling for the file never sees half of it.
fn write_server_info(path: &Path, port: u16) -> Result<(), Error> {
    let failed = |error: std::io::Error| {
        Error::new(format!(
            "cannot write --server-info {}: {error}",
            path.display()
        ))
    };
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        fs::create_dir_all(parent).map_err(failed)?;
    }
    let line = format!(
        "{}\n",
        serde_json::json!({ "port": port, "pid": std::process::id() })
    );
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    fs::write(&temporary, line).map_err(failed)?;
    fs::rename(&temporary, path).map_err(|error| {
        let _ = fs::remove_file(&temporary);
        failed(error)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_info_is_one_json_line_in_a_new_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/info.json");
        write_server_info(&path, 4242).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            format!("{{\"port\":4242,\"pid\":{}}}\n", std::process::id())
        );
        assert_eq!(fs::read_dir(dir.path().join("a/b")).unwrap().count(), 1);
    }

    #[test]
    fn the_request_deadline_covers_all_reads() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let silent = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        let started = Instant::now();
        let mut request = Deadline {
            stream: &accepted,
            at: started + Duration::from_millis(200),
        };
        let error = request.read(&mut [0u8; 16]).unwrap_err();
        assert!(matches!(
            error.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(
            request.read(&mut [0u8; 16]).unwrap_err().kind(),
            std::io::ErrorKind::TimedOut
        );
        drop(silent);
    }

    #[test]
    fn connections_past_the_limit_get_no_slot() {
        let count = AtomicUsize::new(MAX_CONNECTIONS - 1);
        let last = Slot::take(&count);
        assert!(last.is_some());
        assert!(Slot::take(&count).is_none());
        drop(last);
        assert_eq!(count.load(Ordering::Acquire), MAX_CONNECTIONS - 1);
    }
}
