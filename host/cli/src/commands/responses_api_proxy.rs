//! `codex responses-api-proxy ARGS...`: Codex's internal command, as the
//! proxy binary installed beside this one. It is executed in place of this
//! process rather than linked in, so the key only ever lives in the small
//! binary hardened before its `main` (not dumpable, no core files, `LD_*`
//! removed), and stdin (the key) passes to it untouched.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

/// The proxy's file name, beside `codex` in a build or an install.
const PROXY: &str = "codex-responses-api-proxy";

pub fn run(args: &[OsString]) -> Result<ExitCode> {
    let proxy = proxy_path()?;
    // `exec` returns only when it failed.
    let error = std::process::Command::new(&proxy).args(args).exec();
    Err(error).with_context(|| format!("cannot run {}", proxy.display()))
}

fn proxy_path() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the codex executable")?;
    let dir = exe
        .parent()
        .context("the codex executable has no directory")?;
    let proxy = dir.join(PROXY);
    if !proxy.is_file() {
        bail!(
            "{PROXY} is not installed beside {} (looked for {}); install both with ./install.sh, \
             or run {PROXY} directly",
            exe.display(),
            proxy.display()
        );
    }
    Ok(proxy)
}
