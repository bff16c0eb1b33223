//! The same entry points off Linux: each one is an error saying that the
//! sandbox is not supported on this OS. Nothing ever runs unsandboxed.

use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};

use crate::{ResolvedPolicy, SandboxError, SandboxPolicy};

fn unsupported() -> SandboxError {
    SandboxError::Unsupported {
        os: std::env::consts::OS,
    }
}

/// Options of the apply calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Accept a weaker sandbox (has no effect here: there is none).
    pub allow_weaker: bool,
}

/// A prepared sandbox; it cannot be prepared on this OS.
#[derive(Debug)]
pub struct Sandbox {
    policy: ResolvedPolicy,
}

impl Sandbox {
    /// Always [`SandboxError::Unsupported`].
    pub fn prepare(
        _policy: &SandboxPolicy,
        _cwd: &Path,
        _options: ApplyOptions,
    ) -> Result<Sandbox, SandboxError> {
        Err(unsupported())
    }

    /// The resolved policy.
    pub fn policy(&self) -> &ResolvedPolicy {
        &self.policy
    }

    /// Nothing is enforced here.
    pub fn weakened(&self) -> &[String] {
        &[]
    }

    /// No protected paths here.
    pub fn protected_paths(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    /// A hook that always fails.
    pub fn pre_exec_hook(&self) -> impl FnMut() -> io::Result<()> + Send + Sync + 'static {
        || {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                unsupported().to_string(),
            ))
        }
    }

    /// Always [`SandboxError::Unsupported`].
    pub fn command<S: AsRef<OsStr>>(&self, _argv: &[S]) -> Result<Command, SandboxError> {
        Err(unsupported())
    }

    /// Always [`SandboxError::Unsupported`].
    pub fn spawn(&self, _command: Command) -> Result<Child, SandboxError> {
        Err(unsupported())
    }

    /// Always [`SandboxError::Unsupported`].
    pub fn enter_current_process(self) -> Result<(), SandboxError> {
        Err(unsupported())
    }

    /// Nothing to clean up.
    pub fn cleanup(&mut self) {}
}

/// Always [`SandboxError::Unsupported`].
pub fn apply_to_current_process(
    _policy: &SandboxPolicy,
    _cwd: &Path,
    _options: ApplyOptions,
) -> Result<(), SandboxError> {
    Err(unsupported())
}

/// Always [`SandboxError::Unsupported`].
pub fn exec<S: AsRef<OsStr>>(
    _policy: &SandboxPolicy,
    _cwd: &Path,
    _argv: &[S],
    _options: ApplyOptions,
) -> SandboxError {
    unsupported()
}

/// Always [`SandboxError::Unsupported`].
pub fn run<S: AsRef<OsStr>>(
    _policy: &SandboxPolicy,
    _cwd: &Path,
    _argv: &[S],
    _options: ApplyOptions,
) -> Result<ExitStatus, SandboxError> {
    Err(unsupported())
}

/// The exit code a shell would report.
pub fn exit_code(status: ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
    }
    #[cfg(not(unix))]
    {
        status.code().unwrap_or(1)
    }
}
