//! One configured server behind the gateway: connected on first use, one
//! session shared by every downstream client, dropped when it dies and
//! connected again on the next use.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use codex_config::McpServerConfig;
use codex_host::App;
use codex_mcp_client::client::ClientOptions;
use codex_mcp_client::logging::LogLevel;
use codex_mcp_client::session::Session;
use codex_plugin_host::services::HostContext;
use tokio::sync::Mutex;

use crate::relay::{Relay, UpstreamEvents};

/// How long a dead or closing session waits for the calls still holding it
/// before it is closed anyway.
const RETIRE_WAIT: Duration = Duration::from_secs(30);

pub struct Upstream {
    pub name: String,
    pub(crate) config: McpServerConfig,
    pub(crate) app: Arc<App>,
    pub(crate) host: Arc<HostContext>,
    pub(crate) relay: Arc<Relay>,
    pub(crate) log_level: Arc<std::sync::Mutex<Option<LogLevel>>>,
    /// `None` until first use and after the session died. The lock is held
    /// while connecting, so concurrent first uses share one connection.
    pub(crate) session: Mutex<Option<Arc<Session>>>,
}

impl Upstream {
    /// What the session tells and asks this server: no roots, its
    /// notifications relayed downstream, the downstream's log level.
    fn client_options(&self) -> ClientOptions {
        let log_level = match self.log_level.lock() {
            Ok(level) => *level,
            Err(poisoned) => *poisoned.into_inner(),
        };
        ClientOptions {
            roots: Vec::new(),
            events: Arc::new(UpstreamEvents {
                relay: self.relay.clone(),
            }),
            log_level,
        }
    }

    /// Whether `tool` passes the server's `enabled_tools`/`disabled_tools`.
    pub fn tool_allowed(&self, tool: &str) -> bool {
        self.config.tool_allowed(tool)
    }

    /// The live session, connecting first when there is none (or the last
    /// one died).
    pub async fn session(&self) -> Result<Arc<Session>> {
        let mut slot = self.session.lock().await;
        if let Some(session) = slot.as_ref() {
            if !session.is_closed() {
                return Ok(session.clone());
            }
            if let Some(dead) = slot.take() {
                tokio::spawn(retire(dead));
            }
        }
        let plugins = self.app.plugins()?;
        let session = Session::connect(
            &self.name,
            &self.config,
            plugins,
            &self.host,
            self.client_options(),
        )
        .await?;
        let session = Arc::new(session);
        *slot = Some(session.clone());
        Ok(session)
    }

    /// After a failed request: when `session` is closed (the server died or
    /// its transport broke), it is dropped, so the next use connects again.
    pub async fn forget_if_closed(&self, session: &Arc<Session>) {
        if !session.is_closed() {
            return;
        }
        let mut slot = self.session.lock().await;
        if slot.as_ref().is_some_and(|held| Arc::ptr_eq(held, session))
            && let Some(dead) = slot.take()
        {
            tokio::spawn(retire(dead));
        }
    }

    /// Ends the session, if any, once no call holds it (bounded).
    pub async fn shutdown(&self) {
        let taken = self.session.lock().await.take();
        if let Some(session) = taken {
            retire(session).await;
        }
    }
}

/// Closes `session` once every call holding it let go, or after
/// [`RETIRE_WAIT`] drops it (which ends its service all the same).
async fn retire(mut session: Arc<Session>) {
    let deadline = tokio::time::Instant::now() + RETIRE_WAIT;
    loop {
        match Arc::try_unwrap(session) {
            Ok(session) => return session.close().await,
            Err(shared) if tokio::time::Instant::now() < deadline => {
                session = shared;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(_) => return,
        }
    }
}
