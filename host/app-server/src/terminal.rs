//! The pseudo-terminal of a `command/exec` started with `tty: true`: the
//! pair is opened with close-on-exec set from the start (no other child
//! spawned meanwhile inherits it), the child makes the terminal its
//! controlling one, and the master side is read, written and resized here.

use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A terminal size in character cells, as the protocol gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
pub struct TerminalSize {
    pub rows: u16,
    pub cols: u16,
}

/// The size a terminal gets when the request gives none, as in Codex.
pub const DEFAULT_SIZE: TerminalSize = TerminalSize { rows: 24, cols: 80 };

/// The master side of a pseudo-terminal.
#[derive(Debug)]
pub struct Terminal {
    master: OwnedFd,
}

impl Terminal {
    /// Opens a pair: the master kept here, the slave returned for the child.
    pub fn open(size: TerminalSize) -> io::Result<(Terminal, OwnedFd)> {
        // SAFETY: posix_openpt takes flags only; the result is checked.
        let master = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
        if master < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `master` was just returned and is owned by nobody else.
        let master = unsafe { OwnedFd::from_raw_fd(master) };
        // SAFETY: grantpt on the master descriptor we own.
        if unsafe { libc::grantpt(master.as_raw_fd()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: unlockpt on the master descriptor we own.
        if unsafe { libc::unlockpt(master.as_raw_fd()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut name = [0 as libc::c_char; 128];
        // SAFETY: ptsname_r writes a NUL-terminated name into the buffer of
        // the length given.
        let failed = unsafe { libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()) };
        if failed != 0 {
            return Err(io::Error::from_raw_os_error(failed));
        }
        // SAFETY: ptsname_r succeeded, so the buffer holds a C string.
        let name = unsafe { CStr::from_ptr(name.as_ptr()) };
        // SAFETY: open with a NUL-terminated path and flags; checked below.
        let slave = unsafe {
            libc::open(
                name.as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            )
        };
        if slave < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `slave` was just returned and is owned by nobody else.
        let slave = unsafe { OwnedFd::from_raw_fd(slave) };
        let terminal = Terminal { master };
        terminal.resize(size)?;
        Ok((terminal, slave))
    }

    pub fn resize(&self, size: TerminalSize) -> io::Result<()> {
        let window = libc::winsize {
            ws_row: size.rows,
            ws_col: size.cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads a winsize that lives across the call.
        if unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &window) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Another handle on the master, to read the output from or to write
    /// the input to.
    pub fn handle(&self) -> io::Result<File> {
        Ok(File::from(self.master.try_clone()?))
    }
}

/// For `pre_exec`, in the child, async-signal-safe: a new session whose
/// controlling terminal is the one on standard input (the slave).
pub fn become_session_leader() -> io::Result<()> {
    // SAFETY: setsid and ioctl take no pointers; both are async-signal-safe.
    unsafe {
        if libc::setsid() < 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::ioctl(0, libc::TIOCSCTTY, 0) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
