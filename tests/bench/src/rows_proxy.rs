//! Row 18: what `codex-responses-api-proxy` adds to a streamed answer.
//!
//! One small upstream on 127.0.0.1 streams a Responses-style answer (server
//! sent events, a millisecond apart, chunked). Three sides ask it the same
//! request, alternating in rotating order each round: directly, through our
//! proxy, and through Codex CLI 0.169's `codex responses-api-proxy`. Each
//! side's round is the median of a batch of requests, each on a new
//! connection (as a client of the proxy makes them); the added latency of a
//! round is the proxy's median minus the direct one, and the row's figure is
//! the median of those per-round differences.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use crate::rows::{RowResult, Setup, env_for, home, runs};
use crate::stats::{median, range, rotation};

/// Events in one streamed answer, and the pause between two of them.
const EVENTS: usize = 8;
const EVENT_GAP: Duration = Duration::from_millis(1);
/// Every event but the last carries this; the last carries [`LAST_EVENT`].
const FIRST_EVENT: &[u8] = b"\"seq\":0}\n\n";
const LAST_EVENT: &[u8] = b"\"done\":true}\n\n";
/// The key both proxies read from stdin (the upstream does not check it).
const KEY: &str = "sk-bench-0123456789abcdef";

pub fn row18(setup: &Setup) -> Result<Vec<RowResult>> {
    let upstream = Upstream::start()?;
    let upstream_url = format!("http://127.0.0.1:{}/v1/responses", upstream.port);
    let ours_program = setup
        .codex
        .parent()
        .map(|dir| dir.join("codex-responses-api-proxy"))
        .ok_or_else(|| anyhow!("{} has no directory", setup.codex.display()))?;
    let codex_home = home(setup, "row18", "")?;
    let ours = Proxy::start(
        setup,
        &ours_program,
        &[],
        &upstream_url,
        &codex_home,
        "ours",
    )?;
    let theirs = Proxy::start(
        setup,
        &setup.codex_cli,
        &["responses-api-proxy"],
        &upstream_url,
        &codex_home,
        "codex-cli",
    )?;

    let rounds = runs(setup, 21);
    let batch = if setup.smoke { 2 } else { 20 };
    let ports = [upstream.port, ours.port, theirs.port];
    if !setup.smoke {
        for port in ports {
            for _ in 0..batch {
                request(port)?;
            }
        }
    }
    // [side][round] = (first, last) medians of the batch, in ms.
    let mut medians = vec![Vec::with_capacity(rounds); ports.len()];
    for round in 0..rounds {
        for side in rotation(round, ports.len()) {
            let mut firsts = Vec::with_capacity(batch);
            let mut lasts = Vec::with_capacity(batch);
            for _ in 0..batch {
                let timing = request(ports[side])?;
                firsts.push(timing.first_event.as_secs_f64() * 1e3);
                lasts.push(timing.last_event.as_secs_f64() * 1e3);
            }
            medians[side].push((median(&firsts), median(&lasts)));
        }
    }
    let ours_rss = ours.peak_rss_mib()?;
    let theirs_rss = theirs.peak_rss_mib()?;
    ours.stop();
    theirs.stop();

    let pick = |side: usize, last: bool| -> Vec<f64> {
        medians[side]
            .iter()
            .map(|(first, end)| if last { *end } else { *first })
            .collect()
    };
    let added = |side: usize, last: bool| -> Vec<f64> {
        pick(side, last)
            .iter()
            .zip(pick(0, last))
            .map(|(proxied, direct)| proxied - direct)
            .collect()
    };
    let command = format!(
        "printf %s \"$KEY\" | {} --server-info FILE --http-shutdown --upstream-url {upstream_url}",
        ours_program.display()
    );
    let their_command = format!(
        "printf %s \"$KEY\" | {} responses-api-proxy --server-info FILE --http-shutdown --upstream-url {upstream_url}",
        setup.codex_cli.display()
    );
    let mut results = Vec::new();
    for (id, what, last) in [
        (
            "18 first",
            "latency the proxy adds to the first event of a streamed answer",
            false,
        ),
        (
            "18 last",
            "latency the proxy adds to the last event of a streamed answer",
            true,
        ),
    ] {
        let ours_added = added(1, last);
        let theirs_added = added(2, last);
        let (low, high) = range(&ours_added);
        let a = median(&pick(1, last));
        let b = median(&pick(0, last));
        results.push(RowResult {
            id: id.into(),
            what: what.into(),
            a_label: "through codex-responses-api-proxy".into(),
            b_label: "direct".into(),
            a,
            b,
            unit: "ms".into(),
            figure: median(&ours_added),
            ratio_of_medians: a / b,
            figure_unit: "ms".into(),
            target: 1.0,
            aim: false,
            met: median(&ours_added) <= 1.0,
            samples: rounds,
            detail: format!(
                "median over {rounds} rounds of (proxied − direct), each side's round the median of \
                 {batch} requests on new connections; {EVENTS} events {} ms apart; per-round added \
                 latency {low:.3}–{high:.3} ms; Codex CLI 0.169's `codex responses-api-proxy` on the \
                 same upstream adds {:.3} ms",
                EVENT_GAP.as_millis(),
                median(&theirs_added)
            ),
            commands: vec![command.clone(), format!("direct POST {upstream_url}")],
        });
    }
    results.push(RowResult {
        id: "18 rss".into(),
        what: "peak RSS of the proxy after the rows' requests".into(),
        a_label: "codex-responses-api-proxy".into(),
        b_label: "Codex CLI 0.169 responses-api-proxy".into(),
        a: ours_rss,
        b: theirs_rss,
        unit: "MiB".into(),
        figure: ours_rss / theirs_rss,
        ratio_of_medians: ours_rss / theirs_rss,
        figure_unit: String::new(),
        target: 0.3,
        aim: true,
        met: ours_rss / theirs_rss <= 0.3,
        samples: 1,
        detail: format!(
            "VmHWM of each proxy process after {} requests each",
            rounds * batch + if setup.smoke { 0 } else { batch }
        ),
        commands: vec![command, their_command],
    });
    Ok(results)
}

/// When the first and the last event of one answer arrived, from the start
/// of the connection.
struct Timing {
    first_event: Duration,
    last_event: Duration,
}

/// One streamed request on a new connection, as a Responses API client
/// sends it.
fn request(port: u16) -> Result<Timing> {
    let body = br#"{"model":"bench","input":"hi","stream":true}"#;
    let start = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .with_context(|| format!("connecting to 127.0.0.1:{port}"))?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let head = format!(
        "POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Accept: text/event-stream\r\nAuthorization: Bearer {KEY}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut received = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let mut first_event = None;
    loop {
        let n = stream
            .read(&mut chunk)
            .with_context(|| format!("reading the answer from 127.0.0.1:{port}"))?;
        if n == 0 {
            bail!(
                "127.0.0.1:{port} closed the answer before its last event; it sent: {}",
                String::from_utf8_lossy(&received[..received.len().min(300)])
            );
        }
        received.extend_from_slice(&chunk[..n]);
        if first_event.is_none() && contains(&received, FIRST_EVENT) {
            first_event = Some(start.elapsed());
        }
        if contains(&received, LAST_EVENT) {
            let last_event = start.elapsed();
            if !received.starts_with(b"HTTP/1.1 200") {
                bail!(
                    "127.0.0.1:{port} did not answer 200: {}",
                    String::from_utf8_lossy(&received[..received.len().min(300)])
                );
            }
            return Ok(Timing {
                first_event: first_event.unwrap_or(last_event),
                last_event,
            });
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// The upstream: answers every POST with [`EVENTS`] server-sent events,
/// chunked, [`EVENT_GAP`] apart; a thread per connection.
struct Upstream {
    port: u16,
}

impl Upstream {
    fn start() -> Result<Upstream> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    // A client that went away is not the upstream's problem.
                    let _ = answer(stream);
                });
            }
        });
        Ok(Upstream { port })
    }
}

fn answer(stream: TcpStream) -> Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse()?;
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let mut stream = stream;
    stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\
          Connection: close\r\n\r\n",
    )?;
    for seq in 0..EVENTS {
        let event = if seq + 1 == EVENTS {
            format!("event: response.completed\ndata: {{\"seq\":{seq},\"done\":true}}\n\n")
        } else {
            format!("event: response.output_text.delta\ndata: {{\"seq\":{seq}}}\n\n")
        };
        stream.write_all(format!("{:x}\r\n{event}\r\n", event.len()).as_bytes())?;
        stream.flush()?;
        if seq + 1 < EVENTS {
            std::thread::sleep(EVENT_GAP);
        }
    }
    stream.write_all(b"0\r\n\r\n")?;
    Ok(())
}

/// A running proxy (ours or Codex's), given the key on stdin.
struct Proxy {
    child: Child,
    port: u16,
    name: &'static str,
}

impl Proxy {
    fn start(
        setup: &Setup,
        program: &Path,
        first_args: &[&str],
        upstream_url: &str,
        codex_home: &Path,
        name: &'static str,
    ) -> Result<Proxy> {
        let info = setup.work.join(format!("row18-{name}.json"));
        let _ = std::fs::remove_file(&info);
        let mut child = Command::new(program)
            .args(first_args)
            .arg("--server-info")
            .arg(&info)
            .arg("--http-shutdown")
            .arg("--upstream-url")
            .arg(upstream_url)
            .env_clear()
            .envs(env_for(setup, codex_home))
            .current_dir(&setup.work)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(
                setup.work.join(format!("row18-{name}.stderr")),
            )?))
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| anyhow!("no stdin for {name}"))?;
        stdin.write_all(KEY.as_bytes())?;
        drop(stdin);
        let port = wait_for_port(&info, &mut child, name)?;
        Ok(Proxy { child, port, name })
    }

    /// The process's high-water mark of resident memory.
    fn peak_rss_mib(&self) -> Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .with_context(|| format!("reading the status of the {} proxy", self.name))?;
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| anyhow!("no VmHWM in /proc/{}/status", self.child.id()))?;
        Ok(kib / 1024.0)
    }

    /// Ends the proxy through `GET /shutdown`, or by killing it.
    fn stop(mut self) {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = stream.write_all(b"GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        }
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (at most 20 s) for the proxy to write its `{"port": N}` line.
fn wait_for_port(info: &Path, child: &mut Child, name: &str) -> Result<u16> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait()? {
            bail!("the {name} proxy exited before listening ({status})");
        }
        // The line may still be being written: parse it when it is whole.
        let text = std::fs::read_to_string(info).unwrap_or_default();
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text.trim()) {
            return value["port"]
                .as_u64()
                .and_then(|port| u16::try_from(port).ok())
                .ok_or_else(|| anyhow!("{}: no port in {text}", info.display()));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    bail!(
        "the {name} proxy did not write {} within 20 s",
        info.display()
    )
}
