//! The one error type of the crate. Every message says what went wrong, where
//! (the path, the config key, the kernel feature) and what to do next.

use std::io;
use std::path::PathBuf;

use crate::policy::RootOrigin;

/// Why a sandbox could not be set up, or why a sandboxed command did not run.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A sandbox mode string that is none of Codex's three.
    #[error(
        "{key}unknown sandbox mode `{value}`: expected one of `read-only`, `workspace-write`, `danger-full-access`",
        key = key.as_deref().map(|key| format!("{key}: ")).unwrap_or_default()
    )]
    UnknownMode {
        /// The string that was given.
        value: String,
        /// The config key it came from, when there is one (`mcp_servers.NAME.sandbox`).
        key: Option<String>,
    },

    /// A config value of the wrong shape; `key` is the full key path.
    #[error("{key}: {message}")]
    InvalidConfig {
        /// `mcp_servers.NAME.sandbox_network` and the like.
        key: String,
        /// What was expected and what was found.
        message: String,
    },

    /// The working directory does not exist or cannot be resolved.
    #[error("working directory {path}: {source}")]
    WorkingDirectory {
        /// The directory as given.
        path: PathBuf,
        /// Why it could not be resolved.
        source: io::Error,
    },

    /// A writable root that does not exist: Landlock and the mounts work on
    /// existing inodes, so a missing root cannot be granted.
    #[error("writable root {path} does not exist ({origin}); help: {hint}", origin = origin.describe(), hint = origin.hint())]
    WritableRootMissing {
        /// The root as resolved against the working directory.
        path: PathBuf,
        /// Where the root came from, to say which setting to change.
        origin: RootOrigin,
    },

    /// `.git` or `.codex` inside a writable root is a symbolic link. It is
    /// protected by mounting over it, and a mount cannot sit on a link.
    #[error(
        "{path} is a symbolic link; the sandbox keeps .git and .codex read-only by mounting over them and cannot do so on a link; help: replace the link by the directory it points to, or run with sandbox `read-only`"
    )]
    ProtectedPathIsSymlink {
        /// The link.
        path: PathBuf,
    },

    /// The kernel cannot enforce part of the policy, and weaker sandboxes
    /// were not accepted.
    #[error(
        "the {mode} sandbox cannot be enforced on this kernel: {missing}; help: fix the kernel configuration, or accept a weaker sandbox explicitly ({option})",
        option = crate::ALLOW_WEAKER_HINT
    )]
    Unenforceable {
        /// The policy's mode.
        mode: crate::SandboxMode,
        /// What is missing, one item per feature, joined with `; `.
        missing: String,
    },

    /// The command to run was empty.
    #[error("no command to run: give the program and its arguments after `--`")]
    EmptyCommand,

    /// The program is not a path that exists, nor found on `PATH`.
    #[error("command not found: {command}")]
    CommandNotFound {
        /// The program as given.
        command: String,
    },

    /// A step of the set-up failed (in the parent, or in the child before the
    /// command started).
    #[error("sandbox set-up failed while {step}: {source}")]
    Setup {
        /// What was being done, with the path when there is one.
        step: String,
        /// The system error.
        source: io::Error,
    },

    /// `apply_to_current_process` was called in a process that runs more
    /// than one thread: namespaces and Landlock act on the calling thread.
    #[error(
        "apply_to_current_process needs a single-threaded process, and this one runs {threads} threads; help: call it first thing in `main`, or start the command with `Sandbox::spawn`"
    )]
    MultiThreaded {
        /// How many threads `/proc/self/task` lists.
        threads: usize,
    },

    /// The program could not be started for another reason.
    #[error("cannot run {command}: {source}")]
    Spawn {
        /// The program.
        command: String,
        /// The system error.
        source: io::Error,
    },

    /// Waiting for the sandboxed command failed.
    #[error("waiting for {command}: {source}")]
    Wait {
        /// The program.
        command: String,
        /// The system error.
        source: io::Error,
    },

    /// This operating system has no sandbox implementation.
    #[error(
        "the sandbox is not supported on {os}: only Linux (Landlock and seccomp) is implemented"
    )]
    Unsupported {
        /// `std::env::consts::OS`.
        os: &'static str,
    },
}

impl SandboxError {
    pub(crate) fn setup(step: impl Into<String>, source: io::Error) -> Self {
        SandboxError::Setup {
            step: step.into(),
            source,
        }
    }
}
