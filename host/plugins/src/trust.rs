//! Checks made on a plugin file **before** it is opened.
//!
//! Opening a library runs its constructors, so anything that decides whether
//! to trust a file must look only at the file system: who owns the file and
//! its directory, who may write them, and (when pinned) the file's digest.

use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Why a file may not be opened, in one line for `codex plugin list`.
pub type Refusal = String;

/// Checks `path` (as found in a plugin directory) and, when it is a symlink,
/// its target: neither the file nor its directory may be writable by group
/// or others, and both must be owned by the current user or root.
pub fn check_file(path: &Path) -> Result<(), Refusal> {
    let resolved = fs::canonicalize(path)
        .map_err(|error| format!("cannot resolve {}: {error}", path.display()))?;
    let mut checked = vec![resolved.clone()];
    if let Some(parent) = resolved.parent() {
        checked.push(parent.to_path_buf());
    }
    // The directory the file was found in matters too when the entry is a
    // symlink: a writable directory lets anyone swap the link.
    if let Some(found_in) = path.parent()
        && let Ok(found_in) = fs::canonicalize(found_in)
        && !checked.contains(&found_in)
    {
        checked.push(found_in);
    }
    for item in &checked {
        check_owner_and_mode(item)?;
    }
    Ok(())
}

fn check_owner_and_mode(path: &Path) -> Result<(), Refusal> {
    let metadata =
        fs::metadata(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let mode = metadata.mode();
    let what = if metadata.is_dir() {
        "directory"
    } else {
        "file"
    };
    if mode & 0o022 != 0 {
        return Err(format!(
            "{what} {} is writable by {} (mode {:o}); run `chmod go-w {}`",
            path.display(),
            if mode & 0o020 != 0 {
                "its group"
            } else {
                "others"
            },
            mode & 0o7777,
            path.display()
        ));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let owner = metadata.uid();
    if owner != me && owner != 0 {
        return Err(format!(
            "{what} {} is owned by user id {owner}, not by you ({me}) or root",
            path.display()
        ));
    }
    Ok(())
}

/// The lower-case hex SHA-256 digest of the file at `path`.
pub fn sha256_file(path: &Path) -> Result<String, Refusal> {
    let mut file =
        fs::File::open(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = file
            .read(&mut buffer)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}

/// Checks the file's digest against a pin from config, at `pin_key`.
pub fn check_pin(path: &Path, pin_key: &str, expected: &str) -> Result<(), Refusal> {
    let actual = sha256_file(path)?;
    if actual != expected {
        return Err(format!(
            "SHA-256 {actual} does not match the pin `{pin_key}` ({expected})"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn group_or_world_writable_files_and_directories_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let file = dir.path().join("libcodex_x.so");
        fs::write(&file, b"not a library").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(check_file(&file), Ok(()));

        fs::set_permissions(&file, fs::Permissions::from_mode(0o664)).unwrap();
        assert!(
            check_file(&file)
                .unwrap_err()
                .contains("writable by its group")
        );
        fs::set_permissions(&file, fs::Permissions::from_mode(0o646)).unwrap();
        assert!(
            check_file(&file)
                .unwrap_err()
                .contains("writable by others")
        );

        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        assert!(check_file(&file).unwrap_err().starts_with("directory"));
    }

    #[test]
    fn a_pin_must_match_the_digest() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, b"abc").unwrap();
        let digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_file(&file).unwrap(), digest);
        assert_eq!(check_pin(&file, "plugin_policy.sha256.f", digest), Ok(()));
        assert!(
            check_pin(&file, "plugin_policy.sha256.f", &"0".repeat(64))
                .unwrap_err()
                .contains("does not match")
        );
    }
}
