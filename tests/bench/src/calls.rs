//! One tool call, three ways: through a transport plugin library and the
//! host's adapter (what `codex mcp call` does), on rmcp's own in-process
//! client transport, and as a bare pipe round trip of the same bytes.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use abi_stable::library::lib_header_from_path;
use abi_stable::sabi_trait::TD_Opaque;
use anyhow::{Context, Result, anyhow, bail};
use codex_config::McpServerConfig;
use codex_plugin_api::{ConnectRequest, ConnectionBox, HostServicesBox, PluginModuleRef};
use codex_plugin_test_support::RecordingHost;
use rmcp::{
    RoleClient,
    model::{
        CallToolRequest, CallToolRequestParams, ClientCapabilities, ClientConfig,
        ClientJsonRpcMessage, ClientRequest, Implementation, NumberOrString, ProgressToken,
        ProtocolVersion, RequestId, RequestParamsMeta,
    },
    service::{ClientLifecycleMode, ClientServiceExt, RunningService},
    transport::{StreamableHttpClientTransport, TokioChildProcess},
};

use crate::host_transport;
use codex_plugin_host::transports::SendPath;

/// How long connecting and initializing may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one call may take before the benchmark gives up.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The host's runtime (host/src/commands/mod.rs): both sides of every
/// in-process row run on it.
pub fn host_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// A port nobody listens on right now.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until something listens on 127.0.0.1:`port`.
pub fn wait_for_port(port: u16, timeout: Duration) -> Result<()> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("nothing listened on 127.0.0.1:{port} within {timeout:?}")
}

/// The message every call sends to `echo`.
pub const MESSAGE: &str = "benchmark";

/// The client both sides run: the host's `initialize` identity, no handlers.
pub struct BenchClient;

impl rmcp::ClientHandler for BenchClient {
    fn get_info(&self) -> ClientConfig {
        client_config()
    }
}

/// What the host says about itself in `initialize` (host/src/mcp/session.rs).
pub fn client_config() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("codex-mcp-client", env!("CARGO_PKG_VERSION")).with_title("Codex"),
    )
    .with_protocol_version(ProtocolVersion::V_2025_11_25)
}

/// The lifecycle the host uses: `initialize` for stdio; for HTTP
/// `server/discover` first (feature `mcp_protocol_2026_07_28`, on by
/// default), then `initialize` at 2025-11-25.
pub fn host_lifecycle(http: bool) -> ClientLifecycleMode {
    if http {
        ClientLifecycleMode::Auto {
            preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            legacy_version: Some(ProtocolVersion::V_2025_11_25),
        }
    } else {
        ClientLifecycleMode::Initialize
    }
}

/// A running client session.
pub type Service = RunningService<RoleClient, BenchClient>;

/// The parameters of the benchmarked call, built as the host builds them
/// (`Session::call_tool` asks for progress with token 1).
pub fn echo_params() -> CallToolRequestParams {
    let mut arguments = serde_json::Map::new();
    arguments.insert("message".into(), MESSAGE.into());
    let mut params = CallToolRequestParams::new("echo").with_arguments(arguments);
    params.set_progress_token(ProgressToken(NumberOrString::Number(1)));
    params
}

/// One `tools/call` of `echo`; fails on an error result.
pub async fn call_echo(service: &Service) -> Result<()> {
    let result = tokio::time::timeout(CALL_TIMEOUT, service.call_tool(echo_params()))
        .await
        .map_err(|_| anyhow!("tools/call did not answer within {CALL_TIMEOUT:?}"))?
        .context("tools/call failed")?;
    if result.is_error == Some(true) {
        bail!("tools/call answered with an error result: {result:?}");
    }
    Ok(())
}

/// Opens a plugin library the way the host does (`host/src/plugins/load.rs`:
/// abi_stable's header, then the root module with its version and layout
/// checks). The trust checks are the host's business and not timed here.
pub fn load_plugin(path: &Path) -> Result<PluginModuleRef> {
    let header = lib_header_from_path(path)
        .map_err(|error| anyhow!("cannot open the plugin {}: {error}", path.display()))?;
    header
        .init_root_module::<PluginModuleRef>()
        .map_err(|error| anyhow!("{} is not a usable plugin: {error}", path.display()))
}

/// A session over a transport plugin, as `Session::connect` builds it.
pub struct PluginSession {
    pub service: Service,
    connection: Arc<ConnectionBox>,
}

impl PluginSession {
    /// Starts `program ARGS` as the stdio server `server` through the stdio
    /// plugin in `plugin_dir` (`libcodex_stdio.so`), in-process, as the
    /// host's one-shot commands do.
    pub fn stdio(
        runtime: &tokio::runtime::Runtime,
        plugin_dir: &Path,
        server: &str,
        program: &Path,
        args: &[String],
        codex_home: &Path,
    ) -> Result<PluginSession> {
        let module = load_plugin(&plugin_path(plugin_dir, "codex_stdio"))?;
        let mut table = toml::Table::new();
        table.insert("command".into(), program.display().to_string().into());
        table.insert(
            "args".into(),
            toml::Value::Array(args.iter().map(|a| a.clone().into()).collect()),
        );
        runtime.block_on(PluginSession::connect(
            module,
            "stdio",
            server,
            toml::Value::Table(table),
            host_lifecycle(false),
            codex_home,
        ))
    }

    /// Connects to `server` (its `[mcp_servers.NAME]` table as TOML) through
    /// the transport `transport` of `module`, then runs `lifecycle`.
    pub async fn connect(
        module: PluginModuleRef,
        transport: &str,
        server: &str,
        table: toml::Value,
        lifecycle: ClientLifecycleMode,
        codex_home: &Path,
    ) -> Result<PluginSession> {
        let config = McpServerConfig::from_toml(server, &table)
            .map_err(|error| anyhow!("the server table of `{server}`: {error}"))?;
        let request = ConnectRequest {
            server_name: server.into(),
            config_json: config.to_json().to_string().into(),
            timeout_ms: CONNECT_TIMEOUT.as_millis() as u64,
        };
        let host = RecordingHost::new(codex_home, Default::default());
        let (sink, pending) = host_transport::channel();
        let name = transport.to_string();
        // Plugin code may block: off the async threads, as in the host.
        let opening = tokio::task::spawn_blocking(move || {
            let services = HostServicesBox::from_value(host, TD_Opaque);
            let transport = (module.transport())(name.as_str().into(), services).into_result()?;
            transport.connect(request, sink).into_result()
        });
        let connection = tokio::time::timeout(CONNECT_TIMEOUT, opening)
            .await
            .map_err(|_| anyhow!("connecting to `{server}` took over {CONNECT_TIMEOUT:?}"))??
            .map_err(|error| anyhow!("connecting to `{server}` failed: {error}"))?;
        let connection = Arc::new(connection);
        // Bundled plugins' sends run inline in the host, as here.
        let transport = pending.into_transport(
            connection.clone(),
            server.to_string(),
            SendPath::Inline,
            false,
        );
        let reason = transport.close_reason();
        let service = tokio::time::timeout(
            CONNECT_TIMEOUT,
            BenchClient.serve_with_lifecycle(transport, lifecycle),
        )
        .await
        .map_err(|_| anyhow!("initializing `{server}` took over {CONNECT_TIMEOUT:?}"))?
        .map_err(|error| match reason.get() {
            Some(reason) => anyhow!("initializing `{server}` failed: {reason}"),
            None => anyhow!("initializing `{server}` failed: {error}"),
        })?;
        Ok(PluginSession {
            service,
            connection,
        })
    }

    /// MCP shutdown, then the plugin's close (for stdio: the process group
    /// is terminated).
    pub async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.service.cancel()).await;
        let connection = self.connection;
        let closing = tokio::task::spawn_blocking(move || connection.close());
        let _ = tokio::time::timeout(Duration::from_secs(10), closing).await;
    }
}

/// A session on rmcp's own child-process transport.
pub async fn rmcp_stdio(program: &Path, args: &[String]) -> Result<Service> {
    let mut command = tokio::process::Command::new(program);
    command.args(args);
    let (transport, _stderr) = TokioChildProcess::builder(command)
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", program.display()))?;
    tokio::time::timeout(
        CONNECT_TIMEOUT,
        BenchClient.serve_with_lifecycle(transport, host_lifecycle(false)),
    )
    .await
    .map_err(|_| anyhow!("initializing took over {CONNECT_TIMEOUT:?}"))?
    .map_err(|error| anyhow!("initializing over rmcp's child-process transport failed: {error}"))
}

/// A session on rmcp's own streamable HTTP client.
pub async fn rmcp_http(url: &str) -> Result<Service> {
    // reqwest may be built with `rustls-no-provider` (a workspace build
    // unifies it with http-common's features): give it one, as the plugin does.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let transport = StreamableHttpClientTransport::from_uri(url.to_string());
    tokio::time::timeout(
        CONNECT_TIMEOUT,
        BenchClient.serve_with_lifecycle(transport, host_lifecycle(true)),
    )
    .await
    .map_err(|_| anyhow!("initializing took over {CONNECT_TIMEOUT:?}"))?
    .map_err(|error| anyhow!("initializing over rmcp's streamable HTTP client failed: {error}"))
}

/// The protocol revision a session settled on.
pub fn protocol_of(service: &Service) -> String {
    service
        .peer_info()
        .map(|info| info.protocol_version.as_str().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

/// The `tools/call` line the host's adapter writes for [`echo_params`]
/// (rmcp's serialization, as in `PluginTransport::send`), with request id `id`.
pub fn echo_request_line(id: i64) -> Result<String> {
    let message = ClientJsonRpcMessage::request(
        ClientRequest::CallToolRequest(CallToolRequest::new(echo_params())),
        RequestId::Number(id),
    );
    Ok(serde_json::to_string(&message)? + "\n")
}

/// The exact reply line a stdio server sends to [`echo_request_line`]: one
/// raw exchange (initialize, initialized, the call) over its pipes.
pub fn capture_reply(program: &Path, args: &[String]) -> Result<(String, String)> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", program.display()))?;
    let outcome = (|| -> Result<(String, String)> {
        let mut stdin = child.stdin.take().context("no stdin")?;
        let mut stdout = BufReader::new(child.stdout.take().context("no stdout")?);
        let initialize = serde_json::json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "codex-mcp-client", "version": env!("CARGO_PKG_VERSION")},
            },
        });
        writeln!(stdin, "{initialize}")?;
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        if !line.contains("\"result\"") {
            bail!("the server did not accept initialize: {line}");
        }
        writeln!(
            stdin,
            "{}",
            serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
        )?;
        let request = echo_request_line(1)?;
        stdin.write_all(request.as_bytes())?;
        line.clear();
        stdout.read_line(&mut line)?;
        if !line.contains("echo: ") {
            bail!("the server did not answer the echo call: {line}");
        }
        Ok((request, line))
    })();
    let _ = child.kill();
    let _ = child.wait();
    outcome
}

/// The floor: a child that answers every line on its stdin with one fixed
/// line (`codex-bench pipe-echo`), driven with blocking reads and writes.
pub struct Pipe {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    request: Vec<u8>,
    reply_len: usize,
    line: String,
}

impl Pipe {
    /// Starts `exe pipe-echo` answering `reply`; every round trip writes `request`.
    pub fn spawn(exe: &Path, request: &str, reply: &str) -> Result<Pipe> {
        let mut child = Command::new(exe)
            .arg("pipe-echo")
            .env("CODEX_BENCH_REPLY", reply.trim_end_matches('\n'))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {} pipe-echo", exe.display()))?;
        let stdin = child.stdin.take().context("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("no stdout")?);
        Ok(Pipe {
            child,
            stdin,
            stdout,
            request: request.as_bytes().to_vec(),
            reply_len: reply.len(),
            line: String::with_capacity(reply.len() + 1),
        })
    }

    /// Writes the request, reads the reply line.
    pub fn round_trip(&mut self) -> Result<()> {
        self.stdin.write_all(&self.request)?;
        self.line.clear();
        self.stdout.read_line(&mut self.line)?;
        if self.line.len() != self.reply_len {
            bail!(
                "pipe-echo answered {} bytes instead of {}",
                self.line.len(),
                self.reply_len
            );
        }
        Ok(())
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child side of [`Pipe`]: one reply line per request line, until EOF.
pub fn pipe_echo() -> Result<()> {
    let reply = std::env::var("CODEX_BENCH_REPLY").context("CODEX_BENCH_REPLY is not set")?;
    let reply = format!("{reply}\n");
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut output = std::io::stdout().lock();
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        output.write_all(reply.as_bytes())?;
        output.flush()?;
    }
}

/// Per-call times (µs), one per round, for each side.
pub struct Timings {
    pub per_call_us: Vec<Vec<f64>>,
}

/// A side of an in-process comparison.
pub enum Side<'a> {
    /// A client session (plugin or rmcp), driven on `runtime`.
    Session(&'a Service),
    /// The bare pipe.
    Pipe(&'a mut Pipe),
}

/// Runs `rounds` rounds of `batch` calls on every side, the sides in a
/// rotating order each round, after one untimed warm-up batch each.
pub fn measure(
    runtime: &tokio::runtime::Runtime,
    sides: &mut [Side<'_>],
    rounds: usize,
    batch: usize,
    warmup: bool,
) -> Result<Timings> {
    let mut per_call_us = vec![Vec::with_capacity(rounds); sides.len()];
    if warmup {
        for side in sides.iter_mut() {
            run_batch(runtime, side, batch)?;
        }
    }
    for round in 0..rounds {
        for index in crate::stats::rotation(round, sides.len()) {
            let elapsed = run_batch(runtime, &mut sides[index], batch)?;
            per_call_us[index].push(elapsed.as_secs_f64() * 1e6 / batch as f64);
        }
    }
    Ok(Timings { per_call_us })
}

fn run_batch(
    runtime: &tokio::runtime::Runtime,
    side: &mut Side<'_>,
    batch: usize,
) -> Result<Duration> {
    let started = Instant::now();
    match side {
        Side::Session(service) => runtime.block_on(async {
            for _ in 0..batch {
                call_echo(service).await?;
            }
            Ok::<_, anyhow::Error>(())
        })?,
        Side::Pipe(pipe) => {
            for _ in 0..batch {
                pipe.round_trip()?;
            }
        }
    }
    Ok(started.elapsed())
}

/// The plugin library `lib<name>.so` in `dir`.
pub fn plugin_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ))
}

/// Which side [`profile`] drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileSide {
    Plugin,
    Rmcp,
    Pipe,
}

/// Makes `calls` stdio calls on one side only, for `perf stat` / `perf
/// record` / callgrind (`codex-bench profile-stdio`), on the host's runtime
/// or a current-thread one, against codex-demo-server or the fast server;
/// returns µs per call.
pub fn profile(
    side: ProfileSide,
    plugin_dir: &Path,
    demo_server: &Path,
    bench_exe: &Path,
    calls: usize,
    current_thread: bool,
    fast_server: bool,
) -> Result<f64> {
    let runtime = if current_thread {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?
    };
    // The server: codex-demo-server, or `codex-bench mcp-echo`.
    let (program, args): (&Path, Vec<String>) = if fast_server {
        (bench_exe, vec!["mcp-echo".into()])
    } else {
        (demo_server, Vec::new())
    };
    let home = std::env::temp_dir().join(format!("codex-bench-profile-{}", std::process::id()));
    std::fs::create_dir_all(&home)?;
    let outcome = (|| -> Result<f64> {
        match side {
            ProfileSide::Plugin => {
                let session =
                    PluginSession::stdio(&runtime, plugin_dir, "demo", program, &args, &home)?;
                let timings = measure(
                    &runtime,
                    &mut [Side::Session(&session.service)],
                    1,
                    calls,
                    false,
                );
                runtime.block_on(session.close());
                Ok(timings?.per_call_us[0][0])
            }
            ProfileSide::Rmcp => {
                let service = runtime.block_on(rmcp_stdio(program, &args))?;
                let timings = measure(&runtime, &mut [Side::Session(&service)], 1, calls, false);
                let _ = runtime.block_on(service.cancel());
                Ok(timings?.per_call_us[0][0])
            }
            ProfileSide::Pipe => {
                let (request, reply) = capture_reply(demo_server, &[])?;
                let mut pipe = Pipe::spawn(bench_exe, &request, &reply)?;
                let timings = measure(&runtime, &mut [Side::Pipe(&mut pipe)], 1, calls, false);
                Ok(timings?.per_call_us[0][0])
            }
        }
    })();
    let _ = std::fs::remove_dir_all(&home);
    outcome
}

/// A minimal MCP server on blocking stdio (`codex-bench mcp-echo`): answers
/// `initialize`, `tools/list` and `tools/call` of `echo` at once, with no
/// runtime and no thread hand-offs, so that a client's round trip against
/// it is mostly the client's own cost. Ends at EOF.
pub fn mcp_echo() -> Result<()> {
    use serde_json::{Value, json};
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut output = std::io::stdout().lock();
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let Some(id) = message.get("id").cloned() else {
            continue; // a notification
        };
        let result = match message.get("method").and_then(Value::as_str) {
            Some("initialize") => json!({
                "protocolVersion": message["params"]["protocolVersion"].as_str().unwrap_or("2025-11-25"),
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "codex-bench-mcp-echo", "version": env!("CARGO_PKG_VERSION")},
            }),
            Some("tools/list") => json!({"tools": [{
                "name": "echo",
                "inputSchema": {"type": "object", "properties": {"message": {"type": "string"}}},
            }]}),
            Some("tools/call") => {
                let text = message["params"]["arguments"]["message"]
                    .as_str()
                    .unwrap_or("");
                json!({"content": [{"type": "text", "text": format!("echo: {text}")}], "isError": false})
            }
            _ => {
                let reply = json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "method not found"}});
                writeln!(output, "{reply}")?;
                output.flush()?;
                continue;
            }
        };
        writeln!(
            output,
            "{}",
            json!({"jsonrpc": "2.0", "id": id, "result": result})
        )?;
        output.flush()?;
    }
}
