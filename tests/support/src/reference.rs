//! The pinned Codex CLI (`@openai/codex` in tests/package.json), the
//! reference that compatibility tests run beside ours on one CODEX_HOME.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use assert_cmd::Command;

use crate::{Home, workspace_root};

/// The native `codex` binary of the `@openai/codex` npm package, or
/// `$CODEX_TEST_CODEX_CLI`.
pub fn codex_cli() -> PathBuf {
    if let Some(path) = std::env::var_os("CODEX_TEST_CODEX_CLI") {
        return PathBuf::from(path);
    }
    let scope = workspace_root().join("tests/node_modules/@openai");
    let found = fs::read_dir(&scope).ok().and_then(|packages| {
        packages.flatten().find_map(|package| {
            let vendor = package.path().join("vendor");
            fs::read_dir(vendor).ok()?.flatten().find_map(|triple| {
                let binary = triple.path().join("bin").join("codex");
                binary.is_file().then_some(binary)
            })
        })
    });
    found.unwrap_or_else(|| {
        panic!(
            "the Codex CLI (@openai/codex) is not installed under {}: run tests/setup.sh (tests/run.sh does), or set CODEX_TEST_CODEX_CLI",
            scope.display()
        )
    })
}

impl Home {
    /// The pinned Codex CLI on this home, with no API key from the
    /// environment. It runs in the home, so no project layer of the
    /// working directory leaks in.
    pub fn real_codex(&self) -> Command {
        let mut command = Command::new(codex_cli());
        command
            .env("CODEX_HOME", self.path())
            .env_remove("OPENAI_API_KEY")
            .env_remove("CODEX_API_KEY")
            .current_dir(self.path())
            .timeout(Duration::from_secs(60));
        command
    }
}
