//! `codex app-server`: Codex's app-server protocol (JSON-RPC 2.0 without
//! the `"jsonrpc"` field, one JSON object per line on stdio) for editors,
//! with the methods that need no model: account, config, experimental
//! features, MCP servers and sandboxed commands (`command/exec`). The
//! agent's methods answer -32601.
//!
//! One [`auth_manager::AuthManager`] per process owns the login state.

pub mod account;
pub mod account_login;
pub mod auth_manager;
pub mod command_exec;
pub mod config_rpc;
pub mod config_version;
pub mod features_rpc;
pub mod mcp_oauth_login;
pub mod mcp_rpc;
pub mod methods;
pub mod protocol;
pub mod schema;
pub mod server;
pub mod terminal;

use codex_host::RunOptions;

/// Serves the process's stdin/stdout until stdin closes. Logs go to stderr.
pub fn run_stdio(options: RunOptions) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    // Pipes (what an editor gives its app server) are polled by the
    // runtime; a terminal or a file goes through tokio's blocking stdio.
    let result = runtime.block_on(async {
        // Inside the runtime: a pipe registers with its reactor.
        let (input, output) = codex_host::stdio_pipe::stdio();
        server::serve(options, tokio::io::BufReader::new(input), output).await
    });
    // Threads still inside plugin code were given up at their deadlines.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}
