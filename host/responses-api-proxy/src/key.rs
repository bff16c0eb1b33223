//! The API key: read once from stdin, kept as one locked copy for the life of
//! the process.
//!
//! Only stdin: argv and the environment of a process can be read by other
//! users (`/proc/PID/cmdline`) or outlive the variable (`/proc/PID/environ`
//! shows the initial environment even after `unsetenv`). The bytes go from
//! `read(2)` straight into a stack buffer (std's `Stdin` would keep a copy in
//! its `BufReader`), are copied once into an exact-size heap allocation that
//! is `mlock`ed, and the stack buffer is zeroized.

use std::fmt;
use std::io;

use zeroize::Zeroizing;

use crate::Error;

/// The whole header value, `Bearer ` and the key, must fit in this.
const BUFFER_SIZE: usize = 1024;
const PREFIX: &[u8] = b"Bearer ";

/// The `Authorization` header value, `Bearer KEY`. It is never dropped,
/// printed or copied by this crate; `Debug` shows no part of it.
#[derive(Clone, Copy)]
pub struct AuthHeader(&'static str);

impl AuthHeader {
    /// The header value, `Bearer KEY`.
    pub fn value(self) -> &'static str {
        self.0
    }

    /// The key alone, so that dumps can be scrubbed of it.
    pub fn key(self) -> &'static [u8] {
        &self.0.as_bytes()[PREFIX.len()..]
    }
}

impl fmt::Debug for AuthHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthHeader(Bearer *****)")
    }
}

/// Reads the key from stdin (up to a newline or EOF).
pub fn read_from_stdin() -> Result<AuthHeader, Error> {
    read_with(read_stdin)
}

/// One `read(2)` on fd 0, retried on EINTR.
fn read_stdin(buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: `buf` is a valid, writable slice of `buf.len()` bytes for
        // the duration of the call; read(2) writes at most that many.
        let n = unsafe { libc::read(libc::STDIN_FILENO, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n.unsigned_abs());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// Reads with `read` (one call per chunk) into a stack buffer that starts
/// with `Bearer `, and returns the checked header value.
fn read_with(mut read: impl FnMut(&mut [u8]) -> io::Result<usize>) -> Result<AuthHeader, Error> {
    // Zeroizing wipes the buffer on every return, errors included, with
    // writes the optimizer may not remove.
    let mut buf = Zeroizing::new([0u8; BUFFER_SIZE]);
    buf[..PREFIX.len()].copy_from_slice(PREFIX);
    let mut end = PREFIX.len();
    let mut complete = false;
    while end < BUFFER_SIZE {
        let n = read(&mut buf[end..])
            .map_err(|error| Error::new(format!("cannot read the API key from stdin: {error}")))?;
        if n == 0 {
            complete = true;
            break;
        }
        if let Some(newline) = buf[end..end + n].iter().position(|&byte| byte == b'\n') {
            end += newline;
            complete = true;
            break;
        }
        end += n;
    }
    if !complete {
        return Err(Error::new(format!(
            "API key is too large to fit in the {BUFFER_SIZE}-byte buffer"
        )));
    }
    while end > PREFIX.len() && matches!(buf[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    let key = &buf[PREFIX.len()..end];
    if key.is_empty() {
        // Codex 0.169's words, so scripts that match on them keep working.
        return Err(Error::new(
            "API key must be provided via stdin (e.g. printenv OPENAI_API_KEY | env -u OPENAI_API_KEY codex-responses-api-proxy)",
        ));
    }
    if !key
        .iter()
        .all(|&byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    {
        return Err(Error::new(
            "API key may only contain ASCII letters, numbers, '-' or '_'",
        ));
    }
    // Exactly one heap copy, of exactly the right size, so nothing is left
    // behind by a reallocation.
    let mut heap = Vec::with_capacity(end);
    heap.extend_from_slice(&buf[..end]);
    let value = String::from_utf8(heap)
        .map_err(|_| Error::new("API key may only contain ASCII letters, numbers, '-' or '_'"))?;
    let value: &'static str = value.leak();
    lock_in_memory(value.as_bytes());
    Ok(AuthHeader(value))
}

/// Keeps the pages holding `bytes` out of swap. A failure (a small
/// `RLIMIT_MEMLOCK`) is reported and the proxy goes on: the key is still
/// protected from other users, only not from the swap device.
#[cfg(unix)]
fn lock_in_memory(bytes: &[u8]) {
    // SAFETY: sysconf takes no pointers.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let page = usize::try_from(page).unwrap_or(4096).max(1);
    // POSIX lets mlock require a page-aligned address, so lock whole pages.
    let start = bytes.as_ptr() as usize / page * page;
    let end = (bytes.as_ptr() as usize).saturating_add(bytes.len());
    // SAFETY: mlock only changes paging of the range, which starts at the
    // page holding `bytes` and ends at its last byte; the memory is mapped
    // because `bytes` is a live allocation.
    let locked = unsafe { libc::mlock(start as *const libc::c_void, end - start) };
    if locked != 0 {
        eprintln!(
            "responses-api-proxy: warning: cannot lock the API key in memory ({}); it may be written to swap (raise `ulimit -l` to fix)",
            io::Error::last_os_error()
        );
    }
}

#[cfg(not(unix))]
fn lock_in_memory(_bytes: &[u8]) {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out `chunks` one per call, then EOF.
    fn chunks(chunks: &[&[u8]]) -> impl FnMut(&mut [u8]) -> io::Result<usize> {
        let mut chunks: Vec<Vec<u8>> = chunks.iter().rev().map(|chunk| chunk.to_vec()).collect();
        move |buf| match chunks.pop() {
            Some(chunk) => {
                let n = chunk.len().min(buf.len());
                buf[..n].copy_from_slice(&chunk[..n]);
                Ok(n)
            }
            None => Ok(0),
        }
    }

    fn message(result: Result<AuthHeader, Error>) -> String {
        match result {
            Ok(header) => panic!("expected an error, got {header:?}"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn reads_up_to_eof_newline_or_crlf() {
        for input in [&b"sk-abc_123"[..], b"sk-abc_123\n", b"sk-abc_123\r\n"] {
            let header = read_with(chunks(&[input])).unwrap();
            assert_eq!(header.value(), "Bearer sk-abc_123");
            assert_eq!(header.key(), b"sk-abc_123");
        }
    }

    #[test]
    fn short_reads_are_joined_and_what_follows_the_newline_is_ignored() {
        let header = read_with(chunks(&[b"sk-", b"ab", b"c\nnot-the-key"])).unwrap();
        assert_eq!(header.value(), "Bearer sk-abc");
    }

    #[test]
    fn empty_input_says_how_to_provide_the_key() {
        for input in [&b""[..], b"\n", b"\r\n"] {
            assert_eq!(
                message(read_with(chunks(&[input]))),
                "API key must be provided via stdin (e.g. printenv OPENAI_API_KEY | env -u OPENAI_API_KEY codex-responses-api-proxy)"
            );
        }
    }

    #[test]
    fn a_key_that_does_not_fit_is_refused() {
        let fits = vec![b'k'; BUFFER_SIZE - PREFIX.len() - 1];
        assert!(read_with(chunks(&[&fits, b"\n"])).is_ok());
        let too_long = vec![b'k'; BUFFER_SIZE];
        assert_eq!(
            message(read_with(chunks(&[&too_long]))),
            "API key is too large to fit in the 1024-byte buffer"
        );
    }

    #[test]
    fn only_letters_digits_dash_and_underscore() {
        for input in [&b"sk abc"[..], b"sk-\xff", b"sk\0abc", b"sk=abc", b"\rsk"] {
            assert_eq!(
                message(read_with(chunks(&[input]))),
                "API key may only contain ASCII letters, numbers, '-' or '_'"
            );
        }
    }

    #[test]
    fn read_errors_are_reported() {
        let error = read_with(|_| Err(io::Error::other("boom"))).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot read the API key from stdin: boom"
        );
    }

    #[test]
    fn debug_hides_the_key() {
        let header = read_with(chunks(&[b"sk-secret"])).unwrap();
        assert!(!format!("{header:?}").contains("secret"));
    }
}
