//! One file holding a JSON object, read without trusting it and written
//! atomically.
//!
//! Rules: a file that exists but is not a JSON object is an error naming the
//! file, line and column, and is never written over; writers hold the sibling
//! lock, write a 0600 temporary file in the same directory, fsync it, rename
//! it over the target and fsync the directory, so a reader sees the old or
//! the new file and never a mix, and a crash loses at most the last update.

use std::fs::{self, File};
use std::io::{ErrorKind as IoErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use codex_plugin_api::{PluginError, PluginResult};
use serde_json::{Map, Value};

use crate::lock::{self, LockGuard};
use crate::log::Log;
use crate::mcp_record::kind_of;

/// A JSON-object file in the backend's directory.
#[derive(Debug)]
pub(crate) struct JsonFile {
    dir: PathBuf,
    name: String,
    path: PathBuf,
    lock_path: PathBuf,
    /// Set once the loose-permissions warning was logged, so it is not
    /// repeated on every read.
    mode_warned: AtomicBool,
}

/// What a read found: the raw text and its top-level object.
#[derive(Debug)]
pub(crate) struct Contents {
    pub text: String,
    pub map: Map<String, Value>,
}

impl JsonFile {
    /// The file `name` in `dir`, locked through `name.lock`.
    pub fn new(dir: &Path, name: &str) -> Self {
        JsonFile {
            dir: dir.to_path_buf(),
            name: name.to_owned(),
            path: dir.join(name),
            lock_path: dir.join(format!("{name}.lock")),
            mode_warned: AtomicBool::new(false),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file exists now (a hint only; writers re-read under the lock).
    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// Reads and checks the file; `None` if it (or its directory) does not exist.
    pub fn read(&self, log: &Log) -> PluginResult<Option<Contents>> {
        let mut file = match File::open(&self.path) {
            Ok(file) => file,
            Err(error) if error.kind() == IoErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(self.io_error("cannot open", &error)),
        };
        self.warn_if_readable_by_others(&file, log);
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|error| self.io_error("cannot read", &error))?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|error| {
            self.corrupt(
                error.line(),
                error.column(),
                &format!("not valid JSON: {}", serde_problem(&error)),
            )
        })?;
        let Value::Object(map) = value else {
            let (line, column) = first_token_position(&bytes);
            return Err(self.corrupt(
                line,
                column,
                &format!(
                    "expected a JSON object at the top level, found {}",
                    kind_of(&value)
                ),
            ));
        };
        // Parsing succeeded, so the bytes are UTF-8; checked anyway.
        let text = String::from_utf8(bytes).map_err(|error| {
            let (line, column) = position_of(error.as_bytes(), error.utf8_error().valid_up_to());
            self.corrupt(line, column, "not valid UTF-8")
        })?;
        Ok(Some(Contents { text, map }))
    }

    /// Creates the directory (mode 0700) if it is missing.
    pub fn ensure_dir(&self) -> PluginResult<()> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(&self.dir).map_err(|error| {
            PluginError::io(format!(
                "cannot create the directory `{}`: {error}",
                self.dir.display()
            ))
        })
    }

    /// Takes the writers' lock; the directory must exist.
    pub fn lock(&self, timeout: Duration) -> PluginResult<LockGuard> {
        lock::acquire(&self.lock_path, timeout)
    }

    /// Replaces the file with `bytes` (mode 0600). The caller holds the lock.
    pub fn write(&self, _lock: &LockGuard, bytes: &[u8]) -> PluginResult<()> {
        let prefix = format!(".{}.", self.name);
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(fs::Permissions::from_mode(0o600));
        }
        let mut temp = builder
            .tempfile_in(&self.dir)
            .map_err(|error| self.io_error("cannot create a temporary file next to", &error))?;
        temp.write_all(bytes)
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|error| self.io_error("cannot write a temporary file next to", &error))?;
        temp.persist(&self.path)
            .map_err(|error| self.io_error("cannot replace", &error.error))?;
        self.sync_dir()
    }

    /// Removes the file; `false` if it was not there. The caller holds the lock.
    pub fn remove(&self, _lock: &LockGuard) -> PluginResult<bool> {
        match fs::remove_file(&self.path) {
            Ok(()) => {
                self.sync_dir()?;
                Ok(true)
            }
            Err(error) if error.kind() == IoErrorKind::NotFound => Ok(false),
            Err(error) => Err(self.io_error("cannot remove", &error)),
        }
    }

    /// Makes a rename or removal durable: it lives in the directory's entry.
    fn sync_dir(&self) -> PluginResult<()> {
        #[cfg(unix)]
        {
            File::open(&self.dir)
                .and_then(|dir| dir.sync_all())
                .map_err(|error| {
                    PluginError::io(format!(
                        "cannot flush the directory `{}` to disk: {error}",
                        self.dir.display()
                    ))
                })?;
        }
        Ok(())
    }

    #[cfg(unix)]
    fn warn_if_readable_by_others(&self, file: &File, log: &Log) {
        use std::os::unix::fs::PermissionsExt;
        let Ok(metadata) = file.metadata() else {
            return;
        };
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 && !self.mode_warned.swap(true, Ordering::Relaxed) {
            log.warn(&format!(
                "`{}` is open to other users (mode {mode:04o}); it holds secrets. It is \
                 rewritten with mode 0600 on the next change; run `chmod 600 {}` to fix it now",
                self.path.display(),
                self.path.display()
            ));
        }
    }

    #[cfg(not(unix))]
    fn warn_if_readable_by_others(&self, _file: &File, _log: &Log) {
        let _ = &self.mode_warned;
    }

    fn io_error(&self, what: &str, error: &std::io::Error) -> PluginError {
        PluginError::io(format!("{what} `{}`: {error}", self.path.display()))
    }

    fn corrupt(&self, line: usize, column: usize, problem: &str) -> PluginError {
        PluginError::invalid_config(format!(
            "`{}` line {line}, column {column}: {problem}; fix it or move it aside; it was left \
             unchanged",
            self.path.display()
        ))
    }
}

/// serde_json's description without its trailing " at line L column C".
/// For syntax errors on a `Value` these are fixed phrases that never quote
/// the input.
fn serde_problem(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    }
}

/// 1-based line and column of the first non-whitespace byte.
fn first_token_position(bytes: &[u8]) -> (usize, usize) {
    let offset = bytes
        .iter()
        .position(|byte| !byte.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    position_of(bytes, offset)
}

/// 1-based line and column (in bytes) of `offset`.
fn position_of(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&byte| byte == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(0, |newline| newline + 1);
    (line, before.len() - line_start + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        assert_eq!(first_token_position(b"\n\n  [1]"), (3, 3));
        assert_eq!(first_token_position(b"[]"), (1, 1));
    }

    #[test]
    fn serde_problem_drops_the_position() {
        let error = serde_json::from_str::<Value>("{\"a\": 1,}").unwrap_err();
        assert_eq!(serde_problem(&error), "trailing comma");
    }

    #[test]
    fn a_top_level_array_is_refused_with_its_position() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("x.json"), "\n  [1, 2]\n").unwrap();
        let file = JsonFile::new(dir.path(), "x.json");
        let error = file.read(&Log::default()).unwrap_err();
        assert_eq!(
            error.message.as_str(),
            format!(
                "`{}` line 2, column 3: expected a JSON object at the top level, found an \
                 array; fix it or move it aside; it was left unchanged",
                dir.path().join("x.json").display()
            )
        );
    }
}
