//! What upstreams send that is not an answer, relayed to the downstream
//! clients. Log messages (`notifications/message`), list changes and
//! resource updates go to every connected downstream session: they belong
//! to a server, not to a request. (A resource update reaches sessions that
//! did not subscribe too; clients ignore updates they did not ask for.)
//!
//! Progress and elicitations belong to a call. The host's MCP client does
//! not say which of its calls an upstream's progress or question is about,
//! so they go to the downstream client of the one call in flight on that
//! upstream; while several are, progress is dropped and an elicitation is
//! declined rather than risk showing one client another's.

// Logging is deprecated by MCP 2026-07-28; 2025-11-25 servers still send it.
#![allow(deprecated)]

use std::sync::{Arc, Mutex};

use codex_mcp_client::client::{
    ClientEvents, ElicitationAnswer, ElicitationRequest, ListKind, LogMessage, Progress,
};
use rmcp::RoleServer;
use rmcp::model::{
    ElicitRequestParams, ElicitationAction, LoggingMessageNotificationParam,
    ProgressNotificationParam, ProgressToken, ResourceUpdatedNotificationParam,
};
use rmcp::service::Peer;

/// The downstream sessions that are connected now, and the calls in flight.
#[derive(Default)]
pub struct Relay {
    peers: Mutex<Vec<Peer<RoleServer>>>,
    calls: Mutex<Vec<InFlight>>,
    next_call: std::sync::atomic::AtomicU64,
}

/// One downstream call being served by an upstream.
#[derive(Clone)]
struct InFlight {
    id: u64,
    server: String,
    peer: Peer<RoleServer>,
    progress_token: Option<ProgressToken>,
}

/// Ends the record of a call in flight when the call ends.
pub struct CallGuard {
    relay: Arc<Relay>,
    id: u64,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        let mut calls = match self.relay.calls.lock() {
            Ok(calls) => calls,
            Err(poisoned) => poisoned.into_inner(),
        };
        calls.retain(|call| call.id != self.id);
    }
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

    /// Records a call of `peer` on `server` until the guard is dropped.
    pub fn begin(
        self: &Arc<Self>,
        server: &str,
        peer: Peer<RoleServer>,
        progress_token: Option<ProgressToken>,
    ) -> CallGuard {
        let id = self
            .next_call
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut calls = match self.calls.lock() {
            Ok(calls) => calls,
            Err(poisoned) => poisoned.into_inner(),
        };
        calls.push(InFlight {
            id,
            server: server.to_string(),
            peer,
            progress_token,
        });
        CallGuard {
            relay: self.clone(),
            id,
        }
    }

    /// The one call in flight on `server`, if exactly one is.
    fn only_call(&self, server: &str) -> Option<InFlight> {
        let calls = match self.calls.lock() {
            Ok(calls) => calls,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut on_server = calls.iter().filter(|call| call.server == server);
        match (on_server.next(), on_server.next()) {
            (Some(call), None) => Some(call.clone()),
            _ => None,
        }
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

/// How long a downstream client may take to answer an upstream's question.
const ELICITATION_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

impl ClientEvents for UpstreamEvents {
    fn progress(&self, server: &str, progress: &Progress) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Some(InFlight {
            peer,
            progress_token: Some(token),
            ..
        }) = self.relay.only_call(server)
        else {
            return;
        };
        let mut params = ProgressNotificationParam::new(token, progress.progress);
        params.total = progress.total;
        params.message = progress.message.clone();
        runtime.spawn(async move {
            let _ = peer.notify_progress(params).await;
        });
    }

    fn elicit(&self, server: &str, request: &ElicitationRequest) -> ElicitationAnswer {
        // Runs on a blocking thread of the runtime, so it may wait here.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return ElicitationAnswer::Decline;
        };
        let Some(call) = self.relay.only_call(server) else {
            return ElicitationAnswer::Decline;
        };
        let params: ElicitRequestParams = match serde_json::from_value(serde_json::json!({
            "mode": "form",
            "message": request.message,
            "requestedSchema": request.schema,
        })) {
            Ok(params) => params,
            Err(_) => return ElicitationAnswer::Decline,
        };
        let asked = runtime.block_on(async {
            tokio::time::timeout(ELICITATION_WAIT, call.peer.create_elicitation(params)).await
        });
        match asked {
            Ok(Ok(result)) => match result.action {
                ElicitationAction::Accept => match result.content {
                    Some(serde_json::Value::Object(content)) => ElicitationAnswer::Accept(content),
                    _ => ElicitationAnswer::Accept(serde_json::Map::new()),
                },
                ElicitationAction::Decline => ElicitationAnswer::Decline,
                _ => ElicitationAnswer::Cancel,
            },
            _ => ElicitationAnswer::Cancel,
        }
    }

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
