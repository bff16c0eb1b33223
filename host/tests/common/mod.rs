//! Shared set-up for tests that drive the built `codex` binary.
//!
//! Every test gets its own CODEX_HOME and points the system and managed
//! config layers at files that do not exist, so nothing on the machine leaks in.

#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A temporary CODEX_HOME and the commands that run against it.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).expect("chmod");
        Home { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.path().join("config.toml")
    }

    pub fn write_config(&self, text: &str) {
        fs::write(self.config_path(), text).expect("write config");
    }

    pub fn read_config(&self) -> String {
        fs::read_to_string(self.config_path()).unwrap_or_default()
    }

    /// `codex` with this home and no system or managed layer.
    pub fn codex(&self) -> Command {
        let mut command = Command::new(codex_bin());
        command
            .env("CODEX_HOME", self.path())
            .env(
                "CODEX_SYSTEM_CONFIG",
                self.path().join("no-system-config.toml"),
            )
            .env(
                "CODEX_MANAGED_CONFIG",
                self.path().join("no-managed-config.toml"),
            )
            .env_remove("NO_COLOR")
            .timeout(std::time::Duration::from_secs(120));
        command
    }

    /// `$CODEX_HOME/plugins`, created 0755.
    pub fn plugin_dir(&self) -> PathBuf {
        let dir = self.path().join("plugins");
        fs::create_dir_all(&dir).expect("plugins dir");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod");
        dir
    }
}

/// The built `codex` binary.
pub fn codex_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_codex"))
}

/// The directory holding `codex`, its bundled plugins and the test binaries.
pub fn target_dir() -> PathBuf {
    codex_bin().parent().expect("binary dir").to_path_buf()
}

/// A library built in the workspace (`lib<name>.so`), which must exist.
pub fn built_library(name: &str) -> PathBuf {
    let path = target_dir().join(format!("lib{name}.so"));
    assert!(
        path.exists(),
        "{} is missing: build the whole workspace first (`cargo build --workspace`, as tests/run.sh does)",
        path.display()
    );
    path
}

/// The demo server binary, which must have been built.
pub fn demo_server() -> PathBuf {
    let path = target_dir().join("codex-demo-server");
    assert!(
        path.exists(),
        "{} is missing: build the whole workspace first (`cargo build --workspace`, as tests/run.sh does)",
        path.display()
    );
    path
}

/// `node` and the server-everything entry point, from tests/setup.sh.
pub fn server_everything() -> (String, String) {
    let script = std::env::var("CODEX_TEST_SERVER_EVERYTHING").unwrap_or_else(|_| {
        let default = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
        default.to_string_lossy().into_owned()
    });
    assert!(
        Path::new(&script).exists(),
        "server-everything is not installed at {script}: run tests/setup.sh (tests/run.sh does)"
    );
    let node = std::env::var("CODEX_TEST_NODE").unwrap_or_else(|_| "node".to_string());
    (node, script)
}

/// Copies a built library into `dir` as `libcodex_<plugin_name>.so`, mode 0644.
pub fn install_plugin(library: &Path, dir: &Path, plugin_name: &str) -> PathBuf {
    let target = dir.join(format!("libcodex_{plugin_name}.so"));
    fs::copy(library, &target).expect("copy plugin");
    fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).expect("chmod");
    target
}

/// Whether the process `pid` still runs. A zombie counts as gone: it has
/// exited, and on machines whose init does not reap orphans it stays a zombie.
pub fn process_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// stdout of an assert_cmd output as text.
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr of an assert_cmd output as text.
pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
