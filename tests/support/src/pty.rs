//! A pseudo-terminal for tests of what a command does on a terminal.

use std::fs::File;
use std::os::fd::FromRawFd;

/// A new pseudo-terminal: `(controller, terminal)`. Give the terminal to the
/// child as stdin, stdout or stderr; read what it drew from the controller.
pub fn open() -> (File, File) {
    let (mut controller, mut terminal) = (-1, -1);
    // SAFETY: openpty writes the two descriptors; the other arguments may be null.
    let status = unsafe {
        libc::openpty(
            &mut controller,
            &mut terminal,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(status, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned here.
    unsafe { (File::from_raw_fd(controller), File::from_raw_fd(terminal)) }
}
