//! A server's standard error: kept as a short tail for error messages and
//! appended in full to `$CODEX_HOME/log/mcp/NAME.stderr.log`.
//!
//! The tail is what the user sees when a server dies ("last stderr: ..."), so
//! it is bounded in lines and bytes and cleaned of terminal escapes. The log
//! file keeps everything, for when the tail is not enough.

use std::collections::VecDeque;
use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use codex_plugin_api::{HostServices, LogLevel};

/// Lines kept in the tail.
const TAIL_LINES: usize = 20;
/// Bytes kept in the tail, across its lines.
const TAIL_BYTES: usize = 8 * 1024;
/// A log file larger than this when a server starts is emptied first.
pub const LOG_TRUNCATE_BYTES: u64 = 10 * 1024 * 1024;
/// How much of the tail goes into an error message.
pub const SUMMARY_CHARS: usize = 500;

/// The last lines a server wrote to standard error, shared between the
/// thread reading them and whoever reports the server's exit.
#[derive(Default)]
pub struct StderrTail {
    state: Mutex<TailState>,
    finished_changed: Condvar,
}

#[derive(Default)]
struct TailState {
    lines: VecDeque<String>,
    bytes: usize,
    finished: bool,
}

impl StderrTail {
    fn lock(&self) -> MutexGuard<'_, TailState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds one line, dropping the oldest ones beyond the bounds.
    pub fn push(&self, line: String) {
        let line = truncate_to(line, TAIL_BYTES);
        let mut state = self.lock();
        state.bytes += line.len();
        state.lines.push_back(line);
        while state.lines.len() > TAIL_LINES || state.bytes > TAIL_BYTES {
            match state.lines.pop_front() {
                Some(old) => state.bytes -= old.len(),
                None => break,
            }
        }
    }

    /// Marks standard error as fully read.
    pub fn finish(&self) {
        self.lock().finished = true;
        self.finished_changed.notify_all();
    }

    /// Waits until standard error is fully read or `timeout` passes; `true` if read.
    pub fn wait_finished(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        while !state.finished {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = match self.finished_changed.wait_timeout(state, deadline - now) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }

    /// The tail as one line: the lines joined with ` | `, cut to the last
    /// `max_chars` characters; `None` if the server wrote nothing.
    pub fn summary(&self, max_chars: usize) -> Option<String> {
        let state = self.lock();
        if state.lines.is_empty() {
            return None;
        }
        let joined = state
            .lines
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" | ");
        let count = joined.chars().count();
        if count <= max_chars {
            return Some(joined);
        }
        let kept: String = joined.chars().skip(count - max_chars).collect();
        Some(format!("…{kept}"))
    }
}

/// Cuts `line` to at most `max` bytes on a character boundary.
fn truncate_to(mut line: String, max: usize) -> String {
    if line.len() > max {
        let mut end = max;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
    }
    line
}

/// Makes a line of server output safe to show on a terminal: drops ANSI
/// escape sequences and replaces other control characters with spaces.
pub fn clean_line(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut cleaned = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // A CSI sequence ends with a byte in `@`..=`~`.
                for next in chars.by_ref() {
                    if ('@'..='~').contains(&next) {
                        break;
                    }
                }
            }
        } else if c.is_control() && c != '\t' {
            cleaned.push(' ');
        } else {
            cleaned.push(c);
        }
    }
    cleaned.trim_end().to_owned()
}

/// The log file of server `server` under `codex_home`.
pub fn log_path(codex_home: &Path, server: &str) -> PathBuf {
    // Codex restricts server names to `[A-Za-z0-9_-]`; anything else is
    // replaced so that a name can never leave the directory.
    let file_name: String = server
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    codex_home
        .join("log")
        .join("mcp")
        .join(format!("{file_name}.stderr.log"))
}

/// Opens (creating it and its directories) the log file at `path` for
/// appending, readable by its owner only, emptied first if it has grown
/// past [`LOG_TRUNCATE_BYTES`].
pub fn open_log(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    // An existing file keeps its old mode on open; stderr may hold secrets.
    file.set_permissions(Permissions::from_mode(0o600))?;
    if file.metadata()?.len() > LOG_TRUNCATE_BYTES {
        file.set_len(0)?;
    }
    Ok(file)
}

/// Where [`pump`] sends what it reads.
pub struct StderrSink<'a> {
    /// The in-memory tail.
    pub tail: &'a StderrTail,
    /// The per-server log file, if it could be opened.
    pub log: Option<File>,
    /// For debug lines and write failures.
    pub host: &'a HostServices,
    /// The server's name, for log lines.
    pub server: &'a str,
}

/// Reads `stderr` to its end, feeding `sink`, then marks the tail finished.
pub fn pump(mut stderr: impl Read, mut sink: StderrSink<'_>) {
    let mut chunk = [0u8; 8 * 1024];
    let mut line: Vec<u8> = Vec::new();
    loop {
        let count = match stderr.read(&mut chunk) {
            Ok(0) => break,
            Ok(count) => count,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => {
                sink.host.log(
                    LogLevel::Debug,
                    &format!(
                        "stopped reading stderr of MCP server `{}`: {error}",
                        sink.server
                    ),
                );
                break;
            }
        };
        let bytes = &chunk[..count];
        sink.append_to_log(bytes);
        for piece in bytes.split_inclusive(|&byte| byte == b'\n') {
            let room = TAIL_BYTES.saturating_sub(line.len());
            line.extend_from_slice(&piece[..piece.len().min(room)]);
            if piece.last() == Some(&b'\n') {
                sink.line(&line);
                line.clear();
            }
        }
    }
    if !line.is_empty() {
        sink.line(&line);
    }
    sink.tail.finish();
}

impl StderrSink<'_> {
    fn line(&self, raw: &[u8]) {
        let cleaned = clean_line(raw);
        if cleaned.trim().is_empty() {
            return;
        }
        self.host.log(
            LogLevel::Debug,
            &format!("MCP server stderr ({}): {cleaned}", self.server),
        );
        self.tail.push(cleaned);
    }

    fn append_to_log(&mut self, bytes: &[u8]) {
        let Some(file) = self.log.as_mut() else {
            return;
        };
        if let Err(error) = file.write_all(bytes) {
            self.host.log(
                LogLevel::Warn,
                &format!(
                    "cannot write the stderr log of MCP server `{}` ({error}); keeping only the last lines in memory",
                    self.server
                ),
            );
            self.log = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_last_twenty_lines() {
        let tail = StderrTail::default();
        for index in 0..30 {
            tail.push(format!("line {index}"));
        }
        let summary = tail.summary(10_000).unwrap();
        assert!(summary.starts_with("line 10 | line 11"), "{summary}");
        assert!(summary.ends_with("line 29"));
    }

    #[test]
    fn the_tail_is_bounded_in_bytes() {
        let tail = StderrTail::default();
        for _ in 0..5 {
            tail.push("x".repeat(5000));
        }
        let state = tail.lock();
        assert!(state.bytes <= TAIL_BYTES);
        assert_eq!(state.lines.len(), 1);
    }

    #[test]
    fn the_summary_keeps_the_end() {
        let tail = StderrTail::default();
        assert_eq!(tail.summary(10), None);
        tail.push("first".into());
        tail.push("second é".into());
        assert_eq!(tail.summary(100).unwrap(), "first | second é");
        assert_eq!(tail.summary(8).unwrap(), "…second é");
    }

    #[test]
    fn terminal_escapes_are_removed() {
        assert_eq!(clean_line(b"\x1b[31merror\x1b[0m: bad\x07\r"), "error: bad");
        assert_eq!(clean_line(b"caf\xc3\xa9 \xff"), "café \u{fffd}");
    }

    #[test]
    fn waiting_for_the_end_is_bounded() {
        let tail = StderrTail::default();
        assert!(!tail.wait_finished(Duration::from_millis(20)));
        tail.finish();
        assert!(tail.wait_finished(Duration::from_millis(20)));
    }

    #[test]
    fn a_name_cannot_escape_the_log_directory() {
        let path = log_path(Path::new("/home/u/.codex"), "../x/y");
        assert_eq!(path, Path::new("/home/u/.codex/log/mcp/___x_y.stderr.log"));
    }

    #[test]
    fn an_oversized_log_is_emptied_and_made_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log/mcp/demo.stderr.log");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, vec![b'x'; LOG_TRUNCATE_BYTES as usize + 1]).unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        let mut file = open_log(&path).unwrap();
        file.write_all(b"new\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_small_log_is_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/demo.stderr.log");
        open_log(&path).unwrap().write_all(b"one\n").unwrap();
        open_log(&path).unwrap().write_all(b"two\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"one\ntwo\n");
    }
}
