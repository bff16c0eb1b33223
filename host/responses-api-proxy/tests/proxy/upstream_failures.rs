//! Upstreams that refuse, reset, hang or break off: the client gets 502 (or a
//! cut stream) and the proxy keeps serving.

use std::io::Write;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::support::*;

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

#[test]
fn a_refused_connection_is_502() {
    let url = format!("http://127.0.0.1:{}/v1/responses", closed_port());
    let proxy = ProxyCommand::new(&url).start();
    for _ in 0..2 {
        let answer = proxy.post("{}");
        assert_eq!(answer.status, 502);
        assert!(
            answer.text().starts_with("upstream request failed: "),
            "{}",
            answer.text()
        );
        assert!(answer.text().len() < 300);
    }
}

#[test]
fn a_reset_before_the_answer_is_502_and_the_proxy_goes_on() {
    let upstream = Upstream::start(|_, stream| {
        // The request was read; the connection is reset as it is closed.
        reset_on_close(stream);
    });
    let proxy = ProxyCommand::new(&upstream.url()).start();
    for _ in 0..2 {
        let answer = proxy.post("{}");
        assert_eq!(answer.status, 502);
        assert!(answer.text().starts_with("upstream request failed: "));
    }
    assert_eq!(upstream.received().len(), 2);
    assert!(proxy.stderr().contains("upstream request failed"));
    assert!(!proxy.stderr().contains(KEY));
}

#[test]
fn an_upstream_that_breaks_off_mid_answer_cuts_the_client_stream() {
    let upstream = Upstream::start(|_, stream| {
        send_chunked_head(stream, 200, "text/event-stream");
        send_chunk(stream, b"data: partial\n\n");
        // Closed without the final chunk.
        let _ = stream.shutdown(std::net::Shutdown::Both);
    });
    let proxy = ProxyCommand::new(&upstream.url()).start();
    let mut client = proxy.connect();
    client.send(&post("{}"));
    let (status, _) = client.head().unwrap();
    assert_eq!(status, 200);
    assert_eq!(client.chunk().unwrap().unwrap(), b"data: partial\n\n");
    assert!(
        client.chunk().is_err(),
        "a cut stream must not end like a complete one"
    );
}

#[test]
fn a_hanging_upstream_is_502_after_the_idle_timeout() {
    let upstream = Upstream::start(|_, _stream| {
        std::thread::sleep(WAIT);
    });
    let mut command = ProxyCommand::new(&upstream.url());
    command.arg("--upstream-idle-timeout").arg("1");
    let proxy = command.start();
    let started = Instant::now();
    let answer = proxy.post("{}");
    let waited = started.elapsed();
    assert_eq!(answer.status, 502);
    assert!(answer.text().contains("timeout"), "{}", answer.text());
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
}

#[test]
fn a_hanging_upstream_without_a_timeout_holds_only_its_own_request() {
    let (release, hold) = std::sync::mpsc::channel::<()>();
    let hold = std::sync::Mutex::new(hold);
    let hanging = Upstream::start(move |request, stream| {
        if request.body == b"hang" {
            let _ = hold.lock().unwrap().recv_timeout(WAIT);
        }
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .unwrap();
    });
    let proxy = ProxyCommand::new(&hanging.url()).start();
    let mut stuck = proxy.connect();
    stuck.send(&post("hang"));
    // The client gives up after a time it chooses; the proxy, like Codex's,
    // sets no limit of its own by default.
    stuck.set_timeout(Duration::from_millis(500));
    assert!(stuck.head().is_err());
    // Other requests are served meanwhile.
    let answer = proxy.post("{}");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text(), "ok");
    release.send(()).unwrap();
}

/// Makes `stream` reset (RST) instead of closing (FIN) once the last
/// descriptor of it is closed.
fn reset_on_close(stream: &std::net::TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the fd is open for the duration of the call, and `linger`
    // points to a valid struct of the size passed.
    let result = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(result, 0);
}
