//! `codex completion SHELL` and the man pages the install writes, both
//! generated from the command-line definition, so they never drift from it.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// Prints the completion script for `shell` on standard output.
pub fn completion(shell: Shell) -> Result<ExitCode> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "codex", &mut script);
    crate::output::write_stdout(&String::from_utf8_lossy(&script))?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `codex.1` and one page per visible subcommand (`codex-mcp-add.1`,
/// ...) into `dir`, creating it.
pub fn man_pages(dir: &Path) -> Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    clap_mangen::generate_to(Cli::command(), dir)
        .with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
    Ok(ExitCode::SUCCESS)
}
