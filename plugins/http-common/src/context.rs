//! What every task of one connection shares.

use std::sync::atomic::{AtomicBool, Ordering};

use codex_plugin_api::{HostServices, LogLevel, PluginError};

use crate::gate::Gate;
use crate::http::Http;
use crate::message::Outgoing;

/// The client, the way to the host, and whether the host is closing.
pub struct Context {
    /// The HTTP client and the configured headers.
    pub http: Http,
    /// Where incoming messages and the end go.
    pub gate: Gate,
    host: HostServices,
    closing: AtomicBool,
}

impl Context {
    /// A context for one connection.
    pub fn new(http: Http, gate: Gate, host: HostServices) -> Self {
        Context {
            http,
            gate,
            host,
            closing: AtomicBool::new(false),
        }
    }

    /// The server's name.
    pub fn server(&self) -> &str {
        &self.http.server
    }

    /// Delivers one incoming message to the host.
    pub fn deliver(&self, message: String) {
        self.gate.deliver(message);
    }

    /// Ends the connection with `reason`, unless the host is closing it (then
    /// `close` reports the end).
    pub fn end(&self, reason: PluginError) {
        if !self.is_closing() {
            self.log(
                LogLevel::Debug,
                &format!("connection ended: {}", reason.message),
            );
            self.gate.finish(reason);
        }
    }

    /// Marks the connection as being closed by the host.
    pub fn start_closing(&self) {
        self.closing.store(true, Ordering::SeqCst);
    }

    /// Whether the host is closing the connection.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// Writes `message` to the host's log, prefixed with the server's name.
    pub fn log(&self, level: LogLevel, message: &str) {
        self.host
            .log(level, &format!("MCP server `{}`: {message}", self.server()));
    }

    /// Fails `message`: a request gets an error response, so the host's call
    /// ends with `error`; anything else can only be logged.
    pub fn fail(&self, message: &Outgoing, error: &PluginError) {
        match message.error_response(&error.message) {
            Some(response) => {
                self.log(
                    LogLevel::Debug,
                    &format!("{} failed: {}", message.label(), error.message),
                );
                self.deliver(response);
            }
            None => self.log(
                LogLevel::Warn,
                &format!("could not send {}: {}", message.label(), error.message),
            ),
        }
    }
}
