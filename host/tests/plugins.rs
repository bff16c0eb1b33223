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
fn a_group_writable_plugin_is_refused_before_it_is_opened() {
    let home = Home::new();
    let dir = home.plugin_dir();
    let plugin = install_plugin(&built_library("test_plugin_panicking"), &dir, "panicking");
    let marker = home.path().join("opened-marker");

    fs::set_permissions(&plugin, fs::Permissions::from_mode(0o664)).unwrap();
    let output = home
        .codex()
        .args(["plugin", "list", "--json"])
        .env("CODEX_TEST_PLUGIN_MARKER", &marker)
        .output()
        .unwrap();
    let list: Vec<Value> = serde_json::from_slice::<Value>(&output.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone();
    let refused = entry(&list, "panicking");
    assert_eq!(refused["state"], "refused");
    assert!(
        refused["reason"]
            .as_str()
            .unwrap()
            .contains("writable by its group")
    );
    assert!(
        !marker.exists(),
        "a refused plugin was opened (its constructor ran)"
    );

    // The marker does work: the same library with safe permissions is opened.
    fs::set_permissions(&plugin, fs::Permissions::from_mode(0o644)).unwrap();
    let output = home
        .codex()
        .args(["plugin", "list", "--json"])
        .env("CODEX_TEST_PLUGIN_MARKER", &marker)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(
        marker.exists(),
        "the marker constructor did not run for a trusted plugin"
    );
}

#[test]
fn deny_lists_and_hash_pins_refuse_before_opening() {
    let home = Home::new();
    let dir = home.plugin_dir();
    install_plugin(&built_library("test_plugin_panicking"), &dir, "panicking");
    let marker = home.path().join("opened-marker");

    let denied = home
        .codex()
        .args([
            "plugin",
            "list",
            "--json",
            "-c",
            "plugins.deny=[\"panicking\"]",
        ])
        .env("CODEX_TEST_PLUGIN_MARKER", &marker)
        .output()
        .unwrap();
    let list: Vec<Value> = serde_json::from_slice::<Value>(&denied.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone();
    assert!(
        entry(&list, "panicking")["reason"]
            .as_str()
            .unwrap()
            .contains("plugins.deny")
    );
    assert!(!marker.exists());

    let pin = format!("plugins.sha256.panicking=\"{}\"", "0".repeat(64));
    let pinned = home
        .codex()
        .args(["plugin", "list", "--json", "-c", &pin])
        .env("CODEX_TEST_PLUGIN_MARKER", &marker)
        .output()
        .unwrap();
    let list: Vec<Value> = serde_json::from_slice::<Value>(&pinned.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone();
    let refused = entry(&list, "panicking");
    assert_eq!(refused["state"], "refused");
    assert!(
        refused["reason"]
            .as_str()
            .unwrap()
            .contains("does not match the pin")
    );
    assert!(!marker.exists());
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
