//! What upstreams send that is not an answer, relayed to the downstream
//! clients. Log messages (`notifications/message`), list changes and
//! resource updates go to every connected downstream session: they belong
//! to a server, not to a request. (A resource update reaches sessions that
//! did not subscribe too; clients ignore updates they did not ask for.)

// Logging is deprecated by MCP 2026-07-28; 2025-11-25 servers still send it.
#![allow(deprecated)]

use std::sync::{Arc, Mutex};

use codex_mcp_client::client::{ClientEvents, ListKind, LogMessage};
use rmcp::RoleServer;
use rmcp::model::{LoggingMessageNotificationParam, ResourceUpdatedNotificationParam};
use rmcp::service::Peer;

/// The downstream sessions that are connected now.
#[derive(Default)]
pub struct Relay {
    peers: Mutex<Vec<Peer<RoleServer>>>,
}

impl Relay {
    /// A downstream session finished its handshake.
    pub fn add(&self, peer: Peer<RoleServer>) {
        let mut peers = match self.peers.lock() {
            Ok(peers) => peers,
            Err(poisoned) => poisoned.into_inner(),
        };
        peers.retain(|peer| !peer.is_transport_closed());
        peers.push(peer);
    }

    fn live(&self) -> Vec<Peer<RoleServer>> {
        let mut peers = match self.peers.lock() {
            Ok(peers) => peers,
            Err(poisoned) => poisoned.into_inner(),
        };
        peers.retain(|peer| !peer.is_transport_closed());
        peers.clone()
    }
}

/// The events of one upstream session, relayed through [`Relay`].
pub struct UpstreamEvents {
    pub relay: Arc<Relay>,
}

impl ClientEvents for UpstreamEvents {
    fn log_message(&self, server: &str, message: &LogMessage) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        // The logger names the server, so a client can tell whose it is.
        let logger = match &message.logger {
            Some(logger) => format!("{server}/{logger}"),
            None => server.to_string(),
        };
        let mut params =
            LoggingMessageNotificationParam::new(message.level.into(), message.data.clone());
        params.logger = Some(logger);
        for peer in self.relay.live() {
            let params = params.clone();
            runtime.spawn(async move {
                let _ = peer.notify_logging_message(params).await;
            });
        }
    }

    fn list_changed(&self, _server: &str, list: ListKind) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        for peer in self.relay.live() {
            runtime.spawn(async move {
                let _ = match list {
                    ListKind::Tools => peer.notify_tool_list_changed().await,
                    ListKind::Prompts => peer.notify_prompt_list_changed().await,
                    ListKind::Resources => peer.notify_resource_list_changed().await,
                };
            });
        }
    }

    fn resource_updated(&self, _server: &str, uri: &str) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        for peer in self.relay.live() {
            let params = ResourceUpdatedNotificationParam::new(uri.to_string());
            runtime.spawn(async move {
                let _ = peer.notify_resource_updated(params).await;
            });
        }
    }
}
