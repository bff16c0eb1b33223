//! Shared set-up for tests that drive the built `codex` binary.
//!
//! Every test gets its own CODEX_HOME and points the system and managed
//! config layers at files that do not exist, so nothing on the machine leaks in.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A temporary CODEX_HOME and the commands that run against it.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    #[allow(clippy::new_without_default)] // a new directory each time: not a default
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
        self.codex_at(&codex_bin())
    }

    /// The `codex` binary at `binary` (an installed copy, say) with this
    /// home and no system or managed layer.
    pub fn codex_at(&self, binary: &Path) -> Command {
        let mut command = Command::new(binary);
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
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CLICOLOR")
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

/// The root of the workspace (where `tests/` and `examples/` are).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The directory holding `codex`, its bundled plugins and the test binaries:
/// the parent of the `deps/` directory this test binary runs from.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("test binary dir");
    deps.parent().expect("target dir").to_path_buf()
}

/// The built `codex` binary. (Cargo rebuilds it before the tests of its
/// own package run; a plugin library gets no such care, hence the check in
/// [`built_library`].)
pub fn codex_bin() -> PathBuf {
    built(&target_dir().join("codex"), &[])
}

/// A library built in the workspace (`lib<name>.so`), which must exist and
/// be newer than the sources of the crate it is built from.
pub fn built_library(name: &str) -> PathBuf {
    let path = target_dir().join(format!("lib{name}.so"));
    let crate_dir = crate_of_library(name);
    let sources: Vec<&str> = crate_dir.iter().map(String::as_str).collect();
    built(&path, &sources)
}

/// The demo server binary, which must have been built from its sources.
pub fn demo_server() -> PathBuf {
    built(
        &target_dir().join("codex-demo-server"),
        &["tests/demo-server"],
    )
}

/// The escape-matrix probe of the sandbox crate, built from its sources.
pub fn sandbox_probe() -> PathBuf {
    built(&target_dir().join("codex-sandbox-probe"), &["host/sandbox"])
}

/// `path`, after checking that it exists and is newer than every file under
/// the workspace directories `sources`: a test must never pass on a stale
/// build of what it tests.
fn built(path: &Path, sources: &[&str]) -> PathBuf {
    const BUILD: &str =
        "build the whole workspace first (`cargo build --workspace`, as tests/run.sh does)";
    let built = fs::metadata(path)
        .and_then(|meta| meta.modified())
        .unwrap_or_else(|_| panic!("{} is missing: {BUILD}", path.display()));
    let root = workspace_root();
    for source in sources {
        if let Some((newest, changed)) = newest_file(&root.join(source))
            && newest > built
        {
            panic!(
                "{} is older than {}: {BUILD}",
                path.display(),
                changed.display()
            );
        }
    }
    path.to_path_buf()
}

/// The newest `.rs` file under `dir` (not under `tests/` or `target/`),
/// with its time. (Only sources: cargo rebuilds when one of them changes,
/// not for every edit of a manifest.)
fn newest_file(dir: &Path) -> Option<(std::time::SystemTime, PathBuf)> {
    let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let name = entry.file_name();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                if name != "tests" && name != "target" && name != "node_modules" {
                    pending.push(path);
                }
                continue;
            }
            let source = path.extension().is_some_and(|ext| ext == "rs");
            if let (true, Ok(modified)) = (source, meta.modified())
                && newest.as_ref().is_none_or(|(time, _)| modified > *time)
            {
                newest = Some((modified, path));
            }
        }
    }
    newest
}

/// The workspace directory of the crate whose library is `name`
/// (`codex_stdio` is `plugins/stdio`), from the root `Cargo.toml`'s members.
fn crate_of_library(name: &str) -> Option<String> {
    let root = workspace_root();
    let manifest = fs::read_to_string(root.join("Cargo.toml")).ok()?;
    let manifest: toml::Table = manifest.parse().ok()?;
    let members = manifest.get("workspace")?.get("members")?.as_array()?;
    members
        .iter()
        .filter_map(|member| member.as_str())
        .find_map(|member| {
            let text = fs::read_to_string(root.join(member).join("Cargo.toml")).ok()?;
            let table: toml::Table = text.parse().ok()?;
            let package = table
                .get("package")?
                .get("name")?
                .as_str()?
                .replace('-', "_");
            let lib = table
                .get("lib")
                .and_then(|lib| lib.get("name"))
                .and_then(|name| name.as_str())
                .map(str::to_owned)
                .unwrap_or(package);
            (lib == name).then(|| member.to_string())
        })
}

/// `node` and the server-everything entry point, from tests/setup.sh.
pub fn server_everything() -> (String, String) {
    let script = std::env::var("CODEX_TEST_SERVER_EVERYTHING").unwrap_or_else(|_| {
        let default = workspace_root()
            .join("tests/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
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
