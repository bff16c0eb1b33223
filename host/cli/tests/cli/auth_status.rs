//! The Auth column of `codex mcp list` (text and `--json`): every state,
//! every way of discovering OAuth, and probes that run concurrently, against
//! small HTTP servers on 127.0.0.1.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codex_test_support::{Home, stderr, stdout};
use serde_json::{Value, json};

/// One answer of a test server, sent after `delay`.
struct Answer {
    delay: Duration,
    response: String,
}

impl Answer {
    fn now(response: String) -> Answer {
        Answer {
            delay: Duration::ZERO,
            response,
        }
    }

    fn after(delay: Duration, response: String) -> Answer {
        Answer { delay, response }
    }
}

fn json_response(body: &Value) -> String {
    let body = body.to_string();
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn empty_response(status: &str, headers: &str) -> String {
    format!("HTTP/1.1 {status}\r\n{headers}content-length: 0\r\nconnection: close\r\n\r\n")
}

fn not_found() -> String {
    empty_response("404 Not Found", "")
}

/// A test server on 127.0.0.1: `answer(path, origin)` for every request.
struct Server {
    origin: String,
    paths: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(answer: impl Fn(&str, &str) -> Answer + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let paths = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(answer);
        let (seen, base) = (Arc::clone(&paths), origin.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let (answer, seen, base) = (Arc::clone(&answer), Arc::clone(&seen), base.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut request_line = String::new();
                    let _ = reader.read_line(&mut request_line);
                    let mut line = String::new();
                    while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                        line.clear();
                    }
                    let path = request_line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or("/")
                        .to_string();
                    seen.lock().unwrap().push(path.clone());
                    let Answer { delay, response } = answer(&path, &base);
                    std::thread::sleep(delay);
                    let _ = stream.write_all(response.as_bytes());
                });
            }
        });
        Server { origin, paths }
    }

    fn url(&self) -> String {
        format!("{}/mcp", self.origin)
    }

    /// The paths requested so far, in order.
    fn requested(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

/// Protected-resource metadata (RFC 9728) for the server at `origin`.
fn protected_resource(origin: &str) -> Value {
    json!({
        "resource": format!("{origin}/mcp"),
        "authorization_servers": [format!("{origin}/")],
        "scopes_supported": ["mcp"]
    })
}

/// Authorization-server metadata (RFC 8414, and OpenID's superset of it).
fn authorization_server(origin: &str) -> Value {
    json!({
        "issuer": origin,
        "authorization_endpoint": format!("{origin}/authorize"),
        "token_endpoint": format!("{origin}/token"),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"]
    })
}

const PROTECTED_RESOURCE_PATH: &str = "/.well-known/oauth-protected-resource/mcp";

const AUTHORIZATION_SERVER_PATH: &str = "/.well-known/oauth-authorization-server";

/// A server using MCP authorization: 401 on the endpoint with a challenge
/// naming its protected-resource metadata, which it serves after
/// `document_delay`, and its own authorization server's metadata.
fn challenging(document_delay: Duration) -> Server {
    Server::start(move |path, origin| match path {
        AUTHORIZATION_SERVER_PATH => Answer::now(json_response(&authorization_server(origin))),
        "/mcp" => Answer::now(empty_response(
            "401 Unauthorized",
            &format!(
                "WWW-Authenticate: Bearer resource_metadata=\"{origin}{PROTECTED_RESOURCE_PATH}\"\r\n"
            ),
        )),
        PROTECTED_RESOURCE_PATH => {
            Answer::after(document_delay, json_response(&protected_resource(origin)))
        }
        _ => Answer::now(not_found()),
    })
}

/// A server with no authorization at all: 404 for everything.
fn plain() -> Server {
    Server::start(|_, _| Answer::now(not_found()))
}

/// A server that answers its endpoint with `endpoint` (no challenge) and
/// serves `document(origin)` at `document_path` only, after `delay` (and,
/// when that is protected-resource metadata, the metadata of the
/// authorization server it names).
fn documented(
    endpoint: &'static str,
    document_path: &'static str,
    delay: Duration,
    document: fn(&str) -> Value,
) -> Server {
    Server::start(move |path, origin| {
        if path == "/mcp" {
            Answer::now(empty_response(endpoint, ""))
        } else if path == document_path {
            Answer::after(delay, json_response(&document(origin)))
        } else if path == AUTHORIZATION_SERVER_PATH
            && document(origin).get("authorization_servers").is_some()
        {
            Answer::now(json_response(&authorization_server(origin)))
        } else {
            Answer::now(not_found())
        }
    })
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

fn list_text(home: &Home) -> String {
    let output = home.codex().args(["mcp", "list"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

fn status<'a>(list: &'a [Value], name: &str) -> &'a str {
    list.iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not listed"))["auth_status"]
        .as_str()
        .unwrap()
}

/// The Auth column (the last) of `name`'s row in the text listing.
fn text_status(text: &str, name: &str) -> String {
    let row = text
        .lines()
        .find(|line| line.split("  ").next() == Some(name))
        .unwrap_or_else(|| panic!("no row for {name} in:\n{text}"));
    row.trim_end()
        .rsplit("  ")
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// `codex mcp get NAME` in text and `--json`.
fn get(home: &Home, name: &str) -> (String, Value) {
    let text = home.codex().args(["mcp", "get", name]).output().unwrap();
    assert!(text.status.success(), "{}", stderr(&text));
    let json = home
        .codex()
        .args(["mcp", "get", name, "--json"])
        .output()
        .unwrap();
    assert!(json.status.success(), "{}", stderr(&json));
    (stdout(&text), serde_json::from_slice(&json.stdout).unwrap())
}

/// Each server's expected status in `mcp list` (`--json` and the text
/// table) and in `mcp get NAME` (its `auth:` line and `auth_status`).
fn assert_statuses(home: &Home, expected: &[(&str, &str, &str)]) {
    let list = list_json(home);
    let text = list_text(home);
    for (name, json_status, text_shown) in expected {
        assert_eq!(status(&list, name), *json_status, "{name} in --json");
        assert_eq!(text_status(&text, name), *text_shown, "{name} in:\n{text}");
        let (get_text, get_json) = get(home, name);
        assert!(
            get_text
                .lines()
                .any(|line| line == format!("  auth: {text_shown}")),
            "{name} in mcp get:\n{get_text}"
        );
        assert_eq!(
            get_json["auth_status"], *json_status,
            "{name} in mcp get --json"
        );
    }
}

#[test]
fn each_auth_state_is_reported() {
    let home = Home::new();
    let oauth = challenging(Duration::ZERO);
    let open = plain();
    let stored = challenging(Duration::ZERO);
    home.write_config(&format!(
        "mcp_oauth_credentials_store = \"file\"\n\
         [mcp_servers.needs_login]\nurl = \"{}\"\n\
         [mcp_servers.open]\nurl = \"{}\"\n\
         [mcp_servers.bearer]\nurl = \"{}\"\nbearer_token_env_var = \"SOME_TOKEN\"\n\
         [mcp_servers.logged_in]\nurl = \"{}\"\n\
         [mcp_servers.local]\ncommand = \"true\"\n",
        oauth.url(),
        open.url(),
        open.url(),
        stored.url()
    ));
    // Tokens stored the way Codex stores them in the file store.
    let key = codex_file::mcp_account_key("logged_in", &stored.url());
    let credentials = json!({ key: {
        "server_name": "logged_in", "server_url": stored.url(), "client_id": "c",
        "access_token": "stored-token", "expires_at": null, "refresh_token": null, "scopes": []
    }});
    let path = home.path().join(".credentials.json");
    std::fs::write(&path, credentials.to_string()).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();

    assert_statuses(
        &home,
        &[
            ("needs_login", "not_logged_in", "Not logged in"),
            ("open", "unsupported", "Unsupported"),
            ("bearer", "bearer_token", "Bearer token"),
            ("logged_in", "o_auth", "OAuth"),
            ("local", "unsupported", "Unsupported"),
        ],
    );
    // Stored tokens decide without asking the server.
    assert!(stored.requested().is_empty(), "{:?}", stored.requested());
    let text = list_text(&home);
    assert!(!text.contains("stored-token"), "{text}");
}

#[test]
fn oauth_is_discovered_at_every_well_known_path() {
    let home = Home::new();
    let none = Duration::ZERO;
    // RFC 9728 metadata at its well-known path, and a 401 without any
    // `WWW-Authenticate` header to point at it.
    let resource = documented(
        "401 Unauthorized",
        PROTECTED_RESOURCE_PATH,
        none,
        protected_resource,
    );
    // Servers that are their own authorization server (MCP 2025-03-26),
    // found by RFC 8414 or OpenID metadata at their origin.
    let rfc8414 = documented(
        "405 Method Not Allowed",
        "/.well-known/oauth-authorization-server",
        none,
        authorization_server,
    );
    let openid = documented(
        "405 Method Not Allowed",
        "/.well-known/openid-configuration",
        none,
        authorization_server,
    );
    // Documents that are there but say nothing usable are not OAuth.
    let no_servers = documented(
        "401 Unauthorized",
        PROTECTED_RESOURCE_PATH,
        none,
        |origin| json!({ "resource": format!("{origin}/mcp") }),
    );
    let no_token_endpoint = documented(
        "405 Method Not Allowed",
        "/.well-known/oauth-authorization-server",
        none,
        |origin| json!({ "issuer": origin, "authorization_endpoint": format!("{origin}/authorize") }),
    );
    home.write_config(&format!(
        "[mcp_servers.resource]\nurl = \"{}\"\n\
         [mcp_servers.rfc8414]\nurl = \"{}\"\n\
         [mcp_servers.openid]\nurl = \"{}\"\n\
         [mcp_servers.no_servers]\nurl = \"{}\"\n\
         [mcp_servers.no_token_endpoint]\nurl = \"{}\"\n",
        resource.url(),
        rfc8414.url(),
        openid.url(),
        no_servers.url(),
        no_token_endpoint.url()
    ));
    assert_statuses(
        &home,
        &[
            ("resource", "not_logged_in", "Not logged in"),
            ("rfc8414", "not_logged_in", "Not logged in"),
            ("openid", "not_logged_in", "Not logged in"),
            ("no_servers", "unsupported", "Unsupported"),
            ("no_token_endpoint", "unsupported", "Unsupported"),
        ],
    );
    for (server, path) in [
        (&resource, PROTECTED_RESOURCE_PATH),
        (&rfc8414, "/.well-known/oauth-authorization-server"),
        (&openid, "/.well-known/openid-configuration"),
    ] {
        assert!(
            server.requested().iter().any(|p| p == path),
            "{path} was not asked for: {:?}",
            server.requested()
        );
    }
}

/// `[mcp_servers.PREFIX0]` ... with the URL of each of `servers`.
fn numbered_servers(prefix: &str, servers: &[Server]) -> String {
    servers
        .iter()
        .enumerate()
        .map(|(index, server)| {
            format!(
                "[mcp_servers.{prefix}{index}]\nurl = \"{}\"\n",
                server.url()
            )
        })
        .collect()
}

#[test]
fn ten_slow_servers_are_probed_at_once() {
    // Without a challenge the metadata must be fetched: each document
    // takes 1 s, so probing one server after another would take 10 s.
    let home = Home::new();
    let servers: Vec<Server> = (0..10)
        .map(|_| {
            documented(
                "405 Method Not Allowed",
                PROTECTED_RESOURCE_PATH,
                Duration::from_secs(1),
                protected_resource,
            )
        })
        .collect();
    home.write_config(&numbered_servers("slow", &servers));
    let started = Instant::now();
    let list = list_json(&home);
    let took = started.elapsed();
    for index in 0..10 {
        assert_eq!(status(&list, &format!("slow{index}")), "not_logged_in");
    }
    assert!(
        took >= Duration::from_secs(1),
        "took {took:?}: were the documents read?"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn a_challenge_leads_to_the_documents_of_every_server_at_once() {
    // As Codex 0.169 does, the metadata a 401's challenge names (RFC 9728
    // section 5.1) is read, then its authorization server's: documents that
    // take 1 s each, for 10 servers, still take about 1 s in all.
    let home = Home::new();
    let servers: Vec<Server> = (0..10)
        .map(|_| challenging(Duration::from_secs(1)))
        .collect();
    home.write_config(&numbered_servers("remote", &servers));
    let started = Instant::now();
    let list = list_json(&home);
    let took = started.elapsed();
    for index in 0..10 {
        assert_eq!(status(&list, &format!("remote{index}")), "not_logged_in");
    }
    assert!(took < Duration::from_secs(4), "took {took:?}");
    for server in &servers {
        assert_eq!(
            server.requested(),
            ["/mcp", PROTECTED_RESOURCE_PATH, AUTHORIZATION_SERVER_PATH]
        );
    }
    let text = list_text(&home);
    assert_eq!(text_status(&text, "remote0"), "Not logged in", "{text}");
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
