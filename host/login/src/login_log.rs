//! `codex-login.log`, as Codex 0.169 writes it: `$CODEX_HOME/log/` (or the
//! config's `log_dir`), created 0600, one line appended per event of a
//! login, in the shape of Codex's tracing lines:
//!
//! ```text
//! 2026-12-04T21:17:06.694620Z  INFO codex_cli::login: starting browser login flow
//! ```
//!
//! Only what happened is written (the flow, a callback's shape, the
//! outcome), never a code, token, key or `state`. A log that cannot be
//! opened is no reason to fail a login: the events are then dropped.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The file's name in the log directory.
pub const FILE_NAME: &str = "codex-login.log";

/// An open `codex-login.log` (cheap to clone; every clone appends to it).
#[derive(Clone, Default)]
pub struct LoginLog {
    file: Option<Arc<Mutex<File>>>,
}

impl LoginLog {
    /// `log_dir` (default `$CODEX_HOME/log`), created as needed.
    pub fn open(codex_home: &Path, log_dir: Option<&Path>) -> LoginLog {
        let dir: PathBuf = log_dir.map_or_else(|| codex_home.join("log"), Path::to_path_buf);
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = std::fs::create_dir_all(&dir)
            .and_then(|()| options.open(dir.join(FILE_NAME)))
            .ok();
        LoginLog {
            file: file.map(|file| Arc::new(Mutex::new(file))),
        }
    }

    /// The log of a config: its `log_dir`, else `$CODEX_HOME/log`.
    pub fn for_config(codex_home: &Path, merged: &toml::Table) -> LoginLog {
        let log_dir = merged
            .get("log_dir")
            .and_then(toml::Value::as_str)
            .map(PathBuf::from);
        LoginLog::open(codex_home, log_dir.as_deref())
    }

    pub fn info(&self, target: &str, message: &str) {
        self.write("INFO", target, message);
    }

    pub fn warn(&self, target: &str, message: &str) {
        self.write("WARN", target, message);
    }

    fn write(&self, level: &str, target: &str, message: &str) {
        let Some(file) = &self.file else { return };
        let line = format!(
            "{} {level:>5} {target}: {message}\n",
            crate::time::now_rfc3339_micros()
        );
        if let Ok(mut file) = file.lock() {
            let _ = file.write_all(line.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_look_like_codexs_and_the_file_is_private() {
        let home = tempfile::tempdir().unwrap();
        let log = LoginLog::open(home.path(), None);
        log.info("codex_cli::login", "starting browser login flow");
        log.warn("codex_login::server", "login callback state mismatch");
        let path = home.path().join("log").join(FILE_NAME);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0].ends_with("Z  INFO codex_cli::login: starting browser login flow"),
            "{text}"
        );
        assert_eq!(lines[0].find('Z'), Some(26), "{text}");
        assert!(lines[1].contains("Z  WARN codex_login::server: "), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
