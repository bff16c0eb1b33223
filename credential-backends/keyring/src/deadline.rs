//! Running a store operation under a deadline.
//!
//! A Secret Service call can block for as long as a password prompt stays
//! open, and a D-Bus activation for as long as the bus allows. The operation
//! runs on its own thread; when the deadline passes the caller gets an error
//! and the thread is left to finish (or not) on its own: a stuck keyring
//! costs a thread, never the command.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use codex_plugin_api::{ErrorKind, PluginError, PluginResult};

/// Runs `job` on a new thread and waits at most `timeout` for its result.
/// `what` names the operation in the timeout message ("reading `x` from ...").
pub fn within<T, F>(timeout: Duration, what: &str, job: F) -> PluginResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (sender, receiver) = mpsc::sync_channel(1);
    thread::Builder::new()
        .name("codex-keyring".to_owned())
        .spawn(move || {
            // The receiver is gone only when the caller gave up waiting.
            let _ = sender.send(job());
        })
        .map_err(|error| PluginError::io(format!("cannot start a thread for {what}: {error}")))?;
    match receiver.recv_timeout(timeout) {
        Ok(value) => Ok(value),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(PluginError::new(
            ErrorKind::Timeout,
            format!(
                "{what} did not finish within {:.1} s; the keyring may be locked and waiting for \
                 a password prompt: unlock it, or raise the backend's `timeout_secs` option",
                timeout.as_secs_f64()
            ),
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(PluginError::internal(format!(
            "{what} failed: the keyring library panicked"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_result_in_time_is_returned() {
        assert_eq!(
            within(Duration::from_secs(5), "adding", || 2 + 2).unwrap(),
            4
        );
    }

    #[test]
    fn a_slow_job_becomes_a_timeout_error_at_the_deadline() {
        let started = Instant::now();
        let error = within(Duration::from_millis(100), "reading `x`", || {
            thread::sleep(Duration::from_secs(3));
        })
        .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(error.kind, ErrorKind::Timeout);
        assert!(
            error
                .message
                .starts_with("reading `x` did not finish within 0.1 s")
        );
    }

    #[test]
    fn a_panicking_job_is_an_internal_error() {
        let error = within(Duration::from_secs(5), "storing", || -> u8 {
            panic!("boom");
        })
        .unwrap_err();
        assert_eq!(error.kind, ErrorKind::Internal);
    }
}
