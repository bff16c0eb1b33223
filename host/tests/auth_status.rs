//! The Auth column of `codex mcp list`: every state, and probes that run
//! concurrently, against small HTTP servers on 127.0.0.1.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{Home, stderr};
use serde_json::Value;

/// How a test server answers.
#[derive(Clone, Copy)]
enum Kind {
    /// 401 on the endpoint naming protected-resource metadata, which it serves.
    OAuth,
    /// 404 for everything: no authorization at all.
    Plain,
}

/// Serves `kind` on 127.0.0.1 from a thread, waiting `delay` before every
/// answer; stops after `max_requests`. Returns the MCP URL.
fn serve(kind: Kind, delay: Duration, max_requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(max_requests) {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                std::thread::sleep(delay);
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .to_string();
                let metadata =
                    format!("http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp");
                let response = match (kind, path.as_str()) {
                    (Kind::OAuth, "/mcp") => format!(
                        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer resource_metadata=\"{metadata}\"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    ),
                    (Kind::OAuth, "/.well-known/oauth-protected-resource/mcp") => {
                        let body = format!(
                            "{{\"resource\":\"http://127.0.0.1:{port}/mcp\",\"authorization_servers\":[\"http://127.0.0.1:{port}/\"],\"scopes_supported\":[\"mcp\"]}}"
                        );
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    }
                    _ => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        .to_string(),
                };
                let _ = stream.write_all(response.as_bytes());
            });
        }
    });
    format!("http://127.0.0.1:{port}/mcp")
}

fn list_json(home: &Home) -> Vec<Value> {
    let output = home
        .codex()
        .args(["mcp", "list", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice::<Value>(&output.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn status<'a>(list: &'a [Value], name: &str) -> &'a str {
    list.iter().find(|s| s["name"] == name).unwrap()["auth_status"]
        .as_str()
        .unwrap()
}

#[test]
fn each_auth_state_is_reported() {
    let home = Home::new();
    let oauth = serve(Kind::OAuth, Duration::ZERO, 50);
    let plain = serve(Kind::Plain, Duration::ZERO, 50);
    let stored = serve(Kind::OAuth, Duration::ZERO, 50);
    home.write_config(&format!(
        "mcp_oauth_credentials_store = \"file\"\n\
         [mcp_servers.needs_login]\nurl = \"{oauth}\"\n\
         [mcp_servers.open]\nurl = \"{plain}\"\n\
         [mcp_servers.bearer]\nurl = \"{plain}\"\nbearer_token_env_var = \"SOME_TOKEN\"\n\
         [mcp_servers.logged_in]\nurl = \"{stored}\"\n\
         [mcp_servers.local]\ncommand = \"true\"\n"
    ));
    // Tokens stored the way Codex stores them in the file store.
    let key = codex_file::mcp_account_key("logged_in", &stored);
    let credentials = serde_json::json!({ key: {
        "server_name": "logged_in", "server_url": stored, "client_id": "c",
        "access_token": "stored-token", "expires_at": null, "refresh_token": null, "scopes": []
    }});
    let path = home.path().join(".credentials.json");
    std::fs::write(&path, credentials.to_string()).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();

    let list = list_json(&home);
    assert_eq!(status(&list, "needs_login"), "not_logged_in");
    assert_eq!(status(&list, "open"), "unsupported");
    assert_eq!(status(&list, "bearer"), "bearer_token");
    assert_eq!(status(&list, "logged_in"), "o_auth");
    assert_eq!(status(&list, "local"), "unsupported");

    let text = home.codex().args(["mcp", "list"]).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.lines()
            .any(|l| l.starts_with("needs_login") && l.trim_end().ends_with("Not logged in")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("logged_in") && l.trim_end().ends_with("OAuth")),
        "{text}"
    );
    assert!(!text.contains("stored-token"));
}

#[test]
fn ten_slow_servers_are_probed_at_once() {
    let home = Home::new();
    let mut config = String::new();
    for index in 0..10 {
        let url = serve(Kind::OAuth, Duration::from_millis(1000), 50);
        config.push_str(&format!("[mcp_servers.slow{index}]\nurl = \"{url}\"\n"));
    }
    home.write_config(&config);
    let started = Instant::now();
    let list = list_json(&home);
    let took = started.elapsed();
    for index in 0..10 {
        assert_eq!(status(&list, &format!("slow{index}")), "not_logged_in");
    }
    // Each probe needs two answers of 1 s each; one after another would take 20 s.
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn mcp_logout_deletes_stored_tokens_and_says_so() {
    let home = Home::new();
    let url = "http://127.0.0.1:9/mcp";
    home.write_config(&format!(
        "mcp_oauth_credentials_store = \"file\"\n[mcp_servers.remote]\nurl = \"{url}\"\n[mcp_servers.local]\ncommand = \"true\"\n"
    ));
    let key = codex_file::mcp_account_key("remote", url);
    let path = home.path().join(".credentials.json");
    let entry = serde_json::json!({ key: {
        "server_name": "remote", "server_url": url, "client_id": "c",
        "access_token": "stored-token", "expires_at": null, "refresh_token": null, "scopes": []
    }});
    std::fs::write(&path, entry.to_string()).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();

    let output = home
        .codex()
        .args(["mcp", "logout", "remote"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Removed OAuth credentials for 'remote'.\n"
    );
    assert!(
        !path.exists(),
        "the emptied credentials file should be gone"
    );

    let again = home
        .codex()
        .args(["mcp", "logout", "remote"])
        .output()
        .unwrap();
    assert!(again.status.success());
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        "No OAuth credentials stored for 'remote'.\n"
    );

    let local = home
        .codex()
        .args(["mcp", "logout", "local"])
        .output()
        .unwrap();
    assert_eq!(local.status.code(), Some(1));
    assert!(
        stderr(&local).contains("OAuth logout is only supported for streamable_http transports.")
    );
    let missing = home
        .codex()
        .args(["mcp", "logout", "nope"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("No MCP server named 'nope' found in configuration."));
}
