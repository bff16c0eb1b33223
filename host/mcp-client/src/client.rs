//! The host's side of an MCP session: what it tells a server about itself,
//! how it answers the server's requests (`roots/list`, `elicitation/create`,
//! `sampling/createMessage`), and where the server's notifications go.
//!
//! Nothing here talks to a terminal: a front end hands in [`ClientOptions`]
//! with its own [`ClientEvents`], and decides how progress, log messages and
//! questions for the user are shown.

// Logging is deprecated by MCP 2026-07-28 (SEP-2577); servers of 2025-11-25
// still send `notifications/message`, and those are the servers deployed.
#![allow(deprecated)]

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use rmcp::ErrorData as McpError;
use rmcp::model::{
    ClientCapabilities, ClientConfig, CreateMessageRequestParams, CreateMessageResult,
    ElicitRequestParams, ElicitResult, ElicitationAction, Implementation, InputRequest,
    ListRootsResult, LoggingMessageNotificationParam, ProgressNotificationParam, ProgressToken,
    RequestId,
};
use rmcp::service::{NotificationContext, RequestContext, RoleClient};
use serde_json::{Map, Value, json};

use crate::in_flight::InFlightCalls;
use crate::logging::LogLevel;

/// What a front end decides for one session.
#[derive(Clone)]
pub struct ClientOptions {
    /// The directories answered to `roots/list` (as `file://` URIs).
    pub roots: Vec<PathBuf>,
    /// Where notifications and questions for the user go.
    pub events: Arc<dyn ClientEvents>,
    /// Sent with `logging/setLevel` right after the handshake, to servers
    /// that offer logging; `None` leaves the server's own default.
    pub log_level: Option<LogLevel>,
}

impl ClientOptions {
    /// No roots, no log level, and notifications and questions ignored
    /// (elicitations declined).
    pub fn quiet() -> ClientOptions {
        ClientOptions {
            roots: Vec::new(),
            events: Arc::new(Quiet),
            log_level: None,
        }
    }
}

/// A progress notification of a request in flight.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub progress: f64,
    pub total: Option<f64>,
    pub message: Option<String>,
}

/// A `notifications/message` from a server.
#[derive(Debug, Clone, PartialEq)]
pub struct LogMessage {
    pub level: LogLevel,
    pub logger: Option<String>,
    /// Any JSON value; usually a string.
    pub data: Value,
}

/// What a server asked the user for in a form elicitation.
#[derive(Debug, Clone, PartialEq)]
pub struct ElicitationRequest {
    pub message: String,
    /// The requested schema as JSON: an object of flat, primitive properties.
    pub schema: Value,
}

/// The user's answer to an elicitation.
#[derive(Debug, Clone, PartialEq)]
pub enum ElicitationAnswer {
    /// Accepted, with the content (checked against the schema by the front end).
    Accept(Map<String, Value>),
    /// Declined; the reason is for the user, the server only learns "decline".
    Decline,
    /// Dismissed without a choice.
    Cancel,
}

/// A label a front end gives a call ([`crate::session::Session::call_tool_tagged`])
/// so that it knows the call again in the events the call causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallTag(pub u64);

/// How an event was tied to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correlation {
    /// The event names the call's progress token (progress notifications).
    ProgressToken,
    /// The call was the only one in flight on the session. MCP puts no
    /// request id on a server's own requests or log messages, so this is
    /// as sure as the protocol allows.
    OnlyCallInFlight,
    /// The transport saw the event come with the call's request (on its
    /// streamable HTTP POST stream) and said so
    /// ([`codex_plugin_api::RELATED_REQUEST_META`]).
    RequestStream,
    /// The server asked it in the call's own `input_required` result
    /// (MCP 2026-07-28).
    InputRequired,
}

/// The tool call of a session that an event belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct RelatedCall {
    /// The JSON-RPC id of the `tools/call` sent to the server.
    pub request_id: RequestId,
    /// The progress token sent with it.
    pub progress_token: ProgressToken,
    /// The front end's label, when it gave one.
    pub tag: Option<CallTag>,
    pub known_by: Correlation,
}

/// An answer a front end gives later (it may ask its own client first).
pub type Deferred<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What a session reports to its front end. Every method has a default that
/// ignores the event, so a front end implements only what it shows.
///
/// The `call_*` methods say which tool call of the session an event belongs
/// to, when that is known ([`RelatedCall`]); by default they hand the event
/// to the method without the call, so a front end that runs one call at a
/// time implements only those.
pub trait ClientEvents: Send + Sync + 'static {
    /// A server reported progress of a request of this session.
    fn progress(&self, _server: &str, _progress: &Progress) {}

    /// A server sent a log message at or above the level asked for.
    fn log_message(&self, _server: &str, _message: &LogMessage) {}

    /// A server asks the user for input. Runs on a blocking thread, so it
    /// may read a terminal.
    fn elicit(&self, _server: &str, _request: &ElicitationRequest) -> ElicitationAnswer {
        ElicitationAnswer::Decline
    }

    /// A server asked for something this host does not do (a URL
    /// elicitation, sampling); `what` says what and why it was refused.
    fn refused(&self, _server: &str, _what: &str) {}

    /// A server's list of tools, prompts or resources changed.
    fn list_changed(&self, _server: &str, _list: ListKind) {}

    /// A resource the session subscribed to changed.
    fn resource_updated(&self, _server: &str, _uri: &str) {}

    /// Progress, with the call it is about (known by its progress token).
    fn call_progress(&self, server: &str, _call: Option<&RelatedCall>, progress: &Progress) {
        self.progress(server, progress);
    }

    /// A log message, with the call in flight when it came, if only one was.
    fn call_log_message(&self, server: &str, _call: Option<&RelatedCall>, message: &LogMessage) {
        self.log_message(server, message);
    }

    /// An elicitation, with the call that caused it when that is known.
    /// Runs on a blocking thread, like [`ClientEvents::elicit`].
    fn call_elicit(
        &self,
        server: &str,
        _call: Option<&RelatedCall>,
        request: &ElicitationRequest,
    ) -> ElicitationAnswer {
        self.elicit(server, request)
    }

    /// Whether this front end answers `sampling/createMessage` (through
    /// [`ClientEvents::sample`]); the session offers sampling in
    /// `initialize` only then.
    fn offers_sampling(&self) -> bool {
        false
    }

    /// A server asks for a model's answer. By default refused: the host runs
    /// no model; a front end that has a client with one (the gateway) asks it.
    fn sample(
        &self,
        server: &str,
        _call: Option<&RelatedCall>,
        _request: CreateMessageRequestParams,
    ) -> Deferred<Result<CreateMessageResult, McpError>> {
        self.refused(server, NO_SAMPLING);
        Box::pin(std::future::ready(Err(McpError::new(
            rmcp::model::ErrorCode::METHOD_NOT_FOUND,
            NO_SAMPLING,
            None,
        ))))
    }

    /// A server asks for the roots. By default the session's own
    /// ([`ClientOptions::roots`], given here as `configured`).
    fn list_roots(
        &self,
        _server: &str,
        _call: Option<&RelatedCall>,
        configured: ListRootsResult,
    ) -> Deferred<Result<ListRootsResult, McpError>> {
        Box::pin(std::future::ready(Ok(configured)))
    }
}

/// Which list a `notifications/*/list_changed` is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Tools,
    Prompts,
    Resources,
}

struct Quiet;

impl ClientEvents for Quiet {}

/// What the host says about itself in `initialize`. It asks for 2025-11-25,
/// the newest revision that has an initialize handshake and what deployed
/// servers speak; a server may answer with an older one. It offers roots
/// and form elicitation; sampling only when the front end answers it (the
/// host runs no model).
pub(crate) fn client_config(sampling: bool) -> ClientConfig {
    let mut capabilities = json!({
        "roots": {},
        "elicitation": { "form": {} },
    });
    if sampling {
        capabilities["sampling"] = json!({});
    }
    let capabilities: ClientCapabilities = serde_json::from_value(capabilities).unwrap_or_default();
    ClientConfig::new(
        capabilities,
        Implementation::new("codex-mcp-client", env!("CARGO_PKG_VERSION")).with_title("Codex"),
    )
    .with_protocol_version(rmcp::model::ProtocolVersion::V_2025_11_25)
}

/// The rmcp handler of one session.
pub(crate) struct HostClient {
    pub(crate) server: String,
    pub(crate) options: ClientOptions,
    pub(crate) in_flight: Arc<InFlightCalls>,
}

/// Why sampling is refused, to the server and to the user.
const NO_SAMPLING: &str =
    "sampling/createMessage is not supported: this client runs no model and offers no sampling";

impl HostClient {
    /// The roots for `call`: the front end's answer, given the configured ones.
    async fn answer_roots(&self, call: Option<RelatedCall>) -> Result<ListRootsResult, McpError> {
        let roots: Vec<Value> = self
            .options
            .roots
            .iter()
            .filter_map(|dir| {
                let uri = url::Url::from_directory_path(dir).ok()?;
                let name = dir
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_else(|| dir.display().to_string());
                Some(json!({ "uri": uri.as_str(), "name": name }))
            })
            .collect();
        let configured: ListRootsResult = serde_json::from_value(json!({ "roots": roots }))
            .map_err(|error| McpError::internal_error(format!("roots: {error}"), None))?;
        self.options
            .events
            .list_roots(&self.server, call.as_ref(), configured)
            .await
    }

    async fn answer_sampling(
        &self,
        params: CreateMessageRequestParams,
        call: Option<RelatedCall>,
    ) -> Result<CreateMessageResult, McpError> {
        self.options
            .events
            .sample(&self.server, call.as_ref(), params)
            .await
    }

    /// A form elicitation goes to the front end (which may ask a person);
    /// any other kind is declined and said so.
    async fn answer_elicitation(
        &self,
        request: ElicitRequestParams,
        call: Option<RelatedCall>,
    ) -> Result<ElicitResult, McpError> {
        let (message, schema) = match request {
            ElicitRequestParams::FormElicitationParams {
                message,
                requested_schema,
                ..
            } => (message, requested_schema),
            ElicitRequestParams::UrlElicitationParams { message, url, .. } => {
                self.options.events.refused(
                    &self.server,
                    &format!("a URL elicitation ({message}: {url}) was declined: this client offers form elicitation only"),
                );
                return Ok(ElicitResult::new(ElicitationAction::Decline));
            }
            other => {
                self.options.events.refused(
                    &self.server,
                    &format!(
                        "an elicitation of a kind this client does not know was declined: {}",
                        serde_json::to_string(&other).unwrap_or_default()
                    ),
                );
                return Ok(ElicitResult::new(ElicitationAction::Decline));
            }
        };
        let request = ElicitationRequest {
            message,
            schema: serde_json::to_value(&schema).unwrap_or(Value::Null),
        };
        let events = self.options.events.clone();
        let server = self.server.clone();
        // The front end may wait for a person at a terminal.
        let answer = tokio::task::spawn_blocking(move || {
            events.call_elicit(&server, call.as_ref(), &request)
        })
        .await
        .map_err(|error| McpError::internal_error(format!("elicitation: {error}"), None))?;
        Ok(match answer {
            ElicitationAnswer::Accept(content) => {
                ElicitResult::new(ElicitationAction::Accept).with_content(Value::Object(content))
            }
            ElicitationAnswer::Decline => ElicitResult::new(ElicitationAction::Decline),
            ElicitationAnswer::Cancel => ElicitResult::new(ElicitationAction::Cancel),
        })
    }

    /// The answer to one question a server asked in `call`'s
    /// `input_required` result (MCP 2026-07-28), as the JSON result it
    /// retries the call with.
    pub(crate) async fn answer_input(
        &self,
        input: InputRequest,
        call: RelatedCall,
    ) -> Result<Value, McpError> {
        let as_json = |result: Result<Value, serde_json::Error>| {
            result
                .map_err(|error| McpError::internal_error(format!("input response: {error}"), None))
        };
        match input {
            InputRequest::Elicitation(request) => {
                let result = self.answer_elicitation(request.params, Some(call)).await?;
                as_json(serde_json::to_value(result))
            }
            InputRequest::CreateMessage(request) => {
                let result = self.answer_sampling(request.params, Some(call)).await?;
                as_json(serde_json::to_value(result))
            }
            InputRequest::ListRoots(_) => {
                let result = self.answer_roots(Some(call)).await?;
                as_json(serde_json::to_value(result))
            }
            other => Err(McpError::invalid_request(
                format!(
                    "an input request of a kind this client does not know: {}",
                    serde_json::to_string(&other).unwrap_or_default()
                ),
                None,
            )),
        }
    }
}

impl rmcp::ClientHandler for HostClient {
    fn get_info(&self) -> ClientConfig {
        client_config(self.options.events.offers_sampling())
    }

    async fn list_roots(
        &self,
        context: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, McpError> {
        self.answer_roots(self.in_flight.related(&context.meta.0.0))
            .await
    }

    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, McpError> {
        self.answer_sampling(params, self.in_flight.related(&context.meta.0.0))
            .await
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, McpError> {
        self.answer_elicitation(request, self.in_flight.related(&context.meta.0.0))
            .await
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let call = self.in_flight.by_progress_token(&params.progress_token);
        let progress = Progress {
            progress: params.progress,
            total: params.total,
            message: params.message,
        };
        self.options
            .events
            .call_progress(&self.server, call.as_ref(), &progress);
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.options
            .events
            .list_changed(&self.server, ListKind::Tools);
    }

    async fn on_prompt_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.options
            .events
            .list_changed(&self.server, ListKind::Prompts);
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.options
            .events
            .list_changed(&self.server, ListKind::Resources);
    }

    async fn on_resource_updated(
        &self,
        params: rmcp::model::ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.options
            .events
            .resource_updated(&self.server, &params.uri);
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        context: NotificationContext<RoleClient>,
    ) {
        let message = LogMessage {
            level: LogLevel::from(params.level),
            logger: params.logger,
            data: params.data,
        };
        // A server may ignore `logging/setLevel`: the filter is applied here too.
        if self
            .options
            .log_level
            .is_none_or(|floor| message.level >= floor)
        {
            let call = self.in_flight.related(&context.meta.0.0);
            self.options
                .events
                .call_log_message(&self.server, call.as_ref(), &message);
        }
    }
}
