//! The plugin loader, through `codex plugin list|info` and real libraries.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use codex_test_support::{Home, built_library, install_plugin, stderr, stdout};
use serde_json::Value;

fn plugin_list(home: &Home, extra: &[&str]) -> Vec<Value> {
    let output = home
        .codex()
        .args(["plugin", "list", "--json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "plugin list failed: {}",
        stderr(&output)
    );
    serde_json::from_slice::<Value>(&output.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn entry<'a>(list: &'a [Value], name: &str) -> &'a Value {
    list.iter()
        .find(|entry| entry["name"] == name)
        .unwrap_or_else(|| panic!("no plugin `{name}` in {list:#?}"))
}

#[test]
fn bundled_plugins_load_from_the_executables_directory() {
    let home = Home::new();
    let list = plugin_list(&home, &[]);
    let stdio = entry(&list, "stdio");
    assert_eq!(stdio["state"], "loaded");
    assert_eq!(stdio["origin"], "executable");
    assert_eq!(stdio["api_version"], codex_plugin_api::API_VERSION);
    assert!(
        stdio["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "transport" && s["name"] == "stdio")
    );
    let file = entry(&list, "file");
    assert_eq!(file["state"], "loaded");
    assert!(
        file["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "credential-backend")
    );

    let text = home.codex().args(["plugin", "list"]).output().unwrap();
    let text = stdout(&text);
    assert!(text.starts_with("Name"), "{text}");
    assert!(
        text.lines()
            .any(|line| line.starts_with("stdio") && line.contains("loaded")),
        "{text}"
    );

    let info = home
        .codex()
        .args(["plugin", "info", "stdio"])
        .output()
        .unwrap();
    assert!(info.status.success());
    assert!(
        stdout(&info).contains("provides transport: stdio"),
        "{}",
        stdout(&info)
    );
    let missing = home
        .codex()
        .args(["plugin", "info", "nope"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("no plugin named `nope`"));
}

#[test]
fn a_plugin_built_for_another_api_major_is_refused_naming_both_versions() {
    let home = Home::new();
    let dir = home.plugin_dir();
    install_plugin(
        &built_library("test_plugin_incompatible"),
        &dir,
        "incompatible",
    );
    let list = plugin_list(&home, &[]);
    let bad = entry(&list, "incompatible");
    assert_eq!(bad["state"], "incompatible");
    let reason = bad["reason"].as_str().unwrap();
    assert!(
        reason.contains("2.0.0") && reason.contains(codex_plugin_api::API_VERSION),
        "{reason}"
    );
    // The others still load.
    assert_eq!(entry(&list, "stdio")["state"], "loaded");
    assert_eq!(entry(&list, "file")["state"], "loaded");
}

#[test]
fn a_panicking_plugin_fails_its_own_server_and_the_host_carries_on() {
    let home = Home::new();
    let dir = home.plugin_dir();
    install_plugin(&built_library("test_plugin_panicking"), &dir, "panicking");
    let demo = codex_test_support::demo_server();
    home.write_config(&format!(
        "[mcp_servers.broken]\ntransport = \"panicking\"\n\n[mcp_servers.demo]\ncommand = \"{}\"\n",
        demo.display()
    ));
    let output = home
        .codex()
        .args(["mcp", "tools", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let servers = report["servers"].as_array().unwrap();
    let broken = servers.iter().find(|s| s["name"] == "broken").unwrap();
    assert_eq!(broken["status"], "error");
    assert!(
        broken["error"]
            .as_str()
            .unwrap()
            .contains("deliberate panic in connect"),
        "{broken}"
    );
    let demo = servers.iter().find(|s| s["name"] == "demo").unwrap();
    assert_eq!(demo["status"], "ok", "{demo}");
    assert!(
        demo["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "echo")
    );
}

/// Every reason to refuse a plugin file, each refused before the library is
/// opened: the test library writes a marker file from its constructor, and
/// the marker must not exist afterwards (the last row shows it does appear
/// when the library is trusted).
#[test]
fn every_refusal_happens_before_the_library_is_opened() {
    use std::os::unix::fs::{chown, symlink};

    type Setup = fn(&Home, &std::path::Path) -> Vec<String>;
    let cases: [(&str, Setup, Option<&str>); 10] = [
        (
            "group-writable file",
            |_, plugin| {
                fs::set_permissions(plugin, fs::Permissions::from_mode(0o664)).unwrap();
                vec![]
            },
            Some("is writable by its group"),
        ),
        (
            "world-writable file",
            |_, plugin| {
                fs::set_permissions(plugin, fs::Permissions::from_mode(0o646)).unwrap();
                vec![]
            },
            Some("is writable by others"),
        ),
        (
            "writable directory",
            |_, plugin| {
                let dir = plugin.parent().unwrap();
                fs::set_permissions(dir, fs::Permissions::from_mode(0o777)).unwrap();
                vec![]
            },
            Some("plugins is writable by its group"),
        ),
        (
            "foreign owner",
            |_, plugin| {
                chown(plugin, Some(4242), None).unwrap();
                vec![]
            },
            Some("is owned by user id 4242"),
        ),
        (
            "symlink into a writable directory",
            |home, plugin| {
                let elsewhere = home.path().join("elsewhere");
                fs::create_dir(&elsewhere).unwrap();
                let target = elsewhere.join(plugin.file_name().unwrap());
                fs::rename(plugin, &target).unwrap();
                fs::set_permissions(&elsewhere, fs::Permissions::from_mode(0o777)).unwrap();
                symlink(&target, plugin).unwrap();
                vec![]
            },
            Some("elsewhere is writable by its group"),
        ),
        (
            "hash pin mismatch",
            |_, _| {
                vec![
                    "-c".into(),
                    format!("plugin_policy.sha256.panicking=\"{}\"", "0".repeat(64)),
                ]
            },
            Some("does not match the pin `plugin_policy.sha256.panicking`"),
        ),
        (
            "denied on the command line",
            |_, _| vec!["-c".into(), "plugin_policy.deny=[\"panicking\"]".into()],
            Some("denied by `plugin_policy.deny`"),
        ),
        (
            "not in the allow list",
            |_, _| vec!["-c".into(), "plugin_policy.allow=[\"stdio\"]".into()],
            Some("not in `plugin_policy.allow`"),
        ),
        (
            "denied by managed config",
            |home, _| {
                fs::write(
                    home.path().join("no-managed-config.toml"),
                    "[plugin_policy]\ndeny = [\"panicking\"]\n",
                )
                .unwrap();
                vec![]
            },
            Some("denied by `plugin_policy.deny`"),
        ),
        ("trusted", |_, _| vec![], None),
    ];
    for (case, setup, refusal) in cases {
        let home = Home::new();
        let dir = home.plugin_dir();
        let plugin = install_plugin(&built_library("test_plugin_panicking"), &dir, "panicking");
        let marker = home.path().join("opened-marker");
        let extra = setup(&home, &plugin);
        let output = home
            .codex()
            .args(["plugin", "list", "--json"])
            .args(&extra)
            .env("CODEX_TEST_PLUGIN_MARKER", &marker)
            .output()
            .unwrap();
        assert!(output.status.success(), "{case}: {}", stderr(&output));
        let list: Vec<Value> = serde_json::from_slice::<Value>(&output.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone();
        let found = entry(&list, "panicking");
        match refusal {
            Some(reason) => {
                assert_eq!(found["state"], "refused", "{case}: {found}");
                let why = found["reason"].as_str().unwrap_or_default();
                assert!(why.contains(reason), "{case}: `{why}` lacks `{reason}`");
                assert!(!marker.exists(), "{case}: the refused library was opened");
            }
            None => {
                assert_eq!(found["state"], "loaded", "{case}: {found}");
                assert!(
                    marker.exists(),
                    "{case}: the marker constructor did not run"
                );
            }
        }
    }
}

/// A home with the hanging test plugin installed, `servers` (TOML) in its
/// config and a `.credentials.json` holding one stored login; the bytes of
/// both files, to check afterwards that nothing on disk changed.
fn hanging_home(servers: &str) -> (Home, Vec<u8>, Vec<u8>) {
    let home = Home::new();
    install_plugin(
        &built_library("test_plugin_hanging"),
        &home.plugin_dir(),
        "hanging",
    );
    home.write_config(&format!("# kept as it is\n{servers}"));
    let credentials = home.path().join(".credentials.json");
    fs::write(
        &credentials,
        r#"{"docs|0123456789abcdef":{"server_name":"docs","server_url":"https://example.test/mcp","client_id":"codex-cli-client","access_token":"stored-token","expires_at":null,"refresh_token":null,"scopes":[]}}"#,
    )
    .unwrap();
    fs::set_permissions(&credentials, fs::Permissions::from_mode(0o600)).unwrap();
    let config = fs::read(home.config_path()).unwrap();
    let stored = fs::read(&credentials).unwrap();
    (home, config, stored)
}

fn files_unchanged(home: &Home, config: &[u8], stored: &[u8]) {
    assert_eq!(
        fs::read(home.config_path()).unwrap(),
        config,
        "the config file changed"
    );
    assert_eq!(
        fs::read(home.path().join(".credentials.json")).unwrap(),
        stored,
        "the credentials file changed"
    );
}

/// A server table on the hanging transport that hangs at `hang_at`.
fn hanging_server(name: &str, hang_at: &str) -> String {
    format!(
        "[mcp_servers.{name}]\ntransport = \"hanging\"\nargs = [\"{hang_at}\"]\nstartup_timeout_sec = 2\ntool_timeout_sec = 2\n"
    )
}

/// `codex mcp call NAME echo` in `home`; its output and how long it took.
fn call_echo(home: &Home, name: &str) -> (std::process::Output, std::time::Duration) {
    let started = std::time::Instant::now();
    let output = home
        .codex()
        .args(["mcp", "call", name, "echo", "--args", r#"{"message":"hi"}"#])
        .output()
        .unwrap();
    (output, started.elapsed())
}

/// The one error line a hung plugin call gets.
fn stuck_line(server: &str, call: &str, timeout_key: &str) -> String {
    format!(
        "error: MCP server `{server}`: the transport plugin `hanging` did not return from {call} within 2 s; \
         if it is only slow, raise `{timeout_key}` under [mcp_servers.{server}], otherwise the plugin is stuck \
         (`codex plugin info hanging` shows its file)"
    )
}

/// A plugin whose connect, or whose send of the first message or of the
/// tool call, never returns: the command fails after the configured timeout
/// with one line naming the plugin and the call, and ends although the
/// plugin's thread never comes back.
#[test]
fn a_plugin_call_that_never_returns_fails_after_the_timeout_naming_plugin_and_call() {
    for (hang_at, call, timeout_key) in [
        ("connect", "connect", "startup_timeout_sec"),
        ("send", "send", "startup_timeout_sec"),
        ("call", "send", "tool_timeout_sec"),
    ] {
        let (home, config, stored) = hanging_home(&hanging_server("stuck", hang_at));
        let (output, took) = call_echo(&home, "stuck");
        let errors = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{hang_at}: {errors}");
        assert_eq!(
            errors.trim_end(),
            stuck_line("stuck", call, timeout_key),
            "{hang_at}"
        );
        assert_eq!(stdout(&output), "", "{hang_at}");
        // The 2 s timeout, at most 1 s of grace at exit, and room for a
        // loaded machine; never the 120 s the harness allows.
        assert!(
            took >= std::time::Duration::from_secs(2),
            "{hang_at}: {took:?}"
        );
        assert!(
            took < std::time::Duration::from_secs(20),
            "{hang_at}: took {took:?}"
        );
        files_unchanged(&home, &config, &stored);
    }
}

/// The same plugin left healthy answers, so the failures above are the hangs.
#[test]
fn the_hanging_plugin_answers_when_told_not_to_hang() {
    let (home, config, stored) = hanging_home(&hanging_server("fine", "nowhere"));
    let (output, _) = call_echo(&home, "fine");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "echo: hi\n");
    assert_eq!(stderr(&output), "");
    files_unchanged(&home, &config, &stored);
}

/// A plugin whose close never returns: the tool's answer is printed, the
/// command succeeds with one warning once the close deadline (10 s) passes.
#[test]
fn a_plugin_whose_close_never_returns_delays_the_end_by_the_close_deadline_only() {
    let (home, config, stored) = hanging_home(&hanging_server("sticky", "close"));
    let (output, took) = call_echo(&home, "sticky");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "echo: hi\n");
    assert_eq!(
        stderr(&output).trim_end(),
        "warning: MCP server `sticky`: the transport plugin `hanging` did not return from close within 10 s; went on without it"
    );
    assert!(took >= std::time::Duration::from_secs(10), "{took:?}");
    assert!(took < std::time::Duration::from_secs(30), "took {took:?}");
    files_unchanged(&home, &config, &stored);
}

/// Several servers hanging in different plugin calls at once, next to a
/// healthy one: every hung server fails alone, the healthy one lists, and
/// the command ends in bounded time. Two sends stuck at once would hold both
/// runtime threads if sends of a plugin that is not bundled ran on them.
#[test]
fn hung_plugin_calls_on_several_servers_fail_alone_and_the_listing_ends() {
    let demo = codex_test_support::demo_server();
    let (home, config, stored) = hanging_home(
        &(hanging_server("a", "send")
            + &hanging_server("b", "send")
            + &hanging_server("c", "connect")
            + &hanging_server("d", "send")
            + &format!("[mcp_servers.demo]\ncommand = \"{}\"\n", demo.display())),
    );
    let started = std::time::Instant::now();
    let output = home
        .codex()
        .args(["mcp", "tools", "--json"])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let servers = report["servers"].as_array().unwrap();
    for (name, call) in [
        ("a", "send"),
        ("b", "send"),
        ("c", "connect"),
        ("d", "send"),
    ] {
        let server = servers.iter().find(|s| s["name"] == name).unwrap();
        assert_eq!(server["status"], "error", "{server}");
        let error = server["error"].as_str().unwrap();
        assert!(
            error.contains(&format!(
                "the transport plugin `hanging` did not return from {call} within 2 s"
            )),
            "{name}: {error}"
        );
    }
    let demo = servers.iter().find(|s| s["name"] == "demo").unwrap();
    assert_eq!(demo["status"], "ok", "{demo}");
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
    files_unchanged(&home, &config, &stored);
}

/// A home whose CLI login is kept by the hanging plugin's credential
/// backend, stopping at `hang` (`setup`, `load`, `store`, `delete`), with
/// the host told to wait 1 s (plus its grace) for it.
fn hanging_store_home(hang: &str) -> (Home, Vec<u8>) {
    let home = Home::new();
    install_plugin(
        &built_library("test_plugin_hanging"),
        &home.plugin_dir(),
        "hanging",
    );
    home.write_config(&format!(
        "cli_auth_credentials_store = \"stuck-vault\"\n\
         [credential_backends.stuck-vault]\nbackend = \"hanging\"\nhang = \"{hang}\"\ntimeout_secs = 1\n"
    ));
    let config = fs::read(home.config_path()).unwrap();
    (home, config)
}

/// A credential backend that never returns from its set-up or from a read,
/// write or delete: the command fails after the store's `timeout_secs` and
/// the host's grace, with one line naming the store and the call, and ends
/// although the plugin's thread never comes back.
#[test]
fn a_credential_backend_that_never_returns_fails_after_its_timeout() {
    let key = "sk-proj-0123456789abcdefghijklmnopqrstuvwxyzABCD";
    for (hang, args, input, what) in [
        ("setup", &["login", "status"][..], None, "its set-up"),
        ("load", &["login", "status"][..], None, "a read"),
        (
            "store",
            &["login", "--with-api-key"][..],
            Some(key),
            "a write",
        ),
        ("delete", &["logout"][..], None, "a delete"),
    ] {
        let (home, config) = hanging_store_home(hang);
        let started = std::time::Instant::now();
        let mut command = home.codex();
        command.args(args);
        if let Some(input) = input {
            command.write_stdin(input);
        }
        let output = command.output().unwrap();
        let took = started.elapsed();
        let errors = stderr(&output);
        assert_ne!(output.status.code(), Some(0), "{hang}: {errors}");
        let expected = format!(
            "credential store `stuck-vault` (from `cli_auth_credentials_store`): the backend did \
             not answer {what} within 6 s; check the program or service behind it \
             (`timeout_secs` under [credential_backends.stuck-vault] sets how long to wait)"
        );
        assert!(errors.contains(&expected), "{hang}: {errors}");
        assert_eq!(errors.lines().count(), 1, "{hang}: {errors}");
        assert!(!errors.contains(key) && !stdout(&output).contains(key));
        // 1 s of timeout_secs and 5 s of grace; never the harness's 120 s.
        assert!(
            took >= std::time::Duration::from_secs(6),
            "{hang}: {took:?}"
        );
        assert!(
            took < std::time::Duration::from_secs(30),
            "{hang}: {took:?}"
        );
        assert_eq!(fs::read(home.config_path()).unwrap(), config, "{hang}");
    }
}
