//! The lock that serializes refreshes of one login across processes.
//!
//! Providers that rotate refresh tokens accept each one once: two `codex`
//! processes refreshing with the same token at the same time would leave
//! one of them (and the stored login) with a dead token. So a refresh takes
//! this lock, reads the stored login again (another process may have
//! refreshed it meanwhile) and only then, if still needed, refreshes.
//!
//! The lock is an exclusive `flock` on `$CODEX_HOME/.locks/<hash>.lock`,
//! one file per stored login, released when its handle closes (also when
//! the process dies).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use codex_plugin_api::{ErrorKind, PluginError, PluginResult};
use sha2::{Digest, Sha256};

/// How long a refresh waits for another process's refresh of the same login.
pub const REFRESH_LOCK_WAIT: Duration = Duration::from_secs(30);

/// Held while one login is refreshed.
pub struct RefreshLock {
    _file: File,
}

/// The lock file of the login stored under `account`.
pub fn lock_path(codex_home: &Path, account: &str) -> PathBuf {
    let digest = Sha256::digest(account.as_bytes());
    let name: String = digest[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    codex_home
        .join(".locks")
        .join(format!("mcp-oauth-{name}.lock"))
}

/// Takes the lock of the login stored under `account`, waiting up to `wait`.
pub async fn acquire(
    codex_home: &Path,
    account: &str,
    wait: Duration,
) -> PluginResult<RefreshLock> {
    let path = lock_path(codex_home, account);
    let file = open(&path).map_err(|error| {
        PluginError::io(format!(
            "cannot open the refresh lock `{}`: {error}",
            path.display()
        ))
    })?;
    let started = Instant::now();
    loop {
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => return Ok(RefreshLock { _file: file }),
            Err(fs4::TryLockError::WouldBlock) => {}
            Err(fs4::TryLockError::Error(error)) => {
                return Err(PluginError::io(format!(
                    "cannot lock `{}`: {error}",
                    path.display()
                )));
            }
        }
        if started.elapsed() >= wait {
            return Err(PluginError::new(
                ErrorKind::Timeout,
                format!(
                    "another process has been refreshing this login for {} s (lock `{}`); try again",
                    wait.as_secs(),
                    path.display()
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn open(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir)?;
    }
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_holder_waits_and_then_times_out() {
        let home = tempfile::tempdir().unwrap();
        let first = acquire(home.path(), "docs|0123", REFRESH_LOCK_WAIT)
            .await
            .unwrap();
        let error = acquire(home.path(), "docs|0123", Duration::from_millis(100))
            .await
            .err()
            .unwrap();
        assert_eq!(error.kind, ErrorKind::Timeout);
        // Another login has its own lock.
        acquire(home.path(), "other|4567", Duration::from_millis(100))
            .await
            .unwrap();
        drop(first);
        acquire(home.path(), "docs|0123", Duration::from_millis(100))
            .await
            .unwrap();
    }
}
