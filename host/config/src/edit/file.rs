//! Editing one TOML file safely: under an exclusive lock, re-read, changed
//! through `toml_edit` (so comments and formatting survive), and written
//! atomically with its mode kept.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fs4::{FileExt, TryLockError};
use toml_edit::DocumentMut;

use crate::error::ConfigError;
use crate::layers::{parse_document, syntax_error};

/// How long an edit waits for other processes' edits to finish. Polling
/// takes no turns, so with many writers at once on a loaded machine one of
/// them can wait through many others' edits: the bound is generous.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Mode of a config file that does not exist yet (it may hold secrets).
#[cfg(unix)]
const NEW_FILE_MODE: u32 = 0o600;
/// Mode of a config directory that does not exist yet.
#[cfg(unix)]
const NEW_DIR_MODE: u32 = 0o700;
/// Symlink hops followed before giving up (a loop).
const MAX_SYMLINK_HOPS: usize = 40;

/// Edits `config_file` with `edit` and writes the result if it changed.
///
/// - Takes an exclusive lock on `<config_file>.lock` (waiting at most
///   [`LOCK_TIMEOUT`]), then reads the file, so concurrent edits by other
///   processes are never lost.
/// - A missing file is an empty document; its directory is created (mode
///   0700) if missing. A file that is not valid TOML is refused with its
///   file:line:column error and left untouched.
/// - A symlinked file is followed and its target is rewritten.
/// - The new text is written to a temporary file in the same directory,
///   given the original file's mode (0600 for a new file), synced and
///   renamed over the original.
///
/// Returns what `edit` returned.
pub fn edit_config_file<T>(
    config_file: &Path,
    edit: impl FnOnce(&mut DocumentMut) -> Result<T, ConfigError>,
) -> Result<T, ConfigError> {
    edit_config_file_with_timeout(config_file, LOCK_TIMEOUT, edit)
}

pub(crate) fn edit_config_file_with_timeout<T>(
    config_file: &Path,
    lock_timeout: Duration,
    edit: impl FnOnce(&mut DocumentMut) -> Result<T, ConfigError>,
) -> Result<T, ConfigError> {
    if let Some(dir) = config_file.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_dir(dir)?;
    }
    let lock = lock_path(config_file);
    let _guard = LockGuard::acquire(&lock, lock_timeout)?;

    let target = resolve_symlinks(config_file)?;
    let (original, mode) = match std::fs::read(&target) {
        Ok(bytes) => {
            let text = String::from_utf8(bytes).map_err(|_| ConfigError::Read {
                path: config_file.to_path_buf(),
                error: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "the file is not valid UTF-8",
                ),
            })?;
            (text, file_mode(&target))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => (String::new(), None),
        Err(source) => {
            return Err(ConfigError::Read {
                path: config_file.to_path_buf(),
                error: source,
            });
        }
    };
    let mut document: DocumentMut = original.parse().map_err(|err: toml_edit::TomlError| {
        syntax_error(config_file, &original, err.message(), err.span())
    })?;
    // The `toml` crate is what loads the file; refuse what it would refuse.
    parse_document(config_file, &original)?;

    let result = edit(&mut document)?;
    let updated = document.to_string();
    if updated == original {
        return Ok(result);
    }
    // Never leave a file that the loader would reject.
    parse_document(config_file, &updated)?;
    write_atomically(&target, updated.as_bytes(), mode)?;
    Ok(result)
}

/// `<file>.lock` beside `file` (`config.toml.lock`).
fn lock_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    file.with_file_name(name)
}

fn create_dir(dir: &Path) -> Result<(), ConfigError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(NEW_DIR_MODE);
    }
    builder
        .create(dir)
        .map_err(|source| ConfigError::CreateDir {
            path: dir.to_path_buf(),
            error: source,
        })
}

struct LockGuard {
    file: File,
}

impl LockGuard {
    fn acquire(path: &Path, timeout: Duration) -> Result<Self, ConfigError> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(NEW_FILE_MODE);
        }
        let file = options.open(path).map_err(|source| ConfigError::Write {
            path: path.to_path_buf(),
            error: source,
        })?;
        let start = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            match FileExt::try_lock(&file) {
                Ok(()) => return Ok(Self { file }),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(source)) => {
                    return Err(ConfigError::Write {
                        path: path.to_path_buf(),
                        error: source,
                    });
                }
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(ConfigError::LockTimeout {
                    path: path.to_path_buf(),
                    waited,
                });
            }
            std::thread::sleep(pause.min(timeout - waited));
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first just makes
        // it prompt. Nothing useful can be done with an error here.
        let _ = FileExt::unlock(&self.file);
    }
}

/// The file a chain of symlinks ends at (the path itself when it is not a
/// link, or does not exist).
fn resolve_symlinks(path: &Path) -> Result<PathBuf, ConfigError> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_SYMLINK_HOPS {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&current).map_err(|source| ConfigError::Read {
                    path: current.clone(),
                    error: source,
                })?;
                current = match current.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(ConfigError::Read {
        path: path.to_path_buf(),
        error: std::io::Error::other("too many levels of symbolic links"),
    })
}

#[cfg(unix)]
fn file_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|meta| meta.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn file_mode(_path: &Path) -> Option<u32> {
    None
}

fn write_atomically(target: &Path, bytes: &[u8], mode: Option<u32>) -> Result<(), ConfigError> {
    let write_error = |source| ConfigError::Write {
        path: target.to_path_buf(),
        error: source,
    };
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(target.file_name().unwrap_or_default());
    prefix.push(".");
    let mut temp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(write_error)?;
    temp.write_all(bytes).map_err(write_error)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = mode.unwrap_or(NEW_FILE_MODE);
        std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(mode))
            .map_err(write_error)?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    temp.as_file().sync_all().map_err(write_error)?;
    temp.persist(target).map_err(|err| write_error(err.error))?;
    // The rename is durable only once the directory entry is on disk.
    #[cfg(unix)]
    if let Ok(dir) = File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_makes_an_edit_time_out_without_touching_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(&config, "a = 1\n").unwrap();
        let holder = File::create(dir.path().join("config.toml.lock")).unwrap();
        FileExt::try_lock(&holder).unwrap();
        let err = edit_config_file_with_timeout(&config, Duration::from_millis(100), |doc| {
            doc["a"] = toml_edit::value(2);
            Ok(())
        })
        .unwrap_err();
        assert!(matches!(err, ConfigError::LockTimeout { .. }), "{err}");
        assert!(err.to_string().contains("config.toml.lock"));
        assert_eq!(std::fs::read_to_string(&config).unwrap(), "a = 1\n");
        FileExt::unlock(&holder).unwrap();
        edit_config_file_with_timeout(&config, Duration::from_millis(100), |doc| {
            doc["a"] = toml_edit::value(2);
            Ok(())
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(&config).unwrap(), "a = 2\n");
    }

    #[test]
    fn an_unchanged_document_is_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        assert!(edit_config_file(&config, |_| Ok(())).is_ok());
        assert!(!config.exists());
    }
}
