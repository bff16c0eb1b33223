//! Test helper of the escape matrix (`tests/escape_matrix.rs`): performs one
//! attempt and prints its verdict.
//!
//! ```text
//! codex-sandbox-probe ACTION [ARG...]
//! codex-sandbox-probe --apply MODE [--root DIR]... [--network] [--allow-weaker] -- ACTION [ARG...]
//! ```
//!
//! Prints `allowed` (exit 0), `denied: ERRNO` (exit 1; the errno is one a
//! sandbox gives: EPERM, EACCES, EROFS, EBUSY), or `error: ...` (exit 2, for
//! anything else, so that a broken fixture never passes for a denial).
//! `--apply` sandboxes the probe itself with `apply_to_current_process`
//! first, with the working directory as the first root; `/tmp` and
//! `$TMPDIR` are never roots, so that the matrix decides what is writable.
#![allow(clippy::print_stdout)]

use std::fs;
use std::io::{self, Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use codex_sandbox::{ApplyOptions, Sandbox, SandboxMode, SandboxPolicy, apply_to_current_process};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--apply") {
        match apply(&mut args) {
            Ok(()) => {}
            Err(message) => {
                println!("error: {message}");
                return ExitCode::from(2);
            }
        }
    }
    let Some((action, rest)) = args.split_first() else {
        println!("error: no action");
        return ExitCode::from(2);
    };
    match perform(action, rest) {
        Ok(Verdict::Allowed) => {
            println!("allowed");
            ExitCode::SUCCESS
        }
        Ok(Verdict::Denied(why)) => {
            println!("denied: {why}");
            ExitCode::from(1)
        }
        Err(error) => match error.raw_os_error() {
            Some(errno @ (libc::EPERM | libc::EACCES | libc::EROFS | libc::EBUSY)) => {
                println!("denied: {}", errno_name(errno));
                ExitCode::from(1)
            }
            _ => {
                println!("error: {action}: {error}");
                ExitCode::from(2)
            }
        },
    }
}

/// Parses `--apply MODE [--root DIR]... [--network] --` off `args` and
/// sandboxes this process.
fn apply(args: &mut Vec<String>) -> Result<(), String> {
    let separator = args
        .iter()
        .position(|arg| arg == "--")
        .ok_or("--apply needs `--` before the action")?;
    let options: Vec<String> = args.drain(..=separator).collect();
    let mode: SandboxMode = options
        .get(1)
        .ok_or("--apply needs a mode")?
        .parse()
        .map_err(|error: codex_sandbox::SandboxError| error.to_string())?;
    let mut policy = SandboxPolicy::new(mode);
    policy.exclude_slash_tmp = true;
    policy.exclude_tmpdir_env_var = true;
    let mut allow_weaker = false;
    let mut index = 2;
    while index < options.len() - 1 {
        match options[index].as_str() {
            "--root" => {
                index += 1;
                policy.writable_roots.push(PathBuf::from(&options[index]));
            }
            "--network" => policy.network_access = true,
            "--allow-weaker" => allow_weaker = true,
            other => return Err(format!("unknown option {other}")),
        }
        index += 1;
    }
    let cwd = std::env::current_dir().map_err(|error| error.to_string())?;
    if !allow_weaker {
        return apply_to_current_process(&policy, &cwd, ApplyOptions::default())
            .map_err(|error| error.to_string());
    }
    let sandbox = Sandbox::prepare(&policy, &cwd, ApplyOptions { allow_weaker: true })
        .map_err(|error| error.to_string())?;
    for weakness in sandbox.weakened() {
        eprintln!("weakened: {weakness}");
    }
    sandbox
        .enter_current_process()
        .map_err(|error| error.to_string())
}

enum Verdict {
    Allowed,
    Denied(String),
}

fn arg(rest: &[String], index: usize) -> io::Result<&str> {
    rest.get(index).map(String::as_str).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("missing argument {index}"),
        )
    })
}

fn perform(action: &str, rest: &[String]) -> io::Result<Verdict> {
    match action {
        // Create (or truncate) a file and write to it.
        "write" => {
            let mut file = fs::File::create(arg(rest, 0)?)?;
            file.write_all(b"written by the sandbox probe\n")?;
        }
        // Write a file named ARG in $HOME.
        "write-home" => {
            let home =
                std::env::var_os("HOME").ok_or_else(|| io::Error::other("HOME is not set"))?;
            fs::File::create(Path::new(&home).join(arg(rest, 0)?))?.write_all(b"x\n")?;
        }
        "read" => {
            fs::read(arg(rest, 0)?)?;
        }
        // Create a `.git`-like directory and a hook in it: a placeholder
        // gives EEXIST on mkdir, then the hook is what must fail.
        "create-dir-and-hook" => {
            let dir = Path::new(arg(rest, 0)?);
            match fs::create_dir(dir) {
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
                Err(error) => return Err(error),
            }
            fs::create_dir(dir.join("hooks"))?;
            fs::write(dir.join("hooks/pre-commit"), "#!/bin/sh\n")?;
        }
        // Swap two directories (renameat2 RENAME_EXCHANGE).
        "exchange" => {
            let from = std::ffi::CString::new(arg(rest, 0)?)?;
            let to = std::ffi::CString::new(arg(rest, 1)?)?;
            // SAFETY: two NUL-terminated paths.
            let result = unsafe {
                libc::renameat2(
                    libc::AT_FDCWD,
                    from.as_ptr(),
                    libc::AT_FDCWD,
                    to.as_ptr(),
                    libc::RENAME_EXCHANGE,
                )
            };
            if result != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        // Move DIR away and put a symbolic link to TARGET in its place.
        "replace-with-symlink" => {
            let dir = arg(rest, 0)?;
            fs::rename(dir, format!("{dir}.moved"))?;
            std::os::unix::fs::symlink(arg(rest, 1)?, dir)?;
        }
        "tcp" => {
            let mut stream = TcpStream::connect(arg(rest, 0)?)?;
            stream.write_all(b"ping")?;
        }
        // What a resolver does: a UDP datagram to a name server on loopback.
        "dns" => {
            let socket = UdpSocket::bind("127.0.0.1:0")?;
            // A query for "localhost", type A.
            let query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x09localhost\x00\x00\x01\x00\x01";
            socket.send_to(query, "127.0.0.1:53")?;
        }
        "ptrace-traceme" => {
            // SAFETY: PTRACE_TRACEME takes no pointers.
            if unsafe { libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        // A listener and a client on an abstract Unix socket, one message.
        "unix-abstract" => {
            let name = format!("codex-sandbox-probe-{}", std::process::id());
            let address = SocketAddr::from_abstract_name(name.as_bytes())?;
            let listener = UnixListener::bind_addr(&address)?;
            let mut client = UnixStream::connect_addr(&address)?;
            client.write_all(b"ping")?;
            let (mut server, _) = listener.accept()?;
            let mut buf = [0u8; 4];
            server.read_exact(&mut buf)?;
        }
        // Connect to an existing Unix socket (the test's listener).
        "unix-connect" => {
            let mut stream = UnixStream::connect(arg(rest, 0)?)?;
            stream.write_all(b"ping")?;
        }
        // `NoNewPrivs: 1` means setuid programs give nothing.
        "no-new-privs" => {
            let status = fs::read_to_string("/proc/self/status")?;
            if status
                .lines()
                .any(|line| line.split_whitespace().eq(["NoNewPrivs:", "1"]))
            {
                return Ok(Verdict::Denied("NoNewPrivs: 1".to_owned()));
            }
        }
        // Run a setuid-root copy of this probe and see whether it became root.
        "setuid" => {
            let output = Command::new(arg(rest, 0)?).arg("euid").output()?;
            let euid = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            if euid != "0" {
                return Ok(Verdict::Denied(format!("euid stays {euid}")));
            }
        }
        "euid" => {
            // SAFETY: geteuid cannot fail.
            println!("{}", unsafe { libc::geteuid() });
            std::process::exit(0);
        }
        other => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unknown action {other}"),
            ));
        }
    }
    Ok(Verdict::Allowed)
}

fn errno_name(errno: i32) -> &'static str {
    match errno {
        libc::EPERM => "EPERM",
        libc::EACCES => "EACCES",
        libc::EROFS => "EROFS",
        libc::EBUSY => "EBUSY",
        _ => "?",
    }
}
