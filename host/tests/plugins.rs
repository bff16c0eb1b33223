//! The plugin loader, through `codex plugin list|info` and real libraries.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use common::{Home, built_library, install_plugin, stderr, stdout};
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
    let demo = common::demo_server();
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
                    format!("plugins.sha256.panicking=\"{}\"", "0".repeat(64)),
                ]
            },
            Some("does not match the pin `plugins.sha256.panicking`"),
        ),
        (
            "denied on the command line",
            |_, _| vec!["-c".into(), "plugins.deny=[\"panicking\"]".into()],
            Some("denied by `plugins.deny`"),
        ),
        (
            "not in the allow list",
            |_, _| vec!["-c".into(), "plugins.allow=[\"stdio\"]".into()],
            Some("not in `plugins.allow`"),
        ),
        (
            "denied by managed config",
            |home, _| {
                fs::write(
                    home.path().join("no-managed-config.toml"),
                    "[plugins]\ndeny = [\"panicking\"]\n",
                )
                .unwrap();
                vec![]
            },
            Some("denied by `plugins.deny`"),
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
