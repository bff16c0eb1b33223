//! The entry points front ends use: prepare a sandbox, then spawn a command
//! in it, run one to completion, or sandbox this very process and `exec`.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::child::{ChildPlan, Failure, Step};
use crate::namespace::{self, Placeholders};
use crate::{
    KernelSupport, REQUIRED_LANDLOCK_ABI, ResolvedPolicy, SandboxError, SandboxMode, SandboxPolicy,
};

/// Options of the apply calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Run with what the kernel can enforce when it cannot enforce it all
    /// (no Landlock, no seccomp, no user namespaces) instead of failing.
    /// [`Sandbox::weakened`] then says what is missing. Off by default: a
    /// sandbox that cannot be enforced is an error.
    pub allow_weaker: bool,
}

/// A sandbox prepared for one policy and working directory.
///
/// Everything the child needs is built by [`Sandbox::prepare`], in the
/// parent: the Landlock ruleset (a file descriptor), the BPF programs, the
/// paths to mount read-only as C strings, the placeholders of missing
/// `.git`/`.codex`. What runs after `fork` ([`Sandbox::pre_exec_hook`]) only
/// makes system calls on that data, so it is async-signal-safe and may run
/// in a child of a multithreaded process. One `Sandbox` can start many
/// commands. Dropping it removes the placeholders it created, once no
/// process has them mounted any more.
#[derive(Debug)]
pub struct Sandbox {
    policy: ResolvedPolicy,
    plan: Arc<ChildPlan>,
    weakened: Vec<String>,
    placeholders: Option<Placeholders>,
}

impl Sandbox {
    /// Resolves `policy` for `cwd` and builds everything the child will
    /// need. Fails closed: when the kernel cannot enforce the policy, this
    /// is an error naming what is missing, unless `options.allow_weaker`.
    pub fn prepare(
        policy: &SandboxPolicy,
        cwd: &Path,
        options: ApplyOptions,
    ) -> Result<Sandbox, SandboxError> {
        let resolved = policy.resolve(cwd)?;
        if resolved.mode == SandboxMode::DangerFullAccess {
            return Ok(Sandbox {
                policy: resolved,
                plan: Arc::new(ChildPlan::default()),
                weakened: Vec::new(),
                placeholders: None,
            });
        }
        let writes = !resolved.writable_roots.is_empty();
        let (support, namespace_kind) = kernel_support(writes);
        let missing = support.missing(writes);
        if !missing.is_empty() && !options.allow_weaker {
            return Err(SandboxError::Unenforceable {
                mode: resolved.mode,
                missing: missing.join("; "),
            });
        }
        let landlock = if support.landlock_abi >= REQUIRED_LANDLOCK_ABI {
            Some(crate::landlock::build(&resolved)?)
        } else {
            None
        };
        let seccomp = if support.seccomp {
            crate::seccomp::build(resolved.network_access)?
        } else {
            Vec::new()
        };
        let (mounts, placeholders) = match namespace_kind {
            Some(kind) if writes => {
                let (mounts, placeholders) = namespace::plan(&resolved.writable_roots, kind)?;
                (Some(mounts), Some(placeholders))
            }
            _ => (None, None),
        };
        Ok(Sandbox {
            policy: resolved,
            plan: Arc::new(ChildPlan {
                no_new_privs: true,
                mounts,
                landlock,
                seccomp,
            }),
            weakened: missing,
            placeholders,
        })
    }

    /// The policy as resolved: canonical working directory and writable roots.
    pub fn policy(&self) -> &ResolvedPolicy {
        &self.policy
    }

    /// What the kernel could not enforce (empty unless
    /// [`ApplyOptions::allow_weaker`] was needed). A front end should show it.
    pub fn weakened(&self) -> &[String] {
        &self.weakened
    }

    /// The paths kept read-only inside the writable roots (existing `.git`,
    /// `.codex`, `gitdir:` targets, and placeholders).
    pub fn protected_paths(&self) -> Vec<PathBuf> {
        self.plan
            .mounts
            .as_ref()
            .map(|mounts| mounts.protected.iter().map(|p| p.path.clone()).collect())
            .unwrap_or_default()
    }

    /// A hook for `CommandExt::pre_exec` (std or tokio) that sandboxes the
    /// child between `fork` and `exec`. It is async-signal-safe: it reads
    /// data built by [`Sandbox::prepare`] and makes system calls only. A
    /// failure is reported as the bare OS error; [`Sandbox::spawn`] reports
    /// the step too.
    pub fn pre_exec_hook(&self) -> impl FnMut() -> io::Result<()> + Send + Sync + 'static {
        let plan = Arc::clone(&self.plan);
        move || {
            plan.enter()
                .map_err(|failure| io::Error::from_raw_os_error(failure.errno))
        }
    }

    /// A `Command` for `argv` in the sandbox's working directory, the program
    /// looked up on `PATH` first so that a missing one is
    /// [`SandboxError::CommandNotFound`]. Not yet sandboxed: give it to
    /// [`Sandbox::spawn`].
    pub fn command<S: AsRef<OsStr>>(&self, argv: &[S]) -> Result<Command, SandboxError> {
        let (program, args) = argv.split_first().ok_or(SandboxError::EmptyCommand)?;
        let program = resolve_program(program.as_ref(), &self.policy.cwd)?;
        let mut command = Command::new(program);
        command.args(args).current_dir(&self.policy.cwd);
        Ok(command)
    }

    /// Spawns `command` sandboxed. A set-up failure in the child is an error
    /// naming the step (and path); a program that cannot be found is
    /// [`SandboxError::CommandNotFound`].
    pub fn spawn(&self, mut command: Command) -> Result<Child, SandboxError> {
        let name = command.get_program().to_string_lossy().into_owned();
        let mut fds = [0i32; 2];
        // SAFETY: pipe2 writes two new descriptors into `fds`.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(SandboxError::setup(
                "creating the report pipe",
                io::Error::last_os_error(),
            ));
        }
        // SAFETY: both descriptors are new and owned here only.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let report = write.as_raw_fd();
        let plan = Arc::clone(&self.plan);
        // SAFETY: the closure is async-signal-safe: it reads the plan built
        // before fork and makes system calls (see `ChildPlan::enter`); the
        // report descriptor stays open until `command` is dropped below.
        unsafe {
            command.pre_exec(move || {
                plan.enter().map_err(|failure| {
                    failure.report(report);
                    io::Error::from_raw_os_error(failure.errno)
                })
            });
        }
        let spawned = command.spawn();
        drop(command);
        drop(write);
        let mut bytes = [0u8; 8];
        let failure = fs::File::from(read)
            .read_exact(&mut bytes)
            .ok()
            .and_then(|()| Failure::decode(bytes));
        match (spawned, failure) {
            (Ok(child), _) => Ok(child),
            (Err(_), Some(failure)) => Err(self.setup_error(failure)),
            (Err(error), None) if error.kind() == io::ErrorKind::NotFound => {
                Err(SandboxError::CommandNotFound { command: name })
            }
            (Err(source), None) => Err(SandboxError::Spawn {
                command: name,
                source,
            }),
        }
    }

    /// Sandboxes the calling process, which must be single-threaded; the
    /// caller then `exec`s the command. The placeholders stay (this process
    /// has them mounted until it ends). After an error the process may be
    /// partly sandboxed: report it and exit.
    pub fn enter_current_process(mut self) -> Result<(), SandboxError> {
        let threads = fs::read_dir("/proc/self/task")
            .map(|tasks| tasks.count())
            .unwrap_or(1);
        if threads > 1 {
            return Err(SandboxError::MultiThreaded { threads });
        }
        self.plan
            .enter()
            .map_err(|failure| self.setup_error(failure))?;
        if let Some(placeholders) = &mut self.placeholders {
            placeholders.keep();
        }
        Ok(())
    }

    /// Removes the placeholders nobody has mounted any more, now rather than
    /// when the sandbox is dropped. Commands started after this are not
    /// protected against creating `.git` or `.codex` where they were missing.
    pub fn cleanup(&mut self) {
        if let Some(placeholders) = &mut self.placeholders {
            placeholders.cleanup();
        }
    }

    fn setup_error(&self, failure: Failure) -> SandboxError {
        let step = match failure.step {
            Step::NoNewPrivs => "setting no-new-privs".to_owned(),
            Step::Landlock => "enforcing the Landlock ruleset".to_owned(),
            Step::Seccomp => "installing the seccomp filter".to_owned(),
            _ => self
                .plan
                .mounts
                .as_ref()
                .map(|mounts| namespace::describe_step(mounts, failure))
                .unwrap_or_default(),
        };
        SandboxError::setup(step, io::Error::from_raw_os_error(failure.errno))
    }
}

/// What the kernel offers, probing namespaces only when needed.
fn kernel_support(writes: bool) -> (KernelSupport, Option<namespace::NamespaceKind>) {
    let (landlock_abi, landlock_problem) = match crate::landlock::kernel_abi() {
        Ok(abi) => (abi, None),
        Err(problem) => (0, Some(problem)),
    };
    let (kind, user_namespace_problem) = if writes {
        match namespace::probe() {
            Ok(kind) => (Some(kind), None),
            Err(problem) => (None, Some(problem)),
        }
    } else {
        (None, None)
    };
    let support = KernelSupport {
        os: std::env::consts::OS,
        landlock_abi,
        landlock_problem,
        seccomp: crate::seccomp::available(),
        user_namespaces: kind.is_some(),
        user_namespace_problem,
    };
    (support, kind)
}

fn resolve_program(program: &OsStr, cwd: &Path) -> Result<PathBuf, SandboxError> {
    let not_found = || SandboxError::CommandNotFound {
        command: program.to_string_lossy().into_owned(),
    };
    if program.is_empty() {
        return Err(SandboxError::EmptyCommand);
    }
    let is_executable = |path: &Path| {
        fs::metadata(path)
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    };
    if program.as_encoded_bytes().contains(&b'/') {
        let path = cwd.join(program);
        return if is_executable(&path) {
            Ok(path)
        } else {
            Err(not_found())
        };
    }
    let search = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&search)
        .map(|dir| cwd.join(dir).join(program))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(not_found)
}

/// Sandboxes the calling process for `policy` in `cwd`; the caller then
/// `exec`s the command (the `codex sandbox -- CMD` case). The process must
/// not have started threads yet.
pub fn apply_to_current_process(
    policy: &SandboxPolicy,
    cwd: &Path,
    options: ApplyOptions,
) -> Result<(), SandboxError> {
    Sandbox::prepare(policy, cwd, options)?.enter_current_process()
}

/// Sandboxes the calling process and replaces it by `argv`, run in `cwd`.
/// Returns only on failure.
pub fn exec<S: AsRef<OsStr>>(
    policy: &SandboxPolicy,
    cwd: &Path,
    argv: &[S],
    options: ApplyOptions,
) -> SandboxError {
    let sandbox = match Sandbox::prepare(policy, cwd, options) {
        Ok(sandbox) => sandbox,
        Err(error) => return error,
    };
    let mut command = match sandbox.command(argv) {
        Ok(command) => command,
        Err(error) => return error,
    };
    if let Err(error) = sandbox.enter_current_process() {
        return error;
    }
    let name = command.get_program().to_string_lossy().into_owned();
    let source = command.exec();
    if source.kind() == io::ErrorKind::NotFound {
        SandboxError::CommandNotFound { command: name }
    } else {
        SandboxError::Spawn {
            command: name,
            source,
        }
    }
}

/// Runs `argv` sandboxed in `cwd`, with stdin, stdout and stderr inherited,
/// and returns its exit status ([`exit_code`] turns it into a shell's exit
/// code). While it runs, SIGHUP, SIGINT, SIGQUIT and SIGTERM sent to this
/// process are passed on to the command (the terminal's own Ctrl-C already
/// reaches it). Meant for front ends that own the process: one `run` at a time.
pub fn run<S: AsRef<OsStr>>(
    policy: &SandboxPolicy,
    cwd: &Path,
    argv: &[S],
    options: ApplyOptions,
) -> Result<ExitStatus, SandboxError> {
    let sandbox = Sandbox::prepare(policy, cwd, options)?;
    let command = sandbox.command(argv)?;
    let name = command.get_program().to_string_lossy().into_owned();
    let mut child = sandbox.spawn(command)?;
    let forwarding = Forwarding::install(child.id());
    let status = child.wait();
    drop(forwarding);
    drop(sandbox);
    status.map_err(|source| SandboxError::Wait {
        command: name,
        source,
    })
}

/// The exit code a shell would report: the command's code, or 128 plus the
/// signal that ended it.
pub fn exit_code(status: ExitStatus) -> i32 {
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

static FORWARD_TO: AtomicI32 = AtomicI32::new(0);
const FORWARDED: [libc::c_int; 4] = [libc::SIGHUP, libc::SIGINT, libc::SIGQUIT, libc::SIGTERM];

extern "C" fn forward(signal: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // A signal from the terminal (si_code > 0) reached the whole foreground
    // process group, the command included; pass on only those sent to us
    // by a process (kill, sigqueue: si_code <= 0).
    // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo_t.
    let from_process = info.is_null() || unsafe { (*info).si_code } <= 0;
    let pid = FORWARD_TO.load(Ordering::SeqCst);
    if from_process && pid > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(pid, signal) };
    }
}

/// Passes signals on to the running command; restores the previous
/// handlers when dropped.
struct Forwarding {
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

impl Forwarding {
    fn install(pid: u32) -> Forwarding {
        FORWARD_TO.store(i32::try_from(pid).unwrap_or(0), Ordering::SeqCst);
        let mut previous = Vec::new();
        for signal in FORWARDED {
            // SAFETY: a zeroed sigaction is a valid starting value; the
            // handler is an extern "C" fn of the SA_SIGINFO shape.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    forward;
                action.sa_sigaction = handler as libc::sighandler_t;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(signal, &action, &mut old) == 0 {
                    previous.push((signal, old));
                }
            }
        }
        Forwarding { previous }
    }
}

impl Drop for Forwarding {
    fn drop(&mut self) {
        for (signal, old) in &self.previous {
            // SAFETY: restores an action sigaction gave us.
            unsafe { libc::sigaction(*signal, old, std::ptr::null_mut()) };
        }
        FORWARD_TO.store(0, Ordering::SeqCst);
    }
}
