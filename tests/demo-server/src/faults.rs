//! Start-up and shutdown misbehaviour selected by flags, to test how a host copes.

use std::{
    io::Write,
    process::{Child, Command, Stdio},
};

use tokio::{
    io::AsyncReadExt,
    signal::unix::{SignalKind, signal},
};

use crate::cli::Crash;

/// Lines printed by `--garbage-stdout`: plain text, broken JSON and markup,
/// the usual things a misconfigured server leaks onto stdout.
const GARBAGE_LINES: &[&str] = &[
    "this is not json",
    "{\"jsonrpc\": \"2.0\", broken",
    "<html>not json either</html>",
];

/// Keeps SIGTERM from ending the process.
///
/// A handler, not `SIG_IGN`, so that children started later get the default
/// disposition back on exec and still die from a group-wide SIGTERM.
pub fn ignore_sigterm() -> Result<(), String> {
    let mut terms = signal(SignalKind::terminate()).map_err(|error| {
        format!("error: could not install a SIGTERM handler for --ignore-sigterm: {error}")
    })?;
    tokio::spawn(async move {
        while terms.recv().await.is_some() {
            eprintln!("demo server ignoring SIGTERM as asked");
        }
    });
    Ok(())
}

/// Starts `sleep 300` in this process group and reports its pid on stderr.
///
/// The child's standard streams are closed so it cannot hold the host's
/// pipes open; the returned handle must be kept and is never waited for.
pub fn spawn_child() -> Result<Child, String> {
    let child = Command::new("sleep")
        .arg("300")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| {
            format!(
                "error: could not start `sleep 300` for --spawn-child: {error}\n\
                 help: make sure `sleep` is on PATH"
            )
        })?;
    eprintln!("child pid {}", child.id());
    Ok(child)
}

/// Writes [`GARBAGE_LINES`] to stdout and flushes them before any JSON-RPC.
pub fn print_garbage() -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    for line in GARBAGE_LINES {
        writeln!(stdout, "{line}")
            .map_err(|error| format!("error: could not write to stdout: {error}"))?;
    }
    stdout
        .flush()
        .map_err(|error| format!("error: could not write to stdout: {error}"))
}

/// Consumes stdin without ever answering, then stays alive after EOF.
///
/// Reads in fixed chunks rather than lines so that no amount of input makes
/// the process grow.
pub async fn swallow_stdin_forever() {
    let mut stdin = tokio::io::stdin();
    let mut buffer = vec![0_u8; 8192];
    loop {
        match stdin.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    std::future::pending::<()>().await;
}

/// Crashes as `--crash-on-shutdown` asks, saying so on stderr first.
pub fn crash(how: Crash) -> ! {
    match how {
        Crash::Abort => {
            eprintln!("demo server crashing on shutdown with SIGABRT as asked");
            std::process::abort();
        }
        Crash::Garbage => {
            eprintln!("demo server writing garbage and exiting with code 3 on shutdown as asked");
            // The client may have closed stdout already: the crash is the point.
            let _ = print_garbage();
            std::process::exit(3);
        }
    }
}

/// Crashes as `--crash-on-shutdown` asks when SIGTERM arrives.
pub fn crash_on_sigterm(how: Crash) -> Result<(), String> {
    let mut terms = signal(SignalKind::terminate()).map_err(|error| {
        format!("error: could not install a SIGTERM handler for --crash-on-shutdown: {error}")
    })?;
    tokio::spawn(async move {
        if terms.recv().await.is_some() {
            crash(how);
        }
    });
    Ok(())
}
