//! The gateway's MCP server side: one [`GatewayHandler`] per downstream
//! session (over stdio, or per HTTP session), all sharing one [`Gateway`].
//!
//! Lists are answered from what each upstream listed last ([`crate::lists`];
//! asked again after it says the list changed, or restarted) and
//! remembered as routes; a call or read is sent to the server its name
//! routes to. A server that cannot be reached is left out of lists (the
//! client that listed is told why in a log message) and named in the error
//! of a call that needs it; it is tried again next time.

// Logging and resources/subscribe are deprecated by MCP 2026-07-28; the
// 2025-11-25 clients and servers deployed use them.
#![allow(deprecated)]

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use codex_mcp_client::logging::LogLevel;
use codex_mcp_client::server_features::CompletionTarget;
use codex_mcp_client::session::{CallOutcome, Session};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult,
    ContentBlock, GetPromptRequestParams, GetPromptResponse, Implementation, InputRequiredResult,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListToolsResult,
    PaginatedRequestParams, ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse,
    Reference, ServerCapabilities, ServerConfig, SetLevelRequestParams, SubscribeRequestParams,
    SubscriptionFilter, UnsubscribeRequestParams,
};
use rmcp::service::{NotificationContext, RequestContext, SubscriptionContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::json;

use crate::Gateway;
use crate::catalog::{self, Reporter, Route};
use crate::relay::{Asking, Listener, SessionId};
use crate::rounds::{Question, RoundCall};

/// A configured server and its live session.
type UpstreamSession = (Arc<crate::Upstream>, Arc<Session>);

/// How long a listing waits for one server's answer.
const LIST_DEADLINE: Duration = Duration::from_secs(60);

/// Naming fallbacks are said once per process, not once per listing.
static REPORTER: Reporter = Reporter::new();

#[derive(Clone)]
pub struct GatewayHandler {
    gateway: Arc<Gateway>,
    /// This downstream session, for the relay; shared by the handler's
    /// clones, and ended when the last of them goes.
    session: Arc<DownstreamSession>,
}

/// A downstream session's id; dropping it (the session closed, by the
/// client or by the transport) gives up its resource subscriptions, and
/// the upstream's where it was the last subscriber.
struct DownstreamSession {
    id: SessionId,
    gateway: Arc<Gateway>,
}

impl Drop for DownstreamSession {
    fn drop(&mut self) {
        let released = self.gateway.relay.end_session(self.id);
        if released.is_empty() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // the runtime is ending, and with it every upstream
        };
        // The upstream that holds each subscription is the one to tell.
        for upstream in self.gateway.upstreams.values() {
            let held: Vec<String> = released
                .iter()
                .filter(|uri| upstream.holds_subscription(uri))
                .cloned()
                .collect();
            if !held.is_empty() {
                let upstream = upstream.clone();
                runtime.spawn(async move { upstream.release_subscriptions(held).await });
            }
        }
    }
}

impl GatewayHandler {
    /// The handler of one new downstream session.
    pub fn new(gateway: Arc<Gateway>) -> GatewayHandler {
        let session = Arc::new(DownstreamSession {
            id: gateway.relay.new_session(),
            gateway: gateway.clone(),
        });
        GatewayHandler { gateway, session }
    }

    fn catalog_read(&self) -> std::sync::RwLockReadGuard<'_, catalog::Catalog> {
        match self.gateway.catalog.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn catalog_write(&self) -> std::sync::RwLockWriteGuard<'_, catalog::Catalog> {
        match self.gateway.catalog.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Every allowed tool of every reachable server, under its downstream
    /// name; the routes are remembered for calls.
    async fn tools(&self) -> Vec<rmcp::model::Tool> {
        let listed = self
            .gateway
            .each_list(
                "tools",
                |lists| &lists.tools,
                |session| async move { session.list_tools(LIST_DEADLINE).await },
            )
            .await;
        let mut items = Vec::new();
        let mut tools = Vec::new();
        for (server, server_tools) in listed {
            let Some(upstream) = self.gateway.upstreams.get(&server) else {
                continue;
            };
            for tool in server_tools {
                if upstream.tool_allowed(&tool.name) {
                    items.push((server.clone(), tool.name.to_string()));
                    tools.push(tool);
                }
            }
        }
        let (names, reports) = catalog::expose(self.gateway.names, "tool", &items);
        reports
            .into_iter()
            .for_each(|report| REPORTER.report(report));
        let mut routes = HashMap::new();
        for ((tool, name), (server, raw)) in tools.iter_mut().zip(names).zip(items) {
            tool.name = name.clone().into();
            routes.insert(name, Route { server, raw });
        }
        self.catalog_write().tools = routes;
        tools
    }

    async fn prompts(&self) -> Vec<rmcp::model::Prompt> {
        let listed = self
            .gateway
            .each_list(
                "prompts",
                |lists| &lists.prompts,
                |session| async move { session.list_prompts().await },
            )
            .await;
        let mut items = Vec::new();
        let mut prompts = Vec::new();
        for (server, server_prompts) in listed {
            for prompt in server_prompts {
                items.push((server.clone(), prompt.name.clone()));
                prompts.push(prompt);
            }
        }
        let (names, reports) = catalog::expose(self.gateway.names, "prompt", &items);
        reports
            .into_iter()
            .for_each(|report| REPORTER.report(report));
        let mut routes = HashMap::new();
        for ((prompt, name), (server, raw)) in prompts.iter_mut().zip(names).zip(items) {
            prompt.name = name.clone();
            routes.insert(name, Route { server, raw });
        }
        self.catalog_write().prompts = routes;
        prompts
    }

    async fn resources(&self) -> Vec<rmcp::model::Resource> {
        let listed = self
            .gateway
            .each_list(
                "resources",
                |lists| &lists.resources,
                |session| async move { session.list_resources().await },
            )
            .await;
        let mut routes = HashMap::new();
        let mut resources = Vec::new();
        for (server, server_resources) in listed {
            for resource in server_resources {
                let uri = resource.uri.clone();
                // Servers in name order: the first to list a URI serves it.
                if let Some(first) = routes.get(&uri) {
                    REPORTER.report(format!(
                        "resource `{uri}` is listed by `{first}` and `{server}`: `{first}` serves it"
                    ));
                    continue;
                }
                routes.insert(uri, server.clone());
                resources.push(resource);
            }
        }
        self.catalog_write().resources = routes;
        resources
    }

    async fn templates(&self) -> Vec<rmcp::model::ResourceTemplate> {
        let listed = self
            .gateway
            .each_list(
                "resource templates",
                |lists| &lists.templates,
                |session| async move { session.list_resource_templates().await },
            )
            .await;
        let mut routes: Vec<(String, String)> = Vec::new();
        let mut templates = Vec::new();
        for (server, server_templates) in listed {
            for template in server_templates {
                let uri = template.uri_template.clone();
                if let Some((_, first)) = routes.iter().find(|(listed, _)| *listed == uri) {
                    REPORTER.report(format!(
                        "resource template `{uri}` is listed by `{first}` and `{server}`: `{first}` serves it"
                    ));
                    continue;
                }
                routes.push((uri, server.clone()));
                templates.push(template);
            }
        }
        self.catalog_write().templates = routes;
        templates
    }

    /// The route of the tool `name`, listing the tools again once when it
    /// is not known yet (a client may call without listing first).
    async fn tool_route(&self, name: &str) -> Option<Route> {
        if let Some(route) = self.catalog_read().tools.get(name).cloned() {
            return Some(route);
        }
        self.tools().await;
        self.catalog_read().tools.get(name).cloned()
    }

    async fn prompt_route(&self, name: &str) -> Option<Route> {
        if let Some(route) = self.catalog_read().prompts.get(name).cloned() {
            return Some(route);
        }
        self.prompts().await;
        self.catalog_read().prompts.get(name).cloned()
    }

    async fn resource_server(&self, uri: &str) -> Option<String> {
        if let Some(server) = self.catalog_read().resource_server(uri) {
            return Some(server);
        }
        self.resources().await;
        self.templates().await;
        if let Some(server) = self.catalog_read().resource_server(uri) {
            return Some(server);
        }
        // One server: everything is its.
        (self.gateway.upstreams.len() == 1)
            .then(|| self.gateway.upstreams.keys().next().cloned())
            .flatten()
    }

    async fn template_server(&self, template: &str) -> Option<String> {
        if let Some(server) = self.catalog_read().template_server(template) {
            return Some(server);
        }
        self.templates().await;
        self.catalog_read().template_server(template)
    }

    /// The session of the server that serves the resource `uri`.
    async fn resource_session(&self, uri: &str) -> Result<UpstreamSession, McpError> {
        let Some(server) = self.resource_server(uri).await else {
            return Err(McpError::resource_not_found(
                format!("no server behind this gateway lists the resource `{uri}`"),
                None,
            ));
        };
        self.session_of(&server).await.map_err(internal)
    }

    fn log_call(&self, route: &Route, started: Instant, outcome: &str) {
        if self.gateway.verbose {
            eprintln!(
                "mcp-server: tools/call server={} tool={} {:.1} ms {outcome}",
                route.server,
                route.raw,
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
    }

    /// The session of `server`, or the error a downstream client reads.
    async fn session_of(&self, server: &str) -> Result<UpstreamSession, String> {
        let Some(upstream) = self.gateway.upstreams.get(server).cloned() else {
            return Err(format!(
                "MCP server `{server}` is not served by this gateway"
            ));
        };
        match upstream.session().await {
            Ok(session) => Ok((upstream, session)),
            Err(error) => Err(format!(
                "MCP server `{server}` is unavailable: {error:#} (the gateway tries again on the next call)"
            )),
        }
    }
}

impl GatewayHandler {
    /// This session hears of `uri`'s updates through `listener`; the
    /// upstream is asked once, for the first session to subscribe, and its
    /// updates reach only the sessions that did.
    async fn subscribe_as(&self, uri: &str, listener: Listener) -> Result<(), McpError> {
        let (upstream, session) = self.resource_session(uri).await?;
        let relay = &self.gateway.relay;
        if !relay.subscribe(self.session.id, listener, uri) {
            return Ok(());
        }
        match session.subscribe(uri).await {
            Ok(()) => {
                upstream.subscribed(uri);
                Ok(())
            }
            Err(error) => {
                relay.unsubscribe(self.session.id, uri);
                Err(internal(format!("{error:#}")))
            }
        }
    }
}

/// Whether the client of this request takes an upstream's questions in
/// `input_required` results rather than as requests (MCP 2026-07-28).
fn takes_rounds(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|version| version >= ProtocolVersion::V_2026_07_28)
}

impl GatewayHandler {
    /// The session a call of `route` goes to, or the tool error the client
    /// reads when its server is unavailable (logged as such).
    async fn call_session(&self, route: &Route) -> Result<UpstreamSession, CallToolResponse> {
        let started = Instant::now();
        self.session_of(&route.server).await.map_err(|message| {
            self.log_call(route, started, "unavailable");
            tool_error(message).into()
        })
    }

    /// The call of `route` on `session`, on record in the relay while it
    /// runs (its progress and questions reach the caller as `asking` says),
    /// given up when `cancel` completes. Owns what it needs, so that a
    /// round's call can outlive its request.
    fn upstream_call(
        &self,
        context: &RequestContext<RoleServer>,
        route: &Route,
        session: &Arc<Session>,
        arguments: serde_json::Map<String, serde_json::Value>,
        asking: Asking,
        cancel: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = anyhow::Result<CallOutcome>> + Send + 'static {
        let in_flight = self
            .gateway
            .relay
            .begin(context, (&route.server, self.session.id), asking);
        let session = session.clone();
        let raw = route.raw.clone();
        async move {
            let outcome = session
                .call_tool_tagged(&raw, arguments, cancel, Some(in_flight.tag()))
                .await;
            drop(in_flight);
            outcome
        }
    }

    /// What the client reads of a finished upstream call.
    async fn finish_call(
        &self,
        route: &Route,
        started: Instant,
        upstream: &crate::Upstream,
        session: &Arc<Session>,
        outcome: anyhow::Result<CallOutcome>,
    ) -> Result<CallToolResponse, McpError> {
        upstream.touch();
        match outcome {
            Ok(CallOutcome::Done(mut result)) => {
                complete(&mut result.result_type);
                let said = if result.is_error == Some(true) {
                    "tool error"
                } else {
                    "ok"
                };
                self.log_call(route, started, said);
                Ok(result.into())
            }
            Ok(CallOutcome::Cancelled) => {
                self.log_call(route, started, "cancelled");
                Err(McpError::internal_error("the call was cancelled", None))
            }
            Err(error) => {
                upstream.forget_if_closed(session).await;
                self.log_call(route, started, "failed");
                Ok(tool_error(format!("{error:#}")).into())
            }
        }
    }

    /// A call of a client that takes no requests from servers: its
    /// upstream call runs in this request until its first question, then in
    /// a task of its own; each question the upstream asks ends the round
    /// with an `input_required` result; the
    /// client's next call with the same `requestState` brings the answers
    /// and waits for the next round, until the upstream answers the call.
    async fn call_in_rounds(
        &self,
        route: Route,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let mut call = match request.request_state.as_deref() {
            Some(state) => {
                let Some(mut call) = self.gateway.rounds.take(state) else {
                    return Err(McpError::invalid_params(
                        "requestState is not one of a call waiting in this gateway (it was \
                         answered, given up after 10 minutes, or made by another gateway \
                         instance): call the tool again without it",
                        None,
                    ));
                };
                if call.route != route {
                    let name = request.name;
                    // Put back: the client may still answer it correctly.
                    self.gateway.rounds.park_again(state, call);
                    return Err(McpError::invalid_params(
                        format!("requestState belongs to a call of another tool than `{name}`"),
                        None,
                    ));
                }
                call.answer(request.input_responses.unwrap_or_default());
                call
            }
            None => {
                let (upstream, session) = match self.call_session(&route).await {
                    Ok(found) => found,
                    Err(unavailable) => return Ok(unavailable),
                };
                let (questions, asked) = tokio::sync::mpsc::unbounded_channel();
                let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
                // Runs here until its first question (most calls have none).
                let outcome = Box::pin(self.upstream_call(
                    &context,
                    &route,
                    &session,
                    request.arguments.unwrap_or_default(),
                    Asking::Rounds(questions),
                    async move {
                        let _ = cancelled.await;
                    },
                ));
                RoundCall::new(route, upstream, session, asked, outcome, cancel)
            }
        };
        enum Next {
            Done(anyhow::Result<CallOutcome>),
            Asked(Question),
            Cancelled,
        }
        let next = tokio::select! {
            outcome = &mut call.outcome => Next::Done(outcome),
            Some(question) = call.questions.recv() => Next::Asked(question),
            () = context.ct.cancelled() => Next::Cancelled,
        };
        match next {
            Next::Done(outcome) => {
                self.finish_call(
                    &call.route,
                    call.started,
                    &call.upstream,
                    &call.session,
                    outcome,
                )
                .await
            }
            Next::Asked(question) => {
                let requests = call.ask(question);
                let state = self.gateway.rounds.park(call).map_err(internal)?;
                Ok(InputRequiredResult::new(Some(requests), Some(state)).into())
            }
            // Dropping the call cancels it upstream.
            Next::Cancelled => Err(McpError::internal_error("the call was cancelled", None)),
        }
    }
}

impl GatewayHandler {
    /// The servers whose last connect failed, each with why (an upstream
    /// that needs a login says `codex mcp login NAME` here).
    fn unavailable(&self) -> Vec<(String, String)> {
        self.gateway
            .upstreams
            .values()
            .filter_map(|upstream| Some((upstream.name.clone(), upstream.last_error()?)))
            .collect()
    }

    /// Tells the client that listed which servers are left out and why: a
    /// list has no place for errors.
    async fn report_unavailable(&self, peer: &rmcp::service::Peer<RoleServer>) {
        for (server, error) in self.unavailable() {
            let mut params = rmcp::model::LoggingMessageNotificationParam::new(
                rmcp::model::LoggingLevel::Warning,
                json!(format!(
                    "MCP server `{server}` is left out until it answers: {error}"
                )),
            );
            params.logger = Some("codex-mcp-server".to_string());
            let _ = peer.notify_logging_message(params).await;
        }
    }
}

/// An upstream of 2025-11-25 sends no `resultType`; a 2026-07-28 client
/// needs it (rmcp drops it again for clients of earlier revisions).
fn complete(result_type: &mut Option<rmcp::model::ResultType>) {
    result_type.get_or_insert(rmcp::model::ResultType::COMPLETE);
}

fn tool_error(text: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text)])
}

fn internal(error: impl std::fmt::Display) -> McpError {
    McpError::internal_error(error.to_string(), None)
}

impl ServerHandler for GatewayHandler {
    fn get_info(&self) -> ServerConfig {
        let capabilities: ServerCapabilities = serde_json::from_value(json!({
            "tools": { "listChanged": true },
            "prompts": { "listChanged": true },
            "resources": { "listChanged": true, "subscribe": true },
            "completions": {},
            "logging": {},
        }))
        .unwrap_or_default();
        ServerConfig::new(capabilities).with_server_info(
            Implementation::new("codex-mcp-server", env!("CARGO_PKG_VERSION"))
                .with_title("Codex MCP gateway"),
        )
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.gateway.relay.add(self.session.id, context.peer);
    }

    async fn on_roots_list_changed(&self, _context: NotificationContext<RoleServer>) {
        // Passed on to the servers running now; the others ask when they start.
        for upstream in self.gateway.upstreams.values() {
            let running = upstream.session.lock().await.clone();
            if let Some(session) = running {
                let _ = session.notify_roots_list_changed().await;
            }
        }
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let level = LogLevel::from(request.level);
        match self.gateway.log_level.lock() {
            Ok(mut held) => *held = Some(level),
            Err(poisoned) => *poisoned.into_inner() = Some(level),
        }
        // Servers that do not log are not asked; the others are asked now,
        // and those that connect later are asked as they connect.
        self.gateway
            .each_server("log level", |session| async move {
                if session.capabilities().logging.is_some() {
                    session.set_log_level(level, LIST_DEADLINE).await
                } else {
                    Ok(())
                }
            })
            .await;
        Ok(())
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.subscribe_as(&request.uri, Listener::Session(context.peer.clone()))
            .await
    }

    /// MCP 2026-07-28's change notifications: every kind the gateway
    /// sends, and any resource of its servers.
    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(requested.clone())
    }

    /// One `subscriptions/listen` stream: it hears list changes and the
    /// updates of the resources it named until the client ends it; its
    /// resource subscriptions are given up with the stream's session.
    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        let sink = context.sink().clone();
        let relay = &self.gateway.relay;
        relay.listen(self.session.id, sink.clone());
        let uris = context
            .accepted()
            .resource_subscriptions
            .clone()
            .unwrap_or_default();
        for uri in &uris {
            if let Err(error) = self.subscribe_as(uri, Listener::Listen(sink.clone())).await {
                relay.end_listen(self.session.id);
                return Err(error);
            }
        }
        context.cancelled().await;
        relay.end_listen(self.session.id);
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        let (upstream, session) = self.resource_session(&request.uri).await?;
        if !self
            .gateway
            .relay
            .unsubscribe(self.session.id, &request.uri)
        {
            return Ok(());
        }
        upstream.unsubscribed(&request.uri);
        session
            .unsubscribe(&request.uri)
            .await
            .map_err(|error| internal(format!("{error:#}")))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let tools = self.tools().await;
        self.report_unavailable(&context.peer).await;
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let name = request.name.to_string();
        let Some(route) = self.tool_route(&name).await else {
            let unavailable: Vec<String> = self
                .unavailable()
                .into_iter()
                .map(|(server, error)| format!("MCP server `{server}` is unavailable: {error}"))
                .collect();
            if !unavailable.is_empty() {
                // The tool may be one of theirs: say why they are not listed.
                return Ok(tool_error(format!(
                    "unknown tool `{name}`; servers whose tools are not listed now:\n{}",
                    unavailable.join("\n")
                ))
                .into());
            }
            return Err(McpError::invalid_params(
                format!("unknown tool `{name}`: tools/list shows the tools this gateway serves"),
                None,
            ));
        };
        if request.request_state.is_some() || takes_rounds(&context) {
            return self.call_in_rounds(route, request, context).await;
        }
        let started = Instant::now();
        let (upstream, session) = match self.call_session(&route).await {
            Ok(found) => found,
            Err(unavailable) => return Ok(unavailable),
        };
        let cancelled = context.ct.clone();
        let outcome = self
            .upstream_call(
                &context,
                &route,
                &session,
                request.arguments.unwrap_or_default(),
                Asking::Requests,
                async move { cancelled.cancelled().await },
            )
            .await;
        self.finish_call(&route, started, &upstream, &session, outcome)
            .await
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::with_all_items(self.prompts().await))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        let Some(route) = self.prompt_route(&request.name).await else {
            return Err(McpError::invalid_params(
                format!(
                    "unknown prompt `{}`: prompts/list shows the prompts this gateway serves",
                    request.name
                ),
                None,
            ));
        };
        let (_, session) = self.session_of(&route.server).await.map_err(internal)?;
        let mut result = session
            .get_prompt(&route.raw, request.arguments.unwrap_or_default())
            .await
            .map_err(|error| internal(format!("{error:#}")))?;
        complete(&mut result.result_type);
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Ok(ListResourcesResult::with_all_items(self.resources().await))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(
            self.templates().await,
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let uri = request.uri.clone();
        let (_, session) = self.resource_session(&uri).await?;
        let mut result = session
            .read_resource(&uri)
            .await
            .map_err(|error| internal(format!("{error:#}")))?;
        complete(&mut result.result_type);
        Ok(result.into())
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        let (server, target) = match &request.r#ref {
            Reference::Prompt(prompt) => match self.prompt_route(&prompt.name).await {
                Some(route) => (route.server, CompletionTarget::Prompt(route.raw)),
                None => {
                    return Err(McpError::invalid_params(
                        format!("unknown prompt `{}`", prompt.name),
                        None,
                    ));
                }
            },
            Reference::Resource(resource) => match self.template_server(&resource.uri).await {
                Some(server) => (server, CompletionTarget::Template(resource.uri.clone())),
                None => {
                    return Err(McpError::invalid_params(
                        format!("unknown resource template `{}`", resource.uri),
                        None,
                    ));
                }
            },
            _ => {
                return Err(McpError::invalid_params(
                    "completion/complete: unknown kind of reference",
                    None,
                ));
            }
        };
        let (_, session) = self.session_of(&server).await.map_err(internal)?;
        let context = request
            .context
            .and_then(|context| context.arguments)
            .unwrap_or_default();
        let completion = session
            .complete(
                &target,
                &request.argument.name,
                &request.argument.value,
                context,
            )
            .await
            .map_err(|error| internal(format!("{error:#}")))?;
        Ok(CompleteResult::new(completion))
    }
}
