//! What the tests share: the built proxy as a child process, a local
//! upstream on std threads, and a raw HTTP client that reads answers chunk by
//! chunk. Everything listens on 127.0.0.1 and every wait is bounded.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub const KEY: &str = "sk-test_Proxy-Key-0123456789";
pub const BINARY: &str = env!("CARGO_BIN_EXE_codex-responses-api-proxy");

/// How long any single wait in these tests may take.
pub const WAIT: Duration = Duration::from_secs(20);

/// A request as the upstream received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub target: String,
    /// Names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Reads one request (head and Content-Length body) from `stream`.
pub fn read_request(stream: &mut BufReader<TcpStream>) -> Option<Received> {
    let mut line = String::new();
    if stream.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    stream.read_exact(&mut body).ok()?;
    Some(Received {
        method,
        target,
        headers,
        body,
    })
}

/// A local upstream: every connection is read as one request, recorded, and
/// handed to the behaviour with the socket to answer on.
pub struct Upstream {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl Upstream {
    pub fn start(
        behaviour: impl Fn(&Received, &mut TcpStream) + Send + Sync + 'static,
    ) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let behaviour = Arc::new(behaviour);
        let record = Arc::clone(&received);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let behaviour = Arc::clone(&behaviour);
                let record = Arc::clone(&record);
                thread::spawn(move || {
                    stream.set_read_timeout(Some(WAIT)).unwrap();
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut stream = stream;
                    if let Some(request) = read_request(&mut reader) {
                        record.lock().unwrap().push(request.clone());
                        behaviour(&request, &mut stream);
                    }
                });
            }
        });
        Upstream { port, received }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1/responses", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Writes one chunk of a chunked body and pushes it out.
pub fn send_chunk(stream: &mut TcpStream, data: &[u8]) {
    let mut frame = format!("{:x}\r\n", data.len()).into_bytes();
    frame.extend_from_slice(data);
    frame.extend_from_slice(b"\r\n");
    stream.write_all(&frame).unwrap();
    stream.flush().unwrap();
}

/// An upstream answer head with a chunked body to follow.
pub fn send_chunked_head(stream: &mut TcpStream, status: u16, content_type: &str) {
    write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\nX-Upstream: yes\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    stream.flush().unwrap();
}

/// How to start the proxy.
pub struct ProxyCommand {
    pub stdin: Vec<u8>,
    pub args: Vec<OsString>,
    pub env: Vec<(String, OsString)>,
    /// Run as this user (uid, gid) through `setpriv`, from this copy of the
    /// binary.
    pub user: Option<(u32, u32, PathBuf)>,
    /// Start with this core-size limit (soft and hard) instead of ours.
    pub core_limit: Option<u64>,
    pub dir: tempfile::TempDir,
}

impl ProxyCommand {
    /// The proxy with `KEY` on stdin, forwarding to `upstream_url`.
    pub fn new(upstream_url: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Self {
            stdin: format!("{KEY}\n").into_bytes(),
            args: Vec::new(),
            env: Vec::new(),
            user: None,
            core_limit: None,
            dir,
        };
        command.arg("--upstream-url").arg(upstream_url);
        command
    }

    pub fn arg(&mut self, arg: impl Into<OsString>) -> &mut Self {
        self.args.push(arg.into());
        self
    }

    fn command(&self) -> Command {
        let mut command = match &self.user {
            Some((uid, gid, binary)) => {
                let mut command = Command::new("setpriv");
                command
                    .arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .arg("--clear-groups")
                    .arg("--")
                    .arg(binary);
                command
            }
            None => Command::new(BINARY),
        };
        command
            .args(&self.args)
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            // A proxy from the environment would send the local upstream's
            // traffic elsewhere.
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("ALL_PROXY")
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .env_remove("all_proxy")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(limit) = self.core_limit {
            use std::os::unix::process::CommandExt;
            let limit = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            // SAFETY: the closure runs in the child between fork and exec
            // and calls only setrlimit, which is async-signal-safe.
            unsafe {
                command.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_CORE, &limit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        command
    }

    /// Runs the proxy to its end (for inputs that must make it exit).
    pub fn run_to_exit(&self) -> (Option<i32>, String) {
        let mut child = self.command().spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(&self.stdin);
        drop(stdin);
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let mut stderr = String::new();
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut stderr)
                    .unwrap();
                return (status.code(), stderr);
            }
            if started.elapsed() > WAIT {
                let _ = child.kill();
                panic!("the proxy did not exit within {WAIT:?}");
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the proxy and waits until its `--server-info` file says it
    /// listens.
    pub fn start(mut self) -> Proxy {
        let info = self.dir.path().join("info/server.json");
        self.arg("--server-info").arg(&info);
        let mut child = self.command().spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&self.stdin).unwrap();
        drop(stdin);
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let started = Instant::now();
        let port = loop {
            if let Ok(text) = std::fs::read_to_string(&info) {
                let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                break value["port"].as_u64().unwrap() as u16;
            }
            if let Some(status) = child.try_wait().unwrap() {
                thread::sleep(Duration::from_millis(100));
                panic!(
                    "the proxy exited ({status}) before listening: {}",
                    String::from_utf8_lossy(&stderr.lock().unwrap())
                );
            }
            assert!(
                started.elapsed() < WAIT,
                "the proxy did not start within {WAIT:?}"
            );
            thread::sleep(Duration::from_millis(20));
        };
        Proxy {
            child,
            port,
            info,
            stderr,
            _dir: self.dir,
        }
    }
}

/// A running proxy; killed when dropped.
pub struct Proxy {
    pub child: Child,
    pub port: u16,
    pub info: PathBuf,
    stderr: Arc<Mutex<Vec<u8>>>,
    _dir: tempfile::TempDir,
}

impl Proxy {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits for the proxy to exit and returns its status code.
    pub fn wait_for_exit(&mut self) -> Option<i32> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                started.elapsed() < WAIT,
                "the proxy did not exit within {WAIT:?}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn connect(&self) -> Client {
        Client::connect(self.port)
    }

    /// Sends `raw` and reads the whole answer.
    pub fn exchange(&self, raw: &[u8]) -> Answer {
        let mut client = self.connect();
        client.send(raw);
        client.answer()
    }

    pub fn post(&self, body: &str) -> Answer {
        self.exchange(&post(body))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `POST /v1/responses` with a JSON body and a client `Authorization` that
/// must not reach the upstream.
pub fn post(body: &str) -> Vec<u8> {
    format!(
        "POST /v1/responses HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer client-token\r\nContent-Type: application/json\r\nX-Client: kept\r\nKeep-Alive: timeout=5\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A whole answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A raw HTTP/1.1 client that reads answers piece by piece.
pub struct Client {
    reader: BufReader<TcpStream>,
    chunked: bool,
    length: Option<usize>,
}

impl Client {
    pub fn connect(port: u16) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        Client {
            reader: BufReader::new(stream),
            chunked: false,
            length: None,
        }
    }

    pub fn set_timeout(&self, timeout: Duration) {
        self.reader
            .get_ref()
            .set_read_timeout(Some(timeout))
            .unwrap();
    }

    pub fn send(&mut self, raw: &[u8]) {
        self.reader.get_mut().write_all(raw).unwrap();
    }

    /// Reads the status line and headers; `Err` if the connection ends or
    /// times out first.
    pub fn head(&mut self) -> std::io::Result<(u16, HashMap<String, String>)> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let status: u16 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
        self.chunked = headers
            .get("transfer-encoding")
            .is_some_and(|value| value.eq_ignore_ascii_case("chunked"));
        self.length = headers
            .get("content-length")
            .map(|value| value.parse().unwrap());
        Ok((status, headers))
    }

    /// The next chunk of a chunked body (`Ok(None)` after the last), or an
    /// error when the stream is cut.
    pub fn chunk(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        assert!(self.chunked, "the answer is not chunked");
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let size = usize::from_str_radix(line.trim(), 16)
            .map_err(|_| std::io::Error::other(format!("bad chunk size line {line:?}")))?;
        let mut data = vec![0; size];
        self.reader.read_exact(&mut data)?;
        let mut crlf = [0u8; 2];
        self.reader.read_exact(&mut crlf)?;
        if size == 0 {
            return Ok(None);
        }
        Ok(Some(data))
    }

    /// The rest of the body, whatever its framing.
    pub fn body(&mut self) -> std::io::Result<Vec<u8>> {
        if self.chunked {
            let mut body = Vec::new();
            while let Some(chunk) = self.chunk()? {
                body.extend_from_slice(&chunk);
            }
            return Ok(body);
        }
        let mut body = Vec::new();
        match self.length {
            Some(length) => {
                body.resize(length, 0);
                self.reader.read_exact(&mut body)?;
            }
            None => {
                self.reader.read_to_end(&mut body)?;
            }
        }
        Ok(body)
    }

    pub fn answer(&mut self) -> Answer {
        let (status, headers) = self.head().unwrap();
        let body = self.body().unwrap();
        Answer {
            status,
            headers,
            body,
        }
    }
}

/// Waits until `condition` holds, for at most [`WAIT`].
pub fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Every file under `dir`, with its bytes.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.extend(files_under(&path));
            } else {
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
