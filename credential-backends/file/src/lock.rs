//! The exclusive lock every writer takes on a sibling `NAME.lock` file.
//!
//! The lock is taken on a separate file, not on the data file, because the
//! data file is replaced by rename on every write: a lock on the old inode
//! would not exclude a writer that opened the new one.

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use codex_plugin_api::{ErrorKind, PluginError, PluginResult};

/// How long a writer waits for another one before giving up.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Held for the duration of one read-modify-write; the lock is released when
/// the file handle closes, so also when the process dies.
#[derive(Debug)]
pub(crate) struct LockGuard {
    _file: File,
}

/// Takes the exclusive lock on `lock_path` (creating it with mode 0600),
/// polling until `timeout` has passed.
pub(crate) fn acquire(lock_path: &Path, timeout: Duration) -> PluginResult<LockGuard> {
    let file = open_lock_file(lock_path).map_err(|error| {
        PluginError::io(format!(
            "cannot open the lock file `{}`: {error}",
            lock_path.display()
        ))
    })?;
    let started = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => return Ok(LockGuard { _file: file }),
            Err(fs4::TryLockError::WouldBlock) => {}
            Err(fs4::TryLockError::Error(error)) => {
                return Err(PluginError::io(format!(
                    "cannot lock `{}`: {error}",
                    lock_path.display()
                )));
            }
        }
        let waited = started.elapsed();
        if waited >= timeout {
            return Err(PluginError::new(
                ErrorKind::Timeout,
                format!(
                    "timed out after {:.1} s waiting for the lock `{}`; another process is \
                     writing credentials there; try again, and if it keeps happening, find the \
                     process holding the lock (e.g. `fuser {}`)",
                    timeout.as_secs_f64(),
                    lock_path.display(),
                    lock_path.display()
                ),
            ));
        }
        thread::sleep(pause.min(timeout - waited));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

fn open_lock_file(lock_path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(lock_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_makes_the_second_writer_time_out_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let lock_path = dir.path().join("x.lock");
        let held = acquire(&lock_path, Duration::from_millis(100)).unwrap();
        let started = Instant::now();
        let error = acquire(&lock_path, Duration::from_millis(200)).unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert_eq!(error.kind, ErrorKind::Timeout);
        assert!(
            error.message.contains(&lock_path.display().to_string()),
            "{}",
            error.message
        );
        drop(held);
        acquire(&lock_path, Duration::from_millis(100)).unwrap();
    }
}
