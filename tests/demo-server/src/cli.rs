//! Command-line flags of the demo server.

use clap::{Parser, ValueEnum};

/// Name reported in `serverInfo.name` unless `--name` says otherwise.
pub const DEFAULT_NAME: &str = "codex-demo-server";

const EXAMPLES: &str = "\
Start-up order: --ignore-sigterm, --spawn-child, --startup-delay-ms, --exit-at-start,
--garbage-stdout, then --never-initialize or normal serving (ended by
--crash-on-shutdown if given).

Examples:
  Serve the demo tools over stdin/stdout:
    codex-demo-server

  Talk to it by hand: start it, then type one JSON-RPC message a line, e.g.
    {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"me\",\"version\":\"1\"}}}
    {\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}
    {\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"add\",\"arguments\":{\"a\":2,\"b\":3}}}

  A slow server that answers nothing for two seconds:
    codex-demo-server --startup-delay-ms 2000

  A server that must be killed with SIGKILL and leaves a child behind:
    codex-demo-server --ignore-sigterm --spawn-child

  A server that dies at once with exit status 4:
    codex-demo-server --exit-at-start 4

  A server that serves normally, then dies of SIGABRT when its client
  closes stdin or sends SIGTERM:
    codex-demo-server --crash-on-shutdown abort";

/// A small MCP server speaking newline-delimited JSON-RPC on stdin/stdout.
///
/// Tools: echo, add, slow, exit, large, hang, stderr. The flags below turn it
/// into a misbehaving server for testing how a host copes.
#[derive(Debug, Parser)]
#[command(name = "codex-demo-server", version, after_help = EXAMPLES)]
pub struct Cli {
    /// Server name reported in serverInfo.name of the initialize reply.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_NAME)]
    pub name: String,

    /// Sleep this many milliseconds before reading stdin at all.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub startup_delay_ms: u64,

    /// Read stdin forever but never answer anything (a server stuck in start-up).
    /// The process stays alive after stdin closes, until it is killed.
    #[arg(long)]
    pub never_initialize: bool,

    /// Print a few lines that are not JSON to stdout before serving.
    #[arg(long)]
    pub garbage_stdout: bool,

    /// Write a line to stderr and exit with CODE (0-255) before reading anything.
    #[arg(long, value_name = "CODE", value_parser = clap::value_parser!(i32).range(0..=255))]
    pub exit_at_start: Option<i32>,

    /// Ignore SIGTERM, so the host has to use SIGKILL.
    #[arg(long)]
    pub ignore_sigterm: bool,

    /// Start `sleep 300` in this process group before serving and report
    /// "child pid <PID>" on stderr. The child is left running on exit, so a
    /// host can be checked for killing the whole group.
    #[arg(long)]
    pub spawn_child: bool,

    /// Serve normally, then crash when the client shuts the server down
    /// (stdin closed or SIGTERM, whichever comes first), after a line on
    /// stderr saying so.
    #[arg(long, value_name = "HOW")]
    pub crash_on_shutdown: Option<Crash>,
}

/// How `--crash-on-shutdown` crashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Crash {
    /// Die of SIGABRT (no core file is written when the core limit is 0).
    Abort,
    /// Write lines that are not JSON to stdout, then exit with status 3.
    Garbage,
}
