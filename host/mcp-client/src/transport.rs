//! An rmcp [`Transport`] over a plugin connection.
//!
//! The plugin moves JSON-RPC text; this adapter turns it into rmcp's typed
//! messages and back, and remembers why the connection ended so that a call
//! that fails because the server died can say how it died. It also keeps
//! track of plugin calls that have not returned, so that a plugin that hangs
//! costs a thread and a clear error, never the command.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::time::{Duration, Instant};

use abi_stable::{sabi_trait::TD_Opaque, std_types::RString};
use codex_plugin_api::{ConnectionBox, MessageSinkBox, MessageSinkFfi, PluginError, guard_unit};
use codex_plugin_host::transports::SendPath;
use rmcp::{
    RoleClient,
    service::{RxJsonRpcMessage, TxJsonRpcMessage},
    transport::Transport,
};
use tokio::sync::{mpsc, oneshot, watch};

/// How long the host waits for a plugin's `close` before it goes on without
/// it. Plugins bound their own grace period (stdio: SIGTERM, then SIGKILL a
/// few seconds later), so only a plugin that hangs reaches this.
pub const CLOSE_DEADLINE: Duration = Duration::from_secs(10);

/// Why the connection ended, shared between the sink (plugin threads) and the client.
#[derive(Default)]
pub struct CloseReason {
    reason: Mutex<Option<PluginError>>,
    /// Wakes [`CloseReason::wait`] when the reason arrives.
    arrived: tokio::sync::Notify,
}

impl CloseReason {
    /// The reason the plugin gave, if the connection has ended.
    pub fn get(&self) -> Option<PluginError> {
        self.reason.lock().ok().and_then(|reason| reason.clone())
    }

    /// The reason, waiting for it at most `limit`: after a send failed the
    /// plugin has usually not yet reported why (a server that died is seen
    /// on its stdout a moment later), and its reason says more than the
    /// failed send.
    pub async fn wait(&self, limit: Duration) -> Option<PluginError> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(reason) = self.get() {
                return Some(reason);
            }
            // A permit left by `set` before this wait started counts too.
            if tokio::time::timeout_at(deadline, self.arrived.notified())
                .await
                .is_err()
            {
                return self.get();
            }
        }
    }

    fn set(&self, reason: PluginError) {
        if let Ok(mut slot) = self.reason.lock()
            && slot.is_none()
        {
            *slot = Some(reason);
        }
        self.arrived.notify_one();
    }
}

/// The host's message sink: forwards plugin messages into a channel.
struct ChannelSink {
    sender: Mutex<Option<mpsc::UnboundedSender<String>>>,
    reason: Arc<CloseReason>,
}

impl MessageSinkFfi for ChannelSink {
    fn deliver(&self, message: RString) {
        guard_unit("message sink", || {
            if let Ok(sender) = self.sender.lock()
                && let Some(sender) = sender.as_ref()
            {
                let _ = sender.send(message.into_string());
            }
        });
    }

    fn closed(&self, reason: PluginError) {
        guard_unit("message sink close", || {
            self.reason.set(reason);
            // Dropping the sender ends the receiving stream, which rmcp reads
            // as the transport closing.
            if let Ok(mut sender) = self.sender.lock() {
                sender.take();
            }
        });
    }
}

/// What a plugin's `close` returned, once it has.
type CloseOutcome = Option<Result<(), PluginError>>;

/// The plugin calls of one connection that the host may have to stop
/// waiting for: `send`s that have not returned, and the one `close`.
pub struct PluginCalls {
    connection: Arc<ConnectionBox>,
    /// Sends that have entered the plugin and not returned.
    sending: AtomicUsize,
    /// Whether a send has failed: the connection is gone.
    send_failed: AtomicBool,
    /// When the plugin's `close` started, and where its outcome arrives.
    closing: Mutex<Option<(Instant, watch::Receiver<CloseOutcome>)>>,
}

/// The plugin's `close` did not return within [`CLOSE_DEADLINE`].
#[derive(Debug)]
pub struct CloseTimedOut;

impl PluginCalls {
    fn new(connection: Arc<ConnectionBox>) -> PluginCalls {
        PluginCalls {
            connection,
            sending: AtomicUsize::new(0),
            send_failed: AtomicBool::new(false),
            closing: Mutex::new(None),
        }
    }

    /// Whether a `send` into the plugin has not returned: when a deadline
    /// passes, the plugin is stuck rather than the server slow.
    pub fn send_pending(&self) -> bool {
        self.sending.load(Ordering::SeqCst) > 0
    }

    /// Whether a `send` into the plugin has failed.
    pub fn send_failed(&self) -> bool {
        self.send_failed.load(Ordering::SeqCst)
    }

    /// Closes the connection. The plugin's `close` runs once, whoever asks
    /// first (rmcp when its service ends, the session when it is done), on a
    /// thread of its own that is left behind if the plugin never returns;
    /// every caller waits for that one outcome until [`CLOSE_DEADLINE`]
    /// after it started.
    pub async fn close(&self) -> Result<Result<(), PluginError>, CloseTimedOut> {
        let (started, mut outcome) = {
            let mut closing = self.closing.lock().unwrap_or_else(|e| e.into_inner());
            closing
                .get_or_insert_with(|| (Instant::now(), self.start_close()))
                .clone()
        };
        let left = CLOSE_DEADLINE.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, outcome.wait_for(Option::is_some)).await {
            Err(_) => Err(CloseTimedOut),
            Ok(Ok(done)) => Ok((*done).clone().unwrap_or(Ok(()))),
            // The closing thread ended without an outcome: only if it
            // could not start or the plugin's guard failed.
            Ok(Err(_)) => Ok(Err(PluginError::internal(
                "the plugin's close ended without an answer",
            ))),
        }
    }

    fn start_close(&self) -> watch::Receiver<CloseOutcome> {
        let (sender, receiver) = watch::channel(None);
        let connection = self.connection.clone();
        // Not a runtime thread: the runtime must not wait for it at exit.
        let started = std::thread::Builder::new()
            .name("plugin close".into())
            .spawn(move || {
                let _ = sender.send(Some(connection.close().into_result()));
            });
        match started {
            Ok(_) => receiver,
            Err(error) => {
                watch::channel(Some(Err(PluginError::internal(format!(
                    "cannot start a thread to close the connection: {error}"
                )))))
                .1
            }
        }
    }
}

/// The receiving half, created before `connect` so the sink can be handed over.
pub struct Pending {
    receiver: mpsc::UnboundedReceiver<String>,
    reason: Arc<CloseReason>,
}

/// A new sink for `connect`, and the half that becomes the transport.
pub fn channel() -> (MessageSinkBox, Pending) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let reason = Arc::new(CloseReason::default());
    let sink = ChannelSink {
        sender: Mutex::new(Some(sender)),
        reason: reason.clone(),
    };
    (
        MessageSinkBox::from_value(sink, TD_Opaque),
        Pending { receiver, reason },
    )
}

impl Pending {
    /// Joins the receiving half with the opened connection, its sends
    /// running where `path` says.
    pub fn into_transport(
        self,
        connection: Arc<ConnectionBox>,
        server: String,
        path: SendPath,
        verbose: bool,
    ) -> PluginTransport {
        let calls = Arc::new(PluginCalls::new(connection));
        let send_thread = match path {
            SendPath::Inline => None,
            // Without a thread (none can be started) sends stay inline.
            SendPath::Thread => start_send_thread(&calls, &server),
        };
        PluginTransport {
            calls,
            send_thread,
            receiver: self.receiver,
            reason: self.reason,
            server,
            verbose,
        }
    }
}

/// One message for the send thread, and where its outcome goes.
type Outgoing = (String, oneshot::Sender<Result<(), PluginError>>);

/// Starts the thread that calls the plugin's `send` in order; it ends when
/// the transport is dropped, or never if the plugin never returns.
fn start_send_thread(calls: &Arc<PluginCalls>, server: &str) -> Option<std_mpsc::Sender<Outgoing>> {
    let (queue, outgoing) = std_mpsc::channel::<Outgoing>();
    let calls = calls.clone();
    std::thread::Builder::new()
        .name(format!("send {server}"))
        .spawn(move || {
            for (text, reply) in outgoing {
                let sent = calls.connection.send(text.as_str().into()).into_result();
                calls.sending.fetch_sub(1, Ordering::SeqCst);
                let _ = reply.send(sent);
            }
        })
        .ok()?;
    Some(queue)
}

/// rmcp's view of a plugin connection.
pub struct PluginTransport {
    calls: Arc<PluginCalls>,
    /// The queue of the send thread, for [`SendPath::Thread`].
    send_thread: Option<std_mpsc::Sender<Outgoing>>,
    receiver: mpsc::UnboundedReceiver<String>,
    reason: Arc<CloseReason>,
    server: String,
    /// Say so (on standard error) when a message is not JSON-RPC.
    verbose: bool,
}

impl PluginTransport {
    /// Shared access to the close reason, for error messages.
    pub fn close_reason(&self) -> Arc<CloseReason> {
        self.reason.clone()
    }

    /// Shared access to the plugin calls in progress, for deadlines and closing.
    pub fn plugin_calls(&self) -> Arc<PluginCalls> {
        self.calls.clone()
    }
}

/// One message from the plugin as rmcp's type; text that is not a JSON-RPC
/// message is an error, never a panic.
fn parse_incoming(text: &str) -> Result<RxJsonRpcMessage<RoleClient>, serde_json::Error> {
    serde_json::from_str(text)
}

/// A failure to send through the plugin.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SendError(String);

impl Transport<RoleClient> for PluginTransport {
    type Error = SendError;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let calls = self.calls.clone();
        let send_thread = self.send_thread.clone();
        let text = serde_json::to_string(&item);
        async move {
            let text =
                text.map_err(|error| SendError(format!("cannot encode a message: {error}")))?;
            // Counted until the plugin returns, so that a deadline can tell
            // a send that hung from a server that is slow.
            calls.sending.fetch_add(1, Ordering::SeqCst);
            let sent = match send_thread {
                Some(queue) => {
                    let (reply, answer) = oneshot::channel();
                    if queue.send((text, reply)).is_err() {
                        calls.sending.fetch_sub(1, Ordering::SeqCst);
                        return Err(SendError("the connection's send thread has stopped".into()));
                    }
                    answer.await.unwrap_or_else(|_| {
                        Err(PluginError::internal(
                            "the connection's send thread stopped before the plugin answered",
                        ))
                    })
                }
                None => {
                    let sent = calls.connection.send(text.as_str().into()).into_result();
                    calls.sending.fetch_sub(1, Ordering::SeqCst);
                    sent
                }
            };
            sent.map_err(|error| {
                calls.send_failed.store(true, Ordering::SeqCst);
                SendError(error.to_string())
            })
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleClient>> {
        loop {
            let text = self.receiver.recv().await?;
            match parse_incoming(&text) {
                Ok(message) => return Some(message),
                Err(error) => {
                    // Servers sometimes print banners on stdout; one bad
                    // line must not end the session.
                    if self.verbose {
                        eprintln!(
                            "debug: ignoring a message from `{}` that is not JSON-RPC ({error})",
                            self.server
                        );
                    }
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        match self.calls.close().await {
            Ok(closed) => closed.map_err(|error| SendError(error.to_string())),
            Err(CloseTimedOut) => Err(SendError(format!(
                "the plugin did not close the connection to `{}` within {} s",
                self.server,
                CLOSE_DEADLINE.as_secs()
            ))),
        }
    }
}

/// Property tests standing in for fuzz targets (cargo-fuzz needs nightly).
/// `PROPTEST_CASES=100000 cargo test -p codex-host --bin codex fuzz_` runs longer.
#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|n| json!(n)),
            "\\PC{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("jsonrpc".to_owned()),
                        Just("id".to_owned()),
                        Just("method".to_owned()),
                        Just("params".to_owned()),
                        Just("result".to_owned()),
                        Just("error".to_owned()),
                        "\\PC{0,6}",
                    ],
                    inner,
                    0..5,
                )
                .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    /// Frames a server might send: JSON-RPC-shaped objects, other JSON,
    /// broken JSON and arbitrary text.
    fn frame() -> impl Strategy<Value = String> {
        prop_oneof![
            2 => any::<String>(),
            1 => proptest::collection::vec(any::<u8>(), 0..64)
                .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
            3 => json_value().prop_map(|value| value.to_string()),
            3 => (json_value(), json_value(), "\\PC{0,8}").prop_map(|(id, body, method)| {
                json!({"jsonrpc": "2.0", "id": id, "method": method, "params": body}).to_string()
            }),
            3 => (json_value(), json_value()).prop_map(|(id, result)| {
                json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string()
            }),
            2 => (json_value(), any::<i64>(), json_value()).prop_map(|(id, code, data)| {
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": "m", "data": data}}).to_string()
            }),
            1 => (json_value(), 0..20usize).prop_map(|(value, cut)| {
                let text = value.to_string();
                let cut = text.char_indices().nth(cut).map_or(text.len(), |(i, _)| i);
                text[..cut].to_owned()
            }),
        ]
    }

    proptest! {
        #![proptest_config(codex_fuzz_support::cases(512))]

        #[test]
        fn fuzz_incoming_frames_never_panic(text in frame()) {
            let parsed = parse_incoming(&text);
            if serde_json::from_str::<Value>(&text).is_err() {
                prop_assert!(parsed.is_err(), "non-JSON accepted: {text:?}");
            }
            if let Ok(message) = parsed {
                // What was accepted can be encoded again.
                prop_assert!(serde_json::to_string(&message).is_ok());
            }
        }

        #[test]
        fn fuzz_valid_responses_are_accepted(id in any::<i64>(), result in json_value()) {
            let result = match result {
                Value::Object(map) => Value::Object(map),
                other => json!({"value": other}),
            };
            let text = json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string();
            prop_assert!(parse_incoming(&text).is_ok(), "{text}");
        }
    }

    #[test]
    fn fuzz_deeply_nested_frames_are_errors() {
        for depth in [200, 10_000, 100_000] {
            let text = format!(
                "{{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}1{}}}",
                "{\"a\":".repeat(depth),
                "}".repeat(depth)
            );
            assert!(parse_incoming(&text).is_err(), "depth {depth}");
        }
    }
}
