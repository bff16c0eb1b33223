//! The vault: one file per secret in a private directory.
//!
//! Entry `(service, account)` is the file `<hex(service)>.<hex(account)>`
//! (lower-case hex of the UTF-8 bytes, so any name is a safe file name)
//! holding the secret. Files are 0600 in a 0700 directory; a directory other
//! users can enter is refused, not used. A write goes to a temporary file in
//! the same directory, is flushed, then renamed over the entry, so a reader
//! sees the old secret or the new one, never part of one, and two processes
//! writing different entries never interfere.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind as IoErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use codex_plugin_api::{ErrorKind, PluginError, PluginResult};

/// Distinguishes temporary files of one process.
static NEXT_TEMP: AtomicU64 = AtomicU64::new(0);

/// A vault directory.
#[derive(Debug, Clone)]
pub struct Vault {
    dir: PathBuf,
}

impl Vault {
    /// The vault in `dir` (created on the first write).
    pub fn new(dir: PathBuf) -> Vault {
        Vault { dir }
    }

    /// The vault's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of `(service, account)`.
    pub fn entry_path(&self, service: &str, account: &str) -> PathBuf {
        self.dir.join(format!("{}.{}", hex(service), hex(account)))
    }

    /// The secret of `(service, account)`, if any.
    pub fn read(&self, service: &str, account: &str) -> PluginResult<Option<String>> {
        if !self.dir.exists() {
            return Ok(None);
        }
        self.check_private()?;
        let path = self.entry_path(service, account);
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == IoErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io_error("cannot open", &path, &error)),
        };
        let mut secret = String::new();
        file.read_to_string(&mut secret).map_err(|error| {
            if error.kind() == IoErrorKind::InvalidData {
                PluginError::new(
                    ErrorKind::Protocol,
                    format!(
                        "`{}` is not UTF-8 text; remove it and store the secret again",
                        path.display()
                    ),
                )
            } else {
                io_error("cannot read", &path, &error)
            }
        })?;
        Ok(Some(secret))
    }

    /// Stores `secret` as `(service, account)`, replacing what was there.
    pub fn write(&self, service: &str, account: &str, secret: &str) -> PluginResult<()> {
        self.ensure_dir()?;
        let path = self.entry_path(service, account);
        let temp = self.dir.join(format!(
            ".tmp.{}.{}",
            std::process::id(),
            NEXT_TEMP.fetch_add(1, Ordering::Relaxed)
        ));
        let result = write_new_private_file(&temp, secret.as_bytes())
            .and_then(|()| fs::rename(&temp, &path))
            .map_err(|error| io_error("cannot write", &path, &error));
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }

    /// Removes `(service, account)`; `true` if it was there.
    pub fn remove(&self, service: &str, account: &str) -> PluginResult<bool> {
        let path = self.entry_path(service, account);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == IoErrorKind::NotFound => Ok(false),
            Err(error) => Err(io_error("cannot remove", &path, &error)),
        }
    }

    fn ensure_dir(&self) -> PluginResult<()> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(&self.dir)
            .map_err(|error| io_error("cannot create the vault directory", &self.dir, &error))?;
        self.check_private()
    }

    /// Refuses a vault directory that other users can read or enter.
    #[cfg(unix)]
    fn check_private(&self) -> PluginResult<()> {
        use std::os::unix::fs::PermissionsExt;
        let metadata = fs::metadata(&self.dir)
            .map_err(|error| io_error("cannot inspect", &self.dir, &error))?;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(PluginError::invalid_config(format!(
                "the vault directory `{}` is open to other users (mode {mode:04o}); it holds \
                 secrets, so acme-vault will not use it. Run `chmod 700 {}`",
                self.dir.display(),
                self.dir.display()
            )));
        }
        Ok(())
    }

    #[cfg(not(unix))]
    fn check_private(&self) -> PluginResult<()> {
        Ok(())
    }
}

fn write_new_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn io_error(what: &str, path: &Path, error: &std::io::Error) -> PluginError {
    PluginError::io(format!("acme-vault: {what} `{}`: {error}", path.display()))
}

fn hex(text: &str) -> String {
    text.bytes().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_private_files_named_by_hex() {
        let dir = std::env::temp_dir().join(format!("acme-vault-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let vault = Vault::new(dir.join("vault"));
        assert_eq!(vault.read("s", "a").unwrap(), None);
        vault.write("Codex Auth", "cli|1", "sk-x").unwrap();
        let path = vault.entry_path("Codex Auth", "cli|1");
        assert!(
            path.ends_with("436f6465782041757468.636c697c31"),
            "{}",
            path.display()
        );
        assert_eq!(
            vault.read("Codex Auth", "cli|1").unwrap().as_deref(),
            Some("sk-x")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            fs::set_permissions(vault.dir(), fs::Permissions::from_mode(0o755)).unwrap();
            let error = vault.read("Codex Auth", "cli|1").unwrap_err();
            assert!(error.message.contains("chmod 700"), "{}", error.message);
            fs::set_permissions(vault.dir(), fs::Permissions::from_mode(0o700)).unwrap();
        }
        assert!(vault.remove("Codex Auth", "cli|1").unwrap());
        assert!(!vault.remove("Codex Auth", "cli|1").unwrap());
        fs::remove_dir_all(&dir).unwrap();
    }
}
