//! `command/exec` and its follow-ups (`command/exec/write`, `/terminate`,
//! `/resize`, the `command/exec/outputDelta` notification), with Codex
//! 0.169's params, results and errors.
//!
//! A command runs under the sandbox policy of the request, or else the
//! configured one (`sandbox_mode`, `[sandbox_workspace_write]`; read-only
//! when unset, as in Codex), through `codex-sandbox`. Each command is the
//! leader of its own process group (its own session with a terminal), and
//! the whole group is killed when the command exits, times out, is
//! terminated or the client goes away: nothing it started outlives it,
//! which is what Codex's PID namespace gives it too.
//!
//! Process ids are the client's, per connection (one connection per
//! process here). The final answer is sent after every output delta of the
//! command: both go through the one outgoing queue, deltas first.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use codex_sandbox::{ApplyOptions, Sandbox, SandboxError, SandboxMode, SandboxPolicy};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::protocol::{INVALID_PARAMS, RpcError, notification, params, to_result};
use crate::server::{Answer, Server};
use crate::terminal::{self, DEFAULT_SIZE, Terminal, TerminalSize};

/// How long a command may run when the request says nothing (Codex's).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// What is kept of each of stdout and stderr when the request says nothing.
pub const DEFAULT_OUTPUT_CAP: usize = 1024 * 1024;
/// The exit code of a command that ran out of time (as `timeout(1)`'s).
pub const TIMED_OUT_EXIT_CODE: i32 = 124;
/// How long output is still read after the command exited and its group
/// was killed (a descendant that left the group may hold a pipe open).
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(1);
/// What one read of the output takes at most.
const CHUNK: usize = 8192;
/// End of input on a terminal (Ctrl-D): what closing stdin means there.
const TERMINAL_EOF: u8 = 0x04;

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CommandExecParams {
    /// The program and its arguments.
    command: Vec<String>,
    /// Names the process for `command/exec/write`, `terminate`, `resize`
    /// and the output notifications; needed with streaming or a tty.
    #[serde(default)]
    process_id: Option<String>,
    /// Run it on a pseudo-terminal.
    #[serde(default)]
    tty: bool,
    /// Take stdin from `command/exec/write`.
    #[serde(default)]
    stream_stdin: bool,
    /// Send the output as `command/exec/outputDelta` instead of in the answer.
    #[serde(default)]
    stream_stdout_stderr: bool,
    /// Bytes kept of each stream.
    #[serde(default)]
    output_bytes_cap: Option<u64>,
    #[serde(default)]
    disable_output_cap: bool,
    /// Killed after this long (exit code 124).
    #[serde(default)]
    timeout_ms: Option<i64>,
    #[serde(default)]
    disable_timeout: bool,
    #[serde(default)]
    cwd: Option<PathBuf>,
    /// Variables set over the server's environment; null removes one.
    #[serde(default)]
    env: Option<BTreeMap<String, Option<String>>>,
    /// The terminal's size with `tty`.
    #[serde(default)]
    size: Option<TerminalSize>,
    /// Else the configured sandbox.
    #[serde(default)]
    sandbox_policy: Option<WirePolicy>,
}

/// Codex's `SandboxPolicy` of the v2 protocol.
#[derive(Deserialize, JsonSchema)]
#[schemars(rename = "SandboxPolicy")]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
enum WirePolicy {
    DangerFullAccess,
    ReadOnly {
        #[serde(default)]
        network_access: bool,
    },
    /// The client sandboxes the server itself: nothing more is applied.
    ExternalSandbox {
        #[serde(default)]
        #[allow(dead_code)]
        network_access: Option<ExternalNetwork>,
    },
    WorkspaceWrite {
        #[serde(default)]
        writable_roots: Vec<AbsolutePath>,
        #[serde(default)]
        network_access: bool,
        #[serde(default)]
        exclude_tmpdir_env_var: bool,
        #[serde(default)]
        exclude_slash_tmp: bool,
    },
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
enum ExternalNetwork {
    Restricted,
    Enabled,
}

/// A path that must be absolute (Codex's `AbsolutePathBuf`).
#[derive(JsonSchema)]
#[schemars(rename = "AbsolutePathBuf")]
struct AbsolutePath(PathBuf);

impl<'de> Deserialize<'de> for AbsolutePath {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let path = PathBuf::deserialize(deserializer)?;
        if path.is_absolute() {
            Ok(AbsolutePath(path))
        } else {
            Err(serde::de::Error::custom(format!(
                "writableRoots must hold absolute paths, and `{}` is relative",
                path.display()
            )))
        }
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CommandExecWriteParams {
    process_id: String,
    /// Bytes for stdin, base64.
    #[serde(default)]
    delta_base64: Option<String>,
    /// Then end stdin (Ctrl-D on a tty).
    #[serde(default)]
    close_stdin: bool,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CommandExecTerminateParams {
    process_id: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CommandExecResizeParams {
    process_id: String,
    size: TerminalSize,
}

/// How the command ended, and its output unless it was streamed.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CommandExecResponse {
    /// 124 when it ran out of time, -1 when killed by a signal.
    exit_code: i32,
    stdout: String,
    stderr: String,
}

#[derive(Serialize, JsonSchema)]
pub(crate) struct CommandExecWriteResponse {}

#[derive(Serialize, JsonSchema)]
pub(crate) struct CommandExecTerminateResponse {}

#[derive(Serialize, JsonSchema)]
pub(crate) struct CommandExecResizeResponse {}

/// A piece of a streamed command's output.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CommandExecOutputDeltaNotification {
    process_id: String,
    stream: Stream,
    /// The bytes, base64.
    delta_base64: String,
    /// The output cap was reached: nothing more of this stream follows.
    cap_reached: bool,
}

/// Where a command's stdin comes from.
enum Input {
    /// Not streamed: `/dev/null`.
    Closed,
    Pipe(std::process::ChildStdin),
    Terminal(std::fs::File),
}

/// A command that runs.
struct Running {
    pid: i32,
    /// Set once the process is reaped; its group may be signalled only
    /// before (after, the id may name another process).
    reaped: Mutex<bool>,
    /// `None` when stdin is not streamed.
    input: Mutex<Option<Input>>,
    terminal: Option<Terminal>,
}

impl Running {
    /// Kills the command and everything in its process group.
    fn kill(&self) {
        let reaped = lock(&self.reaped);
        if !*reaped {
            // SAFETY: kill with integers; the group leader is not reaped
            // yet (we hold the lock), so the id is still this group's.
            unsafe { libc::kill(-self.pid, libc::SIGKILL) };
        }
    }
}

/// A key of the table: the client's process id, or ours for a command
/// sent without one (it cannot be addressed, but must be killed at the end).
#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Client(String),
    Internal(u64),
}

/// The commands of the connection that run now.
#[derive(Default)]
pub struct Processes {
    running: Mutex<HashMap<Key, Arc<Running>>>,
    /// Client process ids of `command/exec` requests read but not started
    /// yet (requests are handled concurrently, so a `write` sent right
    /// after its `command/exec` may be handled first): how many of each.
    arriving: Mutex<HashMap<String, usize>>,
    /// Signalled whenever a command started or failed to.
    changed: tokio::sync::Notify,
    next_internal: AtomicU64,
}

/// How long a follow-up waits for its command to start.
const START_WAIT: Duration = Duration::from_secs(30);

impl Processes {
    /// Called as a `command/exec` request is read, before it is handled.
    pub fn announce(&self, raw: Option<&Value>) {
        if let Some(id) = announced_id(raw) {
            *lock(&self.arriving).entry(id).or_default() += 1;
        }
    }

    fn arrived(&self, id: &str) {
        let mut arriving = lock(&self.arriving);
        if let Some(count) = arriving.get_mut(id) {
            *count -= 1;
            if *count == 0 {
                arriving.remove(id);
            }
        }
        drop(arriving);
        self.changed.notify_waiters();
    }

    /// The command `process_id`, once it started if it is starting.
    async fn get(&self, process_id: &str) -> Result<Arc<Running>, RpcError> {
        let key = Key::Client(process_id.to_owned());
        let deadline = tokio::time::Instant::now() + START_WAIT;
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if let Some(running) = lock(&self.running).get(&key) {
                return Ok(running.clone());
            }
            if !lock(&self.arriving).contains_key(process_id)
                || tokio::time::timeout_at(deadline, changed).await.is_err()
            {
                return Err(RpcError::invalid_request(format!(
                    "no active command/exec for process id {process_id:?}"
                )));
            }
        }
    }

    /// Kills every command (the client has gone).
    pub fn kill_all(&self) {
        for running in lock(&self.running).values() {
            running.kill();
        }
    }
}

fn announced_id(raw: Option<&Value>) -> Option<String> {
    raw?.get("processId")?.as_str().map(str::to_owned)
}

/// Marks an announced `command/exec` as handled (started or refused)
/// whichever way its handler ends.
struct Arrival<'a> {
    processes: &'a Processes,
    id: Option<String>,
}

impl Arrival<'_> {
    fn done(&mut self) {
        if let Some(id) = self.id.take() {
            self.processes.arrived(&id);
        }
    }
}

impl Drop for Arrival<'_> {
    fn drop(&mut self) {
        self.done();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn invalid_params(message: impl Into<String>) -> RpcError {
    RpcError::new(INVALID_PARAMS, message)
}

/// The checks Codex makes before it starts anything, with its errors.
fn check(asked: &CommandExecParams) -> Result<(), RpcError> {
    if asked.command.is_empty() {
        return Err(RpcError::invalid_request("command must not be empty"));
    }
    if (asked.tty || asked.stream_stdin || asked.stream_stdout_stderr) && asked.process_id.is_none()
    {
        return Err(RpcError::invalid_request(
            "command/exec tty or streaming requires a client-supplied processId",
        ));
    }
    if asked.size.is_some() && !asked.tty {
        return Err(invalid_params("command/exec size requires tty: true"));
    }
    if let Some(size) = asked.size {
        check_size(size)?;
    }
    if asked.timeout_ms.is_some() && asked.disable_timeout {
        return Err(invalid_params(
            "command/exec cannot set both timeoutMs and disableTimeout",
        ));
    }
    if asked.output_bytes_cap.is_some() && asked.disable_output_cap {
        return Err(invalid_params(
            "command/exec cannot set both outputBytesCap and disableOutputCap",
        ));
    }
    if let Some(timeout) = asked.timeout_ms.filter(|timeout| *timeout < 0) {
        return Err(invalid_params(format!(
            "command/exec timeoutMs must be non-negative, got {timeout}"
        )));
    }
    Ok(())
}

fn check_size(size: TerminalSize) -> Result<(), RpcError> {
    if size.rows == 0 || size.cols == 0 {
        return Err(invalid_params(
            "command/exec size rows and cols must be greater than 0",
        ));
    }
    Ok(())
}

/// The policy asked for, or the configured one.
fn policy(server: &Server, asked: Option<WirePolicy>) -> Result<SandboxPolicy, RpcError> {
    Ok(match asked {
        Some(WirePolicy::DangerFullAccess | WirePolicy::ExternalSandbox { .. }) => {
            SandboxPolicy::new(SandboxMode::DangerFullAccess)
        }
        Some(WirePolicy::ReadOnly { network_access }) => SandboxPolicy {
            network_access,
            ..SandboxPolicy::new(SandboxMode::ReadOnly)
        },
        Some(WirePolicy::WorkspaceWrite {
            writable_roots,
            network_access,
            exclude_tmpdir_env_var,
            exclude_slash_tmp,
        }) => SandboxPolicy {
            mode: SandboxMode::WorkspaceWrite,
            writable_roots: writable_roots.into_iter().map(|root| root.0).collect(),
            network_access,
            exclude_tmpdir_env_var,
            exclude_slash_tmp,
        },
        None => {
            let config = server
                .fresh_config()
                .map_err(|error| RpcError::internal(format!("{error:#}")))?;
            let settings = codex_config::sandbox::sandbox_settings(&config)
                .map_err(|error| RpcError::internal(format!("{error:#}")))?;
            let mode = match &settings.mode {
                Some(mode) => mode
                    .parse::<SandboxMode>()
                    .map_err(|error| RpcError::internal(format!("sandbox_mode: {error}")))?,
                None => SandboxMode::ReadOnly,
            };
            SandboxPolicy {
                mode,
                writable_roots: settings.writable_roots,
                network_access: settings.network_access,
                exclude_tmpdir_env_var: settings.exclude_tmpdir_env_var,
                exclude_slash_tmp: settings.exclude_slash_tmp,
            }
        }
    })
}

fn spawn_error(error: impl std::fmt::Display) -> RpcError {
    RpcError::internal(format!("failed to spawn command: {error}"))
}

/// What was started: the command, the sandbox it runs in (kept until it
/// ends: it owns the placeholders), where its output comes from.
struct Started {
    child: Child,
    sandbox: Sandbox,
    running: Arc<Running>,
    stdout: Option<Box<dyn Read + Send>>,
    stderr: Option<Box<dyn Read + Send>>,
}

/// Prepares the sandbox and starts the command in it, registered under
/// `key` (refused when a running command has that key). Blocking.
fn start(
    processes: &Processes,
    key: Key,
    asked: &CommandExecParams,
    policy: &SandboxPolicy,
) -> Result<Started, RpcError> {
    // As in Codex, the workspace of workspace-write is the server's working
    // directory, whichever directory the command runs in.
    let server_cwd = std::env::current_dir().map_err(spawn_error)?;
    let cwd = match &asked.cwd {
        Some(cwd) => server_cwd.join(cwd),
        None => server_cwd.clone(),
    };
    if !cwd.is_dir() {
        return Err(spawn_error(format!(
            "the working directory {} does not exist or is not a directory",
            cwd.display()
        )));
    }
    let sandbox = Sandbox::prepare(policy, &server_cwd, ApplyOptions::default())
        .map_err(|error| RpcError::internal(format!("cannot start the sandbox: {error}")))?;
    let mut argv = asked.command.clone();
    if argv[0].contains('/') {
        // A relative program is the command's, from its own directory.
        argv[0] = cwd.join(&argv[0]).display().to_string();
    }
    let mut command = sandbox.command(&argv).map_err(spawn_error)?;
    command.current_dir(&cwd);
    std::os::unix::process::CommandExt::arg0(&mut command, &asked.command[0]);
    if policy.mode != SandboxMode::DangerFullAccess && !policy.network_access {
        // What Codex tells commands that run without a network.
        command.env("CODEX_SANDBOX_NETWORK_DISABLED", "1");
    }
    for (name, value) in asked.env.iter().flatten() {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let terminal = if asked.tty {
        let (terminal, slave) = Terminal::open(asked.size.unwrap_or(DEFAULT_SIZE))
            .map_err(|error| RpcError::internal(format!("cannot open a terminal: {error}")))?;
        let clone = |fd: &std::os::fd::OwnedFd| {
            fd.try_clone()
                .map_err(|error| RpcError::internal(format!("cannot open a terminal: {error}")))
        };
        command
            .stdin(Stdio::from(clone(&slave)?))
            .stdout(Stdio::from(clone(&slave)?))
            .stderr(Stdio::from(slave));
        // SAFETY: the hook makes two async-signal-safe system calls.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(
                &mut command,
                terminal::become_session_leader,
            );
        }
        Some(terminal)
    } else {
        command
            .stdin(if asked.stream_stdin {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        None
    };

    let mut table = lock(&processes.running);
    if table.contains_key(&key) {
        let Key::Client(id) = &key else {
            return Err(RpcError::internal("an internal process id was reused"));
        };
        return Err(RpcError::invalid_request(format!(
            "duplicate active command/exec process id: {id:?}"
        )));
    }
    let mut child = sandbox.spawn(command).map_err(|error| match error {
        SandboxError::CommandNotFound { .. } | SandboxError::Spawn { .. } => spawn_error(error),
        other => RpcError::internal(format!("cannot start the sandbox: {other}")),
    })?;
    let pid = i32::try_from(child.id()).unwrap_or(i32::MAX);
    let (input, stdout, stderr): (Option<Input>, Option<Box<dyn Read + Send>>, _) = match &terminal
    {
        Some(terminal) => {
            let handles = terminal
                .handle()
                .and_then(|reader| terminal.handle().map(|writer| (reader, writer)));
            match handles {
                Ok((reader, writer)) => {
                    (Some(Input::Terminal(writer)), Some(Box::new(reader)), None)
                }
                Err(error) => {
                    // SAFETY: kill with integers; the child is ours and
                    // not reaped yet.
                    unsafe { libc::kill(-pid, libc::SIGKILL) };
                    let _ = child.wait();
                    return Err(RpcError::internal(format!(
                        "cannot read the terminal: {error}"
                    )));
                }
            }
        }
        None => (
            child.stdin.take().map(Input::Pipe),
            child
                .stdout
                .take()
                .map(|out| Box::new(out) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|err| Box::new(err) as Box<dyn Read + Send>),
        ),
    };
    let running = Arc::new(Running {
        pid,
        reaped: Mutex::new(false),
        input: Mutex::new(if asked.stream_stdin || asked.tty {
            input
        } else {
            Some(Input::Closed)
        }),
        terminal,
    });
    table.insert(key, running.clone());
    drop(table);
    Ok(Started {
        child,
        sandbox,
        running,
        stdout,
        stderr,
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "CommandExecOutputStream")]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// Reads `source` to its end on a thread of its own, chunk by chunk.
fn pump(
    mut source: Box<dyn Read + Send>,
    stream: Stream,
    chunks: mpsc::UnboundedSender<(Stream, Vec<u8>)>,
) {
    std::thread::spawn(move || {
        let mut buffer = vec![0u8; CHUNK];
        loop {
            match source.read(&mut buffer) {
                Ok(0) => return,
                Ok(read) => {
                    if chunks.send((stream, buffer[..read].to_vec())).is_err() {
                        return;
                    }
                }
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                // A terminal's master reads EIO once the last slave closed.
                Err(_) => return,
            }
        }
    });
}

/// Waits for the command on a thread of its own; when it exits, kills what
/// is left of its group (while its id is still reserved), then reaps it.
fn wait_for_exit(mut child: Child, running: Arc<Running>) -> oneshot::Receiver<i32> {
    let (sender, receiver) = oneshot::channel();
    std::thread::spawn(move || {
        // SAFETY: a zeroed siginfo_t is valid for waitid to fill.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: waitid writes into `info`; WNOWAIT leaves the child
            // a zombie, so its pid and group id stay reserved.
            let waited = unsafe {
                libc::waitid(
                    libc::P_PID,
                    running.pid as libc::id_t,
                    &mut info,
                    libc::WEXITED | libc::WNOWAIT,
                )
            };
            if waited == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                break;
            }
        }
        let code = {
            let mut reaped = lock(&running.reaped);
            // SAFETY: kill with integers; the leader is a zombie we have
            // not reaped, so the group id is still the command's.
            unsafe { libc::kill(-running.pid, libc::SIGKILL) };
            let status = child.wait();
            *reaped = true;
            status.map(codex_sandbox::exit_code).unwrap_or(-1)
        };
        let _ = sender.send(code);
    });
    receiver
}

/// What is kept of one stream, and how much of it the cap let through.
struct Capture {
    kept: Vec<u8>,
    cap: Option<usize>,
    passed: usize,
    reached: bool,
}

impl Capture {
    fn new(cap: Option<usize>) -> Capture {
        Capture {
            kept: Vec::new(),
            cap,
            passed: 0,
            reached: false,
        }
    }

    /// The part of `bytes` within the cap, and whether the cap cut it.
    fn take<'a>(&mut self, bytes: &'a [u8]) -> (&'a [u8], bool) {
        let room = self
            .cap
            .map_or(usize::MAX, |cap| cap.saturating_sub(self.passed));
        let passed = &bytes[..bytes.len().min(room)];
        self.passed = self.passed.saturating_add(passed.len());
        let cut = passed.len() < bytes.len();
        self.reached |= cut;
        (passed, cut)
    }
}

fn delta(process_id: &str, stream: Stream, bytes: &[u8], cap_reached: bool) -> Value {
    let params = CommandExecOutputDeltaNotification {
        process_id: process_id.to_string(),
        stream,
        delta_base64: BASE64.encode(bytes),
        cap_reached,
    };
    notification("command/exec/outputDelta", params)
}

/// `command/exec`: runs the command to its end.
pub async fn exec(server: Arc<Server>, raw: Option<Value>) -> Answer {
    let mut arrival = Arrival {
        processes: &server.commands,
        id: announced_id(raw.as_ref()),
    };
    let mut asked: CommandExecParams = params(raw)?;
    check(&asked)?;
    let policy = policy(&server, asked.sandbox_policy.take())?;
    let key = match &asked.process_id {
        Some(id) => Key::Client(id.clone()),
        None => Key::Internal(server.commands.next_internal.fetch_add(1, Ordering::SeqCst)),
    };
    let timeout = match (asked.disable_timeout, asked.timeout_ms) {
        (true, _) => None,
        (false, Some(ms)) => Some(Duration::from_millis(u64::try_from(ms).unwrap_or(0))),
        (false, None) => Some(DEFAULT_TIMEOUT),
    };
    let cap = match (asked.disable_output_cap, asked.output_bytes_cap) {
        (true, _) => None,
        (false, Some(cap)) => Some(usize::try_from(cap).unwrap_or(usize::MAX)),
        (false, None) => Some(DEFAULT_OUTPUT_CAP),
    };
    let streaming = asked.stream_stdout_stderr || asked.tty;
    let process_id = asked.process_id.clone().unwrap_or_default();

    let started = {
        let server = server.clone();
        let key = key.clone();
        tokio::task::spawn_blocking(move || start(&server.commands, key, &asked, &policy))
            .await
            .map_err(|error| RpcError::internal(format!("the request failed: {error}")))??
    };
    arrival.done();
    let Started {
        child,
        sandbox,
        running,
        stdout,
        stderr,
    } = started;
    let (chunks, mut output) = mpsc::unbounded_channel();
    for (source, stream) in [(stdout, Stream::Stdout), (stderr, Stream::Stderr)] {
        if let Some(source) = source {
            pump(source, stream, chunks.clone());
        }
    }
    drop(chunks);
    let mut exit = wait_for_exit(child, running.clone());

    let mut captures = [Capture::new(cap), Capture::new(cap)];
    let mut on_chunk = |stream: Stream, bytes: &[u8]| {
        let capture = &mut captures[usize::from(stream == Stream::Stderr)];
        if capture.reached {
            return;
        }
        let (passed, cut) = capture.take(bytes);
        if streaming {
            if !passed.is_empty() || cut {
                server.notify(delta(&process_id, stream, passed, cut));
            }
        } else {
            capture.kept.extend_from_slice(passed);
        }
    };

    let deadline = timeout.map(|timeout| tokio::time::Instant::now() + timeout);
    let mut timed_out = false;
    let mut code = None;
    let mut output_open = true;
    // Once the command has exited its group is dead; what is left of the
    // output is read until the pipes close, or for a moment at most.
    let mut drain = None;
    while code.is_none() || output_open {
        // In this order: a deadline that has passed wins over an exit seen
        // at the same moment.
        tokio::select! {
            biased;
            () = sleep_until(deadline), if !timed_out && code.is_none() => {
                timed_out = true;
                running.kill();
            }
            chunk = output.recv(), if output_open => match chunk {
                Some((stream, bytes)) => on_chunk(stream, &bytes),
                None => output_open = false,
            },
            status = &mut exit, if code.is_none() => {
                // An exit seen after the deadline is a timeout too.
                timed_out |= deadline.is_some_and(|deadline| tokio::time::Instant::now() >= deadline);
                code = Some(status.unwrap_or(-1));
                drain = Some(tokio::time::Instant::now() + DRAIN_AFTER_EXIT);
            }
            () = sleep_until(drain), if drain.is_some() => break,
        }
    }
    let code = code.unwrap_or(-1);
    lock(&server.commands.running).remove(&key);
    // Removing the placeholders may scan /proc: off the async threads.
    tokio::task::spawn_blocking(move || drop(sandbox));

    let [out, err] = captures;
    Ok((
        to_result(&CommandExecResponse {
            exit_code: if timed_out { TIMED_OUT_EXIT_CODE } else { code },
            stdout: String::from_utf8_lossy(&out.kept).into_owned(),
            stderr: String::from_utf8_lossy(&err.kept).into_owned(),
        })?,
        Vec::new(),
    ))
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// `command/exec/write`: bytes to the command's stdin, then maybe its end.
pub async fn write(server: Arc<Server>, raw: Option<Value>) -> Answer {
    let asked: CommandExecWriteParams = params(raw)?;
    if asked.delta_base64.is_none() && !asked.close_stdin {
        return Err(invalid_params(
            "command/exec/write requires deltaBase64 or closeStdin",
        ));
    }
    let bytes = match &asked.delta_base64 {
        Some(text) => BASE64
            .decode(text)
            .map_err(|error| invalid_params(format!("invalid deltaBase64: {error}")))?,
        None => Vec::new(),
    };
    let running = server.commands.get(&asked.process_id).await?;
    let close = asked.close_stdin;
    // A pipe the command does not read from blocks: off the async threads.
    tokio::task::spawn_blocking(move || {
        let mut input = lock(&running.input);
        let write_error =
            |error: std::io::Error| RpcError::internal(format!("failed to write stdin: {error}"));
        match input.as_mut() {
            Some(Input::Closed) => Err(RpcError::invalid_request(
                "stdin streaming is not enabled for this command/exec",
            )),
            None => Err(RpcError::invalid_request("stdin is already closed")),
            Some(Input::Pipe(pipe)) => {
                pipe.write_all(&bytes).map_err(write_error)?;
                if close {
                    *input = None;
                }
                Ok((to_result(&CommandExecWriteResponse {})?, Vec::new()))
            }
            Some(Input::Terminal(terminal)) => {
                terminal.write_all(&bytes).map_err(write_error)?;
                if close {
                    terminal.write_all(&[TERMINAL_EOF]).map_err(write_error)?;
                    *input = None;
                }
                Ok((to_result(&CommandExecWriteResponse {})?, Vec::new()))
            }
        }
    })
    .await
    .map_err(|error| RpcError::internal(format!("the request failed: {error}")))?
}

/// `command/exec/terminate`: kills the command (its answer then reports
/// the signal, 128 + 9).
pub async fn terminate(server: &Server, raw: Option<Value>) -> Answer {
    let asked: CommandExecTerminateParams = params(raw)?;
    server.commands.get(&asked.process_id).await?.kill();
    Ok((to_result(&CommandExecTerminateResponse {})?, Vec::new()))
}

/// `command/exec/resize`: a new size for the command's terminal.
pub async fn resize(server: &Server, raw: Option<Value>) -> Answer {
    let asked: CommandExecResizeParams = params(raw)?;
    check_size(asked.size)?;
    let running = server.commands.get(&asked.process_id).await?;
    let Some(terminal) = &running.terminal else {
        return Err(RpcError::invalid_request(
            "failed to resize PTY: process is not attached to a PTY",
        ));
    };
    terminal
        .resize(asked.size)
        .map_err(|error| RpcError::invalid_request(format!("failed to resize PTY: {error}")))?;
    Ok((to_result(&CommandExecResizeResponse {})?, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_cap_cuts_a_chunk_and_marks_it() {
        let mut capture = Capture::new(Some(5));
        assert_eq!(capture.take(b"012"), (&b"012"[..], false));
        assert_eq!(capture.take(b"3456"), (&b"34"[..], true));
        assert!(capture.reached);
        let mut unlimited = Capture::new(None);
        assert_eq!(unlimited.take(b"0123456789"), (&b"0123456789"[..], false));
        let mut nothing = Capture::new(Some(0));
        assert_eq!(nothing.take(b"x"), (&b""[..], true));
    }

    #[test]
    fn relative_writable_roots_are_refused_with_the_path() {
        let error = params::<CommandExecParams>(Some(json!({
            "command": ["true"],
            "sandboxPolicy": {"type": "workspaceWrite", "writableRoots": ["rel"]},
        })))
        .err()
        .unwrap();
        assert!(
            error.message.contains("`rel` is relative"),
            "{}",
            error.message
        );
    }

    #[test]
    fn unknown_policies_list_codexs_types_in_its_order() {
        let error = params::<CommandExecParams>(Some(json!({
            "command": ["true"],
            "sandboxPolicy": {"type": "bogus"},
        })))
        .err()
        .unwrap();
        assert_eq!(
            error.message,
            "Invalid request: unknown variant `bogus`, expected one of `dangerFullAccess`, \
             `readOnly`, `externalSandbox`, `workspaceWrite`"
        );
    }
}
