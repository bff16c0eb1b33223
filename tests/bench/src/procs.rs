//! Whole-process runs: wall time from spawn to reaping, and the peak RSS
//! `wait4` reports (the largest of the process and the children it reaped).
//!
//! Every run is started by a small launcher process (`codex-bench launch`),
//! not by the driver: Linux carries the high-water RSS of the image a child
//! was forked from across `exec`, so a child of the driver (which by then
//! holds runtimes and loaded plugins) would report at least the driver's
//! RSS. The launcher is fresh and small, and it times the run itself, so its
//! own start-up is not in the wall time either.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Longest a single run may take before it is killed and the row fails.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// One command line with its environment and working directory.
#[derive(Clone, Debug)]
pub struct Cmd {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// The whole environment (nothing else is inherited).
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
}

impl Cmd {
    /// The command as a shell would show it, with the environment it sets
    /// other than `PATH` and `HOME`.
    pub fn display(&self) -> String {
        let mut words: Vec<String> = self
            .env
            .iter()
            .filter(|(key, _)| key != "PATH" && key != "HOME" && key != "LANG")
            .map(|(key, value)| format!("{key}={}", quote(value)))
            .collect();
        words.push(quote(&self.program.to_string_lossy()));
        words.extend(self.args.iter().map(|arg| quote(arg)));
        words.join(" ")
    }
}

fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// What one run measured.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub wall: Duration,
    pub max_rss_kib: u64,
}

/// Runs `cmd` once through the launcher `launcher` (`codex-bench launch`),
/// its stdout and stderr going to `out.stdout` and `out.stderr`. Fails when
/// it exits unsuccessfully or runs too long.
pub fn run_once(launcher: &Path, cmd: &Cmd, out: &Path) -> Result<Sample> {
    let output = Command::new(launcher)
        .arg("launch")
        .arg(out)
        .arg("--")
        .arg(&cmd.program)
        .args(&cmd.args)
        .env_clear()
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&cmd.cwd)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .output()
        .with_context(|| format!("cannot start the launcher {}", launcher.display()))?;
    if !output.status.success() {
        bail!("{}", String::from_utf8_lossy(&output.stderr).trim_end());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut fields = text.split_whitespace();
    let (Some(wall_ns), Some(rss)) = (fields.next(), fields.next()) else {
        bail!("the launcher answered {text:?}");
    };
    Ok(Sample {
        wall: Duration::from_nanos(wall_ns.parse()?),
        max_rss_kib: rss.parse()?,
    })
}

/// The launcher's side (`codex-bench launch OUT -- PROGRAM ARGS...`): runs
/// the program with this process's environment and directory, and prints
/// `WALL_NS MAX_RSS_KIB`.
pub fn launch(args: &[String]) -> Result<()> {
    let (Some(out), Some("--"), Some(program)) =
        (args.first(), args.get(1).map(String::as_str), args.get(2))
    else {
        bail!("usage: codex-bench launch OUT -- PROGRAM [ARGS...]");
    };
    let cmd = Cmd {
        program: PathBuf::from(program),
        args: args[3..].to_vec(),
        env: std::env::vars().collect(),
        cwd: std::env::current_dir()?,
    };
    let sample = run_direct(&cmd, Path::new(out))?;
    println!("{} {}", sample.wall.as_nanos(), sample.max_rss_kib);
    Ok(())
}

/// Runs `cmd` once from this process (see [`run_once`] for why the driver
/// does not).
pub fn run_direct(cmd: &Cmd, out: &Path) -> Result<Sample> {
    let stdout_path = out.with_extension("stdout");
    let stderr_path = out.with_extension("stderr");
    let stdout = File::create(&stdout_path)?;
    let stderr = File::create(&stderr_path)?;
    let started = Instant::now();
    let child = Command::new(&cmd.program)
        .args(&cmd.args)
        .env_clear()
        .envs(cmd.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&cmd.cwd)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .with_context(|| format!("cannot start {}", cmd.program.display()))?;
    let pid = child.id() as libc::pid_t;

    // A watchdog kills the run if it hangs; it is told when the run ends.
    let (done, finished) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if finished.recv_timeout(RUN_TIMEOUT).is_err() {
            // SAFETY: plain syscall on the pid we spawned and have not reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            true
        } else {
            false
        }
    });

    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; wait4 fills it in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = loop {
        // SAFETY: waits for our own child, writing into locals.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
        {
            continue;
        }
        break reaped;
    };
    let wall = started.elapsed();
    let _ = done.send(());
    let killed = watchdog.join().unwrap_or(false);
    if reaped != pid {
        bail!(
            "waiting for {} failed: {}",
            cmd.display(),
            std::io::Error::last_os_error()
        );
    }
    if killed {
        bail!(
            "{} did not finish within {RUN_TIMEOUT:?} and was killed",
            cmd.display()
        );
    }
    let exited_ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if !exited_ok {
        let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "{} failed (wait status {status:#x}); its stderr ends with:\n{}",
            cmd.display(),
            tail.join("\n")
        );
    }
    Ok(Sample {
        wall,
        max_rss_kib: usage.ru_maxrss.max(0) as u64,
    })
}

/// What the runs of an A/B comparison measured.
pub struct Pair {
    pub a: Vec<Sample>,
    pub b: Vec<Sample>,
}

/// Runs `a` and `b` alternately (A B, then B A, ...) `runs` times each,
/// after one untimed run of each when `warmup`. `check` looks at the stdout
/// of the first timed run of each (`true` for A) and may refuse it.
pub fn alternate(
    launcher: &Path,
    a: &Cmd,
    b: &Cmd,
    runs: usize,
    warmup: bool,
    out: &Path,
    check: &dyn Fn(bool, &str) -> Result<()>,
) -> Result<Pair> {
    let out_a = out.join("a");
    let out_b = out.join("b");
    std::fs::create_dir_all(out)?;
    if warmup {
        run_once(launcher, a, &out_a)?;
        run_once(launcher, b, &out_b)?;
    }
    let mut pair = Pair {
        a: Vec::with_capacity(runs),
        b: Vec::with_capacity(runs),
    };
    for run in 0..runs {
        for index in crate::stats::rotation(run, 2) {
            let (cmd, path, samples, is_a) = if index == 0 {
                (a, &out_a, &mut pair.a, true)
            } else {
                (b, &out_b, &mut pair.b, false)
            };
            samples.push(run_once(launcher, cmd, path)?);
            if run == 0 {
                let stdout = std::fs::read_to_string(path.with_extension("stdout"))?;
                check(is_a, &stdout).with_context(|| {
                    format!("checking the output of {}:\n{stdout}", cmd.display())
                })?;
            }
        }
    }
    Ok(pair)
}

/// Median wall time in milliseconds.
pub fn median_ms(samples: &[Sample]) -> f64 {
    let ms: Vec<f64> = samples.iter().map(|s| s.wall.as_secs_f64() * 1e3).collect();
    crate::stats::median(&ms)
}

/// Median peak RSS in MiB.
pub fn median_rss_mib(samples: &[Sample]) -> f64 {
    let mib: Vec<f64> = samples
        .iter()
        .map(|s| s.max_rss_kib as f64 / 1024.0)
        .collect();
    crate::stats::median(&mib)
}

/// The peak resident memory (VmHWM) of the running process `pid`, in KiB:
/// for a process the driver spawned itself, where `wait4`'s figure would
/// carry the driver's own (see the module's docs).
pub fn peak_rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmHWM in /proc/{pid}/status"))
}
