//! What upstreams send that is not an answer, relayed to the downstream
//! sessions it belongs to.
//!
//! - Progress, elicitations, sampling and roots requests belong to a call:
//!   the host's MCP client ties each to the call that caused it
//!   ([`RelatedCall`]; by its progress token, or as the only call in flight
//!   on that upstream), and each call carries the gateway's [`CallTag`], so
//!   they go to the downstream session and request of that call. When the
//!   client cannot tell (several calls in flight and no progress token),
//!   requests go to the downstream session of those calls when they are
//!   all of one session (its first call's stream or round carries them);
//!   else an elicitation is declined and sampling or roots refused with an
//!   error the upstream reads, rather than risk showing one client
//!   another's, and progress is dropped. A 2025-11-25 client is asked with a request of the
//!   gateway's own; a 2026-07-28 client, which takes no requests, in its
//!   call's `input_required` result ([`crate::rounds`]).
//! - Log messages go to the session of the calls they came during, when the
//!   calls in flight on that upstream are all of one session; else to every
//!   session (they belong to the server).
//! - List changes go to every session and `subscriptions/listen` stream
//!   (after the cached lists of that upstream are dropped); resource
//!   updates only to the sessions and listen streams that subscribed to
//!   that resource.

// Logging, sampling and roots are deprecated by MCP 2026-07-28; 2025-11-25
// servers and clients still use them.
#![allow(deprecated)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use codex_mcp_client::client::{
    CallTag, ClientEvents, Deferred, ElicitationAnswer, ElicitationRequest, ListKind, LogMessage,
    Progress, RelatedCall,
};
use rmcp::model::{
    ClientCapabilities, ClientResult, CreateMessageRequest, CreateMessageRequestParams,
    CreateMessageResult, ElicitRequest, ElicitRequestParams, ElicitationAction, ErrorCode,
    InputRequest, ListRootsRequest, ListRootsResult, LoggingMessageNotificationParam,
    ProgressNotificationParam, ProgressToken, RequestId, ResourceUpdatedNotification,
    ResourceUpdatedNotificationParam, ServerNotification, ServerRequest,
};
use rmcp::service::{OriginatingRequestId, Peer, RequestContext, SubscriptionSink};
use rmcp::{ErrorData as McpError, RoleServer, ServiceError};
use tokio::sync::{mpsc, oneshot};

use crate::lists::ListCache;
use crate::rounds::Question;

/// A downstream session, as the relay knows it.
pub type SessionId = u64;

/// Downstream sessions, each with its peer.
type Sessions = Vec<(SessionId, Peer<RoleServer>)>;

/// Who hears of changes: a 2025-11-25 session (it subscribed with
/// `resources/subscribe`), or a 2026-07-28 client's `subscriptions/listen`
/// stream, whose sink sends only what the client asked for.
#[derive(Clone)]
pub enum Listener {
    Session(Peer<RoleServer>),
    Listen(SubscriptionSink),
}

impl Listener {
    /// Whether it can hear no more. A listen stream is taken off when its
    /// request ends, so it never counts as gone before.
    fn is_gone(&self) -> bool {
        match self {
            Listener::Session(peer) => peer.is_transport_closed(),
            Listener::Listen(_) => false,
        }
    }

    async fn notify(&self, notification: ServerNotification) {
        match self {
            Listener::Session(peer) => {
                let _ = peer.send_notification(notification).await;
            }
            // A change the client did not ask for is not sent.
            Listener::Listen(sink) => {
                let _ = sink.send(notification).await;
            }
        }
    }
}

/// The downstream sessions that are connected now, the calls in flight and
/// the resources each session subscribed to.
#[derive(Default)]
pub struct Relay {
    sessions: Mutex<Sessions>,
    /// The `subscriptions/listen` streams open now, by their session.
    listens: Mutex<Vec<(SessionId, SubscriptionSink)>>,
    calls: Mutex<Vec<InFlight>>,
    /// Resource URI to the sessions subscribed to it.
    subscriptions: Mutex<BTreeMap<String, Vec<(SessionId, Listener)>>>,
    next_call: AtomicU64,
    next_session: AtomicU64,
}

/// One downstream call being served by an upstream.
#[derive(Clone)]
struct InFlight {
    tag: CallTag,
    peer: Peer<RoleServer>,
    /// The downstream request's id: requests for it are sent on its stream.
    request_id: RequestId,
    /// The downstream request's progress token, if it asked for progress.
    progress_token: Option<ProgressToken>,
    /// What the client of the call offers (sampling, elicitation, roots).
    offers: ClientCapabilities,
    /// The upstream serving it.
    server: String,
    /// The downstream session it is a call of.
    session: SessionId,
    asking: Asking,
}

/// How an upstream's questions reach the client of a call.
#[derive(Clone)]
pub enum Asking {
    /// As requests of the gateway's own (MCP 2025-11-25 and before).
    Requests,
    /// In the call's `input_required` result, answered when the client
    /// calls again (MCP 2026-07-28, which has no server requests).
    Rounds(mpsc::UnboundedSender<Question>),
}

/// Ends the record of a call in flight when the call ends.
pub struct CallGuard {
    relay: Arc<Relay>,
    tag: CallTag,
}

impl CallGuard {
    /// The tag the upstream call carries.
    pub fn tag(&self) -> CallTag {
        self.tag
    }
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        lock(&self.relay.calls).retain(|call| call.tag != self.tag);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Relay {
    /// A number for a new downstream session.
    pub fn new_session(&self) -> SessionId {
        self.next_session.fetch_add(1, Ordering::Relaxed)
    }

    /// A downstream session finished its handshake.
    pub fn add(&self, session: SessionId, peer: Peer<RoleServer>) {
        let mut sessions = lock(&self.sessions);
        sessions.retain(|(_, peer)| !peer.is_transport_closed());
        sessions.push((session, peer));
    }

    /// Records the call of `context` until the guard is dropped; the
    /// upstream's questions reach its client as `asking` says.
    pub fn begin(
        self: &Arc<Self>,
        context: &RequestContext<RoleServer>,
        (server, session): (&str, SessionId),
        asking: Asking,
    ) -> CallGuard {
        let tag = CallTag(self.next_call.fetch_add(1, Ordering::Relaxed));
        lock(&self.calls).push(InFlight {
            tag,
            peer: context.peer.clone(),
            request_id: context.id.clone(),
            progress_token: context.meta.get_progress_token(),
            offers: context.client_capabilities().unwrap_or_default(),
            server: server.to_string(),
            session,
            asking,
        });
        CallGuard {
            relay: self.clone(),
            tag,
        }
    }

    /// The downstream call an upstream event belongs to, as the client
    /// tied it.
    fn call_of(&self, related: Option<&RelatedCall>) -> Option<InFlight> {
        let tag = related?.tag?;
        lock(&self.calls)
            .iter()
            .find(|call| call.tag == tag)
            .cloned()
    }

    /// The call whose client is to be asked what `server` asks: the one
    /// the client tied it to; else, when every call in flight on `server`
    /// is of one downstream session, the first of them (the question is
    /// that session's, whichever of its calls caused it).
    fn caller_of(&self, server: &str, related: Option<&RelatedCall>) -> Option<InFlight> {
        if related.is_some_and(|related| related.tag.is_some()) {
            return self.call_of(related);
        }
        let calls = lock(&self.calls);
        let mut on_server = calls.iter().filter(|call| call.server == server);
        let first = on_server.next()?;
        on_server
            .all(|call| call.session == first.session)
            .then(|| first.clone())
    }

    /// `session` subscribes to `uri`; whether it is the first session to
    /// (then the upstream is asked to subscribe).
    pub fn subscribe(&self, session: SessionId, listener: Listener, uri: &str) -> bool {
        let mut subscriptions = lock(&self.subscriptions);
        let subscribers = subscriptions.entry(uri.to_string()).or_default();
        subscribers.retain(|(_, listener)| !listener.is_gone());
        let first = subscribers.is_empty();
        if !subscribers.iter().any(|(held, _)| *held == session) {
            subscribers.push((session, listener));
        }
        first
    }

    /// A `subscriptions/listen` stream of `session` opened: it hears list
    /// changes (those it asked for) until [`Relay::end_listen`].
    pub fn listen(&self, session: SessionId, sink: SubscriptionSink) {
        lock(&self.listens).push((session, sink));
    }

    /// The listen stream of `session` ended.
    pub fn end_listen(&self, session: SessionId) {
        lock(&self.listens).retain(|(held, _)| *held != session);
    }

    /// `session` unsubscribes from `uri`; whether no session is left
    /// subscribed (then the upstream is asked to unsubscribe).
    pub fn unsubscribe(&self, session: SessionId, uri: &str) -> bool {
        let mut subscriptions = lock(&self.subscriptions);
        let Some(subscribers) = subscriptions.get_mut(uri) else {
            return false;
        };
        let before = subscribers.len();
        subscribers.retain(|(held, listener)| *held != session && !listener.is_gone());
        let last = subscribers.is_empty() && before > 0;
        if subscribers.is_empty() {
            subscriptions.remove(uri);
        }
        last
    }

    /// `session` is gone: it is taken off every resource it subscribed to;
    /// the resources no session is left subscribed to (the upstream is then
    /// asked to unsubscribe).
    pub fn end_session(&self, session: SessionId) -> Vec<String> {
        let mut subscriptions = lock(&self.subscriptions);
        let mut released = Vec::new();
        subscriptions.retain(|uri, subscribers| {
            let held = subscribers.iter().any(|(id, _)| *id == session);
            subscribers.retain(|(id, listener)| *id != session && !listener.is_gone());
            if subscribers.is_empty() {
                if held {
                    released.push(uri.clone());
                }
                return false;
            }
            true
        });
        released
    }

    fn subscribers(&self, uri: &str) -> Vec<Listener> {
        let mut subscriptions = lock(&self.subscriptions);
        let Some(subscribers) = subscriptions.get_mut(uri) else {
            return Vec::new();
        };
        subscribers.retain(|(_, listener)| !listener.is_gone());
        subscribers
            .iter()
            .map(|(_, listener)| listener.clone())
            .collect()
    }

    fn live(&self) -> Vec<Peer<RoleServer>> {
        let mut sessions = lock(&self.sessions);
        sessions.retain(|(_, peer)| !peer.is_transport_closed());
        sessions.iter().map(|(_, peer)| peer.clone()).collect()
    }

    /// Every session and listen stream that hears list changes.
    fn hearing_list_changes(&self) -> Vec<Listener> {
        let mut hearing: Vec<Listener> = self.live().into_iter().map(Listener::Session).collect();
        hearing.extend(
            lock(&self.listens)
                .iter()
                .map(|(_, sink)| Listener::Listen(sink.clone())),
        );
        hearing
    }
}

/// The events of one upstream session, relayed through [`Relay`].
pub struct UpstreamEvents {
    pub relay: Arc<Relay>,
    /// The upstream's cached lists, dropped when it says one changed.
    pub lists: Arc<ListCache>,
}

/// How long a downstream client may take to answer an upstream's question.
const CLIENT_WAIT: Duration = Duration::from_secs(600);

/// Why a server's request cannot be passed on: no call of one client can
/// be told to have caused it.
fn no_caller(server: &str, what: &str) -> McpError {
    McpError::invalid_request(
        format!(
            "{what} from MCP server `{server}` was refused by the gateway: it cannot tell which \
             of its clients' calls it belongs to (no call is in flight on this server, or calls \
             of several clients are)"
        ),
        None,
    )
}

/// Why a server's request was refused: the client of its call does not
/// offer that capability.
fn not_offered(server: &str, what: &str, capability: &str) -> McpError {
    McpError::new(
        ErrorCode::METHOD_NOT_FOUND,
        format!(
            "{what} from MCP server `{server}` was refused by the gateway: the client whose call \
             caused it does not offer `{capability}`"
        ),
        None,
    )
}

/// Asks the client of `call` and waits for the answer: as a request of
/// the gateway's, on the stream of its call (for HTTP clients), or in its
/// call's next round.
async fn ask(
    call: &InFlight,
    server: &str,
    what: &str,
    request: ServerRequest,
) -> Result<ClientResult, McpError> {
    match &call.asking {
        Asking::Requests => ask_by_request(call, server, what, request).await,
        Asking::Rounds(questions) => ask_in_round(questions, server, what, request).await,
    }
}

async fn ask_in_round(
    questions: &mpsc::UnboundedSender<Question>,
    server: &str,
    what: &str,
    request: ServerRequest,
) -> Result<ClientResult, McpError> {
    let unanswered = |why: &str| {
        McpError::internal_error(
            format!("the gateway's client did not answer {what} of MCP server `{server}`: {why}"),
            None,
        )
    };
    // The question, and how to read its answer.
    type Parse = fn(serde_json::Value) -> Result<ClientResult, serde_json::Error>;
    let (input, parse): (InputRequest, Parse) = match request {
        ServerRequest::ElicitRequest(request) => (InputRequest::Elicitation(request), |value| {
            serde_json::from_value(value).map(ClientResult::ElicitResult)
        }),
        ServerRequest::CreateMessageRequest(request) => {
            (InputRequest::CreateMessage(request), |value| {
                serde_json::from_value(value)
                    .map(|result| ClientResult::CreateMessageResult(Box::new(result)))
            })
        }
        ServerRequest::ListRootsRequest(request) => (InputRequest::ListRoots(request), |value| {
            serde_json::from_value(value).map(ClientResult::ListRootsResult)
        }),
        _ => return Err(unanswered("it cannot be asked in an input_required result")),
    };
    let (answer, answered) = oneshot::channel();
    questions
        .send(Question { input, answer })
        .map_err(|_| unanswered("its call has ended"))?;
    let value = match tokio::time::timeout(CLIENT_WAIT, answered).await {
        Ok(Ok(value)) => value,
        Ok(Err(_)) => return Err(unanswered("it called again without an answer, or gave up")),
        Err(_) => {
            return Err(unanswered(&format!(
                "not within {} s",
                CLIENT_WAIT.as_secs()
            )));
        }
    };
    parse(value).map_err(|error| unanswered(&format!("its answer is not a {what} result: {error}")))
}

/// Sends `request` to the client of `call`, on the stream of its call
/// (for HTTP clients), and waits for the answer.
async fn ask_by_request(
    call: &InFlight,
    server: &str,
    what: &str,
    mut request: ServerRequest,
) -> Result<ClientResult, McpError> {
    use rmcp::model::GetExtensions;
    request
        .extensions_mut()
        .insert(OriginatingRequestId(call.request_id.clone()));
    match tokio::time::timeout(CLIENT_WAIT, call.peer.send_request(request)).await {
        Ok(Ok(result)) => Ok(result),
        // The client's own refusal reaches the server as the client said it.
        Ok(Err(ServiceError::McpError(error))) => Err(error),
        Ok(Err(other)) => Err(McpError::internal_error(
            format!("the gateway's client did not answer {what} of MCP server `{server}`: {other}"),
            None,
        )),
        Err(_) => Err(McpError::internal_error(
            format!(
                "the gateway's client did not answer {what} of MCP server `{server}` within {} s",
                CLIENT_WAIT.as_secs()
            ),
            None,
        )),
    }
}

impl ClientEvents for UpstreamEvents {
    fn call_progress(&self, _server: &str, related: Option<&RelatedCall>, progress: &Progress) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Some(InFlight {
            peer,
            progress_token: Some(token),
            ..
        }) = self.relay.call_of(related)
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

    fn call_elicit(
        &self,
        server: &str,
        related: Option<&RelatedCall>,
        request: &ElicitationRequest,
    ) -> ElicitationAnswer {
        // Runs on a blocking thread of the runtime, so it may wait here.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return ElicitationAnswer::Decline;
        };
        let Some(call) = self.relay.caller_of(server, related) else {
            return ElicitationAnswer::Decline;
        };
        if call.offers.elicitation.is_none() {
            return ElicitationAnswer::Decline;
        }
        let params: ElicitRequestParams = match serde_json::from_value(serde_json::json!({
            "mode": "form",
            "message": request.message,
            "requestedSchema": request.schema,
        })) {
            Ok(params) => params,
            Err(_) => return ElicitationAnswer::Decline,
        };
        let request = ServerRequest::ElicitRequest(ElicitRequest::new(params));
        let asked = runtime.block_on(ask(&call, server, "elicitation/create", request));
        match asked {
            Ok(ClientResult::ElicitResult(result)) => match result.action {
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

    fn offers_sampling(&self) -> bool {
        // Offered upstream on behalf of the downstream clients; a call whose
        // client does not offer it gets a clear refusal.
        true
    }

    fn sample(
        &self,
        server: &str,
        related: Option<&RelatedCall>,
        request: CreateMessageRequestParams,
    ) -> Deferred<Result<CreateMessageResult, McpError>> {
        const WHAT: &str = "sampling/createMessage";
        let call = self.relay.caller_of(server, related);
        let server = server.to_string();
        Box::pin(async move {
            let Some(call) = call else {
                return Err(no_caller(&server, WHAT));
            };
            if call.offers.sampling.is_none() {
                return Err(not_offered(&server, WHAT, "sampling"));
            }
            let request = ServerRequest::CreateMessageRequest(CreateMessageRequest::new(request));
            match ask(&call, &server, WHAT, request).await? {
                ClientResult::CreateMessageResult(result) => Ok(*result),
                other => Err(McpError::internal_error(
                    format!(
                        "the gateway's client answered {WHAT} of MCP server `{server}` with something else: {}",
                        serde_json::to_string(&other).unwrap_or_default()
                    ),
                    None,
                )),
            }
        })
    }

    fn list_roots(
        &self,
        server: &str,
        related: Option<&RelatedCall>,
        _configured: ListRootsResult,
    ) -> Deferred<Result<ListRootsResult, McpError>> {
        const WHAT: &str = "roots/list";
        let call = self.relay.caller_of(server, related);
        let server = server.to_string();
        Box::pin(async move {
            let Some(call) = call else {
                return Err(no_caller(&server, WHAT));
            };
            if call.offers.roots.is_none() {
                return Err(not_offered(&server, WHAT, "roots"));
            }
            let request = ServerRequest::ListRootsRequest(ListRootsRequest::default());
            match ask(&call, &server, WHAT, request).await? {
                ClientResult::ListRootsResult(result) => Ok(result),
                other => Err(McpError::internal_error(
                    format!(
                        "the gateway's client answered {WHAT} of MCP server `{server}` with something else: {}",
                        serde_json::to_string(&other).unwrap_or_default()
                    ),
                    None,
                )),
            }
        })
    }

    fn call_log_message(&self, server: &str, related: Option<&RelatedCall>, message: &LogMessage) {
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
        let peers = match self.relay.caller_of(server, related) {
            Some(call) => vec![call.peer],
            None => self.relay.live(),
        };
        for peer in peers {
            let params = params.clone();
            runtime.spawn(async move {
                let _ = peer.notify_logging_message(params).await;
            });
        }
    }

    fn list_changed(&self, _server: &str, list: ListKind) {
        self.lists.changed(list);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        for listener in self.relay.hearing_list_changes() {
            let notification = match list {
                ListKind::Tools => {
                    ServerNotification::ToolListChangedNotification(Default::default())
                }
                ListKind::Prompts => {
                    ServerNotification::PromptListChangedNotification(Default::default())
                }
                ListKind::Resources => {
                    ServerNotification::ResourceListChangedNotification(Default::default())
                }
            };
            runtime.spawn(async move { listener.notify(notification).await });
        }
    }

    fn resource_updated(&self, _server: &str, uri: &str) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        for listener in self.relay.subscribers(uri) {
            let notification =
                ServerNotification::ResourceUpdatedNotification(ResourceUpdatedNotification::new(
                    ResourceUpdatedNotificationParam::new(uri.to_string()),
                ));
            runtime.spawn(async move { listener.notify(notification).await });
        }
    }
}
