//! Session ids that name the gateway instance that made them
//! (`--instance-id NAME`: `NAME.` before rmcp's own id), so that a load
//! balancer in front of several gateways sends every request of a
//! 2025-11-25 session to the instance that holds it by reading
//! `MCP-Session-Id` alone: open-source nginx cannot learn an id from an
//! answer, but a `map` on the id's prefix needs nothing learnt.
//!
//! Everything else is rmcp's [`LocalSessionManager`], which keeps the
//! sessions under the prefixed ids made here.

use std::sync::Arc;

use futures::Stream;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::common::server_side_http::{ServerSseMessage, SessionId, session_id};
use rmcp::transport::streamable_http_server::session::SessionManager;
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError, create_local_session,
};
use rmcp::transport::worker::WorkerTransport;

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
    inner: LocalSessionManager,
}

impl InstanceSessions {
    pub fn new(instance: Option<&str>) -> InstanceSessions {
        InstanceSessions {
            prefix: instance
                .map(|name| format!("{name}."))
                .unwrap_or_default()
                .into(),
            inner: LocalSessionManager::default(),
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
        // As rmcp's own does it, under an id of this instance.
        let id: SessionId = format!("{}{}", self.prefix, session_id()).into();
        let (handle, worker) = create_local_session(id.clone(), self.inner.session_config.clone());
        self.inner.sessions.write().await.insert(id.clone(), handle);
        Ok((id, WorkerTransport::spawn(worker)))
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
        self.inner.create_stream(id, message).await
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
        let sessions = InstanceSessions::new(Some("east-1"));
        let (id, _transport) = sessions.create_session().await.unwrap();
        assert!(id.starts_with("east-1."), "{id}");
        assert!(sessions.has_session(&id).await.unwrap());
        let bare: SessionId = id.trim_start_matches("east-1.").into();
        assert!(!sessions.has_session(&bare).await.unwrap());
        let other: SessionId = format!("west-2.{bare}").into();
        assert!(!sessions.has_session(&other).await.unwrap());
        sessions.close_session(&id).await.unwrap();
        assert!(!sessions.has_session(&id).await.unwrap());

        let plain = InstanceSessions::new(None);
        let (id, _transport) = plain.create_session().await.unwrap();
        assert!(!id.contains('.'), "{id}");
        assert!(plain.has_session(&id).await.unwrap());
        assert!(valid_instance_id("east-1") && !valid_instance_id("a.b") && !valid_instance_id(""));
    }
}
