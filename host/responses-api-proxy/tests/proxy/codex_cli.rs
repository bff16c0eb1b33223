//! The published Codex CLI (0.169, pinned in tests/package.json) as the
//! proxy's client: `codex exec` with a model provider whose base URL is the
//! proxy, against a local upstream that speaks the Responses API's SSE.

use std::process::{Command, Stdio};
use std::time::Duration;

use codex_test_support::codex_cli;

use crate::support::*;

/// One SSE event as the Responses API frames it.
fn event(value: serde_json::Value) -> Vec<u8> {
    format!(
        "event: {}\ndata: {value}\n\n",
        value["type"].as_str().unwrap()
    )
    .into_bytes()
}

/// A streamed answer whose text arrives in three deltas.
fn answer_events(text_parts: &[&str]) -> Vec<Vec<u8>> {
    let text: String = text_parts.concat();
    let mut events = vec![
        event(serde_json::json!({"type": "response.created", "response": {"id": "resp_proxy"}})),
        event(serde_json::json!({
            "type": "response.output_item.added", "output_index": 0,
            "item": {"type": "message", "role": "assistant", "id": "msg_proxy", "content": []}
        })),
    ];
    for part in text_parts {
        events.push(event(serde_json::json!({
            "type": "response.output_text.delta", "item_id": "msg_proxy",
            "output_index": 0, "content_index": 0, "delta": part
        })));
    }
    events.push(event(serde_json::json!({
        "type": "response.output_item.done", "output_index": 0,
        "item": {"type": "message", "role": "assistant", "id": "msg_proxy",
                 "content": [{"type": "output_text", "text": text}]}
    })));
    events.push(event(serde_json::json!({
        "type": "response.completed",
        "response": {"id": "resp_proxy", "usage": {
            "input_tokens": 1, "input_tokens_details": null,
            "output_tokens": 3, "output_tokens_details": null, "total_tokens": 4
        }}
    })));
    events
}

#[test]
fn codex_exec_gets_its_answer_through_the_proxy() {
    let upstream = Upstream::start(|request, stream| {
        if request.header("authorization") != Some(&format!("Bearer {KEY}")) {
            use std::io::Write;
            stream
                .write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
            return;
        }
        send_chunked_head(stream, 200, "text/event-stream");
        for piece in answer_events(&["Streamed ", "through ", "the proxy"]) {
            send_chunk(stream, &piece);
            std::thread::sleep(Duration::from_millis(30));
        }
        use std::io::Write;
        stream.write_all(b"0\r\n\r\n").unwrap();
    });
    let proxy = ProxyCommand::new(&upstream.url()).start();

    // Not under /tmp: Codex warns about PATH aliases there.
    let home = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let provider = format!(
        "model_providers.proxy={{name=\"proxy\", base_url=\"http://127.0.0.1:{}/v1\", wire_api=\"responses\"}}",
        proxy.port
    );
    let mut child = Command::new(codex_cli())
        .args(["exec", "--skip-git-repo-check", "--color", "never"])
        .args(["-c", "model_provider=proxy", "-c", &provider])
        .args(["-m", "test-model", "-C"])
        .arg(work.path())
        .arg("say something")
        .env("CODEX_HOME", home.path())
        .env_remove("OPENAI_API_KEY")
        .env_remove("CODEX_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "codex exec did not finish in 90 s; stderr: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "codex exec failed: {stderr}");
    assert!(
        stdout.contains("Streamed through the proxy"),
        "stdout: {stdout}\nstderr: {stderr}"
    );

    let received = upstream.received();
    assert!(!received.is_empty());
    for request in &received {
        assert_eq!(request.target, "/v1/responses");
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["model"], "test-model");
    }
    assert!(!proxy.stderr().contains(KEY));
}
