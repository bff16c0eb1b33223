//! The streamable HTTP transport (MCP 2025-11-25): one POST per message,
//! answers as JSON or as an event stream, sessions, resumption, and the
//! optional GET stream for messages the server starts.
//!
//! - The session id from the `initialize` answer goes on every later request,
//!   and so does the negotiated protocol version (read from that answer).
//! - A request whose session the server no longer knows (404, or 400 naming
//!   the session, as some servers answer) starts a new session once: the
//!   saved `initialize` is replayed (its answer is not delivered again),
//!   `notifications/initialized` follows, then the request is sent again.
//! - An event stream that ends before the answer is resumed with GET and
//!   `Last-Event-ID` after the server's `retry` delay, a bounded number of times.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use codex_plugin_api::{ErrorKind, LogLevel, PluginError};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue};
use reqwest::{Method, Response, StatusCode};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::context::Context;
use crate::events::{Pumped, pump};
use crate::http::{
    BodyError, EVENT_STREAM, MAX_BODY_BYTES, MAX_EVENT_BYTES, header, is_json, media_type,
    read_limited,
};
use crate::message::{self, Outgoing};
use crate::sse::SseParser;

/// The session header.
pub const SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
/// The negotiated protocol version header.
pub const PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
/// Where a resumed stream starts again.
pub const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

/// The wait before resuming when the server gave no `retry`.
const DEFAULT_RETRY: Duration = Duration::from_secs(1);
/// The longest `retry` honoured, so a server cannot park a request forever.
const MAX_RETRY: Duration = Duration::from_secs(30);
/// Resumptions in a row that brought nothing before giving up.
const MAX_IDLE_RESUMES: u32 = 3;
/// Resumptions of one request's stream in all (a server that polls closes
/// its stream after every event, so this is generous).
const MAX_RESUMES: u32 = 100;
/// How long the first request waits for the server to answer the GET stream.
const LISTEN_WAIT: Duration = Duration::from_secs(2);
/// GET streams in a row that failed or brought nothing before giving up.
const MAX_LISTEN_FAILURES: u32 = 3;

/// Whether `answer` is a `server/discover` result naming supported revisions.
fn describes_revisions(answer: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(answer)
        .ok()
        .and_then(|value| value.get("result")?.get("supportedVersions").cloned())
        .is_some_and(|versions| versions.is_array())
}

/// Whether `answer` is a JSON-RPC error response.
fn is_error(answer: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(answer)
        .ok()
        .is_some_and(|value| value.get("error").is_some())
}

/// How one exchange failed.
pub enum Failure {
    /// The server does not know the session the message carried.
    SessionGone {
        /// The session generation the message was sent in.
        generation: u64,
        /// What the server answered.
        status: StatusCode,
    },
    /// An unexpected HTTP status (401 and 403 are [`Failure::Other`]).
    Status {
        /// The status.
        status: StatusCode,
        /// The message naming it, with the start of the body.
        error: PluginError,
    },
    /// Anything else: no connection, a bad body, a stream that could not resume.
    Other(PluginError),
}

impl Failure {
    /// The error to report for `message`.
    pub fn into_error(self, context: &Context, message: &Outgoing) -> PluginError {
        match self {
            Failure::SessionGone { status, .. } => PluginError::new(
                ErrorKind::Unavailable,
                format!(
                    "MCP server `{}` does not know the session of {} ({})",
                    context.server(),
                    message.label(),
                    crate::http::status_label(status)
                ),
            ),
            Failure::Status { error, .. } | Failure::Other(error) => error,
        }
    }
}

/// The session as the next request sees it.
#[derive(Default)]
struct State {
    session_id: Option<HeaderValue>,
    protocol_version: Option<HeaderValue>,
    /// Bumped each time a new session id arrives.
    generation: u64,
    /// The host's `initialize`, kept to start a new session.
    initialize: Option<Outgoing>,
}

/// One streamable HTTP connection.
pub struct Streamable {
    context: Arc<Context>,
    state: Mutex<State>,
    /// Held while a new session is being started, so it happens once.
    recovery: tokio::sync::Mutex<()>,
    listener: Mutex<Option<JoinHandle<()>>>,
}

impl Streamable {
    /// A connection with no session yet.
    pub fn new(context: Arc<Context>) -> Self {
        Streamable {
            context,
            state: Mutex::new(State::default()),
            recovery: tokio::sync::Mutex::new(()),
            listener: Mutex::new(None),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends the first message (the host's `initialize`); the caller decides
    /// what a failure means (fall back to HTTP+SSE, or give up).
    pub async fn first(&self, message: &Outgoing) -> Result<(), Failure> {
        if message.is_initialize() {
            self.state().initialize = Some(message.clone());
        }
        self.exchange(message, false).await.map(|_| ())
    }

    /// Sends a first `server/discover` and delivers what settles the
    /// revision: the server's description when it speaks 2026-07-28, else an
    /// error answering the request (which tells the host to `initialize`).
    /// Returns whether the server speaks 2026-07-28.
    pub async fn discover(&self, message: &Outgoing) -> bool {
        let refusal = match self.exchange(message, true).await {
            Ok(Some(answer)) if describes_revisions(&answer) => {
                self.context.deliver(answer);
                return true;
            }
            // A JSON-RPC error (method not found, ...) says it all.
            Ok(Some(answer)) if is_error(&answer) => {
                self.context.deliver(answer);
                return false;
            }
            Ok(_) => PluginError::new(
                ErrorKind::Protocol,
                format!(
                    "MCP server `{}` answered `server/discover` without the revisions it supports",
                    self.context.server()
                ),
            ),
            Err(failure) => failure.into_error(&self.context, message),
        };
        self.context.log(
            LogLevel::Debug,
            &format!(
                "`server/discover` refused ({}); the server speaks an earlier revision",
                refusal.message
            ),
        );
        self.context.fail(message, &refusal);
        false
    }

    /// Sends `message`, starting a new session once if the server lost it,
    /// and fails it towards the host if it cannot be carried.
    pub async fn handle(self: &Arc<Self>, message: Outgoing) {
        if message.is_initialize() {
            self.state().initialize = Some(message.clone());
        }
        match self.exchange(&message, false).await {
            Ok(_) => return self.after_sent(&message).await,
            Err(Failure::SessionGone { generation, status }) => {
                if let Err(error) = self.recover(generation, status).await {
                    // Without a session nothing more can be sent.
                    self.context.end(error);
                    return;
                }
            }
            Err(failure) => {
                let error = failure.into_error(&self.context, &message);
                return self.context.fail(&message, &error);
            }
        };
        match self.exchange(&message, false).await {
            Ok(_) => self.after_sent(&message).await,
            Err(Failure::SessionGone { status, .. }) => {
                let error = PluginError::new(
                    ErrorKind::Unavailable,
                    format!(
                        "MCP server `{}` rejected {} again ({}) right after a new session was started; giving up on it",
                        self.context.server(),
                        message.label(),
                        crate::http::status_label(status)
                    ),
                );
                self.context.fail(&message, &error);
            }
            Err(failure) => {
                let error = failure.into_error(&self.context, &message);
                self.context.fail(&message, &error);
            }
        }
    }

    /// After `notifications/initialized`, opens the GET stream and waits
    /// (briefly) until the server has answered it, so that the stream exists
    /// before the first request: a server may send that request's answer on
    /// it when the request's own stream is cut.
    async fn after_sent(self: &Arc<Self>, message: &Outgoing) {
        if message.is_initialized_notification() {
            let opened = self.listen();
            let _ = tokio::time::timeout(LISTEN_WAIT, opened).await;
        }
    }

    /// Starts a new session unless one was started since `generation`.
    async fn recover(
        self: &Arc<Self>,
        generation: u64,
        status: StatusCode,
    ) -> Result<(), PluginError> {
        let _once = self.recovery.lock().await;
        let initialize = {
            let state = self.state();
            if state.generation != generation {
                return Ok(());
            }
            state.initialize.clone()
        };
        let server = self.context.server().to_owned();
        let lost = format!(
            "MCP server `{server}` no longer knows the session ({})",
            crate::http::status_label(status)
        );
        let Some(initialize) = initialize else {
            return Err(PluginError::new(
                ErrorKind::Unavailable,
                format!("{lost} and no `initialize` was sent to start a new one"),
            ));
        };
        self.context
            .log(LogLevel::Info, "the session expired; starting a new one");
        self.stop_listening();
        let failed = |error: PluginError| {
            PluginError::new(
                error.kind,
                format!(
                    "{lost}, and starting a new session failed: {}",
                    error.message
                ),
            )
        };
        let answer = self
            .exchange(&initialize, true)
            .await
            .map_err(|failure| failed(failure.into_error(&self.context, &initialize)))?;
        if answer
            .as_deref()
            .and_then(message::protocol_version)
            .is_none()
        {
            return Err(failed(PluginError::new(
                ErrorKind::Protocol,
                "the server did not accept the repeated `initialize`".to_owned(),
            )));
        }
        let initialized = Outgoing::initialized_notification();
        self.exchange(&initialized, false)
            .await
            .map_err(|failure| failed(failure.into_error(&self.context, &initialized)))?;
        self.context.log(
            LogLevel::Info,
            "started a new session after the old one expired",
        );
        // Nothing waits for it here: the request that found the session
        // gone is resent right away.
        drop(self.listen());
        Ok(())
    }

    /// POSTs `message` and reads the answer, delivering what arrives. With
    /// `swallow`, the answer to the request is returned instead of delivered.
    async fn exchange(&self, message: &Outgoing, swallow: bool) -> Result<Option<String>, Failure> {
        let context = &self.context;
        let http = &context.http;
        let (session_id, generation, mut headers) = {
            let state = self.state();
            let mut headers = vec![
                (CONTENT_TYPE, HeaderValue::from_static("application/json")),
                (
                    ACCEPT,
                    HeaderValue::from_static("application/json, text/event-stream"),
                ),
            ];
            // `initialize` starts a session; it never carries an old one.
            let session_id = if message.is_initialize() {
                None
            } else {
                state.session_id.clone()
            };
            // A message that names its revision (2026-07-28) is sent under
            // it; others under the one `initialize` negotiated.
            let own_version = message.protocol_version.as_deref().and_then(header);
            if let Some(version) = own_version {
                headers.push((PROTOCOL_VERSION, version));
            } else if !message.is_initialize()
                && let Some(version) = &state.protocol_version
            {
                headers.push((PROTOCOL_VERSION, version.clone()));
            }
            (session_id, state.generation, headers)
        };
        if let Some(id) = &session_id {
            headers.push((SESSION_ID, id.clone()));
        }
        headers.extend(message.routing_headers());
        let mut response = http
            .execute(Method::POST, &http.url, headers, Some(&message.text))
            .await
            .map_err(Failure::Other)?;
        let status = response.status();
        if status.is_success() {
            if message.is_initialize() {
                self.take_session(&response)?;
            }
            return self.read_answer(response, message, swallow).await;
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(Failure::Other(http.unauthorized(status)));
        }
        if session_id.is_some() && status == StatusCode::NOT_FOUND {
            return Err(Failure::SessionGone { generation, status });
        }
        let snippet = http.snippet(&mut response).await;
        if session_id.is_some()
            && status == StatusCode::BAD_REQUEST
            && snippet.to_ascii_lowercase().contains("session")
        {
            return Err(Failure::SessionGone { generation, status });
        }
        Err(Failure::Status {
            status,
            error: http.status_error(status, &snippet, &message.label()),
        })
    }

    /// Keeps the session id of an `initialize` answer (none: a stateless server).
    fn take_session(&self, response: &Response) -> Result<(), Failure> {
        let id = match response.headers().get(&SESSION_ID) {
            None => None,
            Some(value) => Some(
                value
                    .to_str()
                    .ok()
                    .and_then(header)
                    .ok_or_else(|| {
                        Failure::Other(PluginError::new(
                            ErrorKind::Protocol,
                            format!(
                                "MCP server `{}` sent an invalid MCP-Session-Id header (it must be visible ASCII)",
                                self.context.server()
                            ),
                        ))
                    })?,
            ),
        };
        let mut state = self.state();
        state.session_id = id;
        state.generation += 1;
        Ok(())
    }

    async fn read_answer(
        &self,
        mut response: Response,
        message: &Outgoing,
        swallow: bool,
    ) -> Result<Option<String>, Failure> {
        let http = &self.context.http;
        if matches!(
            response.status(),
            StatusCode::ACCEPTED | StatusCode::NO_CONTENT
        ) {
            return Ok(None);
        }
        let media = media_type(&response).unwrap_or_default();
        if media == EVENT_STREAM {
            return self.read_events(response, message, swallow).await;
        }
        if !is_json(&media) {
            let snippet = http.snippet(&mut response).await;
            if snippet.is_empty() {
                return Ok(None);
            }
            return Err(Failure::Other(PluginError::new(
                ErrorKind::Protocol,
                format!(
                    "MCP server `{}` answered {} with Content-Type `{media}`, expected application/json or text/event-stream: {snippet}",
                    self.context.server(),
                    message.label()
                ),
            )));
        }
        let body = match read_limited(&mut response, MAX_BODY_BYTES).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                return Err(Failure::Other(PluginError::new(
                    ErrorKind::Protocol,
                    format!(
                        "MCP server `{}` answered {} with a body larger than {} MiB; it was refused",
                        self.context.server(),
                        message.label(),
                        MAX_BODY_BYTES / (1024 * 1024)
                    ),
                )));
            }
            Err(BodyError::Read(error)) => {
                return Err(Failure::Other(http.transport_error(&http.url, &error)));
            }
        };
        let text = String::from_utf8_lossy(&body);
        if text.trim().is_empty() {
            return Ok(None);
        }
        let Some(messages) = message::split_batch(&text) else {
            return Err(Failure::Other(PluginError::new(
                ErrorKind::Protocol,
                format!(
                    "MCP server `{}` answered {} with a body that is not JSON: {}",
                    self.context.server(),
                    message.label(),
                    http.shorten(&text)
                ),
            )));
        };
        let mut answer = None;
        let mut answered = false;
        for text in messages {
            answered |= self.incoming(text, message, swallow, &mut answer);
        }
        if message.awaited_id().is_some() && !answered {
            return Err(Failure::Other(PluginError::new(
                ErrorKind::Protocol,
                format!(
                    "MCP server `{}` answered {} with JSON that holds no response to it: {}",
                    self.context.server(),
                    message.label(),
                    http.shorten(&text)
                ),
            )));
        }
        Ok(answer)
    }

    /// Handles one incoming message; `true` when it answers `message`.
    fn incoming(
        &self,
        text: String,
        message: &Outgoing,
        swallow: bool,
        answer: &mut Option<String>,
    ) -> bool {
        let answered = match message.awaited_id() {
            Some(id) => message::inspect(&text)
                .and_then(|incoming| incoming.response_to)
                .is_some_and(|response_to| &response_to == id),
            None => false,
        };
        if answered && message.is_initialize() {
            self.state().protocol_version =
                message::protocol_version(&text).as_deref().and_then(header);
        }
        if answered && swallow {
            *answer = Some(text);
        } else if answered {
            self.context.deliver(text);
        } else if let Some(request) = message.awaited_id() {
            // Sent on this request's stream: it is of this request.
            self.context
                .deliver(message::with_related_request(text, request));
        } else {
            self.context.deliver(text);
        }
        answered
    }

    /// Reads an event-stream answer, resuming it if it ends too soon.
    async fn read_events(
        &self,
        mut response: Response,
        message: &Outgoing,
        swallow: bool,
    ) -> Result<Option<String>, Failure> {
        let context = &self.context;
        let mut parser = SseParser::new(MAX_EVENT_BYTES);
        let mut answer = None;
        let mut idle = 0;
        let mut resumes = 0;
        loop {
            let pumped = pump(
                &mut response,
                &mut parser,
                &mut |text| self.incoming(text, message, swallow, &mut answer),
                &mut |name, _| {
                    context.log(
                        LogLevel::Debug,
                        &format!("ignored an event of type `{name}`"),
                    )
                },
            )
            .await;
            let progressed = match pumped {
                Pumped::Done => return Ok(answer),
                Pumped::TooLarge => {
                    return Err(Failure::Other(self.too_large_event()));
                }
                Pumped::Ended { progressed } => progressed,
            };
            if message.awaited_id().is_none() {
                return Ok(answer);
            }
            let ended = format!(
                "MCP server `{}` closed the event stream before answering {}",
                context.server(),
                message.label()
            );
            let Some(last_id) = parser.last_event_id().map(str::to_owned) else {
                return Err(Failure::Other(PluginError::new(
                    ErrorKind::Unavailable,
                    format!("{ended}, and sent no event id to resume from"),
                )));
            };
            idle = if progressed { 0 } else { idle + 1 };
            resumes += 1;
            if idle > MAX_IDLE_RESUMES || resumes > MAX_RESUMES {
                return Err(Failure::Other(PluginError::new(
                    ErrorKind::Unavailable,
                    format!(
                        "{ended}; gave up after {} attempts to resume it",
                        resumes - 1
                    ),
                )));
            }
            tokio::time::sleep(parser.retry().unwrap_or(DEFAULT_RETRY).min(MAX_RETRY)).await;
            context.log(
                LogLevel::Debug,
                &format!("resuming the event stream of {}", message.label()),
            );
            response = self.open_stream(Some(&last_id)).await.map_err(|error| {
                Failure::Other(PluginError::new(
                    error.kind,
                    format!("{ended}; resuming it failed: {}", error.message),
                ))
            })?;
            parser.restart();
        }
    }

    fn too_large_event(&self) -> PluginError {
        PluginError::new(
            ErrorKind::Protocol,
            format!(
                "MCP server `{}` sent an event larger than {} MiB; it was refused",
                self.context.server(),
                MAX_EVENT_BYTES / (1024 * 1024)
            ),
        )
    }

    /// Opens a GET event stream, resuming after `last_event_id` if given.
    async fn open_stream(&self, last_event_id: Option<&str>) -> Result<Response, PluginError> {
        let http = &self.context.http;
        let mut headers = vec![(ACCEPT, HeaderValue::from_static(EVENT_STREAM))];
        {
            let state = self.state();
            if let Some(id) = &state.session_id {
                headers.push((SESSION_ID, id.clone()));
            }
            if let Some(version) = &state.protocol_version {
                headers.push((PROTOCOL_VERSION, version.clone()));
            }
        }
        if let Some(last) = last_event_id.and_then(|id| HeaderValue::from_str(id).ok()) {
            headers.push((LAST_EVENT_ID, last));
        }
        let mut response = http.execute(Method::GET, &http.url, headers, None).await?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(http.unauthorized(status));
        }
        if !status.is_success() {
            let snippet = http.snippet(&mut response).await;
            return Err(http.status_error(status, &snippet, "the GET for its event stream"));
        }
        let media = media_type(&response).unwrap_or_default();
        if media != EVENT_STREAM {
            return Err(PluginError::new(
                ErrorKind::Protocol,
                format!(
                    "MCP server `{}` answered the GET for its event stream with Content-Type `{media}`, not {EVENT_STREAM}",
                    self.context.server()
                ),
            ));
        }
        Ok(response)
    }

    /// Opens (or reopens) the GET stream for messages the server starts; the
    /// receiver hears when the server has answered the first GET (or failed).
    pub fn listen(self: &Arc<Self>) -> oneshot::Receiver<()> {
        let (opened, answered) = oneshot::channel();
        let me = Arc::clone(self);
        let task = tokio::spawn(async move { me.listen_loop(opened).await });
        let mut listener = self.listener.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = listener.replace(task) {
            old.abort();
        }
        answered
    }

    fn stop_listening(&self) {
        let mut listener = self.listener.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = listener.take() {
            old.abort();
        }
    }

    async fn listen_loop(&self, opened: oneshot::Sender<()>) {
        let mut opened = Some(opened);
        let context = &self.context;
        let generation = self.state().generation;
        let mut parser = SseParser::new(MAX_EVENT_BYTES);
        let mut failures = 0;
        loop {
            if self.state().generation != generation {
                return;
            }
            let stream = self.open_stream(parser.last_event_id()).await;
            if let Some(opened) = opened.take() {
                let _ = opened.send(());
            }
            match stream {
                Ok(mut response) => {
                    let pumped = pump(
                        &mut response,
                        &mut parser,
                        &mut |text| {
                            context.deliver(text);
                            false
                        },
                        &mut |name, _| {
                            context.log(
                                LogLevel::Debug,
                                &format!("ignored an event of type `{name}` on the GET stream"),
                            )
                        },
                    )
                    .await;
                    match pumped {
                        Pumped::Ended { progressed: true } => failures = 0,
                        Pumped::Ended { progressed: false } | Pumped::Done => failures += 1,
                        Pumped::TooLarge => {
                            context.log(LogLevel::Warn, &self.too_large_event().message);
                            failures += 1;
                        }
                    }
                    parser.restart();
                }
                Err(error) => {
                    // 405 is the usual answer: the server offers no such stream.
                    context.log(
                        LogLevel::Debug,
                        &format!("no GET stream for server messages: {}", error.message),
                    );
                    return;
                }
            }
            if failures >= MAX_LISTEN_FAILURES {
                context.log(
                    LogLevel::Debug,
                    "the GET stream for server messages keeps closing; not reopening it",
                );
                return;
            }
            tokio::time::sleep(parser.retry().unwrap_or(DEFAULT_RETRY).min(MAX_RETRY)).await;
        }
    }

    /// Ends the session on the server (DELETE), if there is one.
    pub async fn terminate(&self) {
        self.stop_listening();
        let http = &self.context.http;
        let mut headers = Vec::new();
        {
            let state = self.state();
            let Some(id) = &state.session_id else {
                return;
            };
            headers.push((SESSION_ID, id.clone()));
            if let Some(version) = &state.protocol_version {
                headers.push((PROTOCOL_VERSION, version.clone()));
            }
        }
        let outcome = match http.execute(Method::DELETE, &http.url, headers, None).await {
            Ok(response) => format!(
                "ended the session: {}",
                crate::http::status_label(response.status())
            ),
            Err(error) => format!("could not end the session: {}", error.message),
        };
        self.context.log(LogLevel::Debug, &outcome);
    }
}
