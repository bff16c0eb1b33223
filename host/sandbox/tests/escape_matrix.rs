//! The escape matrix: every attempt, under every policy, on the real kernel,
//! with its verdict asserted (and, for file attempts, what is on disk after).
//!
//! The sandboxed code is `codex-sandbox-probe` (src/bin/probe.rs): one
//! attempt per run, printing `allowed` or `denied: ERRNO`; anything else
//! (a broken fixture, an unexpected errno) fails the test. The matrix runs
//! three ways: started by `Sandbox::spawn` (the pre_exec path), by the probe
//! sandboxing itself with `apply_to_current_process` (the exec-in-place
//! path), and that again as an ordinary user (`codex-sbx-test`, created if
//! missing), where a setuid-root copy of the probe shows that setuid gives
//! nothing.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use codex_sandbox::{ApplyOptions, Sandbox, SandboxMode, SandboxPolicy};

const PROBE: &str = env!("CARGO_BIN_EXE_codex-sandbox-probe");
const TEST_USER: &str = "codex-sbx-test";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    ReadOnly,
    WorkspaceWrite,
    WorkspaceWriteNetwork,
    DangerFullAccess,
}

const POLICIES: [Policy; 4] = [
    Policy::ReadOnly,
    Policy::WorkspaceWrite,
    Policy::WorkspaceWriteNetwork,
    Policy::DangerFullAccess,
];

impl Policy {
    fn mode(self) -> SandboxMode {
        match self {
            Policy::ReadOnly => SandboxMode::ReadOnly,
            Policy::WorkspaceWrite | Policy::WorkspaceWriteNetwork => SandboxMode::WorkspaceWrite,
            Policy::DangerFullAccess => SandboxMode::DangerFullAccess,
        }
    }

    fn network(self) -> bool {
        self == Policy::WorkspaceWriteNetwork
    }
}

/// Allowed or denied, for [read-only, workspace-write, workspace-write + network, danger-full-access].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum V {
    A,
    D,
}
use V::{A, D};

/// One attempt of the matrix.
struct Case {
    name: &'static str,
    argv: fn(&Fixture) -> Vec<String>,
    verdicts: [V; 4],
    /// A path that exists after the attempt exactly when it was allowed.
    evidence: Option<fn(&Fixture) -> PathBuf>,
    /// Only meaningful for an ordinary user.
    unprivileged_only: bool,
}

fn s(text: impl AsRef<Path>) -> String {
    text.as_ref().display().to_string()
}

const CASES: &[Case] = &[
    Case {
        name: "write in the working directory",
        argv: |f| vec!["write".into(), s(f.work.join("new.txt"))],
        verdicts: [D, A, A, A],
        evidence: Some(|f| f.work.join("new.txt")),
        unprivileged_only: false,
    },
    Case {
        name: "write in /tmp",
        argv: |f| vec!["write".into(), s(&f.tmp_file)],
        verdicts: [D, A, A, A],
        evidence: Some(|f| f.tmp_file.clone()),
        unprivileged_only: false,
    },
    Case {
        name: "write in $HOME",
        argv: |f| vec!["write-home".into(), f.home_file_name.clone()],
        verdicts: [D, D, D, A],
        evidence: Some(|f| f.home.join(&f.home_file_name)),
        unprivileged_only: false,
    },
    Case {
        name: "write outside every root",
        argv: |f| vec!["write".into(), s(f.outside.join("f"))],
        verdicts: [D, D, D, A],
        evidence: Some(|f| f.outside.join("f")),
        unprivileged_only: false,
    },
    Case {
        name: "write /dev/null",
        argv: |_| vec!["write".into(), "/dev/null".into()],
        verdicts: [A, A, A, A],
        evidence: None,
        unprivileged_only: false,
    },
    Case {
        name: "write .git/hooks in a root",
        argv: |f| vec!["write".into(), s(f.work.join(".git/hooks/pre-commit"))],
        verdicts: [D, D, D, A],
        evidence: Some(|f| f.work.join(".git/hooks/pre-commit")),
        unprivileged_only: false,
    },
    Case {
        name: "overwrite .git/config in a root",
        argv: |f| vec!["write".into(), s(f.work.join(".git/config"))],
        verdicts: [D, D, D, A],
        evidence: None,
        unprivileged_only: false,
    },
    Case {
        name: "write .codex/config.toml in a root",
        argv: |f| vec!["write".into(), s(f.work.join(".codex/config.toml"))],
        verdicts: [D, D, D, A],
        evidence: None,
        unprivileged_only: false,
    },
    Case {
        name: "create .git where missing",
        argv: |f| vec!["create-dir-and-hook".into(), s(f.more.join(".git"))],
        verdicts: [D, D, D, A],
        evidence: Some(|f| f.more.join(".git/hooks/pre-commit")),
        unprivileged_only: false,
    },
    Case {
        name: "create .codex where missing",
        argv: |f| vec!["create-dir-and-hook".into(), s(f.more.join(".codex"))],
        verdicts: [D, D, D, A],
        evidence: Some(|f| f.more.join(".codex/hooks/pre-commit")),
        unprivileged_only: false,
    },
    Case {
        name: "write through a symlink out of a root",
        argv: |f| vec!["write".into(), s(f.work.join("link-out/f"))],
        verdicts: [D, D, D, A],
        evidence: Some(|f| f.outside.join("f")),
        unprivileged_only: false,
    },
    Case {
        name: "rename a directory over .git",
        argv: |f| {
            vec![
                "exchange".into(),
                s(f.work.join("decoy")),
                s(f.work.join(".git")),
            ]
        },
        verdicts: [D, D, D, A],
        evidence: Some(|f| f.work.join(".git/decoy-marker")),
        unprivileged_only: false,
    },
    Case {
        name: "replace .codex by a symlink",
        argv: |f| {
            vec![
                "replace-with-symlink".into(),
                s(f.work.join(".codex")),
                s(&f.outside),
            ]
        },
        verdicts: [D, D, D, A],
        evidence: Some(|f| f.work.join(".codex.moved")),
        unprivileged_only: false,
    },
    Case {
        name: "read /etc/passwd",
        argv: |_| vec!["read".into(), "/etc/passwd".into()],
        verdicts: [A, A, A, A],
        evidence: None,
        unprivileged_only: false,
    },
    Case {
        name: "TCP to a listener on 127.0.0.1",
        argv: |_| vec!["tcp".into(), listeners().tcp.clone()],
        verdicts: [D, D, A, A],
        evidence: None,
        unprivileged_only: false,
    },
    Case {
        name: "DNS query to 127.0.0.1:53",
        argv: |_| vec!["dns".into()],
        verdicts: [D, D, A, A],
        evidence: None,
        unprivileged_only: false,
    },
    Case {
        name: "ptrace(PTRACE_TRACEME)",
        argv: |_| vec!["ptrace-traceme".into()],
        verdicts: [D, D, D, A],
        evidence: None,
        unprivileged_only: false,
    },
    Case {
        name: "create and connect an abstract Unix socket",
        argv: |_| vec!["unix-abstract".into()],
        verdicts: [A, A, A, A],
        evidence: None,
        unprivileged_only: false,
    },
    Case {
        name: "connect to a Unix socket outside the roots",
        argv: |_| vec!["unix-connect".into(), s(&listeners().unix)],
        verdicts: [A, A, A, A],
        evidence: None,
        unprivileged_only: false,
    },
    Case {
        name: "no new privileges",
        argv: |_| vec!["no-new-privs".into()],
        verdicts: [D, D, D, A],
        evidence: None,
        unprivileged_only: false,
    },
    Case {
        name: "a setuid-root program gains root",
        argv: |_| vec!["setuid".into(), s(&tools().setuid_probe)],
        verdicts: [D, D, D, A],
        evidence: None,
        unprivileged_only: true,
    },
];

/// A fresh tree per attempt, under /var/tmp (not a root, unlike /tmp):
///
/// ```text
/// base/work      the working directory: .git/{hooks,config,HEAD}, .codex/config.toml,
///                decoy/decoy-marker, link-out -> ../outside
/// base/more      a second writable root, without .git or .codex
/// base/outside   not a root
/// ```
struct Fixture {
    _base: tempfile::TempDir,
    work: PathBuf,
    more: PathBuf,
    outside: PathBuf,
    tmp_file: PathBuf,
    home: PathBuf,
    home_file_name: String,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Fixture {
    fn new(user: Option<&User>) -> Fixture {
        let base = tempfile::Builder::new()
            .prefix("codex-sbx-")
            .tempdir_in("/var/tmp")
            .unwrap();
        fs::set_permissions(base.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let work = base.path().join("work");
        let more = base.path().join("more");
        let outside = base.path().join("outside");
        fs::create_dir_all(work.join(".git/hooks")).unwrap();
        fs::write(work.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        fs::write(work.join(".git/config"), "[core]\n").unwrap();
        fs::create_dir_all(work.join(".codex")).unwrap();
        fs::write(work.join(".codex/config.toml"), "model = \"o3\"\n").unwrap();
        fs::create_dir_all(work.join("decoy")).unwrap();
        fs::write(work.join("decoy/decoy-marker"), "").unwrap();
        std::os::unix::fs::symlink("../outside", work.join("link-out")).unwrap();
        fs::create_dir_all(&more).unwrap();
        fs::create_dir_all(&outside).unwrap();
        let id = format!(
            "{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let home = match user {
            Some(user) => user.home.clone(),
            None => PathBuf::from(std::env::var_os("HOME").unwrap()),
        };
        if let Some(user) = user {
            let status = Command::new("chown")
                .args(["-R", &format!("{}:{}", user.name, user.name)])
                .arg(base.path())
                .status()
                .unwrap();
            assert!(status.success());
        }
        Fixture {
            _base: base,
            work,
            more,
            outside,
            tmp_file: PathBuf::from(format!("/tmp/codex-sbx-probe-{id}")),
            home,
            home_file_name: format!("codex-sbx-probe-{id}"),
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.tmp_file);
        let _ = fs::remove_file(self.home.join(&self.home_file_name));
    }
}

/// The test's own listeners: TCP on 127.0.0.1 and a Unix socket in /var/tmp
/// that any user may connect to.
struct Listeners {
    tcp: String,
    unix: PathBuf,
}

fn listeners() -> &'static Listeners {
    static LISTENERS: OnceLock<Listeners> = OnceLock::new();
    LISTENERS.get_or_init(|| {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = tcp.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            for stream in tcp.incoming().flatten() {
                drop(stream);
            }
        });
        let dir = tempfile::Builder::new()
            .prefix("codex-sbx-sock-")
            .tempdir_in("/var/tmp")
            .unwrap()
            .keep();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let path = dir.join("listener.sock");
        let unix = UnixListener::bind(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o777)).unwrap();
        std::thread::spawn(move || {
            for stream in unix.incoming().flatten() {
                let mut stream = stream;
                let mut buf = [0u8; 4];
                let _ = stream.read(&mut buf);
            }
        });
        Listeners {
            tcp: address,
            unix: path,
        }
    })
}

/// Copies of the probe any user can run, and a setuid-root one.
struct Tools {
    probe: PathBuf,
    setuid_probe: PathBuf,
}

fn tools() -> &'static Tools {
    static TOOLS: OnceLock<Tools> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("codex-sbx-bin-")
            .tempdir_in("/var/tmp")
            .unwrap()
            .keep();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let probe = dir.join("probe");
        fs::copy(PROBE, &probe).unwrap();
        fs::set_permissions(&probe, fs::Permissions::from_mode(0o755)).unwrap();
        let setuid_probe = dir.join("probe-setuid");
        fs::copy(PROBE, &setuid_probe).unwrap();
        // Owned by root (we are root when this is used): setuid root.
        fs::set_permissions(&setuid_probe, fs::Permissions::from_mode(0o4755)).unwrap();
        Tools {
            probe,
            setuid_probe,
        }
    })
}

struct User {
    name: String,
    home: PathBuf,
}

/// The ordinary user of the matrix, created when missing.
fn test_user() -> Result<User, String> {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err("the tests do not run as root, so they cannot switch users".into());
    }
    let exists = Command::new("id")
        .arg(TEST_USER)
        .output()
        .map_err(|e| e.to_string())?;
    if !exists.status.success() {
        let created = Command::new("useradd")
            .args(["--create-home", "--shell", "/bin/sh", TEST_USER])
            .output()
            .map_err(|e| format!("useradd: {e}"))?;
        if !created.status.success() {
            return Err(format!(
                "useradd failed: {}",
                String::from_utf8_lossy(&created.stderr)
            ));
        }
    }
    let home = PathBuf::from(format!("/home/{TEST_USER}"));
    if !home.exists() {
        fs::create_dir_all(&home).map_err(|e| e.to_string())?;
        Command::new("chown")
            .arg(format!("{TEST_USER}:{TEST_USER}"))
            .arg(&home)
            .status()
            .map_err(|e| e.to_string())?;
    }
    Ok(User {
        name: TEST_USER.to_owned(),
        home,
    })
}

#[derive(Debug, Clone, Copy)]
enum Runner {
    /// `Sandbox::prepare` + `Sandbox::spawn` in this (root) test process.
    Spawn,
    /// The probe applies the sandbox to itself.
    Apply,
}

/// The probe's `--apply` options for a policy: `/tmp` and `more` as roots.
fn apply_args(policy: Policy, fixture: &Fixture) -> Vec<String> {
    let mut args = vec!["--apply".to_owned(), policy.mode().as_str().to_owned()];
    if policy.mode() == SandboxMode::WorkspaceWrite {
        args.extend([
            "--root".to_owned(),
            s(&fixture.more),
            "--root".to_owned(),
            "/tmp".to_owned(),
        ]);
    }
    if policy.network() {
        args.push("--network".to_owned());
    }
    args.push("--".to_owned());
    args
}

fn library_policy(policy: Policy, fixture: &Fixture) -> SandboxPolicy {
    SandboxPolicy {
        mode: policy.mode(),
        writable_roots: if policy.mode() == SandboxMode::WorkspaceWrite {
            vec![fixture.more.clone()]
        } else {
            Vec::new()
        },
        network_access: policy.network(),
        exclude_tmpdir_env_var: true,
        exclude_slash_tmp: false,
    }
}

/// Runs one attempt and returns the probe's line.
fn attempt(
    runner: Runner,
    user: Option<&User>,
    policy: Policy,
    case: &Case,
    fixture: &Fixture,
) -> String {
    let argv = (case.argv)(fixture);
    let output = match (runner, user) {
        (Runner::Spawn, _) => {
            let sandbox = Sandbox::prepare(
                &library_policy(policy, fixture),
                &fixture.work,
                ApplyOptions::default(),
            )
            .unwrap();
            let mut full = vec![PROBE.to_owned()];
            full.extend(argv);
            let mut command = sandbox.command(&full).unwrap();
            command.stdout(std::process::Stdio::piped());
            let output = sandbox.spawn(command).unwrap().wait_with_output().unwrap();
            drop(sandbox);
            // The placeholders are gone once the command has ended.
            if policy.mode() == SandboxMode::WorkspaceWrite {
                for name in [".git", ".codex"] {
                    assert!(
                        !fixture.more.join(name).exists(),
                        "{name} placeholder left behind in {}",
                        fixture.more.display()
                    );
                }
            }
            output
        }
        (Runner::Apply, None) => Command::new(PROBE)
            .args(apply_args(policy, fixture))
            .args(argv)
            .current_dir(&fixture.work)
            .output()
            .unwrap(),
        (Runner::Apply, Some(user)) => Command::new("runuser")
            .args(["-u", &user.name, "--", "env"])
            .arg(format!("HOME={}", user.home.display()))
            .arg(&tools().probe)
            .args(apply_args(policy, fixture))
            .args(argv)
            .current_dir(&fixture.work)
            .output()
            .unwrap(),
    };
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
        + &if output.stderr.is_empty() {
            String::new()
        } else {
            format!(
                " [stderr: {}]",
                String::from_utf8_lossy(&output.stderr).trim()
            )
        }
}

fn matrix(runner: Runner, user: Option<&User>) {
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in CASES {
        if case.unprivileged_only && user.is_none() {
            continue;
        }
        for (index, policy) in POLICIES.into_iter().enumerate() {
            let fixture = Fixture::new(user);
            let line = attempt(runner, user, policy, case, &fixture);
            let expected = case.verdicts[index];
            let verdict = if line == "allowed" {
                Some(A)
            } else if line.starts_with("denied: ") && !line.contains("[stderr") {
                Some(D)
            } else {
                None
            };
            checked += 1;
            if verdict != Some(expected) {
                failures.push(format!(
                    "{policy:?} / {}: expected {expected:?}, probe said `{line}`",
                    case.name
                ));
                continue;
            }
            if let Some(evidence) = case.evidence {
                let path = evidence(&fixture);
                if path.exists() != (expected == A) {
                    failures.push(format!(
                        "{policy:?} / {}: verdict {expected:?} but {} {}",
                        case.name,
                        path.display(),
                        if path.exists() {
                            "exists"
                        } else {
                            "does not exist"
                        }
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} verdicts wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn escape_matrix_spawned_with_pre_exec() {
    matrix(Runner::Spawn, None);
}

#[test]
fn escape_matrix_applied_in_place() {
    matrix(Runner::Apply, None);
}

#[test]
fn escape_matrix_as_an_ordinary_user() {
    match test_user() {
        Ok(user) => matrix(Runner::Apply, Some(&user)),
        Err(reason) => {
            eprintln!("\n!!!!! SKIPPED: escape matrix as an ordinary user: {reason} !!!!!\n");
        }
    }
}
