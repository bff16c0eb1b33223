//! Where MCP OAuth tokens go, through the built `codex` binary and real
//! stores: `mcp_oauth_credentials_store = keyring | file | auto | <backend
//! name>` with a real `codex mcp login` against a local authorization
//! server and with tokens seeded the way the Codex CLI stores them
//! (`secret-tool`, `.credentials.json`), read by `codex mcp list` and
//! `codex mcp tools`, removed from every store by `codex mcp logout`; the
//! order of `credential_chain`; and a keyring that disappears while a
//! command runs or between two commands.

// The Secret Service tested here is a Linux store.
#![cfg(target_os = "linux")]

use codex_test_support::keyrings as real_keyrings;
use codex_test_support::oauth_mcp;
use codex_test_support::server;

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use codex_test_support::{Home, stderr, stdout};
use oauth_mcp::Grant;
use real_keyrings::{SecretService, Vanish};
use serde_json::{Value, json};
use server::TestServer;

const MCP_SERVICE: &str = "Codex MCP Credentials";
const ACCESS: &str = "store-access-Tq81Lw0Zr5Yx3Kd7";
const REFRESH: &str = "store-refresh-Hm26Pv9Jc4Ns1Bg8";

/// Codex's keyring account of the tokens of server `name` at `url`.
fn account(name: &str, url: &str) -> String {
    codex_file::mcp_account_key(name, url)
}

/// The JSON the Codex CLI keeps in the keyring for `name`'s tokens.
fn keyring_record(name: &str, url: &str, access_token: &str) -> String {
    json!({
        "server_name": name,
        "url": url,
        "client_id": "codex-cli-client",
        "token_response": {"access_token": access_token, "token_type": "Bearer"},
        "expires_at": 4_102_444_800_000u64,
    })
    .to_string()
}

/// The entry the Codex CLI writes to `.credentials.json` for `name`'s tokens.
fn file_entry(name: &str, url: &str, access_token: &str) -> (String, Value) {
    (
        account(name, url),
        json!({
            "server_name": name, "server_url": url, "client_id": "codex-cli-client",
            "access_token": access_token, "expires_at": null, "refresh_token": null, "scopes": []
        }),
    )
}

fn credentials_path(home: &Home) -> PathBuf {
    home.path().join(".credentials.json")
}

/// Writes `.credentials.json` with `entries`, 0600 as Codex does.
fn seed_file(home: &Home, entries: &[(String, Value)]) {
    let map: serde_json::Map<String, Value> = entries.iter().cloned().collect();
    let path = credentials_path(home);
    fs::write(&path, Value::Object(map).to_string()).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
}

/// `.credentials.json` as JSON, `None` when there is none.
fn read_file(home: &Home) -> Option<Value> {
    let text = fs::read_to_string(credentials_path(home)).ok()?;
    Some(serde_json::from_str(&text).unwrap())
}

/// Stores an item the way the Codex CLI's keyring library does.
fn seed_keyring(ss: &SecretService, name: &str, url: &str, access_token: &str) {
    let output = ss.secret_tool(
        &[
            "store",
            "--label=codex",
            "service",
            MCP_SERVICE,
            "username",
            &account(name, url),
            "target",
            "default",
            "application",
            "rust-keyring",
        ],
        Some(&keyring_record(name, url, access_token)),
    );
    assert!(output.status.success(), "{}", stderr(&output));
}

/// The keyring item of `name`'s tokens, as JSON.
fn keyring_item(ss: &SecretService, name: &str, url: &str) -> Option<Value> {
    ss.lookup(MCP_SERVICE, &account(name, url))
        .map(|text| serde_json::from_str(&text).unwrap())
}

/// An environment in which no session bus answers.
fn no_bus(dir: &Path) -> Vec<(OsString, OsString)> {
    vec![
        (
            "DBUS_SESSION_BUS_ADDRESS".into(),
            format!("unix:path={}", dir.join("no-bus").display()).into(),
        ),
        ("XDG_RUNTIME_DIR".into(), dir.as_os_str().to_owned()),
    ]
}

/// A CODEX_HOME with server `docs` at the OAuth server's `/mcp`, the
/// environment its `codex` runs with.
struct Lab {
    home: Home,
    url: String,
    env: Vec<(OsString, OsString)>,
}

impl Lab {
    /// `settings` (top-level keys) followed by server `docs` at `server`.
    fn new(server: &TestServer, settings: &str, env: Vec<(OsString, OsString)>) -> Lab {
        codex_test_support::built_library("codex_oauth");
        codex_test_support::built_library("codex_keyring");
        codex_test_support::built_library("codex_file");
        let home = Home::new();
        let url = server.url("/mcp");
        let lab = Lab { home, url, env };
        lab.configure(settings);
        lab
    }

    fn configure(&self, settings: &str) {
        self.home.write_config(&format!(
            "{settings}\n[mcp_servers.docs]\nurl = \"{}\"\n",
            self.url
        ));
    }

    fn codex(&self, args: &[&str]) -> Output {
        let browser = oauth_mcp::browser(self.home.path());
        self.home
            .codex()
            .env("BROWSER", browser)
            .envs(self.env.iter().cloned())
            .args(args)
            .output()
            .unwrap()
    }

    /// `codex mcp login docs`, which must succeed.
    fn login(&self) -> Output {
        let output = self.codex(&["mcp", "login", "docs"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(
            stdout(&output),
            "Successfully logged in to MCP server 'docs'.\n"
        );
        output
    }

    /// The Auth column of `docs` in `codex mcp list`, text and JSON, which
    /// must agree; with the text's stderr.
    fn auth(&self) -> (String, String) {
        let output = self.codex(&["mcp", "list", "--json"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let list: Value = serde_json::from_slice(&output.stdout).unwrap();
        let status = list
            .as_array()
            .unwrap()
            .iter()
            .find(|server| server["name"] == "docs")
            .unwrap()["auth_status"]
            .as_str()
            .unwrap()
            .to_owned();
        let text = self.codex(&["mcp", "list"]);
        let line = stdout(&text)
            .lines()
            .find(|line| line.starts_with("docs "))
            .unwrap()
            .trim_end()
            .to_owned();
        let column = match status.as_str() {
            "o_auth" => "OAuth",
            "not_logged_in" => "Not logged in",
            other => panic!("unexpected auth status {other}"),
        };
        assert!(line.ends_with(column), "{line} for {status}");
        (status, stderr(&text))
    }

    /// `codex mcp logout docs`: its stdout, which must be one line.
    fn logout(&self) -> String {
        let output = self.codex(&["mcp", "logout", "docs"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        stdout(&output)
    }

    /// `codex mcp tools docs --json` succeeds, with the tools of the server.
    fn tools_work(&self) {
        let output = self.codex(&["mcp", "tools", "docs", "--json"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let listing: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(
            listing["servers"][0]["tools"][0]["name"], "echo",
            "{listing}"
        );
    }
}

const REMOVED: &str = "Removed OAuth credentials for 'docs'.\n";
const NOTHING: &str = "No OAuth credentials stored for 'docs'.\n";

/// The Authorization headers the server got on MCP requests, in order.
fn bearers_seen(server: &TestServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .filter(|request| request.path == "/mcp" && request.method == "POST")
        .filter_map(|request| request.header("authorization").map(str::to_owned))
        .collect()
}

// ---- one store each -------------------------------------------------------

/// The one warning line of `text`, which must be `auto` passing over the
/// keyring for the file for an MCP login; its reason is the caller's to check.
fn fallback_warning(text: &str) -> &str {
    let warnings: Vec<&str> = text.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(
        warnings[0].starts_with("warning: credential store `keyring` ")
            && warnings[0].ends_with(
                "using `file` instead (`mcp_oauth_credentials_store` chooses the stores)"
            ),
        "{text}"
    );
    warnings[0]
}

#[test]
fn keyring_a_login_is_kept_in_the_secret_service_and_logout_removes_it() {
    let ss = SecretService::start();
    let server = oauth_mcp::start(Grant::new(ACCESS, REFRESH));
    let lab = Lab::new(
        &server,
        "mcp_oauth_credentials_store = \"keyring\"",
        ss.env(),
    );
    lab.login();
    let item = keyring_item(&ss, "docs", &lab.url).expect("no keyring item after the login");
    assert_eq!(item["server_name"], "docs");
    assert_eq!(item["url"], lab.url.as_str());
    assert_eq!(item["client_id"], "store-test-client");
    assert_eq!(item["token_response"]["access_token"], ACCESS);
    assert_eq!(item["token_response"]["refresh_token"], REFRESH);
    assert!(item["expires_at"].is_u64(), "{item}");
    assert!(!credentials_path(&lab.home).exists());

    assert_eq!(lab.auth().0, "o_auth");
    lab.tools_work();
    assert_eq!(
        bearers_seen(&server).last().unwrap(),
        &format!("Bearer {ACCESS}")
    );
    assert_eq!(lab.logout(), REMOVED);
    assert_eq!(keyring_item(&ss, "docs", &lab.url), None);
    assert_eq!(lab.auth().0, "not_logged_in");
    assert_eq!(lab.logout(), NOTHING);

    // Tokens the Codex CLI stored are found, used and removed the same way.
    seed_keyring(&ss, "docs", &lab.url, ACCESS);
    assert_eq!(lab.auth().0, "o_auth");
    lab.tools_work();
    assert_eq!(lab.logout(), REMOVED);
    assert!(
        ss.search(MCP_SERVICE, &account("docs", &lab.url))
            .is_empty()
    );
}

#[test]
fn file_tokens_are_in_codexs_file_and_logout_also_cleans_the_keyring() {
    let ss = SecretService::start();
    let server = oauth_mcp::start(Grant::new(ACCESS, REFRESH));
    let lab = Lab::new(&server, "mcp_oauth_credentials_store = \"file\"", ss.env());

    // The file store does not read the keyring...
    seed_keyring(&ss, "docs", &lab.url, "keyring-copy-token");
    assert_eq!(lab.auth().0, "not_logged_in");
    // ...but what is in the file is used.
    let kept = file_entry("kept", "http://127.0.0.1:9/kept", "kept-token");
    seed_file(
        &lab.home,
        &[file_entry("docs", &lab.url, ACCESS), kept.clone()],
    );
    assert_eq!(lab.auth().0, "o_auth");
    lab.tools_work();
    // Logout removes the tokens from every store they may be in, as Codex
    // does, and leaves the other server's.
    assert_eq!(lab.logout(), REMOVED);
    assert_eq!(keyring_item(&ss, "docs", &lab.url), None);
    assert_eq!(
        read_file(&lab.home).unwrap(),
        json!({ kept.0.clone(): kept.1.clone() })
    );

    // A real login writes Codex's file entry, private, and nothing in the keyring.
    lab.login();
    let file = read_file(&lab.home).unwrap();
    let entry = &file[account("docs", &lab.url)];
    assert_eq!(entry["server_name"], "docs");
    assert_eq!(entry["server_url"], lab.url.as_str());
    assert_eq!(entry["access_token"], ACCESS);
    assert_eq!(entry["refresh_token"], REFRESH);
    assert!(entry["expires_at"].is_u64(), "{entry}");
    assert_eq!(file[&kept.0], kept.1);
    assert_eq!(
        fs::metadata(credentials_path(&lab.home))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert_eq!(keyring_item(&ss, "docs", &lab.url), None);
    assert_eq!(lab.logout(), REMOVED);
    assert_eq!(read_file(&lab.home).unwrap(), json!({ kept.0: kept.1 }));
}

#[test]
fn auto_uses_the_keyring_reads_the_file_too_and_logout_cleans_both() {
    let ss = SecretService::start();
    let server = oauth_mcp::start(Grant::new(ACCESS, REFRESH));
    let lab = Lab::new(&server, "", ss.env());

    // auto is the default: a login goes to the keyring only.
    let output = lab.login();
    assert_eq!(stderr(&output).matches("warning").count(), 0);
    assert_eq!(
        keyring_item(&ss, "docs", &lab.url).unwrap()["token_response"]["access_token"],
        ACCESS
    );
    assert!(!credentials_path(&lab.home).exists());
    assert_eq!(lab.auth().0, "o_auth");
    assert_eq!(lab.logout(), REMOVED);
    assert_eq!(keyring_item(&ss, "docs", &lab.url), None);

    // Tokens only in the file (an older Codex's fallback) are found next.
    seed_file(&lab.home, &[file_entry("docs", &lab.url, ACCESS)]);
    assert_eq!(lab.auth().0, "o_auth");
    lab.tools_work();
    // In both: one logout removes both copies.
    seed_keyring(&ss, "docs", &lab.url, ACCESS);
    assert_eq!(lab.logout(), REMOVED);
    assert_eq!(keyring_item(&ss, "docs", &lab.url), None);
    assert!(!credentials_path(&lab.home).exists());
    assert_eq!(lab.auth().0, "not_logged_in");
}

#[test]
fn auto_without_a_keyring_keeps_the_login_in_the_file_and_says_so_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = oauth_mcp::start(Grant::new(ACCESS, REFRESH));
    let lab = Lab::new(
        &server,
        "mcp_oauth_credentials_store = \"auto\"",
        no_bus(dir.path()),
    );
    let output = lab.login();
    let text = stderr(&output);
    assert!(
        fallback_warning(&text).starts_with("warning: credential store `keyring` is not reachable (no keyring is reachable: the Secret Service (D-Bus org.freedesktop.secrets) is not reachable: "),
        "{text}"
    );
    let file = read_file(&lab.home).unwrap();
    assert_eq!(file[account("docs", &lab.url)]["access_token"], ACCESS);

    // Said once per CODEX_HOME: the next commands are quiet, `-v` says it.
    let (status, text) = lab.auth();
    assert_eq!(status, "o_auth");
    assert_eq!(text.matches("warning:").count(), 0, "{text}");
    let text = stderr(&timed(&lab, &["-v", "mcp", "list"]));
    assert!(
        text.contains("credential store `keyring` is not reachable"),
        "{text}"
    );
    lab.tools_work();
    assert_eq!(lab.logout(), REMOVED);
    assert!(!credentials_path(&lab.home).exists());
}

#[test]
fn keyring_alone_without_a_keyring_fails_naming_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let server = oauth_mcp::start(Grant::new(ACCESS, REFRESH));
    let lab = Lab::new(
        &server,
        "mcp_oauth_credentials_store = \"keyring\"",
        no_bus(dir.path()),
    );
    let output = lab.codex(&["mcp", "login", "docs"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains(
            "credential store `keyring` (from `mcp_oauth_credentials_store`): no keyring is \
             reachable: the Secret Service (D-Bus org.freedesktop.secrets) is not reachable: "
        ),
        "{text}"
    );
    // The store is tried before the browser opens: one error, and the
    // person was never sent to the authorization server.
    assert_eq!(errors_in(&text), 1, "{text}");
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("error: credential store `keyring`"),
        "{text}"
    );
    assert!(
        !server
            .requests()
            .iter()
            .any(|request| request.path.starts_with("/authorize")),
        "the browser was opened although the login could not be kept"
    );
    assert!(!credentials_path(&lab.home).exists());

    let output = lab.codex(&["mcp", "logout", "docs"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains("failed to delete OAuth credentials: credential store `keyring` (from `mcp_oauth_credentials_store`)"),
        "{text}"
    );
}

/// How many lines of `text` are errors.
fn errors_in(text: &str) -> usize {
    text.lines()
        .filter(|line| line.to_ascii_lowercase().starts_with("error"))
        .count()
}

/// The json-file credential helper of the helper backend's tests.
fn helper_program() -> PathBuf {
    codex_test_support::workspace_root()
        .join("credential-backends/helper/tests/fixtures/json-file-credential-helper")
}

/// The helper's entries, keyed by server URL.
fn helper_entries(path: &Path) -> Value {
    fs::read_to_string(path)
        .ok()
        .map_or(json!({}), |text| serde_json::from_str(&text).unwrap())
}

/// The URL under which the helper backend files `(service, account)`
/// (the names here need only their spaces and `|` encoded).
fn helper_url(service: &str, account: &str) -> String {
    let encode = |text: &str| text.replace(' ', "%20").replace('|', "%7C");
    format!(
        "codex://credentials/{}/{}",
        encode(service),
        encode(account)
    )
}

#[test]
fn a_backend_chosen_by_name_keeps_the_login_and_nothing_else_does() {
    let ss = SecretService::start();
    let server = oauth_mcp::start(Grant::new(ACCESS, REFRESH));
    let entries = tempfile::tempdir().unwrap();
    let entries_file = entries.path().join("entries.json");
    let mut env = ss.env();
    env.push(("CODEX_TEST_HELPER_FILE".into(), entries_file.clone().into()));
    // An instance of the helper backend under a name of its own.
    let lab = Lab::new(
        &server,
        &format!(
            "mcp_oauth_credentials_store = \"work-vault\"\n\
             [credential_backends.work-vault]\nbackend = \"helper\"\nprogram = \"{}\"\n",
            helper_program().display()
        ),
        env,
    );
    lab.login();
    let url = helper_url(MCP_SERVICE, &account("docs", &lab.url));
    let stored = helper_entries(&entries_file);
    let entry = &stored[&url];
    assert_eq!(entry["Username"], account("docs", &lab.url), "{stored}");
    let record: Value = serde_json::from_str(entry["Secret"].as_str().unwrap()).unwrap();
    assert_eq!(record["token_response"]["access_token"], ACCESS);
    assert!(!credentials_path(&lab.home).exists());
    assert_eq!(keyring_item(&ss, "docs", &lab.url), None);

    assert_eq!(lab.auth().0, "o_auth");
    lab.tools_work();
    assert_eq!(lab.logout(), REMOVED);
    assert_eq!(helper_entries(&entries_file), json!({}));
    assert_eq!(lab.auth().0, "not_logged_in");
}

// ---- credential_chain ------------------------------------------------------

const KEY_A: &str = "sk-proj-ChainKeyAlpha000111222333AAAAA";
const KEY_B: &str = "sk-proj-ChainKeyBravo444555666777BBBBB";

/// `codex login status` in `home` with `env` and `-c` overrides: its line.
fn status_with(home: &Home, env: &[(OsString, OsString)], overrides: &[&str]) -> String {
    let mut command = home.codex();
    command.envs(env.iter().cloned());
    for value in overrides {
        command.args(["-c", value]);
    }
    let output = command.args(["login", "status"]).output().unwrap();
    stderr(&output)
}

fn login_with(home: &Home, env: &[(OsString, OsString)], overrides: &[&str], key: &str) -> Output {
    let mut command = home.codex();
    command.envs(env.iter().cloned());
    for value in overrides {
        command.args(["-c", value]);
    }
    command
        .args(["login", "--with-api-key"])
        .write_stdin(key)
        .output()
        .unwrap()
}

#[test]
fn credential_chain_reads_from_the_first_store_that_has_the_entry_writes_to_the_first_and_deletes_from_all()
 {
    let dir = tempfile::tempdir().unwrap();
    let entries_file = dir.path().join("helper-entries.json");
    let mut env = no_bus(dir.path());
    env.push(("CODEX_TEST_HELPER_FILE".into(), entries_file.clone().into()));
    let home = Home::new();
    home.write_config(&format!(
        "cli_auth_credentials_store = \"auto\"\n[credential_backends.helper]\nprogram = \"{}\"\n",
        helper_program().display()
    ));
    let auth_json = home.path().join("auth.json");
    let cli_url = helper_url("Codex Auth", &cli_account(home.path()));
    let helper_first = "credential_chain=[\"helper\", \"file\"]";
    let file_first = "credential_chain=[\"file\", \"helper\"]";
    let masked_a = "Logged in using an API key - sk-proj-***AAAAA\n";
    let masked_b = "Logged in using an API key - sk-proj-***BBBBB\n";

    // One login in each store, each written by choosing that store alone.
    for (store, key) in [("helper", KEY_A), ("file", KEY_B)] {
        let choose = format!("cli_auth_credentials_store={store}");
        let output = login_with(&home, &env, &[&choose], key);
        assert_eq!(stderr(&output), "Successfully logged in\n");
    }
    assert!(auth_json.exists());
    assert!(helper_entries(&entries_file).get(&cli_url).is_some());

    // Read: the first store of the chain that has the entry wins.
    assert_eq!(status_with(&home, &env, &[helper_first]), masked_a);
    assert_eq!(status_with(&home, &env, &[file_first]), masked_b);

    // Write: into the first store; the copy in the other is removed, so it
    // cannot shadow the new one whatever the order.
    let output = login_with(&home, &env, &[file_first], KEY_A);
    assert_eq!(stderr(&output), "Successfully logged in\n");
    assert!(auth_json.exists());
    assert_eq!(helper_entries(&entries_file), json!({}));
    assert_eq!(status_with(&home, &env, &[helper_first]), masked_a);
    let output = login_with(&home, &env, &[helper_first], KEY_B);
    assert_eq!(stderr(&output), "Successfully logged in\n");
    assert!(!auth_json.exists());
    assert!(helper_entries(&entries_file).get(&cli_url).is_some());
    assert_eq!(status_with(&home, &env, &[file_first]), masked_b);

    // A first store that refuses the write: the next one takes it, with a warning.
    let mut failing = env.clone();
    failing.push(("CODEX_TEST_HELPER_FAIL".into(), "store:echo".into()));
    let output = login_with(&home, &failing, &[helper_first], KEY_A);
    let text = stderr(&output);
    assert!(
        text.starts_with("warning: credential store `helper` failed ("),
        "{text}"
    );
    assert!(
        text.ends_with(
            "using `file` instead (`cli_auth_credentials_store` chooses the stores)\nSuccessfully logged in\n"
        ),
        "{text}"
    );
    assert!(!text.contains(KEY_A), "{text}");
    assert!(auth_json.exists());
    assert_eq!(helper_entries(&entries_file), json!({}));
    assert_eq!(status_with(&home, &env, &[helper_first]), masked_a);

    // Delete: from every store of the chain.
    let output = login_with(&home, &env, &["cli_auth_credentials_store=helper"], KEY_B);
    assert_eq!(stderr(&output), "Successfully logged in\n");
    let output = home
        .codex()
        .envs(env.iter().cloned())
        .args(["-c", helper_first, "logout"])
        .output()
        .unwrap();
    assert_eq!(stderr(&output), "Successfully logged out\n");
    assert!(!auth_json.exists());
    assert_eq!(helper_entries(&entries_file), json!({}));
    assert_eq!(status_with(&home, &env, &[file_first]), "Not logged in\n");
}

/// Codex's keyring account of the CLI login for `home`.
fn cli_account(home: &Path) -> String {
    use sha2::{Digest, Sha256};
    let canonical = home.canonicalize().unwrap();
    let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("cli|{}", &hex[..16])
}

#[test]
fn credential_chain_decides_which_stored_token_an_mcp_server_gets() {
    let ss = SecretService::start();
    let in_keyring = "chain-keyring-token-Vb62";
    let in_file = "chain-file-token-Qe39";
    let mut grant = Grant::new(ACCESS, REFRESH);
    for token in [in_keyring, in_file] {
        grant
            .also_accepted
            .push(("authorization".to_owned(), format!("Bearer {token}")));
    }
    let server = oauth_mcp::start(grant);
    let lab = Lab::new(&server, "", ss.env());
    seed_keyring(&ss, "docs", &lab.url, in_keyring);
    seed_file(&lab.home, &[file_entry("docs", &lab.url, in_file)]);

    // The default chain: the keyring, then the file.
    lab.tools_work();
    assert_eq!(
        bearers_seen(&server).last().unwrap(),
        &format!("Bearer {in_keyring}")
    );
    // The file first.
    lab.configure("credential_chain = [\"file\", \"keyring\"]");
    lab.tools_work();
    assert_eq!(
        bearers_seen(&server).last().unwrap(),
        &format!("Bearer {in_file}")
    );
    // A login goes to the first store, and the keyring's older copy goes.
    lab.login();
    assert_eq!(
        read_file(&lab.home).unwrap()[account("docs", &lab.url)]["access_token"],
        ACCESS
    );
    assert_eq!(keyring_item(&ss, "docs", &lab.url), None);
    // Logout: from both.
    seed_keyring(&ss, "docs", &lab.url, in_keyring);
    assert_eq!(lab.logout(), REMOVED);
    assert_eq!(keyring_item(&ss, "docs", &lab.url), None);
    assert!(!credentials_path(&lab.home).exists());
}

// ---- the keyring disappears --------------------------------------------

/// What is on disk that no command here may change: `auth.json` (the CLI
/// login, kept in the file) and `.credentials.json` holding another
/// server's tokens.
struct OnDisk {
    auth: Vec<u8>,
    credentials: Vec<u8>,
    kept: (String, Value),
}

impl OnDisk {
    fn seed(home: &Home) -> OnDisk {
        let auth_path = home.path().join("auth.json");
        fs::write(
            &auth_path,
            json!({"auth_mode": "apikey", "OPENAI_API_KEY": KEY_A}).to_string(),
        )
        .unwrap();
        fs::set_permissions(&auth_path, fs::Permissions::from_mode(0o600)).unwrap();
        let kept = file_entry("kept", "http://127.0.0.1:9/kept", "kept-token-Zx55");
        seed_file(home, std::slice::from_ref(&kept));
        OnDisk {
            auth: fs::read(&auth_path).unwrap(),
            credentials: fs::read(credentials_path(home)).unwrap(),
            kept,
        }
    }

    /// Both files are byte for byte as seeded.
    fn unchanged(&self, home: &Home) {
        assert_eq!(
            fs::read(home.path().join("auth.json")).unwrap(),
            self.auth,
            "auth.json changed"
        );
        assert_eq!(
            fs::read(credentials_path(home)).unwrap(),
            self.credentials,
            ".credentials.json changed"
        );
    }
}

/// A server whose token endpoint takes `what` of `ss` away first: the
/// keyring was opened when `codex mcp login` started (it reads an earlier
/// login) and is gone when the tokens are to be stored.
fn vanishing_server(ss: &SecretService, what: Vanish) -> TestServer {
    let mut grant = Grant::new(ACCESS, REFRESH);
    grant.before_token = Some(std::sync::Arc::new(ss.vanisher(what)));
    oauth_mcp::start(grant)
}

/// `codex ARGS` in `lab`, timed: it must end within 30 s (the keyring
/// backend's deadline is 10 s per operation).
fn timed(lab: &Lab, args: &[&str]) -> Output {
    let started = Instant::now();
    let output = lab.codex(args);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(30),
        "`codex {}` took {took:?}",
        args.join(" ")
    );
    let text = stderr(&output);
    assert!(!text.contains("panicked"), "{text}");
    output
}

fn keyring_gone_during_login_is_one_clear_error(what: Vanish) {
    let ss = SecretService::start();
    let server = vanishing_server(&ss, what);
    let lab = Lab::new(
        &server,
        "mcp_oauth_credentials_store = \"keyring\"",
        ss.env(),
    );
    let disk = OnDisk::seed(&lab.home);

    let output = timed(&lab, &["mcp", "login", "docs"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    // The browser's lines, then one error naming the store and what to check.
    assert_eq!(errors_in(&text), 1, "{text}");
    let error = text.lines().last().unwrap();
    assert!(
        error.starts_with(&format!(
            "error: credential store `keyring` (from `mcp_oauth_credentials_store`): cannot store \
             `{}` (service `Codex MCP Credentials`) in the Secret Service (D-Bus \
             org.freedesktop.secrets): ",
            account("docs", &lab.url)
        )),
        "{text}"
    );
    assert!(
        error.ends_with("the Secret Service answered when this command started: check that the keyring daemon (gnome-keyring, KeePassXC, KWallet) and the session's D-Bus still run, then try again"),
        "{text}"
    );
    assert!(!text.contains(ACCESS) && !text.contains(REFRESH), "{text}");
    assert!(stdout(&output).is_empty());
    disk.unchanged(&lab.home);

    // The commands after it: each says which store failed, in one line.
    let output = timed(&lab, &["mcp", "list"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stderr(&output);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("warning: cannot read stored credentials for `docs`: credential store `keyring` (from `mcp_oauth_credentials_store`): "),
        "{text}"
    );
    let output = timed(&lab, &["mcp", "logout", "docs"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.contains("failed to delete OAuth credentials: credential store `keyring` (from `mcp_oauth_credentials_store`): "),
        "{text}"
    );
    assert_eq!(
        text.lines()
            .filter(|line| !line.starts_with("warning"))
            .count(),
        1,
        "{text}"
    );
    // The CLI login in the file is still there and readable.
    let output = timed(&lab, &["login", "status"]);
    assert_eq!(
        stderr(&output),
        "Logged in using an API key - sk-proj-***AAAAA\n"
    );
    disk.unchanged(&lab.home);
}

#[test]
fn keyring_daemon_killed_during_mcp_login_is_one_clear_error_and_no_file_changes() {
    keyring_gone_during_login_is_one_clear_error(Vanish::Keyring);
}

#[test]
fn session_bus_killed_during_mcp_login_is_one_clear_error_and_no_file_changes() {
    keyring_gone_during_login_is_one_clear_error(Vanish::Bus);
}

#[test]
fn keyring_daemon_hung_during_mcp_login_is_a_timeout_naming_the_store_and_its_option() {
    let ss = SecretService::start();
    let mut grant = Grant::new(ACCESS, REFRESH);
    grant.before_token = Some(std::sync::Arc::new(ss.freezer()));
    let server = oauth_mcp::start(grant);
    let lab = Lab::new(
        &server,
        "mcp_oauth_credentials_store = \"keyring\"\n\
         [credential_backends.keyring]\ntimeout_secs = 2",
        ss.env(),
    );
    let disk = OnDisk::seed(&lab.home);
    let started = Instant::now();
    let output = timed(&lab, &["mcp", "login", "docs"]);
    let took = started.elapsed();
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert_eq!(errors_in(&text), 1, "{text}");
    let error = text.lines().last().unwrap();
    assert!(
        error.starts_with(&format!(
            "error: credential store `keyring` (from `mcp_oauth_credentials_store`): storing `{}` \
             in the Secret Service (D-Bus org.freedesktop.secrets) did not finish within 2.0 s",
            account("docs", &lab.url)
        )),
        "{text}"
    );
    assert!(
        error.ends_with("raise the backend's `timeout_secs` option"),
        "{text}"
    );
    // One deadline, not one per retry.
    assert!(took < Duration::from_secs(15), "took {took:?}");
    disk.unchanged(&lab.home);

    // With auto, and the daemon still hung: the file takes the login once
    // the keyring's deadline has passed.
    lab.configure(
        "mcp_oauth_credentials_store = \"auto\"\n[credential_backends.keyring]\ntimeout_secs = 2",
    );
    let output = timed(&lab, &["mcp", "login", "docs"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        fallback_warning(&text).starts_with("warning: credential store `keyring` is not reachable (no keyring is reachable: \
             opening the Secret Service (D-Bus org.freedesktop.secrets) did not finish within 2.0 s)"),
        "{text}"
    );
    let file = read_file(&lab.home).unwrap();
    assert_eq!(file[account("docs", &lab.url)]["access_token"], ACCESS);
    assert_eq!(file[&disk.kept.0], disk.kept.1);
}

#[test]
fn auto_keyring_killed_during_mcp_login_falls_back_to_the_file_with_one_warning() {
    let ss = SecretService::start();
    let server = vanishing_server(&ss, Vanish::Keyring);
    let lab = Lab::new(&server, "mcp_oauth_credentials_store = \"auto\"", ss.env());
    let disk = OnDisk::seed(&lab.home);

    let output = timed(&lab, &["mcp", "login", "docs"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    fallback_warning(&stderr(&output));
    // The login is in the file, next to the other server's, which is intact.
    let file = read_file(&lab.home).unwrap();
    assert_eq!(file[account("docs", &lab.url)]["access_token"], ACCESS);
    assert_eq!(file[&disk.kept.0], disk.kept.1);
    assert_eq!(file.as_object().unwrap().len(), 2);
    assert_eq!(
        fs::read(lab.home.path().join("auth.json")).unwrap(),
        disk.auth
    );

    // Said once per CODEX_HOME: the next commands are quiet, `-v` says it.
    let (status, text) = lab.auth();
    assert_eq!(status, "o_auth");
    assert_eq!(text.matches("warning:").count(), 0, "{text}");
    let text = stderr(&timed(&lab, &["-v", "mcp", "list"]));
    assert!(
        text.contains("credential store `keyring` is not reachable"),
        "{text}"
    );
    lab.tools_work();
    assert_eq!(lab.logout(), REMOVED);
    assert_eq!(
        read_file(&lab.home).unwrap(),
        json!({ disk.kept.0: disk.kept.1 })
    );
}

#[test]
fn keyring_gone_between_commands_is_an_error_for_keyring_and_the_file_for_auto() {
    let ss = SecretService::start();
    let server = oauth_mcp::start(Grant::new(ACCESS, REFRESH));
    let lab = Lab::new(
        &server,
        "mcp_oauth_credentials_store = \"keyring\"\ncli_auth_credentials_store = \"keyring\"",
        ss.env(),
    );
    let kept = file_entry("kept", "http://127.0.0.1:9/kept", "kept-token-Zx55");
    seed_file(&lab.home, std::slice::from_ref(&kept));
    let credentials = fs::read(credentials_path(&lab.home)).unwrap();
    lab.login();
    let output = login_with(&lab.home, &lab.env, &[], KEY_A);
    assert_eq!(stderr(&output), "Successfully logged in\n");
    assert_eq!(lab.auth().0, "o_auth");

    ss.vanish(Vanish::Keyring);
    let output = timed(&lab, &["login", "status"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("Error checking login status: credential store `keyring` (from `cli_auth_credentials_store`): no keyring is reachable: the Secret Service (D-Bus org.freedesktop.secrets) is not reachable: "),
        "{text}"
    );
    let output = timed(&lab, &["mcp", "list"]);
    let text = stderr(&output);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.contains("credential store `keyring` (from `mcp_oauth_credentials_store`): no keyring is reachable"),
        "{text}"
    );
    let output = timed(&lab, &["logout"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("Error logging out: credential store `keyring`"),
        "{}",
        stderr(&output)
    );
    assert_eq!(fs::read(credentials_path(&lab.home)).unwrap(), credentials);
    assert!(!lab.home.path().join("auth.json").exists());

    // With auto the file answers for the keyring, after one warning: the
    // logins in the keyring are out of reach, not lost, and nothing is
    // written in their place.
    lab.configure("cli_auth_credentials_store = \"auto\"");
    let output = timed(&lab, &["login", "status"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.starts_with("warning: credential store `keyring` is not reachable ("),
        "{text}"
    );
    assert!(text.ends_with("\nNot logged in\n"), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
    // `auth` lists twice: the fallback is said by the first run only.
    let (status, text) = lab.auth();
    assert_eq!(status, "not_logged_in");
    assert_eq!(text.matches("warning:").count(), 0, "{text}");
    assert_eq!(fs::read(credentials_path(&lab.home)).unwrap(), credentials);
    assert!(!lab.home.path().join("auth.json").exists());
}
