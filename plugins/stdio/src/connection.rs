//! One connection: a running server and the three threads that move its bytes.
//!
//! - [`Connection::send`] writes to the server's non-blocking stdin at once;
//!   the writer thread writes what a full pipe did not take
//!   ([`StdinWriter`]), so `send` never waits on the server.
//! - The reader thread splits stdout into lines and delivers them; when
//!   stdout ends it reaps the server and reports why the connection closed.
//! - The stderr thread keeps a tail for error messages and a log file.
//!
//! `closed` reaches the host exactly once, after the last message, whichever
//! of the reader (server exit, over-long line) or `close` gets there first.

use std::borrow::Cow;
use std::io::{ErrorKind as IoErrorKind, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::ChildStdout;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use codex_plugin_api::{
    Connection, ErrorKind, HostServices, LogLevel, MessageSink, PluginError, PluginResult,
};

use crate::config::StdioConfig;
use crate::environment::child_environment;
use crate::lines::{Line, LineReader, MAX_LINE_BYTES};
use crate::process::{ServerProcess, Spawned, Stop, spawn};
use crate::stderr_log::{SUMMARY_CHARS, StderrSink, StderrTail, log_path, open_log, pump};
use crate::stdin_writer::{SendError, StdinWriter};

/// How long `close` waits, in total, for the threads once the group is dead.
const JOIN_WAIT: Duration = Duration::from_secs(1);
/// How long an exit report waits for the last stderr lines to be read.
const STDERR_DRAIN_WAIT: Duration = Duration::from_secs(1);

/// A running thread of a connection and its role, for log lines.
type Worker = (&'static str, JoinHandle<()>);

/// A connection to one stdio MCP server.
pub struct StdioConnection {
    shared: Arc<Shared>,
    writer: Arc<StdinWriter>,
    threads: Mutex<Option<Vec<Worker>>>,
}

/// What the threads and the connection share.
struct Shared {
    server: String,
    host: HostServices,
    process: ServerProcess,
    tail: StderrTail,
    log_path: Option<PathBuf>,
    /// The host asked to close; the threads stop reporting.
    closing: AtomicBool,
    /// The server can take no more input.
    ended: AtomicBool,
    gate: Gate,
}

/// Orders `deliver` and `closed`: nothing is delivered after `closed`, and
/// `closed` is sent once.
struct Gate {
    sink: MessageSink,
    finished: Mutex<bool>,
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, bool> {
        self.finished.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Delivers `message` unless the connection has been reported closed;
    /// `false` if it has.
    fn deliver(&self, message: String) -> bool {
        let finished = self.lock();
        if *finished {
            return false;
        }
        self.sink.deliver(message);
        true
    }

    /// Reports the end of the connection, the first time only.
    fn finish(&self, reason: PluginError) {
        let mut finished = self.lock();
        if !*finished {
            *finished = true;
            self.sink.closed(reason);
        }
    }

    /// Marks the connection finished without telling the host (it never
    /// received the connection).
    fn abandon(&self) {
        *self.lock() = true;
    }
}

/// Starts server `server` as configured and connects to it.
pub fn open(
    server: &str,
    config: &StdioConfig,
    host: HostServices,
    sink: MessageSink,
) -> PluginResult<StdioConnection> {
    let environment = child_environment(config, |name| std::env::var_os(name));
    let Spawned {
        process,
        stdin,
        stdout,
        stderr,
    } = spawn(server, config, &environment)?;
    // Opened once the server runs: a config error leaves no empty log behind.
    let path = log_path(&host.codex_home(), server);
    let mut log = match open_log(&path) {
        Ok(file) => Some(file),
        Err(error) => {
            host.log(
                LogLevel::Warn,
                &format!(
                    "cannot open the stderr log `{}` of MCP server `{server}` ({error}); keeping only its last stderr lines in memory",
                    path.display()
                ),
            );
            None
        }
    };
    let pid = process.pid();
    host.log(
        LogLevel::Info,
        &format!(
            "started MCP server `{server}`: `{}` (pid {pid})",
            config.command
        ),
    );
    if let Some(file) = log.as_mut() {
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|since| since.as_secs())
            .unwrap_or(0);
        // A marker between runs; failure to write it is caught by the next write.
        let _ = writeln!(
            file,
            "--- MCP server `{server}` started (pid {pid}, unix time {started}) ---"
        );
    }
    let writer = match StdinWriter::new(stdin) {
        Ok(writer) => Arc::new(writer),
        Err(error) => {
            process.stop(Stop::Terminate, &AtomicBool::new(false));
            return Err(PluginError::internal(format!(
                "cannot set up the stdin of MCP server `{server}`: {error}"
            )));
        }
    };
    let connection = StdioConnection {
        shared: Arc::new(Shared {
            server: server.to_owned(),
            host,
            process,
            tail: StderrTail::default(),
            log_path: log.is_some().then_some(path),
            closing: AtomicBool::new(false),
            ended: AtomicBool::new(false),
            gate: Gate {
                sink,
                finished: Mutex::new(false),
            },
        }),
        writer,
        threads: Mutex::new(Some(Vec::new())),
    };
    if let Err(error) = connection.start_threads(stdout, stderr, log) {
        connection.shared.gate.abandon();
        connection.shutdown();
        return Err(error);
    }
    Ok(connection)
}

impl StdioConnection {
    fn start_threads(
        &self,
        stdout: ChildStdout,
        stderr: impl Read + Send + 'static,
        log: Option<std::fs::File>,
    ) -> PluginResult<()> {
        let shared = Arc::clone(&self.shared);
        let writer = Arc::clone(&self.writer);
        self.start_thread("writer", move || {
            if let Some(error) = writer.run()
                && !shared.closing.load(Ordering::SeqCst)
            {
                shared.host.log(
                    LogLevel::Debug,
                    &format!("stopped writing to MCP server `{}`: {error}", shared.server),
                );
            }
        })?;
        let shared = Arc::clone(&self.shared);
        self.start_thread("stderr", move || {
            pump(
                stderr,
                StderrSink {
                    tail: &shared.tail,
                    log,
                    host: &shared.host,
                    server: &shared.server,
                },
            );
        })?;
        let shared = Arc::clone(&self.shared);
        self.start_thread("reader", move || read_loop(stdout, &shared))
    }

    fn start_thread(
        &self,
        role: &'static str,
        body: impl FnOnce() + Send + 'static,
    ) -> PluginResult<()> {
        let handle = thread::Builder::new()
            .name(format!("mcp-stdio-{role}"))
            .spawn(body)
            .map_err(|error| {
                PluginError::internal(format!(
                    "cannot start the {role} thread for MCP server `{}`: {error}",
                    self.shared.server
                ))
            })?;
        self.lock_threads()
            .get_or_insert_with(Vec::new)
            .push((role, handle));
        Ok(())
    }

    fn lock_threads(&self) -> MutexGuard<'_, Option<Vec<Worker>>> {
        self.threads.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn closed_error(&self) -> PluginError {
        PluginError::new(
            ErrorKind::Unavailable,
            format!(
                "MCP server `{}` is not running; the connection is closed",
                self.shared.server
            ),
        )
    }

    /// Stops the server and the threads; the first call does the work.
    fn shutdown(&self) {
        let shared = &self.shared;
        shared.closing.store(true, Ordering::SeqCst);
        let Some(threads) = self.lock_threads().take() else {
            return;
        };
        shared.ended.store(true, Ordering::SeqCst);
        // The writer closes stdin once the pipe has taken what it will.
        self.writer.close();
        shared
            .process
            .stop(Stop::Terminate, &AtomicBool::new(false));
        let deadline = Instant::now() + JOIN_WAIT;
        for (role, handle) in threads {
            join_until(handle, deadline, role, shared);
        }
        shared.gate.finish(PluginError::new(
            ErrorKind::Unavailable,
            format!(
                "the connection to MCP server `{}` was closed",
                shared.server
            ),
        ));
    }
}

/// Joins `handle` if it ends before `deadline`; otherwise leaves it (it is
/// blocked on a pipe some process outside the group still holds).
fn join_until(handle: JoinHandle<()>, deadline: Instant, role: &str, shared: &Shared) {
    while !handle.is_finished() {
        if Instant::now() >= deadline {
            shared.host.log(
                LogLevel::Warn,
                &format!(
                    "the {role} thread of MCP server `{}` did not stop in time; a process outside its group may still hold its pipe",
                    shared.server
                ),
            );
            return;
        }
        thread::sleep(Duration::from_millis(5));
    }
    let _ = handle.join();
}

impl Connection for StdioConnection {
    fn send(&self, message: &str) -> PluginResult<()> {
        if self.shared.ended.load(Ordering::SeqCst) {
            return Err(self.closed_error());
        }
        // Messages are framed by newlines. JSON allows a line break only as
        // whitespace between tokens, so a space keeps the meaning.
        let message = if message.contains(['\n', '\r']) {
            Cow::Owned(message.replace(['\n', '\r'], " "))
        } else {
            Cow::Borrowed(message)
        };
        self.writer.send(&message).map_err(|error| match error {
            SendError::Closed => self.closed_error(),
            SendError::Failed(why) => PluginError::new(
                ErrorKind::Unavailable,
                format!(
                    "MCP server `{}` no longer accepts input (writing to its stdin failed: {why})",
                    self.shared.server
                ),
            ),
        })
    }

    fn close(&self) -> PluginResult<()> {
        self.shutdown();
        Ok(())
    }
}

impl Drop for StdioConnection {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Why the reader stopped.
enum End {
    Eof,
    TooLong,
}

fn read_loop(stdout: ChildStdout, shared: &Shared) {
    let result = catch_unwind(AssertUnwindSafe(|| read_lines(stdout, shared)));
    shared.ended.store(true, Ordering::SeqCst);
    if shared.closing.load(Ordering::SeqCst) {
        // `close` reports the end.
        return;
    }
    let reason = match result {
        Ok(End::Eof) => exit_report(shared),
        Ok(End::TooLong) => {
            shared
                .process
                .stop(Stop::Terminate, &AtomicBool::new(false));
            PluginError::new(
                ErrorKind::Protocol,
                format!(
                    "MCP server `{}` sent a line longer than {} MiB; the connection was closed",
                    shared.server,
                    MAX_LINE_BYTES / (1024 * 1024)
                ),
            )
        }
        Err(_) => {
            shared
                .process
                .stop(Stop::Terminate, &AtomicBool::new(false));
            PluginError::internal(format!(
                "the stdout reader of MCP server `{}` panicked; the connection was closed",
                shared.server
            ))
        }
    };
    shared.gate.finish(reason);
}

/// Delivers lines until stdout ends or a line is too long. The pipe is
/// dropped on return, so a server still writing gets EPIPE.
fn read_lines(stdout: ChildStdout, shared: &Shared) -> End {
    let mut lines = LineReader::new(stdout, MAX_LINE_BYTES);
    loop {
        match lines.next_line() {
            Ok(Line::Bytes(bytes)) => match String::from_utf8(bytes) {
                Ok(message) => {
                    if !shared.gate.deliver(message) {
                        return End::Eof;
                    }
                }
                Err(error) => shared.host.log(
                    LogLevel::Warn,
                    &format!(
                        "MCP server `{}` sent a line that is not valid UTF-8 ({} bytes, {}); skipped it",
                        shared.server,
                        error.as_bytes().len(),
                        error.utf8_error()
                    ),
                ),
            },
            Ok(Line::End) => return End::Eof,
            Ok(Line::TooLong) => {
                shared.host.log(
                    LogLevel::Warn,
                    &format!(
                        "MCP server `{}` sent a line longer than {} MiB; stopping it",
                        shared.server,
                        MAX_LINE_BYTES / (1024 * 1024)
                    ),
                );
                return End::TooLong;
            }
            Err(error) => {
                if error.kind() != IoErrorKind::BrokenPipe {
                    shared.host.log(
                        LogLevel::Warn,
                        &format!(
                            "cannot read the stdout of MCP server `{}`: {error}",
                            shared.server
                        ),
                    );
                }
                return End::Eof;
            }
        }
    }
}

/// Reaps a server whose stdout ended and says how it ended.
fn exit_report(shared: &Shared) -> PluginError {
    let outcome = shared.process.stop(Stop::AfterEof, &shared.closing);
    shared.tail.wait_finished(STDERR_DRAIN_WAIT);
    let server = &shared.server;
    let how = outcome.describe();
    let what = if outcome.exited_by_itself {
        format!("MCP server `{server}` exited ({how})")
    } else {
        format!("MCP server `{server}` closed its stdout and was stopped ({how})")
    };
    let stderr = shared
        .tail
        .summary(SUMMARY_CHARS)
        .unwrap_or_else(|| "(no stderr output)".to_owned());
    let mut message = format!("{what}; last stderr: {stderr}");
    if let Some(path) = &shared.log_path {
        message.push_str(&format!(" (full log: {})", path.display()));
    }
    shared.host.log(LogLevel::Info, &message);
    PluginError::new(ErrorKind::Unavailable, message)
}
