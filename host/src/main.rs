//! `codex`: parse the command line, run one command, map the outcome to an exit code.

mod app;
mod cli;
mod commands;
mod credentials;
mod features;
mod hardening;
mod host_services;
mod mcp;
mod output;
mod plugins;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;

static VERBOSE: AtomicBool = AtomicBool::new(false);

/// Whether `--verbose` was given.
pub fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

fn main() -> ExitCode {
    // SAFETY: nothing has started a thread yet.
    if let Err(error) = unsafe { hardening::harden() } {
        eprintln!("error: {error}");
        return ExitCode::from(error.exit_code);
    }
    let cli = cli::Cli::parse();
    VERBOSE.store(cli.global.verbose, Ordering::Relaxed);
    match commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            output::print_error(&error);
            ExitCode::FAILURE
        }
    }
}
