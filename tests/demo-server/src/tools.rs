//! The MCP server and its seven tools.

use std::time::Duration;

use rmcp::{
    ServerHandler,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig},
    tool, tool_handler, tool_router,
};
use schemars::JsonSchema;
use serde::Deserialize;

/// Largest text `large` produces: big enough to stress a host's framing,
/// small enough not to exhaust the memory of a test machine.
pub const LARGE_MAX_BYTES: u64 = 256 * 1024 * 1024;

/// Arguments of `echo`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct EchoArgs {
    /// The text to send back.
    pub message: String,
}

/// Arguments of `add`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AddArgs {
    /// The first number.
    pub a: f64,
    /// The second number.
    pub b: f64,
}

/// Arguments of `slow`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SlowArgs {
    /// How many milliseconds to sleep before answering.
    pub ms: u64,
}

/// Arguments of `exit`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ExitArgs {
    /// The exit status of the process, 0 to 255.
    pub code: i32,
}

/// Arguments of `large`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct LargeArgs {
    /// How many 'x' characters to return, at most 268435456 (256 MiB).
    pub bytes: u64,
}

/// Arguments of `stderr`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct StderrArgs {
    /// The text to write to the server's stderr.
    pub message: String,
}

/// The demo server: tools for the quick start and for fault tests.
#[derive(Debug, Clone)]
pub struct DemoServer {
    name: String,
    tool_router: ToolRouter<Self>,
}

impl DemoServer {
    /// A server that reports `name` as `serverInfo.name`.
    pub fn new(name: String) -> Self {
        Self {
            name,
            tool_router: Self::tool_router(),
        }
    }
}

fn tool_error(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// Prints a sum the way a person writes it: `5`, not `5.0`.
///
/// Rust's `Display` for `f64` already drops a zero fraction; only negative
/// zero needs care so that `-1 + 1` reads `0`.
fn format_sum(sum: f64) -> String {
    if sum == 0.0 {
        "0".to_owned()
    } else {
        sum.to_string()
    }
}

#[tool_router]
impl DemoServer {
    #[tool(description = "Return the message, prefixed with \"echo: \".")]
    async fn echo(&self, Parameters(EchoArgs { message }): Parameters<EchoArgs>) -> String {
        format!("echo: {message}")
    }

    #[tool(description = "Add two numbers and return the sum as text, e.g. \"5\" for 2 and 3.")]
    async fn add(&self, Parameters(AddArgs { a, b }): Parameters<AddArgs>) -> CallToolResult {
        let sum = a + b;
        if sum.is_finite() {
            CallToolResult::success(vec![ContentBlock::text(format_sum(sum))])
        } else {
            tool_error(format!(
                "the sum of a = {a} and b = {b} is too large to represent; use smaller numbers"
            ))
        }
    }

    #[tool(description = "Sleep for `ms` milliseconds, then return \"slept <ms> ms\".")]
    async fn slow(&self, Parameters(SlowArgs { ms }): Parameters<SlowArgs>) -> String {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        format!("slept {ms} ms")
    }

    #[tool(
        description = "Exit the server process at once with status `code` (0-255), without replying."
    )]
    async fn exit(&self, Parameters(ExitArgs { code }): Parameters<ExitArgs>) -> CallToolResult {
        if !(0..=255).contains(&code) {
            return tool_error(format!(
                "code is {code}, but an exit status must be between 0 and 255"
            ));
        }
        eprintln!("demo server exiting with code {code} as asked");
        std::process::exit(code)
    }

    #[tool(
        description = "Return a text of exactly `bytes` 'x' characters (at most 268435456, 256 MiB)."
    )]
    async fn large(
        &self,
        Parameters(LargeArgs { bytes }): Parameters<LargeArgs>,
    ) -> CallToolResult {
        let size = match usize::try_from(bytes) {
            Ok(size) if bytes <= LARGE_MAX_BYTES => size,
            _ => {
                return tool_error(format!(
                    "bytes is {bytes}, above the limit of {LARGE_MAX_BYTES} (256 MiB); ask for less"
                ));
            }
        };
        CallToolResult::success(vec![ContentBlock::text("x".repeat(size))])
    }

    #[tool(description = "Never return; the call stays pending until it is cancelled.")]
    async fn hang(&self) -> String {
        std::future::pending::<String>().await
    }

    #[tool(description = "Write the message to the server's stderr and return \"ok\".")]
    async fn stderr(&self, Parameters(StderrArgs { message }): Parameters<StderrArgs>) -> String {
        eprintln!("{message}");
        "ok".to_owned()
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for DemoServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                self.name.clone(),
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "Demo tools: echo, add, slow, exit, large, hang, stderr. \
                 Some of them misbehave on purpose, to test MCP hosts.",
            )
    }
}

#[cfg(test)]
mod tests {
    use super::format_sum;

    #[test]
    fn sums_print_like_numbers_people_write() {
        assert_eq!(format_sum(5.0), "5");
        assert_eq!(format_sum(-0.0), "0");
        assert_eq!(format_sum(2.5), "2.5");
        assert_eq!(format_sum(-7.0), "-7");
        assert_eq!(format_sum(1e21), "1000000000000000000000");
    }
}
