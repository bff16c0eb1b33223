//! An rmcp [`Transport`] over a plugin connection.
//!
//! The plugin moves JSON-RPC text; this adapter turns it into rmcp's typed
//! messages and back, and remembers why the connection ended so that a call
//! that fails because the server died can say how it died.

use std::sync::{Arc, Mutex};

use abi_stable::{sabi_trait::TD_Opaque, std_types::RString};
use codex_plugin_api::{ConnectionBox, MessageSinkBox, MessageSinkFfi, PluginError, guard_unit};
use rmcp::{
    RoleClient,
    service::{RxJsonRpcMessage, TxJsonRpcMessage},
    transport::Transport,
};
use tokio::sync::mpsc;

/// Why the connection ended, shared between the sink (plugin threads) and the client.
#[derive(Default)]
pub struct CloseReason(Mutex<Option<PluginError>>);

impl CloseReason {
    /// The reason the plugin gave, if the connection has ended.
    pub fn get(&self) -> Option<PluginError> {
        self.0.lock().ok().and_then(|reason| reason.clone())
    }

    fn set(&self, reason: PluginError) {
        if let Ok(mut slot) = self.0.lock()
            && slot.is_none()
        {
            *slot = Some(reason);
        }
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
    /// Joins the receiving half with the opened connection.
    pub fn into_transport(self, connection: Arc<ConnectionBox>, server: String) -> PluginTransport {
        PluginTransport {
            connection,
            receiver: self.receiver,
            reason: self.reason,
            server,
        }
    }
}

/// rmcp's view of a plugin connection.
pub struct PluginTransport {
    connection: Arc<ConnectionBox>,
    receiver: mpsc::UnboundedReceiver<String>,
    reason: Arc<CloseReason>,
    server: String,
}

impl PluginTransport {
    /// Shared access to the close reason, for error messages.
    pub fn close_reason(&self) -> Arc<CloseReason> {
        self.reason.clone()
    }
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
        let connection = self.connection.clone();
        let text = serde_json::to_string(&item);
        async move {
            let text =
                text.map_err(|error| SendError(format!("cannot encode a message: {error}")))?;
            connection
                .send(text.as_str().into())
                .into_result()
                .map_err(|error| SendError(error.to_string()))
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleClient>> {
        loop {
            let text = self.receiver.recv().await?;
            match serde_json::from_str(&text) {
                Ok(message) => return Some(message),
                Err(error) => {
                    // Servers sometimes print banners on stdout; one bad
                    // line must not end the session.
                    if crate::verbose() {
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
        let connection = self.connection.clone();
        tokio::task::spawn_blocking(move || connection.close().into_result())
            .await
            .map_err(|error| SendError(format!("closing the connection failed: {error}")))?
            .map_err(|error| SendError(error.to_string()))
    }
}
