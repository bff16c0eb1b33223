//! Starting a server in its own process group, and stopping the whole group.
//!
//! A server often starts helpers (`npx` runs `node`, a shell runs its
//! pipeline). Putting the server in a new process group lets one signal reach
//! all of them, so nothing keeps running after the connection ends. The group
//! is signalled only while its leader is unreaped: until then its id cannot be
//! reused by an unrelated process.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use codex_plugin_api::{PluginError, PluginResult};
use codex_sandbox::{ApplyOptions, Sandbox, SandboxError};

use crate::config::StdioConfig;

/// How long a server gets between SIGTERM and SIGKILL, as in Codex.
pub const TERM_GRACE: Duration = Duration::from_secs(2);
/// How long a server that closed its stdout gets to exit by itself.
pub const EXIT_GRACE: Duration = Duration::from_secs(2);
/// How often the leader is checked while waiting for it, at first: most
/// servers exit within a millisecond or two of SIGTERM, so the wait starts
/// short and doubles up to [`POLL_MAX`].
const POLL_FIRST: Duration = Duration::from_millis(1);
const POLL_MAX: Duration = Duration::from_millis(20);
/// How long reaping a killed leader may take before a thread is left to do it.
const REAP_WAIT: Duration = Duration::from_secs(1);

/// A started server: its process and its three pipes.
pub struct Spawned {
    /// The process group.
    pub process: ServerProcess,
    /// The server's standard input.
    pub stdin: ChildStdin,
    /// The server's standard output.
    pub stdout: ChildStdout,
    /// The server's standard error.
    pub stderr: ChildStderr,
}

/// Starts `config.command` for server `server` with exactly `environment`.
pub fn spawn(
    server: &str,
    config: &StdioConfig,
    environment: &BTreeMap<OsString, OsString>,
) -> PluginResult<Spawned> {
    let mut command = Command::new(&config.command);
    command
        .args(&config.args)
        .env_clear()
        .envs(environment)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(cwd) = &config.cwd {
        check_cwd(server, cwd)?;
        command.current_dir(cwd);
    }
    let (mut child, sandbox) = match &config.sandbox {
        None => (
            command
                .spawn()
                .map_err(|error| spawn_error(server, &config.command, &error))?,
            None,
        ),
        Some(policy) => {
            let cwd = match &config.cwd {
                Some(cwd) => cwd.clone(),
                None => std::env::current_dir().map_err(|error| {
                    PluginError::io(format!(
                        "failed to start MCP server `{server}` in its sandbox: no working directory ({error})"
                    ))
                })?,
            };
            // Fails closed: a policy the kernel cannot enforce is an error.
            let sandbox = Sandbox::prepare(policy, &cwd, ApplyOptions::default())
                .map_err(|error| sandbox_error(server, &config.command, error))?;
            let child = sandbox
                .spawn(command)
                .map_err(|error| sandbox_error(server, &config.command, error))?;
            (child, Some(sandbox))
        }
    };
    let pipes = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let pid = child.id() as libc::pid_t;
    let process = ServerProcess {
        pid,
        _sandbox: sandbox,
        state: Mutex::new(ProcessState {
            child: Some(child),
            outcome: None,
        }),
    };
    match pipes {
        (Some(stdin), Some(stdout), Some(stderr)) => Ok(Spawned {
            process,
            stdin,
            stdout,
            stderr,
        }),
        _ => {
            process.stop(Stop::Terminate, &AtomicBool::new(false));
            Err(PluginError::internal(format!(
                "failed to start MCP server `{server}`: its pipes were not created"
            )))
        }
    }
}

fn check_cwd(server: &str, cwd: &std::path::Path) -> PluginResult<()> {
    let key = format!("mcp_servers.{server}.cwd");
    match std::fs::metadata(cwd) {
        Ok(metadata) if metadata.is_dir() => Ok(()),
        Ok(_) => Err(PluginError::invalid_config(format!(
            "{key}: `{}` is not a directory; set it to the directory the server should run in",
            cwd.display()
        ))),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            Err(PluginError::invalid_config(format!(
                "{key}: directory `{}` does not exist; create it or fix the path",
                cwd.display()
            )))
        }
        Err(error) => Err(PluginError::io(format!(
            "{key}: cannot use directory `{}`: {error}",
            cwd.display()
        ))),
    }
}

fn sandbox_error(server: &str, program: &str, error: SandboxError) -> PluginError {
    match error {
        SandboxError::CommandNotFound { .. } => PluginError::not_found(format!(
            "failed to start MCP server `{server}`: `{program}` not found (is it installed and on PATH?)"
        )),
        other => PluginError::invalid_config(format!(
            "failed to start MCP server `{server}` in its sandbox (mcp_servers.{server}.sandbox): {other}"
        )),
    }
}

fn spawn_error(server: &str, program: &str, error: &io::Error) -> PluginError {
    if error.kind() == io::ErrorKind::NotFound {
        PluginError::not_found(format!(
            "failed to start MCP server `{server}`: `{program}` not found (is it installed and on PATH?)"
        ))
    } else {
        PluginError::io(format!(
            "failed to start MCP server `{server}`: `{program}`: {error}"
        ))
    }
}

/// How [`ServerProcess::stop`] ends the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM, up to [`TERM_GRACE`] for the leader to exit, then SIGKILL.
    Terminate,
    /// The server closed its stdout: up to [`EXIT_GRACE`] for the leader to
    /// exit by itself, then SIGKILL for whatever is left of the group.
    AfterEof,
}

/// How the server's leader process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Its exit status; `None` if it could not be collected in time.
    pub status: Option<ExitStatus>,
    /// Whether it exited before this side signalled it.
    pub exited_by_itself: bool,
}

impl Outcome {
    /// `exit status: 3`, `killed by signal 9`, or `exit status unknown`.
    pub fn describe(&self) -> String {
        describe_status(self.status)
    }
}

/// `exit status: N`, `killed by signal N`, or `exit status unknown`.
pub fn describe_status(status: Option<ExitStatus>) -> String {
    match status {
        Some(status) => match (status.code(), status.signal()) {
            (Some(code), _) => format!("exit status: {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            (None, None) => "exit status unknown".to_owned(),
        },
        None => "exit status unknown".to_owned(),
    }
}

/// A running server's process group, led by the process started.
pub struct ServerProcess {
    pid: libc::pid_t,
    /// The server's sandbox, kept for as long as the server: dropping it
    /// removes the placeholders of missing `.git`/`.codex` it mounted.
    _sandbox: Option<Sandbox>,
    state: Mutex<ProcessState>,
}

struct ProcessState {
    /// `None` once reaped (or handed to a reaper thread).
    child: Option<Child>,
    /// Set when the group has been stopped.
    outcome: Option<Outcome>,
}

impl ServerProcess {
    /// The leader's process id, which is also the group id.
    pub fn pid(&self) -> u32 {
        self.pid as u32
    }

    fn lock(&self) -> MutexGuard<'_, ProcessState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stops the whole group and reaps the leader. Later calls return the
    /// first call's outcome at once (after waiting for it to finish).
    /// `hurry` cuts the wait of [`Stop::AfterEof`] short.
    pub fn stop(&self, how: Stop, hurry: &AtomicBool) -> Outcome {
        let mut state = self.lock();
        if let Some(outcome) = state.outcome {
            return outcome;
        }
        let Some(child) = state.child.take() else {
            return Outcome {
                status: None,
                exited_by_itself: false,
            };
        };
        let exited_by_itself = match how {
            Stop::Terminate => {
                let already = leader_exited(self.pid);
                self.signal_group(libc::SIGTERM);
                wait_for_exit(self.pid, TERM_GRACE, None);
                already
            }
            Stop::AfterEof => wait_for_exit(self.pid, EXIT_GRACE, Some(hurry)),
        };
        // Also reaches helpers that outlived the leader or ignored SIGTERM;
        // the leader is not reaped yet, so the group id is still ours.
        self.signal_group(libc::SIGKILL);
        let outcome = Outcome {
            status: reap(child),
            exited_by_itself,
        };
        state.outcome = Some(outcome);
        outcome
    }

    fn signal_group(&self, signal: libc::c_int) {
        // SAFETY: killpg has no memory-safety preconditions; `pid` is the id of
        // a group whose leader this object has not reaped yet.
        unsafe {
            libc::killpg(self.pid, signal);
        }
    }
}

/// Whether the leader has exited, without reaping it. An error (the child
/// was reaped elsewhere, e.g. with SIGCHLD ignored) counts as exited.
fn leader_exited(pid: libc::pid_t) -> bool {
    // SAFETY: an all-zero siginfo_t is a valid value; waitid writes into it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is a valid, writable siginfo_t for the call's duration.
    let result = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    if result != 0 {
        return io::Error::last_os_error().kind() != io::ErrorKind::Interrupted;
    }
    // SAFETY: waitid succeeded, so `info` was filled in (si_pid 0: still running).
    unsafe { info.si_pid() != 0 }
}

/// Waits up to `timeout` (or until `hurry` is set) for the leader to exit;
/// `true` if it did.
fn wait_for_exit(pid: libc::pid_t, timeout: Duration, hurry: Option<&AtomicBool>) -> bool {
    let deadline = Instant::now() + timeout;
    let mut poll = POLL_FIRST;
    loop {
        if leader_exited(pid) {
            return true;
        }
        let hurried = hurry.is_some_and(|flag| flag.load(Ordering::SeqCst));
        if hurried || Instant::now() >= deadline {
            return false;
        }
        thread::sleep(poll);
        poll = (poll * 2).min(POLL_MAX);
    }
}

/// Collects the leader's status. It has been sent SIGKILL, so this is quick;
/// if it is not (a process stuck in the kernel), a thread is left to reap it
/// so that no zombie stays behind.
fn reap(mut child: Child) -> Option<ExitStatus> {
    let deadline = Instant::now() + REAP_WAIT;
    let mut poll = POLL_FIRST;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) => {}
            Err(_) => return None,
        }
        if Instant::now() >= deadline {
            let _ = thread::Builder::new()
                .name("mcp-stdio-reaper".into())
                .spawn(move || {
                    let _ = child.wait();
                });
            return None;
        }
        thread::sleep(poll);
        poll = (poll * 2).min(POLL_MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(command: &str, args: &[&str]) -> StdioConfig {
        StdioConfig {
            command: command.into(),
            args: args.iter().map(|arg| arg.to_string()).collect(),
            env: BTreeMap::new(),
            env_vars: Vec::new(),
            cwd: None,
            sandbox: None,
        }
    }

    fn path_only() -> BTreeMap<OsString, OsString> {
        std::env::var_os("PATH")
            .map(|path| (OsString::from("PATH"), path))
            .into_iter()
            .collect()
    }

    #[test]
    fn statuses_are_described_like_codex_users_expect() {
        assert_eq!(
            describe_status(Some(ExitStatus::from_raw(3 << 8))),
            "exit status: 3"
        );
        assert_eq!(
            describe_status(Some(ExitStatus::from_raw(9))),
            "killed by signal 9"
        );
        assert_eq!(describe_status(None), "exit status unknown");
    }

    #[test]
    fn a_leader_that_exits_is_seen_without_signals() {
        let spawned = spawn("t", &config("sh", &["-c", "exit 4"]), &path_only()).unwrap();
        let outcome = spawned
            .process
            .stop(Stop::AfterEof, &AtomicBool::new(false));
        assert!(outcome.exited_by_itself);
        assert_eq!(outcome.describe(), "exit status: 4");
        // A second stop reports the same thing and signals nobody.
        assert_eq!(
            spawned
                .process
                .stop(Stop::Terminate, &AtomicBool::new(false)),
            outcome
        );
    }

    #[test]
    fn terminate_stops_a_running_leader() {
        let spawned = spawn("t", &config("sleep", &["30"]), &path_only()).unwrap();
        let started = Instant::now();
        let outcome = spawned
            .process
            .stop(Stop::Terminate, &AtomicBool::new(false));
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(!outcome.exited_by_itself);
        assert_eq!(outcome.describe(), "killed by signal 15");
    }

    #[test]
    fn hurry_cuts_the_exit_wait_short() {
        let spawned = spawn("t", &config("sleep", &["30"]), &path_only()).unwrap();
        let started = Instant::now();
        let outcome = spawned.process.stop(Stop::AfterEof, &AtomicBool::new(true));
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(outcome.describe(), "killed by signal 9");
    }
}
