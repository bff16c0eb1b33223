//! One MCP session with one configured server, over a transport plugin.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use codex_config::McpServerConfig;
use rmcp::{
    ErrorData as McpError, ServiceError,
    model::{
        CallToolRequest, CallToolRequestParams, CallToolResult, CancelledNotificationParam,
        ClientRequest, InputResponses, ProtocolVersion, RequestId, ServerResult, Tool,
    },
    service::{ClientLifecycleMode, ClientServiceExt, Peer, PeerRequestOptions, RunningService},
};

use codex_plugin_host::PluginSet;
use codex_plugin_host::services::HostContext;
use codex_plugin_host::transports::{
    self, HTTP_TRANSPORT, connect_request, find_named_transport, find_transport,
};

use crate::client::{CallTag, ClientOptions, Correlation, HostClient, RelatedCall};
use crate::headers_helper;
use crate::in_flight::InFlightCalls;
use crate::oauth;
use crate::transport::{self, CLOSE_DEADLINE, CloseReason, PluginCalls};

codex_feature_registry::declare_feature! {
    /// MCP 2026-07-28 for HTTP servers.
    pub static MCP_PROTOCOL_2026_07_28 = {
        key: "mcp_protocol_2026_07_28",
        stage: Beta,
        default: true,
        description: "Ask HTTP servers for MCP 2026-07-28 (`server/discover`, no session) before falling back to `initialize`",
        aliases: [],
    };
}

/// The most `input_required` rounds one call goes through (as rmcp's own
/// client and the other SDKs allow).
pub const MAX_INPUT_ROUNDS: usize = 10;

/// How long a call waits before it asks again when a server answered
/// `input_required` with a state and no question, doubling up to the max.
const STATE_ONLY_FIRST_WAIT: Duration = Duration::from_millis(50);
const STATE_ONLY_MAX_WAIT: Duration = Duration::from_millis(250);

/// How long a failed start waits for the plugin to say why the connection
/// ended (a server's exit status and stderr) before it reports the failure
/// it saw itself.
const REASON_WAIT: Duration = Duration::from_secs(2);

/// How long a cancelled call waits for `notifications/cancelled` to reach
/// the server before the session may be closed.
pub const CANCEL_GRACE: Duration = Duration::from_millis(500);

/// How a call that could be cancelled ended.
#[derive(Debug)]
pub enum CallOutcome {
    Done(CallToolResult),
    Cancelled,
}

/// A connected, initialized MCP server.
pub struct Session {
    pub name: String,
    pub(crate) service: RunningService<rmcp::RoleClient, HostClient>,
    calls: Arc<PluginCalls>,
    reason: Arc<CloseReason>,
    /// The tool calls in flight, which the client ties events to.
    in_flight: Arc<InFlightCalls>,
    pub(crate) tool_timeout: Duration,
    /// The plugin that provides the transport, named when it hangs.
    plugin: String,
}

impl Session {
    /// Connects to `name` and runs `initialize`, all within the server's
    /// `startup_timeout_sec`; then asks for `options.log_level`.
    pub async fn connect(
        name: &str,
        server: &McpServerConfig,
        plugins: &PluginSet,
        host: &Arc<HostContext>,
        options: ClientOptions,
    ) -> Result<Session> {
        match Session::connect_until(name, server, plugins, host, options, std::future::pending())
            .await?
        {
            Some(session) => Ok(session),
            None => bail!("connecting to MCP server `{name}` was interrupted"),
        }
    }

    /// Connects like [`Session::connect`], unless `interrupt` completes
    /// first (the user pressed Ctrl-C): then whatever was opened is closed
    /// (a stdio server's process group ended) before it returns `None`.
    pub async fn connect_until(
        name: &str,
        server: &McpServerConfig,
        plugins: &PluginSet,
        host: &Arc<HostContext>,
        options: ClientOptions,
        interrupt: impl Future<Output = ()>,
    ) -> Result<Option<Session>> {
        let mut interrupt = std::pin::pin!(interrupt);
        let started = Instant::now();
        // A login may happen while connecting: give the person time for it.
        let login_time = if host.login_allowed() {
            oauth::LOGIN_TIMEOUT
        } else {
            Duration::ZERO
        };
        let startup_timeout = server.startup_timeout() + login_time;
        let with_helper;
        let server = match &server.http_headers_helper {
            Some(command) => {
                // The helper's process group is ended when its future is dropped.
                with_helper = tokio::select! {
                    applied = headers_helper::apply(name, server, command, host) => applied?,
                    () = &mut interrupt => return Ok(None),
                };
                &with_helper
            }
            None => server,
        };
        let find = if oauth::serves(name, server, plugins, host) {
            find_named_transport(name, oauth::OAUTH_TRANSPORT, plugins)?
        } else {
            find_transport(name, server, plugins)?
        };
        let plugin = find.plugin.clone();
        let send_path = find.send_path;
        let (sink, pending) = transport::channel();
        let request = connect_request(name, server, startup_timeout);
        let services = host.services();
        // Opening may block (spawning, connecting): never on an async thread,
        // and never longer than the start-up deadline.
        let mut opening = tokio::task::spawn_blocking(move || {
            find.create(services)?.connect(request, sink).into_result()
        });
        // A connect that returns after this is dropped on its thread, which
        // closes what it opened.
        let opened = tokio::select! {
            opened = tokio::time::timeout(startup_timeout, &mut opening) => opened,
            () = &mut interrupt => {
                close_late_connection(opening).await;
                return Ok(None);
            }
        };
        let connection = match opened {
            Err(_) => bail!(stuck_plugin_message(
                name,
                &plugin,
                "connect",
                startup_timeout,
                "startup_timeout_sec"
            )),
            Ok(Err(join)) => bail!("MCP client for `{name}` failed to start: {join}"),
            Ok(Ok(Err(error))) => bail!("MCP client for `{name}` failed to start: {error}"),
            Ok(Ok(Ok(connection))) => Arc::new(connection),
        };

        let transport =
            pending.into_transport(connection, name.to_string(), send_path, host.verbose);
        let reason = transport.close_reason();
        let calls = transport.plugin_calls();
        let remaining = startup_timeout.saturating_sub(started.elapsed());
        let log_level = options.log_level;
        let in_flight = Arc::new(InFlightCalls::default());
        let client = HostClient {
            server: name.to_string(),
            options,
            in_flight: in_flight.clone(),
        };
        let lifecycle = if transports::transport_name(server) == HTTP_TRANSPORT
            && host.feature_enabled(&MCP_PROTOCOL_2026_07_28)
        {
            // `server/discover` first; a server of an earlier revision
            // refuses it and gets `initialize` (2025-11-25) right after.
            ClientLifecycleMode::Auto {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                legacy_version: Some(ProtocolVersion::V_2025_11_25),
            }
        } else {
            ClientLifecycleMode::Initialize
        };
        // A task of its own, so that the deadline fires on this thread
        // even when a plugin's `send` blocks the thread running the handshake.
        let mut handshake = tokio::spawn(client.serve_with_lifecycle(transport, lifecycle));
        let shaken = tokio::select! {
            shaken = tokio::time::timeout(remaining, &mut handshake) => shaken,
            () = &mut interrupt => {
                handshake.abort();
                close_connection(name, &plugin, &calls).await;
                return Ok(None);
            }
        };
        let service = match shaken {
            Ok(Ok(Ok(service))) => {
                if let Some(info) = service.peer_info() {
                    host.log(
                        codex_plugin_api::LogLevel::Info,
                        &format!(
                            "MCP server `{name}` speaks MCP {}",
                            info.protocol_version.as_str()
                        ),
                    );
                }
                service
            }
            Ok(Err(join)) => {
                close_connection(name, &plugin, &calls).await;
                bail!("MCP client for `{name}` failed to start: {join}");
            }
            Ok(Ok(Err(error))) => {
                let reason = if calls.send_failed() {
                    reason.wait(REASON_WAIT).await
                } else {
                    reason.get()
                };
                close_connection(name, &plugin, &calls).await;
                let cause = reason
                    .map(|reason| reason.to_string())
                    .unwrap_or_else(|| error.to_string());
                bail!("MCP client for `{name}` failed to start: {cause}");
            }
            Err(_) => {
                handshake.abort();
                let stuck_in_send = calls.send_pending();
                close_connection(name, &plugin, &calls).await;
                if stuck_in_send {
                    bail!(stuck_plugin_message(
                        name,
                        &plugin,
                        "send",
                        startup_timeout,
                        "startup_timeout_sec"
                    ));
                }
                bail!(timeout_message(name, startup_timeout));
            }
        };
        let session = Session {
            name: name.to_string(),
            service,
            calls,
            reason,
            in_flight,
            tool_timeout: server.tool_timeout() + login_time,
            plugin,
        };
        if let Some(level) = log_level
            && session.offers_logging()
        {
            let remaining = startup_timeout.saturating_sub(started.elapsed());
            let set = tokio::select! {
                set = session.set_log_level(level, remaining) => set.map(Some),
                () = &mut interrupt => Ok(None),
            };
            match set {
                Ok(Some(())) => {}
                Ok(None) => {
                    session.close().await;
                    return Ok(None);
                }
                Err(error) => {
                    session.close().await;
                    return Err(error);
                }
            }
        }
        Ok(Some(session))
    }

    /// Whether the session ended (the server exited or its transport
    /// closed): a front end that keeps sessions connects again. The
    /// plugin's word that the connection ended counts at once, before the
    /// service has noticed.
    pub fn is_closed(&self) -> bool {
        self.service.is_closed() || self.reason.get().is_some()
    }

    /// Every tool the server offers (all pages).
    pub async fn list_tools(&self, deadline: Duration) -> Result<Vec<Tool>> {
        self.within(
            "tools/list",
            deadline,
            "startup_timeout_sec",
            self.service.list_all_tools(),
        )
        .await
    }

    /// Runs one request under `deadline` (named by `timeout_key` in the
    /// error), with the errors said as the rest of the session says them.
    pub(crate) async fn within<T>(
        &self,
        what: &str,
        deadline: Duration,
        timeout_key: &str,
        request: impl Future<Output = Result<T, ServiceError>>,
    ) -> Result<T> {
        match tokio::time::timeout(deadline, request).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(error)) => Err(self.describe(error, what)),
            Err(_) if self.calls.send_pending() => bail!(stuck_plugin_message(
                &self.name,
                &self.plugin,
                "send",
                deadline,
                timeout_key
            )),
            Err(_) => bail!(
                "MCP server `{}` did not answer {what} within {} s; \
                 raise `{timeout_key}` under [mcp_servers.{}] if it needs longer",
                self.name,
                deadline.as_secs_f64(),
                self.name
            ),
        }
    }

    /// Calls `tool` with `arguments`, within the server's `tool_timeout_sec`.
    pub async fn call_tool(
        &self,
        tool: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
    ) -> Result<CallToolResult> {
        match self
            .call_tool_until(tool, arguments, std::future::pending())
            .await?
        {
            CallOutcome::Done(result) => Ok(result),
            CallOutcome::Cancelled => bail!("tool `{tool}` was cancelled"),
        }
    }

    /// Calls `tool` like [`Session::call_tool`], unless `cancel` completes
    /// first: then the server is sent `notifications/cancelled` for the
    /// call, given [`CANCEL_GRACE`] to read it, and the call is given up.
    pub async fn call_tool_until(
        &self,
        tool: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
        cancel: impl Future<Output = ()>,
    ) -> Result<CallOutcome> {
        self.call_tool_tagged(tool, arguments, cancel, None).await
    }

    /// Calls `tool` like [`Session::call_tool_until`], with `tag` on the
    /// events the call causes ([`crate::client::RelatedCall`]), so a front
    /// end that runs several calls at once on one session knows whose
    /// progress, log message or question each is.
    pub async fn call_tool_tagged(
        &self,
        tool: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
        cancel: impl Future<Output = ()>,
        tag: Option<CallTag>,
    ) -> Result<CallOutcome> {
        let params = CallToolRequestParams::new(tool.to_string()).with_arguments(arguments);
        let call = tokio::time::timeout(self.tool_timeout, self.send_call(params, tag));
        let called = tokio::select! {
            called = call => called,
            () = cancel => {
                // Dropping the request (the other branch) is what sends
                // `notifications/cancelled`; it is queued by now.
                tokio::time::sleep(CANCEL_GRACE).await;
                return Ok(CallOutcome::Cancelled);
            }
        };
        match called {
            Ok(Ok(result)) => Ok(CallOutcome::Done(result)),
            Ok(Err(error)) => Err(self.describe(error, &format!("tool `{tool}`"))),
            Err(_) if self.calls.send_pending() => bail!(stuck_plugin_message(
                &self.name,
                &self.plugin,
                "send",
                self.tool_timeout,
                "tool_timeout_sec"
            )),
            Err(_) => bail!(
                "tool `{tool}` on MCP server `{}` timed out after {} s; \
                 raise `tool_timeout_sec` under [mcp_servers.{}] if it needs longer",
                self.name,
                self.tool_timeout.as_secs_f64(),
                self.name
            ),
        }
    }

    /// Sends one `tools/call` and waits for its answer, with the call on
    /// record while it is in flight. rmcp puts a progress token on every
    /// request, so servers that report progress do, and the token ties the
    /// progress to this call. A 2026-07-28 server that needs something of
    /// the client first answers `input_required`: its questions go to the
    /// front end as this call's, and the call is sent again with the
    /// answers, for up to [`MAX_INPUT_ROUNDS`] rounds.
    async fn send_call(
        &self,
        mut params: CallToolRequestParams,
        tag: Option<CallTag>,
    ) -> Result<CallToolResult, ServiceError> {
        let mut state_only_wait = STATE_ONLY_FIRST_WAIT;
        for _ in 0..=MAX_INPUT_ROUNDS {
            let request = ClientRequest::CallToolRequest(CallToolRequest::new(params.clone()));
            let handle = self
                .service
                .send_request_with_option(request, PeerRequestOptions::no_options())
                .await?;
            let call = RelatedCall {
                request_id: handle.id.clone(),
                progress_token: handle.progress_token.clone(),
                tag,
                known_by: Correlation::InputRequired,
            };
            // Recorded once rmcp has queued the request, before the transport
            // has carried it to the server: nothing of the call can come back first.
            let in_flight =
                self.in_flight
                    .begin(handle.id.clone(), handle.progress_token.clone(), tag);
            let mut abandoned = CancelIfAbandoned {
                peer: self.service.peer().clone(),
                id: Some(handle.id.clone()),
            };
            let answer = handle.await_response().await;
            abandoned.id = None;
            drop(in_flight);
            let asked = match answer? {
                ServerResult::CallToolResult(result) => return Ok(result),
                // A server may answer a call that returns nothing with `{}`.
                ServerResult::EmptyResult(_) => return Ok(CallToolResult::default()),
                ServerResult::InputRequiredResult(asked) => asked,
                _ => return Err(ServiceError::UnexpectedResponse),
            };
            let questions = asked.input_requests.unwrap_or_default();
            if questions.is_empty() {
                // Only a state: the server is not ready yet; ask again soon.
                tokio::time::sleep(state_only_wait).await;
                state_only_wait = (state_only_wait * 2).min(STATE_ONLY_MAX_WAIT);
            } else {
                state_only_wait = STATE_ONLY_FIRST_WAIT;
            }
            let mut responses = InputResponses::new();
            for (key, question) in questions {
                let answer = self
                    .service
                    .service()
                    .answer_input(question, call.clone())
                    .await
                    .map_err(ServiceError::McpError)?;
                responses.insert(key, answer);
            }
            params.input_responses = Some(responses);
            params.request_state = asked.request_state;
        }
        Err(ServiceError::McpError(McpError::internal_error(
            format!(
                "the server still needed input after {MAX_INPUT_ROUNDS} input_required rounds; \
                 the call was given up"
            ),
            None,
        )))
    }

    /// Ends the session: MCP shutdown, then the plugin releases the server
    /// (for stdio: SIGTERM, then SIGKILL, to the whole process group).
    pub async fn close(self) {
        let Session {
            name,
            service,
            calls,
            plugin,
            ..
        } = self;
        // Ending the service closes the transport, which starts the plugin's
        // close; `close_connection` waits for that same close.
        let _ = tokio::time::timeout(Duration::from_secs(5), service.cancel()).await;
        close_connection(&name, &plugin, &calls).await;
    }

    pub(crate) fn describe(&self, error: ServiceError, what: &str) -> anyhow::Error {
        // When the server died, its exit status and stderr say more than
        // "transport closed".
        if let Some(reason) = self.reason.get() {
            return anyhow!("{what} failed: {reason}");
        }
        match error {
            ServiceError::McpError(error) => {
                anyhow!(
                    "{what} failed: MCP server `{}` answered with error {}: {}",
                    self.name,
                    error.code.0,
                    error.message
                )
            }
            other => anyhow!("{what} failed on MCP server `{}`: {other}", self.name),
        }
    }
}

/// Sends `notifications/cancelled` for a call whose caller stopped waiting
/// (a timeout, a cancel, a dropped future), so the server stops working on
/// an answer nobody reads.
struct CancelIfAbandoned {
    peer: Peer<rmcp::RoleClient>,
    id: Option<RequestId>,
}

impl Drop for CancelIfAbandoned {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let peer = self.peer.clone();
        runtime.spawn(async move {
            let params =
                CancelledNotificationParam::new(Some(id), Some("the caller gave up".to_string()));
            let _ = peer.notify_cancelled(params).await;
        });
    }
}

fn timeout_message(name: &str, timeout: Duration) -> String {
    format!(
        "MCP client for `{name}` timed out after {} seconds. Add or adjust `startup_timeout_sec` in your config.toml:\n\
         [mcp_servers.{name}]\nstartup_timeout_sec = XX",
        timeout.as_secs_f64()
    )
}

/// A plugin call that did not return within `waited`, in one line: which
/// plugin, which call, for which server, and what to do about it.
fn stuck_plugin_message(
    name: &str,
    plugin: &str,
    call: &str,
    waited: Duration,
    timeout_key: &str,
) -> String {
    format!(
        "MCP server `{name}`: the transport plugin `{plugin}` did not return from {call} within {} s; \
         if it is only slow, raise `{timeout_key}` under [mcp_servers.{name}], otherwise the plugin is stuck \
         (`codex plugin info {plugin}` shows its file)",
        waited.as_secs_f64()
    )
}

/// After an interrupted connect: a connection the plugin still opens within
/// [`REASON_WAIT`] is dropped at once, which closes it (a stdio server's
/// process group ends); one that comes later is dropped on its thread.
async fn close_late_connection<C: Send + 'static, E>(
    opening: tokio::task::JoinHandle<std::result::Result<C, E>>,
) {
    if let Ok(Ok(Ok(connection))) = tokio::time::timeout(REASON_WAIT, opening).await {
        let _ = tokio::task::spawn_blocking(move || drop(connection)).await;
    }
}

/// Closes the plugin connection, and says so when the plugin's close hung
/// (the command goes on without it).
async fn close_connection(name: &str, plugin: &str, calls: &PluginCalls) {
    if calls.close().await.is_err() {
        eprintln!(
            "warning: MCP server `{name}`: the transport plugin `{plugin}` did not return from close within {} s; went on without it",
            CLOSE_DEADLINE.as_secs()
        );
    }
}
