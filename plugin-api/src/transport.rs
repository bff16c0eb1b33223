//! Transports: moving JSON-RPC messages between the host and an MCP server.
//!
//! The boundary is message-level. The host runs the MCP protocol (initialize,
//! tools/list, tools/call) itself; a transport only carries UTF-8 JSON-RPC
//! messages. Incoming messages reach the host through a [`MessageSink`] that
//! the host implements, so a plugin never has to be polled.

use std::sync::Arc;

use abi_stable::{
    StableAbi, sabi_trait,
    sabi_trait::TD_Opaque,
    std_types::{RBox, RResult, RStr, RString, RVec},
};

use crate::error::{PluginError, PluginResult};
use crate::guard::{guard, guard_unit};

/// What the host asks a transport to connect to.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct ConnectRequest {
    /// The server's name (the key of its `[mcp_servers.NAME]` table).
    pub server_name: RString,
    /// The server's configuration table as a JSON object. New config fields
    /// reach plugins here without any change to the ABI.
    pub config_json: RString,
    /// How long `connect` may take, in milliseconds. The host also enforces it.
    pub timeout_ms: u64,
}

/// What a transport learned about a server's authorization without opening a
/// session (for `codex mcp list`).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthProbe {
    /// The server asks for OAuth: its 401 challenge names protected-resource
    /// metadata (RFC 9728 §5.1), or protected-resource metadata or
    /// authorization-server metadata (RFC 8414 / OpenID) was found.
    pub oauth: bool,
    /// The authorization servers the metadata names (empty when the
    /// challenge alone decided and no document was fetched).
    pub authorization_servers: RVec<RString>,
    /// The scopes the metadata advertises.
    pub scopes_supported: RVec<RString>,
}

/// What `codex mcp login` asks of a transport (API 1.2).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest {
    /// The server's name.
    pub server_name: RString,
    /// The server's configuration table as a JSON object.
    pub config_json: RString,
    /// The login options as a JSON object: `scopes` (array of strings),
    /// `no_browser` (bool), `client_id`, `client_secret` (a secret: never
    /// log it), `resource`, `registration` (`"auto"`, `"cimd"` or `"dcr"`),
    /// `callback_port` (number), `callback_url` (a redirect URI to use
    /// verbatim), `client_metadata_url`. Absent keys mean
    /// "not given"; a transport ignores keys it does not know.
    pub options_json: RString,
    /// How long the whole login may take, in milliseconds (0: the plugin's default).
    pub timeout_ms: u64,
}

/// The `params._meta` key under which a transport that knows which of the
/// host's requests an incoming server request or notification came with
/// (a streamable HTTP server sends those on the POST stream of the request
/// they belong to) names that request's JSON-RPC id. MCP itself carries no
/// such link on the wire, so this is how a host tells which of several
/// calls in flight an elicitation, a sampling request or a log message is
/// of. A host that does not know the key ignores it, as `_meta` allows.
pub const RELATED_REQUEST_META: &str = "dev.codex-host/relatedRequestId";

/// The FFI form of [`MessageSink`]; implemented by the host.
#[sabi_trait]
pub trait MessageSinkFfi: Send + Sync {
    /// One complete incoming JSON-RPC message (UTF-8 JSON text).
    fn deliver(&self, message: RString);

    /// The connection has ended and will deliver nothing more. `reason` says
    /// why: a process exit with its status and the tail of its stderr, an
    /// HTTP error, a protocol violation.
    #[sabi(last_prefix_field)]
    fn closed(&self, reason: PluginError);
}

/// An owned FFI message sink.
pub type MessageSinkBox = MessageSinkFfi_TO<'static, RBox<()>>;

/// The FFI form of [`Connection`]; implemented by plugins through [`ConnectionAdapter`].
#[sabi_trait]
pub trait ConnectionFfi: Send + Sync {
    /// Queues one outgoing JSON-RPC message. Must not block for long: a plugin
    /// writes from its own thread.
    fn send(&self, message: RStr<'_>) -> RResult<(), PluginError>;

    /// Ends the connection and releases everything it holds (processes,
    /// sockets, threads). May block up to the plugin's own grace period; the
    /// host calls it off its async threads.
    #[sabi(last_prefix_field)]
    fn close(&self) -> RResult<(), PluginError>;
}

/// An owned FFI connection.
pub type ConnectionBox = ConnectionFfi_TO<'static, RBox<()>>;

/// The FFI form of [`Transport`]; implemented by plugins through [`TransportAdapter`].
#[sabi_trait]
pub trait TransportFfi: Send + Sync {
    /// Opens a connection. May block (spawn a process, open a socket); the host
    /// calls it off its async threads with a deadline.
    #[sabi(last_prefix_field)]
    fn connect(
        &self,
        request: ConnectRequest,
        sink: MessageSinkBox,
    ) -> RResult<ConnectionBox, PluginError>;

    /// Finds out, without opening a session, whether the server asks for
    /// authorization. Added in API 1.1: for a plugin built against 1.0 the
    /// host gets this default, "no authorization".
    fn probe_auth(&self, request: ConnectRequest) -> RResult<AuthProbe, PluginError> {
        let _ = request;
        RResult::ROk(AuthProbe::default())
    }

    /// Logs in to the server (an OAuth authorization) and stores the tokens
    /// through the host's credential store. Returns a JSON object with at
    /// least `"message"`, one line for the user. Added in API 1.2: a plugin
    /// built against an older API does not log in.
    fn login(&self, request: LoginRequest) -> RResult<RString, PluginError> {
        let _ = request;
        RResult::RErr(no_login_support())
    }

    /// Logs out: revokes the stored tokens where the server supports it, then
    /// deletes them. Returns a JSON object with at least `"message"`. Added
    /// in API 1.2.
    fn logout(&self, request: ConnectRequest) -> RResult<RString, PluginError> {
        let _ = request;
        RResult::RErr(no_login_support())
    }
}

/// What a transport without logins answers to `login` and `logout`.
fn no_login_support() -> PluginError {
    PluginError::not_found("this transport does not support logging in")
}

/// An owned FFI transport.
pub type TransportBox = TransportFfi_TO<'static, RBox<()>>;

/// Where a plugin puts incoming messages. Cheap to clone; share it with the
/// threads that read from the server.
#[derive(Clone)]
pub struct MessageSink {
    inner: Arc<MessageSinkBox>,
}

impl MessageSink {
    /// Wraps the host's sink.
    pub fn new(inner: MessageSinkBox) -> Self {
        MessageSink {
            inner: Arc::new(inner),
        }
    }

    /// Hands one complete JSON-RPC message to the host.
    pub fn deliver(&self, message: String) {
        self.inner.deliver(message.into());
    }

    /// Tells the host the connection has ended, and why.
    pub fn closed(&self, reason: PluginError) {
        self.inner.closed(reason);
    }
}

/// A transport, as a plugin author writes it.
pub trait Transport: Send + Sync + 'static {
    /// Opens a connection for `request`, delivering incoming messages to `sink`.
    /// A configuration problem is an [`ErrorKind::InvalidConfig`](crate::ErrorKind::InvalidConfig)
    /// error whose message names the field.
    fn connect(
        &self,
        request: ConnectRequest,
        sink: MessageSink,
    ) -> PluginResult<Box<dyn Connection>>;

    /// Whether the server asks for authorization, found without opening a
    /// session (HTTP transports probe the well-known metadata). Must be quick:
    /// the host probes every server at once with a short deadline
    /// (`request.timeout_ms`). The default says "no authorization".
    fn probe_auth(&self, request: ConnectRequest) -> PluginResult<AuthProbe> {
        let _ = request;
        Ok(AuthProbe::default())
    }

    /// Logs in to the server and stores what it needs through
    /// [`HostServices`](crate::HostServices)' credential store; returns a JSON
    /// object with at least `"message"`. The default: no login support
    /// ([`ErrorKind::NotFound`](crate::ErrorKind::NotFound)).
    fn login(&self, request: LoginRequest) -> PluginResult<String> {
        let _ = request;
        Err(no_login_support())
    }

    /// Revokes (where supported) and deletes the stored login; returns a JSON
    /// object with at least `"message"`. The default: no login support.
    fn logout(&self, request: ConnectRequest) -> PluginResult<String> {
        let _ = request;
        Err(no_login_support())
    }
}

/// An open connection, as a plugin author writes it.
pub trait Connection: Send + Sync + 'static {
    /// Queues one outgoing message.
    fn send(&self, message: &str) -> PluginResult<()>;

    /// Ends the connection. Called at most once; dropping without `close`
    /// must release everything too.
    fn close(&self) -> PluginResult<()>;
}

/// Exposes a [`Transport`] across the boundary, containing its panics.
pub struct TransportAdapter(pub Box<dyn Transport>);

impl TransportFfi for TransportAdapter {
    fn connect(
        &self,
        request: ConnectRequest,
        sink: MessageSinkBox,
    ) -> RResult<ConnectionBox, PluginError> {
        guard("transport connect", || {
            let connection = self.0.connect(request, MessageSink::new(sink))?;
            Ok(ConnectionBox::from_value(
                ConnectionAdapter(connection),
                TD_Opaque,
            ))
        })
    }

    fn probe_auth(&self, request: ConnectRequest) -> RResult<AuthProbe, PluginError> {
        guard("transport probe_auth", || self.0.probe_auth(request))
    }

    fn login(&self, request: LoginRequest) -> RResult<RString, PluginError> {
        guard("transport login", || {
            self.0.login(request).map(RString::from)
        })
    }

    fn logout(&self, request: ConnectRequest) -> RResult<RString, PluginError> {
        guard("transport logout", || {
            self.0.logout(request).map(RString::from)
        })
    }
}

impl TransportAdapter {
    /// The FFI box for `transport`.
    pub fn boxed(transport: Box<dyn Transport>) -> TransportBox {
        TransportBox::from_value(TransportAdapter(transport), TD_Opaque)
    }
}

/// Exposes a [`Connection`] across the boundary, containing its panics.
pub struct ConnectionAdapter(pub Box<dyn Connection>);

impl ConnectionFfi for ConnectionAdapter {
    fn send(&self, message: RStr<'_>) -> RResult<(), PluginError> {
        guard("connection send", || self.0.send(message.as_str()))
    }

    fn close(&self) -> RResult<(), PluginError> {
        guard("connection close", || self.0.close())
    }
}

impl Drop for ConnectionAdapter {
    fn drop(&mut self) {
        // Dropping the inner connection runs plugin code (killing processes,
        // joining threads); a panic there must not cross into the host.
        let connection = std::mem::replace(&mut self.0, Box::new(Closed));
        guard_unit("connection drop", move || drop(connection));
    }
}

/// The placeholder left behind when a connection is dropped.
struct Closed;

impl Connection for Closed {
    fn send(&self, _message: &str) -> PluginResult<()> {
        Err(PluginError::new(
            crate::ErrorKind::Unavailable,
            "connection is closed",
        ))
    }
    fn close(&self) -> PluginResult<()> {
        Ok(())
    }
}
