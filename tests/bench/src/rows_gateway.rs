//! Rows 15–17: `codex mcp-server` (the gateway) against the same calls made
//! directly.
//!
//! - 15: one tool call through the gateway (stdio: a stdio upstream; HTTP:
//!   an HTTP upstream) against the call made to the upstream directly;
//!   target ≤ 1.10× plus 100 µs.
//! - 16: 50 HTTP clients at once, each calling in turn: p99 latency and the
//!   time per call (the inverse of throughput) through the gateway against
//!   direct (reported).
//! - 17: the gateway's peak RSS per upstream server it holds (11 servers
//!   against 1); target ≤ 2 MiB.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use rmcp::service::ClientServiceExt;
use rmcp::transport::TokioChildProcess;

use crate::calls::{self, Service, Side};
use crate::rows::{RowResult, Setup};
use crate::stats::median;

/// Row ids of this module.
pub const ROWS: [&str; 3] = ["15", "16", "17"];

/// The rows of `wanted` among 15–17.
pub fn run(setup: &Setup, wanted: &dyn Fn(&str) -> bool) -> Vec<(String, Result<Vec<RowResult>>)> {
    let mut outcomes = Vec::new();
    if wanted("15") {
        eprintln!("bench: row 15 (a tool call through the gateway vs direct, stdio and HTTP)");
        outcomes.push(("15".to_string(), row15(setup)));
    }
    if wanted("16") {
        eprintln!("bench: row 16 (50 concurrent HTTP clients through the gateway vs direct)");
        outcomes.push(("16".to_string(), row16(setup)));
    }
    if wanted("17") {
        eprintln!("bench: row 17 (the gateway's peak RSS per upstream server)");
        outcomes.push(("17".to_string(), row17(setup)));
    }
    outcomes
}

fn gateway_home(setup: &Setup, name: &str, config: &str) -> Result<std::path::PathBuf> {
    let dir = setup.work.join(name);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("config.toml"), config)?;
    Ok(dir)
}

fn demo_tables(setup: &Setup, count: usize) -> String {
    (0..count)
        .map(|i| {
            format!(
                "[mcp_servers.demo{i}]\ncommand = {}\nargs = [\"--name\", \"demo{i}\"]\n",
                toml::Value::String(setup.demo_server.display().to_string())
            )
        })
        .collect()
}

/// `codex mcp-server ARGS` on `home` as a stdio server, and its pid.
async fn gateway_stdio(setup: &Setup, home: &Path, args: &[&str]) -> Result<(Service, u32)> {
    let mut command = tokio::process::Command::new(&setup.codex);
    command
        .arg("mcp-server")
        .args(args)
        .env("CODEX_HOME", home)
        .env("CODEX_SYSTEM_CONFIG", home.join("none.toml"))
        .env("CODEX_MANAGED_CONFIG", home.join("none.toml"));
    let (transport, _stderr) = TokioChildProcess::builder(command)
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start codex mcp-server")?;
    let pid = transport
        .id()
        .ok_or_else(|| anyhow!("codex mcp-server has no pid"))?;
    let service = tokio::time::timeout(
        Duration::from_secs(30),
        calls::BenchClient.serve_with_lifecycle(transport, calls::host_lifecycle(false)),
    )
    .await
    .map_err(|_| anyhow!("the gateway did not initialize within 30 s"))?
    .map_err(|error| anyhow!("initializing the gateway failed: {error}"))?;
    Ok((service, pid))
}

/// A child killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the pid of a child spawned here and not yet reaped.
        unsafe {
            libc::kill(self.0.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.0.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The Python SDK's echo server over HTTP, and its MCP URL.
fn python_echo(setup: &Setup, log: &str) -> Result<(Running, String)> {
    let port = calls::free_port()?;
    let log = std::fs::File::create(setup.work.join(log))?;
    let server = Command::new(&setup.python)
        .arg(&setup.echo_server)
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", setup.python.display()))?;
    let server = Running(server);
    calls::wait_for_port(port, Duration::from_secs(20))?;
    Ok((server, format!("http://127.0.0.1:{port}/mcp")))
}

/// `codex mcp-server --listen` fronting the HTTP server at `upstream`.
fn gateway_http(setup: &Setup, upstream: &str, name: &str) -> Result<(Running, String)> {
    let home = gateway_home(
        setup,
        name,
        &format!(
            "[mcp_servers.py]\nurl = {}\n",
            toml::Value::String(upstream.into())
        ),
    )?;
    let port = calls::free_port()?;
    let log = std::fs::File::create(setup.work.join(format!("{name}.log")))?;
    let gateway = Command::new(&setup.codex)
        .args(["mcp-server", "--no-auth", "--names", "plain", "--eager"])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("CODEX_HOME", &home)
        .env("CODEX_SYSTEM_CONFIG", home.join("none.toml"))
        .env("CODEX_MANAGED_CONFIG", home.join("none.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .context("cannot start codex mcp-server --listen")?;
    let gateway = Running(gateway);
    calls::wait_for_port(port, Duration::from_secs(30))?;
    Ok((gateway, format!("http://127.0.0.1:{port}/mcp")))
}

/// The target of row 15 for a direct call of `direct_us`: 1.10× plus 100 µs.
fn row15_target(direct_us: f64) -> f64 {
    1.10 + 100.0 / direct_us
}

fn row15(setup: &Setup) -> Result<Vec<RowResult>> {
    let runtime = calls::host_runtime()?;
    let (rounds, batch) = if setup.smoke { (1, 2) } else { (21, 40) };
    let mut rows = Vec::new();

    // stdio: the gateway fronting the demo server, against the demo server.
    let home = gateway_home(setup, "row15-stdio", &demo_tables(setup, 1))?;
    let (through, _) = runtime.block_on(gateway_stdio(setup, &home, &["--names", "plain"]))?;
    let direct = runtime.block_on(calls::rmcp_stdio(
        &setup.demo_server,
        &["--name".to_string(), "demo0".to_string()],
    ))?;
    let timings = calls::measure(
        &runtime,
        &mut [Side::Session(&through), Side::Session(&direct)],
        rounds,
        batch,
        !setup.smoke,
    );
    runtime.block_on(async {
        let _ = through.cancel().await;
        let _ = direct.cancel().await;
    });
    let timings = timings?;
    let [a, b] = [0, 1].map(|i| median(&timings.per_call_us[i]));
    let mut row = RowResult::ratio(
        "15 stdio",
        "one tool call through `codex mcp-server` over stdio vs the same call made directly",
        ("through the gateway", "direct to the server"),
        a,
        b,
        "µs",
        row15_target(b),
        false,
        rounds,
    )
    .paired(&timings.per_call_us[0], &timings.per_call_us[1]);
    row.detail = format!(
        "`echo` of tests/demo-server, rmcp's child-process client on both sides; the gateway with \
         `--names plain` holds one stdio session to the server; {batch} calls per batch, {rounds} rounds, \
         alternating; A−B = {:.1} µs per call; target 1.10× + 100 µs",
        a - b
    );
    row.commands = vec![
        "codex mcp-server --names plain  (config: the demo server)".into(),
        format!("{} --name demo0", setup.demo_server.display()),
    ];
    rows.push(row);

    // HTTP: the gateway's listener fronting the Python server over HTTP,
    // against the Python server.
    let (_server, upstream) = python_echo(setup, "row15-server.log")?;
    let (_gateway, url) = gateway_http(setup, &upstream, "row15-http")?;
    let through = runtime.block_on(calls::rmcp_http(&url))?;
    let direct = runtime.block_on(calls::rmcp_http(&upstream))?;
    let protocols = (calls::protocol_of(&through), calls::protocol_of(&direct));
    let timings = calls::measure(
        &runtime,
        &mut [Side::Session(&through), Side::Session(&direct)],
        rounds,
        batch,
        !setup.smoke,
    );
    runtime.block_on(async {
        let _ = through.cancel().await;
        let _ = direct.cancel().await;
    });
    let timings = timings?;
    let [a, b] = [0, 1].map(|i| median(&timings.per_call_us[i]));
    let mut row = RowResult::ratio(
        "15 http",
        "one tool call through `codex mcp-server --listen` vs the same call made directly",
        ("through the gateway", "direct to the server"),
        a,
        b,
        "µs",
        row15_target(b),
        false,
        rounds,
    )
    .paired(&timings.per_call_us[0], &timings.per_call_us[1]);
    row.detail = format!(
        "`echo` of the Python MCP SDK server over streamable HTTP on 127.0.0.1; rmcp's HTTP client on \
         both sides (MCP {} through the gateway, {} direct); the gateway's upstream is the same server \
         through the streamable HTTP plugin; {batch} calls per batch, {rounds} rounds, alternating; \
         A−B = {:.1} µs per call; target 1.10× + 100 µs",
        protocols.0,
        protocols.1,
        a - b
    );
    row.commands = vec![
        format!("rmcp HTTP client -> {url} (codex mcp-server --listen) -> {upstream}"),
        format!("rmcp HTTP client -> {upstream}"),
    ];
    rows.push(row);
    Ok(rows)
}

/// Per-call latencies (µs) of `clients` sessions calling `calls` times each
/// at once, and the wall time of it all.
fn concurrent(
    runtime: &tokio::runtime::Runtime,
    url: &str,
    clients: usize,
    calls_each: usize,
) -> Result<(Vec<f64>, Duration)> {
    runtime.block_on(async {
        let mut sessions = Vec::with_capacity(clients);
        for _ in 0..clients {
            sessions.push(calls::rmcp_http(url).await?);
        }
        let started = Instant::now();
        let runs = sessions.iter().map(|session| async move {
            let mut latencies = Vec::with_capacity(calls_each);
            for _ in 0..calls_each {
                let call = Instant::now();
                calls::call_echo(session).await?;
                latencies.push(call.elapsed().as_secs_f64() * 1e6);
            }
            Ok::<_, anyhow::Error>(latencies)
        });
        let outcomes = futures_join_all(runs).await;
        let wall = started.elapsed();
        for session in sessions {
            let _ = session.cancel().await;
        }
        let mut latencies = Vec::new();
        for outcome in outcomes {
            latencies.extend(outcome?);
        }
        Ok((latencies, wall))
    })
}

/// All of `futures` at once (tokio tasks would need `'static` sessions).
async fn futures_join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(context) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

fn percentile(values: &[f64], fraction: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let index =
        ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
    sorted.get(index).copied().unwrap_or(f64::NAN)
}

fn row16(setup: &Setup) -> Result<Vec<RowResult>> {
    let runtime = calls::host_runtime()?;
    let clients = 50;
    let calls_each = if setup.smoke { 2 } else { 40 };
    let (_server, upstream) = python_echo(setup, "row16-server.log")?;
    let (_gateway, url) = gateway_http(setup, &upstream, "row16-http")?;
    if !setup.smoke {
        concurrent(&runtime, &url, clients, 5)?;
        concurrent(&runtime, &upstream, clients, 5)?;
    }
    let (through, through_wall) = concurrent(&runtime, &url, clients, calls_each)?;
    let (direct, direct_wall) = concurrent(&runtime, &upstream, clients, calls_each)?;
    let total = (clients * calls_each) as f64;
    let per_call = |wall: Duration| wall.as_secs_f64() * 1e6 / total;
    let (p99_a, p99_b) = (percentile(&through, 0.99), percentile(&direct, 0.99));
    let detail = format!(
        "{clients} rmcp HTTP sessions at once, {calls_each} `echo` calls each in turn, to the Python MCP SDK \
         server directly and through `codex mcp-server --listen` fronting it; throughput {:.0} calls/s \
         through the gateway, {:.0} calls/s direct; medians {:.0} µs and {:.0} µs",
        total / through_wall.as_secs_f64(),
        total / direct_wall.as_secs_f64(),
        median(&through),
        median(&direct)
    );
    let mut p99 = RowResult::ratio(
        "16 p99",
        "p99 of a call with 50 HTTP clients at once, through the gateway vs direct",
        ("through the gateway", "direct to the server"),
        p99_a,
        p99_b,
        "µs",
        1.10,
        true,
        1,
    );
    p99.detail = detail.clone();
    let mut throughput = RowResult::ratio(
        "16 time/call",
        "wall time per call (1/throughput) with 50 HTTP clients at once, through the gateway vs direct",
        ("through the gateway", "direct to the server"),
        per_call(through_wall),
        per_call(direct_wall),
        "µs",
        1.10,
        true,
        1,
    );
    throughput.detail = detail;
    Ok(vec![p99, throughput])
}

/// The gateway's peak RSS once it holds `servers` upstream sessions.
fn gateway_peak(setup: &Setup, runtime: &tokio::runtime::Runtime, servers: usize) -> Result<u64> {
    let home = gateway_home(
        setup,
        &format!("row17-{servers}"),
        &demo_tables(setup, servers),
    )?;
    runtime.block_on(async {
        let (service, pid) = gateway_stdio(setup, &home, &["--eager"]).await?;
        // Every server listed (and so connected), then a call on each.
        let tools = service.list_all_tools().await?;
        for i in 0..servers {
            let name = format!("mcp__demo{i}__echo");
            if !tools.iter().any(|tool| tool.name == name) {
                anyhow::bail!("the gateway does not list {name}");
            }
            let mut params = calls::echo_params();
            params.name = name.into();
            service.call_tool(params).await?;
        }
        let peak = crate::procs::peak_rss_kib(pid);
        let _ = service.cancel().await;
        peak
    })
}

fn row17(setup: &Setup) -> Result<Vec<RowResult>> {
    let runtime = calls::host_runtime()?;
    let rounds = if setup.smoke { 1 } else { 5 };
    let (mut one, mut eleven) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        one.push(gateway_peak(setup, &runtime, 1)? as f64);
        eleven.push(gateway_peak(setup, &runtime, 11)? as f64);
    }
    let (a, b) = (median(&eleven) / 1024.0, median(&one) / 1024.0);
    let per_server = (a - b) / 10.0;
    let mut row = RowResult::ratio(
        "17",
        "the gateway's peak RSS per upstream server it holds",
        ("11 servers", "1 server"),
        a,
        b,
        "MiB",
        2.0,
        false,
        rounds,
    );
    row.figure = per_server;
    row.ratio_of_medians = per_server;
    row.figure_unit = "MiB/server".into();
    row.met = per_server <= row.target;
    row.detail = format!(
        "`codex mcp-server --eager` over stdio fronting 11 and 1 demo servers, every server listed and \
         called once, VmHWM of the gateway process (the servers' own processes not counted); \
         (A − B) / 10 per server; medians of {rounds} runs"
    );
    Ok(vec![row])
}
