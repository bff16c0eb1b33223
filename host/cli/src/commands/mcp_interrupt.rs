//! Ctrl-C (SIGINT) while a command talks to servers. Once a command
//! watches it, SIGINT no longer ends the process by itself: the command
//! closes what it opened (a stdio server's process group included) and
//! exits 130, or, in `mcp shell`, cancels what runs and goes on.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// The error of a command that Ctrl-C ended: exit status 130.
#[derive(Debug)]
pub struct Interrupted {
    /// What was going on: "connecting to MCP server `x`".
    pub during: String,
}

impl fmt::Display for Interrupted {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "interrupted (Ctrl-C) while {}; the connection was closed",
            self.during
        )
    }
}

impl std::error::Error for Interrupted {}

/// Counts the SIGINTs of this process, for futures that each wait for one
/// not answered yet.
#[derive(Clone)]
pub struct CtrlC {
    presses: watch::Receiver<u64>,
    /// How many presses some future has answered. A press that comes
    /// between two waits (while a command's answer is printed, say) is
    /// answered by the next wait rather than lost.
    answered: Arc<AtomicU64>,
}

impl CtrlC {
    /// Starts watching SIGINT; must run inside the runtime. When the signal
    /// cannot be watched, no press is ever seen and Ctrl-C ends the process
    /// as it did before.
    pub fn watch() -> CtrlC {
        let (sender, presses) = watch::channel(0u64);
        if let Ok(mut sigint) = signal(SignalKind::interrupt()) {
            tokio::spawn(async move {
                while sigint.recv().await.is_some() {
                    sender.send_modify(|count| *count += 1);
                }
            });
        }
        CtrlC {
            presses,
            answered: Arc::default(),
        }
    }

    /// Completes at the first Ctrl-C that no earlier wait answered, and
    /// answers it (and any before it).
    pub fn next_press(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut presses = self.presses.clone();
        let answered = self.answered.clone();
        async move {
            let seen = answered.load(Ordering::SeqCst);
            let waited = presses
                .wait_for(|count| *count > seen)
                .await
                .map(|count| *count);
            match waited {
                Ok(count) => {
                    answered.fetch_max(count, Ordering::SeqCst);
                }
                // No more presses can come.
                Err(_) => std::future::pending::<()>().await,
            }
        }
    }
}
