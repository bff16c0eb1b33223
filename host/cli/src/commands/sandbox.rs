//! `codex sandbox [--mode MODE | --full-auto] [-C DIR] ... -- CMD ARGS`
//! (also `codex sandbox linux ...` and `codex debug landlock ...`).

use std::process::ExitCode;

use anyhow::{Result, anyhow};
use codex_sandbox::{ApplyOptions, SandboxError, SandboxMode, SandboxPolicy};

use crate::cli::SandboxRunArgs;
use codex_host::App;

/// A shell's code for a command that could not be found.
const NOT_FOUND: u8 = 127;

/// Runs the command under the policy the flags and config make, stdio and
/// terminal inherited; its exit status (128 + signal) becomes ours.
pub fn run(app: &App, args: SandboxRunArgs) -> Result<ExitCode> {
    let policy = policy(app, &args)?;
    let cwd = match &args.cd {
        Some(dir) => dir.clone(),
        None => std::env::current_dir()
            .map_err(|error| anyhow!("cannot find the working directory: {error}"))?,
    };
    let options = ApplyOptions {
        allow_weaker: args.allow_weaker_sandbox,
    };
    match codex_sandbox::run(&policy, &cwd, &args.command, options) {
        Ok(status) => {
            let code = codex_sandbox::exit_code(status);
            Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
        }
        Err(error @ SandboxError::CommandNotFound { .. }) => {
            eprintln!("error: {error}");
            Ok(ExitCode::from(NOT_FOUND))
        }
        Err(error @ SandboxError::Unenforceable { .. }) => Err(anyhow!(
            "{error}\nhelp: --allow-weaker-sandbox runs the command with what this kernel can enforce"
        )),
        Err(error) => Err(anyhow!(error)),
    }
}

/// The mode (flag, `--full-auto`, `sandbox_mode`, else read-only) and the
/// `[sandbox_workspace_write]` settings, with the flags' roots and network.
fn policy(app: &App, args: &SandboxRunArgs) -> Result<SandboxPolicy> {
    let settings = codex_config::sandbox::sandbox_settings(&app.config)?;
    let mode = match (&args.mode, args.full_auto, &settings.mode) {
        (Some(mode), _, _) => mode.parse::<SandboxMode>()?,
        (None, true, _) => SandboxMode::WorkspaceWrite,
        (None, false, Some(mode)) => mode.parse::<SandboxMode>()?,
        (None, false, None) => SandboxMode::ReadOnly,
    };
    if !args.writable_roots.is_empty() && mode != SandboxMode::WorkspaceWrite {
        return Err(anyhow!(
            "--writable-root is only used with --mode workspace-write (or --full-auto), and the mode is {mode}"
        ));
    }
    let mut writable_roots = settings.writable_roots;
    writable_roots.extend(args.writable_roots.iter().cloned());
    Ok(SandboxPolicy {
        mode,
        writable_roots,
        network_access: settings.network_access || args.network,
        exclude_tmpdir_env_var: settings.exclude_tmpdir_env_var,
        exclude_slash_tmp: settings.exclude_slash_tmp,
    })
}
