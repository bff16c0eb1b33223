//! The account side of `codex app-server` beside the pinned Codex 0.169:
//! ChatGPT logins through `account/login/start` (the browser flow against
//! node-oidc-provider playing Codex's issuer, its pages walked by
//! tests/oauth/browser.py and the callback loaded by headless Chromium; the
//! device-code flow against the stand-in for Codex's own endpoints),
//! `account/login/cancel`, the login policies, the token refresh of the
//! AuthManager (on age, when asked, one at a time across processes, a
//! permanent failure reported once), `account/read` of a ChatGPT login, the
//! v1 `getAuthStatus` with `includeToken`/`refreshToken`, and
//! `mcpServer/oauth/login`. Every answer and notification of ours is validated
//! against the schema Codex generates; where Codex 0.169 answers offline,
//! its answer is compared with ours.
//!
//! Everything listens on 127.0.0.1; our logins use a free port each
//! (`CODEX_LOGIN_PORT`). Only the one test that asks Codex for its
//! authorization URL lets Codex bind its port 1455, briefly.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use codex_test_support::server::{Request, Responder, TestServer};
use codex_test_support::{Home, stderr};
use serde_json::{Value, json};

use crate::account_login::{
    ACCOUNT, CLIENT_ID, Issuer, Provider, chromium, codex_status, free_port, id_token, oauth_dir,
    ours, stand_in,
};
use crate::app_server::{Client, Peer, assert_valid};

fn auth_json(home: &Home) -> Value {
    serde_json::from_str(&fs::read_to_string(home.path().join("auth.json")).unwrap()).unwrap()
}

fn write_auth(home: &Home, document: &Value) {
    use std::os::unix::fs::PermissionsExt;
    let path = home.path().join("auth.json");
    fs::write(&path, serde_json::to_string_pretty(document).unwrap()).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
}

/// A query parameter of `url`.
fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Our app server pointed at `issuer`, its loopback server on `port`.
fn ours_at(home: &Home, issuer: &str, port: u16, stderr: Option<&Path>) -> Client {
    Client::ready_with(
        Peer::Ours,
        home,
        &[
            ("CODEX_LOGIN_ISSUER", issuer),
            ("CODEX_LOGIN_PORT", &port.to_string()),
            ("BROWSER", "true"),
        ],
        stderr,
    )
}

/// Walks the provider's login and consent pages for `auth_url`: the
/// callback URL the provider sends the browser to.
fn walk_provider(auth_url: &str, home: &Home) -> String {
    let output = Command::new(oauth_dir().join("browser.py"))
        .args(["--print-redirect", auth_url])
        .env("OAUTH_BROWSER_LOG", home.path().join("browser.log"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "browser.py failed: {}\n{}",
        stderr(&output),
        fs::read_to_string(home.path().join("browser.log")).unwrap_or_default()
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Headless Chromium loads `url`; the page it ends at.
fn chromium_loads(url: &str, home: &Home) -> String {
    let script = chromium(home.path());
    let status = Command::new(&script)
        .arg(url)
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "chromium: {}",
        fs::read_to_string(home.path().join("chromium.log")).unwrap_or_default()
    );
    fs::read_to_string(home.path().join("page.html")).unwrap_or_default()
}

/// A ChatGPT login through our app server against `provider`, the pages
/// walked by browser.py and the callback loaded by Chromium: the login id.
fn browser_login(client: &mut Client, home: &Home) -> String {
    let started = client.result("account/login/start", json!({"type": "chatgpt"}));
    assert_valid("LoginAccountResponse", &started);
    let callback = walk_provider(started["authUrl"].as_str().unwrap(), home);
    let page = chromium_loads(&callback, home);
    assert!(
        page.contains("Signed in to Codex"),
        "the browser ended at: {page}"
    );
    started["loginId"].as_str().unwrap().to_owned()
}

/// The provider (as Codex's issuer, its client's redirect URI on
/// 127.0.0.1:`port`, as Codex's app server registers it).
fn provider(home: &Home, port: u16) -> Provider {
    Provider::start_for(
        &format!("http://127.0.0.1:{port}/auth/callback"),
        &home.path().join("provider.log"),
    )
}

fn provider_log(home: &Home) -> String {
    fs::read_to_string(home.path().join("provider.log")).unwrap_or_default()
}

#[test]
fn a_browser_login_with_oidc_provider_and_chromium_then_read_and_refresh() {
    let home = Home::new();
    let port = free_port();
    let provider = provider(&home, port);
    let mut client = ours_at(&home, &provider.issuer, port, None);

    let started = client.result("account/login/start", json!({"type": "chatgpt"}));
    assert_valid("LoginAccountResponse", &started);
    assert_eq!(started["type"], "chatgpt");
    let auth_url = started["authUrl"].as_str().unwrap();
    assert!(auth_url.starts_with(&format!("{}/oauth/authorize?", provider.issuer)));
    assert_eq!(
        param(auth_url, "redirect_uri").unwrap(),
        format!("http://127.0.0.1:{port}/auth/callback")
    );
    assert_eq!(param(auth_url, "client_id").unwrap(), CLIENT_ID);
    // Codex's app server sends its client's name as the originator.
    assert_eq!(param(auth_url, "originator").unwrap(), "t");
    assert_eq!(param(auth_url, "code_challenge_method").unwrap(), "S256");
    let login_id = started["loginId"].as_str().unwrap().to_owned();

    let callback = walk_provider(auth_url, &home);
    let page = chromium_loads(&callback, &home);
    assert!(
        page.contains("Signed in to Codex"),
        "the browser ended at: {page}"
    );
    let completed = client.wait_for("account/login/completed", |p| p["loginId"] == login_id);
    assert_valid("AccountLoginCompletedNotification", &completed["params"]);
    assert_eq!(completed["params"]["success"], true, "{completed}");
    let updated = client.wait_for("account/updated", |p| p["authMode"] == "chatgpt");
    assert_valid("AccountUpdatedNotification", &updated["params"]);
    assert_eq!(updated["params"]["planType"], "plus");

    let stored = auth_json(&home);
    assert_eq!(stored["auth_mode"], "chatgpt");
    assert_eq!(stored["tokens"]["account_id"], ACCOUNT);
    let status = codex_status(&home);
    assert!(
        stderr(&status).contains("Logged in using ChatGPT"),
        "the pinned Codex reads the login: {}",
        stderr(&status)
    );

    let read = client.result("account/read", json!({}));
    assert_valid("GetAccountResponse", &read);
    assert_eq!(
        read["account"],
        json!({"type": "chatgpt", "email": "ada@example.com", "planType": "plus"})
    );

    // Asked to, the AuthManager refreshes at the provider (which rotates).
    let old_refresh = stored["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = client.result("account/read", json!({"refreshToken": true}));
    assert_valid("GetAccountResponse", &read);
    let refreshed = auth_json(&home);
    let new_refresh = refreshed["tokens"]["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, old_refresh, "{}", provider_log(&home));
    assert_ne!(refreshed["last_refresh"], stored["last_refresh"]);
    assert_eq!(
        refreshed["tokens"]["oauth_provenance"],
        stored["tokens"]["oauth_provenance"]
    );
    let (code, refused) = provider.refresh(&old_refresh);
    assert_eq!(code, 400, "the spent refresh token is refused: {refused}");

    // Codex writes codex-login.log for `codex login` only, and so do we.
    assert!(!home.path().join("log/codex-login.log").exists());
}

#[test]
fn get_auth_status_gives_the_token_only_when_asked_as_codex_does() {
    let home = Home::new();
    let port = free_port();
    let provider = provider(&home, port);
    let mut client = ours_at(&home, &provider.issuer, port, None);
    browser_login(&mut client, &home);
    client.wait_for("account/updated", |p| p["authMode"] == "chatgpt");
    let access_token = auth_json(&home)["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let script = [
        json!({"includeToken": true}),
        json!({"includeToken": false}),
        json!({}),
        json!({"include_token": true}),
    ];
    let mut theirs = Client::ready(Peer::Codex, &home);
    for params in script {
        let mine = client.result("getAuthStatus", params.clone());
        let codex = theirs.result("getAuthStatus", params.clone());
        assert_eq!(mine, codex, "getAuthStatus {params}");
    }
    let mine = client.result("getAuthStatus", json!({"includeToken": true}));
    assert_eq!(mine["authToken"], access_token);
    assert_eq!(mine["authMethod"], "chatgpt");
    for (params, step) in [
        (Value::Null, "no params"),
        (json!({"includeToken": "yes"}), "a string"),
    ] {
        let mine = client.error("getAuthStatus", params.clone());
        let codex = theirs.error("getAuthStatus", params);
        assert_eq!(mine["code"], codex["code"], "{step}");
        assert_eq!(mine["message"], codex["message"], "{step}");
    }
    drop(theirs);
    drop(provider);
}

/// A token endpoint that refuses every refresh for good, counting them.
fn refusing_issuer(refreshes: Arc<AtomicUsize>) -> TestServer {
    TestServer::start(move |request: &Request, respond: &mut Responder<'_>| {
        if request.method == "POST" && request.path == "/oauth/token" {
            refreshes.fetch_add(1, Ordering::SeqCst);
            respond.json(
                400,
                &[],
                &json!({"error": "refresh_token_reused", "error_description": "already used"}),
            );
        } else {
            respond.json(404, &[], &json!({"error": "not found"}));
        }
    })
}

/// A ChatGPT auth.json with tokens of the stand-in's shape, last refreshed
/// `days_ago`.
fn chatgpt_document(days_ago: u64) -> Value {
    let when = SystemTime::now() - Duration::from_secs(days_ago * 24 * 3600);
    let seconds = when
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    json!({
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": null,
        "tokens": {
            "id_token": id_token(Some(ACCOUNT)),
            "access_token": "access-token-old",
            "refresh_token": "refresh-token-old",
            "account_id": ACCOUNT,
        },
        "last_refresh": rfc3339(seconds),
    })
}

fn rfc3339(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[test]
fn a_refused_refresh_is_reported_once_and_the_token_withheld_as_codex_does() {
    let refreshes = Arc::new(AtomicUsize::new(0));
    let issuer = refusing_issuer(refreshes.clone());
    let home = Home::new();
    write_auth(&home, &chatgpt_document(1));
    let log = home.path().join("ours.log");
    let token_url = issuer.url("/oauth/token");
    let mut client = Client::ready_with(
        Peer::Ours,
        &home,
        &[("CODEX_REFRESH_TOKEN_URL_OVERRIDE", &token_url)],
        Some(&log),
    );
    let asked = json!({"includeToken": true, "refreshToken": true});
    let first = client.result("getAuthStatus", asked.clone());
    let second = client.result("getAuthStatus", asked.clone());
    let updated = client.wait_for("account/updated", |p| p["authMode"] == "chatgpt");
    assert_valid("AccountUpdatedNotification", &updated["params"]);
    assert_eq!(updated["params"]["planType"], "pro");
    assert_eq!(
        refreshes.load(Ordering::SeqCst),
        1,
        "one refresh, not retried"
    );
    let reported = fs::read_to_string(&log).unwrap();
    let message = "Your access token could not be refreshed because your refresh token was \
                   already used. Please log out and sign in again: `codex logout && codex login`.";
    assert_eq!(reported.matches(message).count(), 1, "{reported}");
    assert!(!reported.contains("refresh-token-old"), "{reported}");
    assert!(
        client
            .notifications
            .iter()
            .filter(|n| n["method"] == "account/updated")
            .count()
            == 0,
        "account/updated once, not twice: {:?}",
        client.notifications
    );
    // The stored login is kept as it was: only a new login helps.
    assert_eq!(auth_json(&home), chatgpt_document_without_time(&home));
    drop(client);

    // Codex on the same home and endpoint: one refresh, the same answers.
    let before = refreshes.load(Ordering::SeqCst);
    let mut theirs = Client::ready_with(
        Peer::Codex,
        &home,
        &[("CODEX_REFRESH_TOKEN_URL_OVERRIDE", &token_url)],
        None,
    );
    let codex_first = theirs.result("getAuthStatus", asked.clone());
    let codex_second = theirs.result("getAuthStatus", asked);
    assert_eq!(first, codex_first);
    assert_eq!(second, codex_second);
    assert_eq!(refreshes.load(Ordering::SeqCst) - before, 1);
    assert_eq!(first["authToken"], Value::Null);
}

/// The auth.json as written (its `last_refresh` included).
fn chatgpt_document_without_time(home: &Home) -> Value {
    let mut expected = chatgpt_document(1);
    expected["last_refresh"] = auth_json(home)["last_refresh"].clone();
    expected
}

#[test]
fn a_stale_login_is_refreshed_once_by_two_app_servers_and_the_cli() {
    let home = Home::new();
    let port = free_port();
    let provider = provider(&home, port);
    {
        let mut client = ours_at(&home, &provider.issuer, port, None);
        browser_login(&mut client, &home);
        client.wait_for("account/updated", |p| p["authMode"] == "chatgpt");
    }
    // Older than Codex's eight days.
    let mut stale = auth_json(&home);
    stale["last_refresh"] = json!("2020-01-01T00:00:00Z");
    write_auth(&home, &stale);
    let old_access = stale["tokens"]["access_token"].as_str().unwrap().to_owned();
    let consumed_before = provider_log(&home)
        .matches("refresh_token.consumed")
        .count();

    let mut first = ours_at(&home, &provider.issuer, port, None);
    let mut second = ours_at(&home, &provider.issuer, port, None);
    let asked = json!({"includeToken": true});
    let one = first.send("getAuthStatus", asked.clone());
    let two = second.send("getAuthStatus", asked);
    let status = ours(&home, &["login", "status"]);
    let one = first.answer(one);
    let two = second.answer(two);
    assert!(
        stderr(&status).contains("Logged in using ChatGPT"),
        "{}",
        stderr(&status)
    );
    let token = one["result"]["authToken"].as_str().unwrap();
    assert_ne!(token, old_access, "renewed before it was handed out");
    assert_eq!(two["result"]["authToken"], token, "the same renewal: {two}");
    let stored = auth_json(&home);
    assert_eq!(stored["tokens"]["access_token"], token);
    let consumed = provider_log(&home)
        .matches("refresh_token.consumed")
        .count();
    assert_eq!(consumed - consumed_before, 1, "{}", provider_log(&home));
    // Had two processes spent the same refresh token, the provider would
    // have revoked the grant: the stored one still works.
    let (code, body) = provider.refresh(stored["tokens"]["refresh_token"].as_str().unwrap());
    assert_eq!(code, 200, "{body}\n{}", provider_log(&home));
}

#[test]
fn device_code_logins_cancels_and_replacements() {
    let issuer = stand_in(Issuer::Approves, Some(ACCOUNT));
    let home = Home::new();
    let mut client = ours_at(&home, &issuer.url(""), free_port(), None);
    let started = client.result("account/login/start", json!({"type": "chatgptDeviceCode"}));
    assert_valid("LoginAccountResponse", &started);
    assert_eq!(started["verificationUrl"], issuer.url("/codex/device"));
    assert_eq!(started["userCode"], "WXYZ-2345");
    let login_id = started["loginId"].clone();
    let completed = client.wait_for("account/login/completed", |p| p["loginId"] == login_id);
    assert_eq!(completed["params"]["success"], true, "{completed}");
    let updated = client.wait_for("account/updated", |p| p["authMode"] == "chatgpt");
    assert_eq!(updated["params"]["planType"], "pro");
    assert_eq!(auth_json(&home)["tokens"]["access_token"], "access-token-1");
    assert_eq!(
        client.result("account/read", json!({}))["account"],
        json!({"type": "chatgpt", "email": "ada@example.com", "planType": "pro"})
    );
    drop(client);

    // A code nobody enters: cancelled by its id, then not found.
    let waiting = stand_in(Issuer::NeverApproved, Some(ACCOUNT));
    let home = Home::new();
    let port = free_port();
    let mut client = ours_at(&home, &waiting.url(""), port, None);
    let started = client.result("account/login/start", json!({"type": "chatgptDeviceCode"}));
    let id = started["loginId"].clone();
    let cancelled = client.result("account/login/cancel", json!({"loginId": id}));
    assert_valid("CancelLoginAccountResponse", &cancelled);
    assert_eq!(cancelled, json!({"status": "canceled"}));
    let completed = client.wait_for("account/login/completed", |p| p["loginId"] == id);
    assert_valid("AccountLoginCompletedNotification", &completed["params"]);
    assert_eq!(
        completed["params"]["error"],
        "Login server error: Login was not completed"
    );
    assert_eq!(
        client.result("account/login/cancel", json!({"loginId": id})),
        json!({"status": "notFound"})
    );

    // A second browser login ends the first, as Codex's does.
    let first = client.result("account/login/start", json!({"type": "chatgpt"}));
    let second = client.result("account/login/start", json!({"type": "chatgpt"}));
    let ended = client.wait_for("account/login/completed", |p| {
        p["loginId"] == first["loginId"]
    });
    assert_eq!(ended["params"]["success"], false);
    assert_eq!(
        ended["params"]["error"],
        "Login server error: Login cancelled"
    );
    assert_ne!(first["loginId"], second["loginId"]);
    // The second still waits on the port, and completes.
    let (status, _) = get(
        port,
        &format!(
            "/auth/callback?code=abc&state={}",
            param(second["authUrl"].as_str().unwrap(), "state").unwrap()
        ),
    );
    assert!(status.contains("302"), "{status}");
    let completed = client.wait_for("account/login/completed", |p| {
        p["loginId"] == second["loginId"]
    });
    assert_eq!(completed["params"]["success"], true, "{completed}");
    assert_eq!(auth_json(&home)["auth_mode"], "chatgpt");
}

/// A GET on 127.0.0.1: the status line and the whole answer.
fn get(port: u16, target: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    (answer.lines().next().unwrap_or_default().to_owned(), answer)
}

#[test]
fn login_policies_refuse_as_codex_does() {
    let issuer = stand_in(Issuer::Approves, Some(ACCOUNT));
    let home = Home::new();
    home.write_config("forced_login_method = \"api\"\n");
    let mut mine = ours_at(&home, &issuer.url(""), free_port(), None);
    let mut theirs = Client::ready(Peer::Codex, &home);
    for kind in ["chatgpt", "chatgptDeviceCode"] {
        let params = json!({"type": kind});
        let ours = mine.error("account/login/start", params.clone());
        let codex = theirs.error("account/login/start", params);
        assert_eq!(ours, codex, "{kind}");
        assert_eq!(
            ours["message"],
            "ChatGPT login is disabled. Use API key login instead."
        );
    }
    drop((mine, theirs));

    // The workspace policy: asked for in the URL, and a login from another
    // workspace refused before it is saved.
    let home = Home::new();
    home.write_config("forced_chatgpt_workspace_id = \"ws-other\"\n");
    let port = free_port();
    let mut mine = ours_at(&home, &issuer.url(""), port, None);
    let started = mine.result("account/login/start", json!({"type": "chatgpt"}));
    let auth_url = started["authUrl"].as_str().unwrap();
    assert_eq!(param(auth_url, "allowed_workspace_id").unwrap(), "ws-other");
    let (_, page) = get(
        port,
        &format!(
            "/auth/callback?code=abc&state={}",
            param(auth_url, "state").unwrap()
        ),
    );
    assert!(
        page.contains("Login is restricted to workspace id(s) ws-other."),
        "{page}"
    );
    let completed = mine.wait_for("account/login/completed", |p| {
        p["loginId"] == started["loginId"]
    });
    assert_eq!(completed["params"]["success"], false);
    assert_eq!(
        completed["params"]["error"],
        "Login server error: Login is restricted to workspace id(s) ws-other."
    );
    assert!(!home.path().join("auth.json").exists());
}

#[test]
fn codexs_login_start_has_the_same_shape_as_ours() {
    // Codex's app server always listens on 1455: wait for it to be free.
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpListener::bind("127.0.0.1:1455").is_err() {
        assert!(Instant::now() < deadline, "port 1455 stays busy");
        std::thread::sleep(Duration::from_millis(200));
    }
    let home = Home::new();
    home.write_config("forced_chatgpt_workspace_id = \"ws-x\"\n");
    let mut theirs = Client::ready(Peer::Codex, &home);
    let codex = theirs.result("account/login/start", json!({"type": "chatgpt"}));
    let codex_id = codex["loginId"].clone();
    assert_eq!(
        theirs.result("account/login/cancel", json!({"loginId": codex_id})),
        json!({"status": "canceled"})
    );
    drop(theirs);
    let issuer = stand_in(Issuer::Approves, Some(ACCOUNT));
    let mut mine = ours_at(&home, &issuer.url(""), free_port(), None);
    let ours = mine.result("account/login/start", json!({"type": "chatgpt"}));
    let keys = |value: &Value| {
        value
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&ours), keys(&codex));
    let names = |url: &str| {
        let mut names: Vec<String> = url::Url::parse(url)
            .unwrap()
            .query_pairs()
            .map(|(key, _)| key.into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        names(ours["authUrl"].as_str().unwrap()),
        names(codex["authUrl"].as_str().unwrap())
    );
    let (ours_url, codex_url) = (
        ours["authUrl"].as_str().unwrap(),
        codex["authUrl"].as_str().unwrap(),
    );
    for name in [
        "originator",
        "allowed_workspace_id",
        "scope",
        "client_id",
        "response_type",
    ] {
        assert_eq!(param(ours_url, name), param(codex_url, name), "{name}");
    }
    // The same callback, on the port each was given.
    let callback = |url: &str| {
        let redirect = url::Url::parse(&param(url, "redirect_uri").unwrap()).unwrap();
        (
            redirect.host_str().map(str::to_owned),
            redirect.path().to_owned(),
        )
    };
    assert_eq!(callback(ours_url), callback(codex_url));
}

/// `codex mcp list --json` of the pinned Codex: `docs`'s auth status.
fn codex_mcp_auth(home: &Home) -> String {
    let output = Command::new(codex_test_support::codex_cli())
        .args(["mcp", "list", "--json"])
        .env("CODEX_HOME", home.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let list: Value = serde_json::from_slice(&output.stdout).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .find(|server| server["name"] == "docs")
        .unwrap()["auth_status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn an_mcp_oauth_login_hands_out_the_url_and_stores_where_codex_reads() {
    use codex_test_support::oauth_mcp::{Grant, start};
    // A confidential client: its registration answer echoes the redirect
    // URIs, which Codex requires.
    let mcp = start(Grant {
        client_secret: Some("client-secret-1".into()),
        ..Grant::new("mcp-access-token-1", "mcp-refresh-token-1")
    });
    let home = Home::new();
    home.write_config(&format!(
        "mcp_oauth_credentials_store = \"file\"\n\n[mcp_servers.docs]\nurl = \"{}\"\n\n\
         [mcp_servers.local]\ncommand = \"true\"\n",
        mcp.url("/mcp")
    ));
    assert_eq!(codex_mcp_auth(&home), "not_logged_in");
    let mut mine = Client::ready(Peer::Ours, &home);
    let mut theirs = Client::ready(Peer::Codex, &home);
    for name in ["nope", "local"] {
        let params = json!({"name": name});
        let ours = mine.error("mcpServer/oauth/login", params.clone());
        let codex = theirs.error("mcpServer/oauth/login", params);
        assert_eq!(ours, codex, "{name}");
    }

    let started = mine.result("mcpServer/oauth/login", json!({"name": "docs"}));
    assert_valid("McpServerOauthLoginResponse", &started);
    let codex = theirs.result("mcpServer/oauth/login", json!({"name": "docs"}));
    drop(theirs);
    let keys = |value: &Value| {
        value
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&started), keys(&codex));
    let url = started["authorizationUrl"].as_str().unwrap();
    let codex_url = codex["authorizationUrl"].as_str().unwrap();
    assert_eq!(url.split('?').next(), codex_url.split('?').next());
    for name in ["response_type", "code_challenge_method"] {
        assert_eq!(param(url, name), param(codex_url, name), "{name}");
    }

    let page = chromium_loads(url, &home);
    assert!(!page.is_empty(), "the browser ended at an empty page");
    let completed = mine.wait_for("mcpServer/oauthLogin/completed", |p| p["name"] == "docs");
    assert_valid(
        "McpServerOauthLoginCompletedNotification",
        &completed["params"],
    );
    assert_eq!(completed["params"]["success"], true, "{completed}");
    assert_eq!(completed["params"]["loginId"], started["loginId"]);
    let listed = mine.result("mcpServerStatus/list", json!({}));
    let docs = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|server| server["name"] == "docs")
        .unwrap()
        .clone();
    assert_eq!(docs["authStatus"], "oAuth", "{docs}");
    // Where `codex mcp login` keeps it: the pinned Codex reads it.
    assert_eq!(codex_mcp_auth(&home), "o_auth");
    let stored = fs::read_to_string(home.path().join(".credentials.json")).unwrap();
    assert!(stored.contains("mcp-access-token-1"));
}
