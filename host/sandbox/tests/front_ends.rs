//! The front-end API on the real kernel: `run`'s exit statuses and errors,
//! bad input, `support()`, and failing closed when the kernel lacks a
//! feature (simulated by a seccomp filter that hides it from the probe).

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

use codex_sandbox::{
    ApplyOptions, REQUIRED_LANDLOCK_ABI, Sandbox, SandboxError, SandboxMode, SandboxPolicy,
    exit_code, run, support,
};

const PROBE: &str = env!("CARGO_BIN_EXE_codex-sandbox-probe");

/// workspace-write with `$TMPDIR` left out, so the tests do not depend on it.
fn workspace_write() -> SandboxPolicy {
    SandboxPolicy {
        mode: SandboxMode::WorkspaceWrite,
        exclude_tmpdir_env_var: true,
        ..SandboxPolicy::default()
    }
}

#[test]
fn run_passes_exit_codes_and_signals_through() {
    let dir = tempfile::tempdir().unwrap();
    let policy = workspace_write();
    let status = run(
        &policy,
        dir.path(),
        &["sh", "-c", "exit 7"],
        ApplyOptions::default(),
    )
    .unwrap();
    assert_eq!(exit_code(status), 7);
    let status = run(
        &policy,
        dir.path(),
        &["sh", "-c", "kill -TERM $$"],
        ApplyOptions::default(),
    )
    .unwrap();
    assert_eq!(exit_code(status), 128 + libc::SIGTERM);
    // The placeholders of the run are gone once it returns.
    assert!(!dir.path().join(".git").exists());
    assert!(!dir.path().join(".codex").exists());
}

#[test]
fn run_read_only_cannot_write_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let status = run(
        &SandboxPolicy::new(SandboxMode::ReadOnly),
        dir.path(),
        &["sh", "-c", "echo x > file"],
        ApplyOptions::default(),
    )
    .unwrap();
    assert_ne!(exit_code(status), 0);
    assert!(!dir.path().join("file").exists());
}

#[test]
fn a_missing_command_is_named() {
    let dir = tempfile::tempdir().unwrap();
    for mode in SandboxMode::ALL {
        let error = run(
            &SandboxPolicy::new(mode),
            dir.path(),
            &["codex-no-such-command", "arg"],
            ApplyOptions::default(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "command not found: codex-no-such-command"
        );
    }
    let error = run(
        &SandboxPolicy::new(SandboxMode::ReadOnly),
        dir.path(),
        &["./not-here"],
        ApplyOptions::default(),
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "command not found: ./not-here");
    let error = run::<&str>(
        &SandboxPolicy::new(SandboxMode::ReadOnly),
        dir.path(),
        &[],
        ApplyOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(error, SandboxError::EmptyCommand));
}

#[test]
fn bad_input_is_refused_before_anything_runs() {
    let error = "full-access".parse::<SandboxMode>().unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown sandbox mode `full-access`: expected one of `read-only`, `workspace-write`, `danger-full-access`"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut policy = workspace_write();
    policy.writable_roots = vec![PathBuf::from("/no/such/root")];
    let error = Sandbox::prepare(&policy, dir.path(), ApplyOptions::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "writable root /no/such/root does not exist (from writable_roots); help: create it, or remove it from sandbox_workspace_write.writable_roots"
    );
    // Nothing was created for a sandbox that was refused.
    assert!(!dir.path().join(".git").exists());

    let output = Command::new(PROBE)
        .args(["--apply", "sandboxed", "--", "read", "/etc/passwd"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "error: unknown sandbox mode `sandboxed`: expected one of `read-only`, `workspace-write`, `danger-full-access`"
    );
}

#[test]
fn this_kernel_offers_everything_the_sandbox_needs() {
    let support = support();
    assert!(support.landlock_abi >= REQUIRED_LANDLOCK_ABI, "{support}");
    assert!(support.seccomp, "{support}");
    assert!(support.user_namespaces, "{support}");
    assert!(support.missing(true).is_empty());
    assert!(support.to_string().contains("landlock: ABI"));
}

#[test]
fn protected_paths_cover_git_codex_and_placeholders() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    let mut policy = workspace_write();
    policy.exclude_slash_tmp = true;
    let sandbox = Sandbox::prepare(&policy, dir.path(), ApplyOptions::default()).unwrap();
    let root = dir.path().canonicalize().unwrap();
    assert_eq!(
        sandbox.protected_paths(),
        vec![
            root.join(".git"),
            root.join(".codex"),
            root.join(".agents"),
            root.join(".aws")
        ]
    );
    assert!(
        root.join(".codex").is_dir(),
        "placeholder while the sandbox lives"
    );
    drop(sandbox);
    assert!(!root.join(".codex").exists());
    assert!(root.join(".git").is_dir(), "the real .git is never removed");
}

/// Runs the probe with `--apply` under a seccomp filter that makes `call`
/// fail with `errno`, as on a kernel without the feature.
fn probe_without(call: i64, errno: u32, apply: &[&str], action: &[&str]) -> (String, String) {
    let filter = seccompiler::SeccompFilter::new(
        [(call, vec![])].into_iter().collect(),
        seccompiler::SeccompAction::Allow,
        seccompiler::SeccompAction::Errno(errno),
        std::env::consts::ARCH.try_into().unwrap(),
    )
    .unwrap();
    let program: seccompiler::BpfProgram = filter.try_into().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(PROBE);
    command
        .arg("--apply")
        .args(apply)
        .arg("--")
        .args(action)
        .current_dir(dir.path());
    // SAFETY: prctl and seccomp on a program built before fork.
    unsafe {
        command.pre_exec(move || {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            seccompiler::apply_filter(&program).map_err(std::io::Error::other)
        });
    }
    let output = command.output().unwrap();
    (
        String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    )
}

#[test]
fn without_landlock_the_sandbox_fails_closed_unless_weaker_is_accepted() {
    let (stdout, _) = probe_without(
        libc::SYS_landlock_create_ruleset,
        libc::ENOSYS as u32,
        &["read-only"],
        &["write", "/var/tmp/codex-sbx-never-written"],
    );
    assert_eq!(
        stdout,
        "error: the read-only sandbox cannot be enforced on this kernel: Landlock ABI 3 or newer (Linux 6.2) is needed: the kernel is built without Landlock (CONFIG_SECURITY_LANDLOCK); help: fix the kernel configuration, or accept a weaker sandbox explicitly (ApplyOptions::allow_weaker)"
    );
    assert!(!std::path::Path::new("/var/tmp/codex-sbx-never-written").exists());

    // Accepted explicitly: the weakness is reported, and seccomp still holds.
    let (stdout, stderr) = probe_without(
        libc::SYS_landlock_create_ruleset,
        libc::ENOSYS as u32,
        &["read-only", "--allow-weaker"],
        &["dns"],
    );
    assert_eq!(stdout, "denied: EPERM");
    assert!(
        stderr.starts_with("weakened: Landlock ABI 3 or newer"),
        "{stderr}"
    );
}

#[test]
fn without_namespaces_workspace_write_fails_closed() {
    let (stdout, _) = probe_without(
        libc::SYS_unshare,
        libc::EPERM as u32,
        &["workspace-write"],
        &["write", "new.txt"],
    );
    assert!(
        stdout.starts_with(
            "error: the workspace-write sandbox cannot be enforced on this kernel: user namespaces are needed to keep .git and .codex read-only in writable roots: unshare(CLONE_NEWUSER | CLONE_NEWNS) failed: Operation not permitted"
        ),
        "{stdout}"
    );
    assert!(stdout.ends_with("(ApplyOptions::allow_weaker)"), "{stdout}");
    // read-only needs no namespace, so it still runs.
    let (stdout, _) = probe_without(
        libc::SYS_unshare,
        libc::EPERM as u32,
        &["read-only"],
        &["read", "/etc/passwd"],
    );
    assert_eq!(stdout, "allowed");
}
