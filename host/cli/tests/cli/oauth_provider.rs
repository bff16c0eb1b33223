//! The oauth plugin end to end against a real authorization server:
//! node-oidc-provider (tests/oauth/provider.mjs: dynamic registration, PKCE,
//! resource indicators, rotating refresh tokens, revocation, introspection)
//! and an MCP server on the Python SDK that checks every token by
//! introspection (tests/oauth/resource_server.py). The provider's own login
//! and consent pages are driven by tests/oauth/browser.py, as `$BROWSER` or
//! by the test for `--no-browser`.
//!
//! Covered: `mcp login` through `$BROWSER` and by a pasted callback; calls
//! with the token; refresh after expiry with rotation; two processes
//! refreshing at the same moment (one refresh token must never be used
//! twice: the provider then revokes the whole grant); a revoked login asking
//! to log in again; `mcp logout` revoking at the provider and deleting; no
//! token in any output of `codex`.
//!
//! Needs tests/setup.sh (oidc-provider, Node) and tests/python/setup.sh (the
//! Python SDK); tests/run.sh runs both. Everything listens on 127.0.0.1.

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use codex_test_support::{Home, built_library, codex_bin, stderr, stdout};
use serde_json::Value;

/// The server's name in every test's config.
pub(crate) const NAME: &str = "prot";
/// The client the resource server introspects as (tests/oauth/provider.mjs).
const INTROSPECTION_CLIENT: (&str, &str) = ("mcp-resource-server", "resource-server-secret");
/// The access-token lifetime of the tests about expiry, in seconds.
pub(crate) const SHORT_TTL: u64 = 4;

fn repo() -> PathBuf {
    codex_test_support::workspace_root()
}

pub(crate) fn oauth_dir() -> PathBuf {
    repo().join("tests/oauth")
}

/// The Node that tests/setup.sh installed (as tests/node-env.sh finds it).
fn node() -> PathBuf {
    let modules = repo().join("tests/node_modules");
    assert!(
        modules.join("oidc-provider/package.json").exists(),
        "oidc-provider is not installed in {}: run `bash tests/setup.sh` (tests/run.sh does)",
        modules.display()
    );
    if let Some(node) = std::env::var_os("CODEX_TEST_NODE") {
        return PathBuf::from(node);
    }
    let bundled = modules.join("node/bin/node");
    assert!(
        bundled.exists(),
        "{} is missing: run `bash tests/setup.sh` (tests/run.sh does)",
        bundled.display()
    );
    bundled
}

/// The Python of tests/python/.venv, with the pinned MCP SDK.
pub(crate) fn python() -> PathBuf {
    let python = repo().join("tests/python/.venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `bash tests/setup.sh && bash tests/python/setup.sh` (tests/run.sh runs both) to install the pinned Python MCP SDK",
        python.display()
    );
    python
}

/// A process the test started, killed and reaped when dropped.
pub(crate) struct Guard {
    pub(crate) child: Child,
    what: String,
}

impl Guard {
    pub(crate) fn spawn(command: &mut Command, what: &str) -> Guard {
        let child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {what}: {error}"));
        Guard {
            child,
            what: what.to_owned(),
        }
    }

    /// Waits up to `limit` for the exit; kills it and fails after that.
    pub(crate) fn wait_with_output(mut self, limit: Duration) -> Output {
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Ok(None) => panic!("{} did not finish within {limit:?}", self.what),
                Err(error) => panic!("cannot wait for {}: {error}", self.what),
            }
        }
        let mut output = Output {
            status: self.child.wait().expect("exit status"),
            stdout: Vec::new(),
            stderr: Vec::new(),
        };
        if let Some(mut out) = self.child.stdout.take() {
            let _ = out.read_to_end(&mut output.stdout);
        }
        if let Some(mut err) = self.child.stderr.take() {
            let _ = err.read_to_end(&mut output.stderr);
        }
        output
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The lines a reader gives, on a channel, read by a thread of their own
/// (which ends with the stream).
pub(crate) fn lines_of(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// The first line from `lines` that `pick` accepts, within `limit`; else
/// why not (timed out, or the stream ended), with what came instead.
pub(crate) fn wait_for_line(
    lines: &Receiver<String>,
    limit: Duration,
    what: &str,
    seen: &mut Vec<String>,
    pick: impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                let picked = pick(&line);
                seen.push(line);
                if let Some(picked) = picked {
                    return Ok(picked);
                }
            }
            Err(error) => {
                return Err(format!(
                    "no {what} ({error}, within {limit:?}); output so far:\n{}",
                    seen.join("\n")
                ));
            }
        }
    }
}

/// What the provider and the resource server logged in `dir`.
fn read_logs(dir: &Path) -> String {
    ["provider.log", "resource_server.log", "browser.log"]
        .iter()
        .map(|name| {
            let text = fs::read_to_string(dir.join(name)).unwrap_or_default();
            format!("--- {name}\n{text}")
        })
        .collect()
}

/// The provider and the resource server of one test.
pub(crate) struct Stack {
    pub(crate) issuer: String,
    pub(crate) url: String,
    pub(crate) logs: tempfile::TempDir,
    // Dropped (killed) in this order: the resource server, then the provider.
    _resource: Guard,
    _provider: Guard,
    // Held open: both stop when their stdin closes, should the test
    // process die without dropping them.
    _stdins: [ChildStdin; 2],
}

impl Stack {
    /// Starts both, with access tokens living `access_ttl` seconds.
    pub(crate) fn start(access_ttl: u64) -> Stack {
        Stack::start_with(access_ttl, 0, &[])
    }

    /// Starts both: the resource server on `resource_port` (0: any free
    /// port), the provider with `provider_env` (see tests/oauth/provider.mjs).
    pub(crate) fn start_with(
        access_ttl: u64,
        resource_port: u16,
        provider_env: &[(&str, &str)],
    ) -> Stack {
        let node = node();
        let python = python();
        let logs = tempfile::tempdir().expect("log dir");
        let log = |name: &str| fs::File::create(logs.path().join(name)).expect("log file");
        let mut provider = Guard::spawn(
            Command::new(&node)
                .arg(oauth_dir().join("provider.mjs"))
                .args(["0", "--exit-with-stdin"])
                .env("OAUTH_ACCESS_TTL", access_ttl.to_string())
                .envs(provider_env.iter().copied())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(log("provider.log")),
            "the oidc-provider (tests/oauth/provider.mjs)",
        );
        let provider_stdin = provider.child.stdin.take().expect("provider stdin");
        let lines = lines_of(provider.child.stdout.take().expect("provider stdout"));
        let issuer = wait_for_line(
            &lines,
            Duration::from_secs(30),
            "`ISSUER` line from tests/oauth/provider.mjs",
            &mut Vec::new(),
            |line| line.strip_prefix("ISSUER ").map(str::to_owned),
        )
        .unwrap_or_else(|error| {
            panic!(
                "{error}\n(node: {}; oidc-provider 9 needs Node >= 20)\n{}",
                node.display(),
                read_logs(logs.path())
            )
        });
        let mut resource = Guard::spawn(
            Command::new(&python)
                .arg(oauth_dir().join("resource_server.py"))
                .args([
                    issuer.as_str(),
                    &resource_port.to_string(),
                    "--exit-with-stdin",
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(log("resource_server.log")),
            "the MCP resource server (tests/oauth/resource_server.py)",
        );
        let resource_stdin = resource.child.stdin.take().expect("server stdin");
        let lines = lines_of(resource.child.stdout.take().expect("server stdout"));
        let url = wait_for_line(
            &lines,
            Duration::from_secs(60),
            "`URL` line from tests/oauth/resource_server.py",
            &mut Vec::new(),
            |line| line.strip_prefix("URL ").map(str::to_owned),
        )
        .unwrap_or_else(|error| panic!("{error}\n{}", read_logs(logs.path())));
        for address in [&issuer, &url] {
            assert!(
                address.starts_with("http://127.0.0.1:"),
                "not on 127.0.0.1: {address}"
            );
        }
        Stack {
            issuer,
            url,
            logs,
            _resource: resource,
            _provider: provider,
            _stdins: [resource_stdin, provider_stdin],
        }
    }

    /// What the provider and the resource server logged, for failures.
    pub(crate) fn logs(&self) -> String {
        read_logs(self.logs.path())
    }

    /// How many refresh tokens the provider has taken (each refresh
    /// consumes one: rotation).
    fn refreshes(&self) -> usize {
        fs::read_to_string(self.logs.path().join("provider.log"))
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains("refresh_token.consumed"))
            .count()
    }

    /// Whether the provider still takes `token` (RFC 7662, as the resource
    /// server asks), and its introspection.
    pub(crate) fn introspect(&self, token: &str) -> Value {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", token)
            .finish();
        let (status, answer) = http_post_form(
            &format!("{}/token/introspection", self.issuer),
            INTROSPECTION_CLIENT,
            &body,
        );
        assert_eq!(status, 200, "introspection: {answer}");
        serde_json::from_str(&answer).expect("introspection JSON")
    }

    pub(crate) fn active(&self, token: &str) -> bool {
        self.introspect(token)["active"] == Value::Bool(true)
    }
}

/// A POST of a form with HTTP basic client authentication, to 127.0.0.1:
/// the status and body.
fn http_post_form(url: &str, (user, password): (&str, &str), body: &str) -> (u16, String) {
    let parsed = url::Url::parse(url).expect("url");
    assert_eq!(parsed.host_str(), Some("127.0.0.1"));
    let port = parsed.port().expect("port");
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    let credentials = base64(&format!("{user}:{password}"));
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Basic {credentials}\r\nContent-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        parsed.path(),
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read answer");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").expect("HTTP answer");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status");
    let chunked = head.lines().any(|line| {
        line.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

fn base64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let bytes = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(bytes[0]) << 16) | (u32::from(bytes[1]) << 8) | u32::from(bytes[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The login `codex` stored for [`NAME`] in `$CODEX_HOME/.credentials.json`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stored {
    pub(crate) access_token: String,
    pub(crate) refresh_token: Option<String>,
    pub(crate) client_id: String,
}

/// A CODEX_HOME with [`NAME`] configured, and every output its `codex`
/// runs gave, to check that no token ever shows.
pub(crate) struct Session<'a> {
    stack: &'a Stack,
    pub(crate) home: Home,
    outputs: Vec<String>,
    tokens: BTreeSet<String>,
}

impl<'a> Session<'a> {
    pub(crate) fn new(stack: &'a Stack) -> Session<'a> {
        built_library("codex_oauth");
        built_library("codex_file");
        let home = Home::new();
        home.write_config(&format!("[mcp_servers.{NAME}]\nurl = \"{}\"\n", stack.url));
        Session {
            stack,
            home,
            outputs: Vec::new(),
            tokens: BTreeSet::new(),
        }
    }

    /// `codex -c mcp_oauth_credentials_store=file ARGS` in this home, with
    /// no `$BROWSER`, stdin closed.
    pub(crate) fn codex(&self) -> assert_cmd::Command {
        let mut command = self.home.codex();
        command
            .env_remove("BROWSER")
            .args(["-c", "mcp_oauth_credentials_store=file"]);
        command
    }

    /// The same as a plain `std` command (for processes run side by side
    /// or spoken to on stdin).
    pub(crate) fn std_codex(&self, home: &Path) -> Command {
        let mut command = Command::new(codex_bin());
        command
            .env("CODEX_HOME", home)
            .env("CODEX_SYSTEM_CONFIG", home.join("no-system-config.toml"))
            .env("CODEX_MANAGED_CONFIG", home.join("no-managed-config.toml"))
            .env_remove("BROWSER")
            .env_remove("NO_COLOR")
            .args(["-c", "mcp_oauth_credentials_store=file"]);
        command
    }

    /// Keeps `output` for the token check; returns it.
    pub(crate) fn keep(&mut self, output: Output) -> Output {
        self.outputs.push(format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
        self.note_tokens();
        output
    }

    pub(crate) fn run(&mut self, mut command: assert_cmd::Command) -> Output {
        let output = command.output().expect("run codex");
        self.keep(output)
    }

    /// Runs and requires success.
    pub(crate) fn ok(&mut self, command: assert_cmd::Command, what: &str) -> Output {
        let output = self.run(command);
        assert!(
            output.status.success(),
            "{what} failed:\nstdout: {}\nstderr: {}\n{}",
            stdout(&output),
            stderr(&output),
            self.stack.logs()
        );
        output
    }

    /// The stored login, remembering its tokens for the final check.
    pub(crate) fn stored(&mut self) -> Option<Stored> {
        let stored = stored_in(self.home.path());
        self.note_tokens();
        stored
    }

    fn note_tokens(&mut self) {
        if let Some(stored) = stored_in(self.home.path()) {
            self.tokens.insert(stored.access_token);
            self.tokens.extend(stored.refresh_token);
        }
    }

    /// `codex mcp login NAME` through the scripted browser.
    fn login_with_browser(&mut self) -> Stored {
        let mut command = self.codex();
        command
            .env("BROWSER", oauth_dir().join("browser.py"))
            .env(
                "OAUTH_BROWSER_LOG",
                self.stack.logs.path().join("browser.log"),
            )
            .args(["mcp", "login", NAME]);
        let output = self.ok(command, "codex mcp login");
        assert_eq!(
            stdout(&output),
            format!("Successfully logged in to MCP server '{NAME}'.\n")
        );
        let stored = self.stored().expect("a stored login");
        assert!(
            stored.refresh_token.is_some(),
            "the provider issued no refresh token"
        );
        stored
    }

    /// `codex mcp call NAME TOOL --args ARGS`: its output.
    pub(crate) fn call(&mut self, tool: &str, args: &str) -> Output {
        let mut command = self.codex();
        // Verbose: the debug log is part of what must not show a token.
        command.args(["--verbose", "mcp", "call", NAME, tool, "--args", args]);
        self.run(command)
    }

    /// A call of `whoami`, which must succeed and name the login's user.
    pub(crate) fn whoami(&mut self) {
        let output = self.call("whoami", "{}");
        assert!(
            output.status.success(),
            "mcp call whoami failed:\nstdout: {}\nstderr: {}\n{}",
            stdout(&output),
            stderr(&output),
            self.stack.logs()
        );
        let text = stdout(&output);
        assert!(
            text.starts_with("subject=codex-user client=") && text.contains("scopes=mcp:tools"),
            "{text}"
        );
    }

    /// No token `codex` ever stored appears in anything it printed.
    pub(crate) fn assert_no_token_shown(&mut self) {
        self.note_tokens();
        assert!(!self.tokens.is_empty(), "no token was ever stored");
        for output in &self.outputs {
            for token in &self.tokens {
                assert!(
                    !output.contains(token.as_str()),
                    "a token appears in the output of codex:\n{output}"
                );
            }
        }
    }
}

/// The login stored for [`NAME`] under `home`, if any.
pub(crate) fn stored_in(home: &Path) -> Option<Stored> {
    let text = fs::read_to_string(home.join(".credentials.json")).ok()?;
    let all: Value = serde_json::from_str(&text).expect(".credentials.json is JSON");
    let entry = all
        .as_object()?
        .values()
        .find(|entry| entry["server_name"] == NAME)?;
    let text = |key: &str| entry[key].as_str().map(str::to_owned);
    Some(Stored {
        access_token: text("access_token").expect("access_token"),
        refresh_token: text("refresh_token"),
        client_id: text("client_id").expect("client_id"),
    })
}

/// Waits until the access token of a [`SHORT_TTL`] login has expired.
pub(crate) fn wait_past_expiry() {
    std::thread::sleep(Duration::from_secs(SHORT_TTL) + Duration::from_millis(1500));
}

#[test]
fn a_browser_login_gets_tokens_the_resource_server_accepts() {
    let stack = Stack::start(3600);
    let mut session = Session::new(&stack);
    let stored = session.login_with_browser();

    // The token is for this resource, with the scope its metadata names.
    let info = stack.introspect(&stored.access_token);
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["aud"], stack.url.as_str(), "{info}");
    assert_eq!(info["scope"], "mcp:tools", "{info}");
    assert_eq!(info["client_id"], stored.client_id.as_str(), "{info}");

    session.whoami();
    let echoed = session.call("echo", r#"{"message":"through oidc-provider"}"#);
    assert!(echoed.status.success(), "{}", stderr(&echoed));
    assert_eq!(stdout(&echoed), "through oidc-provider\n");

    let mut list = session.codex();
    list.args(["mcp", "list", "--json"]);
    let listed = session.ok(list, "codex mcp list");
    let listing: Value = serde_json::from_slice(&listed.stdout).expect("list JSON");
    assert_eq!(listing[0]["name"], NAME, "{listing}");
    assert_eq!(listing[0]["auth_status"], "o_auth", "{listing}");

    // A fresh token is used as it is: no refresh.
    assert_eq!(stack.refreshes(), 0, "{}", stack.logs());
    assert_eq!(session.stored(), Some(stored));
    session.assert_no_token_shown();
}

#[test]
fn mcp_add_logs_in_through_the_browser_by_itself() {
    let stack = Stack::start(3600);
    let mut session = Session::new(&stack);
    session.home.write_config("");
    let mut add = session.codex();
    add.env("BROWSER", oauth_dir().join("browser.py"))
        .args(["mcp", "add", NAME, "--url", &stack.url]);
    let output = session.ok(add, "codex mcp add");
    assert!(
        stderr(&output).contains(&format!("Successfully logged in to MCP server '{NAME}'.")),
        "{}",
        stderr(&output)
    );
    assert!(session.stored().is_some(), "mcp add stored no login");
    session.whoami();
    session.assert_no_token_shown();
}

/// A client registered with the provider beforehand, at an identity
/// provider without dynamic registration: `mcp add --oauth-client-id
/// --oauth-client-secret-stdin` prints the redirect URI to register (as
/// Codex does), and the login uses that client and that URI (its port the
/// listener's), never registering one.
#[test]
fn a_preregistered_client_logs_in_where_there_is_no_dynamic_registration() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = free.local_addr().expect("port").port();
    drop(free);
    let url = format!("http://127.0.0.1:{port}/mcp");
    // First the user adds the server (not running yet) with the client the
    // identity provider's administrator gave them.
    let home = Home::new();
    let mut add = assert_cmd::Command::new(codex_bin());
    add.env("CODEX_HOME", home.path())
        .env(
            "CODEX_SYSTEM_CONFIG",
            home.path().join("no-system-config.toml"),
        )
        .env(
            "CODEX_MANAGED_CONFIG",
            home.path().join("no-managed-config.toml"),
        )
        .args([
            "mcp",
            "add",
            NAME,
            "--url",
            &url,
            "--oauth-client-id",
            "codex-preregistered",
            "--oauth-client-secret-stdin",
            "--no-login",
        ])
        .write_stdin("pre-registered-secret\n");
    let output = add.output().expect("run codex mcp add");
    assert!(output.status.success(), "{}", stderr(&output));
    let redirect_uri = stdout(&output)
        .lines()
        .find_map(|line| line.strip_prefix("OAuth callback URL: "))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no callback URL in:\n{}", stdout(&output)));
    assert!(
        redirect_uri.starts_with("http://127.0.0.1/callback/"),
        "{redirect_uri}"
    );
    // The administrator registers that URI for the client.
    let client = serde_json::json!({
        "client_id": "codex-preregistered",
        "client_secret": "pre-registered-secret",
        "redirect_uri": redirect_uri,
    })
    .to_string();
    let stack = Stack::start_with(
        3600,
        port,
        &[
            ("OAUTH_PRE_REGISTERED", client.as_str()),
            ("OAUTH_NO_REGISTRATION", "1"),
        ],
    );
    assert_eq!(stack.url, url);
    let mut session = Session::new(&stack);
    session.home = home;
    let stored = session.login_with_browser();
    assert_eq!(stored.client_id, "codex-preregistered");
    let provider_log = stack.logs();
    assert!(
        !provider_log.contains("registration_create"),
        "{provider_log}"
    );
    session.whoami();
    let text = stdout(&session.call("whoami", "{}"));
    assert!(text.contains("client=codex-preregistered"), "{text}");
    assert!(
        session
            .outputs
            .iter()
            .all(|output| !output.contains("pre-registered-secret")),
        "the client secret was shown"
    );
    session.assert_no_token_shown();
}

#[test]
fn a_no_browser_login_takes_the_pasted_callback() {
    let stack = Stack::start(3600);
    let mut session = Session::new(&stack);
    let mut login = Guard::spawn(
        session
            .std_codex(session.home.path())
            .args(["mcp", "login", NAME, "--no-browser"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        "codex mcp login --no-browser",
    );
    let mut stdin = login.child.stdin.take().expect("stdin");
    let lines = lines_of(login.child.stderr.take().expect("stderr"));
    let mut seen = Vec::new();
    let authorize = format!("{}/auth?", stack.issuer);
    let url = wait_for_line(
        &lines,
        Duration::from_secs(60),
        "authorization URL on the stderr of codex",
        &mut seen,
        |line| {
            let line = line.trim();
            line.starts_with(&authorize).then(|| line.to_owned())
        },
    )
    .unwrap_or_else(|error| panic!("{error}\n{}", stack.logs()));

    // The user opens it elsewhere; the browser ends at the loopback
    // callback, which (on another machine) does not load: pasted instead.
    let browser = Command::new(python())
        .arg(oauth_dir().join("browser.py"))
        .arg("--print-redirect")
        .arg(&url)
        .output()
        .expect("run browser.py");
    assert!(
        browser.status.success(),
        "browser.py: {}\n{}",
        stderr(&browser),
        stack.logs()
    );
    let callback = stdout(&browser).trim().to_owned();
    assert!(
        callback.starts_with("http://127.0.0.1:") && callback.contains("code="),
        "not a callback: {}",
        callback.split('?').next().unwrap_or_default()
    );
    writeln!(stdin, "{callback}").expect("paste the callback");
    drop(stdin);

    let output = login.wait_with_output(Duration::from_secs(60));
    // The rest of its stderr, up to the end of the stream.
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(10)) {
        seen.push(line);
    }
    let shown = seen.join("\n");
    assert!(
        output.status.success(),
        "login failed:\n{shown}\n{}",
        stack.logs()
    );
    assert!(
        shown.contains("Paste the URL the browser ended at"),
        "{shown}"
    );
    assert_eq!(
        stdout(&output),
        format!("Successfully logged in to MCP server '{NAME}'.\n")
    );
    session.keep(Output {
        stderr: shown.into_bytes(),
        ..output
    });
    let stored = session.stored().expect("a stored login");
    assert!(stack.active(&stored.access_token));
    session.whoami();
    session.assert_no_token_shown();
}

#[test]
fn an_expired_token_is_refreshed_and_the_refresh_token_rotated() {
    let stack = Stack::start(SHORT_TTL);
    let mut session = Session::new(&stack);
    let first = session.login_with_browser();
    wait_past_expiry();
    assert!(
        !stack.active(&first.access_token),
        "the provider still takes the expired token"
    );

    let before = stack.refreshes();
    let started = Instant::now();
    session.whoami();
    let took = started.elapsed();
    let second = session.stored().expect("still logged in");
    assert_ne!(second.access_token, first.access_token);
    assert_ne!(
        second.refresh_token, first.refresh_token,
        "the refresh token was not rotated"
    );
    // One refresh for the whole call, not one per request: the fresh token
    // is due again only at half its life (a very slow call may see that).
    let refreshes = stack.refreshes() - before;
    let allowed = 1 + took.as_millis() / u128::from(SHORT_TTL * 500);
    assert!(
        refreshes >= 1 && refreshes as u128 <= allowed,
        "{refreshes} refreshes in a call of {took:?}\n{}",
        stack.logs()
    );
    // The old refresh token is spent; the new one works.
    assert!(!stack.active(first.refresh_token.as_deref().expect("refresh token")));
    assert!(stack.active(second.refresh_token.as_deref().expect("refresh token")));

    // Once more: the rotated token refreshes too.
    wait_past_expiry();
    session.whoami();
    let third = session.stored().expect("still logged in");
    assert_ne!(third.refresh_token, second.refresh_token);
    session.assert_no_token_shown();
}

#[test]
fn two_processes_refreshing_at_once_keep_the_login() {
    let stack = Stack::start(SHORT_TTL);
    let mut session = Session::new(&stack);
    let first = session.login_with_browser();
    wait_past_expiry();

    let spawn = |which: &str| {
        Guard::spawn(
            session
                .std_codex(session.home.path())
                .args(["mcp", "call", NAME, "whoami"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
            &format!("the {which} codex mcp call"),
        )
    };
    let (one, two) = (spawn("first"), spawn("second"));
    let outputs = [
        one.wait_with_output(Duration::from_secs(90)),
        two.wait_with_output(Duration::from_secs(90)),
    ];
    for output in outputs {
        let output = session.keep(output);
        assert!(
            output.status.success(),
            "a simultaneous call failed:\nstdout: {}\nstderr: {}\n{}",
            stdout(&output),
            stderr(&output),
            stack.logs()
        );
        assert!(stdout(&output).starts_with("subject=codex-user"));
    }
    // A refresh token used twice would have made the provider revoke the
    // grant: the stored login would be dead now.
    assert!(
        !stack.logs().contains("grant.revoked"),
        "the provider revoked the grant (a refresh token was used twice):\n{}",
        stack.logs()
    );
    let stored = session.stored().expect("still logged in");
    assert_ne!(stored.refresh_token, first.refresh_token);
    assert!(stack.active(stored.refresh_token.as_deref().expect("refresh token")));
    session.whoami();
    wait_past_expiry();
    session.whoami();
    session.assert_no_token_shown();
}

#[test]
fn a_login_revoked_elsewhere_asks_to_log_in_again() {
    let stack = Stack::start(SHORT_TTL);
    let mut session = Session::new(&stack);
    let stored = session.login_with_browser();

    // The same login copied to another CODEX_HOME and logged out there:
    // the provider revokes the grant.
    let other = Home::new();
    for file in ["config.toml", ".credentials.json"] {
        fs::copy(session.home.path().join(file), other.path().join(file)).expect("copy");
    }
    let mut logout = session.codex();
    logout
        .env("CODEX_HOME", other.path())
        .env("CODEX_SYSTEM_CONFIG", other.path().join("none.toml"))
        .env("CODEX_MANAGED_CONFIG", other.path().join("none.toml"))
        .args(["mcp", "logout", NAME]);
    let output = session.ok(logout, "codex mcp logout in the copy");
    assert!(stderr(&output).contains("Revoked"), "{}", stderr(&output));
    assert!(!stack.active(stored.refresh_token.as_deref().expect("refresh token")));

    wait_past_expiry();
    let output = session.call("whoami", "{}");
    assert!(!output.status.success(), "a revoked login still works");
    let error = stderr(&output);
    assert!(
        error.contains(&format!("codex mcp login {NAME}")),
        "the error does not say how to log in again:\n{error}"
    );
    // One refresh attempt, one warning: starting over with `initialize`
    // after `server/discover` failed does not refresh again.
    assert_eq!(
        error
            .lines()
            .filter(|line| line.starts_with("warning:") && line.contains("expired or was revoked"))
            .count(),
        1,
        "{error}"
    );
    assert_eq!(stdout(&output), "");
    // What is stored is left for the user to replace.
    assert!(session.stored().is_some());
    session.assert_no_token_shown();
}

#[test]
fn logout_revokes_at_the_provider_and_deletes() {
    let stack = Stack::start(3600);
    let mut session = Session::new(&stack);
    let stored = session.login_with_browser();
    session.whoami();
    let refresh = stored.refresh_token.clone().expect("refresh token");
    assert!(stack.active(&stored.access_token));
    assert!(stack.active(&refresh));

    let mut logout = session.codex();
    logout.args(["mcp", "logout", NAME]);
    let output = session.ok(logout, "codex mcp logout");
    assert_eq!(
        stderr(&output),
        format!("Revoked the OAuth tokens of '{NAME}' at its authorization server.\n")
    );
    assert!(
        !stack.active(&stored.access_token),
        "the access token is still active"
    );
    assert!(!stack.active(&refresh), "the refresh token is still active");
    assert_eq!(session.stored(), None);

    let output = session.call("whoami", "{}");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains(&format!("codex mcp login {NAME}")),
        "{}",
        stderr(&output)
    );

    let mut again = session.codex();
    again.args(["mcp", "logout", NAME]);
    let output = session.ok(again, "a second codex mcp logout");
    assert_eq!(
        stdout(&output),
        format!("No OAuth credentials stored for '{NAME}'.\n")
    );
    session.assert_no_token_shown();
}

#[test]
fn logout_says_it_removed_the_credentials() {
    let stack = Stack::start(3600);
    let mut session = Session::new(&stack);
    session.login_with_browser();
    let mut logout = session.codex();
    logout.args(["mcp", "logout", NAME]);
    let output = session.ok(logout, "codex mcp logout");
    assert_eq!(
        stdout(&output),
        format!("Removed OAuth credentials for '{NAME}'.\n")
    );
    session.assert_no_token_shown();
}
