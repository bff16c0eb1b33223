//! `codex-responses-api-proxy`: parse, run, print the one error.

use std::process::ExitCode;

use clap::Parser;

// Before main, so that nothing (not even argument parsing) runs while the
// process is still dumpable, can write a core file or holds loader variables.
// SAFETY: life before main: the function calls only prctl, setrlimit, write
// and std's environment wrappers over libc, none of which needs what std sets
// up for main, and no other thread exists yet to race the environment edit.
#[ctor::ctor(unsafe)]
fn harden() {
    codex_responses_api_proxy::pre_main_hardening();
}

fn main() -> ExitCode {
    let args = codex_responses_api_proxy::Args::parse();
    match codex_responses_api_proxy::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("Error: {error}");
            ExitCode::FAILURE
        }
    }
}
