//! `codex sandbox` through the binary: the escape matrix under each policy,
//! as root and as an ordinary user, beside the pinned Codex CLI's own
//! `codex sandbox` for every verdict the two share; bad input; and stdio MCP
//! servers started in their sandbox.
//!
//! The sandboxed program is the sandbox crate's probe: one attempt per run,
//! printing `allowed` or `denied: ERRNO` (anything else fails the test).

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use codex_test_support::{Home, codex_bin, codex_cli, sandbox_probe, stderr, stdout};
use serde_json::Value;

const TEST_USER: &str = "codex-sbx-test";

/// read-only, workspace-write, workspace-write with network.
const POLICIES: [&str; 3] = ["ro", "ww", "ww+net"];

/// The directories of one attempt: `work` (the working directory, with
/// `.git` and `.codex`), `more` (another writable root), `outside`.
struct Fixture {
    base: tempfile::TempDir,
    tcp: String,
    unix: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let base = tempfile::tempdir_in("/var/tmp").unwrap();
        fs::set_permissions(base.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = tcp.local_addr().unwrap().to_string();
        let unix_path = base.path().join("listener.sock");
        let unix = UnixListener::bind(&unix_path).unwrap();
        fs::set_permissions(&unix_path, fs::Permissions::from_mode(0o777)).unwrap();
        accept_for_a_while(tcp, unix);
        Fixture {
            base,
            tcp: address,
            unix: unix_path,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.base.path().join(name)
    }

    /// A file in /tmp of this fixture alone (the matrices run at once).
    fn tmp_file(&self) -> PathBuf {
        let unique = self.base.path().file_name().unwrap().to_string_lossy();
        PathBuf::from(format!("/tmp/codex-cli-sandbox{unique}"))
    }

    /// A fresh `work`, `more`, `outside` and `home` for one attempt.
    fn reset(&self, owner: Option<&str>) {
        for dir in ["work", "more", "outside", "home"] {
            let _ = fs::remove_dir_all(self.path(dir));
        }
        let work = self.path("work");
        for dir in [".git/hooks", ".codex", ".aws", "decoy"] {
            fs::create_dir_all(work.join(dir)).unwrap();
        }
        fs::write(work.join(".git/config"), "[core]\n").unwrap();
        fs::write(work.join(".codex/config.toml"), "").unwrap();
        fs::write(work.join("decoy/decoy-marker"), "").unwrap();
        for dir in ["more", "outside", "home"] {
            fs::create_dir_all(self.path(dir)).unwrap();
        }
        std::os::unix::fs::symlink("../outside", work.join("link-out")).unwrap();
        if let Some(user) = owner {
            for dir in ["work", "more", "outside", "home"] {
                let chown = Command::new("chown")
                    .args(["-R", &format!("{user}:{user}")])
                    .arg(self.path(dir))
                    .status()
                    .unwrap();
                assert!(chown.success());
            }
        }
    }
}

/// Accepts (and drops) connections for at most a minute, so that the
/// connect attempts have a peer; the threads end by themselves.
fn accept_for_a_while(tcp: TcpListener, unix: UnixListener) {
    tcp.set_nonblocking(true).unwrap();
    unix.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            let _ = tcp.accept();
            let _ = unix.accept();
            std::thread::sleep(Duration::from_millis(5));
        }
    });
}

/// One attempt: its probe arguments, its verdict under each of
/// [`POLICIES`] (`true` = allowed), and whether Codex 0.169's sandbox gives
/// the same verdicts (where it differs, on purpose, the row says why).
struct Attempt {
    name: &'static str,
    args: fn(&Fixture) -> Vec<String>,
    allowed: [bool; 3],
    codex_same: [bool; 3],
}

fn p(path: PathBuf) -> String {
    path.display().to_string()
}

const SAME: [bool; 3] = [true, true, true];

const ATTEMPTS: &[Attempt] = &[
    Attempt {
        name: "write in the working directory",
        args: |f| vec!["write".into(), p(f.path("work/new.txt"))],
        allowed: [false, true, true],
        codex_same: SAME,
    },
    Attempt {
        name: "write in /tmp",
        args: |f| vec!["write".into(), p(f.tmp_file())],
        allowed: [false, true, true],
        codex_same: SAME,
    },
    Attempt {
        name: "write in $HOME",
        args: |_| vec!["write-home".into(), "probe-file".into()],
        allowed: [false, false, false],
        codex_same: SAME,
    },
    Attempt {
        name: "write outside every root",
        args: |f| vec!["write".into(), p(f.path("outside/f"))],
        allowed: [false, false, false],
        codex_same: SAME,
    },
    Attempt {
        name: "write in another writable root",
        args: |f| vec!["write".into(), p(f.path("more/f"))],
        allowed: [false, true, true],
        codex_same: SAME,
    },
    Attempt {
        name: "write /dev/null",
        args: |_| vec!["write".into(), "/dev/null".into()],
        allowed: [true, true, true],
        codex_same: SAME,
    },
    Attempt {
        name: "write .git/hooks inside a root",
        args: |f| vec!["write".into(), p(f.path("work/.git/hooks/pre-commit"))],
        allowed: [false, false, false],
        codex_same: SAME,
    },
    Attempt {
        name: "write .git/config inside a root",
        args: |f| vec!["write".into(), p(f.path("work/.git/config"))],
        allowed: [false, false, false],
        codex_same: SAME,
    },
    Attempt {
        name: "write .codex inside a root",
        args: |f| vec!["write".into(), p(f.path("work/.codex/config.toml"))],
        allowed: [false, false, false],
        codex_same: SAME,
    },
    Attempt {
        name: "create a missing .git in a root",
        args: |f| vec!["create-dir-and-hook".into(), p(f.path("more/.git"))],
        allowed: [false, false, false],
        codex_same: SAME,
    },
    Attempt {
        name: "create a missing .codex in a root",
        args: |f| vec!["create-dir-and-hook".into(), p(f.path("more/.codex"))],
        allowed: [false, false, false],
        codex_same: SAME,
    },
    Attempt {
        name: "write .aws inside a root",
        args: |f| vec!["write".into(), p(f.path("work/.aws/credentials"))],
        allowed: [false, false, false],
        codex_same: SAME,
    },
    Attempt {
        name: "create a missing .agents in a root",
        args: |f| vec!["create-dir-and-hook".into(), p(f.path("more/.agents"))],
        allowed: [false, false, false],
        codex_same: SAME,
    },
    Attempt {
        name: "write through a symlink out of a root",
        args: |f| vec!["write".into(), p(f.path("work/link-out/f"))],
        allowed: [false, false, false],
        codex_same: SAME,
    },
    Attempt {
        name: "rename a directory over .git",
        args: |f| {
            vec![
                "exchange".into(),
                p(f.path("work/decoy")),
                p(f.path("work/.git")),
            ]
        },
        allowed: [false, false, false],
        codex_same: SAME,
    },
    Attempt {
        name: "replace .codex by a symlink",
        args: |f| {
            vec![
                "replace-with-symlink".into(),
                p(f.path("work/.codex")),
                p(f.path("outside")),
            ]
        },
        allowed: [false, false, false],
        codex_same: SAME,
    },
    Attempt {
        name: "read /etc/passwd",
        args: |_| vec!["read".into(), "/etc/passwd".into()],
        allowed: [true, true, true],
        codex_same: SAME,
    },
    Attempt {
        name: "TCP to a listener on 127.0.0.1",
        args: |f| vec!["tcp".into(), f.tcp.clone()],
        allowed: [false, false, true],
        codex_same: SAME,
    },
    Attempt {
        name: "DNS",
        args: |_| vec!["dns".into()],
        allowed: [false, false, true],
        codex_same: SAME,
    },
    // Codex allows ptrace once network is on; this sandbox never does.
    Attempt {
        name: "ptrace",
        args: |_| vec!["ptrace-traceme".into()],
        allowed: [false, false, false],
        codex_same: [true, true, false],
    },
    // Network off is "no IP sockets" here: Unix sockets keep working, where
    // Codex refuses them too (which breaks ssh-agent and language servers).
    Attempt {
        name: "an abstract Unix socket",
        args: |_| vec!["unix-abstract".into()],
        allowed: [true, true, true],
        codex_same: [false, false, true],
    },
    Attempt {
        name: "connect to a Unix socket",
        args: |f| vec!["unix-connect".into(), p(f.unix.clone())],
        allowed: [true, true, true],
        codex_same: [false, false, true],
    },
    // The probe says "denied" when no_new_privs is set: setuid gives nothing.
    Attempt {
        name: "no_new_privs is set",
        args: |_| vec!["no-new-privs".into()],
        allowed: [false, false, false],
        codex_same: SAME,
    },
];

/// Who runs `codex sandbox`.
#[derive(Clone, Copy, PartialEq)]
enum Runner {
    Ours,
    OursAsUser,
    Codex,
}

/// The binaries where an ordinary user can run them (the build directory
/// is under root's home).
struct Installed {
    dir: tempfile::TempDir,
}

impl Installed {
    fn new() -> Installed {
        let dir = tempfile::tempdir_in("/var/tmp").unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        for (from, name) in [(codex_bin(), "codex"), (sandbox_probe(), "probe")] {
            fs::copy(from, dir.path().join(name)).unwrap();
            fs::set_permissions(dir.path().join(name), fs::Permissions::from_mode(0o755)).unwrap();
        }
        Installed { dir }
    }
}

fn test_user() {
    let exists = Command::new("id").arg(TEST_USER).output().unwrap();
    if !exists.status.success() {
        let created = Command::new("useradd")
            .args(["--create-home", "--shell", "/bin/sh", TEST_USER])
            .output()
            .unwrap();
        assert!(created.status.success(), "useradd: {}", stderr(&created));
    }
}

/// The verdict of one attempt under one policy, as `runner` reports it.
fn verdict(
    runner: Runner,
    installed: &Installed,
    fixture: &Fixture,
    policy: &str,
    args: &[String],
) -> bool {
    let work = fixture.path("work");
    let more = p(fixture.path("more"));
    let codex_home = fixture.path("codex-home");
    fs::create_dir_all(&codex_home).unwrap();
    let mut command = match runner {
        Runner::Ours => Command::new(codex_bin()),
        Runner::OursAsUser => {
            let mut command = Command::new("runuser");
            command
                .args(["-u", TEST_USER, "--"])
                .arg(installed.dir.path().join("codex"));
            command
        }
        Runner::Codex => Command::new(codex_cli()),
    };
    command.arg("sandbox");
    match (runner, policy) {
        (Runner::Codex, "ro") => {}
        (Runner::Codex, _) => {
            command.args(["-c", "sandbox_mode=\"workspace-write\"", "-c"]);
            command.arg(format!(
                "sandbox_workspace_write.writable_roots=[\"{more}\"]"
            ));
            if policy == "ww+net" {
                command.args(["-c", "sandbox_workspace_write.network_access=true"]);
            }
        }
        (_, "ro") => {
            command.args(["--mode", "read-only"]);
        }
        (_, _) => {
            command.args(["--mode", "workspace-write", "--writable-root", &more]);
            if policy == "ww+net" {
                command.arg("--network");
            }
        }
    }
    let probe = match runner {
        Runner::OursAsUser => installed.dir.path().join("probe"),
        _ => sandbox_probe(),
    };
    command
        .arg("--")
        .arg(probe)
        .args(args)
        .current_dir(&work)
        .env("HOME", fixture.path("home"))
        .env("CODEX_HOME", &codex_home)
        .env("CODEX_SYSTEM_CONFIG", fixture.path("none.toml"))
        .env("CODEX_MANAGED_CONFIG", fixture.path("none-managed.toml"))
        .env_remove("TMPDIR");
    if runner == Runner::OursAsUser {
        let chown = Command::new("chown")
            .args(["-R", &format!("{TEST_USER}:{TEST_USER}")])
            .arg(&codex_home)
            .status()
            .unwrap();
        assert!(chown.success());
    }
    let mut output = command.output().unwrap();
    // Codex's bwrap shares its mount targets under /tmp between concurrent
    // sandboxes (other tests may run one at the same moment), and a setup
    // race fails before the probe runs; that is no verdict, so try again.
    for _ in 0..3 {
        if runner != Runner::Codex
            || !stdout(&output).is_empty()
            || !stderr(&output).starts_with("bwrap: ")
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        output = command.output().unwrap();
    }
    let said = stdout(&output);
    let last = said.lines().last().unwrap_or_default().to_string();
    assert!(
        last == "allowed" || last.starts_with("denied: "),
        "{policy} {args:?}: the probe said {said:?}; stderr: {}",
        stderr(&output)
    );
    last == "allowed"
}

fn run_matrix(runner: Runner) {
    if runner == Runner::OursAsUser {
        test_user();
    }
    let installed = Installed::new();
    let fixture = Fixture::new();
    let owner = (runner == Runner::OursAsUser).then_some(TEST_USER);
    let mut wrong = Vec::new();
    for (index, policy) in POLICIES.iter().enumerate() {
        for attempt in ATTEMPTS {
            if runner == Runner::Codex && !attempt.codex_same[index] {
                continue;
            }
            fixture.reset(owner);
            let _ = fs::remove_file(fixture.tmp_file());
            let args = (attempt.args)(&fixture);
            let allowed = verdict(runner, &installed, &fixture, policy, &args);
            if allowed != attempt.allowed[index] {
                wrong.push(format!(
                    "{policy}: {}: {} (expected {})",
                    attempt.name,
                    if allowed { "allowed" } else { "denied" },
                    if attempt.allowed[index] {
                        "allowed"
                    } else {
                        "denied"
                    }
                ));
            }
        }
    }
    let _ = fs::remove_file(fixture.tmp_file());
    assert!(wrong.is_empty(), "wrong verdicts:\n{}", wrong.join("\n"));
}

#[test]
fn the_escape_matrix_through_our_binary() {
    run_matrix(Runner::Ours);
}

#[test]
fn the_escape_matrix_as_an_ordinary_user() {
    run_matrix(Runner::OursAsUser);
}

#[test]
fn codex_gives_the_verdicts_we_share() {
    run_matrix(Runner::Codex);
}

#[test]
fn exit_status_and_signals_pass_through_and_bad_input_is_clear() {
    let home = Home::new();
    let run = |args: &[&str]| home.codex().arg("sandbox").args(args).output().unwrap();
    assert_eq!(run(&["--", "sh", "-c", "exit 7"]).status.code(), Some(7));
    assert_eq!(
        run(&["--", "sh", "-c", "kill -TERM $$"]).status.code(),
        Some(143)
    );
    let echoed = run(&["--", "echo", "hello"]);
    assert_eq!(stdout(&echoed), "hello\n");
    // The older names run the same.
    assert_eq!(
        home.codex()
            .args(["sandbox", "linux", "--", "sh", "-c", "exit 3"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(3)
    );
    assert_eq!(
        home.codex()
            .args(["debug", "landlock", "--", "sh", "-c", "exit 4"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(4)
    );

    let unknown = run(&["--mode", "wide-open", "--", "true"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("invalid value 'wide-open' for '--mode <MODE>'"),
        "{}",
        stderr(&unknown)
    );
    let missing_root = run(&[
        "--full-auto",
        "--writable-root",
        "/nonexistent/root",
        "--",
        "true",
    ]);
    assert_eq!(missing_root.status.code(), Some(1));
    assert!(
        stderr(&missing_root).contains("writable root /nonexistent/root does not exist"),
        "{}",
        stderr(&missing_root)
    );
    let no_command = run(&[]);
    assert_eq!(no_command.status.code(), Some(2));
    assert!(
        stderr(&no_command).contains("<COMMAND>"),
        "{}",
        stderr(&no_command)
    );
    let not_found = run(&["--", "no-such-program-anywhere"]);
    assert_eq!(not_found.status.code(), Some(127));
    assert!(
        stderr(&not_found).contains("no-such-program-anywhere"),
        "{}",
        stderr(&not_found)
    );
    let roots_without_write = run(&["--writable-root", "/var/tmp", "--", "true"]);
    assert_eq!(roots_without_write.status.code(), Some(1));
    assert!(stderr(&roots_without_write).contains("only used with --mode workspace-write"));

    // The config's mode and roots apply; a bad one is an error at its place.
    home.write_config("sandbox_mode = \"workspace-only\"\n");
    let bad = run(&["--", "true"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains(&format!(
            "{}:1:16: sandbox_mode: unknown sandbox mode `workspace-only`",
            home.config_path().display()
        )),
        "{}",
        stderr(&bad)
    );
    let work = tempfile::tempdir_in("/var/tmp").unwrap();
    home.write_config("sandbox_mode = \"workspace-write\"\n");
    let wrote = home
        .codex()
        .args(["sandbox", "--", "sh", "-c", "echo x > inside"])
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(wrote.status.success(), "{}", stderr(&wrote));
    assert!(work.path().join("inside").exists());
}

/// The filesystem MCP server from npm, allowed everywhere by its own
/// arguments, so that only the sandbox decides.
fn filesystem_server(home: &Home, name: &str, sandbox: &str, work: &Path) {
    let node = std::env::var("CODEX_TEST_NODE").unwrap_or_else(|_| "node".into());
    let script = codex_test_support::workspace_root()
        .join("tests/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js");
    assert!(
        script.exists(),
        "run tests/setup.sh: {} is missing",
        script.display()
    );
    home.write_config(&format!(
        "[mcp_servers.{name}]\ncommand = {node:?}\nargs = [{script:?}, \"/\"]\ncwd = {work:?}\n{sandbox}\n",
        script = script.display().to_string(),
        work = work.display().to_string(),
    ));
}

fn write_file(home: &Home, server: &str, path: &Path) -> std::process::Output {
    let args = serde_json::json!({"path": path, "content": "written"}).to_string();
    home.codex()
        .args([
            "mcp",
            "call",
            server,
            "write_file",
            // The server takes the client's roots as its allowed
            // directories: `/`, so that only the sandbox decides.
            "--root",
            "/",
            "--args",
            &args,
            "--json",
        ])
        .output()
        .unwrap()
}

#[test]
fn a_stdio_server_runs_in_its_sandbox() {
    let home = Home::new();
    let base = tempfile::tempdir_in("/var/tmp").unwrap();
    let work = base.path().join("work");
    let outside = base.path().join("outside");
    fs::create_dir_all(work.join(".git")).unwrap();
    fs::create_dir_all(&outside).unwrap();
    filesystem_server(&home, "fs", "sandbox = \"workspace-write\"", &work);

    let inside = write_file(&home, "fs", &work.join("inside.txt"));
    assert!(
        inside.status.success(),
        "{}{}",
        stdout(&inside),
        stderr(&inside)
    );
    assert_eq!(
        fs::read_to_string(work.join("inside.txt")).unwrap(),
        "written"
    );

    let out = write_file(&home, "fs", &outside.join("escape.txt"));
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["isError"], true, "{result}");
    assert!(
        result.to_string().contains("EACCES")
            || result
                .to_string()
                .to_lowercase()
                .contains("permission denied"),
        "{result}"
    );
    assert!(!outside.join("escape.txt").exists());
    let hook = write_file(&home, "fs", &work.join(".git/hooks-file"));
    assert_eq!(hook.status.code(), Some(1));
    assert!(!work.join(".git/hooks-file").exists());

    // `mcp get` and `mcp list` show the policy.
    let got: Value = serde_json::from_slice(
        &home
            .codex()
            .args(["mcp", "get", "fs", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        got["transport"]["sandbox"]["mode"], "workspace-write",
        "{got}"
    );
    let listed = stdout(&home.codex().args(["mcp", "list"]).output().unwrap());
    assert!(
        listed.contains("Sandbox") && listed.contains("workspace-write"),
        "{listed}"
    );

    // read-only, from the default for every stdio server.
    filesystem_server(&home, "fs", "", &work);
    let mut config = home.read_config();
    config.insert_str(0, "mcp_servers_sandbox = \"read-only\"\n");
    home.write_config(&config);
    let read_only = write_file(&home, "fs", &work.join("second.txt"));
    assert_eq!(read_only.status.code(), Some(1), "{}", stdout(&read_only));
    assert!(!work.join("second.txt").exists());
    let text = stdout(&home.codex().args(["mcp", "get", "fs"]).output().unwrap());
    assert!(
        text.contains("sandbox: read-only (network: off; from mcp_servers_sandbox)"),
        "{text}"
    );

    // A bad policy names its key.
    filesystem_server(&home, "fs", "sandbox = \"everything\"", &work);
    let bad = home.codex().args(["mcp", "list"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("mcp_servers.fs.sandbox: unknown sandbox mode `everything`"),
        "{}",
        stderr(&bad)
    );
}
