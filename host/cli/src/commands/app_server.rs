//! `codex app-server`: hands the process's stdio to codex-app-server.

use std::process::ExitCode;

use anyhow::Result;
use codex_host::App;

/// The config was loaded (and checked) by the dispatcher; the server loads
/// its own, and again after every write.
pub fn run(app: App) -> Result<ExitCode> {
    let options = app.options.clone();
    drop(app);
    codex_app_server::run_stdio(options)?;
    Ok(ExitCode::SUCCESS)
}
