//! Auth status, the headers helper and token records: each state both
//! binaries compute the same `auth_status` for in `mcp list --json`, the
//! helper masked the same, and a login of ours that still refreshes after
//! Codex rewrote `.credentials.json`.

use std::fs;

use codex_test_support::oauth_mcp::{self, Grant};
use codex_test_support::server::TestServer;
use codex_test_support::stderr;
use serde_json::{Value, json};

use super::{Codex, Ours, Shared};

/// An MCP server whose paths misbehave each in one way during discovery:
/// `/ok/mcp` (OAuth, found through its challenge), `/wrong-issuer/mcp`
/// (its authorization server's metadata names another issuer),
/// `/no-as/mcp` (the authorization server has no metadata), `/broken/mcp`
/// (503 everywhere), anything else 404 (no OAuth).
fn discovery_server() -> TestServer {
    TestServer::start(|request, reply| {
        let origin = format!("http://{}", request.header("host").unwrap_or("127.0.0.1"));
        let path = request.path.split('?').next().unwrap_or_default();
        let prefix = path
            .trim_start_matches("/.well-known/oauth-protected-resource")
            .trim_start_matches("/.well-known/oauth-authorization-server")
            .split('/')
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        if prefix == "broken" {
            return reply.send(503, "", &[], "");
        }
        let discoverable = ["ok", "wrong-issuer", "no-as"].contains(&prefix.as_str());
        if path == format!("/{prefix}/mcp") && discoverable {
            let challenge = format!(
                "Bearer resource_metadata=\"{origin}/.well-known/oauth-protected-resource/{prefix}/mcp\""
            );
            return reply.send(401, "", &[("WWW-Authenticate", challenge.as_str())], "");
        }
        if path.starts_with("/.well-known/oauth-protected-resource/") && discoverable {
            let body = json!({
                "resource": format!("{origin}/{prefix}/mcp"),
                "authorization_servers": [format!("{origin}/{prefix}")],
            });
            return reply.json(200, &[], &body);
        }
        let has_metadata = ["ok", "wrong-issuer"].contains(&prefix.as_str());
        if path.starts_with("/.well-known/oauth-authorization-server/") && has_metadata {
            let issuer = if prefix == "wrong-issuer" {
                format!("{origin}/elsewhere")
            } else {
                format!("{origin}/{prefix}")
            };
            let body = json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{origin}/authorize"),
                "token_endpoint": format!("{origin}/token"),
                "code_challenge_methods_supported": ["S256"],
                "response_types_supported": ["code"],
            });
            return reply.json(200, &[], &body);
        }
        reply.send(404, "", &[], "");
    })
}

/// `.credentials.json` entries as Codex writes them.
fn codex_entry(name: &str, url: &str, expires_at: Value, refresh_token: Value) -> (String, Value) {
    (
        codex_file::mcp_account_key(name, url),
        json!({
            "server_name": name, "server_url": url, "client_id": "c", "access_token": "at",
            "expires_at": expires_at, "refresh_token": refresh_token, "scopes": []
        }),
    )
}

/// Server name -> `auth_status` in `mcp list --json` of `who`.
fn statuses(shared: &Shared, who: super::Binary) -> Vec<(String, String)> {
    shared
        .mcp_list(who)
        .as_array()
        .unwrap()
        .iter()
        .map(|server| {
            let status = server["auth_status"].as_str().unwrap_or_default();
            (
                server["name"].as_str().unwrap().to_owned(),
                status.to_owned(),
            )
        })
        .collect()
}

#[test]
fn auth_states_are_the_same_in_both() {
    let server = discovery_server();
    let shared = Shared::new();
    let url = |path: &str| server.url(path);
    // (name, the table's keys, the status both must show)
    let rows = [
        (
            "oauth",
            format!("url = \"{}\"", url("/ok/mcp")),
            "not_logged_in",
        ),
        (
            "plain",
            format!("url = \"{}\"", url("/none/mcp")),
            "unsupported",
        ),
        (
            "unreachable",
            "url = \"http://127.0.0.1:9/mcp\"".to_owned(),
            "unknown",
        ),
        (
            "server-error",
            format!("url = \"{}\"", url("/broken/mcp")),
            "unknown",
        ),
        (
            "issuer-mismatch",
            format!("url = \"{}\"", url("/wrong-issuer/mcp")),
            "unknown",
        ),
        (
            "no-as-metadata",
            format!("url = \"{}\"", url("/no-as/mcp")),
            "unknown",
        ),
        (
            "helper",
            format!(
                "url = \"{}\"\nhttp_headers_helper = \"echo {{}}\"",
                url("/none/mcp")
            ),
            "unknown",
        ),
        (
            "helper-and-bearer",
            format!(
                "url = \"{}\"\nbearer_token_env_var = \"T\"\nhttp_headers_helper = \"echo {{}}\"",
                url("/none/mcp")
            ),
            "bearer_token",
        ),
        ("stored", format!("url = \"{}\"", url("/ok/mcp")), "o_auth"),
        (
            "expired",
            format!("url = \"{}\"", url("/ok/mcp")),
            "not_logged_in",
        ),
    ];
    let mut config = "mcp_oauth_credentials_store = \"file\"\n".to_owned();
    for (name, keys, _) in &rows {
        config.push_str(&format!("[mcp_servers.{name}]\n{keys}\n"));
    }
    shared.home.write_config(&config);
    let entries: serde_json::Map<String, Value> = [
        codex_entry(
            "stored",
            &url("/ok/mcp"),
            json!(4_102_444_800_000u64),
            Value::Null,
        ),
        codex_entry("expired", &url("/ok/mcp"), json!(1), Value::Null),
    ]
    .into_iter()
    .collect();
    let credentials = shared.home.path().join(".credentials.json");
    fs::write(&credentials, Value::Object(entries).to_string()).unwrap();

    let theirs = statuses(&shared, Codex);
    let ours = statuses(&shared, Ours);
    let expected: Vec<(String, String)> = {
        let mut rows: Vec<(String, String)> = rows
            .iter()
            .map(|(name, _, status)| (name.to_string(), status.to_string()))
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(theirs, expected, "Codex");
    assert_eq!(ours, expected, "ours");

    // A credentials file that is not JSON: every HTTP server that is not
    // decided by config is `unknown`, and the file is left as it was.
    fs::write(&credentials, "{not json").unwrap();
    for who in [Codex, Ours] {
        for (name, status) in statuses(&shared, who) {
            let want = if name == "helper-and-bearer" {
                "bearer_token"
            } else {
                "unknown"
            };
            assert_eq!(status, want, "{who:?} {name} with a corrupt file");
        }
    }
    assert_eq!(fs::read_to_string(&credentials).unwrap(), "{not json");
}

#[test]
fn a_headers_helper_is_masked_the_same_in_both() {
    let shared = Shared::new();
    shared.home.write_config(
        "[mcp_servers.docs]\nurl = \"http://127.0.0.1:9/mcp\"\n\
         http_headers_helper = \"print-token --secret s3cret-in-argv\"\n\
         [mcp_servers.plain]\nurl = \"http://127.0.0.1:9/mcp\"\n",
    );
    shared.same_mcp_list();
    shared.same_mcp_get("docs");
    shared.same_mcp_get("plain");
    let ours = shared.mcp_get(Ours, "docs");
    assert_eq!(ours["transport"]["http_headers_helper"], "<redacted>");
    for args in [&["mcp", "get", "docs"][..], &["mcp", "list", "--json"]] {
        for who in [Ours, Codex] {
            let output = shared.run(who, args);
            let text = String::from_utf8_lossy(&output.stdout);
            assert!(!text.contains("s3cret"), "{who:?} {args:?}: {text}");
        }
    }
    let text =
        String::from_utf8_lossy(&shared.run(Ours, &["mcp", "get", "docs"]).stdout).into_owned();
    assert!(
        text.contains("  http_headers_helper: <redacted>\n"),
        "{text}"
    );
    // What Codex refuses, ours refuses.
    for (table, problem) in [
        (
            "url = \"http://h/mcp\"\nhttp_headers_helper = \"\"",
            "must not be empty",
        ),
        (
            "command = \"x\"\nhttp_headers_helper = \"y\"",
            "is not supported for stdio",
        ),
    ] {
        shared
            .home
            .write_config(&format!("[mcp_servers.bad]\n{table}\n"));
        for who in [Ours, Codex] {
            let output = shared.output(who, &["mcp", "list"]);
            assert_eq!(output.status.code(), Some(1), "{who:?} {table}");
            assert!(
                stderr(&output).contains(problem),
                "{who:?}: {}",
                stderr(&output)
            );
        }
    }
}

const ACCESS: &str = "compat-access-Qe81";
const REFRESH: &str = "compat-refresh-Wn27";
const SECRET: &str = "compat-client-secret-Lp90";

#[test]
fn our_confidential_login_still_refreshes_after_codex_rewrites_the_file() {
    let server = oauth_mcp::start(Grant {
        client_secret: Some(SECRET.to_owned()),
        ..Grant::new(ACCESS, REFRESH)
    });
    let shared = Shared::new();
    let browser = oauth_mcp::browser(shared.home.path());
    let url = server.url("/mcp");
    shared.home.write_config(&format!(
        "mcp_oauth_credentials_store = \"file\"\n\
         [mcp_servers.ours]\nurl = \"{url}\"\n[mcp_servers.theirs]\nurl = \"{url}\"\n"
    ));
    let login = |who, name: &str| {
        let mut command = shared.command(who);
        command
            .env("BROWSER", &browser)
            .args(["mcp", "login", name]);
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{who:?} login: {}",
            stderr(&output)
        );
    };
    login(Ours, "ours");
    let credentials = shared.home.path().join(".credentials.json");
    let file =
        || -> Value { serde_json::from_str(&fs::read_to_string(&credentials).unwrap()).unwrap() };
    let account = codex_file::mcp_account_key("ours", &url);
    let ours = &file()[&account];
    assert_eq!(ours["issuer"], server.url("").trim_end_matches('/'));
    assert!(ours.get("oauth").is_none(), "{ours}");
    assert!(!fs::read_to_string(&credentials).unwrap().contains(SECRET));

    // Codex's own login of another server rewrites the whole file.
    login(Codex, "theirs");
    let rewritten = file();
    assert!(
        rewritten
            .get(codex_file::mcp_account_key("theirs", &url))
            .is_some()
    );
    assert_eq!(rewritten[&account]["issuer"], ours["issuer"]);

    // Our access token expires: the next session refreshes it, as the
    // confidential client it registered.
    let mut expired = rewritten.clone();
    expired[&account]["expires_at"] = json!(1);
    fs::write(&credentials, expired.to_string()).unwrap();
    let before = server.requests().len();
    shared.run(Ours, &["mcp", "tools", "ours"]);
    let refresh = server.requests()[before..]
        .iter()
        .find(|request| request.path == "/token")
        .cloned()
        .expect("a refresh");
    assert!(
        refresh.body.contains("grant_type=refresh_token"),
        "{}",
        refresh.body
    );
    assert!(
        refresh.body.contains(&format!("client_secret={SECRET}")),
        "{}",
        refresh.body
    );
    assert!(file()[&account]["expires_at"].as_u64().unwrap() > 1);
    // And Codex still reads both logins.
    let list = shared.mcp_list(Codex);
    for server in list.as_array().unwrap() {
        assert_eq!(server["auth_status"], "o_auth", "{server}");
    }

    // Logging out removes what we kept beside the record too.
    shared.run(Ours, &["mcp", "logout", "ours"]);
    let clients = shared.home.path().join(".mcp-oauth-clients.json");
    assert!(!clients.exists() || !fs::read_to_string(&clients).unwrap().contains(&account));
}
