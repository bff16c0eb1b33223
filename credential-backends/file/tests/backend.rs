//! The backend against real files in temporary directories, through the
//! plugin's exported entry points where the host would use them.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use codex_file::{FileBackend, FilePlugin, mcp_account_key};
use codex_plugin_api::{
    CredentialBackend, CredentialBackendBox, ErrorKind, LogLevel, PluginError, ServiceKind,
    root_module,
};
use common::{AUTH, MCP, TestHost, now_ms, token_record};
use serde_json::{Value, json};

const URL: &str = "https://example.com/mcp";
/// `mcp_account_key("docs", URL)`; the hash is checked against sha256sum in
/// the crate's unit tests.
const DOCS_KEY: &str = "docs|9a70b85417749d5c";

/// Creates the backend the way the host does: through the root module.
fn plugin_backend(host: &TestHost, options: &str) -> Result<CredentialBackendBox, PluginError> {
    let module = root_module::<FilePlugin>();
    (module.credential_backend())("file".into(), host.boxed(), options.into()).into_result()
}

fn load(backend: &CredentialBackendBox, service: &str, account: &str) -> Option<String> {
    backend
        .load(service.into(), account.into())
        .into_result()
        .unwrap()
        .into_option()
        .map(|secret| secret.into_string())
}

fn store(backend: &CredentialBackendBox, service: &str, account: &str, secret: &str) {
    backend
        .store(service.into(), account.into(), secret.into())
        .into_result()
        .unwrap();
}

fn delete(backend: &CredentialBackendBox, service: &str, account: &str) -> bool {
    backend
        .delete(service.into(), account.into())
        .into_result()
        .unwrap()
}

#[test]
fn manifest_declares_one_backend_named_file() {
    let module = root_module::<FilePlugin>();
    let manifest = (module.manifest())().into_result().unwrap();
    assert_eq!(manifest.name.as_str(), "file");
    assert_eq!(manifest.version.as_str(), env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest.services.len(), 1);
    assert_eq!(manifest.services[0].kind, ServiceKind::CredentialBackend);
    assert_eq!(manifest.services[0].name.as_str(), "file");
    assert!(manifest.features.is_empty());
}

#[test]
fn factory_checks_name_and_options() {
    let home = tempfile::tempdir().unwrap();
    let host = TestHost::new(home.path());
    let module = root_module::<FilePlugin>();
    let Err(error) =
        (module.credential_backend())("vault".into(), host.boxed(), "{}".into()).into_result()
    else {
        panic!("a backend named vault was created");
    };
    assert_eq!(error.kind, ErrorKind::NotFound);
    assert!(error.message.contains("'vault'"), "{}", error.message);

    let Err(error) = plugin_backend(&host, r#"{"dir": "/tmp", "mode": "0600"}"#) else {
        panic!("an unknown option was accepted");
    };
    assert_eq!(error.kind, ErrorKind::InvalidConfig);
    assert_eq!(
        error.message.as_str(),
        "unknown option `mode` for credential backend `file`; the only option is `dir`"
    );
}

#[test]
fn files_go_to_codex_home_unless_dir_is_given() {
    let home = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let host = TestHost::new(home.path());
    let secret = token_record("docs", URL, "access-secret", None).to_string();

    store(
        &plugin_backend(&host, "{}").unwrap(),
        MCP,
        DOCS_KEY,
        &secret,
    );
    assert!(home.path().join(".credentials.json").is_file());

    let options = json!({ "dir": other.path() }).to_string();
    let elsewhere = plugin_backend(&host, &options).unwrap();
    assert_eq!(load(&elsewhere, MCP, DOCS_KEY), None);
    store(&elsewhere, AUTH, "ignored", r#"{"OPENAI_API_KEY": null}"#);
    assert!(other.path().join("auth.json").is_file());
    assert!(!home.path().join("auth.json").exists());

    // A relative dir is under CODEX_HOME.
    let nested = plugin_backend(&host, r#"{"dir": "creds"}"#).unwrap();
    store(&nested, MCP, DOCS_KEY, &secret);
    assert!(home.path().join("creds/.credentials.json").is_file());
}

#[test]
fn mcp_tokens_round_trip() {
    let home = tempfile::tempdir().unwrap();
    let backend = plugin_backend(&TestHost::new(home.path()), "{}").unwrap();
    let expires_at = now_ms() + 3_600_000;
    let secret = token_record("docs", URL, "access-secret", Some(expires_at)).to_string();

    assert_eq!(load(&backend, MCP, DOCS_KEY), None);
    assert!(!delete(&backend, MCP, DOCS_KEY));
    store(&backend, MCP, DOCS_KEY, &secret);

    let loaded: Value = serde_json::from_str(&load(&backend, MCP, DOCS_KEY).unwrap()).unwrap();
    let expires_in = loaded["token_response"]["expires_in"].as_u64().unwrap();
    assert!(
        (3590..=3600).contains(&expires_in),
        "expires_in {expires_in}"
    );
    assert_eq!(
        loaded,
        json!({
            "server_name": "docs",
            "url": URL,
            "client_id": "client-1",
            "token_response": {
                "access_token": "access-secret",
                "token_type": "Bearer",
                "expires_in": expires_in,
                "refresh_token": "refresh-secret",
                "scope": "read write"
            },
            "expires_at": expires_at
        })
    );
    assert_eq!(load(&backend, MCP, "docs|0000000000000000"), None);
    assert_eq!(load(&backend, MCP, &mcp_account_key("other", URL)), None);

    assert!(delete(&backend, MCP, DOCS_KEY));
    assert_eq!(load(&backend, MCP, DOCS_KEY), None);
    assert!(!delete(&backend, MCP, DOCS_KEY));
}

#[test]
fn written_file_is_exactly_what_codex_writes() {
    let home = tempfile::tempdir().unwrap();
    let backend = FileBackend::new(home.path());
    let secret = token_record("docs", URL, "access-secret", Some(1_900_000_000_000)).to_string();
    backend.store(MCP, DOCS_KEY, &secret).unwrap();
    let text = fs::read_to_string(home.path().join(".credentials.json")).unwrap();
    assert_eq!(
        text,
        concat!(
            r#"{"docs|9a70b85417749d5c":{"server_name":"docs","server_url":"https://example.com/mcp","#,
            r#""client_id":"client-1","access_token":"access-secret","expires_at":1900000000000,"#,
            r#""refresh_token":"refresh-secret","scopes":["read","write"]}}"#
        )
    );

    // Without expiry or refresh token, the fields are null, as Codex writes them.
    let bare = json!({
        "server_name": "docs", "url": URL, "client_id": "c",
        "token_response": {"access_token": "a", "token_type": "bearer"}
    });
    backend.store(MCP, DOCS_KEY, &bare.to_string()).unwrap();
    let text = fs::read_to_string(home.path().join(".credentials.json")).unwrap();
    assert_eq!(
        text,
        concat!(
            r#"{"docs|9a70b85417749d5c":{"server_name":"docs","server_url":"https://example.com/mcp","#,
            r#""client_id":"c","access_token":"a","expires_at":null,"refresh_token":null,"scopes":[]}}"#
        )
    );
}

#[test]
fn reads_a_file_codex_wrote_and_keeps_entries_it_cannot_read() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join(".credentials.json");
    // As Codex writes it (BTreeMap order, compact), plus an entry filed under
    // a hand-edited key and one of a shape this backend does not know.
    let codex_file = json!({
        "a-foreign-entry": {"kind": "something else", "value": [1, 2, 3]},
        "hand-edited": {
            "server_name": "docs", "server_url": URL, "client_id": "cid",
            "access_token": "codex-access", "expires_at": null,
            "refresh_token": "codex-refresh", "scopes": ["one", "two"]
        },
        "linear|0123456789abcdef": {
            "server_name": "linear", "server_url": "https://mcp.linear.app/mcp",
            "client_id": "lin", "access_token": "lin-access", "expires_at": 1,
            "refresh_token": null, "scopes": []
        }
    });
    fs::write(&path, codex_file.to_string()).unwrap();
    let backend = FileBackend::new(home.path());

    let docs: Value = serde_json::from_str(&backend.load(MCP, DOCS_KEY).unwrap().unwrap()).unwrap();
    assert_eq!(
        docs,
        json!({
            "server_name": "docs", "url": URL, "client_id": "cid",
            "token_response": {
                "access_token": "codex-access", "token_type": "Bearer",
                "refresh_token": "codex-refresh", "scope": "one two"
            }
        })
    );
    let linear_key = mcp_account_key("linear", "https://mcp.linear.app/mcp");
    let linear: Value =
        serde_json::from_str(&backend.load(MCP, &linear_key).unwrap().unwrap()).unwrap();
    // Expired: no expires_in, expires_at kept.
    assert_eq!(
        linear,
        json!({
            "server_name": "linear", "url": "https://mcp.linear.app/mcp", "client_id": "lin",
            "token_response": {"access_token": "lin-access", "token_type": "Bearer"},
            "expires_at": 1
        })
    );
    // The map key is not trusted.
    assert_eq!(backend.load(MCP, "linear|0123456789abcdef").unwrap(), None);

    // Storing docs again replaces the hand-edited entry (it would shadow the
    // new one) and leaves the others as they were.
    let secret = token_record("docs", URL, "new-access", None).to_string();
    backend.store(MCP, DOCS_KEY, &secret).unwrap();
    let written: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let map = written.as_object().unwrap();
    assert_eq!(
        map.keys().collect::<Vec<_>>(),
        ["a-foreign-entry", "linear|0123456789abcdef", DOCS_KEY]
    );
    assert_eq!(map["a-foreign-entry"], codex_file["a-foreign-entry"]);
    assert_eq!(
        map["linear|0123456789abcdef"],
        codex_file["linear|0123456789abcdef"]
    );
    let docs: Value = serde_json::from_str(&backend.load(MCP, DOCS_KEY).unwrap().unwrap()).unwrap();
    assert_eq!(docs["token_response"]["access_token"], "new-access");

    // Deleting by the real key removes the linear entry although its map key differs.
    assert!(backend.delete(MCP, &linear_key).unwrap());
    assert!(backend.delete(MCP, DOCS_KEY).unwrap());
    let written: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        written,
        json!({"a-foreign-entry": codex_file["a-foreign-entry"]})
    );
}

#[test]
fn emptied_credentials_file_is_deleted() {
    let home = tempfile::tempdir().unwrap();
    let backend = FileBackend::new(home.path());
    let other_key = mcp_account_key("other", URL);
    let docs = token_record("docs", URL, "a1", None).to_string();
    let other = token_record("other", URL, "a2", None).to_string();
    backend.store(MCP, DOCS_KEY, &docs).unwrap();
    backend.store(MCP, &other_key, &other).unwrap();
    let path = home.path().join(".credentials.json");
    assert!(backend.delete(MCP, DOCS_KEY).unwrap());
    assert!(path.exists());
    assert!(backend.load(MCP, &other_key).unwrap().is_some());
    assert!(backend.delete(MCP, &other_key).unwrap());
    assert!(!path.exists());
    assert!(!backend.delete(MCP, &other_key).unwrap());
}

#[test]
fn auth_json_round_trip() {
    let home = tempfile::tempdir().unwrap();
    let backend = plugin_backend(&TestHost::new(home.path()), "{}").unwrap();
    let document = json!({
        "auth_mode": "apikey",
        "OPENAI_API_KEY": "sk-test-secret",
        "tokens": null,
        "last_refresh": "2026-01-01T00:00:00Z"
    });
    assert_eq!(load(&backend, AUTH, "cli|0000"), None);
    assert!(!delete(&backend, AUTH, "cli|0000"));
    store(&backend, AUTH, "cli|0000", &document.to_string());

    let path = home.path().join("auth.json");
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text, serde_json::to_string_pretty(&document).unwrap());
    // The account does not matter: there is one auth.json.
    let loaded = load(&backend, AUTH, "any").unwrap();
    assert_eq!(serde_json::from_str::<Value>(&loaded).unwrap(), document);
    assert_eq!(loaded, text);

    assert!(delete(&backend, AUTH, "cli|0000"));
    assert!(!path.exists());
    assert_eq!(load(&backend, AUTH, "cli|0000"), None);
    assert!(!delete(&backend, AUTH, "cli|0000"));
}

#[test]
fn secrets_that_are_not_the_expected_json_are_refused_without_quoting_them() {
    let home = tempfile::tempdir().unwrap();
    let backend = FileBackend::new(home.path());

    let error = backend.store(MCP, DOCS_KEY, "sk-live-secret").unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidConfig);
    assert_eq!(
        error.message.as_str(),
        "the secret for `docs|9a70b85417749d5c` in `Codex MCP Credentials` is not an MCP OAuth \
         token record: it is not valid JSON (line 1, column 1)"
    );

    let mut record = token_record("docs", URL, "sk-live-secret", None);
    record["token_response"]
        .as_object_mut()
        .unwrap()
        .remove("access_token");
    let error = backend
        .store(MCP, DOCS_KEY, &record.to_string())
        .unwrap_err();
    assert_eq!(
        error.message.as_str(),
        "the secret for `docs|9a70b85417749d5c` in `Codex MCP Credentials` is not an MCP OAuth \
         token record: field `token_response.access_token` is missing"
    );

    let record = token_record("docs", URL, "sk-live-secret", None).to_string();
    let error = backend
        .store(MCP, "docs|ffffffffffffffff", &record)
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidConfig);
    assert_eq!(
        error.message.as_str(),
        "the account `docs|ffffffffffffffff` does not match the token record for server `docs` \
         at `https://example.com/mcp`; Codex files it under `docs|9a70b85417749d5c`"
    );

    let error = backend
        .store(AUTH, "x", r#"["sk-live-secret"]"#)
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidConfig);
    assert_eq!(
        error.message.as_str(),
        "the secret for `Codex Auth` is not a JSON object (the auth.json document)"
    );
    assert!(fs::read_dir(home.path()).unwrap().next().is_none());
}

#[test]
fn other_services_are_refused() {
    let home = tempfile::tempdir().unwrap();
    let backend = FileBackend::new(home.path());
    let expected = "the file credential backend stores only `Codex MCP Credentials`, `codex host \
                    MCP OAuth clients` and `Codex Auth` entries; use another backend for service \
                    `acme`";
    for error in [
        backend.load("acme", "a").unwrap_err(),
        backend.store("acme", "a", "{}").unwrap_err(),
        backend.delete("acme", "a").unwrap_err(),
    ] {
        assert_eq!(error.kind, ErrorKind::InvalidConfig);
        assert_eq!(error.message.as_str(), expected);
    }
}

#[cfg(unix)]
#[test]
fn files_are_private_and_a_missing_dir_is_created_only_on_store() {
    use common::mode_of;

    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("home/nested");
    let backend = FileBackend::new(&dir);
    assert_eq!(backend.load(MCP, DOCS_KEY).unwrap(), None);
    assert_eq!(backend.load(AUTH, "x").unwrap(), None);
    assert!(!backend.delete(MCP, DOCS_KEY).unwrap());
    assert!(!backend.delete(AUTH, "x").unwrap());
    assert!(!root.path().join("home").exists());

    let secret = token_record("docs", URL, "a", None).to_string();
    backend.store(MCP, DOCS_KEY, &secret).unwrap();
    backend.store(AUTH, "x", "{}").unwrap();
    assert_eq!(mode_of(&dir), 0o700);
    assert_eq!(mode_of(&root.path().join("home")), 0o700);
    assert_eq!(mode_of(&dir.join(".credentials.json")), 0o600);
    assert_eq!(mode_of(&dir.join(".credentials.json.lock")), 0o600);
    assert_eq!(mode_of(&dir.join("auth.json")), 0o600);
    // No temporary file is left behind.
    let mut names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".credentials.json",
            ".credentials.json.lock",
            "auth.json",
            "auth.json.lock"
        ]
    );
}

#[cfg(unix)]
#[test]
fn a_world_readable_file_is_read_with_one_warning_and_fixed_on_write() {
    use common::mode_of;
    use std::os::unix::fs::PermissionsExt;

    let home = tempfile::tempdir().unwrap();
    let host = TestHost::new(home.path());
    let backend = plugin_backend(&host, "{}").unwrap();
    let path = home.path().join(".credentials.json");
    let entry = json!({ DOCS_KEY: {
        "server_name": "docs", "server_url": URL, "client_id": "c",
        "access_token": "loose-secret", "scopes": []
    }});
    fs::write(&path, entry.to_string()).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();

    assert!(load(&backend, MCP, DOCS_KEY).is_some());
    assert!(load(&backend, MCP, DOCS_KEY).is_some());
    let warnings: Vec<_> = host
        .log_lines()
        .into_iter()
        .filter(|(level, _)| *level == LogLevel::Warn)
        .map(|(_, line)| line)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(&path.display().to_string()),
        "{}",
        warnings[0]
    );
    assert!(warnings[0].contains("0644"), "{}", warnings[0]);
    assert!(!warnings[0].contains("loose-secret"));

    let other = token_record("other", URL, "a", None).to_string();
    store(&backend, MCP, &mcp_account_key("other", URL), &other);
    assert_eq!(mode_of(&path), 0o600);
    assert!(load(&backend, MCP, DOCS_KEY).is_some());
}

/// Writes `bytes` as `name` and checks that load, store and delete all fail
/// naming the file and position, and leave it byte for byte as it was.
fn assert_corrupt_file_is_untouched(name: &str, bytes: &[u8], position: &str, service: &str) {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join(name);
    fs::write(&path, bytes).unwrap();
    let backend = FileBackend::new(home.path());
    let secret = match service {
        MCP => token_record("docs", URL, "fresh-secret", None).to_string(),
        _ => r#"{"OPENAI_API_KEY": "fresh-secret"}"#.to_owned(),
    };
    let errors = [
        backend.load(service, DOCS_KEY).unwrap_err(),
        backend.store(service, DOCS_KEY, &secret).unwrap_err(),
        backend.delete(service, DOCS_KEY).unwrap_err(),
    ];
    for error in errors {
        let message = error.message.as_str();
        assert_eq!(error.kind, ErrorKind::InvalidConfig, "{message}");
        assert!(
            message.starts_with(&format!("`{}` {position}: ", path.display())),
            "{message}"
        );
        assert!(
            message.ends_with("; fix it or move it aside; it was left unchanged"),
            "{message}"
        );
        assert!(!message.contains("secret"), "{message}");
    }
    assert_eq!(fs::read(&path).unwrap(), bytes);
}

#[test]
fn corrupt_files_are_reported_and_never_written_over() {
    let broken = b"{\"docs|x\": {\"access_token\": \"old-secret\",\n  oops}\n";
    for (name, service) in [(".credentials.json", MCP), ("auth.json", AUTH)] {
        assert_corrupt_file_is_untouched(name, broken, "line 2, column 3", service);
        assert_corrupt_file_is_untouched(name, b"  [\"old-secret\"]", "line 1, column 3", service);
        assert_corrupt_file_is_untouched(name, b"", "line 1, column 0", service);
    }
    let home = tempfile::tempdir().unwrap();
    fs::write(home.path().join(".credentials.json"), "null").unwrap();
    let error = FileBackend::new(home.path())
        .load(MCP, DOCS_KEY)
        .unwrap_err();
    assert_eq!(
        error.message.as_str(),
        format!(
            "`{}` line 1, column 1: expected a JSON object at the top level, found null; fix it \
             or move it aside; it was left unchanged",
            home.path().join(".credentials.json").display()
        )
    );
    let broken_path = home.path().join("auth.json");
    fs::write(&broken_path, broken).unwrap();
    let error = FileBackend::new(home.path()).load(AUTH, "x").unwrap_err();
    assert_eq!(
        error.message.as_str(),
        format!(
            "`{}` line 2, column 3: not valid JSON: key must be a string; fix it or move it \
             aside; it was left unchanged",
            broken_path.display()
        )
    );
}

#[test]
fn a_writer_gives_up_on_a_held_lock_naming_it() {
    let home = tempfile::tempdir().unwrap();
    let lock_path = home.path().join(".credentials.json.lock");
    let held = fs::File::create(&lock_path).unwrap();
    fs4::FileExt::try_lock(&held).unwrap();

    let backend = FileBackend::new(home.path()).with_lock_timeout(Duration::from_millis(300));
    let secret = token_record("docs", URL, "a", None).to_string();
    let started = Instant::now();
    let error = backend.store(MCP, DOCS_KEY, &secret).unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(error.kind, ErrorKind::Timeout);
    assert!(
        error
            .message
            .contains(&format!("`{}`", lock_path.display())),
        "{}",
        error.message
    );
    assert!(!home.path().join(".credentials.json").exists());

    drop(held);
    backend.store(MCP, DOCS_KEY, &secret).unwrap();
    assert!(backend.load(MCP, DOCS_KEY).unwrap().is_some());
}

#[test]
fn threads_storing_at_once_lose_nothing() {
    let home = tempfile::tempdir().unwrap();
    let backend = std::sync::Arc::new(FileBackend::new(home.path()));
    let writers: Vec<_> = (0..4)
        .map(|thread| {
            let backend = backend.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let name = format!("t{thread}-{i}");
                    let record = token_record(&name, URL, "a", None).to_string();
                    backend
                        .store(MCP, &mcp_account_key(&name, URL), &record)
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let text = fs::read_to_string(home.path().join(".credentials.json")).unwrap();
    let map: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(map.len(), 100);
}

#[test]
fn paths_are_reported() {
    let backend = FileBackend::new("/nonexistent/codex-home");
    assert_eq!(backend.dir(), Path::new("/nonexistent/codex-home"));
    assert_eq!(
        backend.credentials_path(),
        Path::new("/nonexistent/codex-home/.credentials.json")
    );
    assert_eq!(
        backend.auth_path(),
        Path::new("/nonexistent/codex-home/auth.json")
    );
}
