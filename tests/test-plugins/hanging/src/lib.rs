//! A plugin whose transport hangs, for testing that a plugin call that never
//! returns costs the host a thread, never the command.
//!
//! - manifest name `hanging`, transport `hanging`;
//! - the server's first `args` entry says where the plugin stops for good:
//!   - `connect`: `Transport::connect` never returns;
//!   - `send`: the first `Connection::send` (the host's `initialize`) never returns;
//!   - `call`: `Connection::send` of a `tools/call` never returns;
//!   - `close`: `Connection::close` never returns;
//!   - anything else, or none: nothing hangs;
//! - otherwise a thread per connection answers MCP itself (`initialize`,
//!   `ping`, `tools/list` with one tool `echo`, `tools/call echo`), like the
//!   featureful test plugin, so that each hang is reached through a real session.
//!
//! - credential backend `hanging`: its option `hang` says where it stops for
//!   good: `setup` (creating it), `load`, `store` or `delete`; every other
//!   call answers at once (nothing stored, writes accepted and forgotten).
//!
//! It is not a real plugin: its file is not named `libcodex_*.so`, so the host
//! never loads it from a build directory; tests copy it into a plugin
//! directory as `libcodex_hanging.so`.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, Sender};

use codex_plugin_api::{
    ConnectRequest, Connection, CredentialBackend, ErrorKind, HostServices, MessageSink, Plugin,
    PluginError, PluginManifest, PluginResult, Transport,
};
use serde_json::{Value, json};

/// The plugin's name, and the name of its transport.
const NAME: &str = "hanging";

/// The protocol version answered when the client names none.
const DEFAULT_PROTOCOL_VERSION: &str = "2025-06-18";

/// Where a connection stops returning.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HangAt {
    Connect,
    FirstSend,
    CallSend,
    Close,
    Nowhere,
}

impl HangAt {
    /// From the first entry of the server's `args`.
    fn from_config(config_json: &str) -> HangAt {
        let config: Value = serde_json::from_str(config_json).unwrap_or(Value::Null);
        match config
            .get("args")
            .and_then(|args| args.get(0))
            .and_then(Value::as_str)
        {
            Some("connect") => HangAt::Connect,
            Some("send") => HangAt::FirstSend,
            Some("call") => HangAt::CallSend,
            Some("close") => HangAt::Close,
            _ => HangAt::Nowhere,
        }
    }
}

/// Blocks the calling thread for good, as a plugin stuck on a lock or on a
/// peer that never answers would.
fn hang_forever() -> ! {
    loop {
        std::thread::park();
    }
}

struct Hanging;

impl Plugin for Hanging {
    fn manifest() -> PluginManifest {
        PluginManifest::new(
            NAME,
            env!("CARGO_PKG_VERSION"),
            "Test plugin: an in-process MCP server whose transport hangs where its args say",
        )
        .transport(NAME)
        .credential_backend(NAME)
    }

    fn credential_backend(
        name: &str,
        host: HostServices,
        options_json: &str,
    ) -> PluginResult<Box<dyn CredentialBackend>> {
        let _ = host;
        if name != NAME {
            return Err(PluginError::not_found(format!(
                "the hanging plugin provides no credential backend named '{name}'"
            )));
        }
        let options: Value = serde_json::from_str(options_json).unwrap_or(Value::Null);
        let hang = options
            .get("hang")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if hang == "setup" {
            hang_forever();
        }
        Ok(Box::new(HangingBackend { hang }))
    }

    fn transport(name: &str, host: HostServices) -> PluginResult<Box<dyn Transport>> {
        let _ = host;
        if name == NAME {
            Ok(Box::new(HangingTransport))
        } else {
            Err(PluginError::not_found(format!(
                "the hanging plugin provides no transport named '{name}'"
            )))
        }
    }
}

struct HangingTransport;

impl Transport for HangingTransport {
    fn connect(
        &self,
        request: ConnectRequest,
        sink: MessageSink,
    ) -> PluginResult<Box<dyn Connection>> {
        let hang_at = HangAt::from_config(&request.config_json);
        if hang_at == HangAt::Connect {
            hang_forever();
        }
        let (sender, receiver) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("hanging {}", request.server_name))
            .spawn(move || serve(receiver, &sink))
            .map_err(|error| {
                PluginError::new(
                    ErrorKind::Internal,
                    format!("cannot start the hanging plugin's server thread: {error}"),
                )
            })?;
        Ok(Box::new(HangingConnection {
            hang_at,
            sender: Mutex::new(Some(sender)),
            sent: Mutex::new(0),
        }))
    }
}

struct HangingConnection {
    hang_at: HangAt,
    /// Dropped by `close`, which ends the server thread.
    sender: Mutex<Option<Sender<String>>>,
    /// How many messages the host has sent.
    sent: Mutex<usize>,
}

impl Connection for HangingConnection {
    fn send(&self, message: &str) -> PluginResult<()> {
        let first = self
            .sent
            .lock()
            .map(|mut sent| {
                *sent += 1;
                *sent == 1
            })
            .unwrap_or(false);
        if (self.hang_at == HangAt::FirstSend && first)
            || (self.hang_at == HangAt::CallSend && message.contains("\"tools/call\""))
        {
            hang_forever();
        }
        let sender = self.sender.lock().map_err(|_| {
            PluginError::new(ErrorKind::Internal, "the connection lock is poisoned")
        })?;
        match sender.as_ref() {
            Some(sender) => sender.send(message.to_string()).map_err(|_| {
                PluginError::new(ErrorKind::Unavailable, "the hanging server has stopped")
            }),
            None => Err(PluginError::new(
                ErrorKind::Unavailable,
                "the connection is closed",
            )),
        }
    }

    fn close(&self) -> PluginResult<()> {
        if self.hang_at == HangAt::Close {
            hang_forever();
        }
        if let Ok(mut sender) = self.sender.lock() {
            sender.take();
        }
        Ok(())
    }
}

/// Answers every request until the connection is closed, then tells the host.
fn serve(receiver: Receiver<String>, sink: &MessageSink) {
    for text in receiver {
        if let Some(reply) = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|message| answer(&message))
        {
            sink.deliver(reply.to_string());
        }
    }
    sink.closed(PluginError::new(
        ErrorKind::Unavailable,
        "the host closed the hanging connection",
    ));
}

/// The reply to one message; notifications and responses get none.
fn answer(message: &Value) -> Option<Value> {
    let id = message.get("id")?.clone();
    let method = message.get("method")?.as_str()?;
    let params = message.get("params").cloned().unwrap_or(Value::Null);
    let result = match method {
        "initialize" => json!({
            "protocolVersion": params
                .get("protocolVersion")
                .and_then(Value::as_str)
                .unwrap_or(DEFAULT_PROTOCOL_VERSION),
            "capabilities": { "tools": {} },
            "serverInfo": { "name": NAME, "version": env!("CARGO_PKG_VERSION") },
        }),
        "ping" => json!({}),
        "tools/list" => json!({
            "tools": [{
                "name": "echo",
                "description": "Answers with its `message` argument",
                "inputSchema": { "type": "object", "properties": { "message": { "type": "string" } } },
            }],
        }),
        "tools/call" => {
            let text = params
                .pointer("/arguments/message")
                .and_then(Value::as_str)
                .unwrap_or("");
            json!({ "content": [{ "type": "text", "text": format!("echo: {text}") }], "isError": false })
        }
        other => {
            return Some(json!({
                "jsonrpc": "2.0",
                "id": id,
                "error": { "code": -32601, "message": format!("method not found: {other}") },
            }));
        }
    };
    Some(json!({ "jsonrpc": "2.0", "id": id, "result": result }))
}

codex_plugin_api::export_plugin!(Hanging);

/// A credential backend that never returns from the call its `hang` option names.
struct HangingBackend {
    hang: String,
}

impl HangingBackend {
    fn maybe_hang(&self, call: &str) {
        if self.hang == call {
            hang_forever();
        }
    }
}

impl CredentialBackend for HangingBackend {
    fn load(&self, _service: &str, _account: &str) -> PluginResult<Option<String>> {
        self.maybe_hang("load");
        Ok(None)
    }

    fn store(&self, _service: &str, _account: &str, _secret: &str) -> PluginResult<()> {
        self.maybe_hang("store");
        Ok(())
    }

    fn delete(&self, _service: &str, _account: &str) -> PluginResult<bool> {
        self.maybe_hang("delete");
        Ok(false)
    }
}
