//! `codex login` with a ChatGPT account through the built binary, against
//! real peers: node-oidc-provider playing Codex's issuer
//! (tests/oauth/provider.mjs with `OAUTH_CODEX_ISSUER`: PKCE, rotating
//! refresh tokens, revocation) driven by the scripted browser
//! (tests/oauth/browser.py), headless Chromium for one login end to end, and
//! a local stand-in for Codex's own device-code endpoints (which no
//! standard server has). The `auth.json` written is read by the pinned Codex
//! 0.169, and its device login against the same stand-in writes the same
//! document.
//!
//! Bad input: a callback with another `state`, an error callback, a busy
//! port, a device code that expires, an issuer without device login, a
//! failing token endpoint, Ctrl-C: each a clear error and nothing written.
//! Policies: `forced_login_method` and `forced_chatgpt_workspace_id` with
//! Codex's messages, for new logins and for stored ones.
//!
//! Everything listens on 127.0.0.1; each login uses a free port of its own
//! (`CODEX_LOGIN_PORT`), never 1455.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use codex_test_support::server::{Request, Responder, TestServer};
use codex_test_support::{Home, codex_bin, codex_cli, stderr, stdout, workspace_root};
use serde_json::{Value, json};

pub(crate) const CLIENT_ID: &str = "app_EMoamEEZ73f0CkXaXp7hrann";
pub(crate) const ACCOUNT: &str = "ws-acme-1";

pub(crate) fn oauth_dir() -> PathBuf {
    workspace_root().join("tests/oauth")
}

/// A free port on 127.0.0.1 (bound, then released for the login to take).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An unsigned JWT with OpenAI's claims, as the stand-in issues them.
pub(crate) fn id_token(account: Option<&str>) -> String {
    let mut payload = json!({"email": "ada@example.com", "sub": "user-1"});
    if let Some(account) = account {
        payload["https://api.openai.com/auth"] = json!({
            "chatgpt_account_id": account,
            "chatgpt_plan_type": "pro",
            "chatgpt_user_id": "user-1",
        });
    }
    format!(
        "{}.{}.c2lnbmF0dXJl",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    )
}

/// `codex` (ours, or the pinned Codex) on `home` as a std command, for
/// tests that watch its output while it runs.
fn command(binary: &Path, home: &Home) -> Command {
    let mut command = Command::new(binary);
    command
        .env("CODEX_HOME", home.path())
        .env("CODEX_SYSTEM_CONFIG", home.path().join("no-system.toml"))
        .env("CODEX_MANAGED_CONFIG", home.path().join("no-managed.toml"))
        // No browser opens unless a test names one: the test plays it.
        .env("BROWSER", "true")
        .env_remove("CODEX_LOGIN_ISSUER")
        .env_remove("CODEX_LOGIN_CLIENT_ID")
        .env_remove("CODEX_INTERNAL_ORIGINATOR_OVERRIDE")
        .env_remove("CODEX_REVOKE_TOKEN_URL_OVERRIDE")
        .stdin(Stdio::null());
    command
}

/// Runs to the end, within `limit`.
fn run(mut command: Command, limit: Duration) -> Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait(child, limit)
}

fn wait(mut child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "did not finish within {limit:?}; stderr: {}",
                stderr(&output)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// Writes a file of secrets as Codex does (0600).
fn write_secret(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
}

fn auth_json(home: &Home) -> PathBuf {
    home.path().join("auth.json")
}

fn document(home: &Home) -> Value {
    serde_json::from_str(&fs::read_to_string(auth_json(home)).unwrap()).unwrap()
}

/// The shape of a document: its keys, nested, with the values left out.
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), shape(value)))
                .collect(),
        ),
        Value::Null => Value::Null,
        _ => json!("value"),
    }
}

/// What the pinned Codex 0.169 says of the login in `home`.
pub(crate) fn codex_status(home: &Home) -> Output {
    run(
        {
            let mut status = command(&codex_cli(), home);
            status.args(["login", "status"]);
            status
        },
        Duration::from_secs(60),
    )
}

// ---- the stand-in for Codex's issuer ------------------------------------

/// How the stand-in's endpoints behave.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Issuer {
    /// The device code is approved at the second poll.
    Approves,
    /// The device code is never entered.
    NeverApproved,
    /// The device code is refused (410, expired) at the first poll.
    Expired,
    /// No device login (404 for the user code).
    NoDeviceLogin,
    /// The token endpoint fails with a 500.
    TokenFails,
}

/// A local issuer with Codex's device endpoints, `/oauth/authorize` (which
/// approves at once and sends the browser back with the code and `state`),
/// and `/oauth/token`, issuing tokens for `account`.
pub(crate) fn stand_in(behaviour: Issuer, account: Option<&'static str>) -> TestServer {
    let polls = Arc::new(AtomicUsize::new(0));
    TestServer::start(move |request: &Request, respond: &mut Responder<'_>| {
        let path = request.path.split('?').next().unwrap_or_default();
        match (request.method.as_str(), path) {
            ("POST", "/api/accounts/deviceauth/usercode") => {
                if behaviour == Issuer::NoDeviceLogin {
                    respond.json(404, &[], &json!({"error": "not found"}));
                } else {
                    respond.json(
                        200,
                        &[],
                        &json!({"device_auth_id": "dev-auth-1", "user_code": "WXYZ-2345", "interval": "1"}),
                    );
                }
            }
            ("POST", "/api/accounts/deviceauth/token") => {
                let poll = polls.fetch_add(1, Ordering::SeqCst);
                match behaviour {
                    Issuer::Expired => respond.json(
                        410,
                        &[],
                        &json!({"error": "expired_token", "error_description": "the device code has expired"}),
                    ),
                    Issuer::Approves | Issuer::TokenFails if poll >= 1 => respond.json(
                        200,
                        &[],
                        &json!({"authorization_code": "device-code-1", "code_challenge": "challenge-1", "code_verifier": "verifier-1"}),
                    ),
                    _ => respond.json(403, &[], &json!({"error": "authorization_pending"})),
                }
            }
            ("GET", "/oauth/authorize") => {
                let query = request.path.split_once('?').map(|(_, q)| q).unwrap_or("");
                let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect();
                let get = |name: &str| {
                    params
                        .iter()
                        .find(|(key, _)| key == name)
                        .map(|(_, value)| value.clone())
                        .unwrap_or_default()
                };
                let mut location = url::Url::parse(&get("redirect_uri")).unwrap();
                location
                    .query_pairs_mut()
                    .append_pair("code", "browser-code-1")
                    .append_pair("state", &get("state"));
                respond.send(302, "", &[("Location", location.as_str())], "");
            }
            ("POST", "/oauth/token") => {
                if behaviour == Issuer::TokenFails {
                    respond.json(
                        500,
                        &[],
                        &json!({"error": "server_error", "error_description": "the token database is down"}),
                    );
                } else if request.body.contains("token-exchange") {
                    respond.json(400, &[], &json!({"error": "unsupported_grant_type"}));
                } else {
                    respond.json(
                        200,
                        &[],
                        &json!({"id_token": id_token(account), "access_token": "access-token-1", "refresh_token": "refresh-token-1"}),
                    );
                }
            }
            ("POST", "/oauth/revoke") => respond.json(200, &[], &json!({})),
            _ => respond.json(404, &[], &json!({"error": "not found"})),
        }
    })
}

fn device_login(home: &Home, issuer: &TestServer) -> Command {
    let mut login = command(&codex_bin(), home);
    login.args([
        "login",
        "--device-auth",
        "--experimental_issuer",
        &issuer.url(""),
    ]);
    login
}

#[test]
fn device_login_writes_what_codex_writes_and_codex_reads_it() {
    let issuer = stand_in(Issuer::Approves, Some(ACCOUNT));
    let ours = Home::new();
    let output = run(device_login(&ours, &issuer), Duration::from_secs(60));
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    assert!(
        printed.contains(&format!("{}/codex/device", issuer.url("")))
            && printed.contains("WXYZ-2345")
            && printed.contains("(expires in 15 minutes)"),
        "{printed}"
    );
    assert!(
        stderr(&output).contains("Successfully logged in"),
        "{}",
        stderr(&output)
    );
    let mode = fs::metadata(auth_json(&ours)).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let written = document(&ours);
    assert_eq!(written["auth_mode"], "chatgpt");
    assert_eq!(written["tokens"]["account_id"], ACCOUNT);
    assert_eq!(written["tokens"]["refresh_token"], "refresh-token-1");
    assert_eq!(
        written["tokens"]["oauth_provenance"],
        json!({"issuer": issuer.url(""), "client_id": CLIENT_ID})
    );

    // What went over the wire: Codex's requests, our originator.
    let requests = issuer.requests();
    let usercode = requests
        .iter()
        .find(|r| r.path == "/api/accounts/deviceauth/usercode")
        .unwrap();
    assert_eq!(usercode.json(), json!({"client_id": CLIENT_ID}));
    assert_eq!(usercode.header("originator"), Some("codex_cli_rs"));
    let polls: Vec<&Request> = requests
        .iter()
        .filter(|r| r.path == "/api/accounts/deviceauth/token")
        .collect();
    assert_eq!(polls.len(), 2, "pending once, then approved");
    assert!(
        polls[1].at - polls[0].at >= Duration::from_millis(900),
        "polled at the server's interval"
    );
    let exchange = requests.iter().find(|r| r.path == "/oauth/token").unwrap();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(exchange.body.as_bytes())
        .into_owned()
        .collect();
    let redirect = format!("{}/deviceauth/callback", issuer.url(""));
    for expected in [
        ("grant_type", "authorization_code"),
        ("client_id", CLIENT_ID),
        ("code", "device-code-1"),
        ("redirect_uri", redirect.as_str()),
        ("code_verifier", "verifier-1"),
    ] {
        assert!(
            form.iter()
                .any(|(k, v)| (k.as_str(), v.as_str()) == expected),
            "{expected:?} in {form:?}"
        );
    }

    // The pinned Codex reads it, and its own login writes the same shape.
    let status = codex_status(&ours);
    assert!(status.status.success(), "{}", stderr(&status));
    assert!(
        stderr(&status).contains("Logged in using ChatGPT"),
        "{}",
        stderr(&status)
    );
    let theirs = Home::new();
    let mut codex = command(&codex_cli(), &theirs);
    codex.args([
        "login",
        "--device-auth",
        "--experimental_issuer",
        &issuer.url(""),
    ]);
    let output = run(codex, Duration::from_secs(60));
    assert!(output.status.success(), "{}", stderr(&output));
    let reference = document(&theirs);
    assert_eq!(shape(&written), shape(&reference));
    for key in ["id_token", "access_token", "refresh_token", "account_id"] {
        assert_eq!(written["tokens"][key], reference["tokens"][key], "{key}");
    }

    // Our status says what Codex's does; logout revokes, then deletes.
    let status = run(
        {
            let mut status = command(&codex_bin(), &ours);
            status.args(["login", "status"]);
            status
        },
        Duration::from_secs(30),
    );
    assert_eq!(stderr(&status), "Logged in using ChatGPT\n");
    let logout = run(
        {
            let mut logout = command(&codex_bin(), &ours);
            logout.arg("logout");
            logout
        },
        Duration::from_secs(30),
    );
    assert_eq!(stderr(&logout), "Successfully logged out\n");
    assert!(!auth_json(&ours).exists());
    let revoke = issuer
        .requests()
        .into_iter()
        .find(|r| r.path == "/oauth/revoke")
        .expect("logout revokes at the issuer");
    assert_eq!(
        revoke.json(),
        json!({"token": "refresh-token-1", "token_type_hint": "refresh_token", "client_id": CLIENT_ID})
    );
}

#[test]
fn a_new_login_revokes_the_one_it_replaces() {
    let issuer = stand_in(Issuer::Approves, Some(ACCOUNT));
    let home = Home::new();
    let mut previous: Value = serde_json::from_str(&chatgpt_document(Some(ACCOUNT))).unwrap();
    previous["tokens"]["refresh_token"] = json!("previous-refresh-token");
    previous["tokens"]["oauth_provenance"] =
        json!({"issuer": issuer.url(""), "client_id": CLIENT_ID});
    write_secret(&auth_json(&home), &previous.to_string());
    let output = run(device_login(&home, &issuer), Duration::from_secs(60));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        document(&home)["tokens"]["refresh_token"],
        "refresh-token-1"
    );
    let revoked: Vec<Value> = issuer
        .requests()
        .iter()
        .filter(|r| r.path == "/oauth/revoke")
        .map(Request::json)
        .collect();
    assert_eq!(
        revoked,
        [
            json!({"token": "previous-refresh-token", "token_type_hint": "refresh_token", "client_id": CLIENT_ID})
        ]
    );
}

#[test]
fn the_originator_override_reaches_every_login_request() {
    let issuer = stand_in(Issuer::Approves, Some(ACCOUNT));
    let home = Home::new();
    let mut login = device_login(&home, &issuer);
    login.env("CODEX_INTERNAL_ORIGINATOR_OVERRIDE", "codex_test_app");
    let output = run(login, Duration::from_secs(60));
    assert!(output.status.success(), "{}", stderr(&output));
    let requests = issuer.requests();
    assert_eq!(requests.len(), 4, "{requests:?}");
    for request in requests {
        assert_eq!(
            request.header("originator"),
            Some("codex_test_app"),
            "{}",
            request.path
        );
    }
}

#[test]
fn device_login_failures_are_clear_and_write_nothing() {
    let cases: [(Issuer, &[&str]); 4] = [
        (
            Issuer::NoDeviceLogin,
            &[
                "Error logging in: device code login is not enabled for this Codex server. Use the browser login",
                "`codex login` without --device-auth",
            ],
        ),
        (
            Issuer::Expired,
            &[
                "device auth failed with status 410 Gone: the device code has expired",
                "run `codex login --device-auth` again",
            ],
        ),
        (
            Issuer::NeverApproved,
            &[
                "device auth timed out after 2 seconds",
                "again for a new code",
            ],
        ),
        (
            Issuer::TokenFails,
            &[
                "Token exchange failed: device code exchange failed: token endpoint returned status 500 Internal Server Error: the token database is down",
            ],
        ),
    ];
    for (behaviour, expected) in cases {
        let issuer = stand_in(behaviour, Some(ACCOUNT));
        let home = Home::new();
        let mut login = device_login(&home, &issuer);
        login.env("CODEX_DEVICE_AUTH_TIMEOUT_SECS", "2");
        let output = run(login, Duration::from_secs(60));
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        for text in expected {
            assert!(
                stderr(&output).contains(text),
                "{text}: {}",
                stderr(&output)
            );
        }
        assert!(!auth_json(&home).exists(), "nothing is written");
        assert!(!stderr(&output).contains("refresh-token-1"));
    }
}

#[test]
fn ctrl_c_cancels_a_device_login_cleanly() {
    let issuer = stand_in(Issuer::NeverApproved, Some(ACCOUNT));
    let home = Home::new();
    let child = device_login(&home, &issuer)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        issuer.wait_for(Duration::from_secs(30), |requests| requests
            .iter()
            .any(|r| r.path == "/api/accounts/deviceauth/token")),
        "polling started"
    );
    // SAFETY: kill(2) on the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = wait(child, Duration::from_secs(20));
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("Login cancelled; nothing was saved."),
        "{}",
        stderr(&output)
    );
    assert!(!auth_json(&home).exists());
}

// ---- the browser flow -----------------------------------------------------

/// A browser login started in the background: its process, and the URL it
/// printed (read from its stderr).
struct BrowserLogin {
    child: Child,
    url: url::Url,
    stderr: Receiver<String>,
    seen: Vec<String>,
}

impl BrowserLogin {
    fn start(mut login: Command) -> BrowserLogin {
        let mut child = login
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (sender, stderr) = mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = stderr.recv_timeout(left) else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no authorization URL; stderr: {}", seen.join("\n"));
            };
            seen.push(line.clone());
            if line.contains("/oauth/authorize?") {
                let url = url::Url::parse(line.trim()).unwrap();
                return BrowserLogin {
                    child,
                    url,
                    stderr,
                    seen,
                };
            }
        }
    }

    fn param(&self, name: &str) -> String {
        self.url
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    }

    /// Ends it within `limit`: its exit code and everything it said.
    fn finish(self, limit: Duration) -> (Option<i32>, String) {
        let output = wait(self.child, limit);
        let mut said = self.seen;
        said.extend(self.stderr.try_iter());
        said.push(stderr(&output));
        (output.status.code(), said.join("\n"))
    }
}

/// A GET on 127.0.0.1: the status line and the whole answer.
fn get(port: u16, target: &str) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer.lines().next().unwrap_or_default().to_owned();
    (status, answer)
}

fn browser_login(home: &Home, issuer: &str, port: u16) -> Command {
    let mut login = command(&codex_bin(), home);
    login
        .args(["login", "--experimental_issuer", issuer])
        .env("CODEX_LOGIN_PORT", port.to_string());
    login
}

#[test]
fn a_forged_callback_is_refused_and_an_error_callback_ends_the_login() {
    let issuer = stand_in(Issuer::Approves, Some(ACCOUNT));
    let home = Home::new();
    let port = free_port();
    let login = BrowserLogin::start(browser_login(&home, &issuer.url(""), port));
    assert_eq!(
        login.param("redirect_uri"),
        format!("http://localhost:{port}/auth/callback")
    );
    assert_eq!(login.param("code_challenge_method"), "S256");
    assert_eq!(login.param("client_id"), CLIENT_ID);
    assert_eq!(login.param("originator"), "codex_cli_rs");
    assert_eq!(
        login.param("scope"),
        "openid profile email offline_access api.connectors.read api.connectors.invoke"
    );
    assert!(login.param("state").len() >= 32);
    assert!(login.param("code_challenge").len() >= 43);

    let (status, answer) = get(port, "/auth/callback?code=stolen&state=forged");
    assert!(status.contains("400"), "{answer}");
    assert!(answer.ends_with("State mismatch"), "{answer}");
    assert!(
        !issuer.requests().iter().any(|r| r.path == "/oauth/token"),
        "a forged code is never exchanged"
    );
    let (status, _) = get(port, "/success");
    assert!(
        status.contains("404"),
        "/success ends nothing before a login"
    );

    let state = login.param("state");
    let (status, page) = get(
        port,
        &format!(
            "/auth/callback?error=access_denied&error_description=The+user+said+no&state={state}"
        ),
    );
    assert!(status.contains("200"), "{page}");
    assert!(page.contains("Sign-in failed: The user said no"), "{page}");
    let (code, said) = login.finish(Duration::from_secs(30));
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("Ignored a callback with the wrong `state`"),
        "{said}"
    );
    assert!(
        said.contains("Error logging in: Sign-in failed: The user said no"),
        "{said}"
    );
    assert!(!auth_json(&home).exists());
}

#[test]
fn a_failing_token_endpoint_ends_the_browser_login_with_its_reason() {
    let issuer = stand_in(Issuer::TokenFails, Some(ACCOUNT));
    let home = Home::new();
    let port = free_port();
    let login = BrowserLogin::start(browser_login(&home, &issuer.url(""), port));
    let state = login.param("state");
    let (_, page) = get(port, &format!("/auth/callback?code=abc&state={state}"));
    assert!(page.contains("the token database is down"), "{page}");
    let (code, said) = login.finish(Duration::from_secs(30));
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains(
            "Error logging in: Token exchange failed: token endpoint returned status 500 Internal Server Error: the token database is down"
        ),
        "{said}"
    );
    assert!(!auth_json(&home).exists());
}

#[test]
fn a_busy_port_is_asked_to_cancel_then_reported() {
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(String::new()));
    {
        let seen = Arc::clone(&seen);
        std::thread::spawn(move || {
            // Answers nothing useful and keeps the port: not a codex login.
            for stream in holder.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buffer = [0u8; 512];
                let count = stream.read(&mut buffer).unwrap_or(0);
                seen.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..count]));
            }
        });
    }
    let home = Home::new();
    let started = Instant::now();
    let output = run(
        browser_login(&home, "http://127.0.0.1:9", port),
        Duration::from_secs(60),
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "Error logging in: Port 127.0.0.1:{port} is already in use."
        )),
        "{}",
        stderr(&output)
    );
    assert!(
        started.elapsed() >= Duration::from_millis(1800),
        "retried for a while"
    );
    assert!(
        seen.lock().unwrap().starts_with("GET /cancel HTTP/1.1"),
        "the holder was asked to cancel: {:?}",
        seen.lock().unwrap()
    );
    assert!(!auth_json(&home).exists());
}

#[test]
fn a_new_login_cancels_one_left_waiting() {
    let issuer = stand_in(Issuer::Approves, Some(ACCOUNT));
    let home = Home::new();
    let port = free_port();
    let first = BrowserLogin::start(browser_login(&home, &issuer.url(""), port));
    let second = BrowserLogin::start(browser_login(&home, &issuer.url(""), port));
    let (code, said) = first.finish(Duration::from_secs(30));
    assert_eq!(code, Some(130), "{said}");
    assert!(said.contains("Login cancelled"), "{said}");
    let state = second.param("state");
    let (status, _) = get(port, &format!("/auth/callback?code=abc&state={state}"));
    assert!(status.contains("302"), "{status}");
    let (status, page) = get(port, "/success");
    assert!(
        status.contains("200") && page.contains("Signed in to Codex"),
        "{page}"
    );
    let (code, said) = second.finish(Duration::from_secs(30));
    assert_eq!(code, Some(0), "{said}");
    assert_eq!(document(&home)["tokens"]["account_id"], ACCOUNT);
}

/// A `$BROWSER` that is headless Chromium, saving the page it ends at.
pub(crate) fn chromium(dir: &Path) -> PathBuf {
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "chromium is not installed; run tests/keyring/setup.sh (it installs Debian's chromium)"
    );
    let path = dir.join("chromium.sh");
    let script = format!(
        "#!/bin/sh\nexec /usr/bin/chromium --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir='{dir}/profile' --dump-dom \"$1\" >'{dir}/page.html' 2>'{dir}/chromium.log'\n",
        dir = dir.display()
    );
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn headless_chromium_completes_a_browser_login() {
    let issuer = stand_in(Issuer::Approves, Some(ACCOUNT));
    let home = Home::new();
    let mut login = browser_login(&home, &issuer.url(""), free_port());
    login.env("BROWSER", chromium(home.path()));
    let output = run(login, Duration::from_secs(90));
    let log = fs::read_to_string(home.path().join("chromium.log")).unwrap_or_default();
    assert!(
        output.status.success(),
        "{}\nchromium: {log}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("Successfully logged in"));
    assert!(stderr(&output).contains("Signed in as ada@example.com (pro plan)"));
    assert_eq!(document(&home)["tokens"]["access_token"], "access-token-1");
    // Chromium may still be writing the page when the login has ended.
    let page_path = home.path().join("page.html");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut page = String::new();
    while Instant::now() < deadline {
        page = fs::read_to_string(&page_path).unwrap_or_default();
        if page.contains("</html>") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        page.contains("Signed in to Codex"),
        "the browser ended at: {page}\nchromium: {log}"
    );
    let status = codex_status(&home);
    assert!(
        stderr(&status).contains("Logged in using ChatGPT"),
        "{}",
        stderr(&status)
    );
}

// ---- against oidc-provider -------------------------------------------------

/// node-oidc-provider as Codex's issuer, with its public client's redirect
/// URI on `port`; killed when dropped.
pub(crate) struct Provider {
    pub(crate) issuer: String,
    child: Child,
    _stdin: std::process::ChildStdin,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn node() -> PathBuf {
    let modules = workspace_root().join("tests/node_modules");
    assert!(
        modules.join("oidc-provider/package.json").exists(),
        "oidc-provider is not installed in {}: run `bash tests/setup.sh` (tests/run.sh does)",
        modules.display()
    );
    std::env::var_os("CODEX_TEST_NODE")
        .map(PathBuf::from)
        .unwrap_or_else(|| modules.join("node/bin/node"))
}

impl Provider {
    fn start(port: u16, log: &Path) -> Provider {
        Provider::start_for(&format!("http://localhost:{port}/auth/callback"), log)
    }

    /// The provider with its client's one redirect URI.
    pub(crate) fn start_for(redirect_uri: &str, log: &Path) -> Provider {
        let config = json!({
            "client_id": CLIENT_ID,
            "redirect_uri": redirect_uri,
            "account_id": ACCOUNT,
            "plan_type": "plus",
            "email": "ada@example.com",
        });
        let mut child = Command::new(node())
            .arg(oauth_dir().join("provider.mjs"))
            .args(["0", "--exit-with-stdin"])
            .env("OAUTH_CODEX_ISSUER", config.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let issuer = lines
            .next()
            .and_then(Result::ok)
            .and_then(|line| line.strip_prefix("ISSUER ").map(str::to_owned))
            .unwrap_or_else(|| {
                panic!(
                    "the provider did not start: {}",
                    fs::read_to_string(log).unwrap_or_default()
                )
            });
        // Drained to the end: the provider also writes notices to stdout,
        // and a closed pipe would kill it (EPIPE).
        std::thread::spawn(move || lines.for_each(drop));
        Provider {
            issuer,
            child,
            _stdin: stdin,
        }
    }

    /// A refresh at the provider's token endpoint: the status and body.
    pub(crate) fn refresh(&self, refresh_token: &str) -> (u16, Value) {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "refresh_token")
            .append_pair("client_id", CLIENT_ID)
            .append_pair("refresh_token", refresh_token)
            .finish();
        let port: u16 = self.issuer.rsplit(':').next().unwrap().parse().unwrap();
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        write!(
            stream,
            "POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }
}

#[test]
fn browser_login_with_oidc_provider_then_logout_revokes() {
    let home = Home::new();
    let port = free_port();
    let log = home.path().join("provider.log");
    let provider = Provider::start(port, &log);
    let mut login = browser_login(&home, &provider.issuer, port);
    login
        .env("BROWSER", oauth_dir().join("browser.py"))
        .env("OAUTH_BROWSER_LOG", home.path().join("browser.log"));
    let output = run(login, Duration::from_secs(90));
    let logs = || {
        format!(
            "provider: {}\nbrowser: {}",
            fs::read_to_string(&log).unwrap_or_default(),
            fs::read_to_string(home.path().join("browser.log")).unwrap_or_default()
        )
    };
    assert!(output.status.success(), "{}\n{}", stderr(&output), logs());
    assert!(
        stderr(&output).contains("Signed in as ada@example.com (plus plan)"),
        "{}",
        stderr(&output)
    );
    let written = document(&home);
    assert_eq!(written["auth_mode"], "chatgpt");
    assert_eq!(written["OPENAI_API_KEY"], Value::Null);
    assert_eq!(written["tokens"]["account_id"], ACCOUNT);
    let refresh_token = written["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let id_token = written["tokens"]["id_token"].as_str().unwrap();
    assert_eq!(
        id_token.split('.').count(),
        3,
        "a signed JWT from the provider"
    );
    for token in [refresh_token.as_str(), id_token] {
        assert!(!stderr(&output).contains(token), "no token in output");
        assert!(!stdout(&output).contains(token), "no token in output");
    }
    let status = codex_status(&home);
    assert!(
        stderr(&status).contains("Logged in using ChatGPT"),
        "{}",
        stderr(&status)
    );

    // The tokens are real: the refresh token refreshes (and rotates).
    let (code, refreshed) = provider.refresh(&refresh_token);
    assert_eq!(code, 200, "{refreshed}\n{}", logs());
    let rotated = refreshed["refresh_token"].as_str().unwrap().to_owned();
    let mut stored = written.clone();
    stored["tokens"]["refresh_token"] = json!(rotated);
    write_secret(
        &auth_json(&home),
        &serde_json::to_string_pretty(&stored).unwrap(),
    );

    // Logout revokes at the provider, then deletes.
    let logout = run(
        {
            let mut logout = command(&codex_bin(), &home);
            logout.arg("logout");
            logout
        },
        Duration::from_secs(30),
    );
    assert_eq!(stderr(&logout), "Successfully logged out\n", "{}", logs());
    assert!(!auth_json(&home).exists());
    let (code, refused) = provider.refresh(&rotated);
    assert_eq!(code, 400, "a revoked refresh token is refused: {refused}");
    assert_eq!(refused["error"], "invalid_grant");
}

// ---- policies -----------------------------------------------------------

pub(crate) fn ours(home: &Home, args: &[&str]) -> Output {
    let mut command = command(&codex_bin(), home);
    command.args(args);
    run(command, Duration::from_secs(30))
}

fn theirs(home: &Home, args: &[&str]) -> Output {
    let mut command = command(&codex_cli(), home);
    command.args(args);
    run(command, Duration::from_secs(60))
}

/// The last line of stderr (Codex prints a warning about helper binaries
/// under /tmp first).
fn last_line(output: &Output) -> String {
    stderr(output).lines().last().unwrap_or_default().to_owned()
}

#[test]
fn forced_login_method_refuses_the_other_flows_as_codex_does() {
    let home = Home::new();
    home.write_config("forced_login_method = \"api\"\n");
    for args in [&["login"][..], &["login", "--device-auth"]] {
        let ours = ours(&home, args);
        let theirs = theirs(&home, args);
        assert_eq!(
            last_line(&ours),
            "ChatGPT login is disabled. Use API key login instead."
        );
        assert_eq!(last_line(&ours), last_line(&theirs), "{args:?}");
        assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
    }
    home.write_config("forced_login_method = \"sometimes\"\n");
    let output = ours(&home, &["login", "--device-auth"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(
            "forced_login_method: unknown value `sometimes`; expected \"chatgpt\" or \"api\""
        ),
        "{}",
        stderr(&output)
    );
}

fn chatgpt_document(account: Option<&str>) -> String {
    serde_json::to_string_pretty(&json!({
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": null,
        "tokens": {"id_token": id_token(account), "access_token": "a", "refresh_token": "r", "account_id": account},
        "last_refresh": "2026-12-01T00:00:00Z",
    }))
    .unwrap()
}

#[test]
fn a_stored_login_that_breaks_the_policy_is_logged_out() {
    let cases = [
        (
            "forced_login_method = \"api\"\n",
            chatgpt_document(Some(ACCOUNT)),
            "API key login is required, but ChatGPT is currently being used. Logging out.".to_owned(),
        ),
        (
            "forced_login_method = \"chatgpt\"\n",
            r#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-proj-PolicyTestKey1234567"}"#.to_owned(),
            "ChatGPT login is required, but an API key is currently being used. Logging out."
                .to_owned(),
        ),
        (
            "forced_chatgpt_workspace_id = [\"ws-other\", \"ws-third\"]\n",
            chatgpt_document(Some(ACCOUNT)),
            format!("Login is restricted to workspace(s) ws-other, ws-third, but current credentials belong to {ACCOUNT}. Logging out."),
        ),
        (
            "forced_chatgpt_workspace_id = \"ws-other\"\n",
            chatgpt_document(None),
            "Login is restricted to workspace(s) ws-other, but current credentials lack a workspace identifier. Logging out.".to_owned(),
        ),
    ];
    for (config, stored, message) in cases {
        let home = Home::new();
        home.write_config(config);
        write_secret(&auth_json(&home), &stored);
        let output = ours(&home, &["login", "status"]);
        assert_eq!(output.status.code(), Some(1), "{config}");
        assert_eq!(stderr(&output), format!("{message}\n"), "{config}");
        assert!(!auth_json(&home).exists(), "{config}: logged out");
    }
    // A login that satisfies the policy stays.
    let home = Home::new();
    home.write_config(&format!(
        "forced_login_method = \"chatgpt\"\nforced_chatgpt_workspace_id = \"{ACCOUNT}\"\n"
    ));
    write_secret(&auth_json(&home), &chatgpt_document(Some(ACCOUNT)));
    let output = ours(&home, &["login", "status"]);
    assert_eq!(stderr(&output), "Logged in using ChatGPT\n");
    assert!(auth_json(&home).exists());
}

#[test]
fn a_login_from_another_workspace_is_refused_before_it_is_saved() {
    let issuer = stand_in(Issuer::Approves, Some(ACCOUNT));
    let home = Home::new();
    home.write_config("forced_chatgpt_workspace_id = \"ws-other\"\n");
    let output = run(device_login(&home, &issuer), Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output)
            .contains("Error logging in: Login is restricted to workspace id(s) ws-other."),
        "{}",
        stderr(&output)
    );
    assert!(!auth_json(&home).exists());

    // The browser flow asks the issuer for the workspace too.
    let port = free_port();
    let login = BrowserLogin::start(browser_login(&home, &issuer.url(""), port));
    assert_eq!(login.param("allowed_workspace_id"), "ws-other");
    let state = login.param("state");
    let (_, page) = get(port, &format!("/auth/callback?code=abc&state={state}"));
    assert!(
        page.contains("Login is restricted to workspace id(s) ws-other."),
        "{page}"
    );
    let (code, said) = login.finish(Duration::from_secs(30));
    assert_eq!(code, Some(1), "{said}");
    assert!(!auth_json(&home).exists());
}

// ---- codex-login.log -------------------------------------------------------

/// The lines of `codex-login.log` without their timestamps.
fn login_log_lines(home: &Home) -> Vec<String> {
    let path = home.path().join("log/codex-login.log");
    let mode = fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{} is private", path.display());
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let (time, rest) = line.split_once(' ').unwrap();
            assert!(time.ends_with('Z') && time.len() == 27, "{line}");
            rest.to_owned()
        })
        .collect()
}

/// A browser login (`login` on `home`, listening on `port`) that gets a
/// forged callback, then `/cancel` once its log tells of the mismatch (the
/// pinned Codex writes its log from a background thread, and a line still
/// queued when it exits is lost).
fn forged_then_cancelled(mut login: Command, home: &Home, port: u16) {
    let child = login
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the login never listened on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, _) = get(port, "/auth/callback?code=forged-code&state=forged-state");
    assert!(status.contains("400"), "{status}");
    let log = home.path().join("log/codex-login.log");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("state mismatch")
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, _) = get(port, "/cancel");
    assert!(status.contains("200"), "{status}");
    let output = wait(child, Duration::from_secs(30));
    assert_ne!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn codex_login_log_is_written_as_codex_writes_it() {
    // The pinned Codex listens on 1455 whatever it is told: wait for it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpListener::bind("127.0.0.1:1455").is_err() {
        assert!(Instant::now() < deadline, "port 1455 stays busy");
        std::thread::sleep(Duration::from_millis(200));
    }
    let theirs = Home::new();
    let mut login = command(&codex_cli(), &theirs);
    login.arg("login");
    forged_then_cancelled(login, &theirs, 1455);

    let home = Home::new();
    let port = free_port();
    forged_then_cancelled(
        browser_login(&home, "http://127.0.0.1:9", port),
        &home,
        port,
    );
    let ours = login_log_lines(&home);
    assert_eq!(ours, login_log_lines(&theirs));
    let text = ours.join("\n");
    assert!(
        !text.contains("forged-code") && !text.contains("forged-state"),
        "{text}"
    );
}
