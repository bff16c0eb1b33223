//! Logins against a local authorization server: `codex mcp add` logging
//! in by itself (feature `mcp_oauth_auto_login`), one login through a real
//! browser (headless Chromium), and servers that misbehave on purpose: a
//! forged callback (wrong `state`), an `iss` from another issuer (RFC
//! 9207), metadata without PKCE, an authorization server on plain HTTP
//! elsewhere, a token endpoint that never answers. Each misbehaviour is a
//! clear error (or, for the forged callback, a refusal while the real one
//! goes on), and the stored credentials are left as they were.
//!
//! The server here is both the MCP server and its authorization server, on
//! 127.0.0.1; the "browser" is a script that follows its redirect.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use codex_test_support::{Home, stderr, stdout};

/// How the authorization server misbehaves.
#[derive(Clone, Copy, PartialEq)]
enum Fault {
    /// Its metadata has no `code_challenge_methods_supported`.
    NoPkce,
    /// The protected resource names an authorization server on plain HTTP
    /// on another machine.
    PlainHttp,
    /// It promises `iss` and then sends another issuer's.
    IssMismatch,
    /// Its token endpoint never answers.
    HungToken,
    /// None: the browser forges a callback first.
    None,
}

const TOKEN: &str = "fresh-access-token-0123456789";

/// Serves the MCP and authorization endpoints with `fault` on 127.0.0.1;
/// returns the MCP URL. The thread lives as long as the test process.
fn serve(fault: Fault) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(5000) {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || answer(stream, port, fault));
        }
    });
    format!("http://127.0.0.1:{port}/mcp")
}

fn answer(mut stream: TcpStream, port: u16, fault: Fault) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    let _ = reader.read_line(&mut request_line);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let origin = format!("http://127.0.0.1:{port}");
    let json = |status: &str, body: String| {
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let response = match path {
        "/mcp" => format!(
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer resource_metadata=\"{origin}/.well-known/oauth-protected-resource/mcp\"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        ),
        "/.well-known/oauth-protected-resource/mcp" => {
            let issuer = if fault == Fault::PlainHttp {
                "http://auth.example.com".to_owned()
            } else {
                origin.clone()
            };
            json(
                "200 OK",
                serde_json::json!({"resource": format!("{origin}/mcp"), "authorization_servers": [issuer]})
                    .to_string(),
            )
        }
        "/.well-known/oauth-authorization-server" => {
            let mut metadata = serde_json::json!({
                "issuer": origin,
                "authorization_endpoint": format!("{origin}/authorize"),
                "token_endpoint": format!("{origin}/token"),
                "registration_endpoint": format!("{origin}/register"),
                "code_challenge_methods_supported": ["S256"],
                "authorization_response_iss_parameter_supported": fault == Fault::IssMismatch,
            });
            if fault == Fault::NoPkce {
                metadata
                    .as_object_mut()
                    .unwrap()
                    .remove("code_challenge_methods_supported");
            }
            json("200 OK", metadata.to_string())
        }
        "/register" => json(
            "201 Created",
            serde_json::json!({"client_id": "faulty-client", "token_endpoint_auth_method": "none"})
                .to_string(),
        ),
        "/authorize" => {
            let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
            let get = |key: &str| {
                pairs
                    .iter()
                    .find(|(name, _)| name == key)
                    .map(|(_, value)| value.clone())
                    .unwrap_or_default()
            };
            let mut location = url::Url::parse(&get("redirect_uri")).unwrap();
            location
                .query_pairs_mut()
                .append_pair("code", "the-code")
                .append_pair("state", &get("state"));
            if fault == Fault::IssMismatch {
                location
                    .query_pairs_mut()
                    .append_pair("iss", "http://evil.example.com");
            }
            format!(
                "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
        }
        "/token" if fault == Fault::HungToken => {
            std::thread::sleep(Duration::from_secs(45));
            return;
        }
        "/token" => json(
            "200 OK",
            serde_json::json!({"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600})
                .to_string(),
        ),
        _ => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned(),
    };
    let _ = stream.write_all(response.as_bytes());
}

/// A `$BROWSER` that takes the authorization server's redirect and goes to
/// it; with `forge`, first to the same callback with another `state`,
/// writing what the callback answered that to `forged.txt` beside it.
fn browser(dir: &Path, forge: bool) -> PathBuf {
    let path = dir.join("browser.py");
    let script = format!(
        r#"#!/usr/bin/env python3
import sys, urllib.error, urllib.parse, urllib.request
class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
try:
    urllib.request.build_opener(Stay).open(sys.argv[1], timeout=30)
    sys.exit("browser.py: no redirect")
except urllib.error.HTTPError as answer:
    location = answer.headers["Location"]
if {forge}:
    parts = urllib.parse.urlsplit(location)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query["state"] = "forged"
    forged = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    try:
        urllib.request.urlopen(forged, timeout=30)
        seen = "200"
    except urllib.error.HTTPError as answer:
        seen = f"{{answer.code}} {{answer.read().decode()}}"
    with open("{out}", "w") as out:
        out.write(seen)
try:
    urllib.request.urlopen(location, timeout=30)
except urllib.error.HTTPError as answer:
    print(f"browser.py: {{answer.code}}", file=sys.stderr)
"#,
        forge = if forge { "True" } else { "False" },
        out = dir.join("forged.txt").display(),
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

/// A home with server `faulty` at `url` and a stored login of another
/// server; returns it with the credentials file's bytes.
fn home_with_stored_login(url: &str) -> (Home, Vec<u8>) {
    let home = Home::new();
    home.write_config(&format!(
        "mcp_oauth_credentials_store = \"file\"\n[mcp_servers.faulty]\nurl = \"{url}\"\n"
    ));
    let kept_url = "http://127.0.0.1:9/mcp";
    let key = codex_file::mcp_account_key("kept", kept_url);
    let entry = serde_json::json!({ key: {
        "server_name": "kept", "server_url": kept_url, "client_id": "c",
        "access_token": "kept-token", "expires_at": null, "refresh_token": null, "scopes": []
    }});
    let path = home.path().join(".credentials.json");
    std::fs::write(&path, entry.to_string()).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (home, bytes)
}

/// `codex mcp login faulty` against `fault`: it fails with `expected` in
/// its message and leaves the credentials file byte for byte as it was.
fn login_fails(fault: Fault, expected: &str) {
    let url = serve(fault);
    let (home, before) = home_with_stored_login(&url);
    let output = home
        .codex()
        .env("BROWSER", browser(home.path(), false))
        .args(["mcp", "login", "faulty"])
        .output()
        .unwrap();
    let errors = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{errors}");
    assert!(
        errors.contains(expected),
        "expected `{expected}` in:\n{errors}"
    );
    assert!(!errors.contains("panicked"), "{errors}");
    let after = std::fs::read(home.path().join(".credentials.json")).unwrap();
    assert_eq!(after, before, "the stored credentials changed");
}

#[test]
fn metadata_without_pkce_is_refused() {
    login_fails(
        Fault::NoPkce,
        "does not offer PKCE with S256 (`code_challenge_methods_supported` is missing); refusing to log in without it",
    );
}

#[test]
fn an_authorization_server_on_plain_http_elsewhere_is_refused() {
    login_fails(
        Fault::PlainHttp,
        "is at http://auth.example.com/, plain HTTP on another machine; refusing to send credentials over it",
    );
}

#[test]
fn an_answer_from_another_issuer_is_discarded() {
    login_fails(
        Fault::IssMismatch,
        "comes from issuer `http://evil.example.com`, not `http://127.0.0.1:",
    );
}

#[test]
fn a_hung_token_endpoint_times_out() {
    login_fails(Fault::HungToken, "did not answer in 30 s");
}

#[test]
fn a_forged_callback_is_refused_and_the_real_one_logs_in() {
    let url = serve(Fault::None);
    let (home, _) = home_with_stored_login(&url);
    let output = home
        .codex()
        .env("BROWSER", browser(home.path(), true))
        .args(["mcp", "login", "faulty"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "Successfully logged in to MCP server 'faulty'.\n"
    );
    let forged = std::fs::read_to_string(home.path().join("forged.txt")).unwrap();
    assert!(
        forged.starts_with("400 ") && forged.contains("the state does not match"),
        "{forged}"
    );
    let stored = std::fs::read_to_string(home.path().join(".credentials.json")).unwrap();
    assert!(stored.contains("kept-token"), "{stored}");
    assert!(stored.contains(TOKEN), "the new login is stored");
    for text in [stdout(&output), stderr(&output)] {
        assert!(!text.contains(TOKEN), "a token in the output: {text}");
    }
}

/// A `$BROWSER` that is headless Chromium, saving the page it ends at.
fn chromium(dir: &Path) -> PathBuf {
    let found = std::process::Command::new("sh")
        .args(["-c", "command -v chromium"])
        .output()
        .map(|output| output.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "chromium is not installed; run tests/keyring/setup.sh (it installs Debian's chromium)"
    );
    let path = dir.join("chromium.sh");
    let script = format!(
        "#!/bin/sh\nexec chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir='{dir}/profile' --dump-dom \"$1\" >'{dir}/page.html' 2>'{dir}/chromium.log'\n",
        dir = dir.display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

#[test]
fn a_real_headless_browser_completes_a_login() {
    let url = serve(Fault::None);
    let (home, _) = home_with_stored_login(&url);
    let output = home
        .codex()
        .env("BROWSER", chromium(home.path()))
        .args(["mcp", "login", "faulty"])
        .output()
        .unwrap();
    let log = std::fs::read_to_string(home.path().join("chromium.log")).unwrap_or_default();
    assert!(
        output.status.success(),
        "{}\nchromium: {log}",
        stderr(&output)
    );
    let stored = std::fs::read_to_string(home.path().join(".credentials.json")).unwrap();
    assert!(stored.contains(TOKEN), "the login is stored");
    // Chromium may still be writing the page when the login has its code.
    let page_path = home.path().join("page.html");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut page = String::new();
    while std::time::Instant::now() < deadline {
        page = std::fs::read_to_string(&page_path).unwrap_or_default();
        if page.contains("</html>") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        page.contains("Authentication complete. You may close this window."),
        "the browser ended at: {page}\nchromium: {log}"
    );
}

#[test]
fn mcp_add_logs_in_by_itself_unless_the_feature_is_off() {
    let url = serve(Fault::None);
    let home = Home::new();
    home.write_config("mcp_oauth_credentials_store = \"file\"\n");
    let browser = browser(home.path(), false);
    let credentials = home.path().join(".credentials.json");

    let off = home
        .codex()
        .env("BROWSER", &browser)
        .args([
            "--disable",
            "mcp_oauth_auto_login",
            "mcp",
            "add",
            "off",
            "--url",
            &url,
        ])
        .output()
        .unwrap();
    assert!(off.status.success(), "{}", stderr(&off));
    assert!(
        stderr(&off)
            .contains("MCP server `off` asks for OAuth; run `codex mcp login off` to log in."),
        "{}",
        stderr(&off)
    );
    assert!(!credentials.exists(), "nothing is stored without a login");

    let on = home
        .codex()
        .env("BROWSER", &browser)
        .args(["mcp", "add", "on", "--url", &url])
        .output()
        .unwrap();
    assert!(on.status.success(), "{}", stderr(&on));
    assert!(
        stderr(&on).contains("Successfully logged in to MCP server 'on'."),
        "{}",
        stderr(&on)
    );
    let stored = std::fs::read_to_string(&credentials).unwrap();
    assert!(stored.contains(TOKEN), "the login is stored");
    let list = home
        .codex()
        .args(["mcp", "list", "--json"])
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let status = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|entry| entry["name"] == name)
            .map(|entry| entry["auth_status"].clone())
    };
    assert_eq!(status("on"), Some("o_auth".into()));
    assert_eq!(status("off"), Some("not_logged_in".into()));
}

/// SIGINT while `mcp login` waits for the browser (its loopback listener
/// up): the process ends at once and the stored credentials are as they
/// were.
#[test]
fn sigint_during_a_login_loses_nothing() {
    use std::io::BufRead;

    let url = serve(Fault::None);
    let (home, before) = home_with_stored_login(&url);
    let mut child = std::process::Command::new(codex_test_support::codex_bin())
        .env("CODEX_HOME", home.path())
        .env("CODEX_SYSTEM_CONFIG", home.path().join("none.toml"))
        .env(
            "CODEX_MANAGED_CONFIG",
            home.path().join("none-managed.toml"),
        )
        // A browser that opens nothing: the login waits for its callback.
        .env("BROWSER", "true")
        .args(["mcp", "login", "faulty"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut redirect = None;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while redirect.is_none() && std::time::Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(start) = line.find("redirect_uri=") {
            let encoded = line[start + "redirect_uri=".len()..]
                .split('&')
                .next()
                .unwrap();
            redirect = Some(
                url::form_urlencoded::parse(format!("r={encoded}").as_bytes())
                    .next()
                    .unwrap()
                    .1
                    .into_owned(),
            );
        }
    }
    let redirect =
        url::Url::parse(&redirect.expect("the login printed no authorization URL")).unwrap();
    let callback = format!("127.0.0.1:{}", redirect.port().unwrap());
    assert!(
        TcpStream::connect(&callback).is_ok(),
        "the listener is up while waiting"
    );
    // SAFETY: kill with a pid this test spawned and has not reaped.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let started = std::time::Instant::now();
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let after = std::fs::read(home.path().join(".credentials.json")).unwrap();
    assert_eq!(after, before, "the stored credentials changed");
}

/// Ten `codex mcp login` processes at once, twenty servers each, all
/// storing into one `.credentials.json`: every login is there afterwards.
#[test]
fn ten_processes_logging_in_to_twenty_servers_each_lose_none() {
    let url = serve(Fault::None);
    let home = Home::new();
    let mut config = String::from("mcp_oauth_credentials_store = \"file\"\n");
    for process in 0..10 {
        for server in 0..20 {
            config.push_str(&format!(
                "[mcp_servers.s{process}_{server}]\nurl = \"{url}\"\n"
            ));
        }
    }
    home.write_config(&config);
    let browser = browser(home.path(), false);
    std::thread::scope(|scope| {
        for process in 0..10 {
            let (home, browser) = (&home, &browser);
            scope.spawn(move || {
                for server in 0..20 {
                    let name = format!("s{process}_{server}");
                    let output = home
                        .codex()
                        .env("BROWSER", browser)
                        .args(["mcp", "login", &name])
                        .output()
                        .unwrap();
                    assert!(output.status.success(), "{name}: {}", stderr(&output));
                }
            });
        }
    });
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.path().join(".credentials.json")).unwrap())
            .unwrap();
    let entries = stored.as_object().unwrap();
    assert_eq!(entries.len(), 200, "logins were lost");
    for process in 0..10 {
        for server in 0..20 {
            let key = codex_file::mcp_account_key(&format!("s{process}_{server}"), &url);
            assert!(
                entries.contains_key(&key),
                "no login for s{process}_{server}"
            );
        }
    }
}
