//! Standard input and output as non-blocking pipes on the runtime, when
//! they are pipes.
//!
//! `tokio::io::stdin()`/`stdout()` do every read and write on a blocking
//! thread. A pipe can be polled instead, which saves two thread hand-offs
//! per request. Making a descriptor non-blocking changes its open file
//! description, which fds 0 and 1 and every process that inherited them
//! share: so only pipes are taken (an editor's pipes are its own, not
//! shared with a shell as a terminal is), and a caller must write nothing
//! else to standard output (the app server and the gateway write only
//! their protocol there, through the writer). The descriptors are
//! duplicated so that fds 0 and 1 stay open when the pipes are dropped.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::unix::pipe;

/// Standard input, to read from.
pub type Input = Pin<Box<dyn AsyncRead + Send>>;
/// Standard output, to write to.
pub type Output = Pin<Box<dyn AsyncWrite + Send>>;

/// Standard input and output: polled by the runtime when both are pipes,
/// else through tokio's blocking stdio (a terminal, a file). Called inside
/// the runtime, whose reactor the pipes register with.
pub fn stdio() -> (Input, Output) {
    match (reader(), writer()) {
        (Some(input), Some(output)) => (Box::pin(input), Box::pin(output)),
        _ => (Box::pin(tokio::io::stdin()), Box::pin(tokio::io::stdout())),
    }
}

fn duplicate(fd: std::os::fd::BorrowedFd<'_>) -> Option<File> {
    let owned: OwnedFd = fd.try_clone_to_owned().ok()?;
    Some(File::from(owned))
}

/// Standard input, when it is a pipe.
fn reader() -> Option<pipe::Receiver> {
    let file = duplicate(std::io::stdin().as_fd())?;
    is_fifo(&file).then_some(())?;
    pipe::Receiver::from_file(file).ok()
}

/// Standard output, when it is a pipe.
fn writer() -> Option<pipe::Sender> {
    let file = duplicate(std::io::stdout().as_fd())?;
    is_fifo(&file).then_some(())?;
    pipe::Sender::from_file(file).ok()
}

fn is_fifo(file: &File) -> bool {
    use std::os::unix::fs::FileTypeExt;
    file.metadata().is_ok_and(|meta| meta.file_type().is_fifo())
}
