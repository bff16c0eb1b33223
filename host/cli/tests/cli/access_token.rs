//! `codex login --with-access-token` and `login status` of an access-token
//! login, beside the pinned Codex CLI on the same input: both talk to a
//! stand-in for ChatGPT's JWKS and task-registration endpoints
//! (tests/python/agent_identity_backend.py) that mints Agent Identity JWTs,
//! serves its keys, and accepts a task registration only with the agent's
//! own Ed25519 signature. Texts, exit codes and the stored `auth.json` are
//! compared; each side reads what the other wrote.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};

use codex_test_support::{Home, stderr, workspace_root};
use serde_json::{Value, json};

/// The stand-in backend, stopped when dropped.
struct Backend {
    child: Child,
    port: u16,
}

impl Backend {
    fn start() -> Backend {
        let python = workspace_root().join("tests/python/.venv/bin/python");
        assert!(
            python.is_file(),
            "{} is missing: run tests/python/setup.sh",
            python.display()
        );
        let mut child = Command::new(python)
            .arg(workspace_root().join("tests/python/agent_identity_backend.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = serde_json::from_str::<Value>(&line).unwrap()["port"]
            .as_u64()
            .unwrap() as u16;
        Backend { child, port }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn http(&self, method: &str, path: &str, body: &Value) -> Value {
        let body = body.to_string();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (_, body) = answer.split_once("\r\n\r\n").unwrap();
        serde_json::from_str(body).unwrap()
    }

    /// A token with Codex's claims, changed by `overrides`.
    fn mint(&self, overrides: Value) -> String {
        self.mint_with_claims(overrides).0
    }

    fn mint_with_claims(&self, overrides: Value) -> (String, Value) {
        let answer = self.http("POST", "/test/mint", &overrides);
        (
            answer["token"].as_str().unwrap().to_owned(),
            answer["claims"].clone(),
        )
    }

    fn requests(&self) -> Vec<Value> {
        self.http("GET", "/test/requests", &json!({}))
            .as_array()
            .unwrap()
            .clone()
    }

    fn registrations(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|request| {
                request["path"]
                    .as_str()
                    .unwrap()
                    .ends_with("/task/register")
            })
            .collect()
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Ours or the pinned Codex's.
#[derive(Clone, Copy, Debug)]
enum Side {
    Ours,
    Codex,
}

fn run(side: Side, home: &Home, backend: &Backend, args: &[&str], stdin: &str) -> Output {
    let mut command = match side {
        Side::Ours => home.codex(),
        Side::Codex => home.real_codex(),
    };
    command
        .args(args)
        .env("CODEX_AGENT_IDENTITY_JWKS_BASE_URL", backend.base())
        .env("CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL", backend.base())
        .write_stdin(stdin)
        .output()
        .unwrap()
}

/// Stderr without the Codex CLI's warning about a CODEX_HOME under /tmp.
fn said(output: &Output) -> String {
    stderr(output)
        .lines()
        .filter(|line| !line.starts_with("WARNING: proceeding"))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// Runs `args` on both sides, each on its own home, and checks that they
/// say the same and exit alike. Returns what ours said.
fn same_on_both(
    homes: (&Home, &Home),
    backend: &Backend,
    args: &[&str],
    stdin: &str,
) -> (String, i32) {
    let ours = run(Side::Ours, homes.0, backend, args, stdin);
    let theirs = run(Side::Codex, homes.1, backend, args, stdin);
    assert_eq!(said(&ours), said(&theirs), "{args:?}: ours vs Codex's");
    assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
    (said(&ours), ours.status.code().unwrap())
}

fn auth_json(home: &Home) -> Value {
    serde_json::from_str(&std::fs::read_to_string(home.path().join("auth.json")).unwrap()).unwrap()
}

#[test]
fn an_access_token_login_is_checked_stored_and_reported_as_codex_does() {
    let backend = Backend::start();
    let (ours, theirs) = (Home::new(), Home::new());
    let (token, claims) = backend.mint_with_claims(json!({}));

    let (text, code) = same_on_both(
        (&ours, &theirs),
        &backend,
        &["login", "--with-access-token"],
        &format!("{token}\n"),
    );
    assert_eq!(
        text,
        "Reading access token from stdin...\nSuccessfully logged in\n"
    );
    assert_eq!(code, 0);
    // The same document, key order included.
    let ours_text = std::fs::read_to_string(ours.path().join("auth.json")).unwrap();
    let theirs_text = std::fs::read_to_string(theirs.path().join("auth.json")).unwrap();
    assert_eq!(ours_text.trim_end(), theirs_text.trim_end());
    assert_eq!(
        auth_json(&ours),
        json!({"auth_mode": "agentIdentity", "OPENAI_API_KEY": null, "agent_identity": token})
    );
    let jwks: Vec<Value> = backend
        .requests()
        .into_iter()
        .filter(|request| request["path"] == "/agent-identities/jwks")
        .collect();
    assert_eq!(jwks.len(), 2, "each side fetched the keys once: {jwks:?}");
    assert!(
        jwks.iter()
            .all(|request| request["originator"] == "codex_cli_rs")
    );

    let (text, code) = same_on_both((&ours, &theirs), &backend, &["login", "status"], "");
    assert_eq!(text, "Logged in using access token\n");
    assert_eq!(code, 0);
    // Both registered a task, each with a signature the backend accepted.
    assert_eq!(backend.registrations().len(), 2);

    // Each reads the other's login.
    let ours_reads_theirs = run(Side::Ours, &theirs, &backend, &["login", "status"], "");
    assert_eq!(said(&ours_reads_theirs), "Logged in using access token\n");
    let theirs_reads_ours = run(Side::Codex, &ours, &backend, &["login", "status"], "");
    assert_eq!(said(&theirs_reads_ours), "Logged in using access token\n");

    // Nothing secret in what ours printed.
    let secret = claims["agent_private_key"].as_str().unwrap();
    let all = format!(
        "{}{}",
        stderr(&ours_reads_theirs),
        codex_test_support::stdout(&ours_reads_theirs)
    );
    assert!(!all.contains(&token) && !all.contains(secret));
}

#[test]
fn bad_access_tokens_are_refused_with_codex_texts_and_nothing_stored() {
    let backend = Backend::start();
    let (ours, theirs) = (Home::new(), Home::new());
    let cases = [
        (
            "an audience of another service",
            backend.mint(json!({"aud": "another"})),
        ),
        (
            "another issuer",
            backend.mint(json!({"iss": "https://example.com"})),
        ),
        ("expired", backend.mint(json!({"exp": 1_000_000}))),
        (
            "a key the JWKS lacks",
            backend.mint(json!({"_sign_with": "foreign"})),
        ),
        ("an unknown kid", backend.mint(json!({"_kid": "elsewhere"}))),
        (
            "a claim of the wrong type",
            backend.mint(json!({"email": 5})),
        ),
        ("a missing claim", backend.mint(json!({"account_id": null}))),
        ("not a JWT", "not-a-token".to_owned()),
        ("empty", String::new()),
    ];
    for (what, token) in cases {
        let (text, code) = same_on_both(
            (&ours, &theirs),
            &backend,
            &["login", "--with-access-token"],
            &token,
        );
        assert_eq!(code, 1, "{what}: {text}");
        assert!(
            text.starts_with("Reading access token from stdin...\n"),
            "{what}: {text}"
        );
        assert!(!text.contains("Successfully"), "{what}: {text}");
        if !token.is_empty() {
            assert!(!text.contains(&token), "{what}: the token was printed");
        }
        assert!(
            !ours.path().join("auth.json").exists(),
            "{what}: ours stored it"
        );
        assert!(
            !theirs.path().join("auth.json").exists(),
            "{what}: Codex stored it"
        );
    }
}

#[test]
fn policies_and_environments_apply_to_access_tokens_as_in_codex() {
    let backend = Backend::start();
    let (ours, theirs) = (Home::new(), Home::new());
    let token = backend.mint(json!({}));
    let login = ["login", "--with-access-token"];

    for home in [&ours, &theirs] {
        home.write_config("forced_login_method = \"api\"\n");
    }
    let (text, code) = same_on_both((&ours, &theirs), &backend, &login, &token);
    assert_eq!(
        text,
        "Reading access token from stdin...\nAccess token login is disabled. Use API key login instead.\n"
    );
    assert_eq!(code, 1);

    // A ChatGPT-only policy allows it.
    for home in [&ours, &theirs] {
        home.write_config("forced_login_method = \"chatgpt\"\n");
    }
    let (_, code) = same_on_both((&ours, &theirs), &backend, &login, &token);
    assert_eq!(code, 0);

    // An API-only policy hides the stored login and keeps it.
    for home in [&ours, &theirs] {
        home.write_config("forced_login_method = \"api\"\n");
    }
    let (text, code) = same_on_both((&ours, &theirs), &backend, &["login", "status"], "");
    assert_eq!((text.as_str(), code), ("Not logged in\n", 1));
    assert!(ours.path().join("auth.json").exists());

    // A ChatGPT environment other than production or staging: no check of
    // the signature at login, and status refuses it.
    for home in [&ours, &theirs] {
        home.write_config(&format!(
            "chatgpt_base_url = \"{}/backend-api/\"\n",
            backend.base()
        ));
    }
    let status = |side, home: &Home| {
        let mut command = match side {
            Side::Ours => home.codex(),
            Side::Codex => home.real_codex(),
        };
        command.args(["login", "status"]).output().unwrap()
    };
    let (a, b) = (status(Side::Ours, &ours), status(Side::Codex, &theirs));
    assert_eq!(said(&a), said(&b));
    assert_eq!(
        said(&a),
        "Error checking login status: Agent Identity only supports production and staging \
         ChatGPT environments\n"
    );
    assert_eq!(a.status.code(), Some(1));
}

#[test]
fn a_revoked_agent_fails_login_status() {
    let backend = Backend::start();
    let home = Home::new();
    let token = backend.mint(json!({"agent_runtime_id": "agent-to-revoke"}));
    let login = run(
        Side::Ours,
        &home,
        &backend,
        &["login", "--with-access-token"],
        &token,
    );
    assert_eq!(login.status.code(), Some(0), "{}", said(&login));
    backend.http(
        "POST",
        "/test/revoke",
        &json!({"agent_runtime_id": "agent-to-revoke"}),
    );
    let status = run(Side::Ours, &home, &backend, &["login", "status"], "");
    assert_eq!(status.status.code(), Some(1));
    let text = said(&status);
    assert!(
        text.starts_with("Error checking login status: agent identity registration failed for agent-to-revoke: HTTP 401: unknown or revoked agent"),
        "{text}"
    );
    // Task registration unreachable: Codex's retryable failure.
    let status = home
        .codex()
        .args(["login", "status"])
        .env("CODEX_AGENT_IDENTITY_JWKS_BASE_URL", backend.base())
        .env(
            "CODEX_AGENT_IDENTITY_AUTHAPI_BASE_URL",
            "http://127.0.0.1:1",
        )
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(1));
    let text = said(&status);
    assert!(
        text.starts_with(
            "Error checking login status: retryable agent identity registration failure: \
             failed to register agent task"
        ),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
}
