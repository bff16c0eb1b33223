//! A raw JSON-RPC client for the demo server: real process, real pipes,
//! every read bounded by a timeout.

#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader, Write},
    process::{Child, ChildStdin, Command, ExitStatus, Stdio},
    sync::mpsc::{Receiver, channel},
    thread,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

/// How long any single expected answer may take.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);

/// A running demo server with its stdout and stderr read on threads.
pub struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

/// Starts the demo server binary with `args`.
pub fn spawn(args: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_codex-demo-server"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take();
    let stdout = lines_on_thread(child.stdout.take().unwrap());
    let stderr = lines_on_thread(child.stderr.take().unwrap());
    Server {
        child,
        stdin,
        stdout,
        stderr,
    }
}

fn lines_on_thread(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = channel();
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// The `initialize` request for `version`.
pub fn initialize_request(id: u64, version: &str) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": { "name": "demo-server-tests", "version": "0.0.0" }
        }
    })
}

impl Server {
    /// The process id of the server.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes one message as one line.
    pub fn send(&mut self, message: &Value) {
        let stdin = self.stdin.as_mut().unwrap();
        let mut line = serde_json::to_string(message).unwrap();
        line.push('\n');
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// Closes the server's stdin.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// The next stdout line, or `None` when none comes within `timeout`.
    pub fn next_line(&self, timeout: Duration) -> Option<String> {
        self.stdout.recv_timeout(timeout).ok()
    }

    /// The reply with `id`, skipping notifications; panics after [`ANSWER_TIMEOUT`].
    pub fn reply(&self, id: u64) -> Value {
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .next_line(left)
                .unwrap_or_else(|| panic!("no reply with id {id} within {ANSWER_TIMEOUT:?}"));
            let message: Value = serde_json::from_str(&line)
                .unwrap_or_else(|error| panic!("stdout line is not JSON ({error}): {line}"));
            if message["id"] == json!(id) {
                return message;
            }
        }
    }

    /// Sends `request` with `id` and returns the reply.
    pub fn call(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        self.reply(id)
    }

    /// Runs the initialize handshake with `version` and returns the result.
    pub fn initialize(&mut self, version: &str) -> Value {
        self.send(&initialize_request(1, version));
        let reply = self.reply(1);
        self.send(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }));
        reply["result"].clone()
    }

    /// Calls tool `name` and returns the `result` of the reply.
    pub fn call_tool(&mut self, id: u64, name: &str, arguments: Value) -> Value {
        let reply = self.call(
            id,
            "tools/call",
            json!({ "name": name, "arguments": arguments }),
        );
        assert!(
            reply.get("error").is_none(),
            "tools/call {name} failed: {reply}"
        );
        reply["result"].clone()
    }

    /// The first stderr line containing `needle`, waiting up to [`ANSWER_TIMEOUT`].
    pub fn stderr_line_with(&self, needle: &str) -> String {
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .stderr
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no stderr line with {needle:?}"));
            if line.contains(needle) {
                return line;
            }
        }
    }

    /// The exit status once the process ends, or `None` if it is still
    /// running after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends `signal` (a `kill -s` name such as `TERM`) to the server.
    pub fn signal(&self, signal: &str) {
        send_signal(self.pid(), signal);
    }
}

/// Sends `signal` to `pid` with the `kill` command.
pub fn send_signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args(["-s", signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -s {signal} {pid} failed");
}

/// The text of the single text content of a tool result.
pub fn text_of(result: &Value) -> &str {
    let content = result["content"].as_array().unwrap();
    assert_eq!(content.len(), 1, "expected one content block: {result}");
    assert_eq!(content[0]["type"], "text");
    content[0]["text"].as_str().unwrap()
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
