//! The HTTP listener's sessions: rmcp's [`LocalSessionManager`], with two
//! additions.
//!
//! Session ids name the gateway instance that made them (`--instance-id
//! NAME`: `NAME.` before rmcp's own id), so that a load balancer in front of
//! several gateways sends every request of a 2025-11-25 session to the
//! instance that holds it by reading `MCP-Session-Id` alone: open-source
//! nginx cannot learn an id from an answer, but a `map` on the id's prefix
//! needs nothing learnt.
//!
//! With `--poll-after`, a call still running after that long has its SSE
//! stream closed with a retry hint (SEP-1699 polling), so that long calls do
//! not hold a connection open through proxies that cut idle ones; the
//! client resumes with `Last-Event-ID` from the [`EventLog`], which then
//! records every stream's events.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Stream, StreamExt};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::common::server_side_http::{ServerSseMessage, SessionId, session_id};
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError,
};
use rmcp::transport::streamable_http_server::session::{RestoreOutcome, SessionManager};
use tokio::task::AbortHandle;
use tokio_stream::wrappers::ReceiverStream;

use crate::event_log::EventLog;

/// How long a client whose stream the gateway closed waits before it
/// resumes (the SSE `retry` field sent just before the close).
pub const POLL_RETRY: Duration = Duration::from_secs(1);

/// Whether `name` can stand before a session id: 1 to 32 of
/// `[A-Za-z0-9_-]` (visible ASCII, as MCP requires of session ids).
pub fn valid_instance_id(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

pub struct InstanceSessions {
    /// `NAME.`, or empty for rmcp's ids as they are.
    prefix: Arc<str>,
    /// When a running call's stream is closed for the client to poll.
    poll_after: Option<Duration>,
    inner: LocalSessionManager,
}

impl InstanceSessions {
    pub fn new(instance: Option<&str>, poll_after: Option<Duration>) -> InstanceSessions {
        let mut inner = LocalSessionManager::default();
        if poll_after.is_some() {
            inner = inner.with_event_store(Arc::new(EventLog::new()));
        }
        InstanceSessions {
            prefix: instance
                .map(|name| format!("{name}."))
                .unwrap_or_default()
                .into(),
            poll_after,
            inner,
        }
    }
}

/// A call's event stream; the pending close of `--poll-after`, if any, is
/// called off when the stream ends first.
pub struct CallStream {
    events: ReceiverStream<ServerSseMessage>,
    close: Option<AbortHandle>,
}

impl Stream for CallStream {
    type Item = ServerSseMessage;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.events.poll_next_unpin(context)
    }
}

impl Drop for CallStream {
    fn drop(&mut self) {
        if let Some(close) = &self.close {
            close.abort();
        }
    }
}

impl SessionManager for InstanceSessions {
    type Error = LocalSessionManagerError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        if self.prefix.is_empty() {
            return self.inner.create_session().await;
        }
        // rmcp makes a session under a given id only to restore one; that
        // is this instance's session under this instance's id. Ids are
        // random, so one already in use is only ever drawn again.
        loop {
            let id: SessionId = format!("{}{}", self.prefix, session_id()).into();
            if let RestoreOutcome::Restored(transport) =
                self.inner.restore_session(id.clone()).await?
            {
                return Ok((id, transport));
            }
        }
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        self.inner.initialize_session(id, message).await
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        self.inner.has_session(id).await
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        self.inner.close_session(id).await
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        // As rmcp's own does it, keeping the stream's number for the close.
        let handle = self
            .inner
            .sessions
            .read()
            .await
            .get(id)
            .cloned()
            .ok_or_else(|| LocalSessionManagerError::SessionNotFound(id.clone()))?;
        let receiver = handle.establish_request_wise_channel().await?;
        let http_request_id = receiver.http_request_id;
        handle.push_message(message, http_request_id).await?;
        let close = match (self.poll_after, http_request_id) {
            (Some(after), Some(stream)) => Some(
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    // The call may have been answered meanwhile: nothing to close.
                    let _ = handle.close_sse_stream(stream, Some(POLL_RETRY)).await;
                })
                .abort_handle(),
            ),
            _ => None,
        };
        Ok(CallStream {
            events: ReceiverStream::new(receiver.inner),
            close,
        })
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        self.inner.accept_message(id, message).await
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.inner.create_standalone_stream(id).await
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.inner.resume(id, last_event_id).await
    }

    fn event_store(
        &self,
    ) -> Option<Arc<dyn rmcp::transport::streamable_http_server::session::EventStore>> {
        self.inner.event_store()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ids_carry_the_instance_and_are_found_only_with_it() {
        let sessions = InstanceSessions::new(Some("east-1"), None);
        let (id, _transport) = sessions.create_session().await.unwrap();
        assert!(id.starts_with("east-1."), "{id}");
        assert!(sessions.has_session(&id).await.unwrap());
        let bare: SessionId = id.trim_start_matches("east-1.").into();
        assert!(!sessions.has_session(&bare).await.unwrap());
        let other: SessionId = format!("west-2.{bare}").into();
        assert!(!sessions.has_session(&other).await.unwrap());
        sessions.close_session(&id).await.unwrap();
        assert!(!sessions.has_session(&id).await.unwrap());

        let plain = InstanceSessions::new(None, None);
        let (id, _transport) = plain.create_session().await.unwrap();
        assert!(!id.contains('.'), "{id}");
        assert!(plain.has_session(&id).await.unwrap());
        assert!(valid_instance_id("east-1") && !valid_instance_id("a.b") && !valid_instance_id(""));
    }
}
