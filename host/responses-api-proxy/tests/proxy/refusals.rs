//! What the proxy refuses: bad keys at start-up, and every request but
//! `POST /v1/responses`.

use crate::support::*;

fn exits_with(stdin: &[u8], message: &str) {
    let mut command = ProxyCommand::new("http://127.0.0.1:9/v1/responses");
    command.stdin = stdin.to_vec();
    let (code, stderr) = command.run_to_exit();
    assert_eq!(code, Some(1), "stderr: {stderr}");
    assert_eq!(stderr, format!("Error: {message}\n"));
}

#[test]
fn an_empty_key_is_refused_with_how_to_pass_one() {
    for stdin in [&b""[..], b"\n", b"\r\n"] {
        exits_with(
            stdin,
            "API key must be provided via stdin (e.g. printenv OPENAI_API_KEY | env -u OPENAI_API_KEY codex-responses-api-proxy)",
        );
    }
}

#[test]
fn a_key_over_1024_bytes_is_refused() {
    exits_with(
        &vec![b'k'; 2000],
        "API key is too large to fit in the 1024-byte buffer",
    );
}

#[test]
fn a_key_with_other_characters_is_refused_without_echoing_it() {
    for stdin in [&b"sk-abc!def\n"[..], b"sk abc", b"sk-\xc3\xa9"] {
        exits_with(
            stdin,
            "API key may only contain ASCII letters, numbers, '-' or '_'",
        );
    }
}

#[test]
fn a_bad_upstream_url_is_refused() {
    let command = ProxyCommand::new("ftp://example.com/v1/responses");
    let (code, stderr) = command.run_to_exit();
    assert_eq!(code, Some(1));
    assert!(
        stderr.starts_with("Error: --upstream-url \"ftp://example.com/v1/responses\" must start with http:// or https://"),
        "{stderr}"
    );
}

#[test]
fn only_post_v1_responses_is_forwarded() {
    let upstream = Upstream::start(|_, stream| {
        use std::io::Write;
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    });
    let proxy = ProxyCommand::new(&upstream.url()).start();
    for request in [
        "GET /v1/responses HTTP/1.1\r\nHost: x\r\n\r\n",
        "PUT /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "DELETE /v1/responses HTTP/1.1\r\nHost: x\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /v1/responses?stream=true HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "POST /v1/responses/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "POST /v1/responses/resp_1/cancel HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "POST /V1/RESPONSES HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "POST http://127.0.0.1/v1/responses HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n",
        // What a web page's fetch() sends: the key must not be spent by
        // every site the user visits.
        "POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://evil.example\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}",
        "POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: null\r\nContent-Length: 2\r\n\r\n{}",
    ] {
        let answer = proxy.exchange(request.as_bytes());
        assert_eq!(answer.status, 403, "{request:?}");
    }
    assert!(upstream.received().is_empty());
    assert_eq!(proxy.post("{}").status, 200);
}

#[test]
fn get_shutdown_is_403_without_the_flag() {
    let upstream = Upstream::start(|_, _| {});
    let mut proxy = ProxyCommand::new(&upstream.url()).start();
    let answer = proxy.exchange(b"GET /shutdown HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(answer.status, 403);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(proxy.is_running());
    assert_eq!(proxy.exchange(b"GET /nothing HTTP/1.1\r\n\r\n").status, 403);
}

#[test]
fn get_shutdown_with_the_flag_answers_200_and_exits_0() {
    let upstream = Upstream::start(|_, _| {});
    let mut command = ProxyCommand::new(&upstream.url());
    command.arg("--http-shutdown");
    let mut proxy = command.start();
    // Only GET, and only the exact path, shuts it down.
    assert_eq!(
        proxy
            .exchange(b"POST /shutdown HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            .status,
        403
    );
    assert_eq!(
        proxy.exchange(b"GET /shutdown?now HTTP/1.1\r\n\r\n").status,
        403
    );
    assert!(proxy.is_running());
    let answer = proxy.exchange(b"GET /shutdown HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(answer.status, 200);
    assert_eq!(proxy.wait_for_exit(), Some(0));
}

#[test]
fn server_info_is_one_json_line_with_port_and_pid() {
    let upstream = Upstream::start(|_, _| {});
    let proxy = ProxyCommand::new(&upstream.url()).start();
    let text = std::fs::read_to_string(&proxy.info).unwrap();
    assert_eq!(
        text,
        format!("{{\"port\":{},\"pid\":{}}}\n", proxy.port, proxy.pid())
    );
    assert_eq!(
        proxy.stderr(),
        format!(
            "responses-api-proxy listening on 127.0.0.1:{}\n",
            proxy.port
        )
    );
}

#[test]
fn a_given_port_is_used_on_loopback() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let upstream = Upstream::start(|_, _| {});
    let mut command = ProxyCommand::new(&upstream.url());
    command.arg("--port").arg(port.to_string());
    let proxy = command.start();
    assert_eq!(proxy.port, port);
    let listening = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let local = format!("0100007F:{port:04X}");
    assert!(
        listening.lines().any(|line| line.contains(&local)),
        "no listener on 127.0.0.1:{port} in /proc/net/tcp"
    );
}

#[test]
fn malformed_and_oversized_requests_are_refused() {
    let upstream = Upstream::start(|_, _| {});
    let proxy = ProxyCommand::new(&upstream.url()).start();
    assert_eq!(proxy.exchange(b"this is not http\r\n\r\n").status, 400);
    let smuggled = b"POST /v1/responses HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    assert_eq!(proxy.exchange(smuggled).status, 400);
    let huge = format!(
        "POST /v1/responses HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
        1u64 << 40
    );
    assert_eq!(proxy.exchange(huge.as_bytes()).status, 413);
    assert!(upstream.received().is_empty());
}
