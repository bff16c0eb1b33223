//! `codex login --with-api-key`, `codex login status` and `codex logout`
//! through the built binary: Codex's texts and exit codes, the `auth.json`
//! it writes, bad input, and the stores `cli_auth_credentials_store` picks
//! (the file, a docker credential helper, the ephemeral store). The OS
//! keyring and the third-party example backend are in `credentials.rs`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use codex_test_support::{Home, stderr};
use serde_json::{Value, json};

const KEY: &str = "sk-proj-LoginTestKeyHq4Jt7Lw2Ks9Df6XYZ98";
const MASKED: &str = "sk-proj-***XYZ98";

/// `codex login --with-api-key` with `input` on stdin.
fn login(home: &Home, input: &str) -> std::process::Output {
    home.codex()
        .args(["login", "--with-api-key"])
        .write_stdin(input)
        .output()
        .unwrap()
}

fn run(home: &Home, args: &[&str]) -> std::process::Output {
    home.codex().args(args).output().unwrap()
}

fn auth_json(home: &Home) -> PathBuf {
    home.path().join("auth.json")
}

/// The whole stderr, which must be exactly `line`.
fn says(output: &std::process::Output, line: &str) {
    assert_eq!(
        stderr(output),
        format!("{line}\n"),
        "stdout: {}",
        codex_test_support::stdout(output)
    );
    assert!(
        output.stdout.is_empty(),
        "stdout: {}",
        codex_test_support::stdout(output)
    );
}

#[test]
fn login_status_logout_round_trip_in_auth_json() {
    let home = Home::new();
    let output = login(&home, &format!("  {KEY}\n"));
    says(&output, "Successfully logged in");
    assert_eq!(output.status.code(), Some(0));

    // Codex's auth.json, private.
    let text = fs::read_to_string(auth_json(&home)).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"auth_mode": "apikey", "OPENAI_API_KEY": KEY})
    );
    assert_eq!(
        fs::metadata(auth_json(&home)).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let output = run(&home, &["login", "status"]);
    says(&output, &format!("Logged in using an API key - {MASKED}"));
    assert_eq!(output.status.code(), Some(0));

    let output = run(&home, &["logout"]);
    says(&output, "Successfully logged out");
    assert_eq!(output.status.code(), Some(0));
    assert!(!auth_json(&home).exists());

    let output = run(&home, &["login", "status"]);
    says(&output, "Not logged in");
    assert_eq!(output.status.code(), Some(1));

    let output = run(&home, &["logout"]);
    says(&output, "Not logged in");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn logins_codex_wrote_are_recognised() {
    let home = Home::new();
    fs::write(
        auth_json(&home),
        r#"{"OPENAI_API_KEY": null, "tokens": {"id_token": "x.y.z", "access_token": "a", "refresh_token": "r", "account_id": null}, "last_refresh": "2025-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    fs::set_permissions(auth_json(&home), fs::Permissions::from_mode(0o600)).unwrap();
    let output = run(&home, &["login", "status"]);
    says(&output, "Logged in using ChatGPT");
    assert_eq!(output.status.code(), Some(0));

    // An API key without `auth_mode`, as older Codex versions wrote it; short
    // keys are masked entirely.
    fs::write(auth_json(&home), r#"{"OPENAI_API_KEY": "sk-short"}"#).unwrap();
    let output = run(&home, &["login", "status"]);
    says(&output, "Logged in using an API key - ***");
}

#[test]
fn a_key_on_a_terminal_is_refused() {
    let home = Home::new();
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes the two descriptors; the other arguments may be null.
    let status = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(status, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned here.
    let (master, slave) = unsafe {
        use std::os::fd::FromRawFd;
        (
            std::fs::File::from_raw_fd(master),
            std::fs::File::from_raw_fd(slave),
        )
    };
    // As `Home::codex` sets it up, with a std Command to choose stdin.
    let output = std::process::Command::new(codex_test_support::codex_bin())
        .env("CODEX_HOME", home.path())
        .env(
            "CODEX_SYSTEM_CONFIG",
            home.path().join("no-system-config.toml"),
        )
        .env(
            "CODEX_MANAGED_CONFIG",
            home.path().join("no-managed-config.toml"),
        )
        .args(["login", "--with-api-key"])
        .stdin(slave)
        .output()
        .unwrap();
    drop(master);
    says(
        &output,
        "--with-api-key expects the API key on stdin. Try piping it, e.g. `printenv \
         OPENAI_API_KEY | codex login --with-api-key`.",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(!auth_json(&home).exists());
}

#[test]
fn an_empty_key_is_refused() {
    let home = Home::new();
    for input in ["", " \n\t\n"] {
        let output = login(&home, input);
        says(&output, "No API key provided via stdin.");
        assert_eq!(output.status.code(), Some(1));
    }
    assert!(!auth_json(&home).exists());
}

#[test]
fn a_key_of_the_wrong_shape_is_refused_without_showing_it() {
    let home = Home::new();
    for (input, position) in [
        ("sk-proj-abc def-ghijkl", "character 12 of 22"),
        ("sk-proj-abcdef\nsk-proj-second", "character 15 of 29"),
        ("Bearer:sk-proj-abcdefgh", "character 7 of 23"),
    ] {
        let output = login(&home, input);
        assert_eq!(output.status.code(), Some(1));
        let text = stderr(&output);
        assert!(
            text.starts_with("Error logging in: that does not look like an API key: "),
            "{text}"
        );
        assert!(text.contains(position), "{text}");
        assert!(
            !text.contains("abcdef") && !text.contains("ghijkl"),
            "{text}"
        );
    }
    assert!(!auth_json(&home).exists());
}

#[test]
fn the_api_key_flag_is_refused() {
    let home = Home::new();
    for args in [
        &["login", "--api-key", KEY][..],
        &["login", "--api-key"][..],
    ] {
        let output = run(&home, args);
        assert_eq!(output.status.code(), Some(1));
        let text = stderr(&output);
        assert!(
            text.contains("--api-key flag is no longer supported"),
            "{text}"
        );
        assert!(!text.contains(KEY), "{text}");
    }
    assert!(!auth_json(&home).exists());
}

#[test]
fn forced_chatgpt_login_blocks_api_key_login() {
    let home = Home::new();
    home.write_config("forced_login_method = \"chatgpt\"\n");
    let output = login(&home, KEY);
    says(
        &output,
        "API key login is disabled. Use ChatGPT login instead.",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(!auth_json(&home).exists());
}

#[test]
fn a_corrupt_auth_json_is_an_error_and_left_untouched() {
    let home = Home::new();
    let corrupt = format!("{{\"OPENAI_API_KEY\": \"{KEY}\",, }}");
    fs::write(auth_json(&home), &corrupt).unwrap();
    fs::set_permissions(auth_json(&home), fs::Permissions::from_mode(0o600)).unwrap();

    for (args, prefix) in [
        (&["login", "status"][..], "Error checking login status: "),
        (&["logout"][..], "Error logging out: "),
    ] {
        let output = run(&home, args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let text = stderr(&output);
        assert!(text.starts_with(prefix), "{text}");
        assert!(text.contains("auth.json` line 1, column"), "{text}");
        assert!(text.contains("it was left unchanged"), "{text}");
        assert!(!text.contains(KEY), "{text}");
    }
    let output = login(&home, "sk-proj-another-key-123456");
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).starts_with("Error logging in: credential store `file`"));
    assert_eq!(fs::read_to_string(auth_json(&home)).unwrap(), corrupt);
}

#[test]
fn a_world_readable_auth_json_is_used_with_a_warning() {
    // Documented behaviour of the file store: a credentials file other users
    // can read is reported (once per run) and rewritten 0600 on the next change.
    let home = Home::new();
    fs::write(
        auth_json(&home),
        format!("{{\"OPENAI_API_KEY\": \"{KEY}\"}}"),
    )
    .unwrap();
    fs::set_permissions(auth_json(&home), fs::Permissions::from_mode(0o644)).unwrap();
    let output = run(&home, &["login", "status"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stderr(&output);
    assert_eq!(
        text.matches("is open to other users (mode 0644)").count(),
        1,
        "{text}"
    );
    assert!(text.contains(&format!("run `chmod 600 {}`", auth_json(&home).display())));
    assert!(
        text.ends_with(&format!("Logged in using an API key - {MASKED}\n")),
        "{text}"
    );

    let output = login(&home, KEY);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        fs::metadata(auth_json(&home)).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn the_ephemeral_store_keeps_nothing_after_the_process() {
    let home = Home::new();
    home.write_config("cli_auth_credentials_store = \"ephemeral\"\n");
    says(&login(&home, KEY), "Successfully logged in");
    assert!(!auth_json(&home).exists());
    let output = run(&home, &["login", "status"]);
    says(&output, "Not logged in");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn an_unknown_store_is_a_clear_error() {
    let home = Home::new();
    home.write_config("cli_auth_credentials_store = \"vaultx\"\n");
    let output = login(&home, KEY);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        "Error logging in: credential store `vaultx` (from `cli_auth_credentials_store`): no \
         loaded plugin provides the credential backend `vaultx`; `codex plugin list` shows the \
         plugins found\n"
    );
    home.write_config("cli_auth_credentials_store = [\"file\"]\n");
    let output = run(&home, &["login", "status"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("config.toml:1:"), "{text}");
    assert!(text.contains("cli_auth_credentials_store"), "{text}");
}

fn helper_fixture() -> PathBuf {
    codex_test_support::workspace_root()
        .join("credential-backends/helper/tests/fixtures/json-file-credential-helper")
}

#[test]
fn a_docker_credential_helper_keeps_the_login() {
    let home = Home::new();
    let entries = home.path().join("helper-entries.json");
    home.write_config(&format!(
        "cli_auth_credentials_store = \"helper\"\n\
         [credential_backends.helper]\nprogram = \"{}\"\n",
        helper_fixture().display()
    ));
    let codex = |args: &[&str], input: Option<&str>| {
        let mut command = home.codex();
        command.args(args).env("CODEX_TEST_HELPER_FILE", &entries);
        if let Some(input) = input {
            command.write_stdin(input);
        }
        command.output().unwrap()
    };

    says(
        &codex(&["login", "--with-api-key"], Some(KEY)),
        "Successfully logged in",
    );
    assert!(!auth_json(&home).exists());
    let stored: Value = serde_json::from_str(&fs::read_to_string(&entries).unwrap()).unwrap();
    let entries_map = stored.as_object().unwrap();
    assert_eq!(entries_map.len(), 1);
    let (url, entry) = entries_map.iter().next().unwrap();
    assert!(
        url.starts_with("codex://credentials/Codex%20Auth/cli%7C"),
        "{url}"
    );
    assert!(entry["Username"].as_str().unwrap().starts_with("cli|"));
    assert_eq!(
        serde_json::from_str::<Value>(entry["Secret"].as_str().unwrap()).unwrap(),
        json!({"auth_mode": "apikey", "OPENAI_API_KEY": KEY})
    );

    let output = codex(&["login", "status"], None);
    says(&output, &format!("Logged in using an API key - {MASKED}"));
    says(&codex(&["logout"], None), "Successfully logged out");
    let stored: Value = serde_json::from_str(&fs::read_to_string(&entries).unwrap()).unwrap();
    assert_eq!(stored, json!({}));
    let output = codex(&["login", "status"], None);
    says(&output, "Not logged in");
    assert_eq!(output.status.code(), Some(1));
}
