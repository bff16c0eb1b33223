//! Finding `CODEX_HOME`, with Codex's rules.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::error::ConfigError;

/// The environment variable that names the Codex configuration directory.
pub const CODEX_HOME_ENV: &str = "CODEX_HOME";

/// The Codex configuration directory.
///
/// Codex's rules: when `CODEX_HOME` is set and not empty, it must exist and
/// be a directory, and is returned canonicalized; otherwise the result is
/// `~/.codex` (from `$HOME`), which need not exist yet.
pub fn find_codex_home() -> Result<PathBuf, ConfigError> {
    let home = home_dir();
    codex_home_from(std::env::var_os(CODEX_HOME_ENV).as_deref(), home.as_deref())
}

/// [`find_codex_home`] with the environment passed in: `codex_home_env` is
/// the value of `CODEX_HOME`, `home` the user's home directory.
pub fn codex_home_from(
    codex_home_env: Option<&OsStr>,
    home: Option<&Path>,
) -> Result<PathBuf, ConfigError> {
    if let Some(value) = codex_home_env.filter(|value| !value.is_empty()) {
        let path = Path::new(value);
        let shown = value.to_string_lossy().into_owned();
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(ConfigError::CodexHomeMissing { value: shown });
            }
            Err(source) => {
                return Err(ConfigError::CodexHomeUnreadable {
                    value: shown,
                    error: source,
                });
            }
        };
        if !metadata.is_dir() {
            return Err(ConfigError::CodexHomeNotDirectory { value: shown });
        }
        return std::fs::canonicalize(path).map_err(|source| ConfigError::CodexHomeUnreadable {
            value: shown,
            error: source,
        });
    }
    match home {
        Some(home) if !home.as_os_str().is_empty() => Ok(home.join(".codex")),
        _ => Err(ConfigError::HomeDirUnknown),
    }
}

fn home_dir() -> Option<PathBuf> {
    let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    std::env::var_os(var)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codex_home_env_must_exist_and_be_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = codex_home_from(Some(missing.as_os_str()), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "CODEX_HOME points to {:?}, but that path does not exist",
                missing.to_string_lossy()
            )
        );

        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let err = codex_home_from(Some(file.as_os_str()), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "CODEX_HOME points to {:?}, but that path is not a directory",
                file.to_string_lossy()
            )
        );
    }

    #[test]
    fn codex_home_env_is_canonicalized() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("inner");
        std::fs::create_dir(&inner).unwrap();
        let dotted = dir.path().join("inner").join("..").join("inner");
        let found = codex_home_from(Some(dotted.as_os_str()), None).unwrap();
        assert_eq!(found, std::fs::canonicalize(&inner).unwrap());
    }

    #[test]
    fn empty_codex_home_falls_back_to_home_dot_codex_which_may_not_exist() {
        let found = codex_home_from(Some(OsStr::new("")), Some(Path::new("/nonexistent/u")));
        assert_eq!(found.unwrap(), PathBuf::from("/nonexistent/u/.codex"));
        let found = codex_home_from(None, Some(Path::new("/home/u")));
        assert_eq!(found.unwrap(), PathBuf::from("/home/u/.codex"));
        assert!(matches!(
            codex_home_from(None, None),
            Err(ConfigError::HomeDirUnknown)
        ));
    }
}
