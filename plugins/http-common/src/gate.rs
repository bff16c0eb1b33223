//! The one way messages and the end of the connection reach the host.

use std::sync::{Mutex, MutexGuard, PoisonError};

use codex_plugin_api::{MessageSink, PluginError};

/// Orders `deliver` and `closed`: nothing is delivered after `closed`, and
/// `closed` is reported once, whichever task gets there first.
pub struct Gate {
    sink: MessageSink,
    finished: Mutex<bool>,
}

impl Gate {
    /// A gate in front of `sink`.
    pub fn new(sink: MessageSink) -> Self {
        Gate {
            sink,
            finished: Mutex::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, bool> {
        self.finished.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Delivers `message` unless the connection was reported closed.
    pub fn deliver(&self, message: String) {
        let finished = self.lock();
        if !*finished {
            self.sink.deliver(message);
        }
    }

    /// Reports the end of the connection, the first time only.
    pub fn finish(&self, reason: PluginError) {
        let mut finished = self.lock();
        if !*finished {
            *finished = true;
            self.sink.closed(reason);
        }
    }

    /// Whether the end has been reported.
    pub fn is_finished(&self) -> bool {
        *self.lock()
    }
}
