//! Credential stores through the built `codex` binary, against real stores:
//! a private Secret Service (gnome-keyring, checked with `secret-tool`), the
//! kernel keyring (checked with `keyctl`), the `auto` fallback to the file,
//! the example third-party backend built out of tree, and a search of every
//! output and file for the secrets configured.

// The Secret Service and the kernel keyring tested here are Linux stores.
#![cfg(target_os = "linux")]

use codex_test_support::keyrings as real_keyrings;
use codex_test_support::oauth_mcp;

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output};

use codex_test_support::{Home, stderr};
use oauth_mcp::Grant;
use real_keyrings::{
    SecretService, join_new_session_keyring, keyctl, keyctl_read, keyutils_description,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const KEY: &str = "sk-proj-CredTestKeyWq8Zr3Pm6Xn1Vb5QRS42";
const MASKED: &str = "sk-proj-***QRS42";
const AUTH: &str = "Codex Auth";

/// Codex's keyring account of the CLI login for `home`.
fn cli_account(home: &Path) -> String {
    let canonical = home.canonicalize().unwrap();
    let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("cli|{}", &hex[..16])
}

fn auth_document(key: &str) -> Value {
    json!({"auth_mode": "apikey", "OPENAI_API_KEY": key})
}

/// `codex ARGS` in `home` with `env`, `input` on stdin.
fn codex(home: &Home, env: &[(OsString, OsString)], args: &[&str], input: Option<&str>) -> Output {
    let mut command = home.codex();
    command.args(args).envs(env.iter().cloned());
    if let Some(input) = input {
        command.write_stdin(input);
    }
    command.output().unwrap()
}

/// An environment with no session bus at all: no Secret Service reachable.
fn no_bus(dir: &Path) -> Vec<(OsString, OsString)> {
    vec![
        (
            "DBUS_SESSION_BUS_ADDRESS".into(),
            format!("unix:path={}", dir.join("no-bus").display()).into(),
        ),
        ("XDG_RUNTIME_DIR".into(), dir.as_os_str().to_owned()),
    ]
}

fn says(output: &Output, line: &str) {
    assert_eq!(stderr(output), format!("{line}\n"));
}

#[test]
fn a_keyring_login_is_readable_with_secret_tool_and_the_reverse() {
    let ss = SecretService::start();
    let home = Home::new();
    home.write_config("cli_auth_credentials_store = \"keyring\"\n");
    let account = cli_account(home.path());

    says(
        &codex(&home, &ss.env(), &["login", "--with-api-key"], Some(KEY)),
        "Successfully logged in",
    );
    let stored = ss
        .lookup(AUTH, &account)
        .expect("no keyring item for the login");
    assert_eq!(
        serde_json::from_str::<Value>(&stored).unwrap(),
        auth_document(KEY)
    );
    assert!(!home.path().join("auth.json").exists());

    let output = codex(&home, &ss.env(), &["login", "status"], None);
    says(&output, &format!("Logged in using an API key - {MASKED}"));
    assert_eq!(output.status.code(), Some(0));

    says(
        &codex(&home, &ss.env(), &["logout"], None),
        "Successfully logged out",
    );
    assert_eq!(ss.lookup(AUTH, &account), None);

    // The reverse: an item stored the way Codex's keyring library does.
    let other_key = "sk-proj-SecretToolStoredKey987654LMNOP";
    let output = ss.secret_tool(
        &[
            "store",
            "--label=codex",
            "service",
            AUTH,
            "username",
            &account,
            "target",
            "default",
            "application",
            "rust-keyring",
        ],
        Some(&auth_document(other_key).to_string()),
    );
    assert!(output.status.success());
    let output = codex(&home, &ss.env(), &["login", "status"], None);
    says(&output, "Logged in using an API key - sk-proj-***LMNOP");
}

#[test]
fn a_kernel_keyring_login_is_readable_with_keyctl_and_the_reverse() {
    join_new_session_keyring();
    let home = Home::new();
    home.write_config(
        "cli_auth_credentials_store = \"keyring\"\n[credential_backends.keyring]\nstore = \"keyutils\"\n",
    );
    let description = keyutils_description(AUTH, &cli_account(home.path()));

    says(
        &codex(&home, &[], &["login", "--with-api-key"], Some(KEY)),
        "Successfully logged in",
    );
    let stored = keyctl_read(&description).expect("no kernel key for the login");
    assert_eq!(
        serde_json::from_slice::<Value>(&stored).unwrap(),
        auth_document(KEY)
    );
    says(
        &codex(&home, &[], &["login", "status"], None),
        &format!("Logged in using an API key - {MASKED}"),
    );
    says(
        &codex(&home, &[], &["logout"], None),
        "Successfully logged out",
    );
    assert_eq!(keyctl_read(&description), None);

    let added = keyctl(
        &["padd", "user", &description, "@s"],
        Some(
            auth_document("sk-proj-FromKeyctl00112233445566ABCDE")
                .to_string()
                .as_bytes(),
        ),
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    says(
        &codex(&home, &[], &["login", "status"], None),
        "Logged in using an API key - sk-proj-***ABCDE",
    );
    says(
        &codex(&home, &[], &["logout"], None),
        "Successfully logged out",
    );
}

#[test]
fn auto_without_a_secret_service_falls_back_to_the_file_and_says_so_once() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::new();
    home.write_config("cli_auth_credentials_store = \"auto\"\n");
    let output = codex(
        &home,
        &no_bus(dir.path()),
        &["login", "--with-api-key"],
        Some(KEY),
    );
    assert_eq!(output.status.code(), Some(0));
    let text = stderr(&output);
    let warnings: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(
        warnings[0].starts_with(
            "warning: credential store `keyring` is not reachable (no keyring is reachable: the \
             Secret Service (D-Bus org.freedesktop.secrets) is not reachable: "
        ),
        "{text}"
    );
    assert!(
        warnings[0]
            .ends_with("using `file` instead (`cli_auth_credentials_store` chooses the stores)"),
        "{text}"
    );
    assert!(text.ends_with("Successfully logged in\n"), "{text}");
    let stored = fs::read_to_string(home.path().join("auth.json")).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&stored).unwrap(),
        auth_document(KEY)
    );

    // Said once per CODEX_HOME: the next command is quiet.
    let output = codex(&home, &no_bus(dir.path()), &["login", "status"], None);
    let text = stderr(&output);
    assert_eq!(text.matches("warning:").count(), 0, "{text}");
    assert!(
        text.ends_with(&format!("Logged in using an API key - {MASKED}\n")),
        "{text}"
    );
}

#[test]
fn the_keyring_alone_fails_naming_the_store_it_tried() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::new();
    home.write_config("cli_auth_credentials_store = \"keyring\"\n");
    let output = codex(
        &home,
        &no_bus(dir.path()),
        &["login", "--with-api-key"],
        Some(KEY),
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(
        text.starts_with(
            "Error logging in: credential store `keyring` (from `cli_auth_credentials_store`): no \
             keyring is reachable: the Secret Service (D-Bus org.freedesktop.secrets) is not \
             reachable: "
        ),
        "{text}"
    );
    assert!(text.contains("store = \"keyutils\""), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(!home.path().join("auth.json").exists());

    let output = codex(&home, &no_bus(dir.path()), &["login", "status"], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).starts_with("Error checking login status: credential store `keyring`"));
}

#[test]
fn auto_with_a_secret_service_keeps_the_login_in_the_keyring_only() {
    let ss = SecretService::start();
    let home = Home::new();
    home.write_config("cli_auth_credentials_store = \"auto\"\n");
    // An older login in the file is replaced, not left to shadow the new one.
    fs::write(
        home.path().join("auth.json"),
        auth_document("sk-proj-old-file-key-000").to_string(),
    )
    .unwrap();
    fs::set_permissions(
        home.path().join("auth.json"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let output = codex(&home, &ss.env(), &["login", "--with-api-key"], Some(KEY));
    says(&output, "Successfully logged in");
    assert!(!home.path().join("auth.json").exists());
    let stored = ss.lookup(AUTH, &cli_account(home.path())).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&stored).unwrap(),
        auth_document(KEY)
    );
}

#[test]
fn logout_removes_the_login_from_every_store_it_may_be_in() {
    let ss = SecretService::start();
    let home = Home::new();
    let account = cli_account(home.path());
    fs::write(
        home.path().join("auth.json"),
        auth_document(KEY).to_string(),
    )
    .unwrap();
    fs::set_permissions(
        home.path().join("auth.json"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let output = ss.secret_tool(
        &[
            "store",
            "--label=codex",
            "service",
            AUTH,
            "username",
            &account,
        ],
        Some(&auth_document("sk-proj-keyring-copy-123456").to_string()),
    );
    assert!(output.status.success());
    // The configured store is the file (the default); the keyring's copy goes too.
    says(
        &codex(&home, &ss.env(), &["logout"], None),
        "Successfully logged out",
    );
    assert!(!home.path().join("auth.json").exists());
    assert_eq!(ss.lookup(AUTH, &account), None);
}

/// The example backend, built out of tree into its own target directory
/// (next to this build's, so later runs reuse it); the library's path.
fn build_acme_vault() -> PathBuf {
    let manifest = codex_test_support::workspace_root().join("examples/acme-vault/Cargo.toml");
    let target = codex_test_support::target_dir()
        .parent()
        .unwrap()
        .join("acme-vault-example");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    for action in ["build", "test"] {
        let output = StdCommand::new(&cargo)
            .arg(action)
            .arg("--locked")
            .arg("--manifest-path")
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target)
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "cargo {action} of examples/acme-vault failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    target.join("debug/libcodex_acme_vault.so")
}

#[test]
fn the_example_backend_built_out_of_tree_keeps_the_login() {
    let library = build_acme_vault();
    let home = Home::new();
    codex_test_support::install_plugin(&library, &home.plugin_dir(), "acme_vault");
    let vault = home.path().join("vault");
    home.write_config(&format!(
        "cli_auth_credentials_store = \"acme-vault\"\n[credential_backends.acme-vault]\ndir = \"{}\"\n",
        vault.display()
    ));

    let output = codex(&home, &[], &["plugin", "list", "--json"], None);
    let plugins: Value = serde_json::from_slice(&output.stdout).unwrap();
    let text = plugins.to_string();
    assert!(text.contains("acme-vault"), "{text}");
    assert!(text.contains("\"loaded\""), "{text}");

    says(
        &codex(
            &home,
            &[],
            &["--enable", "acme_vault_audit", "login", "--with-api-key"],
            Some(KEY),
        ),
        "Successfully logged in",
    );
    assert!(!home.path().join("auth.json").exists());
    let entries: Vec<PathBuf> = fs::read_dir(&vault)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.file_name().unwrap() != "audit.log")
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&fs::read_to_string(&entries[0]).unwrap()).unwrap(),
        auth_document(KEY)
    );
    assert_eq!(
        fs::metadata(&entries[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // The plugin's own feature flag was on for that run: one audit line, no secret.
    let audit = fs::read_to_string(vault.join("audit.log")).unwrap();
    assert_eq!(audit.lines().count(), 1, "{audit}");
    assert!(audit.contains("store \"Codex Auth\" \"cli|"), "{audit}");
    assert!(!audit.contains(KEY));

    let output = codex(&home, &[], &["login", "status"], None);
    says(&output, &format!("Logged in using an API key - {MASKED}"));
    assert_eq!(output.status.code(), Some(0));
    says(
        &codex(&home, &[], &["logout"], None),
        "Successfully logged out",
    );
    assert!(!entries[0].exists());
    let output = codex(&home, &[], &["login", "status"], None);
    says(&output, "Not logged in");
    assert_eq!(output.status.code(), Some(1));

    // Selected by name in a chain, first, with the file behind it.
    home.write_config(&format!(
        "cli_auth_credentials_store = \"auto\"\ncredential_chain = [\"acme-vault\", \"file\"]\n\
         [credential_backends.acme-vault]\ndir = \"{}\"\n",
        vault.display()
    ));
    says(
        &codex(&home, &[], &["login", "--with-api-key"], Some(KEY)),
        "Successfully logged in",
    );
    assert!(!home.path().join("auth.json").exists());
    assert!(entries[0].exists());
    // A vault other users can enter is refused; the chain moves on to the file.
    fs::set_permissions(&vault, fs::Permissions::from_mode(0o755)).unwrap();
    let output = codex(&home, &[], &["login", "--with-api-key"], Some(KEY));
    let text = stderr(&output);
    assert!(
        text.contains("warning: credential store `acme-vault` failed"),
        "{text}"
    );
    assert!(text.contains("chmod 700"), "{text}");
    assert!(home.path().join("auth.json").exists());
}

// ---- no secret in any output --------------------------------------------

const MCP_TOKEN: &str = "mcp-access-NoLeakToken7788aa99bbcc";
const MCP_REFRESH: &str = "mcp-refresh-NoLeakRenew1122hhjjkk";
const BEARER: &str = "env-bearer-NoLeakValue5566dd77ee";
const HEADER: &str = "header-value-NoLeak3344ff55gg";
const ENV_HEADER: &str = "env-header-NoLeakFrom9900mmnnpp";
const SECRETS: [&str; 6] = [KEY, MCP_TOKEN, MCP_REFRESH, BEARER, HEADER, ENV_HEADER];

/// Every 9-character piece of `secret`: `login status` shows 8 + 5
/// characters of a key, so any longer piece in an output is a leak.
fn pieces(secret: &str) -> Vec<String> {
    let chars: Vec<char> = secret.chars().collect();
    chars
        .windows(9)
        .map(|window| window.iter().collect())
        .collect()
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        for piece in pieces(secret) {
            assert!(
                !text.contains(&piece),
                "{what} shows `{piece}` of a secret:\n{text}"
            );
        }
    }
}

/// Every file under `dir`, except the stores that hold the secrets.
fn files_to_search(dir: &Path, stores: &[PathBuf], found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if stores.iter().any(|store| path.starts_with(store)) {
            continue;
        }
        if path.is_dir() {
            files_to_search(&path, stores, found);
        } else {
            found.push(path);
        }
    }
}

/// Every command of `codex` (host/src/cli.rs), with its `--json` and `-v`
/// forms, runs with every kind of secret configured: an API key logged in
/// to each CLI store, a bearer token from the environment, a header in
/// config and one from the environment, OAuth tokens from a real login in
/// each MCP store. None may show a piece of a secret on stdout or stderr or
/// leave one in a file under CODEX_HOME other than the stores themselves.
#[test]
fn no_command_shows_a_secret_in_its_output_or_logs() {
    let ss = SecretService::start();
    let library = build_acme_vault();
    let server = oauth_mcp::start(Grant {
        also_accepted: vec![
            ("authorization".to_owned(), format!("Bearer {BEARER}")),
            ("x-api-key".to_owned(), HEADER.to_owned()),
            ("x-api-key".to_owned(), ENV_HEADER.to_owned()),
        ],
        ..Grant::new(MCP_TOKEN, MCP_REFRESH)
    });
    let home = Home::new();
    codex_test_support::install_plugin(&library, &home.plugin_dir(), "acme_vault");
    let helper_entries = home.path().join("helper-entries.json");
    let helper = codex_test_support::workspace_root()
        .join("credential-backends/helper/tests/fixtures/json-file-credential-helper");
    let (plain, oauth) = (server.url("/plain"), server.url("/mcp"));
    home.write_config(&format!(
        "[mcp_servers.docs]\nurl = \"{plain}\"\nbearer_token_env_var = \"DOCS_TOKEN\"\n\
         [mcp_servers.local]\nurl = \"{plain}\"\nhttp_headers = {{ \"X-Api-Key\" = \"{HEADER}\" }}\n\
         [mcp_servers.from_env]\nurl = \"{plain}\"\nenv_http_headers = {{ \"X-Api-Key\" = \"HEADER_VALUE\" }}\n\
         [mcp_servers.secure]\nurl = \"{oauth}\"\n\
         [mcp_servers.down]\nurl = \"http://127.0.0.1:9/mcp\"\nbearer_token_env_var = \"DOCS_TOKEN\"\n\
         [mcp_servers.demo]\ncommand = \"{}\"\nenv_vars = [\"DOCS_TOKEN\"]\n\
         [credential_backends.helper]\nprogram = \"{}\"\n",
        codex_test_support::demo_server().display(),
        helper.display()
    ));
    // Tokens of `down` as Codex writes them: the server is not there, so
    // its tokens are only read, refreshed in vain and deleted.
    let down_key = codex_file::mcp_account_key("down", "http://127.0.0.1:9/mcp");
    fs::write(
        home.path().join(".credentials.json"),
        json!({ down_key: {
            "server_name": "down", "server_url": "http://127.0.0.1:9/mcp", "client_id": "c",
            "access_token": MCP_TOKEN, "expires_at": 1, "refresh_token": MCP_REFRESH, "scopes": []
        }})
        .to_string(),
    )
    .unwrap();
    fs::set_permissions(
        home.path().join(".credentials.json"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();

    let mut env = ss.env();
    env.push(("DOCS_TOKEN".into(), BEARER.into()));
    env.push(("HEADER_VALUE".into(), ENV_HEADER.into()));
    env.push((
        "CODEX_TEST_HELPER_FILE".into(),
        helper_entries.clone().into(),
    ));
    env.push(("BROWSER".into(), oauth_mcp::browser(home.path()).into()));
    let mut outputs: Vec<(String, Output)> = Vec::new();
    let mut run = |args: &[&str], input: Option<&str>| {
        let output = codex(&home, &env, args, input);
        outputs.push((args.join(" "), output));
    };
    /// `-c KEY=STORE` then `rest`.
    fn with(key: &str, store: &str, rest: &[&str]) -> Vec<String> {
        let mut args = vec!["-c".to_owned(), format!("{key}={store}")];
        args.extend(rest.iter().map(|arg| arg.to_string()));
        args
    }
    let stores = [
        "file",
        "keyring",
        "helper",
        "acme-vault",
        "auto",
        "ephemeral",
    ];

    // The CLI login in each store, and its failures.
    for store in stores {
        let login = |rest: &[&str]| with("cli_auth_credentials_store", store, rest);
        for (args, input) in [
            (login(&["login", "--with-api-key"]), Some(KEY)),
            (login(&["login", "status"]), None),
            (login(&["-v", "login", "status"]), None),
            (login(&["logout"]), None),
            (login(&["login", "status"]), None),
            (login(&["-v", "login", "--with-api-key"]), Some(KEY)),
            (
                login(&["login", "--with-api-key"]),
                Some(&format!("{KEY} trailing")),
            ),
            (login(&["login", "--api-key", KEY]), None),
        ] {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&args, input);
        }
    }

    // A real OAuth login in each MCP store, then every command that reads it.
    for store in stores {
        let mcp = |rest: &[&str]| with("mcp_oauth_credentials_store", store, rest);
        for args in [
            mcp(&["mcp", "login", "secure"]),
            mcp(&["mcp", "list"]),
            mcp(&["mcp", "list", "--json"]),
            mcp(&["-v", "mcp", "tools", "secure"]),
            mcp(&["mcp", "tools", "secure", "--json"]),
            mcp(&[
                "-v",
                "mcp",
                "call",
                "secure",
                "echo",
                "--args",
                r#"{"message":"hi"}"#,
            ]),
            mcp(&["mcp", "call", "secure", "echo", "--json"]),
            // A login while connecting (the only way in for `ephemeral`).
            mcp(&[
                "mcp",
                "call",
                "secure",
                "echo",
                "--login",
                "--args",
                r#"{"message":"hi"}"#,
            ]),
            mcp(&["-v", "mcp", "logout", "secure"]),
            mcp(&["mcp", "logout", "secure"]),
            mcp(&["-v", "mcp", "login", "secure", "--json"]),
            mcp(&["mcp", "logout", "secure"]),
        ] {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&args, None);
        }
    }

    // Every other command, with the secrets of the environment, the config
    // and the file store (the OAuth login of `secure` again, and `down`'s).
    run(&["-v", "mcp", "login", "secure"], None);
    for args in [
        &["mcp", "list"][..],
        &["mcp", "list", "--json"],
        &["-v", "mcp", "list"],
        &["mcp", "get", "docs"],
        &["mcp", "get", "docs", "--json"],
        &["mcp", "get", "local"],
        &["mcp", "get", "local", "--json"],
        &["mcp", "get", "from_env", "--json"],
        &["mcp", "get", "secure", "--json"],
        &["mcp", "tools"],
        &["-v", "mcp", "tools", "demo", "--json"],
        &[
            "-v",
            "mcp",
            "call",
            "demo",
            "echo",
            "--args",
            r#"{"message":"hi"}"#,
        ],
        &["-v", "mcp", "tools", "--json"],
        &["mcp", "tools", "docs", "--json"],
        &["-v", "mcp", "tools", "local"],
        &["-v", "mcp", "tools", "from_env", "--json"],
        &["-v", "mcp", "tools", "down"],
        &["mcp", "tools", "down", "--json"],
        &[
            "-v",
            "mcp",
            "call",
            "docs",
            "echo",
            "--args",
            r#"{"message":"hi"}"#,
        ],
        &["mcp", "call", "local", "echo", "--json"],
        &["-v", "mcp", "call", "from_env", "echo", "--json"],
        &["-v", "mcp", "call", "down", "echo"],
        &["mcp", "call", "down", "echo", "--json"],
        &[
            "mcp",
            "call",
            "--url",
            plain.as_str(),
            "--bearer-token-env-var",
            "DOCS_TOKEN",
            "echo",
            "--json",
        ],
        &[
            "-v",
            "mcp",
            "tools",
            "--url",
            plain.as_str(),
            "--bearer-token-env-var",
            "DOCS_TOKEN",
        ],
        &[
            "mcp",
            "add",
            "added",
            "--url",
            plain.as_str(),
            "--bearer-token-env-var",
            "DOCS_TOKEN",
        ],
        &["-v", "mcp", "add", "also", "--url", &oauth],
        &["mcp", "get", "also", "--json"],
        &["mcp", "logout", "also"],
        &["mcp", "remove", "also"],
        &["mcp", "remove", "added"],
        &["-v", "mcp", "logout", "down"],
        &["mcp", "logout", "docs"],
        &["mcp", "logout", "secure"],
        &["plugin", "list"],
        &["plugin", "list", "--json"],
        &["plugin", "info", "keyring", "--json"],
        &["plugin", "info", "oauth"],
        &["plugin", "info", "oauth", "--json"],
        &["plugin", "info", "acme_vault"],
        &["features", "list"],
        &["features", "list", "--json"],
        &["-v", "features", "explain", "mcp_oauth_auto_login"],
        &["features", "explain", "mcp_oauth_auto_login", "--json"],
        &["features", "disable", "mcp_oauth_auto_login"],
        &["features", "enable", "mcp_oauth_auto_login"],
        &["config", "show"],
        &["config", "show", "--json"],
        &["config", "show", "--origin"],
        &["-v", "config", "show", "--origin", "--json"],
        &["debug", "process-state"],
        &["-v", "login", "status"],
    ] {
        run(args, None);
    }
    // Failures that handle a secret: a corrupt auth.json holding the key, a
    // corrupt credentials file holding tokens, and a helper that echoes
    // what it was given.
    fs::write(
        home.path().join("auth.json"),
        format!("{{\"OPENAI_API_KEY\": \"{KEY}\" oops"),
    )
    .unwrap();
    run(&["login", "status"], None);
    run(&["logout"], None);
    run(&["login", "--with-api-key"], Some(KEY));
    fs::write(
        home.path().join(".credentials.json"),
        format!("{{\"x\": {{\"access_token\": \"{MCP_TOKEN}\" oops"),
    )
    .unwrap();
    for args in [
        &["mcp", "list", "--json"][..],
        &["-v", "mcp", "tools", "secure"],
        &["mcp", "logout", "secure"],
        &[
            "-c",
            "mcp_oauth_credentials_store=file",
            "mcp",
            "login",
            "secure",
        ],
    ] {
        run(args, None);
    }
    env.push(("CODEX_TEST_HELPER_FAIL".into(), "store:echo".into()));
    let output = codex(
        &home,
        &env,
        &[
            "-c",
            "cli_auth_credentials_store=helper",
            "login",
            "--with-api-key",
        ],
        Some(KEY),
    );
    assert!(
        stderr(&output).contains("the vault refused the value [secret]"),
        "{}",
        stderr(&output)
    );
    outputs.push(("login through an echoing helper".to_owned(), output));
    let output = codex(
        &home,
        &env,
        &[
            "-c",
            "mcp_oauth_credentials_store=helper",
            "mcp",
            "login",
            "secure",
        ],
        None,
    );
    assert!(
        stderr(&output).contains("the vault refused the value [secret]"),
        "{}",
        stderr(&output)
    );
    outputs.push(("mcp login through an echoing helper".to_owned(), output));

    // The commands did run: the logins succeeded and the servers answered
    // with every kind of credential.
    let said = |what: &str| {
        outputs
            .iter()
            .filter(|(_, output)| {
                stderr(output).contains(what)
                    || String::from_utf8_lossy(&output.stdout).contains(what)
            })
            .count()
    };
    let logged_in = said("Successfully logged in\n");
    assert!(logged_in >= 10, "only {logged_in} CLI logins succeeded");
    let mcp_logins = said("Successfully logged in to MCP server 'secure'.");
    assert!(mcp_logins >= 13, "only {mcp_logins} MCP logins succeeded");
    let echoed = said("hi\n");
    assert!(echoed >= 13, "only {echoed} calls answered");
    for credential in [format!("Bearer {MCP_TOKEN}"), format!("Bearer {BEARER}")] {
        assert!(
            server
                .requests()
                .iter()
                .any(|request| request.header("authorization") == Some(credential.as_str())),
            "no request carried {credential}"
        );
    }
    for value in [HEADER, ENV_HEADER] {
        assert!(
            server
                .requests()
                .iter()
                .any(|request| request.header("x-api-key") == Some(value)),
            "no request carried the header"
        );
    }
    for (what, output) in &outputs {
        assert_no_secret(
            &format!("`codex {what}` (stdout)"),
            &String::from_utf8_lossy(&output.stdout),
        );
        assert_no_secret(&format!("`codex {what}` (stderr)"), &stderr(output));
    }
    let stores = [
        home.path().join("config.toml"),
        home.path().join("auth.json"),
        home.path().join(".credentials.json"),
        home.path().join("acme-vault"),
        helper_entries,
    ];
    let mut files = Vec::new();
    files_to_search(home.path(), &stores, &mut files);
    assert!(
        files
            .iter()
            .any(|file| file.extension().is_some_and(|ext| ext == "log")),
        "no log file under CODEX_HOME to search: {files:?}"
    );
    for file in files {
        let bytes = fs::read(&file).unwrap();
        assert_no_secret(
            &file.display().to_string(),
            &String::from_utf8_lossy(&bytes),
        );
    }
}
