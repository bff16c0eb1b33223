//! The command line, with Codex's flag names.

use std::path::PathBuf;

use clap::Parser;

/// The default upstream: OpenAI's Responses API.
pub const DEFAULT_UPSTREAM_URL: &str = "https://api.openai.com/v1/responses";

/// Forwards `POST /v1/responses` on 127.0.0.1 to the Responses API with the
/// API key read from stdin (e.g. `printenv OPENAI_API_KEY | env -u
/// OPENAI_API_KEY codex-responses-api-proxy`). Everything else gets 403.
#[derive(Debug, Clone, Parser)]
#[command(name = "codex-responses-api-proxy", version)]
pub struct Args {
    /// Port to listen on, on 127.0.0.1 only. An ephemeral port if not set.
    #[arg(long)]
    pub port: Option<u16>,

    /// Once listening, write `{"port":N,"pid":N}` and a newline to this file
    /// (parent directories are created).
    #[arg(long, value_name = "FILE")]
    pub server_info: Option<PathBuf>,

    /// Enable `GET /shutdown`, which answers 200 and exits with status 0, so
    /// a user who cannot signal the proxy can still stop it.
    #[arg(long)]
    pub http_shutdown: bool,

    /// Absolute http(s) URL every accepted request is forwarded to.
    #[arg(long, value_name = "URL", default_value = DEFAULT_UPSTREAM_URL)]
    pub upstream_url: String,

    /// Write each exchange to this directory as `NNNNNN-<ms>-request.json`
    /// and `-response.json`, with `Authorization` and cookie headers redacted.
    #[arg(long, value_name = "DIR")]
    pub dump_dir: Option<PathBuf>,

    /// Give up on the upstream when one read waits longer than this many
    /// seconds (before the answer starts: 502; during it: the stream is cut).
    /// No limit by default, since a non-streamed answer can take minutes.
    #[arg(long, value_name = "SECONDS")]
    pub upstream_idle_timeout: Option<u64>,
}
