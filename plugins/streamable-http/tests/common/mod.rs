//! A host and a message sink for driving the HTTP transports from tests,
//! and the real servers they talk to.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use codex_plugin_api::{
    ConnectRequest, Connection, HostServices, LogLevel, Plugin, PluginError, PluginResult,
};
use codex_streamable_http::StreamableHttpPlugin;
use serde_json::{Value, json};

pub use codex_plugin_test_support::Event;
use codex_plugin_test_support::{RecordingHost, channel_sink};

/// One test's host: its log.
#[derive(Default)]
pub struct Harness {
    pub logs: Arc<Mutex<Vec<(LogLevel, String)>>>,
}

/// An open connection and what its sink receives.
pub struct Session {
    pub connection: Box<dyn Connection>,
    pub events: Receiver<Event>,
}

impl Harness {
    pub fn new() -> Self {
        Harness::default()
    }

    fn host(&self) -> HostServices {
        RecordingHost::new(std::env::temp_dir(), Arc::clone(&self.logs)).services()
    }

    /// Connects server `web` through `transport` with `config`.
    pub fn connect(&self, transport: &str, config: Value) -> PluginResult<Session> {
        let transport = StreamableHttpPlugin::transport(transport, self.host())?;
        let (sink, events) = channel_sink();
        let connection = transport.connect(
            ConnectRequest {
                server_name: "web".into(),
                config_json: config.to_string().into(),
                timeout_ms: 5_000,
            },
            sink,
        )?;
        Ok(Session { connection, events })
    }

    /// Connects `url` with streamable HTTP and no other keys.
    pub fn connect_url(&self, url: &str) -> Session {
        self.connect("streamable-http", json!({ "url": url }))
            .unwrap()
    }

    /// Every log line so far.
    pub fn log_lines(&self) -> Vec<(LogLevel, String)> {
        self.logs.lock().unwrap().clone()
    }
}

/// The `initialize` request every test sends.
pub fn initialize(id: u64) -> String {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": { "name": "transport-test", "version": "0.0.1" }
        }
    })
    .to_string()
}

/// `notifications/initialized`.
pub const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// A request text.
pub fn request(id: u64, method: &str, params: Value) -> String {
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }).to_string()
}

impl Session {
    /// The next event, failing the test after `timeout`.
    pub fn next(&self, timeout: Duration) -> Event {
        match self.events.recv_timeout(timeout) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) => panic!("no event within {timeout:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the sink was dropped"),
        }
    }

    /// Sends `text`, which must be accepted.
    pub fn send(&self, text: &str) {
        self.connection.send(text).unwrap();
    }

    /// Messages until the response to `id`, which is returned with the
    /// messages that came before it.
    pub fn response(&self, id: u64, timeout: Duration) -> (Value, Vec<Value>) {
        let deadline = Instant::now() + timeout;
        let mut others = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left) {
                Event::Message(text) => {
                    let value: Value = serde_json::from_str(&text).unwrap();
                    if value["id"] == json!(id) && value.get("method").is_none() {
                        return (value, others);
                    }
                    others.push(value);
                }
                Event::Closed(reason) => {
                    panic!("closed while waiting for response {id}: {reason:?}; before: {others:?}")
                }
            }
        }
    }

    /// Sends `initialize` (id 1) and `notifications/initialized`; returns the result.
    pub fn handshake(&self) -> Value {
        self.send(&initialize(1));
        let (response, _) = self.response(1, Duration::from_secs(10));
        self.send(INITIALIZED);
        response
    }

    /// The next event, which must be `closed`, skipping messages.
    pub fn closed(&self, timeout: Duration) -> PluginError {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if let Event::Closed(reason) = self.next(left) {
                return reason;
            }
        }
    }

    /// Asserts nothing arrives within `wait`.
    pub fn assert_quiet(&self, wait: Duration) {
        match self.events.recv_timeout(wait) {
            Err(_) => {}
            Ok(event) => panic!("unexpected event {event:?}"),
        }
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `@modelcontextprotocol/server-everything` running in one of its HTTP
/// modes on a free port; killed when dropped.
pub struct Everything {
    child: Child,
    pub port: u16,
}

impl Everything {
    /// Starts `node $CODEX_TEST_SERVER_EVERYTHING MODE` with `PORT` set.
    pub fn start(mode: &str) -> Everything {
        Everything::start_on(mode, free_port())
    }

    /// Starts it on `port`.
    pub fn start_on(mode: &str, port: u16) -> Everything {
        let (node, script) = node_and_everything();
        let mut child = Command::new(&node)
            .arg(&script)
            .arg(mode)
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run {node}: {error}"));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Everything { child, port };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("server-everything {mode} exited early ({status})");
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("server-everything {mode} did not listen on port {port} within 30 s");
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Whether the process still runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Everything {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `node` and server-everything's entry point, from `tests/node-env.sh`.
pub fn node_and_everything() -> (String, String) {
    let missing = |name: &str| {
        panic!(
            "{name} is not set: run `bash tests/setup.sh` and then `. tests/node-env.sh` in the repository root before running these tests"
        )
    };
    let node = std::env::var("CODEX_TEST_NODE").unwrap_or_else(|_| missing("CODEX_TEST_NODE"));
    let script = std::env::var("CODEX_TEST_SERVER_EVERYTHING")
        .unwrap_or_else(|_| missing("CODEX_TEST_SERVER_EVERYTHING"));
    assert!(
        Path::new(&script).exists(),
        "server-everything is not installed at {script}: run `bash tests/setup.sh`"
    );
    (node, script)
}
