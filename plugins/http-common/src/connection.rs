//! One connection: a private tokio runtime, the task that sends the host's
//! messages in order, and a bounded `close`.
//!
//! The runtime belongs to the connection (no tokio handle crosses the plugin
//! boundary) and is shut down by `close`, which cancels every request and
//! stream in flight: a silent server cannot keep a thread of ours.
//!
//! Routing: the first message decides the transport. Streamable HTTP sends
//! requests concurrently (a slow tool call does not hold up the next one) but
//! waits for each notification and response to be accepted, so that
//! `notifications/initialized` reaches the server before the next request.

use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use codex_plugin_api::{
    Connection, ErrorKind, HostServices, LogLevel, MessageSink, PluginError, PluginResult,
};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

use crate::authorize::Authorizer;
use crate::config::HttpConfig;
use crate::context::Context;
use crate::gate::Gate;
use crate::http::{Http, status_label};
use crate::legacy::Legacy;
use crate::message::{Kind, Outgoing};
use crate::streamable::{Failure, Streamable};

/// How long `close` waits for the DELETE that ends the session.
pub const DELETE_WAIT: Duration = Duration::from_secs(2);
/// How long `close` waits for the runtime's threads once everything is cancelled.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(1);
/// How long a notification or response may take to be accepted before the
/// next message goes out anyway.
const ACCEPT_WAIT: Duration = Duration::from_secs(30);

/// Which transport a connection starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Streamable HTTP, falling back to HTTP+SSE when the first POST gets 400, 404 or 405.
    Streamable,
    /// HTTP+SSE only.
    Legacy,
}

/// Where messages go once the first one has found out.
#[derive(Clone)]
enum Route {
    Undecided,
    Streamable(Arc<Streamable>),
    Legacy(Arc<Legacy>),
}

/// A connection to one HTTP MCP server.
pub struct HttpConnection {
    context: Arc<Context>,
    route: Arc<Mutex<Route>>,
    outgoing: Mutex<Option<mpsc::UnboundedSender<Outgoing>>>,
    runtime: Mutex<Option<Runtime>>,
}

/// Reads the environment, builds the client and starts the sending task.
/// Nothing goes over the network until the host sends its first message.
/// With an `authorizer`, every request carries its `Authorization` header.
pub fn open(
    server: &str,
    config: &HttpConfig,
    mode: Mode,
    timeout: Duration,
    host: HostServices,
    sink: MessageSink,
    authorizer: Option<Arc<dyn Authorizer>>,
) -> PluginResult<HttpConnection> {
    let headers = config.resolve_headers(server, |name| std::env::var_os(name))?;
    for (header, variable) in &headers.omitted {
        host.log(
            LogLevel::Debug,
            &format!(
                "MCP server `{server}`: header `{header}` left out because environment variable {variable} is unset or empty"
            ),
        );
    }
    let http = Http::new(server, config.url.clone(), headers, timeout)?.with_authorizer(authorizer);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(2)
        .thread_name("mcp-http")
        .enable_all()
        .build()
        .map_err(|error| {
            PluginError::internal(format!(
                "cannot start the HTTP runtime for MCP server `{server}`: {error}"
            ))
        })?;
    let context = Arc::new(Context::new(http, Gate::new(sink), host));
    let route = Arc::new(Mutex::new(Route::Undecided));
    let (sender, receiver) = mpsc::unbounded_channel();
    runtime.spawn(dispatch(
        Arc::clone(&context),
        Arc::clone(&route),
        receiver,
        mode,
        timeout,
    ));
    Ok(HttpConnection {
        context,
        route,
        outgoing: Mutex::new(Some(sender)),
        runtime: Mutex::new(Some(runtime)),
    })
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl HttpConnection {
    fn closed_error(&self) -> PluginError {
        PluginError::new(
            ErrorKind::Unavailable,
            format!(
                "the connection to MCP server `{}` is closed",
                self.context.server()
            ),
        )
    }

    /// Ends the session, cancels everything, reports `closed`; the first call does the work.
    fn shutdown(&self) {
        let Some(runtime) = lock(&self.runtime).take() else {
            return;
        };
        self.context.start_closing();
        drop(lock(&self.outgoing).take());
        let route = lock(&self.route).clone();
        if let Route::Streamable(streamable) = route {
            // Run on the connection's runtime and wait here with a deadline,
            // which works whatever runtime (if any) the caller is on.
            let (done, finished) = std_mpsc::channel();
            runtime.spawn(async move {
                let _ = tokio::time::timeout(DELETE_WAIT, streamable.terminate()).await;
                let _ = done.send(());
            });
            let _ = finished.recv_timeout(DELETE_WAIT + Duration::from_millis(200));
        }
        if tokio::runtime::Handle::try_current().is_ok() {
            runtime.shutdown_background();
        } else {
            runtime.shutdown_timeout(SHUTDOWN_WAIT);
        }
        self.context.gate.finish(PluginError::new(
            ErrorKind::Unavailable,
            format!(
                "the connection to MCP server `{}` was closed",
                self.context.server()
            ),
        ));
    }
}

impl Connection for HttpConnection {
    fn send(&self, message: &str) -> PluginResult<()> {
        if self.context.gate.is_finished() {
            return Err(self.closed_error());
        }
        let message = Outgoing::parse(message)?;
        match lock(&self.outgoing).as_ref() {
            Some(sender) => sender.send(message).map_err(|_| self.closed_error()),
            None => Err(self.closed_error()),
        }
    }

    fn close(&self) -> PluginResult<()> {
        self.shutdown();
        Ok(())
    }
}

impl Drop for HttpConnection {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Sends the host's messages in order until the host closes.
async fn dispatch(
    context: Arc<Context>,
    route: Arc<Mutex<Route>>,
    mut receiver: mpsc::UnboundedReceiver<Outgoing>,
    mode: Mode,
    timeout: Duration,
) {
    while let Some(message) = receiver.recv().await {
        if context.gate.is_finished() {
            return;
        }
        let current = lock(&route).clone();
        match current {
            Route::Undecided => match start(&context, mode, timeout, message).await {
                Some(next) => *lock(&route) = next,
                None => return,
            },
            Route::Streamable(streamable) => {
                if message.kind == Kind::Request {
                    tokio::spawn(async move { streamable.handle(message).await });
                } else {
                    let label = message.label();
                    if tokio::time::timeout(ACCEPT_WAIT, streamable.handle(message))
                        .await
                        .is_err()
                    {
                        context.log(
                            LogLevel::Warn,
                            &format!(
                                "{label} was not accepted within {} s; sending the next message anyway",
                                ACCEPT_WAIT.as_secs()
                            ),
                        );
                    }
                }
            }
            Route::Legacy(legacy) => {
                let label = message.label();
                if tokio::time::timeout(ACCEPT_WAIT, legacy.handle(message))
                    .await
                    .is_err()
                {
                    context.log(
                        LogLevel::Warn,
                        &format!(
                            "{label} was not accepted within {} s; sending the next message anyway",
                            ACCEPT_WAIT.as_secs()
                        ),
                    );
                }
            }
        }
    }
}

/// Sends the first message and settles the route; `None` when the
/// connection ended.
async fn start(
    context: &Arc<Context>,
    mode: Mode,
    timeout: Duration,
    message: Outgoing,
) -> Option<Route> {
    if mode == Mode::Legacy {
        return start_legacy(context, timeout, message, None).await;
    }
    let streamable = Arc::new(Streamable::new(Arc::clone(context)));
    if message.is_discover() {
        // Either way the connection goes on: a 2026-07-28 server is used
        // without a session, an earlier one gets `initialize` next.
        return Some(if streamable.discover(&message).await {
            Route::Streamable(streamable)
        } else {
            Route::Undecided
        });
    }
    match streamable.first(&message).await {
        Ok(()) => Some(Route::Streamable(streamable)),
        Err(Failure::Status { status, error }) if matches!(status.as_u16(), 400 | 404 | 405) => {
            context.log(
                LogLevel::Info,
                &format!(
                    "{} answered {}; trying the HTTP+SSE transport",
                    message.label(),
                    status_label(status)
                ),
            );
            start_legacy(context, timeout, message, Some(error)).await
        }
        Err(failure) => {
            context.end(failure.into_error(context, &message));
            None
        }
    }
}

async fn start_legacy(
    context: &Arc<Context>,
    timeout: Duration,
    message: Outgoing,
    streamable_error: Option<PluginError>,
) -> Option<Route> {
    match Legacy::open(Arc::clone(context), timeout).await {
        Ok(legacy) => {
            let legacy = Arc::new(legacy);
            legacy.handle(message).await;
            Some(Route::Legacy(legacy))
        }
        Err(error) => {
            let reason = match streamable_error {
                None => error,
                Some(first) => {
                    // One subject per message: the server is named once.
                    let prefix = format!("MCP server `{}` ", context.server());
                    let second = error.message.as_str();
                    let second = second.strip_prefix(prefix.as_str()).unwrap_or(second);
                    PluginError::new(
                        first.kind,
                        format!(
                            "{}; the HTTP+SSE transport did not work either: {second}",
                            first.message
                        ),
                    )
                }
            };
            context.end(reason);
            None
        }
    }
}
