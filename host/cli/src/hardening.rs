//! Process hardening, done first thing in `main`, before any secret is read.
//!
//! What it protects against: another process of the same user reading this
//! process's memory through `ptrace` or `/proc/PID/mem` (Linux: not dumpable;
//! macOS: `PT_DENY_ATTACH`), tokens ending up in a core file (core size 0),
//! and a library injected into the servers and helpers we start through
//! `LD_PRELOAD`-style variables (removed from our environment, so children do
//! not inherit them). What it does not protect against: root, a debugger
//! attached before `main` runs, a library injected into `codex` itself before
//! `main` (the dynamic loader has already acted on `LD_PRELOAD` by then), or a
//! plugin, which runs inside this process with its full rights.

use std::ffi::OsString;

/// The variables removed from our environment: the dynamic loader's.
#[cfg(not(target_os = "macos"))]
const LOADER_VARIABLE_PREFIXES: &[&[u8]] = &[b"LD_"];
#[cfg(target_os = "macos")]
const LOADER_VARIABLE_PREFIXES: &[&[u8]] = &[b"DYLD_", b"MallocStackLogging", b"MallocLogFile"];

/// A hardening step that failed: `codex` does not run unprotected.
#[derive(Debug)]
pub struct HardeningError {
    pub step: &'static str,
    pub error: std::io::Error,
    /// The exit status, as Codex uses them (5 dumpable, 6 ptrace, 7 core limit).
    pub exit_code: u8,
}

impl std::fmt::Display for HardeningError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "process hardening failed at {}: {}",
            self.step, self.error
        )
    }
}

/// Applies every protection available on this platform.
///
/// # Safety
/// Must run before any other thread exists: it changes the environment.
pub unsafe fn harden() -> Result<(), HardeningError> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: prctl with PR_SET_DUMPABLE takes plain integers.
        if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
            return Err(HardeningError {
                step: "prctl(PR_SET_DUMPABLE, 0)",
                error: std::io::Error::last_os_error(),
                exit_code: 5,
            });
        }
    }
    #[cfg(target_os = "macos")]
    {
        // SAFETY: PT_DENY_ATTACH takes no address or data.
        if unsafe { libc::ptrace(libc::PT_DENY_ATTACH, 0, std::ptr::null_mut(), 0) } == -1 {
            return Err(HardeningError {
                step: "ptrace(PT_DENY_ATTACH)",
                error: std::io::Error::last_os_error(),
                exit_code: 6,
            });
        }
    }
    #[cfg(unix)]
    {
        let limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `limit` is a valid rlimit for the duration of the call.
        if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &limit) } != 0 {
            return Err(HardeningError {
                step: "setrlimit(RLIMIT_CORE, 0)",
                error: std::io::Error::last_os_error(),
                exit_code: 7,
            });
        }
    }
    for name in loader_variables(std::env::vars_os().map(|(name, _)| name)) {
        // SAFETY: the caller guarantees no other thread is running.
        unsafe { std::env::remove_var(name) };
    }
    Ok(())
}

/// The names among `names` that steer the dynamic loader. Matched on bytes,
/// so names that are not UTF-8 are found too.
fn loader_variables(names: impl Iterator<Item = OsString>) -> Vec<OsString> {
    use std::os::unix::ffi::OsStrExt;
    names
        .filter(|name| {
            LOADER_VARIABLE_PREFIXES
                .iter()
                .any(|prefix| name.as_bytes().starts_with(prefix))
        })
        .collect()
}

/// What the process looks like now, for `codex debug process-state`.
pub fn state() -> serde_json::Value {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: PR_GET_DUMPABLE takes no pointers.
    let dumpable = Some(unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) } == 1);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let dumpable: Option<bool> = None;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit.
    let core_limit = (unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut limit) } == 0)
        .then(|| serde_json::json!({ "soft": limit.rlim_cur, "hard": limit.rlim_max }));
    let loader: Vec<String> = loader_variables(std::env::vars_os().map(|(name, _)| name))
        .into_iter()
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    serde_json::json!({
        "dumpable": dumpable,
        "core_limit": core_limit,
        "loader_variables": loader,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    #[test]
    fn loader_variables_are_matched_on_bytes() {
        let names = vec![
            OsString::from("LD_PRELOAD"),
            OsString::from("PATH"),
            OsString::from_vec(b"LD_\xffodd".to_vec()),
            OsString::from("OLD_LD_PRELOAD"),
        ];
        let found = loader_variables(names.into_iter());
        if cfg!(target_os = "macos") {
            assert!(found.is_empty());
        } else {
            assert_eq!(found.len(), 2);
            assert_eq!(found[0], OsString::from("LD_PRELOAD"));
        }
    }
}
