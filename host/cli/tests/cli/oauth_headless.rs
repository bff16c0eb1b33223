//! `codex mcp login` without a browser on this machine, end to end against
//! node-oidc-provider (tests/oauth/provider.mjs) and the introspecting MCP
//! server on the Python SDK (tests/oauth/resource_server.py):
//!
//! - `--device` (RFC 8628): the code and pages printed, approved by
//!   tests/oauth/browser.py `--device` as a person on another device would,
//!   `slow_down` honoured, an expired code, Ctrl-C, a provider without
//!   device authorization;
//! - `--client-credentials` with a secret on stdin and with a private key
//!   (`private_key_jwt`): tokens the server accepts, and new ones obtained
//!   by the same grant once they expire (there is no refresh token).
//!
//! The conformance suite's client-credentials and cross-app-access
//! scenarios run in `conformance.rs`.

use std::fs;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use codex_test_support::{stderr, stdout};
use serde_json::Value;

use crate::oauth_provider::{
    Guard, NAME, SHORT_TTL, Session, Stack, lines_of, oauth_dir, python, stored_in, wait_for_line,
    wait_past_expiry,
};

/// The provider with device authorization, polled every second.
fn device_stack(extra: &[(&str, &str)]) -> Stack {
    let mut env = vec![("OAUTH_DEVICE_FLOW", "1"), ("OAUTH_DEVICE_INTERVAL", "1")];
    env.extend_from_slice(extra);
    Stack::start_with(3600, 0, &env)
}

/// A running `codex mcp login NAME --device ARGS`, and its stderr lines.
struct DeviceLogin {
    process: Guard,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl DeviceLogin {
    fn start(session: &Session<'_>, args: &[&str]) -> DeviceLogin {
        let mut process = Guard::spawn(
            session
                .std_codex(session.home.path())
                .args(["mcp", "login", NAME, "--device"])
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
            "codex mcp login --device",
        );
        let lines = lines_of(process.child.stderr.take().expect("stderr"));
        DeviceLogin {
            process,
            lines,
            seen: Vec::new(),
        }
    }

    /// The verification URL that carries the user code, once printed.
    fn complete_uri(&mut self, stack: &Stack) -> String {
        let page = format!("{}/device?user_code=", stack.issuer);
        wait_for_line(
            &self.lines,
            Duration::from_secs(60),
            "verification_uri_complete on the stderr of codex",
            &mut self.seen,
            |line| {
                let line = line.trim();
                line.starts_with(&page).then(|| line.to_owned())
            },
        )
        .unwrap_or_else(|error| panic!("{error}\n{}", stack.logs()))
    }

    /// Its exit, with all of its stderr.
    fn finish(mut self, limit: Duration) -> (Output, String) {
        let output = self.process.wait_with_output(limit);
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(10)) {
            self.seen.push(line);
        }
        (output, self.seen.join("\n"))
    }
}

/// The times (ms) and results of the provider's device polls.
fn polls(stack: &Stack) -> Vec<(u64, String)> {
    fs::read_to_string(stack.logs.path().join("provider.log"))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.strip_prefix("provider: device poll "))
        .filter_map(|rest| {
            let (ms, result) = rest.split_once(' ')?;
            Some((ms.parse().ok()?, result.to_owned()))
        })
        .collect()
}

#[test]
fn a_device_login_approved_elsewhere_gets_tokens_and_slows_down_when_asked() {
    let stack = device_stack(&[("OAUTH_DEVICE_SLOW_DOWN", "1")]);
    let mut session = Session::new(&stack);
    let mut login = DeviceLogin::start(&session, &["--json"]);
    let complete = login.complete_uri(&stack);
    let user_code = complete
        .split("user_code=")
        .nth(1)
        .expect("a user code")
        .to_owned();
    // Let the first poll come (answered slow_down) before approving.
    std::thread::sleep(Duration::from_millis(1500));
    let browser = Command::new(python())
        .arg(oauth_dir().join("browser.py"))
        .args(["--device", &complete])
        .output()
        .expect("run browser.py");
    assert!(
        browser.status.success(),
        "browser.py: {}\n{}",
        stderr(&browser),
        stack.logs()
    );
    let (output, shown) = login.finish(Duration::from_secs(60));
    assert!(
        output.status.success(),
        "device login failed:\n{shown}\n{}",
        stack.logs()
    );
    // The page, the code on a line of its own, and the complete link.
    assert!(
        shown.contains(&format!("\n  {}/device\n", stack.issuer)),
        "{shown}"
    );
    assert!(shown.contains(&format!("\n  {user_code}\n")), "{shown}");
    assert!(shown.contains("Ctrl-C cancels"), "{shown}");
    let answer: Value = serde_json::from_slice(&output.stdout).expect("--json answer");
    assert_eq!(answer["grant"], "device_code", "{answer}");
    assert_eq!(answer["refresh_token"], true, "{answer}");
    assert_eq!(answer["server"], NAME, "{answer}");
    assert_eq!(
        answer["scopes"],
        serde_json::json!(["mcp:tools"]),
        "{answer}"
    );

    // slow_down: the poll after it came at least 5 s later than the 1 s
    // interval alone would have.
    let polls = polls(&stack);
    let slowed = polls
        .iter()
        .position(|(_, result)| result == "slow_down")
        .unwrap_or_else(|| panic!("no slow_down poll: {polls:?}\n{}", stack.logs()));
    let (at, _) = polls[slowed];
    let (next, _) = polls
        .get(slowed + 1)
        .unwrap_or_else(|| panic!("no poll after slow_down: {polls:?}"));
    assert!(next - at >= 5_500, "polled again after {} ms", next - at);
    assert_eq!(
        polls.last().map(|(_, result)| result.as_str()),
        Some("tokens")
    );

    session.keep(Output {
        stderr: shown.into_bytes(),
        ..output
    });
    let stored = session.stored().expect("a stored login");
    assert!(stored.refresh_token.is_some());
    assert!(stack.active(&stored.access_token));
    session.whoami();
    session.assert_no_token_shown();
}

#[test]
fn a_device_code_that_expires_ends_the_login_with_nothing_stored() {
    let stack = device_stack(&[("OAUTH_DEVICE_TTL", "3")]);
    let session = Session::new(&stack);
    let mut login = DeviceLogin::start(&session, &[]);
    login.complete_uri(&stack);
    let (output, shown) = login.finish(Duration::from_secs(30));
    assert!(!output.status.success(), "{shown}");
    assert!(
        shown.contains("expired before the login was approved")
            && shown.contains(&format!("codex mcp login {NAME} --device")),
        "{shown}"
    );
    assert!(stored_in(session.home.path()).is_none());
}

#[test]
fn ctrl_c_cancels_a_device_login_cleanly() {
    let stack = device_stack(&[]);
    let session = Session::new(&stack);
    let mut login = DeviceLogin::start(&session, &[]);
    login.complete_uri(&stack);
    let pid = i32::try_from(login.process.child.id()).expect("pid");
    // SAFETY: a signal to the child this test started and still holds.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let (output, shown) = login.finish(Duration::from_secs(20));
    assert_eq!(output.status.code(), Some(130), "{shown}");
    assert!(
        shown.contains(&format!(
            "Login to MCP server '{NAME}' cancelled; nothing was saved."
        )),
        "{shown}"
    );
    assert!(stored_in(session.home.path()).is_none());
}

#[test]
fn a_provider_without_device_authorization_points_at_the_browser_login() {
    let stack = Stack::start(3600);
    let mut session = Session::new(&stack);
    let mut command = session.codex();
    command.args(["mcp", "login", NAME, "--device"]);
    let output = session.run(command);
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(
        text.contains("offers no device authorization")
            && text.contains("device_authorization_endpoint")
            && text.contains(&format!("`codex mcp login {NAME}`"))
            && text.contains("--no-browser"),
        "{text}"
    );
    assert!(stored_in(session.home.path()).is_none());
}

/// `whoami` through the stored login: the client it names.
fn whoami_client(session: &mut Session<'_>, stack: &Stack) -> String {
    let output = session.call("whoami", "{}");
    assert!(
        output.status.success(),
        "whoami failed:\n{}\n{}",
        stderr(&output),
        stack.logs()
    );
    let text = stdout(&output);
    assert!(text.contains("scopes=mcp:tools"), "{text}");
    text.split_whitespace()
        .find_map(|word| word.strip_prefix("client="))
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn client_credentials_with_a_secret_or_a_key_log_in_and_get_new_tokens_after_expiry() {
    let keys = tempfile::tempdir().expect("key dir");
    let key_file = keys.path().join("ci-jwt.pem");
    let secret = "ci-bot-secret-2f9c";
    let machine = serde_json::json!({
        "client_id": "ci-bot",
        "client_secret": secret,
        "jwt_client_id": "ci-jwt",
        "key_file": key_file,
    })
    .to_string();
    let stack = Stack::start_with(SHORT_TTL, 0, &[("OAUTH_MACHINE_CLIENT", machine.as_str())]);
    let mut session = Session::new(&stack);

    // The secret on stdin.
    let mut login = session.std_codex(session.home.path());
    login
        .args(["mcp", "login", NAME, "--client-credentials"])
        .args(["--client-id", "ci-bot", "--client-secret-stdin", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = login.spawn().expect("codex mcp login");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(secret.as_bytes())
        .expect("the secret");
    let output = session.keep(child.wait_with_output().expect("login output"));
    assert!(
        output.status.success(),
        "{}\n{}",
        stderr(&output),
        stack.logs()
    );
    let answer: Value = serde_json::from_slice(&output.stdout).expect("--json answer");
    assert_eq!(answer["grant"], "client_credentials", "{answer}");
    assert_eq!(answer["refresh_token"], false, "{answer}");
    let first = session.stored().expect("a stored login");
    assert_eq!(first.client_id, "ci-bot");
    assert!(first.refresh_token.is_none());
    assert_eq!(whoami_client(&mut session, &stack), "ci-bot");

    // Expired: the same grant again, with the stored secret.
    wait_past_expiry();
    assert_eq!(whoami_client(&mut session, &stack), "ci-bot");
    let second = session.stored().expect("a stored login");
    assert_ne!(second.access_token, first.access_token);
    assert!(stack.active(&second.access_token));

    // The secret is in the credential store, never in the config.
    let config = fs::read_to_string(session.home.path().join("config.toml")).expect("config");
    assert!(!config.contains(secret), "{config}");

    // A signed assertion instead of a secret; the key stays in its file.
    let mut command = session.codex();
    command
        .args(["mcp", "login", NAME, "--client-credentials"])
        .args(["--client-id", "ci-jwt", "--private-key"])
        .arg(&key_file);
    let output = session.ok(command, "codex mcp login --private-key");
    assert_eq!(
        stdout(&output),
        format!("Successfully logged in to MCP server '{NAME}'.\n")
    );
    let keyed = session.stored().expect("a stored login");
    assert_eq!(keyed.client_id, "ci-jwt");
    assert_eq!(whoami_client(&mut session, &stack), "ci-jwt");
    wait_past_expiry();
    assert_eq!(whoami_client(&mut session, &stack), "ci-jwt");
    let renewed = session.stored().expect("a stored login");
    assert_ne!(renewed.access_token, keyed.access_token);
    let key = fs::read_to_string(&key_file).expect("key");
    let body: String = key
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    for entry in fs::read_dir(session.home.path()).expect("home") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            let text = fs::read_to_string(&path).unwrap_or_default();
            assert!(
                !text.contains(&body),
                "the key was copied to {}",
                path.display()
            );
        }
    }
    session.assert_no_token_shown();
}

#[test]
fn client_credentials_without_a_secret_or_key_say_how_to_give_one() {
    let stack = Stack::start(3600);
    let mut session = Session::new(&stack);
    let mut command = session.codex();
    command.args([
        "mcp",
        "login",
        NAME,
        "--client-credentials",
        "--client-id",
        "x",
    ]);
    let output = session.run(command);
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(
        text.contains("--client-secret-stdin") && text.contains("--private-key FILE"),
        "{text}"
    );
    let mut command = session.codex();
    command.args([
        "mcp",
        "login",
        NAME,
        "--client-credentials",
        "--private-key",
        "/nonexistent.pem",
    ]);
    let output = session.run(command);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("--private-key /nonexistent.pem: cannot find that file"),
        "{}",
        stderr(&output)
    );
    let mut command = session.codex();
    command.args(["mcp", "login", NAME, "--client-credentials"]);
    let output = session.run(command);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("needs the client ID registered with its authorization server"),
        "{}",
        stderr(&output)
    );
}
