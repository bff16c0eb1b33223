//! The tool calls a session has in flight, so that what a server sends
//! while they run (progress, log messages, elicitation, sampling and roots
//! requests) can be tied to the call that caused it.
//!
//! MCP ties only progress to a request on the wire (its progress token);
//! a server's own requests and log messages carry no request id. Those are
//! tied to the call a transport says they came with (a streamable HTTP
//! server sends them on the POST stream of their request, and the plugin
//! names it in `_meta`), else to a call when it is the only one in flight
//! on the session, and to none otherwise: a front end that serves several
//! people on one session must not show one person another's question.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use codex_plugin_api::RELATED_REQUEST_META;
use rmcp::model::{ProgressToken, RequestId};
use serde_json::Value;

use crate::client::{CallTag, Correlation, RelatedCall};

#[derive(Default)]
pub(crate) struct InFlightCalls {
    calls: Mutex<Vec<Entry>>,
    next_serial: AtomicU64,
}

struct Entry {
    /// Unique within the session, for the guard to remove its own entry.
    serial: u64,
    request_id: RequestId,
    progress_token: ProgressToken,
    tag: Option<CallTag>,
}

/// Removes its call from the record when the call ends (answered,
/// failed, timed out or given up).
pub(crate) struct InFlightGuard {
    calls: Arc<InFlightCalls>,
    serial: u64,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.calls
            .lock()
            .retain(|entry| entry.serial != self.serial);
    }
}

impl InFlightCalls {
    fn lock(&self) -> MutexGuard<'_, Vec<Entry>> {
        match self.calls.lock() {
            Ok(calls) => calls,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Records a call sent as `request_id` with `progress_token` until the
    /// guard is dropped.
    pub(crate) fn begin(
        self: &Arc<Self>,
        request_id: RequestId,
        progress_token: ProgressToken,
        tag: Option<CallTag>,
    ) -> InFlightGuard {
        let serial = self.next_serial.fetch_add(1, Ordering::Relaxed);
        self.lock().push(Entry {
            serial,
            request_id,
            progress_token,
            tag,
        });
        InFlightGuard {
            calls: self.clone(),
            serial,
        }
    }

    /// The call whose progress token is `token`.
    pub(crate) fn by_progress_token(&self, token: &ProgressToken) -> Option<RelatedCall> {
        self.lock()
            .iter()
            .find(|entry| &entry.progress_token == token)
            .map(|entry| entry.related(Correlation::ProgressToken))
    }

    /// The call in flight when it is the only one.
    pub(crate) fn only_one(&self) -> Option<RelatedCall> {
        match self.lock().as_slice() {
            [entry] => Some(entry.related(Correlation::OnlyCallInFlight)),
            _ => None,
        }
    }

    /// The call a server's request or notification with this `_meta` is
    /// of: the one its transport named, else the only one in flight. One
    /// that names a call no longer in flight is of none.
    pub(crate) fn related(&self, meta: &serde_json::Map<String, Value>) -> Option<RelatedCall> {
        let Some(named) = meta.get(RELATED_REQUEST_META) else {
            return self.only_one();
        };
        let id: RequestId = serde_json::from_value(named.clone()).ok()?;
        self.lock()
            .iter()
            .find(|entry| entry.request_id == id)
            .map(|entry| entry.related(Correlation::RequestStream))
    }
}

impl Entry {
    fn related(&self, known_by: Correlation) -> RelatedCall {
        RelatedCall {
            request_id: self.request_id.clone(),
            progress_token: self.progress_token.clone(),
            tag: self.tag,
            known_by,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::NumberOrString;

    fn token(number: i64) -> ProgressToken {
        ProgressToken(NumberOrString::Number(number))
    }

    #[test]
    fn a_call_named_by_the_transport_is_found_among_several() {
        let calls = Arc::new(InFlightCalls::default());
        let _first = calls.begin(NumberOrString::Number(10), token(1), Some(CallTag(7)));
        let _second = calls.begin(NumberOrString::Number(11), token(2), Some(CallTag(8)));
        let meta = |id: serde_json::Value| {
            let mut meta = serde_json::Map::new();
            meta.insert(RELATED_REQUEST_META.to_string(), id);
            meta
        };
        let found = calls.related(&meta(serde_json::json!(11))).unwrap();
        assert_eq!(found.tag, Some(CallTag(8)));
        assert_eq!(found.known_by, Correlation::RequestStream);
        assert!(
            calls.related(&meta(serde_json::json!(12))).is_none(),
            "not in flight"
        );
        assert!(
            calls.related(&serde_json::Map::new()).is_none(),
            "two in flight, none named"
        );
        drop(_second);
        let only = calls.related(&serde_json::Map::new()).unwrap();
        assert_eq!(only.known_by, Correlation::OnlyCallInFlight);
    }

    #[test]
    fn progress_finds_its_call_among_several_and_others_find_none() {
        let calls = Arc::new(InFlightCalls::default());
        let first = calls.begin(NumberOrString::Number(10), token(1), Some(CallTag(7)));
        let second = calls.begin(NumberOrString::Number(11), token(2), Some(CallTag(8)));
        let found = calls.by_progress_token(&token(2)).unwrap();
        assert_eq!(found.tag, Some(CallTag(8)));
        assert_eq!(found.request_id, NumberOrString::Number(11));
        assert_eq!(found.known_by, Correlation::ProgressToken);
        assert!(calls.by_progress_token(&token(3)).is_none());
        // Two in flight: a request without a token belongs to neither.
        assert!(calls.only_one().is_none());
        drop(second);
        let only = calls.only_one().unwrap();
        assert_eq!(only.tag, Some(CallTag(7)));
        assert_eq!(only.known_by, Correlation::OnlyCallInFlight);
        drop(first);
        assert!(calls.only_one().is_none());
        assert!(calls.by_progress_token(&token(1)).is_none());
    }
}
