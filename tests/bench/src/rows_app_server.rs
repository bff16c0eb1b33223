//! Rows 11–14: `codex app-server` against Codex 0.169's `codex app-server`,
//! both driven as an IDE drives them: JSON-RPC without `"jsonrpc"`, one
//! object per line on stdio.
//!
//! - 11: from spawning the app-server to its `initialize` response;
//!   target ≤ 0.20.
//! - 12: `mcpServerStatus/list` over 20 stdio servers, from the request
//!   (after `initialize` and `initialized`) to its response, which must
//!   list every server with its tools; target ≤ 0.50.
//! - 13: the app-server's peak RSS (VmHWM) at the end of row 12's session;
//!   target ≤ 0.30.
//! - 14: `mcpServer/tool/call` on an open connection (warmed by a first
//!   call) against the in-process call of row 3, the plugin call `codex mcp
//!   call` makes: Codex's app-server refuses a call without a thread of its
//!   agent (`thread/start`), which ours does not have; Codex's call on such a
//!   thread is measured beside them and reported. Target ≤ 1.10.
//!
//! The two sides alternate in rotating order (whole sessions for 11–13,
//! batches of calls for 14), and each figure is the median of the paired
//! ratios, so that drift of the machine's load hits both.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use crate::calls::{self, PluginSession};
use crate::procs;
use crate::rows::{RowResult, Setup, env_for, home, runs};
use crate::stats::{median, range, rotation};

/// Row ids of this module.
pub const ROWS: [&str; 4] = ["11", "12", "13", "14"];

/// How long one answer may take before the row gives up.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);
/// Servers of rows 12 and 13.
const SERVERS: usize = 20;
/// The thread id ours is given: it has no threads and takes any id.
const OUR_THREAD: &str = "00000000-0000-4000-8000-000000000014";

/// The rows of `wanted` among 11–14.
pub fn run(setup: &Setup, wanted: &dyn Fn(&str) -> bool) -> Vec<(String, Result<Vec<RowResult>>)> {
    let mut outcomes = Vec::new();
    if wanted("11") {
        eprintln!("bench: row 11 (app-server: spawn to the initialize response, vs Codex CLI)");
        outcomes.push(("11".to_string(), row11(setup)));
    }
    if wanted("12") || wanted("13") {
        eprintln!(
            "bench: rows 12 and 13 (app-server: mcpServerStatus/list over 20 stdio servers and peak RSS, vs Codex CLI)"
        );
        outcomes.push(("12/13".to_string(), rows12and13(setup)));
    }
    if wanted("14") {
        eprintln!(
            "bench: row 14 (app-server: mcpServer/tool/call on an open connection vs the in-process call)"
        );
        outcomes.push(("14".to_string(), row14(setup)));
    }
    outcomes
}

/// Which app-server a session runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Peer {
    Ours,
    Codex,
}

impl Peer {
    fn label(self) -> &'static str {
        match self {
            Peer::Ours => "codex app-server",
            Peer::Codex => "Codex CLI 0.169 app-server",
        }
    }

    /// For file names.
    fn slug(self) -> &'static str {
        match self {
            Peer::Ours => "ours",
            Peer::Codex => "codex",
        }
    }

    fn program(self, setup: &Setup) -> &Path {
        match self {
            Peer::Ours => &setup.codex,
            Peer::Codex => &setup.codex_cli,
        }
    }

    /// The command line as the report shows it.
    fn command(self, setup: &Setup, codex_home: &Path) -> String {
        format!(
            "CODEX_HOME={} {} app-server",
            codex_home.display(),
            self.program(setup).display()
        )
    }
}

/// One app-server process on pipes. Lines are read on the calling thread
/// (poll, then read), so that an answer's time is when its line arrived,
/// with no thread hand-off in it.
struct AppServer {
    peer: Peer,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    /// Bytes read and not yet split into lines.
    pending: Vec<u8>,
    /// How far `pending` is known to hold no newline.
    scanned: usize,
    chunk: Vec<u8>,
    stderr: PathBuf,
    next_id: i64,
}

impl AppServer {
    /// Spawns `peer`'s `app-server` on `codex_home`, with the environment
    /// of every whole-process row; its stderr goes to
    /// `WORK/<log>-ours.stderr` or `WORK/<log>-codex.stderr`.
    fn spawn(setup: &Setup, peer: Peer, codex_home: &Path, log: &str) -> Result<AppServer> {
        let stderr = setup.work.join(format!("{log}-{}.stderr", peer.slug()));
        let mut child = Command::new(peer.program(setup))
            .arg("app-server")
            .env_clear()
            .envs(env_for(setup, codex_home))
            .current_dir(&setup.work)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr)?)
            .spawn()
            .with_context(|| {
                format!("cannot start {} app-server", peer.program(setup).display())
            })?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("{} has no stdout pipe", peer.label()))?;
        Ok(AppServer {
            peer,
            child,
            stdin,
            stdout,
            pending: Vec::new(),
            scanned: 0,
            chunk: vec![0; 64 * 1024],
            stderr,
            next_id: 0,
        })
    }

    fn send(&mut self, message: &Value) -> Result<()> {
        let mut line = message.to_string();
        line.push('\n');
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| anyhow!("{}: stdin already closed", self.peer.label()))?;
        stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.flush())
            .with_context(|| {
                format!(
                    "writing to {} (its stderr: {})",
                    self.peer.label(),
                    self.stderr.display()
                )
            })
    }

    /// Sends request `method` and returns its id.
    fn request(&mut self, method: &str, params: Value) -> Result<i64> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"id": id, "method": method, "params": params}))?;
        Ok(id)
    }

    /// The next line, parsed, and when it arrived.
    fn line(&mut self, deadline: Instant) -> Result<(Value, Instant)> {
        loop {
            if let Some(offset) = self.pending[self.scanned..]
                .iter()
                .position(|b| *b == b'\n')
            {
                let arrived = Instant::now();
                let end = self.scanned + offset;
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                self.scanned = 0;
                let text = String::from_utf8_lossy(&line);
                let text = text.trim();
                if text.is_empty() {
                    continue;
                }
                let value = serde_json::from_str(text).with_context(|| {
                    format!(
                        "{} wrote a line that is not JSON: {text}",
                        self.peer.label()
                    )
                })?;
                return Ok((value, arrived));
            }
            self.scanned = self.pending.len();
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!(
                    "{} did not answer within {ANSWER_TIMEOUT:?} (its stderr: {})",
                    self.peer.label(),
                    self.stderr.display()
                );
            }
            let mut poll = libc::pollfd {
                fd: self.stdout.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let wait_ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX).max(1);
            // SAFETY: one pollfd on a descriptor this struct owns.
            let ready = unsafe { libc::poll(&mut poll, 1, wait_ms) };
            if ready < 0 {
                let error = std::io::Error::last_os_error();
                if error.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(error).context("poll on the app-server's stdout");
            }
            if ready == 0 {
                continue;
            }
            let read = self.stdout.read(&mut self.chunk)?;
            if read == 0 {
                let status = self.child.try_wait().ok().flatten();
                bail!(
                    "{} closed its stdout (exit: {}); its stderr: {}",
                    self.peer.label(),
                    status.map_or("still running".to_string(), |s| s.to_string()),
                    self.stderr.display()
                );
            }
            self.pending.extend_from_slice(&self.chunk[..read]);
        }
    }

    /// The result of request `id`, and when its answer arrived; skips
    /// notifications, fails on an error answer or a request to the client.
    fn result(&mut self, id: i64) -> Result<(Value, Instant)> {
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            let (message, arrived) = self.line(deadline)?;
            if message.get("id") == Some(&json!(id)) && message.get("method").is_none() {
                if let Some(error) = message.get("error") {
                    bail!(
                        "{} answered request {id} with an error: {error}",
                        self.peer.label()
                    );
                }
                let result = message.get("result").cloned().ok_or_else(|| {
                    anyhow!("{} answered without a result: {message}", self.peer.label())
                })?;
                return Ok((result, arrived));
            }
            if message.get("id").is_some()
                && let Some(method) = message.get("method")
            {
                bail!(
                    "{} asked the client {method}, which the benchmark does not answer",
                    self.peer.label()
                );
            }
        }
    }

    /// `initialize` (checked: it names `codex_home`), then `initialized`.
    fn initialize(&mut self, codex_home: &Path) -> Result<Instant> {
        let id = self.request(
            "initialize",
            json!({"clientInfo": {"name": "bench", "title": null, "version": "1"}}),
        )?;
        let (result, arrived) = self.result(id)?;
        let expected = codex_home.display().to_string();
        if result.get("codexHome").and_then(Value::as_str) != Some(expected.as_str()) {
            bail!(
                "{}'s initialize response does not name CODEX_HOME {expected}: {result}",
                self.peer.label()
            );
        }
        self.send(&json!({"method": "initialized"}))?;
        Ok(arrived)
    }

    /// One `echo` call on `server`; checks the echoed text.
    fn call_echo(&mut self, thread: &str, server: &str) -> Result<()> {
        let id = self.request(
            "mcpServer/tool/call",
            json!({
                "threadId": thread,
                "server": server,
                "tool": "echo",
                "arguments": {"message": calls::MESSAGE},
            }),
        )?;
        let (result, _) = self.result(id)?;
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        if result.get("isError") == Some(&Value::Bool(true)) || !text.contains(calls::MESSAGE) {
            bail!("{}'s echo call answered {result}", self.peer.label());
        }
        Ok(())
    }

    /// The process's high-water mark of resident memory, in MiB.
    fn peak_rss_mib(&self) -> Result<f64> {
        let kib = procs::peak_rss_kib(self.child.id())
            .with_context(|| format!("the peak RSS of {}", self.peer.label()))?;
        Ok(kib as f64 / 1024.0)
    }
}

impl Drop for AppServer {
    /// Closes stdin, which ends both app-servers (and with them their MCP
    /// servers), then kills what is left after 10 s.
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spread(values: &[f64], unit: &str) -> String {
    let (low, high) = range(values);
    format!("{low:.1}–{high:.1} {unit}")
}

fn paired_row(id: &str, what: &str, samples: &[Vec<f64>; 2], unit: &str, target: f64) -> RowResult {
    RowResult::ratio(
        id,
        what,
        (Peer::Ours.label(), Peer::Codex.label()),
        median(&samples[0]),
        median(&samples[1]),
        unit,
        target,
        false,
        samples[0].len(),
    )
    .paired(&samples[0], &samples[1])
}

const PEERS: [Peer; 2] = [Peer::Ours, Peer::Codex];

fn row11(setup: &Setup) -> Result<Vec<RowResult>> {
    let codex_home = home(setup, "row11", "")?;
    let n = runs(setup, 21);
    let once = |peer: Peer| -> Result<f64> {
        let started = Instant::now();
        let mut server = AppServer::spawn(setup, peer, &codex_home, "row11")?;
        let arrived = server.initialize(&codex_home)?;
        Ok((arrived - started).as_secs_f64() * 1e3)
    };
    if !setup.smoke {
        // Both binaries in the page cache, and Codex's first-run files made.
        for peer in PEERS {
            once(peer)?;
        }
    }
    let mut ms = [Vec::with_capacity(n), Vec::with_capacity(n)];
    for run in 0..n {
        for side in rotation(run, 2) {
            ms[side].push(once(PEERS[side])?);
        }
    }
    let mut row = paired_row(
        "11",
        "`codex app-server`: from spawning it to its `initialize` response",
        &ms,
        "ms",
        0.20,
    );
    row.detail = format!(
        "a new process per run on an empty config.toml, `initialize` written at once after the \
         spawn, the time taken when its answer's line arrives; after one untimed run of each; \
         A {}, B {}",
        spread(&ms[0], "ms"),
        spread(&ms[1], "ms")
    );
    row.commands = PEERS
        .iter()
        .map(|peer| peer.command(setup, &codex_home))
        .collect();
    Ok(vec![row])
}

/// The config of `count` demo servers named `demo00`, `demo01`...
fn demo_servers(setup: &Setup, count: usize) -> (String, Vec<String>) {
    let program = toml::Value::String(setup.demo_server.display().to_string());
    let mut config = String::new();
    let mut names = Vec::new();
    for i in 0..count {
        let name = format!("demo{i:02}");
        config.push_str(&format!(
            "[mcp_servers.{name}]\ncommand = {program}\nargs = [\"--name\", \"{name}\"]\n\n"
        ));
        names.push(name);
    }
    (config, names)
}

/// Checks that a `mcpServerStatus/list` result lists every one of `names`
/// with its `echo` tool (so the server was started and asked).
fn check_status(peer: Peer, result: &Value, names: &[String]) -> Result<()> {
    let data = result["data"]
        .as_array()
        .ok_or_else(|| anyhow!("{}: no `data` list in {result}", peer.label()))?;
    for name in names {
        let entry = data
            .iter()
            .find(|entry| entry["name"].as_str() == Some(name.as_str()))
            .ok_or_else(|| anyhow!("{}'s status list does not name {name}", peer.label()))?;
        if entry["tools"].get("echo").is_none() {
            bail!(
                "{}'s status of {name} lists no `echo` tool: {entry}",
                peer.label()
            );
        }
    }
    if data.len() != names.len() {
        bail!(
            "{} lists {} servers, {} are configured",
            peer.label(),
            data.len(),
            names.len()
        );
    }
    Ok(())
}

fn rows12and13(setup: &Setup) -> Result<Vec<RowResult>> {
    let (config, names) = demo_servers(setup, SERVERS);
    let codex_home = home(setup, "row12", &config)?;
    let n = runs(setup, 11);
    let once = |peer: Peer| -> Result<(f64, f64)> {
        let mut server = AppServer::spawn(setup, peer, &codex_home, "row12")?;
        server.initialize(&codex_home)?;
        let asked = Instant::now();
        let id = server.request("mcpServerStatus/list", json!({}))?;
        let (result, arrived) = server.result(id)?;
        let ms = (arrived - asked).as_secs_f64() * 1e3;
        check_status(peer, &result, &names)?;
        Ok((ms, server.peak_rss_mib()?))
    };
    if !setup.smoke {
        for peer in PEERS {
            once(peer)?;
        }
    }
    let mut ms = [Vec::with_capacity(n), Vec::with_capacity(n)];
    let mut mib = [Vec::with_capacity(n), Vec::with_capacity(n)];
    for run in 0..n {
        for side in rotation(run, 2) {
            let (time, rss) = once(PEERS[side])?;
            ms[side].push(time);
            mib[side].push(rss);
        }
    }
    let commands: Vec<String> = PEERS
        .iter()
        .map(|peer| peer.command(setup, &codex_home))
        .collect();
    let mut row12 = paired_row(
        "12",
        "`mcpServerStatus/list` over 20 stdio servers, from the request to its response",
        &ms,
        "ms",
        0.50,
    );
    row12.detail = format!(
        "a new app-server per run, after `initialize` and `initialized`; {SERVERS} codex-demo-server \
         processes, none started before the request; the answer lists every server with its `echo` \
         tool; after one untimed run of each; A {}, B {}",
        spread(&ms[0], "ms"),
        spread(&ms[1], "ms")
    );
    row12.commands = commands.clone();
    let mut row13 = paired_row(
        "13",
        "peak RSS of the app-server during row 12's session (20 stdio servers)",
        &mib,
        "MiB",
        0.30,
    );
    row13.detail = format!(
        "VmHWM of the app-server process once `mcpServerStatus/list` has answered (its MCP servers' \
         own processes not counted), same runs as row 12; A {}, B {}",
        spread(&mib[0], "MiB"),
        spread(&mib[1], "MiB")
    );
    row13.commands = commands;
    Ok(vec![row12, row13])
}

/// A side of row 14, and the per-call times of its rounds.
enum CallSide<'a> {
    /// An app-server and the thread id its calls name.
    AppServer(AppServer, String),
    /// The in-process plugin session of row 3.
    InProcess(&'a PluginSession),
}

impl CallSide<'_> {
    /// The time of each of `batch` calls, in µs.
    fn batch(&mut self, runtime: &tokio::runtime::Runtime, batch: usize) -> Result<Vec<f64>> {
        let mut times = Vec::with_capacity(batch);
        match self {
            CallSide::AppServer(server, thread) => {
                for _ in 0..batch {
                    let started = Instant::now();
                    server.call_echo(thread, "demo")?;
                    times.push(started.elapsed().as_secs_f64() * 1e6);
                }
            }
            // One `block_on` per batch, as row 3 runs it.
            CallSide::InProcess(session) => runtime.block_on(async {
                for _ in 0..batch {
                    let started = Instant::now();
                    calls::call_echo(&session.service).await?;
                    times.push(started.elapsed().as_secs_f64() * 1e6);
                }
                Ok::<_, anyhow::Error>(())
            })?,
        }
        Ok(times)
    }
}

/// Codex's app-server with a thread of its agent, or why there is none.
fn codex_with_thread(setup: &Setup, codex_home: &Path) -> Result<CallSide<'static>> {
    let mut codex = AppServer::spawn(setup, Peer::Codex, codex_home, "row14")?;
    codex.initialize(codex_home)?;
    let id = codex.request("thread/start", json!({"ephemeral": true}))?;
    let (result, _) = codex.result(id)?;
    let thread = result["thread"]["id"]
        .as_str()
        .ok_or_else(|| anyhow!("thread/start answered no thread id: {result}"))?
        .to_string();
    Ok(CallSide::AppServer(codex, thread))
}

fn row14(setup: &Setup) -> Result<Vec<RowResult>> {
    let runtime = calls::host_runtime()?;
    let program = toml::Value::String(setup.demo_server.display().to_string());
    let codex_home = home(
        setup,
        "row14",
        &format!("[mcp_servers.demo]\ncommand = {program}\n"),
    )?;
    let plugin = calls::plugin_path(&setup.plugin_dir, "codex_stdio");
    let in_process = PluginSession::stdio(
        &runtime,
        &setup.plugin_dir,
        "demo",
        &setup.demo_server,
        &[],
        &codex_home,
    )?;
    let outcome = (|| -> Result<Vec<RowResult>> {
        let mut ours = AppServer::spawn(setup, Peer::Ours, &codex_home, "row14")?;
        ours.initialize(&codex_home)?;
        let mut sides = vec![
            CallSide::AppServer(ours, OUR_THREAD.to_string()),
            CallSide::InProcess(&in_process),
        ];
        let codex_note = match codex_with_thread(setup, &codex_home) {
            Ok(codex) => {
                sides.push(codex);
                None
            }
            Err(error) => Some(format!("{error:#}")),
        };
        // The first call opens the server's session in each app-server.
        for side in &mut sides {
            side.batch(&runtime, 1)?;
        }
        let (rounds, batch) = if setup.smoke { (1, 2) } else { (21, 40) };
        if !setup.smoke {
            for side in &mut sides {
                side.batch(&runtime, batch)?;
            }
        }
        // [side][round]: the median call of the round's batch.
        let mut per_call = vec![Vec::with_capacity(rounds); sides.len()];
        for round in 0..rounds {
            for index in rotation(round, sides.len()) {
                let times = sides[index].batch(&runtime, batch)?;
                per_call[index].push(median(&times));
            }
        }
        drop(sides);
        let mut row = RowResult::ratio(
            "14",
            "`mcpServer/tool/call` on an open connection vs `codex mcp call`'s in-process call",
            ("codex app-server", "in-process plugin call (row 3)"),
            median(&per_call[0]),
            median(&per_call[1]),
            "µs",
            1.10,
            false,
            rounds,
        )
        .paired(&per_call[0], &per_call[1]);
        let codex = match (&codex_note, per_call.get(2)) {
            (None, Some(theirs)) => {
                let ratios: Vec<f64> = per_call[0].iter().zip(theirs).map(|(a, c)| a / c).collect();
                format!(
                    "Codex CLI 0.169's app-server, on a thread from `thread/start` (it refuses a \
                     call without one), measured in the same rounds: {:.0} µs per call ({}), ours/Codex {:.2}",
                    median(theirs),
                    spread(theirs, "µs"),
                    median(&ratios)
                )
            }
            _ => format!(
                "Codex CLI 0.169's app-server could not be measured: {}",
                codex_note.as_deref().unwrap_or("no samples")
            ),
        };
        row.detail = format!(
            "`echo` of codex-demo-server; A: `mcpServer/tool/call` to `codex app-server` over stdio \
             (threadId {OUR_THREAD}: ours has no threads and takes any), each call's time from writing \
             its line to its answer's line arriving; B: the plugin call of row 3 (libcodex_stdio.so \
             through the host's adapter, in process); after a first call on each and one untimed batch; \
             {batch} calls per batch, {rounds} rounds, sides in rotating order, the median call of each \
             batch; A {}, B {}; {codex}",
            spread(&per_call[0], "µs"),
            spread(&per_call[1], "µs")
        );
        row.commands = vec![
            format!(
                "{}  then: {{\"id\":N,\"method\":\"mcpServer/tool/call\",\"params\":{{\"threadId\":\"{OUR_THREAD}\",\"server\":\"demo\",\"tool\":\"echo\",\"arguments\":{{\"message\":\"{}\"}}}}}}",
                Peer::Ours.command(setup, &codex_home),
                calls::MESSAGE
            ),
            format!(
                "in process: {} loaded from {}, server {}",
                plugin.display(),
                setup.plugin_dir.display(),
                setup.demo_server.display()
            ),
            format!(
                "{}  then: thread/start {{\"ephemeral\":true}}, the same call with its thread id",
                Peer::Codex.command(setup, &codex_home)
            ),
        ];
        Ok(vec![row])
    })();
    runtime.block_on(in_process.close());
    outcome
}
