//! A tiny HTTP/1.1 server on 127.0.0.1 for tests: one thread per
//! connection, one request per connection (`Connection: close`), every
//! request recorded, and a handler that writes whatever it likes (JSON,
//! event streams that stop half-way, wrong statuses).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Every header line, in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// When it arrived.
    pub at: Instant,
}

impl Request {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// How many times `name` appears.
    pub fn header_count(&self, name: &str) -> usize {
        let name = name.to_ascii_lowercase();
        self.headers.iter().filter(|(n, _)| *n == name).count()
    }

    /// The body as JSON (`null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The JSON-RPC method of a POST, if any.
    pub fn rpc_method(&self) -> Option<String> {
        self.json()["method"].as_str().map(str::to_owned)
    }

    /// The JSON-RPC id of a POST (`null` for notifications).
    pub fn rpc_id(&self) -> Value {
        self.json()["id"].clone()
    }
}

/// Writes the answer to one request.
pub struct Responder<'a> {
    stream: &'a mut TcpStream,
}

impl Responder<'_> {
    /// A complete answer with a body.
    pub fn send(&mut self, status: u16, content_type: &str, headers: &[(&str, &str)], body: &str) {
        let mut head = format!(
            "HTTP/1.1 {status} {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            reason(status),
            body.len()
        );
        if !content_type.is_empty() {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let _ = self.stream.write_all(head.as_bytes());
        let _ = self.stream.write_all(body.as_bytes());
        let _ = self.stream.flush();
    }

    /// A JSON answer.
    pub fn json(&mut self, status: u16, headers: &[(&str, &str)], body: &Value) {
        self.send(status, "application/json", headers, &body.to_string());
    }

    /// `202 Accepted`, no body.
    pub fn accepted(&mut self) {
        self.send(202, "", &[], "");
    }

    /// The head of an event stream that ends when the connection closes.
    pub fn start_events(&mut self, headers: &[(&str, &str)]) {
        let mut head = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n".to_string();
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let _ = self.stream.write_all(head.as_bytes());
        let _ = self.stream.flush();
    }

    /// Raw bytes (an event, part of one), flushed.
    pub fn write(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok() && self.stream.flush().is_ok()
    }

    /// One `message` event carrying `value`.
    pub fn event(&mut self, id: Option<&str>, value: &Value) -> bool {
        let mut text = String::new();
        if let Some(id) = id {
            text.push_str(&format!("id: {id}\n"));
        }
        text.push_str(&format!("event: message\ndata: {value}\n\n"));
        self.write(text.as_bytes())
    }
}

type Handler = dyn Fn(&Request, &mut Responder<'_>) + Send + Sync;

/// A running test server; stopped when dropped.
pub struct TestServer {
    pub port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server answering every request with `handler`.
    pub fn start(handler: impl Fn(&Request, &mut Responder<'_>) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let accept = {
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(stream) = stream else { continue };
                    let requests = Arc::clone(&requests);
                    let handler = Arc::clone(&handler);
                    thread::spawn(move || serve(stream, &requests, handler.as_ref()));
                }
            })
        };
        TestServer {
            port,
            requests,
            stop,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// The POSTs whose JSON-RPC method is `method`.
    pub fn posts(&self, method: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.rpc_method().as_deref() == Some(method))
            .collect()
    }

    /// Waits (at most `timeout`) until `done` holds for the requests.
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&[Request]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if done(&self.requests()) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn serve(mut stream: TcpStream, requests: &Mutex<Vec<Request>>, handler: &Handler) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(request) = read_request(&mut stream) else {
        return;
    };
    requests.lock().unwrap().push(request.clone());
    handler(
        &request,
        &mut Responder {
            stream: &mut stream,
        },
    );
    let _ = stream.shutdown(Shutdown::Both);
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

/// The result of a successful `initialize`, as a JSON-RPC response to `id`.
pub fn initialize_result(id: &Value, version: &str) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "result": {
            "protocolVersion": version,
            "capabilities": { "tools": {} },
            "serverInfo": { "name": "tiny-test-server", "version": "0.0.1" }
        }
    })
}

/// A JSON-RPC result for `id`.
pub fn result(id: &Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

/// A 2025-11-25 MCP server with one tool, `echo` (it answers its `message`):
/// `initialize` opens session `s1`, `s2`, ... (counted in `sessions`),
/// notifications are accepted, DELETE ends a session, GET has no stream.
pub fn echo_mcp(request: &Request, reply: &mut Responder<'_>, sessions: &AtomicUsize) {
    match (request.method.as_str(), request.rpc_method().as_deref()) {
        ("POST", Some("initialize")) => {
            let session = format!("s{}", sessions.fetch_add(1, Ordering::SeqCst) + 1);
            reply.json(
                200,
                &[("Mcp-Session-Id", session.as_str())],
                &initialize_result(&request.rpc_id(), "2025-11-25"),
            );
        }
        ("POST", Some(method)) if method.starts_with("notifications/") => reply.accepted(),
        ("POST", Some("tools/list")) => reply.json(
            200,
            &[],
            &result(
                &request.rpc_id(),
                json!({ "tools": [{
                    "name": "echo",
                    "description": "Echoes its message",
                    "inputSchema": { "type": "object", "properties": { "message": { "type": "string" } } }
                }] }),
            ),
        ),
        ("POST", Some("tools/call")) => {
            let message = request.json()["params"]["arguments"]["message"].clone();
            let text = message.as_str().unwrap_or_default().to_owned();
            reply.json(
                200,
                &[],
                &result(
                    &request.rpc_id(),
                    json!({ "content": [{ "type": "text", "text": text }] }),
                ),
            );
        }
        ("DELETE", _) => reply.send(200, "", &[], ""),
        ("GET", _) => reply.send(405, "", &[], ""),
        _ => reply.send(400, "text/plain", &[], "unexpected"),
    }
}
