//! A host and a message sink for driving the stdio transport from tests.

#![allow(dead_code)]

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codex_plugin_api::{
    ConnectRequest, Connection, ErrorKind, HostServices, LogLevel, Plugin, PluginError,
    PluginResult,
};
use codex_stdio::StdioPlugin;
use serde_json::{Value, json};

pub use codex_plugin_test_support::Event;
use codex_plugin_test_support::{RecordingHost, channel_sink};

/// One test's world: a `CODEX_HOME` and the host's log.
pub struct Harness {
    pub home: tempfile::TempDir,
    pub logs: Arc<Mutex<Vec<(LogLevel, String)>>>,
}

/// An open connection and what its sink receives.
pub struct Session {
    pub connection: Box<dyn Connection>,
    pub events: Receiver<Event>,
}

impl Harness {
    pub fn new() -> Self {
        Harness {
            home: tempfile::tempdir().unwrap(),
            logs: Arc::default(),
        }
    }

    pub fn codex_home(&self) -> &Path {
        self.home.path()
    }

    fn host(&self) -> HostServices {
        RecordingHost::new(self.home.path(), Arc::clone(&self.logs)).services()
    }

    /// Connects server `demo` with `config` (a JSON object).
    pub fn connect(&self, config: Value) -> PluginResult<Session> {
        self.connect_named("demo", config)
    }

    pub fn connect_named(&self, server: &str, config: Value) -> PluginResult<Session> {
        let transport = StdioPlugin::transport("stdio", self.host())?;
        let (sink, events) = channel_sink();
        let connection = transport.connect(
            ConnectRequest {
                server_name: server.into(),
                config_json: config.to_string().into(),
                timeout_ms: 10_000,
            },
            sink,
        )?;
        Ok(Session { connection, events })
    }

    /// Whether a log line at `level` contains `needle`.
    pub fn logged(&self, level: LogLevel, needle: &str) -> bool {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .any(|(at, line)| *at == level && line.contains(needle))
    }
}

/// A `sh -c SCRIPT` server config.
pub fn shell(script: &str) -> Value {
    json!({ "command": "sh", "args": ["-c", script] })
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

    /// The next event, which must be a message.
    pub fn message(&self) -> String {
        match self.next(Duration::from_secs(5)) {
            Event::Message(message) => message,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// The next event, which must be `closed`.
    pub fn closed(&self, timeout: Duration) -> PluginError {
        match self.next(timeout) {
            Event::Closed(reason) => reason,
            other => panic!("expected closed, got {other:?}"),
        }
    }

    /// Every message until `closed`, and the reason.
    pub fn drain(&self, timeout: Duration) -> (Vec<String>, PluginError) {
        let deadline = Instant::now() + timeout;
        let mut messages = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left) {
                Event::Message(message) => messages.push(message),
                Event::Closed(reason) => return (messages, reason),
            }
        }
    }

    /// Asserts nothing more arrives within `wait`.
    pub fn assert_quiet(&self, wait: Duration) {
        match self.events.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {}
            Ok(event) => panic!("unexpected event {event:?}"),
        }
    }
}

/// The `kind` and message of an error that must have happened.
pub fn failure<T>(result: PluginResult<T>) -> (ErrorKind, String) {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(error) => (error.kind, error.message.into_string()),
    }
}
