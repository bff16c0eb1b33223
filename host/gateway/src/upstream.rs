//! One configured server behind the gateway: connected on first use, one
//! session shared by every downstream client, dropped when it dies and
//! connected again on the next use (at once, when downstream clients hold
//! subscriptions on it, which the new session then renews), and stopped
//! when it was not used for the idle timeout.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use anyhow::Result;
use codex_config::McpServerConfig;
use codex_config::mcp_gateway::ToolGlobs;
use codex_host::App;
use codex_mcp_client::client::ClientOptions;
use codex_mcp_client::logging::LogLevel;
use codex_mcp_client::session::Session;
use codex_plugin_host::services::HostContext;
use tokio::sync::Mutex;

use crate::lists::{self, ListCache, Slot};
use crate::relay::{Relay, UpstreamEvents};

/// How long a dead or closing session waits for the calls still holding it
/// before it is closed anyway.
const RETIRE_WAIT: Duration = Duration::from_secs(30);

/// How often an idle check looks at most; shorter idle timeouts are
/// checked at their own pace.
const IDLE_CHECK: Duration = Duration::from_secs(30);

/// How often a session with subscriptions is looked at, to connect again
/// soon after it died.
const SUBSCRIBED_CHECK: Duration = Duration::from_secs(1);

/// The longest wait between two connects of a server that keeps failing
/// while subscriptions wait for it.
const RECONNECT_MAX: Duration = Duration::from_secs(30);

pub struct Upstream {
    pub name: String,
    pub(crate) config: McpServerConfig,
    pub(crate) app: Arc<App>,
    pub(crate) host: Arc<HostContext>,
    pub(crate) relay: Arc<Relay>,
    pub(crate) log_level: Arc<std::sync::Mutex<Option<LogLevel>>>,
    /// `[mcp_gateway]` / `--tools` / `--exclude-tools`.
    pub(crate) tools: ToolGlobs,
    /// Stop the session after this long unused; `None`: keep it.
    pub(crate) idle_timeout: Option<Duration>,
    /// What the server listed last.
    pub(crate) lists: Arc<ListCache>,
    /// `None` until first use and after the session died or went idle. The
    /// lock is held while connecting, so concurrent first uses share one
    /// connection.
    pub(crate) session: Mutex<Option<Arc<Session>>>,
    /// When the session was last handed out.
    pub(crate) last_used: std::sync::Mutex<Instant>,
    /// Why the last connect failed, for the error of a call that needs it.
    pub(crate) last_error: std::sync::Mutex<Option<String>>,
    /// Resources the gateway subscribed to on this server: while there are
    /// any, the session is not stopped for being idle (its updates would be
    /// lost), one that died is connected again at once, and a new session
    /// subscribes to them again.
    pub(crate) subscriptions: std::sync::Mutex<BTreeSet<String>>,
    /// Whether [`keep_subscribed`] runs for this server.
    pub(crate) watching: AtomicBool,
}

impl Upstream {
    /// What the session tells and asks this server: no roots of its own,
    /// its notifications and requests relayed downstream, the downstream's
    /// log level.
    fn client_options(&self) -> ClientOptions {
        let log_level = match self.log_level.lock() {
            Ok(level) => *level,
            Err(poisoned) => *poisoned.into_inner(),
        };
        ClientOptions {
            roots: Vec::new(),
            events: Arc::new(UpstreamEvents {
                relay: self.relay.clone(),
                lists: self.lists.clone(),
            }),
            log_level,
        }
    }

    /// Whether `tool` passes the server's `enabled_tools`/`disabled_tools`
    /// and the gateway's tool globs.
    pub fn tool_allowed(&self, tool: &str) -> bool {
        self.config.tool_allowed(tool) && self.tools.allows(&self.name, tool)
    }

    /// Why the last connect failed, if the last one did.
    pub fn last_error(&self) -> Option<String> {
        match self.last_error.lock() {
            Ok(error) => error.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set_last_error(&self, error: Option<String>) {
        match self.last_error.lock() {
            Ok(mut held) => *held = error,
            Err(poisoned) => *poisoned.into_inner() = error,
        }
    }

    /// Marks the server used now (a call that ended counts from its end).
    pub(crate) fn touch(&self) {
        match self.last_used.lock() {
            Ok(mut used) => *used = Instant::now(),
            Err(poisoned) => *poisoned.into_inner() = Instant::now(),
        }
    }

    fn idle_for(&self) -> Duration {
        match self.last_used.lock() {
            Ok(used) => used.elapsed(),
            Err(poisoned) => poisoned.into_inner().elapsed(),
        }
    }

    /// The live session, connecting first when there is none (or the last
    /// one died or went idle).
    pub async fn session(self: &Arc<Self>) -> Result<Arc<Session>> {
        self.touch();
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
        let connected = Session::connect(
            &self.name,
            &self.config,
            plugins,
            &self.host,
            self.client_options(),
        )
        .await;
        let session = match connected {
            Ok(session) => Arc::new(session),
            Err(error) => {
                self.set_last_error(Some(format!("{error:#}")));
                return Err(error);
            }
        };
        self.set_last_error(None);
        // A new session may list other things than the last one did.
        self.lists.forget_all();
        self.renew_subscriptions(&session).await;
        *slot = Some(session.clone());
        if let Some(idle) = self.idle_timeout {
            tokio::spawn(stop_when_idle(
                Arc::downgrade(self),
                Arc::downgrade(&session),
                idle,
            ));
        }
        Ok(session)
    }

    /// One list of this server: the kept one, else asked with `fetch` and
    /// kept until the server says it changed.
    pub async fn list<T, F, Fut>(
        self: &Arc<Self>,
        slot: impl Fn(&ListCache) -> &std::sync::Mutex<Slot<T>>,
        fetch: F,
    ) -> Result<Vec<T>>
    where
        T: Clone,
        F: FnOnce(Arc<Session>) -> Fut,
        Fut: Future<Output = Result<Vec<T>>>,
    {
        if let Ok(items) = lists::lock(slot(&self.lists)).get() {
            return Ok(items);
        }
        // Connecting forgets every list; the generation is read after it.
        let session = self.session().await?;
        let generation = match lists::lock(slot(&self.lists)).get() {
            Ok(items) => return Ok(items),
            Err(generation) => generation,
        };
        match fetch(session.clone()).await {
            Ok(items) => {
                lists::lock(slot(&self.lists)).store(generation, items.clone());
                Ok(items)
            }
            Err(error) => {
                self.forget_if_closed(&session).await;
                Err(error)
            }
        }
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

    fn subscriptions(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.subscriptions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The gateway subscribed to `uri` on this server; the first
    /// subscription starts the watch that keeps the server connected.
    pub(crate) fn subscribed(self: &Arc<Self>, uri: &str) {
        self.subscriptions().insert(uri.to_string());
        if !self.watching.swap(true, Ordering::SeqCst) {
            tokio::spawn(keep_subscribed(Arc::downgrade(self)));
        }
    }

    /// The gateway unsubscribed from `uri` on this server.
    pub(crate) fn unsubscribed(&self, uri: &str) {
        self.subscriptions().remove(uri);
    }

    fn has_subscriptions(&self) -> bool {
        !self.subscriptions().is_empty()
    }

    /// Whether the gateway is subscribed to `uri` on this server.
    pub(crate) fn holds_subscription(&self, uri: &str) -> bool {
        self.subscriptions().contains(uri)
    }

    /// Asks the server to stop sending updates of `uris` (no downstream
    /// session is subscribed any more). A server that is down has nothing
    /// to stop, and is not started for it.
    pub(crate) async fn release_subscriptions(&self, uris: Vec<String>) {
        for uri in &uris {
            self.unsubscribed(uri);
        }
        let live = self.session.lock().await.clone();
        let Some(session) = live.filter(|session| !session.is_closed()) else {
            return;
        };
        for uri in uris {
            if let Err(error) = session.unsubscribe(&uri).await
                && self.host.verbose
            {
                eprintln!("mcp-server: resources/unsubscribe of `{uri}` failed: {error:#}");
            }
        }
    }

    /// Subscribes a new `session` to what the last one was subscribed to,
    /// and tells the subscribers to read again: the resources may have
    /// changed while the server was away.
    async fn renew_subscriptions(&self, session: &Session) {
        let uris: Vec<String> = self.subscriptions().iter().cloned().collect();
        if uris.is_empty() {
            return;
        }
        let events = UpstreamEvents {
            relay: self.relay.clone(),
            lists: self.lists.clone(),
        };
        for uri in uris {
            match session.subscribe(&uri).await {
                Ok(()) => codex_mcp_client::client::ClientEvents::resource_updated(
                    &events, &self.name, &uri,
                ),
                Err(error) => eprintln!(
                    "mcp-server: MCP server `{}` restarted, and subscribing to `{uri}` again failed: {error:#}",
                    self.name
                ),
            }
        }
    }
}

/// While downstream clients hold subscriptions on the server, connects
/// again soon after its session died (backing off while connecting fails),
/// so that their updates go on; ends when no subscription is left.
async fn keep_subscribed(upstream: Weak<Upstream>) {
    let mut wait = SUBSCRIBED_CHECK;
    loop {
        tokio::time::sleep(wait).await;
        let Some(upstream) = upstream.upgrade() else {
            return;
        };
        if !upstream.has_subscriptions() {
            upstream.watching.store(false, Ordering::SeqCst);
            // A subscription made just now found the watch still running.
            if !upstream.has_subscriptions() || upstream.watching.swap(true, Ordering::SeqCst) {
                return;
            }
        }
        let alive = upstream
            .session
            .lock()
            .await
            .as_ref()
            .is_some_and(|session| !session.is_closed());
        if alive {
            wait = SUBSCRIBED_CHECK;
            continue;
        }
        match upstream.session().await {
            Ok(_) => wait = SUBSCRIBED_CHECK,
            Err(error) => {
                wait = (wait * 2).min(RECONNECT_MAX);
                if upstream.host.verbose {
                    eprintln!(
                        "mcp-server: MCP server `{}` is down with subscriptions held; trying again in {} s: {error:#}",
                        upstream.name,
                        wait.as_secs()
                    );
                }
            }
        }
    }
}

/// Stops `session` once it was not used for `idle` and nothing holds it
/// (no call in flight, no subscription); ends when the session is replaced
/// or gone.
async fn stop_when_idle(upstream: Weak<Upstream>, session: Weak<Session>, idle: Duration) {
    loop {
        let wait = {
            let Some(upstream) = upstream.upgrade() else {
                return;
            };
            idle.saturating_sub(upstream.idle_for())
        };
        tokio::time::sleep(wait.clamp(Duration::from_millis(100), IDLE_CHECK)).await;
        let (Some(upstream), Some(watched)) = (upstream.upgrade(), session.upgrade()) else {
            return;
        };
        let mut slot = upstream.session.lock().await;
        let Some(held) = slot.as_ref() else {
            return;
        };
        if !Arc::ptr_eq(held, &watched) {
            return;
        }
        // Held by the slot and by `watched` here: nobody else uses it.
        let unused = Arc::strong_count(&watched) == 2;
        if unused && upstream.idle_for() >= idle && !upstream.has_subscriptions() {
            drop(watched);
            if let Some(session) = slot.take() {
                drop(slot);
                if upstream.host.verbose {
                    eprintln!(
                        "mcp-server: MCP server `{}` stopped after {} s unused; it starts again on next use",
                        upstream.name,
                        idle.as_secs()
                    );
                }
                retire(session).await;
            }
            return;
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
