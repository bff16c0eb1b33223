//! `codex`: parse the command line, run one command, map the outcome to an exit code.

mod cli;
mod commands;
mod hardening;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // SAFETY: nothing has started a thread yet.
    if let Err(error) = unsafe { hardening::harden() } {
        eprintln!("error: {error}");
        return ExitCode::from(error.exit_code);
    }
    output::set_color(cli::ColorWhen::from_args(std::env::args_os()).choice());
    let cli = cli::Cli::parse();
    output::set_color(cli.global.color.choice());
    match commands::run(cli) {
        Ok(code) => code,
        Err(error) if error.is::<commands::Interrupted>() => {
            output::print_error(&error);
            ExitCode::from(130)
        }
        Err(error) => {
            output::print_error(&error);
            ExitCode::FAILURE
        }
    }
}
