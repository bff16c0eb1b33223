//! Running the helper program: `<program> store|get|erase|list`, input on
//! stdin, reply on stdout, under a deadline.
//!
//! The protocol (docker's `docker-credential-helpers`):
//! - `store`: stdin `{"ServerURL","Username","Secret"}`; no reply.
//! - `get`: stdin the server URL; stdout `{"ServerURL","Username","Secret"}`.
//! - `erase`: stdin the server URL; no reply.
//! - `list`: stdout a JSON object mapping server URLs to user names.
//!
//! A failing helper exits non-zero with its message on stdout (some use
//! stderr); "credentials not found" means there is no entry. Secrets only
//! travel on the pipes, never in arguments or the environment.

use std::io::{ErrorKind as IoErrorKind, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use codex_plugin_api::{ErrorKind, PluginError, PluginResult};
use zeroize::Zeroizing;

/// The phrase helpers use for a missing entry (`credentials not found in
/// native keychain`).
const NOT_FOUND: &str = "credentials not found";

/// The most of a helper's message shown in an error.
const MESSAGE_LIMIT: usize = 300;

/// A helper program and how long one run may take.
#[derive(Debug, Clone)]
pub struct Helper {
    /// The program, as configured.
    pub program: String,
    /// The backend's name, for messages.
    pub backend: String,
    /// The deadline of one run.
    pub timeout: Duration,
}

/// What one run produced.
pub enum Reply {
    /// Exit status 0, with stdout.
    Done(Zeroizing<Vec<u8>>),
    /// The helper said it has no such entry.
    NotFound,
}

impl Helper {
    /// Runs `<program> <action>` with `input` on stdin. `secret`, when set, is
    /// removed from any helper message that ends up in an error.
    pub fn run(&self, action: &str, input: &[u8], secret: Option<&str>) -> PluginResult<Reply> {
        let mut child = self.spawn(action)?;
        let writer = child.stdin.take().map(|mut stdin| {
            let input = Zeroizing::new(input.to_vec());
            thread::spawn(move || {
                // A helper that exits without reading closes the pipe; its
                // exit status tells what happened.
                let _ = stdin.write_all(&input);
            })
        });
        let stdout = child.stdout.take().map(read_all);
        let stderr = child.stderr.take().map(read_all);
        let status = self.wait(&mut child, action)?;
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        // A process the helper started may still hold the pipes open; what
        // was written by the time it exited arrives at once.
        let grace = Instant::now() + Duration::from_secs(1);
        let stdout = collect(stdout, grace);
        let stderr = collect(stderr, grace);
        if status.success() {
            return Ok(Reply::Done(stdout));
        }
        let message = [&stdout[..], &stderr[..]]
            .iter()
            .map(|bytes| String::from_utf8_lossy(bytes).trim().to_owned())
            .find(|text| !text.is_empty())
            .unwrap_or_default();
        if message.to_ascii_lowercase().contains(NOT_FOUND) {
            return Ok(Reply::NotFound);
        }
        Err(PluginError::io(format!(
            "the credential helper `{} {action}` failed ({}): {}",
            self.program,
            describe_status(status),
            shown(&message, secret)
        )))
    }

    fn spawn(&self, action: &str) -> PluginResult<Child> {
        Command::new(&self.program)
            .arg(action)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| {
                if error.kind() == IoErrorKind::NotFound {
                    PluginError::invalid_config(format!(
                        "the credential helper `{}` (option `program` of credential backend `{}`) \
                         was not found: install it, or give its full path",
                        self.program, self.backend
                    ))
                } else {
                    PluginError::io(format!(
                        "cannot run the credential helper `{}`: {error}",
                        self.program
                    ))
                }
            })
    }

    /// Waits for the helper, killing it when the deadline passes.
    fn wait(&self, child: &mut Child, action: &str) -> PluginResult<ExitStatus> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) => {}
                Err(error) => {
                    return Err(PluginError::io(format!(
                        "cannot wait for the credential helper `{} {action}`: {error}",
                        self.program
                    )));
                }
            }
            let waited = started.elapsed();
            if waited >= self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                return Err(PluginError::new(
                    ErrorKind::Timeout,
                    format!(
                        "the credential helper `{} {action}` did not finish within {:.1} s and was \
                         stopped; if it waits for a passphrase or an unlock, do that first, or \
                         raise the option `timeout_secs` of credential backend `{}`",
                        self.program,
                        self.timeout.as_secs_f64(),
                        self.backend
                    ),
                ));
            }
            thread::sleep(pause.min(self.timeout - waited));
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }
}

fn read_all(mut pipe: impl Read + Send + 'static) -> Receiver<Zeroizing<Vec<u8>>> {
    let (sender, receiver) = mpsc::sync_channel(1);
    thread::spawn(move || {
        let mut bytes = Zeroizing::new(Vec::new());
        let _ = pipe.read_to_end(&mut bytes);
        let _ = sender.send(bytes);
    });
    receiver
}

fn collect(reader: Option<Receiver<Zeroizing<Vec<u8>>>>, until: Instant) -> Zeroizing<Vec<u8>> {
    let left = until.saturating_duration_since(Instant::now());
    reader
        .and_then(|receiver| receiver.recv_timeout(left).ok())
        .unwrap_or_default()
}

fn describe_status(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => "killed by a signal".to_owned(),
    }
}

/// The first line of a helper's message, cut short, without `secret`.
fn shown(message: &str, secret: Option<&str>) -> String {
    let mut line = message.lines().next().unwrap_or("").trim().to_owned();
    if let Some(secret) = secret.filter(|secret| !secret.is_empty()) {
        line = line.replace(secret, "[secret]");
    }
    if line.is_empty() {
        return "it printed no message".to_owned();
    }
    if line.chars().count() > MESSAGE_LIMIT {
        let mut cut: String = line.chars().take(MESSAGE_LIMIT).collect();
        cut.push('…');
        return cut;
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_lose_the_secret_and_extra_lines() {
        assert_eq!(
            shown("bad value sk-123 given\nmore", Some("sk-123")),
            "bad value [secret] given"
        );
        assert_eq!(shown("", None), "it printed no message");
        assert_eq!(
            shown(&"x".repeat(400), None).chars().count(),
            MESSAGE_LIMIT + 1
        );
    }
}
