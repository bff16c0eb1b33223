//! The rows of the benchmark issue (#7), each a ratio of two things measured
//! in one run, alternating, with medians.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;

use crate::calls::{self, PluginSession, Side};
use crate::procs::{self, Cmd, Pair};
use crate::stats::{median, range};

/// Everything the rows need to find.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Our `codex`, in a directory holding exactly the shipped plugins.
    pub codex: PathBuf,
    /// The directory of `codex` (the plugin libraries).
    pub plugin_dir: PathBuf,
    /// The Codex CLI's native binary.
    pub codex_cli: PathBuf,
    pub demo_server: PathBuf,
    /// Python with the MCP SDK, and the server script to run with it.
    pub python: PathBuf,
    pub echo_server: PathBuf,
    /// A fresh directory for homes, outputs and logs.
    pub work: PathBuf,
    /// This executable (for `pipe-echo`).
    pub bench_exe: PathBuf,
    /// One iteration of everything, no warm-up.
    pub smoke: bool,
}

/// A measured row.
#[derive(Clone, Debug, Serialize)]
pub struct RowResult {
    /// "1 wall", "3", ...
    pub id: String,
    pub what: String,
    pub a_label: String,
    pub b_label: String,
    pub a: f64,
    pub b: f64,
    /// The unit of `a` and `b`: "ms", "µs", "MiB".
    pub unit: String,
    /// The ratio: the median of the per-run (or per-round) ratios A/B of
    /// runs taken next to each other, so that load drifting during the run
    /// cancels out; for row 8 the MiB per server.
    pub figure: f64,
    /// A/B of the medians, for comparison with `figure`.
    pub ratio_of_medians: f64,
    /// "" for a ratio, else the unit of `figure`.
    pub figure_unit: String,
    pub target: f64,
    /// The issue says "report, aim ≤": a goal, not a target.
    pub aim: bool,
    pub met: bool,
    /// Runs (processes) or rounds (in-process batches) per side.
    pub samples: usize,
    /// How it was measured, spreads, anything to know.
    pub detail: String,
    /// The exact commands (A first).
    pub commands: Vec<String>,
}

impl RowResult {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn ratio(
        id: &str,
        what: &str,
        labels: (&str, &str),
        a: f64,
        b: f64,
        unit: &str,
        target: f64,
        aim: bool,
        samples: usize,
    ) -> RowResult {
        let figure = a / b;
        RowResult {
            id: id.into(),
            what: what.into(),
            a_label: labels.0.into(),
            b_label: labels.1.into(),
            a,
            b,
            unit: unit.into(),
            figure,
            ratio_of_medians: figure,
            figure_unit: String::new(),
            target,
            aim,
            met: figure <= target,
            samples,
            detail: String::new(),
            commands: Vec::new(),
        }
    }
}

impl RowResult {
    /// Takes the figure from paired samples: run (or round) `i` of A with
    /// run `i` of B.
    pub(crate) fn paired(mut self, a: &[f64], b: &[f64]) -> RowResult {
        let ratios: Vec<f64> = a.iter().zip(b).map(|(a, b)| a / b).collect();
        self.figure = median(&ratios);
        self.met = self.figure <= self.target;
        self
    }
}

fn walls(samples: &[procs::Sample]) -> Vec<f64> {
    samples.iter().map(|s| s.wall.as_secs_f64()).collect()
}

fn rsses(samples: &[procs::Sample]) -> Vec<f64> {
    samples.iter().map(|s| s.max_rss_kib as f64).collect()
}

/// Every row id, in order.
pub const ROWS: [&str; 18] = [
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17",
    "18",
];

/// Runs the rows in `wanted` (3 and 5 run together, as do 6 and 8, and 12
/// and 13).
pub fn run(setup: &Setup, wanted: &[String]) -> Result<Vec<RowResult>> {
    let wants = |id: &str| wanted.iter().any(|w| w == id);
    let mut results = Vec::new();
    let mut failures = Vec::new();
    let mut attempt = |name: &str, outcome: Result<Vec<RowResult>>| match outcome {
        Ok(rows) => results.extend(rows),
        Err(error) => {
            eprintln!("bench: row {name} could not run: {error:#}");
            failures.push(format!("row {name}: {error:#}"));
        }
    };
    if wants("1") {
        eprintln!("bench: row 1 (mcp list, 50 servers, vs Codex CLI)");
        attempt("1", row1(setup));
    }
    if wants("2") {
        eprintln!("bench: row 2 (mcp list, 10 slow-discovery servers, vs Codex CLI)");
        attempt("2", row2(setup));
    }
    if wants("3") || wants("5") {
        eprintln!("bench: rows 3 and 5 (stdio tool call: plugin vs rmcp vs pipe)");
        attempt("3/5", rows3and5(setup));
    }
    if wants("4") {
        eprintln!("bench: row 4 (streamable HTTP tool call: plugin vs rmcp)");
        attempt("4", row4(setup));
    }
    if wants("6") || wants("8") {
        eprintln!("bench: rows 6 and 8 (mcp tools over 20 slow-starting servers vs 1)");
        attempt("6/8", rows6and8(setup));
    }
    if wants("7") {
        eprintln!("bench: row 7 (plugin list vs --version)");
        attempt("7", row7(setup));
    }
    if wants("9") {
        eprintln!("bench: row 9 (codex sandbox -- true vs Codex CLI, and the sandbox's own cost)");
        attempt("9", row9(setup));
    }
    if wants("10") {
        eprintln!("bench: row 10 (a sandboxed stdio server's start vs an unsandboxed one)");
        attempt("10", row10(setup));
    }
    for (name, outcome) in crate::rows_app_server::run(setup, &wants) {
        attempt(&name, outcome);
    }
    for (name, outcome) in crate::rows_gateway::run(setup, &wants) {
        attempt(&name, outcome);
    }
    if wants("18") {
        eprintln!(
            "bench: row 18 (the responses API proxy's added latency, vs direct and Codex CLI)"
        );
        attempt("18", crate::rows_proxy::row18(setup));
    }
    // Table order: by row number ("1 wall" before "1 rss" as measured).
    results.sort_by_key(|row| {
        row.id
            .split(' ')
            .next()
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(u32::MAX)
    });
    results.retain(|row| {
        let number = row.id.split(' ').next().unwrap_or("");
        wants(number)
    });
    if !failures.is_empty() {
        // The rows that ran are still reported by the caller.
        return Err(anyhow!(RowsFailed { results, failures }));
    }
    Ok(results)
}

/// Some rows could not run; `results` has the others.
#[derive(Debug, thiserror::Error)]
#[error("{} row(s) could not run: {}", failures.len(), failures.join("; "))]
pub struct RowsFailed {
    pub results: Vec<RowResult>,
    pub failures: Vec<String>,
}

pub(crate) fn runs(setup: &Setup, full: usize) -> usize {
    if setup.smoke { 1 } else { full }
}

/// The environment of every whole-process run: nothing inherited but PATH.
pub(crate) fn env_for(setup: &Setup, codex_home: &Path) -> Vec<(String, String)> {
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
    vec![
        ("PATH".into(), path),
        ("HOME".into(), setup.work.join("home").display().to_string()),
        ("LANG".into(), "C.UTF-8".into()),
        ("CODEX_HOME".into(), codex_home.display().to_string()),
        ("BENCH_TOKEN".into(), "bench-secret".into()),
    ]
}

pub(crate) fn home(setup: &Setup, name: &str, config: &str) -> Result<PathBuf> {
    let dir = setup.work.join(name);
    std::fs::create_dir_all(&dir)?;
    std::fs::create_dir_all(setup.work.join("home"))?;
    std::fs::write(dir.join("config.toml"), config)?;
    Ok(dir)
}

fn cmd(setup: &Setup, program: &Path, args: &[&str], codex_home: &Path) -> Cmd {
    Cmd {
        program: program.to_path_buf(),
        args: args.iter().map(|a| a.to_string()).collect(),
        env: env_for(setup, codex_home),
        cwd: setup.work.clone(),
    }
}

fn toml_string(value: &str) -> String {
    toml::Value::String(value.to_string()).to_string()
}

fn spread_ms(samples: &[procs::Sample]) -> String {
    let ms: Vec<f64> = samples.iter().map(|s| s.wall.as_secs_f64() * 1e3).collect();
    let (low, high) = range(&ms);
    format!("{low:.1}–{high:.1} ms")
}

fn spread_mib(samples: &[procs::Sample]) -> String {
    let mib: Vec<f64> = samples
        .iter()
        .map(|s| s.max_rss_kib as f64 / 1024.0)
        .collect();
    let (low, high) = range(&mib);
    format!("{low:.1}–{high:.1} MiB")
}

/// What the method reports for a process that does nothing (`/bin/true`
/// through the launcher): the floor under every peak RSS figure.
fn rss_floor(setup: &Setup) -> String {
    let cmd = Cmd {
        program: PathBuf::from("/bin/true"),
        args: Vec::new(),
        env: env_for(setup, &setup.work),
        cwd: setup.work.clone(),
    };
    match procs::run_once(&setup.bench_exe, &cmd, &setup.work.join("rss-floor")) {
        Ok(sample) => format!(
            "the method's floor (`/bin/true` measured the same way): {:.1} MiB",
            sample.max_rss_kib as f64 / 1024.0
        ),
        Err(error) => format!("the method's floor could not be measured: {error:#}"),
    }
}

fn expect_names(stdout: &str, names: &[String]) -> Result<()> {
    let missing: Vec<&String> = names.iter().filter(|n| !stdout.contains(*n)).collect();
    if !missing.is_empty() {
        bail!("the output does not list {missing:?}");
    }
    Ok(())
}

fn row1(setup: &Setup) -> Result<Vec<RowResult>> {
    let mut config = String::from("# 25 stdio and 25 streamable HTTP servers with bearer tokens\n");
    let mut names = Vec::new();
    for i in 0..25 {
        let name = format!("stdio_{i:02}");
        writeln!(
            config,
            "\n[mcp_servers.{name}]\ncommand = {}\nargs = [\"--name\", \"{name}\"]",
            toml_string(&setup.demo_server.display().to_string())
        )?;
        names.push(name);
    }
    for i in 0..25 {
        let name = format!("http_{i:02}");
        // Port 9 (discard) on loopback: nothing listens; with a bearer token
        // neither program needs to reach the server to list it.
        writeln!(
            config,
            "\n[mcp_servers.{name}]\nurl = \"http://127.0.0.1:9/mcp/{i}\"\nbearer_token_env_var = \"BENCH_TOKEN\""
        )?;
        names.push(name);
    }
    let codex_home = home(setup, "row1", &config)?;
    let a = cmd(setup, &setup.codex, &["mcp", "list"], &codex_home);
    let b = cmd(setup, &setup.codex_cli, &["mcp", "list"], &codex_home);
    let n = runs(setup, 11);
    let pair = procs::alternate(
        &setup.bench_exe,
        &a,
        &b,
        n,
        !setup.smoke,
        &setup.work.join("row1-out"),
        &|_, stdout| expect_names(stdout, &names),
    )?;
    let commands = vec![a.display(), b.display()];
    let what = "cold `codex mcp list`, 50 servers (25 stdio, 25 http with bearer)";
    let labels = ("codex", "Codex CLI 0.169");
    let mut wall = RowResult::ratio(
        "1 wall",
        what,
        labels,
        procs::median_ms(&pair.a),
        procs::median_ms(&pair.b),
        "ms",
        0.5,
        false,
        n,
    )
    .paired(&walls(&pair.a), &walls(&pair.b));
    wall.detail = format!(
        "cold: a new process per run, same CODEX_HOME, no server running; after one untimed run of \
         each, so that both binaries are in the page cache (and Codex has made its \
         `$CODEX_HOME/tmp/arg0-linux`, as on a user's machine); wall from spawn to reaping; A {}, B {}",
        spread_ms(&pair.a),
        spread_ms(&pair.b)
    );
    wall.commands = commands.clone();
    let mut rss = RowResult::ratio(
        "1 rss",
        what,
        labels,
        procs::median_rss_mib(&pair.a),
        procs::median_rss_mib(&pair.b),
        "MiB",
        0.3,
        false,
        n,
    )
    .paired(&rsses(&pair.a), &rsses(&pair.b));
    rss.detail = format!(
        "peak RSS (wait4 ru_maxrss, through a small launcher process) of the same runs; A {}, B {}; {}",
        spread_mib(&pair.a),
        spread_mib(&pair.b),
        rss_floor(setup)
    );
    rss.commands = commands;
    Ok(vec![wall, rss])
}

fn row2(setup: &Setup) -> Result<Vec<RowResult>> {
    let delay = Duration::from_secs(1);
    let mut config = String::from("# 10 streamable HTTP servers whose OAuth discovery takes 1 s\n");
    let mut names = Vec::new();
    let mut servers = Vec::new();
    for i in 0..10 {
        let server = crate::slow_http::start(delay)?;
        let name = format!("slow_{i:02}");
        writeln!(config, "\n[mcp_servers.{name}]\nurl = \"{}\"", server.url)?;
        names.push(name);
        servers.push(server);
    }
    let codex_home = home(setup, "row2", &config)?;
    let a = cmd(setup, &setup.codex, &["mcp", "list"], &codex_home);
    let b = cmd(setup, &setup.codex_cli, &["mcp", "list"], &codex_home);
    let n = runs(setup, 5);
    let check = |_: bool, stdout: &str| -> Result<()> {
        expect_names(stdout, &names)?;
        let found = stdout.matches("Not logged in").count();
        if found != names.len() {
            bail!(
                "{found} of {} servers show `Not logged in`: the probe did not find their OAuth metadata",
                names.len()
            );
        }
        Ok(())
    };
    let pair = procs::alternate(
        &setup.bench_exe,
        &a,
        &b,
        n,
        !setup.smoke,
        &setup.work.join("row2-out"),
        &check,
    )?;
    let served: usize = servers
        .iter()
        .map(|s| s.served.load(std::sync::atomic::Ordering::Relaxed))
        .sum();
    let mut row = RowResult::ratio(
        "2",
        "`codex mcp list`, 10 http servers taking 1 s to answer discovery",
        ("codex", "Codex CLI 0.169"),
        procs::median_ms(&pair.a),
        procs::median_ms(&pair.b),
        "ms",
        0.2,
        false,
        n,
    )
    .paired(&walls(&pair.a), &walls(&pair.b));
    row.detail = format!(
        "each server answers `/.well-known/*` after 1 s (its MCP endpoint's 401 at once); \
         both show every server as `Not logged in`; A {}, B {}; {served} discovery documents served in all",
        spread_ms(&pair.a),
        spread_ms(&pair.b)
    );
    row.commands = vec![a.display(), b.display()];
    Ok(vec![row])
}

fn rounds_and_batch(setup: &Setup, rounds: usize, batch: usize) -> (usize, usize) {
    if setup.smoke { (1, 2) } else { (rounds, batch) }
}

fn spread_us(values: &[f64]) -> String {
    let (low, high) = range(values);
    format!("{low:.1}–{high:.1} µs")
}

fn rows3and5(setup: &Setup) -> Result<Vec<RowResult>> {
    let runtime = calls::host_runtime()?;
    let codex_home = setup.work.join("row3-home");
    std::fs::create_dir_all(&codex_home)?;
    let plugin = calls::plugin_path(&setup.plugin_dir, "codex_stdio");
    let demo = setup.demo_server.display().to_string();
    let (request, reply) = calls::capture_reply(&setup.demo_server, &[])?;

    let plugin_session = PluginSession::stdio(
        &runtime,
        &setup.plugin_dir,
        "demo",
        &setup.demo_server,
        &[],
        &codex_home,
    )?;
    let rmcp_session = runtime.block_on(calls::rmcp_stdio(&setup.demo_server, &[]))?;
    let mut pipe = calls::Pipe::spawn(&setup.bench_exe, &request, &reply)?;
    // The same two clients against a server that costs next to nothing
    // (`codex-bench mcp-echo`): what is left is the clients' own cost.
    let bench = setup.bench_exe.display().to_string();
    let fast_args = vec!["mcp-echo".to_string()];
    let fast_plugin = PluginSession::stdio(
        &runtime,
        &setup.plugin_dir,
        "fast",
        &setup.bench_exe,
        &fast_args,
        &codex_home,
    )?;
    let fast_rmcp = runtime.block_on(calls::rmcp_stdio(&setup.bench_exe, &fast_args))?;
    let (rounds, batch) = rounds_and_batch(setup, 21, 200);
    let timings = calls::measure(
        &runtime,
        &mut [
            Side::Session(&plugin_session.service),
            Side::Session(&rmcp_session),
            Side::Pipe(&mut pipe),
            Side::Session(&fast_plugin.service),
            Side::Session(&fast_rmcp),
        ],
        rounds,
        batch,
        !setup.smoke,
    );
    runtime.block_on(async {
        plugin_session.close().await;
        let _ = rmcp_session.cancel().await;
        fast_plugin.close().await;
        let _ = fast_rmcp.cancel().await;
    });
    drop(pipe);
    let timings = timings?;
    let [a, b, c, d, e] = [0, 1, 2, 3, 4].map(|i| median(&timings.per_call_us[i]));
    let t = &timings.per_call_us;
    let paired = |x: usize, y: usize| {
        let ratios: Vec<f64> = t[x].iter().zip(&t[y]).map(|(x, y)| x / y).collect();
        median(&ratios)
    };
    let fast = format!(
        "against a server that answers at once (`codex-bench mcp-echo`, blocking stdio, no runtime), \
         same rounds: plugin {d:.1} µs, rmcp {e:.1} µs per call, ratio {:.2}; that plugin round trip is {:.1}× the bare pipe",
        paired(3, 4),
        paired(3, 2)
    );
    let mut row3 = RowResult::ratio(
        "3",
        "one tool call on an open stdio connection through the plugin boundary",
        ("plugin (libcodex_stdio.so)", "in-process rmcp client"),
        a,
        b,
        "µs",
        1.10,
        false,
        rounds,
    )
    .paired(&timings.per_call_us[0], &timings.per_call_us[1]);
    row3.detail = format!(
        "`echo` on codex-demo-server, {batch} calls per batch, {rounds} rounds, sides in rotating order; \
         A: libcodex_stdio.so loaded with abi_stable and driven through the host's own adapter \
         (codex-mcp-client's transport module) on the host's runtime; \
         B: rmcp's TokioChildProcess on the same runtime; A−B = {:.1} µs per call; A {}, B {}; {fast}",
        a - b,
        spread_us(&timings.per_call_us[0]),
        spread_us(&timings.per_call_us[1])
    );
    row3.commands = vec![
        format!(
            "in process: {} loaded from {}",
            plugin.display(),
            setup.plugin_dir.display()
        ),
        format!("server: {demo}"),
    ];
    let mut row5 = RowResult::ratio(
        "5",
        "the stdio round trip of #3",
        ("plugin round trip", "bare pipe round trip"),
        a,
        c,
        "µs",
        2.0,
        true,
        rounds,
    )
    .paired(&timings.per_call_us[0], &timings.per_call_us[2]);
    row5.detail = format!(
        "the floor writes the same {} request bytes to a child (`codex-bench pipe-echo`) that answers \
         with the {} bytes codex-demo-server answers, blocking reads and writes; C {}; {fast}",
        request.len(),
        reply.len(),
        spread_us(&timings.per_call_us[2])
    );
    row5.commands = vec![
        format!("request line: {}", request.trim_end()),
        format!(
            "{} pipe-echo (reply: the server's line)",
            setup.bench_exe.display()
        ),
        format!("fast server: {bench} mcp-echo"),
    ];
    Ok(vec![row3, row5])
}

fn row4(setup: &Setup) -> Result<Vec<RowResult>> {
    let port = calls::free_port()?;
    let log = std::fs::File::create(setup.work.join("row4-server.log"))?;
    let mut server = Command::new(&setup.python)
        .arg(&setup.echo_server)
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", setup.python.display()))?;
    let outcome = (|| -> Result<Vec<RowResult>> {
        calls::wait_for_port(port, Duration::from_secs(20))?;
        let url = format!("http://127.0.0.1:{port}/mcp");
        let runtime = calls::host_runtime()?;
        let codex_home = setup.work.join("row4-home");
        std::fs::create_dir_all(&codex_home)?;
        let plugin = calls::plugin_path(&setup.plugin_dir, "codex_streamable_http");
        let module = calls::load_plugin(&plugin)?;
        let table: toml::Value = toml::from_str(&format!("url = {}", toml_string(&url)))?;
        let plugin_session = runtime.block_on(PluginSession::connect(
            module,
            "streamable-http",
            "py",
            table,
            calls::host_lifecycle(true),
            &codex_home,
        ))?;
        let rmcp_session = runtime.block_on(calls::rmcp_http(&url))?;
        let protocols = (
            calls::protocol_of(&plugin_session.service),
            calls::protocol_of(&rmcp_session),
        );
        let (rounds, batch) = rounds_and_batch(setup, 21, 40);
        let timings = if protocols.0 == protocols.1 {
            calls::measure(
                &runtime,
                &mut [
                    Side::Session(&plugin_session.service),
                    Side::Session(&rmcp_session),
                ],
                rounds,
                batch,
                !setup.smoke,
            )
        } else {
            Err(anyhow!(
                "the sessions speak different revisions (plugin {}, rmcp {}): not comparable",
                protocols.0,
                protocols.1
            ))
        };
        runtime.block_on(async {
            plugin_session.close().await;
            let _ = rmcp_session.cancel().await;
        });
        let timings = timings?;
        let [a, b] = [0, 1].map(|i| median(&timings.per_call_us[i]));
        let mut row = RowResult::ratio(
            "4",
            "one tool call over streamable HTTP on 127.0.0.1 through the plugin boundary",
            (
                "plugin (libcodex_streamable_http.so)",
                "in-process rmcp HTTP client",
            ),
            a,
            b,
            "µs",
            1.10,
            false,
            rounds,
        )
        .paired(&timings.per_call_us[0], &timings.per_call_us[1]);
        row.detail = format!(
            "`echo` on the Python MCP SDK server (tests/python/echo_server.py, SSE answers), MCP {} on both \
             sides (server/discover first, as the host does); {batch} calls per batch, {rounds} rounds, \
             alternating; A: the plugin through the host's adapter, B: rmcp's StreamableHttpClientTransport \
             (reqwest); A−B = {:.1} µs per call; A {}, B {}",
            protocols.0,
            a - b,
            spread_us(&timings.per_call_us[0]),
            spread_us(&timings.per_call_us[1])
        );
        row.commands = vec![
            format!(
                "in process: {} loaded from {}",
                plugin.display(),
                setup.plugin_dir.display()
            ),
            format!(
                "server: {} {} {port}",
                setup.python.display(),
                setup.echo_server.display()
            ),
        ];
        Ok(vec![row])
    })();
    let _ = server.kill();
    let _ = server.wait();
    outcome
}

fn stdio_servers(setup: &Setup, count: usize) -> (String, Vec<String>) {
    let mut config = format!("# {count} stdio servers that take 200 ms to start\n");
    let mut names = Vec::new();
    for i in 0..count {
        let name = format!("slow_start_{i:02}");
        let _ = writeln!(
            config,
            "\n[mcp_servers.{name}]\ncommand = {}\nargs = [\"--startup-delay-ms\", \"200\", \"--name\", \"{name}\"]",
            toml_string(&setup.demo_server.display().to_string())
        );
        names.push(name);
    }
    (config, names)
}

fn rows6and8(setup: &Setup) -> Result<Vec<RowResult>> {
    let (config20, names20) = stdio_servers(setup, 20);
    let (config1, names1) = stdio_servers(setup, 1);
    let home20 = home(setup, "row6-20", &config20)?;
    let home1 = home(setup, "row6-1", &config1)?;
    let a = cmd(setup, &setup.codex, &["mcp", "tools"], &home20);
    let b = cmd(setup, &setup.codex, &["mcp", "tools"], &home1);
    let n = runs(setup, 11);
    let pair: Pair = procs::alternate(
        &setup.bench_exe,
        &a,
        &b,
        n,
        !setup.smoke,
        &setup.work.join("row6-out"),
        &|is_a, stdout| {
            let names = if is_a { &names20 } else { &names1 };
            expect_names(stdout, names)?;
            if stdout.matches(" echo ").count() < names.len() {
                bail!("not every server listed its `echo` tool");
            }
            Ok(())
        },
    )?;
    let commands = vec![a.display(), b.display()];
    let mut row6 = RowResult::ratio(
        "6",
        "`codex mcp tools` over 20 stdio servers that each take 200 ms to start",
        ("20 servers", "1 server"),
        procs::median_ms(&pair.a),
        procs::median_ms(&pair.b),
        "ms",
        1.3,
        false,
        n,
    )
    .paired(&walls(&pair.a), &walls(&pair.b));
    row6.detail = format!(
        "codex-demo-server --startup-delay-ms 200; A {}, B {}",
        spread_ms(&pair.a),
        spread_ms(&pair.b)
    );
    row6.commands = commands.clone();
    let rss20 = procs::median_rss_mib(&pair.a);
    let rss1 = procs::median_rss_mib(&pair.b);
    let per_server = (rss20 - rss1) / 19.0;
    let row8 = RowResult {
        id: "8".into(),
        what: "peak RSS of `codex mcp tools` over 20 servers, per server".into(),
        a_label: "20 servers".into(),
        b_label: "1 server".into(),
        a: rss20,
        b: rss1,
        unit: "MiB".into(),
        figure: per_server,
        ratio_of_medians: rss20 / rss1,
        figure_unit: "MiB/server".into(),
        target: 2.0,
        aim: true,
        met: per_server <= 2.0,
        samples: n,
        detail: format!(
            "(A − B) / 19 from the runs of row 6; peak RSS is wait4's ru_maxrss of the codex process \
             (the largest of it and the servers it reaped, which are smaller), not a sum, taken \
             through a small launcher process; A {}, B {}; {}",
            spread_mib(&pair.a),
            spread_mib(&pair.b),
            rss_floor(setup)
        ),
        commands,
    };
    Ok(vec![row6, row8])
}

fn row7(setup: &Setup) -> Result<Vec<RowResult>> {
    let codex_home = home(setup, "row7", "")?;
    let a = cmd(setup, &setup.codex, &["plugin", "list"], &codex_home);
    let b = cmd(setup, &setup.codex, &["--version"], &codex_home);
    let n = runs(setup, 21);
    let pair = procs::alternate(
        &setup.bench_exe,
        &a,
        &b,
        n,
        !setup.smoke,
        &setup.work.join("row7-out"),
        &|is_a, stdout| {
            if is_a {
                for plugin in ["stdio", "streamable_http", "oauth", "file"] {
                    if !stdout.contains(plugin) {
                        bail!("`plugin list` does not show the {plugin} plugin");
                    }
                }
                if stdout.contains("refused") || stdout.contains("incompatible") {
                    bail!("a plugin was not loaded");
                }
            }
            Ok(())
        },
    )?;
    let mut row = RowResult::ratio(
        "7",
        "`codex plugin list` (all plugins loaded)",
        ("plugin list", "--version"),
        procs::median_ms(&pair.a),
        procs::median_ms(&pair.b),
        "ms",
        1.5,
        true,
        n,
    )
    .paired(&walls(&pair.a), &walls(&pair.b));
    row.detail = format!(
        "plugins: every library next to codex ({}); A {}, B {}",
        list_plugins(&setup.plugin_dir).join(", "),
        spread_ms(&pair.a),
        spread_ms(&pair.b)
    );
    row.commands = vec![a.display(), b.display()];
    Ok(vec![row])
}

fn expect_nothing(_: bool, _: &str) -> Result<()> {
    Ok(())
}

/// `codex sandbox -- true` (read-only) against the Codex CLI's own, and
/// against ours without a sandbox (`danger-full-access`: the same process
/// minus the sandbox), whose difference is the sandbox's own cost.
fn row9(setup: &Setup) -> Result<Vec<RowResult>> {
    let codex_home = home(setup, "row9", "")?;
    let ours = cmd(setup, &setup.codex, &["sandbox", "--", "true"], &codex_home);
    let theirs = cmd(
        setup,
        &setup.codex_cli,
        &["sandbox", "--", "true"],
        &codex_home,
    );
    let bare = cmd(
        setup,
        &setup.codex,
        &["sandbox", "--mode", "danger-full-access", "--", "true"],
        &codex_home,
    );
    let n = runs(setup, 21);
    let out = setup.work.join("row9-out");
    let vs_codex = procs::alternate(
        &setup.bench_exe,
        &ours,
        &theirs,
        n,
        !setup.smoke,
        &out,
        &expect_nothing,
    )?;
    let mut wall = RowResult::ratio(
        "9 wall",
        "`codex sandbox -- true` (read-only)",
        ("codex", "Codex CLI"),
        procs::median_ms(&vs_codex.a),
        procs::median_ms(&vs_codex.b),
        "ms",
        0.5,
        false,
        n,
    )
    .paired(&walls(&vs_codex.a), &walls(&vs_codex.b));
    wall.detail = format!("A {}, B {}", spread_ms(&vs_codex.a), spread_ms(&vs_codex.b));
    wall.commands = vec![ours.display(), theirs.display()];

    let cost = procs::alternate(
        &setup.bench_exe,
        &ours,
        &bare,
        n,
        !setup.smoke,
        &out,
        &expect_nothing,
    )?;
    let sandboxed = walls(&cost.a);
    let unsandboxed = walls(&cost.b);
    let differences: Vec<f64> = sandboxed
        .iter()
        .zip(&unsandboxed)
        .map(|(a, b)| (a - b) * 1e3)
        .collect();
    let own_cost = median(&differences);
    let a = procs::median_ms(&cost.a);
    let b = procs::median_ms(&cost.b);
    let row = RowResult {
        id: "9 cost".into(),
        what: "the sandbox's own cost: `codex sandbox -- true` minus the same without a sandbox"
            .into(),
        a_label: "read-only".into(),
        b_label: "danger-full-access".into(),
        a,
        b,
        unit: "ms".into(),
        figure: own_cost,
        ratio_of_medians: a / b,
        figure_unit: "ms".into(),
        target: 2.0,
        aim: true,
        met: own_cost <= 2.0,
        samples: n,
        detail: format!(
            "median of the per-pair differences; A {}, B {}",
            spread_ms(&cost.a),
            spread_ms(&cost.b)
        ),
        commands: vec![ours.display(), bare.display()],
    };
    Ok(vec![wall, row])
}

/// `codex mcp tools` of one stdio server started in a workspace-write
/// sandbox, against the same server unsandboxed.
fn row10(setup: &Setup) -> Result<Vec<RowResult>> {
    let server = |sandbox: &str| {
        format!(
            "[mcp_servers.demo]\ncommand = {}\n{sandbox}\n",
            toml_string(&setup.demo_server.display().to_string())
        )
    };
    let sandboxed = home(
        setup,
        "row10-sandboxed",
        &server("sandbox = \"workspace-write\""),
    )?;
    let plain = home(setup, "row10-plain", &server(""))?;
    let a = cmd(setup, &setup.codex, &["mcp", "tools"], &sandboxed);
    let b = cmd(setup, &setup.codex, &["mcp", "tools"], &plain);
    let n = runs(setup, 21);
    let pair = procs::alternate(
        &setup.bench_exe,
        &a,
        &b,
        n,
        !setup.smoke,
        &setup.work.join("row10-out"),
        &|_, stdout| {
            if !stdout.contains("echo") {
                bail!("the server did not list its `echo` tool");
            }
            Ok(())
        },
    )?;
    let mut row = RowResult::ratio(
        "10",
        "start and list tools of a stdio server in a workspace-write sandbox",
        ("sandboxed", "unsandboxed"),
        procs::median_ms(&pair.a),
        procs::median_ms(&pair.b),
        "ms",
        1.10,
        false,
        n,
    )
    .paired(&walls(&pair.a), &walls(&pair.b));
    row.detail = format!("A {}, B {}", spread_ms(&pair.a), spread_ms(&pair.b));
    row.commands = vec![a.display(), b.display()];
    Ok(vec![row])
}

/// The plugin libraries in `dir`.
pub fn list_plugins(dir: &Path) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with("libcodex_") && name.ends_with(".so"))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}
