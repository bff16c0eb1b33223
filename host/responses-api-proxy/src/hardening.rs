//! Process hardening, run before `main` (the binary's constructor) and so
//! before the key is read.
//!
//! It keeps the key from other processes of the same user (not dumpable:
//! no `ptrace`, no `/proc/PID/mem`), out of core files (`RLIMIT_CORE` 0), and
//! drops the dynamic loader's variables so nothing the process might start
//! inherits them. It cannot stop root, nor an `LD_PRELOAD` library, which the
//! loader has already mapped by the time any constructor runs.
//!
//! The exit statuses are Codex's: 5 not dumpable, 6 ptrace, 7 core limit.
//! The host crate has its own copy of this (`host/src/hardening.rs`): the
//! proxy depends on no host crate, so that it stays small.

use std::ffi::OsString;

/// The variables removed from the environment: the dynamic loader's.
#[cfg(not(target_os = "macos"))]
const LOADER_VARIABLE_PREFIXES: &[&[u8]] = &[b"LD_"];
#[cfg(target_os = "macos")]
const LOADER_VARIABLE_PREFIXES: &[&[u8]] = &[b"DYLD_", b"MallocStackLogging", b"MallocLogFile"];

/// Applies every protection this platform has, or exits: the proxy never
/// holds the key unprotected.
///
/// Call it before any other thread exists (it changes the environment). It
/// uses only libc and std's thin wrappers over `environ`, which need none of
/// the runtime that `main` sets up, so it is safe in a constructor.
pub fn pre_main_hardening() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: prctl(PR_SET_DUMPABLE) takes plain integers.
        if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
            fail("prctl(PR_SET_DUMPABLE, 0)", 5);
        }
    }
    #[cfg(target_os = "macos")]
    {
        // SAFETY: PT_DENY_ATTACH takes no address or data.
        if unsafe { libc::ptrace(libc::PT_DENY_ATTACH, 0, std::ptr::null_mut(), 0) } == -1 {
            fail("ptrace(PT_DENY_ATTACH)", 6);
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
            fail("setrlimit(RLIMIT_CORE, 0)", 7);
        }
        for name in loader_variables(std::env::vars_os().map(|(name, _)| name)) {
            // SAFETY: this runs before `main` (or first thing in it), when no
            // other thread exists to read the environment concurrently.
            unsafe { std::env::remove_var(name) };
        }
    }
}

/// Reports the failed step on stderr and exits with `code`.
fn fail(step: &str, code: i32) -> ! {
    let error = std::io::Error::last_os_error();
    let line = format!("Error: process hardening failed at {step}: {error}\n");
    // SAFETY: `line` is a valid buffer of `line.len()` bytes; write(2) on
    // fd 2 only reads it. A short or failed write loses only the message.
    unsafe { libc::write(libc::STDERR_FILENO, line.as_ptr().cast(), line.len()) };
    std::process::exit(code)
}

/// The names among `names` that steer the dynamic loader, matched on bytes so
/// that names which are not UTF-8 are found too.
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
            OsString::from("ld_preload"),
        ];
        let found = loader_variables(names.into_iter());
        if cfg!(target_os = "macos") {
            assert!(found.is_empty());
        } else {
            assert_eq!(
                found,
                vec![
                    OsString::from("LD_PRELOAD"),
                    OsString::from_vec(b"LD_\xffodd".to_vec())
                ]
            );
        }
    }
}
