//! `codex responses-api-proxy`: Codex's internal command runs the hardened
//! proxy binary installed beside `codex` (the same process, so the
//! proxy's hardening holds), with the key from stdin.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use codex_test_support::{codex_bin, stderr, target_dir};

const KEY: &str = "sk-proxy-test-0123456789";

/// One upstream exchange: the request's Authorization header, answered 200.
fn upstream_once(listener: TcpListener) -> std::thread::JoinHandle<Option<String>> {
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        let mut reader = BufReader::new(stream.try_clone().ok()?);
        let mut authorization = None;
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).ok()?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            match name.to_ascii_lowercase().as_str() {
                "authorization" => authorization = Some(value.trim().to_owned()),
                "content-length" => length = value.trim().parse().unwrap_or(0),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        let mut stream = stream;
        let answer = "{\"ok\":true}";
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
            answer.len()
        )
        .ok()?;
        authorization
    })
}

/// Kills the proxy when a failed assertion unwinds past it, so no orphan
/// keeps running (or keeps the files its parent had open).
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_file(path: &Path) -> String {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if let Ok(text) = std::fs::read_to_string(path)
            && text.ends_with('\n')
        {
            return text;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{} was not written", path.display());
}

/// A request over a fresh connection; the whole answer.
fn http(port: u16, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn the_internal_command_is_the_proxy_with_the_key_from_stdin() {
    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream_port = upstream.local_addr().unwrap().port();
    let exchange = upstream_once(upstream);
    let dir = tempfile::tempdir().unwrap();
    let info = dir.path().join("info.json");
    let proxy = std::process::Command::new(codex_bin())
        .arg("responses-api-proxy")
        .arg("--server-info")
        .arg(&info)
        .arg("--http-shutdown")
        .arg("--upstream-url")
        .arg(format!("http://127.0.0.1:{upstream_port}/v1/responses"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut proxy = Running(proxy);
    proxy
        .0
        .stdin
        .take()
        .unwrap()
        .write_all(KEY.as_bytes())
        .unwrap();
    let info: serde_json::Value = serde_json::from_str(&wait_for_file(&info)).unwrap();
    let port = info["port"].as_u64().unwrap() as u16;
    // The command became the proxy (the same process), hardened before main.
    assert_eq!(info["pid"].as_u64(), Some(u64::from(proxy.0.id())));
    let exe = std::fs::read_link(format!("/proc/{}/exe", proxy.0.id())).unwrap();
    assert_eq!(
        exe.file_name().and_then(|name| name.to_str()),
        Some("codex-responses-api-proxy")
    );
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", proxy.0.id())).unwrap();
    assert!(!String::from_utf8_lossy(&cmdline).contains(KEY));

    let body = "{\"model\":\"m\",\"input\":\"hi\"}";
    let answer = http(
        port,
        &format!(
            "POST /v1/responses HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("{\"ok\":true}"), "{answer}");
    assert_eq!(
        exchange.join().unwrap().as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
    let refused = http(
        port,
        "GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n",
    );
    assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");
    let shutdown = http(
        port,
        "GET /shutdown HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n",
    );
    assert!(shutdown.starts_with("HTTP/1.1 200"), "{shutdown}");
    let status = proxy.0.wait().unwrap();
    let mut errors = String::new();
    if let Some(mut pipe) = proxy.0.stderr.take() {
        pipe.read_to_string(&mut errors).unwrap();
    }
    assert!(status.success(), "{errors}");
    assert!(!errors.contains(KEY));
}

#[test]
fn without_the_proxy_beside_it_the_command_says_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    let alone = dir.path().join("codex");
    std::fs::copy(codex_bin(), &alone).unwrap();
    let output = std::process::Command::new(&alone)
        .args(["responses-api-proxy", "--help"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("codex-responses-api-proxy is not installed beside")
            && message.contains("./install.sh"),
        "{message}"
    );
    assert!(target_dir().join("codex-responses-api-proxy").is_file());
}
