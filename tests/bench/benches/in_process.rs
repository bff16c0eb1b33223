//! `cargo bench -p codex-bench`: criterion's view of the in-process rows of
//! BENCHMARKS.md (3, 4 and 5): the time of one tool call through a transport
//! plugin and the host's adapter, on rmcp's own client, and (stdio) the bare
//! pipe round trip of the same bytes, each with criterion's confidence
//! interval. For checking what a change does to one side; the report's
//! ratios, with A and B alternating in one run, come from tests/bench/run.sh.
//!
//! The plugins and servers are taken from the directory of the
//! `codex-bench` binary this bench was built with: build the workspace with
//! the same profile first (`cargo build --release --workspace`, then
//! `cargo bench -p codex-bench`). Run as a test (`cargo test -p codex-bench
//! --bench in_process`, as the benchmark smoke run does) each function runs
//! once, with the debug build.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use codex_bench::calls::{self, PluginSession, Service};
use criterion::{Criterion, criterion_group, criterion_main};

/// Where cargo put this build's binaries and plugin libraries.
fn build_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_codex-bench"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The repository root (for the Python MCP SDK server of row 4).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A set-up step the bench cannot go on without: stops with what to do.
fn need<T>(result: anyhow::Result<T>, what: &str) -> T {
    result.unwrap_or_else(|error| {
        panic!(
            "{what}: {error:#}\n(build the workspace with this profile first: \
             `cargo build --release --workspace` before `cargo bench -p codex-bench`)"
        )
    })
}

/// `iters` calls of `echo` on `service`, in one `block_on` as the report's
/// batches do.
fn time_calls(runtime: &tokio::runtime::Runtime, service: &Service, iters: u64) -> Duration {
    let started = Instant::now();
    runtime.block_on(async {
        for _ in 0..iters {
            need(calls::call_echo(service).await, "a tool call failed");
        }
    });
    started.elapsed()
}

/// A session with server `bench` through `transport` of the plugin library
/// `lib<library>.so` of this build, the server table holding one `key`;
/// on the host's lifecycle for that transport.
fn connect_plugin(
    runtime: &tokio::runtime::Runtime,
    library: &str,
    transport: &str,
    (key, value): (&str, String),
    codex_home: &Path,
) -> PluginSession {
    let module = need(
        calls::load_plugin(&calls::plugin_path(&build_dir(), library)),
        &format!("the plugin lib{library}"),
    );
    let mut table = toml::Table::new();
    table.insert(key.into(), value.into());
    need(
        runtime.block_on(PluginSession::connect(
            module,
            transport,
            "bench",
            toml::Value::Table(table),
            calls::host_lifecycle(transport != "stdio"),
            codex_home,
        )),
        &format!("connecting through the {transport} plugin"),
    )
}

fn stdio(c: &mut Criterion) {
    let dir = build_dir();
    let demo = dir.join("codex-demo-server");
    let runtime = need(calls::host_runtime(), "the runtime");
    let home = need(tempfile::tempdir().map_err(Into::into), "a CODEX_HOME");
    let plugin = connect_plugin(
        &runtime,
        "codex_stdio",
        "stdio",
        ("command", demo.display().to_string()),
        home.path(),
    );
    let rmcp = need(
        runtime.block_on(calls::rmcp_stdio(&demo, &[])),
        "connecting with rmcp",
    );
    let (request, reply) = need(calls::capture_reply(&demo, &[]), "the demo server's reply");
    let mut pipe = need(
        calls::Pipe::spawn(
            Path::new(env!("CARGO_BIN_EXE_codex-bench")),
            &request,
            &reply,
        ),
        "the bare pipe",
    );

    let mut group = c.benchmark_group("stdio tool call (rows 3 and 5)");
    group.bench_function("plugin (libcodex_stdio.so)", |b| {
        b.iter_custom(|iters| time_calls(&runtime, &plugin.service, iters))
    });
    group.bench_function("in-process rmcp client", |b| {
        b.iter_custom(|iters| time_calls(&runtime, &rmcp, iters))
    });
    group.bench_function("bare pipe", |b| {
        b.iter(|| need(pipe.round_trip(), "a pipe round trip failed"))
    });
    group.finish();

    runtime.block_on(async {
        plugin.close().await;
        let _ = rmcp.cancel().await;
    });
}

/// The Python MCP SDK server of row 4, stopped when dropped.
struct PythonServer(Child);

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http(c: &mut Criterion) {
    let python = repo().join("tests/python/.venv/bin/python");
    if !python.exists() {
        eprintln!(
            "skipping the streamable HTTP group: {} is missing (run tests/python/setup.sh)",
            python.display()
        );
        return;
    }
    let port = need(calls::free_port(), "a free port");
    let server = PythonServer(need(
        Command::new(&python)
            .arg(repo().join("tests/python/echo_server.py"))
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(Into::into),
        "starting the Python MCP server",
    ));
    need(
        calls::wait_for_port(port, Duration::from_secs(20)),
        "the Python MCP server",
    );
    let url = format!("http://127.0.0.1:{port}/mcp");
    let runtime = need(calls::host_runtime(), "the runtime");
    let home = need(tempfile::tempdir().map_err(Into::into), "a CODEX_HOME");
    let plugin = connect_plugin(
        &runtime,
        "codex_streamable_http",
        "streamable-http",
        ("url", url.clone()),
        home.path(),
    );
    let rmcp = need(
        runtime.block_on(calls::rmcp_http(&url)),
        "connecting with rmcp",
    );

    let mut group = c.benchmark_group("streamable HTTP tool call (row 4)");
    group.bench_function("plugin (libcodex_streamable_http.so)", |b| {
        b.iter_custom(|iters| time_calls(&runtime, &plugin.service, iters))
    });
    group.bench_function("in-process rmcp HTTP client", |b| {
        b.iter_custom(|iters| time_calls(&runtime, &rmcp, iters))
    });
    group.finish();

    runtime.block_on(async {
        plugin.close().await;
        let _ = rmcp.cancel().await;
    });
    drop(server);
}

criterion_group!(benches, stdio, http);
criterion_main!(benches);
