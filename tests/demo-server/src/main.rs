//! `codex-demo-server`: a small MCP server over stdio for the quick start
//! and for testing how a host copes with servers that misbehave.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod faults;
mod tools;

use std::{process::ExitCode, time::Duration};

use clap::Parser;
use rmcp::ServiceExt;

use crate::{cli::Cli, tools::DemoServer};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// Applies the start-up flags in the order `--help` documents, then serves.
async fn run(cli: Cli) -> Result<(), String> {
    if cli.ignore_sigterm {
        faults::ignore_sigterm()?;
    }
    // Kept alive for the whole run; dropping a `Child` neither kills nor reaps it.
    let _child = if cli.spawn_child {
        Some(faults::spawn_child()?)
    } else {
        None
    };
    if cli.startup_delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(cli.startup_delay_ms)).await;
    }
    if let Some(code) = cli.exit_at_start {
        eprintln!("demo server exiting at start with code {code} as asked");
        std::process::exit(code);
    }
    if cli.garbage_stdout {
        faults::print_garbage()?;
    }
    if cli.never_initialize {
        faults::swallow_stdin_forever().await;
        return Ok(());
    }
    if let Some(how) = cli.crash_on_shutdown {
        faults::crash_on_sigterm(how)?;
        // Crash whether the session ended well or not: stdin has closed.
        let _ = serve(cli.name).await;
        faults::crash(how);
    }
    serve(cli.name).await
}

/// Serves MCP on stdin/stdout until the client closes stdin.
async fn serve(name: String) -> Result<(), String> {
    let running = DemoServer::new(name)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|error| {
            format!(
                "error: MCP start-up on stdin/stdout failed: {error}\n\
                 help: the client must send `initialize` first, one JSON-RPC message a line"
            )
        })?;
    running
        .waiting()
        .await
        .map_err(|error| format!("error: the MCP session on stdin/stdout failed: {error}"))?;
    Ok(())
}
