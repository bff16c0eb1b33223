//! Reading an event-stream response body into messages.

use reqwest::Response;

use crate::sse::{SseError, SseParser};

/// How reading a stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pumped {
    /// The callback said it got what it waited for.
    Done,
    /// The body ended or the connection dropped; `progressed` says whether
    /// anything (an event or a new event id) came first.
    Ended { progressed: bool },
    /// An event was larger than the parser's limit.
    TooLarge,
}

/// Feeds `response`'s body to `parser` and hands the data of every `message`
/// event to `on_message`, until it returns `true` (at the end of that chunk)
/// or the body ends. Events of
/// other types go to `on_other` (name, data).
pub async fn pump(
    response: &mut Response,
    parser: &mut SseParser,
    on_message: &mut (dyn FnMut(String) -> bool + Send),
    on_other: &mut (dyn FnMut(&str, &str) + Send),
) -> Pumped {
    let start_id = parser.last_event_id().map(str::to_owned);
    let mut dispatched = false;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            // A dropped connection is not a cancellation: the caller may resume.
            Ok(None) | Err(_) => {
                let moved = parser.last_event_id() != start_id.as_deref();
                return Pumped::Ended {
                    progressed: dispatched || moved,
                };
            }
        };
        let events = match parser.feed(&chunk) {
            Ok(events) => events,
            Err(SseError::TooLarge) => return Pumped::TooLarge,
        };
        let mut done = false;
        for event in events {
            dispatched = true;
            if event.name == "message" {
                // The rest of the chunk is still delivered: it was sent.
                done |= on_message(event.data);
            } else {
                on_other(&event.name, &event.data);
            }
        }
        if done {
            return Pumped::Done;
        }
    }
}
