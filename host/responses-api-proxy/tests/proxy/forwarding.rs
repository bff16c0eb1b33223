//! What an accepted request becomes upstream, and how its answer comes back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::*;

#[test]
fn the_answer_streams_through_before_the_upstream_has_finished() {
    let last_sent = Arc::new(AtomicBool::new(false));
    let (client_saw_two, go_on) = mpsc::channel::<()>();
    let go_on = std::sync::Mutex::new(go_on);
    let upstream = {
        let last_sent = Arc::clone(&last_sent);
        Upstream::start(move |request, stream| {
            if request.header("authorization") != Some(&format!("Bearer {KEY}")) {
                stream
                    .write_all(b"HTTP/1.1 401 X\r\nContent-Length: 0\r\n\r\n")
                    .unwrap();
                return;
            }
            send_chunked_head(stream, 200, "text/event-stream");
            send_chunk(stream, b"data: first\n\n");
            std::thread::sleep(Duration::from_millis(100));
            send_chunk(stream, b"data: second\n\n");
            // The last piece waits for the client to have the first two:
            // a proxy that buffers the answer would never let that happen.
            let _ = go_on.lock().unwrap().recv_timeout(WAIT);
            last_sent.store(true, Ordering::SeqCst);
            send_chunk(stream, b"data: [DONE]\n\n");
            stream.write_all(b"0\r\n\r\n").unwrap();
        })
    };
    let proxy = ProxyCommand::new(&upstream.url()).start();
    let mut client = proxy.connect();
    client.send(&post(r#"{"model":"m","stream":true}"#));
    let (status, headers) = client.head().unwrap();
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["x-upstream"], "yes");
    let mut seen = Vec::new();
    while !contains(&seen, b"data: second\n\n") {
        let chunk = client.chunk().unwrap().expect("the stream ended early");
        assert!(
            !last_sent.load(Ordering::SeqCst),
            "the client got {:?} only after the upstream sent its last piece",
            String::from_utf8_lossy(&chunk)
        );
        seen.extend_from_slice(&chunk);
    }
    assert_eq!(seen, b"data: first\n\ndata: second\n\n");
    client_saw_two.send(()).unwrap();
    let rest = client.body().unwrap();
    assert_eq!(rest, b"data: [DONE]\n\n");
    assert!(last_sent.load(Ordering::SeqCst));
}

#[test]
fn headers_are_forwarded_except_authorization_host_and_hop_by_hop() {
    let upstream = Upstream::start(|_, stream| {
        stream
            .write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-Reply: r\r\nKeep-Alive: timeout=1\r\n\r\nok")
            .unwrap();
    });
    let proxy = ProxyCommand::new(&upstream.url()).start();
    let answer = proxy.post(r#"{"model":"m"}"#);
    assert_eq!(answer.status, 201);
    assert_eq!(answer.text(), "ok");
    assert_eq!(answer.headers["x-reply"], "r");
    assert!(!answer.headers.contains_key("keep-alive"));

    let received = upstream.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/v1/responses");
    assert_eq!(request.body, br#"{"model":"m"}"#);
    let authorizations: Vec<_> = request
        .headers
        .iter()
        .filter(|(name, _)| name == "authorization")
        .collect();
    assert_eq!(
        authorizations,
        [&("authorization".to_owned(), format!("Bearer {KEY}"))]
    );
    assert_eq!(
        request.header("host"),
        Some(format!("127.0.0.1:{}", upstream.port).as_str())
    );
    assert_eq!(request.header("x-client"), Some("kept"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("keep-alive"), None);
}

#[test]
fn a_chunked_request_body_is_forwarded_whole() {
    let upstream = Upstream::start(|_, stream| {
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    });
    let proxy = ProxyCommand::new(&upstream.url()).start();
    let answer = proxy.exchange(
        b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n",
    );
    assert_eq!(answer.status, 200);
    assert_eq!(upstream.received()[0].body, br#"{"a":1}"#);
}

#[test]
fn expect_100_continue_is_answered_before_the_body_is_read() {
    let upstream = Upstream::start(|_, stream| {
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    });
    let proxy = ProxyCommand::new(&upstream.url()).start();
    let mut client = proxy.connect();
    client.send(b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    assert_eq!(client.head().unwrap().0, 100);
    client.send(b"{}");
    assert_eq!(client.answer().status, 200);
    let received = upstream.received();
    assert_eq!(received[0].body, b"{}");
    assert_eq!(received[0].header("expect"), None);
}

#[test]
fn upstream_errors_are_passed_through_as_they_are() {
    let upstream = Upstream::start(|_, stream| {
        stream
            .write_all(b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 9\r\nRetry-After: 3\r\n\r\nslow down")
            .unwrap();
    });
    let proxy = ProxyCommand::new(&upstream.url()).start();
    let answer = proxy.post("{}");
    assert_eq!(answer.status, 429);
    assert_eq!(answer.headers["retry-after"], "3");
    assert_eq!(answer.text(), "slow down");
}

#[test]
fn redirects_are_not_followed() {
    // Following one would send the key wherever the upstream points.
    let upstream = Upstream::start(|_, stream| {
        stream
            .write_all(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:9/steal\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    });
    let proxy = ProxyCommand::new(&upstream.url()).start();
    let answer = proxy.post("{}");
    assert_eq!(answer.status, 307);
    assert_eq!(answer.headers["location"], "http://127.0.0.1:9/steal");
    assert_eq!(upstream.received().len(), 1);
}

#[test]
fn an_upstream_url_with_a_query_is_used_as_given() {
    let upstream = Upstream::start(|_, stream| {
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    });
    let url = format!(
        "http://127.0.0.1:{}/openai/deployments/d/responses?api-version=2025-04-01-preview",
        upstream.port
    );
    let proxy = ProxyCommand::new(&url).start();
    assert_eq!(proxy.post("{}").status, 200);
    assert_eq!(
        upstream.received()[0].target,
        "/openai/deployments/d/responses?api-version=2025-04-01-preview"
    );
}

#[test]
fn the_dump_dir_holds_each_exchange_without_the_key() {
    let upstream = Upstream::start(|_, stream| {
        send_chunked_head(stream, 200, "text/event-stream");
        // An upstream that echoes the key must not put it in a dump.
        send_chunk(stream, format!("data: echo {KEY}\n\n").as_bytes());
        stream.write_all(b"0\r\n\r\n").unwrap();
    });
    let mut command = ProxyCommand::new(&upstream.url());
    let dumps = command.dir.path().join("dumps");
    command.arg("--dump-dir").arg(&dumps);
    let proxy = command.start();
    let request = "POST /v1/responses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer client-token\r\nCookie: session=1\r\nX-Cookie-Jar: 2\r\nContent-Length: 13\r\n\r\n{\"model\":\"m\"}";
    let answer = proxy.exchange(request.as_bytes());
    assert_eq!(answer.status, 200);
    eventually("the response dump", || files_under(&dumps).len() == 2);
    let files = files_under(&dumps);
    let names: Vec<String> = files
        .iter()
        .map(|(path, _)| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names[0].starts_with("000001-") && names[0].ends_with("-request.json"));
    assert!(names[1].starts_with("000001-") && names[1].ends_with("-response.json"));
    for (path, bytes) in &files {
        assert!(
            !contains(bytes, KEY.as_bytes()),
            "{} holds the key",
            path.display()
        );
        assert!(
            !contains(bytes, b"client-token"),
            "{} holds the client's token",
            path.display()
        );
        assert!(
            !contains(bytes, b"session=1"),
            "{} holds a cookie",
            path.display()
        );
    }
    let request: serde_json::Value = serde_json::from_slice(&files[0].1).unwrap();
    assert_eq!(request["method"], "POST");
    assert_eq!(request["url"], "/v1/responses");
    assert_eq!(request["body"], serde_json::json!({"model": "m"}));
    let response: serde_json::Value = serde_json::from_slice(&files[1].1).unwrap();
    assert_eq!(response["status"], 200);
    assert_eq!(response["body"], "data: echo [REDACTED]\n\n");
}

use std::io::Write;
