//! `codex mcp-server`: every configured MCP server served as one MCP server.
//!
//! A downstream client (an editor, another agent, Codex itself) connects to
//! the gateway over stdio or streamable HTTP; the gateway connects to each
//! configured server (the upstreams) through the host's MCP client, so every
//! transport plugin, credential store and OAuth login works as it does for
//! `codex mcp call`.
//!
//! - [`upstream`]: one configured server: connected on first use, shared by
//!   every downstream session, dropped when it dies and connected again on
//!   the next use;
//! - [`catalog`]: the names the downstream sees (`mcp__server__tool` as
//!   Codex makes them, or the upstream's own names) and the route from each
//!   back to its server;
//! - [`handler`]: the MCP server side (rmcp's `ServerHandler`): lists,
//!   calls, resources, prompts and completions relayed to the upstreams;
//! - [`relay`]: what upstreams send besides answers (progress, log
//!   messages, elicitation, sampling and roots requests, list changes,
//!   resource updates) passed on to the downstream session it belongs to;
//! - [`lists`]: each upstream's lists, kept until it says they changed;
//! - [`http`]: the streamable HTTP listener: loopback by default, bearer
//!   token, `Origin`/`Host` checks, `/health`, size and concurrency limits;
//! - [`sessions`]: session ids that name the instance holding them, for
//!   load balancers.

pub mod catalog;
pub mod event_log;
pub mod handler;
pub mod http;
pub mod lists;
pub mod relay;
pub mod rounds;
pub mod sessions;
pub mod upstream;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use anyhow::Result;
use codex_config::mcp_gateway::ToolGlobs;
use codex_host::App;
use codex_mcp_client::session::Session;
use codex_plugin_host::services::HostContext;

pub use catalog::NameMode;
pub(crate) use upstream::Upstream;

/// What the front end asked the gateway for.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// How tools and prompts are named downstream.
    pub names: NameMode,
    /// Only these configured servers (`--servers a,b`); empty: every enabled one.
    pub servers: Vec<String>,
    /// Log every call on standard error (`-v`).
    pub verbose: bool,
    /// Which tools are served, by `SERVER/TOOL` globs.
    pub tools: ToolGlobs,
    /// Stop an upstream unused this long; `None`: keep it running.
    pub idle_timeout: Option<std::time::Duration>,
}

/// What one gateway process shares between its downstream sessions.
pub struct Gateway {
    pub(crate) upstreams: BTreeMap<String, Arc<Upstream>>,
    pub(crate) names: NameMode,
    pub(crate) verbose: bool,
    pub(crate) catalog: std::sync::RwLock<catalog::Catalog>,
    pub(crate) relay: Arc<relay::Relay>,
    /// The level a downstream client asked for with `logging/setLevel`,
    /// asked of every upstream that connects after it.
    pub(crate) log_level: Arc<std::sync::Mutex<Option<codex_mcp_client::logging::LogLevel>>>,
    /// Calls of 2026-07-28 clients waiting for their answers.
    pub(crate) rounds: rounds::Rounds,
}

impl Gateway {
    /// The gateway over the servers `options` selects from `app`'s config.
    /// A server named in `--servers` that is not configured, or disabled,
    /// is an error; with no `--servers`, every enabled server is served.
    pub fn new(app: Arc<App>, options: GatewayOptions) -> Result<Gateway> {
        let configured = app.servers()?;
        let mut selected = BTreeMap::new();
        if options.servers.is_empty() {
            for (name, server) in configured {
                if server.enabled {
                    selected.insert(name, server);
                }
            }
        } else {
            for name in &options.servers {
                let Some(server) = configured.get(name) else {
                    let known: Vec<&str> = configured.keys().map(String::as_str).collect();
                    anyhow::bail!(
                        "--servers: no MCP server named `{name}` is configured (configured: {})\n\
                         help: `codex mcp list` shows the configured servers",
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    );
                };
                if !server.enabled {
                    anyhow::bail!(
                        "--servers: MCP server `{name}` is disabled (`enabled = false` in config)\n\
                         help: run with `-c mcp_servers.{name}.enabled=true` to serve it once"
                    );
                }
                selected.insert(name.clone(), server.clone());
            }
        }
        let host: Arc<HostContext> = app.host_context()?;
        let relay = Arc::new(relay::Relay::default());
        let log_level = Arc::new(std::sync::Mutex::new(None));
        let upstreams = selected
            .into_iter()
            .map(|(name, config)| {
                let upstream = Upstream {
                    name: name.clone(),
                    config,
                    app: app.clone(),
                    host: host.clone(),
                    relay: relay.clone(),
                    log_level: log_level.clone(),
                    tools: options.tools.clone(),
                    idle_timeout: options.idle_timeout,
                    lists: Default::default(),
                    session: Default::default(),
                    last_used: std::sync::Mutex::new(std::time::Instant::now()),
                    last_error: Default::default(),
                    subscriptions: Default::default(),
                    watching: Default::default(),
                };
                (name, Arc::new(upstream))
            })
            .collect();
        Ok(Gateway {
            upstreams,
            names: options.names,
            verbose: options.verbose,
            catalog: Default::default(),
            relay,
            log_level,
            rounds: Default::default(),
        })
    }

    /// The names of the servers served, in order.
    pub fn server_names(&self) -> Vec<String> {
        self.upstreams.keys().cloned().collect()
    }

    /// Connects to every upstream now (`--eager`); a failure is reported on
    /// standard error and the server is tried again on first use.
    pub async fn start_all(&self) {
        let starts = self.upstreams.values().map(|upstream| async move {
            if let Err(error) = upstream.session().await {
                warn_unavailable(&upstream.name, &error);
            }
        });
        futures::future::join_all(starts).await;
    }

    /// Runs `request` on the session of every upstream at once; servers that
    /// cannot be reached or fail the request are reported on standard
    /// error and left out (each is tried again next time).
    pub(crate) async fn each_server<T, F, Fut>(&self, what: &str, request: F) -> Vec<(String, T)>
    where
        F: Fn(Arc<Session>) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let request = &request;
        let asks = self.upstreams.values().map(|upstream| async move {
            let answer = match upstream.session().await {
                Ok(session) => {
                    let answer = request(session.clone()).await;
                    if answer.is_err() {
                        upstream.forget_if_closed(&session).await;
                    }
                    answer
                }
                Err(error) => Err(error),
            };
            (upstream, answer)
        });
        let mut answers = Vec::new();
        for (upstream, answer) in futures::future::join_all(asks).await {
            match answer {
                Ok(value) => answers.push((upstream.name.clone(), value)),
                Err(error) => eprintln!(
                    "warning: mcp-server: MCP server `{}`: {error:#}; its {what} are left out until it answers",
                    upstream.name
                ),
            }
        }
        answers
    }

    /// One list of every upstream at once, each from what it listed last
    /// unless it said the list changed; servers that cannot be reached or
    /// fail are reported on standard error and left out (each is tried
    /// again next time).
    pub(crate) async fn each_list<T, F, Fut>(
        &self,
        what: &str,
        slot: fn(&lists::ListCache) -> &std::sync::Mutex<lists::Slot<T>>,
        fetch: F,
    ) -> Vec<(String, Vec<T>)>
    where
        T: Clone,
        F: Fn(Arc<Session>) -> Fut,
        Fut: Future<Output = Result<Vec<T>>>,
    {
        let fetch = &fetch;
        let asks = self
            .upstreams
            .values()
            .map(|upstream| async move { (upstream, upstream.list(slot, fetch).await) });
        let mut answers = Vec::new();
        for (upstream, answer) in futures::future::join_all(asks).await {
            match answer {
                Ok(items) => answers.push((upstream.name.clone(), items)),
                Err(error) => eprintln!(
                    "warning: mcp-server: MCP server `{}`: {error:#}; its {what} are left out until it answers",
                    upstream.name
                ),
            }
        }
        answers
    }

    /// Ends every upstream session (for stdio servers: their processes).
    pub async fn shutdown(&self) {
        let closes = self.upstreams.values().map(|upstream| upstream.shutdown());
        futures::future::join_all(closes).await;
    }
}

fn warn_unavailable(name: &str, error: &anyhow::Error) {
    eprintln!(
        "warning: mcp-server: MCP server `{name}` is unavailable: {error:#}; it is tried again on first use"
    );
}

/// Serves the gateway on standard input and output until the client closes
/// its end (or the process gets SIGTERM or SIGINT), then ends every upstream.
pub async fn serve_stdio(gateway: Arc<Gateway>) -> Result<()> {
    use rmcp::ServiceExt;
    let handler = handler::GatewayHandler::new(gateway.clone());
    // Pipes are polled by the runtime (no thread hand-off per message).
    let outcome = match handler.serve(codex_host::stdio_pipe::stdio()).await {
        Ok(running) => {
            let token = running.cancellation_token();
            tokio::select! {
                ended = running.waiting() => ended.map(|_| ()).map_err(anyhow::Error::from),
                () = stop_signal() => {
                    token.cancel();
                    Ok(())
                }
            }
        }
        Err(error) => Err(anyhow::anyhow!(
            "mcp-server: the MCP handshake on standard input failed: {error}"
        )),
    };
    gateway.shutdown().await;
    outcome
}

/// SIGTERM or SIGINT, whichever comes first.
pub(crate) async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
