//! The HTTP listener's record of the events it sent on each SSE stream, so
//! that a client whose stream ended (the gateway closed it mid-call with
//! `--poll-after`, or the network dropped it) resumes with `Last-Event-ID`
//! and loses nothing.
//!
//! rmcp's session worker keeps a cache of its own, but it forgets a call's
//! stream as soon as the answer is sent: an answer that comes while the
//! client is between two connections would be lost. With this log given to
//! rmcp as its [`EventStore`], every event is recorded before it is sent,
//! and a resumed stream gets the events after `Last-Event-ID` and then,
//! live, the ones that follow, until its call is answered.
//!
//! Memory stays bounded: a stream keeps its last [`EVENTS_PER_STREAM`]
//! events, an answered stream is forgotten [`ANSWERED_TTL`] after its answer
//! and any other one [`IDLE_TTL`] after its last event.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rmcp::model::ServerJsonRpcMessage;
use rmcp::transport::common::server_side_http::ServerSseMessage;
use rmcp::transport::streamable_http_server::session::{EventStore, EventStoreError, EventStream};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// How many events a stream keeps for a client to resume from.
pub const EVENTS_PER_STREAM: usize = 1024;
/// How long an answered call's stream stays resumable.
pub const ANSWERED_TTL: Duration = Duration::from_secs(5 * 60);
/// How long a stream with no new event stays resumable.
pub const IDLE_TTL: Duration = Duration::from_secs(60 * 60);
/// How often at most the log looks for streams to forget.
const SWEEP_EVERY: Duration = Duration::from_secs(30);
/// Events queued for one resumed stream before the gateway ends it (the
/// client then resumes again from what it has; the log still has the rest).
const LIVE_QUEUE: usize = 256;

/// rmcp names a session's standalone (GET) stream `SESSION:common`. It is
/// never answered: responses end only the streams of calls.
const COMMON_SUFFIX: &str = ":common";

#[derive(Default)]
pub struct EventLog {
    inner: Mutex<Streams>,
}

#[derive(Default)]
struct Streams {
    /// The number of each stream, by rmcp's stream id.
    numbers: HashMap<String, u64>,
    by_number: HashMap<u64, Stream>,
    next_number: u64,
    last_sweep: Option<Instant>,
}

struct Stream {
    id: String,
    events: VecDeque<(u64, ServerSseMessage)>,
    next_index: u64,
    /// Resumed connections waiting for this stream's next events.
    live: Vec<mpsc::Sender<ServerSseMessage>>,
    answered_at: Option<Instant>,
    touched: Instant,
}

/// An event id is `STREAM-INDEX`: the log finds the stream from the id
/// alone, as rmcp requires of a store.
fn event_id(stream: u64, index: u64) -> String {
    format!("{stream}-{index}")
}

fn parse_event_id(id: &str) -> Option<(u64, u64)> {
    let (stream, index) = id.split_once('-')?;
    Some((stream.parse().ok()?, index.parse().ok()?))
}

fn is_answer(event: &ServerSseMessage) -> bool {
    matches!(
        event.message.as_deref(),
        Some(ServerJsonRpcMessage::Response(_) | ServerJsonRpcMessage::Error(_))
    )
}

impl EventLog {
    pub fn new() -> EventLog {
        EventLog::default()
    }

    fn streams(&self) -> MutexGuard<'_, Streams> {
        // A panic elsewhere while holding the lock leaves whole entries
        // behind; the log is still usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many streams the log holds (for tests and diagnostics).
    pub fn stream_count(&self) -> usize {
        self.streams().by_number.len()
    }

    fn record(&self, stream_id: &str, event: &ServerSseMessage, now: Instant) -> String {
        let mut streams = self.streams();
        streams.sweep(now);
        let number = match streams.numbers.get(stream_id) {
            Some(number) => *number,
            None => {
                let number = streams.next_number;
                streams.next_number += 1;
                streams.numbers.insert(stream_id.to_string(), number);
                number
            }
        };
        let stream = streams.by_number.entry(number).or_insert_with(|| Stream {
            id: stream_id.to_string(),
            events: VecDeque::new(),
            next_index: 0,
            live: Vec::new(),
            answered_at: None,
            touched: now,
        });
        let index = stream.next_index;
        stream.next_index += 1;
        stream.touched = now;
        let id = event_id(number, index);
        let mut stored = event.clone();
        stored.event_id = Some(id.clone());
        // A resumed connection that cannot keep up is ended; it resumes
        // again from the last event it got.
        stream
            .live
            .retain(|live| live.try_send(stored.clone()).is_ok());
        if stream.events.len() == EVENTS_PER_STREAM {
            stream.events.pop_front();
        }
        stream.events.push_back((index, stored));
        if is_answer(event) && !stream.id.ends_with(COMMON_SUFFIX) {
            stream.answered_at = Some(now);
            // The call is over: its resumed connections end after the answer.
            stream.live.clear();
        }
        id
    }

    fn replay(&self, last_event_id: &str) -> Result<EventStream, EventStoreError> {
        let (number, after) = parse_event_id(last_event_id)
            .ok_or_else(|| format!("event id {last_event_id:?} is not one of the gateway's"))?;
        let mut streams = self.streams();
        let stream = streams
            .by_number
            .get_mut(&number)
            .ok_or_else(|| format!("event id {last_event_id:?}: that stream is no longer kept"))?;
        let missed: Vec<ServerSseMessage> = stream
            .events
            .iter()
            .filter(|(index, _)| *index > after)
            .map(|(_, event)| event.clone())
            .collect();
        let missed = futures::stream::iter(missed);
        if stream.answered_at.is_some() {
            return Ok(Box::pin(missed));
        }
        let (sender, receiver) = mpsc::channel(LIVE_QUEUE);
        stream.live.push(sender);
        Ok(Box::pin(futures::StreamExt::chain(
            missed,
            ReceiverStream::new(receiver),
        )))
    }
}

impl Streams {
    fn sweep(&mut self, now: Instant) {
        if self
            .last_sweep
            .is_some_and(|last| now.duration_since(last) < SWEEP_EVERY)
        {
            return;
        }
        self.last_sweep = Some(now);
        let expired: Vec<u64> = self
            .by_number
            .iter()
            .filter(|(_, stream)| match stream.answered_at {
                Some(at) => now.duration_since(at) >= ANSWERED_TTL,
                None => now.duration_since(stream.touched) >= IDLE_TTL,
            })
            .map(|(number, _)| *number)
            .collect();
        for number in expired {
            if let Some(stream) = self.by_number.remove(&number) {
                self.numbers.remove(&stream.id);
            }
        }
    }
}

#[async_trait::async_trait]
impl EventStore for EventLog {
    async fn store_event(
        &self,
        stream_id: &str,
        event: &ServerSseMessage,
    ) -> Result<String, EventStoreError> {
        Ok(self.record(stream_id, event, Instant::now()))
    }

    async fn replay_events_after(
        &self,
        last_event_id: &str,
    ) -> Result<EventStream, EventStoreError> {
        self.replay(last_event_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use rmcp::model::{
        JsonRpcResponse, JsonRpcVersion2_0, NumberOrString, ServerNotification, ServerResult,
    };

    fn answer(id: i64) -> ServerSseMessage {
        ServerSseMessage::from_message(ServerJsonRpcMessage::Response(JsonRpcResponse {
            jsonrpc: JsonRpcVersion2_0,
            id: NumberOrString::Number(id),
            result: ServerResult::empty(()),
        }))
    }

    fn progress() -> ServerSseMessage {
        ServerSseMessage::from_message(ServerJsonRpcMessage::notification(
            ServerNotification::ToolListChangedNotification(Default::default()),
        ))
    }

    #[tokio::test]
    async fn a_resumed_call_gets_what_it_missed_then_the_rest_live_then_ends() {
        let log = EventLog::new();
        let now = Instant::now();
        let priming = log.record(
            "call-1",
            &ServerSseMessage::retry(Duration::from_secs(1)),
            now,
        );
        log.record("call-1", &progress(), now);
        let mut resumed = log.replay(&priming).unwrap();
        let missed = resumed.next().await.unwrap();
        assert!(missed.message.is_some());
        assert_eq!(missed.event_id.as_deref(), Some("0-1"));
        log.record("call-1", &answer(7), now);
        let live = resumed.next().await.unwrap();
        assert!(is_answer(&live), "{live:?}");
        assert!(resumed.next().await.is_none(), "the answer ends the stream");
        // Resuming an answered call replays and ends at once.
        let again: Vec<_> = log.replay(&priming).unwrap().collect().await;
        assert_eq!(again.len(), 2);
    }

    #[tokio::test]
    async fn the_common_stream_is_never_answered_and_streams_are_told_apart() {
        let log = EventLog::new();
        let now = Instant::now();
        let first = log.record("s:common", &progress(), now);
        let other = log.record("call-2", &progress(), now);
        assert_ne!(
            parse_event_id(&first).unwrap().0,
            parse_event_id(&other).unwrap().0
        );
        log.record("s:common", &answer(1), now);
        let mut resumed = log.replay(&first).unwrap();
        assert!(is_answer(&resumed.next().await.unwrap()));
        log.record("s:common", &progress(), now);
        assert!(resumed.next().await.is_some(), "still live after an answer");
        assert!(log.replay("nonsense").is_err());
        assert!(log.replay("99-0").is_err());
    }

    #[test]
    fn streams_are_forgotten_after_their_time_and_keep_a_bounded_tail() {
        let log = EventLog::new();
        let start = Instant::now();
        for _ in 0..EVENTS_PER_STREAM + 10 {
            log.record("busy", &progress(), start);
        }
        log.record("done", &answer(1), start);
        assert_eq!(
            log.streams()
                .by_number
                .values()
                .map(|s| s.events.len())
                .max(),
            Some(EVENTS_PER_STREAM)
        );
        log.record("fresh", &progress(), start + ANSWERED_TTL + SWEEP_EVERY);
        assert_eq!(log.stream_count(), 2, "the answered stream is gone");
        log.record("fresh", &progress(), start + IDLE_TTL + 2 * SWEEP_EVERY);
        assert_eq!(log.stream_count(), 1, "the idle stream is gone");
    }
}
