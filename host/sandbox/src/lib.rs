//! Codex's sandbox policies for commands and stdio servers.
//!
//! Policies keep Codex's names: `read-only`, `workspace-write` (with the
//! `[sandbox_workspace_write]` keys) and `danger-full-access`. On Linux they
//! are enforced by the kernel, in this order, in the process that will run
//! the command:
//!
//! 1. `PR_SET_NO_NEW_PRIVS`: setuid and file capabilities give nothing.
//! 2. For `workspace-write`: a user and mount namespace in which `.git` (and
//!    the `gitdir:` target of a `.git` file) and `.codex` of every writable
//!    root are bind-mounted read-only (see below why).
//! 3. Landlock: read and execute everywhere, write only in the writable
//!    roots and a few devices (`/dev/null`, `/dev/zero`, `/dev/full`,
//!    `/dev/tty`, `/dev/pts`). Landlock also forbids any further mount or
//!    unmount, which is what keeps the read-only mounts in place.
//! 4. seccomp: `ptrace`, `process_vm_*`, `io_uring_*`, the mount system calls
//!    and terminal input injection (`TIOCSTI`) always fail with `EPERM`; with
//!    network off, `socket`/`socketpair` succeed only for `AF_UNIX`.
//!
//! # Why a mount namespace for `.git` and `.codex`
//!
//! Landlock grants rights on a directory and everything beneath it; it cannot
//! say "this root, except `.git`". Granting rights on each child of the root
//! instead of the root itself does not work either: creating a file directly
//! in the root needs a right on the root, and that right would allow creating
//! `.git` too. A read-only bind mount can express it: inside the sandbox's
//! mount namespace the protected path is a mount point, so writes under it
//! fail (`EROFS`), and it cannot be removed, renamed, replaced by a rename of
//! another directory or by a symbolic link (`EBUSY`). A protected path that
//! does not exist gets an empty placeholder directory (mode 0555) created
//! before the sandbox starts, mounted read-only the same way, so that the
//! sandboxed process cannot create it; Codex 0.169 does the same. The
//! placeholder is removed once no process has it mounted any more
//! ([`Sandbox`]'s drop, and so [`run`]). The namespace needs no privilege
//! (unprivileged user namespaces) and no external `bwrap`.
//!
//! # Network off, and Unix sockets
//!
//! Network off means "no IP sockets": every socket the process creates is an
//! `AF_UNIX` one, so `connect`, `bind`, `listen`, `accept`, `sendto` and the
//! socket options can stay allowed; they can only reach Unix endpoints.
//! Codex denies `connect` and the others outright, which also breaks Unix
//! sockets (a language server, `ssh-agent`, a database socket); this crate
//! deliberately does not. Where Landlock has network rules (ABI 4), TCP
//! `bind` and `connect` are refused too, which covers IP sockets inherited
//! from the caller.
//!
//! # Fail closed
//!
//! If the kernel cannot enforce a part of the policy (Landlock below ABI 3,
//! no seccomp filters, no user namespaces where `.git`/`.codex` need them),
//! preparing the sandbox is an error naming what is missing, unless
//! [`ApplyOptions::allow_weaker`] is set; then [`Sandbox::weakened`] lists
//! what is not enforced. A sandbox is never silently skipped.
//!
//! # Front ends
//!
//! - [`run`]: run a command sandboxed, stdio inherited, and get its status
//!   ([`exit_code`] maps a signal to 128 + its number, as shells do).
//! - [`Sandbox::prepare`] then [`Sandbox::spawn`] (or
//!   [`Sandbox::pre_exec_hook`] for another spawner): everything (the
//!   Landlock ruleset, the BPF programs, the paths to mount) is built before
//!   `fork`; the hook only makes system calls, so it is async-signal-safe.
//! - [`apply_to_current_process`] (and [`exec`]): sandbox this process, then
//!   `exec` the command in place.
//!
//! On other operating systems everything compiles and every entry point
//! returns [`SandboxError::Unsupported`].
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod error;
mod policy;
mod support;

#[cfg(target_os = "linux")]
mod child;
#[cfg(target_os = "linux")]
mod landlock;
#[cfg(target_os = "linux")]
mod namespace;
#[cfg(target_os = "linux")]
mod seccomp;

#[cfg_attr(target_os = "linux", path = "spawn.rs")]
#[cfg_attr(not(target_os = "linux"), path = "unsupported.rs")]
mod spawn;

pub use error::SandboxError;
pub use policy::{ResolvedPolicy, RootOrigin, SandboxMode, SandboxPolicy, WritableRoot};
pub use spawn::{ApplyOptions, Sandbox, apply_to_current_process, exec, exit_code, run};
pub use support::{KernelSupport, REQUIRED_LANDLOCK_ABI, support};

/// How the error messages name the option that accepts a weaker sandbox.
pub(crate) const ALLOW_WEAKER_HINT: &str = "ApplyOptions::allow_weaker";
