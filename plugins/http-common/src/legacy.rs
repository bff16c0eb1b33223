//! The HTTP+SSE transport of MCP 2024-11-05, for servers that predate
//! streamable HTTP: a GET opens an event stream whose first event,
//! `endpoint`, names where to POST messages; every answer arrives on the
//! stream as a `message` event.

use std::sync::Arc;
use std::time::Duration;

use codex_plugin_api::{ErrorKind, LogLevel, PluginError, PluginResult};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, Response, StatusCode, Url};
use tokio::task::JoinHandle;

use crate::config::display_url;
use crate::context::Context;
use crate::events::{Pumped, pump};
use crate::http::{EVENT_STREAM, MAX_EVENT_BYTES, media_type};
use crate::message::Outgoing;
use crate::sse::{SseError, SseParser};

/// One HTTP+SSE connection.
pub struct Legacy {
    context: Arc<Context>,
    endpoint: Url,
    reader: JoinHandle<()>,
}

impl Drop for Legacy {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Legacy {
    /// Opens the event stream at the configured URL and waits up to `wait`
    /// for its `endpoint` event; then reads the stream in a task of its own.
    pub async fn open(context: Arc<Context>, wait: Duration) -> PluginResult<Legacy> {
        let http = &context.http;
        let url = &http.url;
        let mut response = http
            .execute(
                Method::GET,
                url,
                vec![(ACCEPT, HeaderValue::from_static(EVENT_STREAM))],
                None,
            )
            .await?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(http.unauthorized(status));
        }
        if !status.is_success() {
            let snippet = http.snippet(&mut response).await;
            return Err(http.status_error(
                status,
                &snippet,
                "the GET that opens its event stream (HTTP+SSE transport)",
            ));
        }
        let media = media_type(&response).unwrap_or_default();
        if media != EVENT_STREAM {
            return Err(PluginError::new(
                ErrorKind::Protocol,
                format!(
                    "MCP server `{}` answered the GET for its event stream (HTTP+SSE transport) with Content-Type `{media}`, not {EVENT_STREAM}; check the URL",
                    context.server()
                ),
            ));
        }
        let mut parser = SseParser::new(MAX_EVENT_BYTES);
        let endpoint = match tokio::time::timeout(
            wait,
            endpoint(&context, &mut response, &mut parser),
        )
        .await
        {
            Ok(result) => result?,
            Err(_) => {
                return Err(PluginError::new(
                    ErrorKind::Timeout,
                    format!(
                        "MCP server `{}` sent no `endpoint` event within {} s (HTTP+SSE transport)",
                        context.server(),
                        wait.as_secs_f64()
                    ),
                ));
            }
        };
        let endpoint = resolve_endpoint(&context, url, &endpoint)?;
        context.log(
            LogLevel::Debug,
            &format!(
                "using the HTTP+SSE transport; messages go to {}",
                display_url(&endpoint)
            ),
        );
        let reader_context = Arc::clone(&context);
        let reader = tokio::spawn(async move { read(reader_context, response, parser).await });
        Ok(Legacy {
            context,
            endpoint,
            reader,
        })
    }

    /// POSTs `message` to the endpoint; its answer comes on the stream.
    pub async fn handle(&self, message: Outgoing) {
        let context = &self.context;
        let http = &context.http;
        let json = vec![(CONTENT_TYPE, HeaderValue::from_static("application/json"))];
        let sent = http.execute(Method::POST, &self.endpoint, json, Some(&message.text));
        let mut response = match sent.await {
            Ok(response) => response,
            Err(error) => return self.fail(&message, error),
        };
        let status = response.status();
        if status.is_success() {
            return;
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return self.fail(&message, http.unauthorized(status));
        }
        let snippet = http.snippet(&mut response).await;
        let error = http.status_error(status, &snippet, &message.label());
        if status == StatusCode::NOT_FOUND {
            // The endpoint names the connection; a 404 means it is gone.
            context.end(error);
        } else {
            self.fail(&message, error);
        }
    }

    fn fail(&self, message: &Outgoing, error: PluginError) {
        if message.is_initialize() {
            self.context.end(error);
        } else {
            self.context.fail(message, &error);
        }
    }
}

/// Reads events until `endpoint`, delivering any message that comes first.
async fn endpoint(
    context: &Context,
    response: &mut Response,
    parser: &mut SseParser,
) -> PluginResult<String> {
    let mut found = None;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => {
                return Err(PluginError::new(
                    ErrorKind::Protocol,
                    format!(
                        "MCP server `{}` closed its event stream before sending the `endpoint` event (HTTP+SSE transport)",
                        context.server()
                    ),
                ));
            }
            Err(error) => {
                return Err(context.http.transport_error(&context.http.url, &error));
            }
        };
        let events = parser.feed(&chunk).map_err(|SseError::TooLarge| {
            PluginError::new(
                ErrorKind::Protocol,
                format!(
                    "MCP server `{}` sent an event larger than {} MiB; it was refused",
                    context.server(),
                    MAX_EVENT_BYTES / (1024 * 1024)
                ),
            )
        })?;
        for event in events {
            match event.name.as_str() {
                "endpoint" if found.is_none() => found = Some(event.data),
                "message" => context.deliver(event.data),
                _ => {}
            }
        }
        if let Some(endpoint) = found {
            return Ok(endpoint);
        }
    }
}

/// The endpoint resolved against the stream's URL; it must be on the same
/// origin, since the configured headers (tokens) go with every POST.
fn resolve_endpoint(context: &Context, base: &Url, endpoint: &str) -> PluginResult<Url> {
    let resolved = base.join(endpoint.trim()).map_err(|error| {
        PluginError::new(
            ErrorKind::Protocol,
            format!(
                "MCP server `{}` sent an `endpoint` event that is not a URL ({error})",
                context.server()
            ),
        )
    })?;
    if resolved.origin() != base.origin() {
        return Err(PluginError::new(
            ErrorKind::Protocol,
            format!(
                "MCP server `{}` named a message endpoint on another origin ({}); refusing to send messages and headers there",
                context.server(),
                display_url(&resolved)
            ),
        ));
    }
    Ok(resolved)
}

/// Delivers the stream's messages until it ends, which ends the connection.
async fn read(context: Arc<Context>, mut response: Response, mut parser: SseParser) {
    let pumped = pump(
        &mut response,
        &mut parser,
        &mut |text| {
            context.deliver(text);
            false
        },
        &mut |_, _| {},
    )
    .await;
    let reason = match pumped {
        Pumped::TooLarge => PluginError::new(
            ErrorKind::Protocol,
            format!(
                "MCP server `{}` sent an event larger than {} MiB; the connection was closed",
                context.server(),
                MAX_EVENT_BYTES / (1024 * 1024)
            ),
        ),
        Pumped::Ended { .. } | Pumped::Done => PluginError::new(
            ErrorKind::Unavailable,
            format!(
                "MCP server `{}` closed its event stream (HTTP+SSE transport)",
                context.server()
            ),
        ),
    };
    context.end(reason);
}
