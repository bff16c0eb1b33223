//! A plugin that declares its own feature flag and changes its behaviour
//! when the flag is on, for testing the feature registry end to end.
//!
//! - manifest name `featureful`, transport `featureful`;
//! - feature `featureful_shout` (experimental, off by default);
//! - the transport runs no process and opens no socket: a thread per
//!   connection answers MCP itself (`initialize`, `ping`, `tools/list` with
//!   one tool `greet`, `tools/call greet`). `greet` answers `hello`, or
//!   `HELLO` when the host says `featureful_shout` is on; the flag is read
//!   through the host services at every call.
//!
//! It is not a real plugin: its file is not named `libcodex_*.so`, so the host
//! never loads it from a build directory; tests copy it into a plugin
//! directory as `libcodex_featureful.so`.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use codex_plugin_api::{
    ConnectRequest, Connection, ErrorKind, FeatureStage, HostServices, MessageSink, Plugin,
    PluginError, PluginManifest, PluginResult, Transport,
};
use serde_json::{Value, json};

/// The plugin's name, and the name of its transport.
const NAME: &str = "featureful";

/// The feature that makes `greet` shout.
pub const SHOUT_FEATURE: &str = "featureful_shout";

/// The protocol version answered when the client names none.
const DEFAULT_PROTOCOL_VERSION: &str = "2025-06-18";

struct Featureful;

impl Plugin for Featureful {
    fn manifest() -> PluginManifest {
        PluginManifest::new(
            NAME,
            env!("CARGO_PKG_VERSION"),
            "Test plugin: an in-process MCP server whose greeting a feature flag changes",
        )
        .transport(NAME)
        .feature(
            SHOUT_FEATURE,
            FeatureStage::Experimental,
            false,
            "Make the featureful test server's greet tool answer in capitals",
        )
    }

    fn transport(name: &str, host: HostServices) -> PluginResult<Box<dyn Transport>> {
        if name == NAME {
            Ok(Box::new(FeaturefulTransport { host }))
        } else {
            Err(PluginError::not_found(format!(
                "the featureful plugin provides no transport named '{name}'"
            )))
        }
    }
}

struct FeaturefulTransport {
    host: HostServices,
}

impl Transport for FeaturefulTransport {
    fn connect(
        &self,
        request: ConnectRequest,
        sink: MessageSink,
    ) -> PluginResult<Box<dyn Connection>> {
        let (sender, receiver) = mpsc::channel();
        let host = self.host.clone();
        let server = request.server_name.to_string();
        let worker = std::thread::Builder::new()
            .name(format!("featureful {server}"))
            .spawn(move || serve(receiver, &sink, &host))
            .map_err(|error| {
                PluginError::new(
                    ErrorKind::Internal,
                    format!("cannot start the featureful server thread: {error}"),
                )
            })?;
        Ok(Box::new(FeaturefulConnection {
            sender: Mutex::new(Some(sender)),
            worker: Mutex::new(Some(worker)),
        }))
    }
}

struct FeaturefulConnection {
    /// Dropped by `close`, which ends the worker's loop.
    sender: Mutex<Option<Sender<String>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Connection for FeaturefulConnection {
    fn send(&self, message: &str) -> PluginResult<()> {
        let sender = self.sender.lock().map_err(|_| {
            PluginError::new(ErrorKind::Internal, "the connection lock is poisoned")
        })?;
        match sender.as_ref() {
            Some(sender) => sender.send(message.to_string()).map_err(|_| {
                PluginError::new(ErrorKind::Unavailable, "the featureful server has stopped")
            }),
            None => Err(PluginError::new(
                ErrorKind::Unavailable,
                "the connection is closed",
            )),
        }
    }

    fn close(&self) -> PluginResult<()> {
        if let Ok(mut sender) = self.sender.lock() {
            sender.take();
        }
        let worker = self.worker.lock().ok().and_then(|mut worker| worker.take());
        if let Some(worker) = worker
            && worker.join().is_err()
        {
            return Err(PluginError::new(
                ErrorKind::Internal,
                "the featureful server thread panicked",
            ));
        }
        Ok(())
    }
}

impl Drop for FeaturefulConnection {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// Answers every request until the connection is closed, then tells the host.
fn serve(receiver: Receiver<String>, sink: &MessageSink, host: &HostServices) {
    for text in receiver {
        let reply = match serde_json::from_str::<Value>(&text) {
            Ok(message) => answer(&message, host),
            Err(error) => Some(json!({
                "jsonrpc": "2.0",
                "id": null,
                "error": { "code": -32700, "message": format!("parse error: {error}") },
            })),
        };
        if let Some(reply) = reply {
            sink.deliver(reply.to_string());
        }
    }
    sink.closed(PluginError::new(
        ErrorKind::Unavailable,
        "the host closed the featureful connection",
    ));
}

/// The reply to one message; notifications and responses get none.
fn answer(message: &Value, host: &HostServices) -> Option<Value> {
    let id = message.get("id")?.clone();
    let method = message.get("method")?.as_str()?;
    let params = message.get("params").cloned().unwrap_or(Value::Null);
    let outcome = match method {
        "initialize" => Ok(json!({
            "protocolVersion": params
                .get("protocolVersion")
                .and_then(Value::as_str)
                .unwrap_or(DEFAULT_PROTOCOL_VERSION),
            "capabilities": { "tools": {} },
            "serverInfo": { "name": NAME, "version": env!("CARGO_PKG_VERSION") },
        })),
        "ping" => Ok(json!({})),
        "tools/list" => Ok(json!({
            "tools": [{
                "name": "greet",
                "description": "Says hello (in capitals when featureful_shout is on)",
                "inputSchema": { "type": "object", "properties": {} },
            }],
        })),
        "tools/call" => match params.get("name").and_then(Value::as_str) {
            Some("greet") => {
                let shout = host.feature_enabled(SHOUT_FEATURE) == Some(true);
                let text = if shout { "HELLO" } else { "hello" };
                Ok(json!({
                    "content": [{ "type": "text", "text": text }],
                    "isError": false,
                }))
            }
            other => Err((
                -32602,
                format!("unknown tool {}", other.unwrap_or("(none)")),
            )),
        },
        other => Err((-32601, format!("method not found: {other}"))),
    };
    Some(match outcome {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err((code, text)) => json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": { "code": code, "message": text },
        }),
    })
}

codex_plugin_api::export_plugin!(Featureful);
