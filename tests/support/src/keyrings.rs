//! Real keyrings for tests, shared by the keyring backend's tests and the
//! host's:
//! - [`SecretService`]: a private D-Bus session bus (no service activation)
//!   with an unlocked gnome-keyring in a temporary home; `secret-tool` runs
//!   against it. Nothing of the user's own keyring is touched.
//! - [`join_new_session_keyring`]: a kernel session keyring of the test's own,
//!   shared with the processes it starts; `keyctl` reads and writes it.
//!
//! The tools come from Debian's gnome-keyring, dbus, libsecret-tools and
//! keyutils packages: `tests/keyring/setup.sh` installs them.

use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use std::{env, thread};

/// Fails with the fix when a tool the tests need is missing.
pub fn require(tools: &[&str]) {
    for tool in tools {
        let found = env::var_os("PATH")
            .is_some_and(|path| env::split_paths(&path).any(|dir| dir.join(tool).is_file()));
        assert!(
            found,
            "`{tool}` is not installed; run tests/keyring/setup.sh (it installs gnome-keyring, \
             dbus, libsecret-tools and keyutils), as tests/run.sh does"
        );
    }
}

/// A private Secret Service: `dbus-daemon` on a socket in a temporary
/// directory and `gnome-keyring-daemon --unlock` in a temporary home, both
/// stopped on drop. Nothing of the user's own keyring is touched.
pub struct SecretService {
    dir: tempfile::TempDir,
    bus: Child,
    keyring: Child,
    address: String,
}

impl SecretService {
    pub fn start() -> SecretService {
        require(&[
            "dbus-daemon",
            "gnome-keyring-daemon",
            "secret-tool",
            "dbus-send",
        ]);
        let dir = tempfile::tempdir().unwrap();
        for sub in ["home", "data", "config", "runtime"] {
            fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(
            dir.path().join("runtime"),
            fs::Permissions::from_mode(0o700),
        )
        .unwrap();
        // A bus without service activation: a call to the Secret Service
        // before our daemon owns the name must not start another daemon.
        let config = dir.path().join("bus.conf");
        fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n                  \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
                 <busconfig><type>session</type><listen>unix:path={}</listen>\
                 <policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>\
                 <allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n",
                dir.path().join("bus").display()
            ),
        )
        .unwrap();
        let mut bus = Command::new("dbus-daemon")
            .args(["--nofork", "--nopidfile", "--print-address=1"])
            .arg(format!("--config-file={}", config.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_owned();
        assert!(address.starts_with("unix:"), "dbus-daemon printed {line:?}");
        let mut service = SecretService {
            dir,
            bus,
            keyring: Command::new("true").spawn().unwrap(),
            address,
        };
        let mut keyring = service
            .command("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets", "--foreground"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(fs::File::create(service.dir.path().join("gnome-keyring.log")).unwrap())
            .spawn()
            .unwrap();
        // The login keyring's password; with none the daemon would prompt.
        keyring
            .stdin
            .take()
            .unwrap()
            .write_all(b"test-password")
            .unwrap();
        service.keyring = keyring;
        service.wait_until_ready();
        service
    }

    /// The environment a process needs to use this Secret Service.
    pub fn env(&self) -> Vec<(OsString, OsString)> {
        let path = |sub: &str| self.dir.path().join(sub).into_os_string();
        vec![
            (
                "DBUS_SESSION_BUS_ADDRESS".into(),
                self.address.clone().into(),
            ),
            ("HOME".into(), path("home")),
            ("XDG_DATA_HOME".into(), path("data")),
            ("XDG_CONFIG_HOME".into(), path("config")),
            ("XDG_RUNTIME_DIR".into(), path("runtime")),
        ]
    }

    /// `program` with this Secret Service's environment.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.envs(self.env()).env_remove("DISPLAY");
        command
    }

    fn wait_until_ready(&self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            // The login collection exists once the daemon has unlocked it.
            let output = self
                .command("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.secrets",
                    "/org/freedesktop/secrets",
                    "org.freedesktop.Secret.Service.ReadAlias",
                    "string:default",
                ])
                .output()
                .unwrap();
            if output.status.success()
                && String::from_utf8_lossy(&output.stdout).contains("/collection/login")
            {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "gnome-keyring-daemon did not come up on the private bus within 20 s; its log:\n{}",
            fs::read_to_string(self.dir.path().join("gnome-keyring.log")).unwrap_or_default()
        );
    }

    /// A closure that makes this Secret Service disappear the way a crashed
    /// desktop session does: `what` is killed with SIGKILL, and the closure
    /// returns once the bus no longer has an owner of the Secret Service's
    /// name (or, for the bus itself, once it is gone). It can run on any
    /// thread, while `codex` is in the middle of a command; the processes
    /// are still reaped on drop.
    pub fn vanisher(&self, what: Vanish) -> impl Fn() + Send + Sync + 'static {
        let pid = match what {
            Vanish::Keyring => self.keyring.id(),
            Vanish::Bus => self.bus.id(),
        };
        let env = self.env();
        move || {
            let pid = libc::pid_t::try_from(pid).unwrap();
            // SAFETY: kill(2) with a pid of our own child and a signal number.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(10) {
                if !running(pid) && (what == Vanish::Bus || !secret_service_owned(&env)) {
                    return;
                }
                thread::sleep(Duration::from_millis(20));
            }
            panic!("{what:?} (pid {pid}) was still there 10 s after SIGKILL");
        }
    }

    /// A closure that stops gnome-keyring-daemon with SIGSTOP, as a hung
    /// daemon: it keeps its name on the bus and never answers. Returns once
    /// the process is stopped; drop still kills it.
    pub fn freezer(&self) -> impl Fn() + Send + Sync + 'static {
        let pid = libc::pid_t::try_from(self.keyring.id()).unwrap();
        move || {
            // SAFETY: kill(2) with a pid of our own child and a signal number.
            unsafe { libc::kill(pid, libc::SIGSTOP) };
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(10) {
                if state(pid).as_deref() == Some("T") {
                    return;
                }
                thread::sleep(Duration::from_millis(20));
            }
            panic!("gnome-keyring-daemon (pid {pid}) did not stop within 10 s of SIGSTOP");
        }
    }

    /// [`Self::vanisher`] run now.
    pub fn vanish(&self, what: Vanish) {
        self.vanisher(what)();
    }

    /// `secret-tool ARGS` with `input` on stdin.
    pub fn secret_tool(&self, args: &[&str], input: Option<&str>) -> Output {
        let mut child = self
            .command("secret-tool")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        if let Some(input) = input {
            stdin.write_all(input.as_bytes()).unwrap();
        }
        drop(stdin);
        child.wait_with_output().unwrap()
    }

    /// The value `secret-tool lookup` finds for Codex's attributes.
    pub fn lookup(&self, service: &str, account: &str) -> Option<String> {
        let output = self.secret_tool(&["lookup", "service", service, "username", account], None);
        output
            .status
            .success()
            .then(|| String::from_utf8(output.stdout).unwrap())
    }

    /// Every item `secret-tool search --all` finds for the attributes, as
    /// its printed attribute lines.
    pub fn search(&self, service: &str, account: &str) -> Vec<String> {
        let output = self.secret_tool(
            &[
                "search", "--all", "--unlock", "service", service, "username", account,
            ],
            None,
        );
        // Items are printed on stdout, a header line `[/path]` each, and
        // their attributes on stderr in some versions: read both.
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        text.split("\n[")
            .filter(|item| item.contains("attribute.service"))
            .map(str::to_owned)
            .collect()
    }
}

/// What of a [`SecretService`] to take away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vanish {
    /// gnome-keyring-daemon: the bus stays, the name has no owner.
    Keyring,
    /// dbus-daemon: the bus's socket is closed.
    Bus,
}

/// The state letter of process `pid` in /proc (`R`, `S`, `T`, `Z`, ...).
fn state(pid: libc::pid_t) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The state follows the parenthesised command name.
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().next().map(str::to_owned)
}

/// Whether process `pid` still runs (a zombie has exited).
fn running(pid: libc::pid_t) -> bool {
    state(pid).is_some_and(|state| state != "Z" && state != "X")
}

/// Whether the bus in `env` has an owner of `org.freedesktop.secrets`.
fn secret_service_owned(env: &[(OsString, OsString)]) -> bool {
    let output = Command::new("dbus-send")
        .envs(env.iter().cloned())
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.secrets",
        ])
        .output()
        .unwrap();
    output.status.success() && String::from_utf8_lossy(&output.stdout).contains("boolean true")
}

impl Drop for SecretService {
    fn drop(&mut self) {
        for child in [&mut self.keyring, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Gives the calling thread a new, empty session keyring. Children spawned
/// from this thread, and threads it starts, share it; other tests do not.
pub fn join_new_session_keyring() {
    require(&["keyctl"]);
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: keyctl(JOIN_SESSION_KEYRING, NULL) takes no pointer to read.
    let id = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        )
    };
    assert!(
        id > 0,
        "keyctl(JOIN_SESSION_KEYRING) failed: {}",
        std::io::Error::last_os_error()
    );
}

/// `keyctl ARGS` with `input` on stdin.
pub fn keyctl(args: &[&str], input: Option<&[u8]>) -> Output {
    let mut child = Command::new("keyctl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    if let Some(input) = input {
        stdin.write_all(input).unwrap();
    }
    drop(stdin);
    child.wait_with_output().unwrap()
}

/// The kernel key Codex's `keyring` 3 and this backend use for the pair.
pub fn keyutils_description(service: &str, account: &str) -> String {
    format!("keyring-rs:{account}@{service}")
}

/// The value of the kernel key described `description`, if any.
pub fn keyctl_read(description: &str) -> Option<Vec<u8>> {
    let found = keyctl(&["search", "@s", "user", description], None);
    if !found.status.success() {
        return None;
    }
    let id = String::from_utf8(found.stdout).unwrap().trim().to_owned();
    let value = keyctl(&["pipe", &id], None);
    assert!(
        value.status.success(),
        "keyctl pipe {id}: {}",
        String::from_utf8_lossy(&value.stderr)
    );
    Some(value.stdout)
}
