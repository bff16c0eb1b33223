//! Writing messages to a server's stdin without ever blocking the host.
//!
//! The write end of the pipe is non-blocking. [`StdinWriter::send`] writes a
//! message at once on the caller's thread when nothing is queued (the common
//! case: a small request into an empty pipe), which saves a hand-off to
//! another thread on every call. What a full pipe does not take is queued, and
//! the writer thread ([`StdinWriter::run`]) writes it as the server reads.
//! Queued bytes always go first, so messages keep their order.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::process::ChildStdin;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// How long the writer thread waits for the pipe to take more before it
/// looks again whether the connection is closing.
const POLL_MS: libc::c_int = 100;

/// The stdin of one server, shared by the connection and its writer thread.
pub struct StdinWriter {
    state: Mutex<State>,
    /// Signalled when bytes are queued or the connection closes.
    wake: Condvar,
}

struct State {
    /// `None` once stdin is closed (the server sees end of input).
    stdin: Option<ChildStdin>,
    /// Bytes a full pipe did not take yet, in order.
    queued: VecDeque<u8>,
    /// Why the last write failed; no more writes after one fails.
    failed: Option<io::Error>,
    closing: bool,
}

/// Why a message was not accepted.
pub enum SendError {
    /// Stdin was closed by [`StdinWriter::close`].
    Closed,
    /// A write failed (the server closed its stdin or exited).
    Failed(String),
}

impl StdinWriter {
    /// Takes over `stdin`, making its write end non-blocking (the server's
    /// read end is a separate open file and stays as it was).
    pub fn new(stdin: ChildStdin) -> io::Result<StdinWriter> {
        set_nonblocking(stdin.as_raw_fd())?;
        Ok(StdinWriter {
            state: Mutex::new(State {
                stdin: Some(stdin),
                queued: VecDeque::new(),
                failed: None,
                closing: false,
            }),
            wake: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes `message` and a newline, or queues what the pipe does not take.
    /// Never waits for the server.
    pub fn send(&self, message: &str) -> Result<(), SendError> {
        let mut state = self.lock();
        if let Some(error) = &state.failed {
            return Err(SendError::Failed(error.to_string()));
        }
        let Some(stdin) = state.stdin.as_ref().filter(|_| !state.closing) else {
            return Err(SendError::Closed);
        };
        let mut line = Vec::with_capacity(message.len() + 1);
        line.extend_from_slice(message.as_bytes());
        line.push(b'\n');
        let written = if state.queued.is_empty() {
            match write_some(stdin, &line) {
                Ok(written) => written,
                Err(error) => {
                    let text = error.to_string();
                    state.failed = Some(error);
                    // The writer thread ends and reports it.
                    self.wake.notify_one();
                    return Err(SendError::Failed(text));
                }
            }
        } else {
            0
        };
        if written < line.len() {
            state.queued.extend(&line[written..]);
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Stops accepting messages; the writer thread writes what the pipe
    /// takes at once of the queue, then closes stdin.
    pub fn close(&self) {
        self.lock().closing = true;
        self.wake.notify_one();
    }

    /// The writer thread: writes queued bytes as the pipe takes them, until
    /// the connection closes or a write fails. Returns the failed write's
    /// error, if one did (`None` when closed).
    pub fn run(&self) -> Option<io::Error> {
        let mut state = self.lock();
        loop {
            while state.queued.is_empty() && !state.closing && state.failed.is_none() {
                state = self
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if state.failed.is_some() {
                state.queued.clear();
                state.stdin = None;
                return state.failed.as_ref().map(copy_error);
            }
            if state.queued.is_empty() {
                // Closing with nothing left: the server sees end of input.
                state.stdin = None;
                return None;
            }
            let stdin = state.stdin.as_ref()?;
            let fd = stdin.as_raw_fd();
            match write_some(stdin, state.queued.as_slices().0) {
                Ok(0) if state.closing => {
                    // The server does not read and is being stopped: what it
                    // has not taken is of no use to it any more.
                    state.queued.clear();
                }
                Ok(0) => {
                    drop(state);
                    wait_writable(fd);
                    state = self.lock();
                }
                Ok(written) => {
                    state.queued.drain(..written);
                }
                Err(error) => {
                    state.failed = Some(error);
                }
            }
        }
    }
}

/// Writes what the non-blocking pipe takes of `bytes` now: `Ok(0)` when it
/// is full. Writing to a pipe nobody reads raises SIGPIPE, which kills a host
/// that has not ignored it, so the signal is blocked in this thread for the
/// write and one it raised is taken back: the caller gets EPIPE instead,
/// whatever the host's disposition.
fn write_some(mut stdin: &ChildStdin, bytes: &[u8]) -> io::Result<usize> {
    // SAFETY: the sets are initialised by sigemptyset/pthread_sigmask before
    // use, pthread_sigmask only changes the calling thread's mask, and
    // sigtimedwait with a zero timeout only takes a signal already pending.
    unsafe {
        let mut pipe_signal: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut pipe_signal);
        libc::sigaddset(&mut pipe_signal, libc::SIGPIPE);
        let mut previous: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, &pipe_signal, &mut previous);
        let result = loop {
            match stdin.write(bytes) {
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(error) if error.kind() == ErrorKind::WouldBlock => break Ok(0),
                other => break other,
            }
        };
        if matches!(&result, Err(error) if error.kind() == ErrorKind::BrokenPipe)
            && libc::sigismember(&previous, libc::SIGPIPE) == 0
        {
            let no_wait = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            libc::sigtimedwait(&pipe_signal, std::ptr::null_mut(), &no_wait);
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &previous, std::ptr::null_mut());
        result
    }
}

/// Waits until the pipe takes more, it breaks, or [`POLL_MS`] passes.
fn wait_writable(fd: RawFd) {
    let mut poll = libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd; the fd stays open, as only the writer thread
    // closes stdin and it is the one waiting here.
    unsafe {
        libc::poll(&mut poll, 1, POLL_MS);
    }
}

fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on an fd this process owns; F_GETFL/F_SETFL take no pointers.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

fn copy_error(error: &io::Error) -> io::Error {
    io::Error::new(error.kind(), error.to_string())
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};
    use std::sync::Arc;
    use std::thread;

    use super::*;

    fn cat() -> (std::process::Child, Arc<StdinWriter>) {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn cat");
        let stdin = child.stdin.take().expect("stdin");
        (child, Arc::new(StdinWriter::new(stdin).expect("writer")))
    }

    #[test]
    fn messages_beyond_a_full_pipe_arrive_whole_and_in_order() {
        let (mut child, writer) = cat();
        let thread_writer = Arc::clone(&writer);
        let thread = thread::spawn(move || thread_writer.run());
        // Far more than a pipe holds (64 KiB), sent before anything is read.
        let messages: Vec<String> = (0..2000)
            .map(|index| format!("{index:05}{}", "x".repeat(500)))
            .collect();
        for message in &messages {
            assert!(writer.send(message).is_ok());
        }
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        for message in &messages {
            let mut line = String::new();
            stdout.read_line(&mut line).expect("read");
            assert_eq!(line.trim_end(), message);
        }
        writer.close();
        let mut rest = Vec::new();
        stdout.read_to_end(&mut rest).expect("end of output");
        assert!(rest.is_empty(), "cat saw end of input after the last line");
        assert!(thread.join().expect("writer thread").is_none());
        assert!(matches!(writer.send("late"), Err(SendError::Closed)));
        let _ = child.wait();
    }

    #[test]
    fn closing_with_a_full_pipe_of_a_server_that_does_not_read_does_not_wait() {
        let mut child = Command::new("sleep")
            .arg("30")
            .stdin(Stdio::piped())
            .spawn()
            .expect("spawn sleep");
        let writer =
            Arc::new(StdinWriter::new(child.stdin.take().expect("stdin")).expect("writer"));
        let thread_writer = Arc::clone(&writer);
        let thread = thread::spawn(move || thread_writer.run());
        let big = "y".repeat(1 << 20);
        assert!(
            writer.send(&big).is_ok(),
            "a full pipe queues instead of failing"
        );
        writer.close();
        assert!(thread.join().expect("writer thread").is_none());
        let _ = child.kill();
        let _ = child.wait();
    }

    #[test]
    fn a_server_that_exited_is_a_failed_write_not_a_signal() {
        let mut child = Command::new("true")
            .stdin(Stdio::piped())
            .spawn()
            .expect("spawn true");
        let writer = StdinWriter::new(child.stdin.take().expect("stdin")).expect("writer");
        child.wait().expect("wait");
        // The first write into a pipe without a reader fails with EPIPE.
        match writer.send("hello") {
            Err(SendError::Failed(text)) => assert!(text.contains("pipe"), "{text}"),
            _ => panic!("a write to an exited server must fail"),
        }
        assert!(matches!(writer.send("again"), Err(SendError::Failed(_))));
        assert!(
            writer.run().is_some(),
            "the writer thread reports the failure"
        );
    }
}
