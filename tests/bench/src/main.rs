//! `codex-bench`: runs the benchmark rows and prints one table (driven by
//! `tests/bench/run.sh`, which finds the binaries and writes the report).
//!
//! ```text
//! codex-bench run --codex PATH --codex-cli PATH --demo-server PATH --python PATH
//!                 --echo-server PATH --work DIR [--rows 1,2,...] [--smoke]
//!                 [--markdown FILE --machine FILE --notes FILE] [--json FILE]
//! codex-bench pipe-echo      (the floor of row 5: answers each stdin line with $CODEX_BENCH_REPLY)
//! codex-bench launch OUT -- PROGRAM ARGS...  (runs one timed process: wall ns, peak RSS KiB)
//! codex-bench mcp-echo       (a minimal blocking MCP server: the fast server of rows 3 and 5)
//! codex-bench profile-stdio plugin|rmcp|pipe CALLS --plugin-dir DIR --demo-server PATH
//!                            [--current-thread] [--fast-server]
//!                            (one side of row 3/5 alone, for perf or callgrind)
//! ```

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use codex_bench::rows::{self, RowResult, RowsFailed, Setup};
use codex_bench::{calls, report};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("pipe-echo") => calls::pipe_echo(),
        Some("mcp-echo") => calls::mcp_echo(),
        Some("launch") => codex_bench::procs::launch(&args[1..]),
        Some("run") => run(&args[1..]),
        Some("profile-stdio") => profile(&args[1..]),
        _ => Err(anyhow!(
            "usage: codex-bench run --codex PATH --codex-cli PATH --demo-server PATH --python PATH \
             --echo-server PATH --work DIR [--rows 1,2,...] [--smoke] [--markdown FILE --machine FILE \
             --notes FILE] [--json FILE]\n       codex-bench pipe-echo\n       \
             codex-bench profile-stdio plugin|rmcp|pipe CALLS --plugin-dir DIR --demo-server PATH \
             [--current-thread] [--fast-server]"
        )),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("codex-bench: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Default)]
struct Options {
    codex: Option<PathBuf>,
    codex_cli: Option<PathBuf>,
    demo_server: Option<PathBuf>,
    python: Option<PathBuf>,
    echo_server: Option<PathBuf>,
    work: Option<PathBuf>,
    rows: Vec<String>,
    smoke: bool,
    markdown: Option<PathBuf>,
    machine: Option<PathBuf>,
    notes: Option<PathBuf>,
    json: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options::default();
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        if flag == "--smoke" {
            options.smoke = true;
            continue;
        }
        let value = args.next().ok_or_else(|| anyhow!("{flag} needs a value"))?;
        let path = || Some(PathBuf::from(value));
        match flag.as_str() {
            "--codex" => options.codex = path(),
            "--codex-cli" => options.codex_cli = path(),
            "--demo-server" => options.demo_server = path(),
            "--python" => options.python = path(),
            "--echo-server" => options.echo_server = path(),
            "--work" => options.work = path(),
            "--markdown" => options.markdown = path(),
            "--machine" => options.machine = path(),
            "--notes" => options.notes = path(),
            "--json" => options.json = path(),
            "--rows" => options.rows = value.split(',').map(|row| row.trim().to_string()).collect(),
            other => bail!("unknown option {other}"),
        }
    }
    Ok(options)
}

/// `profile-stdio SIDE CALLS --plugin-dir DIR --demo-server PATH
/// [--current-thread] [--fast-server]`.
fn profile(args: &[String]) -> Result<()> {
    let side = match args.first().map(String::as_str) {
        Some("plugin") => calls::ProfileSide::Plugin,
        Some("rmcp") => calls::ProfileSide::Rmcp,
        Some("pipe") => calls::ProfileSide::Pipe,
        _ => bail!("profile-stdio: the side is plugin, rmcp or pipe"),
    };
    let count: usize = args
        .get(1)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| anyhow!("profile-stdio: the second argument is the number of calls"))?;
    let mut plugin_dir = None;
    let mut demo_server = None;
    let mut current_thread = false;
    let mut fast_server = false;
    let mut rest = args[2..].iter();
    while let Some(flag) = rest.next() {
        match flag.as_str() {
            "--current-thread" => {
                current_thread = true;
                continue;
            }
            "--fast-server" => {
                fast_server = true;
                continue;
            }
            _ => {}
        }
        let value = rest.next().map(PathBuf::from);
        match flag.as_str() {
            "--plugin-dir" => plugin_dir = value,
            "--demo-server" => demo_server = value,
            other => bail!("profile-stdio: unknown option {other}"),
        }
    }
    let us = calls::profile(
        side,
        &required(plugin_dir, "--plugin-dir")?,
        &required(demo_server, "--demo-server")?,
        &std::env::current_exe()?,
        count,
        current_thread,
        fast_server,
    )?;
    println!("{us:.1} µs per call");
    Ok(())
}

fn required(value: Option<PathBuf>, flag: &str) -> Result<PathBuf> {
    let path = value.ok_or_else(|| anyhow!("{flag} is required"))?;
    if !path.exists() {
        bail!("{flag} {}: no such file", path.display());
    }
    Ok(path)
}

fn run(args: &[String]) -> Result<()> {
    let options = parse(args)?;
    let codex = required(options.codex, "--codex")?;
    let setup = Setup {
        plugin_dir: codex
            .parent()
            .context("--codex has no directory")?
            .to_path_buf(),
        codex,
        codex_cli: required(options.codex_cli, "--codex-cli")?,
        demo_server: required(options.demo_server, "--demo-server")?,
        python: required(options.python, "--python")?,
        echo_server: required(options.echo_server, "--echo-server")?,
        work: required(options.work, "--work")?,
        bench_exe: std::env::current_exe()?,
        smoke: options.smoke,
    };
    let wanted: Vec<String> = if options.rows.is_empty() {
        rows::ROWS.iter().map(|r| r.to_string()).collect()
    } else {
        options.rows
    };
    for row in &wanted {
        if !rows::ROWS.contains(&row.as_str()) {
            bail!(
                "--rows: there is no row {row} (rows are 1 to {})",
                rows::ROWS.len()
            );
        }
    }
    let (results, failures): (Vec<RowResult>, Vec<String>) = match rows::run(&setup, &wanted) {
        Ok(results) => (results, Vec::new()),
        Err(error) => match error.downcast::<RowsFailed>() {
            Ok(failed) => (failed.results, failed.failures),
            Err(error) => return Err(error),
        },
    };
    println!();
    print!("{}", report::text_table(&results, setup.smoke));
    if let Some(path) = &options.json {
        std::fs::write(path, serde_json::to_string_pretty(&results)?)?;
    }
    if let Some(path) = &options.markdown {
        // Paths read better as $WORK (the fresh directory) and $CARGO_TARGET_DIR.
        let mut results = results.clone();
        let mut places = vec![(setup.work.display().to_string(), "$WORK".to_string())];
        if let Ok(target) = std::env::var("CARGO_TARGET_DIR") {
            places.push((target, "$CARGO_TARGET_DIR".to_string()));
        }
        if let Ok(repo) = std::env::current_dir() {
            places.push((format!("{}/", repo.display()), String::new()));
        }
        let shorten = |text: &str| {
            places
                .iter()
                .fold(text.to_string(), |text, (from, to)| text.replace(from, to))
        };
        for row in &mut results {
            row.detail = shorten(&row.detail);
            row.commands = row.commands.iter().map(|c| shorten(c)).collect();
        }
        let machine = match &options.machine {
            Some(file) => std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?,
            None => String::new(),
        };
        let notes = match &options.notes {
            Some(file) => std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?,
            None => String::new(),
        };
        std::fs::write(
            path,
            report::markdown(&results, &machine, &notes, &failures),
        )
        .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("bench: wrote {}", path.display());
    }
    if !failures.is_empty() {
        bail!(
            "{} row(s) could not run:\n  {}",
            failures.len(),
            failures.join("\n  ")
        );
    }
    if !setup.smoke {
        let missed: Vec<&str> = results
            .iter()
            .filter(|row| !row.met)
            .map(|row| row.id.as_str())
            .collect();
        if missed.is_empty() {
            eprintln!("bench: every target met");
        } else {
            eprintln!(
                "bench: missed: {} (causes in BENCHMARKS.md)",
                missed.join(", ")
            );
        }
    }
    Ok(())
}
