//! Where the key must never be, and the hardening that keeps other processes
//! of the same user out of the proxy's memory.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::*;

fn ok_upstream() -> Upstream {
    Upstream::start(|_, stream| {
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .unwrap();
    })
}

fn proc_file(pid: u32, name: &str) -> Vec<u8> {
    std::fs::read(format!("/proc/{pid}/{name}")).unwrap()
}

/// The soft and hard core-size limits from `/proc/PID/limits`.
fn core_limits(pid: u32) -> (String, String) {
    let limits = String::from_utf8(proc_file(pid, "limits")).unwrap();
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max core file size"))
        .unwrap()
        .to_owned();
    let mut values = line["Max core file size".len()..].split_whitespace();
    (
        values.next().unwrap().to_owned(),
        values.next().unwrap().to_owned(),
    )
}

#[test]
fn the_key_is_not_in_argv_environment_or_stderr_and_cores_are_off() {
    let upstream = ok_upstream();
    let proxy = ProxyCommand::new(&upstream.url()).start();
    assert_eq!(proxy.post("{}").status, 200);
    // A failing request too: errors must not print the key either.
    assert_eq!(proxy.exchange(b"GET /other HTTP/1.1\r\n\r\n").status, 403);
    let pid = proxy.pid();
    assert!(!contains(&proc_file(pid, "cmdline"), KEY.as_bytes()));
    // Root reads environ even of a process that is not dumpable.
    assert!(!contains(&proc_file(pid, "environ"), KEY.as_bytes()));
    assert_eq!(core_limits(pid), ("0".to_owned(), "0".to_owned()));
    assert!(!proxy.stderr().contains(KEY));
    assert!(!proxy.stderr().contains(&KEY[3..]));
}

/// The test re-runs its own binary with this variable set: the child then
/// applies the hardening to itself and reports what it sees.
const CHILD: &str = "CODEX_PROXY_TEST_HARDENING_CHILD";

#[test]
fn hardening_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    codex_responses_api_proxy::pre_main_hardening();
    use std::os::unix::ffi::OsStrExt;
    let loader: Vec<String> = std::env::vars_os()
        .filter(|(name, _)| name.as_bytes().starts_with(b"LD_"))
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .collect();
    // SAFETY: PR_GET_DUMPABLE takes no pointers.
    let dumpable = unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) };
    println!(
        "REPORT loader={loader:?} dumpable={dumpable} kept={:?}",
        std::env::var("KEPT_VARIABLE").ok()
    );
}

#[test]
fn hardening_removes_every_ld_variable_and_turns_dumping_off() {
    use std::os::unix::ffi::OsStrExt;
    let odd_name = std::ffi::OsStr::from_bytes(b"LD_\xffNOT_UTF8");
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "secrets::hardening_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("LD_LIBRARY_PATH", "/nonexistent")
        .env("LD_CODEX_TEST", "1")
        .env(odd_name, "1")
        .env("KEPT_VARIABLE", "yes")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("REPORT loader=[] dumpable=0 kept=Some(\"yes\")"),
        "{stdout}"
    );
}

#[test]
fn the_built_binary_is_hardened_before_main() {
    // Started with a core limit above 0, the proxy runs with 0: its
    // constructor ran. (Not dumpable is shown by the test that runs it as
    // an ordinary user, where the kernel gives its /proc files to root.)
    let upstream = ok_upstream();
    let mut command = ProxyCommand::new(&upstream.url());
    command.core_limit = Some(1 << 20);
    command.env.push(("LD_CODEX_TEST".into(), "1".into()));
    let proxy = command.start();
    assert_eq!(core_limits(proxy.pid()), ("0".to_owned(), "0".to_owned()));
    assert_eq!(proxy.post("{}").status, 200);
}

/// The uid and gid of `name`, created when missing. `None` (with a loud
/// message) where users cannot be created.
fn test_user(name: &str) -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let output = Command::new("id").arg(flag).arg(name).output().ok()?;
        output.status.success().then_some(())?;
        String::from_utf8_lossy(&output.stdout).trim().parse().ok()
    };
    if id("-u").is_none() {
        let created = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ])
            .status();
        if !matches!(created, Ok(status) if status.success()) && id("-u").is_none() {
            return None;
        }
    }
    Some((id("-u")?, id("-g")?))
}

/// Runs `program args` as `uid:gid`; true when it succeeded.
fn as_user(uid: u32, gid: u32, program: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new("setpriv")
        .arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .args(["--clear-groups", "--", program])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// What a process of the same user may read of process `pid`: its
/// environment, and its memory (opening `/proc/PID/mem` is the check that
/// matters; `dd` with `count=0` only opens it).
fn sibling_can_read(uid: u32, gid: u32, pid: u32) -> (bool, bool) {
    let environ = format!("/proc/{pid}/environ");
    let mem = format!("if=/proc/{pid}/mem");
    let (environ_read, _) = as_user(uid, gid, "cat", &[&environ]);
    let (mem_opened, _) = as_user(uid, gid, "dd", &[&mem, "of=/dev/null", "bs=1", "count=0"]);
    (environ_read, mem_opened)
}

#[test]
fn another_process_of_the_same_user_cannot_read_the_proxy() {
    // SAFETY: geteuid takes no arguments.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "SKIPPED another_process_of_the_same_user_cannot_read_the_proxy: needs root to create and become a test user"
        );
        return;
    }
    let Some((uid, gid)) = test_user("codex-proxy-test") else {
        eprintln!(
            "SKIPPED another_process_of_the_same_user_cannot_read_the_proxy: cannot create the user codex-proxy-test (useradd failed)"
        );
        return;
    };
    // A copy of the binary that the test user can run (the target dir may
    // sit under root's home), and a directory it may write server info in.
    let bin_dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(bin_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let binary = bin_dir.path().join("codex-responses-api-proxy");
    std::fs::copy(BINARY, &binary).unwrap();
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();

    // The control: an ordinary process of that user is readable by its
    // siblings. If not, this kernel forbids it anyway and the test shows
    // nothing.
    let mut control = Command::new("setpriv")
        .arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .args(["--clear-groups", "--", "sleep", "30"])
        .spawn()
        .unwrap();
    eventually("the control process to run as the test user", || {
        std::fs::metadata(format!("/proc/{}", control.id())).is_ok_and(|meta| meta.uid() == uid)
    });
    let control_readable = sibling_can_read(uid, gid, control.id());
    let control_owner = std::fs::metadata(format!("/proc/{}/environ", control.id()))
        .unwrap()
        .uid();
    let _ = control.kill();
    let _ = control.wait();
    if control_readable != (true, true) {
        eprintln!(
            "SKIPPED another_process_of_the_same_user_cannot_read_the_proxy: even an ordinary process of the test user is unreadable by its siblings here ({control_readable:?})"
        );
        return;
    }
    assert_eq!(control_owner, uid);

    let upstream = ok_upstream();
    let mut command = ProxyCommand::new(&upstream.url());
    std::fs::set_permissions(command.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    command.user = Some((uid, gid, binary.clone()));
    let proxy = command.start();
    let pid = proxy.pid();
    let status = String::from_utf8(proc_file(pid, "status")).unwrap();
    let uid_line = status
        .lines()
        .find(|line| line.starts_with("Uid:"))
        .unwrap();
    assert!(
        uid_line
            .split_whitespace()
            .skip(1)
            .all(|id| id == uid.to_string()),
        "the proxy does not run as the test user: {uid_line}"
    );
    // Not dumpable: the kernel gives its /proc files to root.
    assert_eq!(
        std::fs::metadata(format!("/proc/{pid}/environ"))
            .unwrap()
            .uid(),
        0
    );
    assert_eq!(sibling_can_read(uid, gid, pid), (false, false));
    assert_eq!(core_limits(pid), ("0".to_owned(), "0".to_owned()));
    assert_eq!(proxy.post("{}").status, 200);
    assert!(Path::new(&binary).exists());
}
