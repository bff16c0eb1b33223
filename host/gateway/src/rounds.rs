//! Upstream questions for MCP 2026-07-28 clients, which take no requests
//! from a server: the gateway answers such a client's `tools/call` with an
//! `input_required` result carrying the upstream's questions (elicitation,
//! sampling, roots) and a `requestState`, and the client calls again with
//! the answers (multi round-trip requests, SEP-2322).
//!
//! The upstream call itself goes on meanwhile, waiting for its answers: it
//! runs in the request that started it until its first question, then in a
//! task of its own, and between two rounds it is parked here under the
//! `requestState` handed out, a random id that only that client learnt. A
//! parked call whose client does not come back within [`ROUND_TTL`] is given
//! up (its upstream call cancelled) the next time a call is parked or taken.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use codex_mcp_client::session::CallOutcome;
use rmcp::model::{InputRequest, InputRequests, InputResponses};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::catalog::Route;

/// How long a parked call waits for its client to call again.
pub const ROUND_TTL: Duration = Duration::from_secs(600);

/// An upstream's question, and where its answer goes.
pub struct Question {
    pub input: InputRequest,
    pub answer: oneshot::Sender<Value>,
}

/// The upstream call's answer, to be awaited.
pub type Outcome = Pin<Box<dyn Future<Output = anyhow::Result<CallOutcome>> + Send>>;

/// A 2026-07-28 client's call running upstream.
pub struct RoundCall {
    pub route: Route,
    pub started: Instant,
    pub upstream: std::sync::Arc<crate::Upstream>,
    pub session: std::sync::Arc<codex_mcp_client::session::Session>,
    pub questions: mpsc::UnboundedReceiver<Question>,
    pub outcome: Outcome,
    /// Whether `outcome` runs in a task of its own (it must, once parked).
    in_task: bool,
    /// Held only to be dropped: that cancels the upstream call (its
    /// receiver is the call's cancellation), which then ends its task.
    _cancel: oneshot::Sender<()>,
    /// The questions handed to the client, by the key it answers under.
    asked: BTreeMap<String, oneshot::Sender<Value>>,
    next_key: u64,
}

impl RoundCall {
    pub fn new(
        route: Route,
        upstream: std::sync::Arc<crate::Upstream>,
        session: std::sync::Arc<codex_mcp_client::session::Session>,
        questions: mpsc::UnboundedReceiver<Question>,
        outcome: Outcome,
        cancel: oneshot::Sender<()>,
    ) -> RoundCall {
        RoundCall {
            route,
            started: Instant::now(),
            upstream,
            session,
            questions,
            outcome,
            in_task: false,
            _cancel: cancel,
            asked: BTreeMap::new(),
            next_key: 1,
        }
    }

    /// Gives the upstream the client's answers. A question left unanswered
    /// gets none (its sender is dropped): the upstream reads a refusal.
    pub fn answer(&mut self, mut responses: InputResponses) {
        for (key, answer) in std::mem::take(&mut self.asked) {
            if let Some(value) = responses.remove(&key) {
                let _ = answer.send(value);
            }
        }
    }

    /// Moves the upstream call to a task of its own, so that it goes on
    /// while no request waits for it.
    fn run_in_task(&mut self) {
        if self.in_task {
            return;
        }
        let running = std::mem::replace(&mut self.outcome, Box::pin(std::future::pending()));
        let task = tokio::spawn(running);
        self.outcome = Box::pin(async move {
            task.await.unwrap_or_else(|error| {
                Err(anyhow::anyhow!(
                    "the gateway's call of the tool ended: {error}"
                ))
            })
        });
        self.in_task = true;
    }

    /// `first` and every other question already waiting, each under a new
    /// key, for an `input_required` result.
    pub fn ask(&mut self, first: Question) -> InputRequests {
        let mut requests = InputRequests::new();
        let mut next = Some(first);
        while let Some(question) = next {
            let key = format!("q{}", self.next_key);
            self.next_key += 1;
            requests.insert(key.clone(), question.input);
            self.asked.insert(key, question.answer);
            next = self.questions.try_recv().ok();
        }
        requests
    }
}

/// Drops the calls parked longer than [`ROUND_TTL`], which cancels them.
fn give_up_expired(parked: &mut HashMap<String, (Instant, RoundCall)>) {
    parked.retain(|_, (since, _)| since.elapsed() < ROUND_TTL);
}

/// The calls parked between two rounds, by `requestState`.
#[derive(Default)]
pub struct Rounds {
    parked: Mutex<HashMap<String, (Instant, RoundCall)>>,
}

impl Rounds {
    fn parked(&self) -> MutexGuard<'_, HashMap<String, (Instant, RoundCall)>> {
        self.parked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Parks `call` until its client calls again; the `requestState` to
    /// give it. Calls parked longer than [`ROUND_TTL`] are given up here.
    pub fn park(&self, mut call: RoundCall) -> anyhow::Result<String> {
        let state = crate::http::generate_token()?;
        call.run_in_task();
        let mut parked = self.parked();
        give_up_expired(&mut parked);
        parked.insert(state.clone(), (Instant::now(), call));
        Ok(state)
    }

    /// Parks `call` again under the `state` it was taken by.
    pub fn park_again(&self, state: &str, call: RoundCall) {
        self.parked()
            .insert(state.to_string(), (Instant::now(), call));
    }

    /// The call parked under `state`, taken out.
    pub fn take(&self, state: &str) -> Option<RoundCall> {
        let mut parked = self.parked();
        give_up_expired(&mut parked);
        parked.remove(state).map(|(_, call)| call)
    }
}
