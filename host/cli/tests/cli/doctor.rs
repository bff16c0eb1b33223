//! `codex doctor`: a healthy home, and one broken part at a time, each named
//! with its fix and failing the exit status.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use codex_test_support::{Home, built_library, demo_server, install_plugin, stderr, stdout};
use serde_json::Value;

/// No session bus: no Secret Service is reachable, whatever the machine has.
fn without_keyring(command: &mut assert_cmd::Command, dir: &Path) {
    command
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", dir.join("no-bus").display()),
        )
        .env("XDG_RUNTIME_DIR", dir);
}

fn doctor(home: &Home, json: bool) -> Output {
    let mut command = home.codex();
    command.arg("doctor").current_dir(home.path());
    if json {
        command.arg("--json");
    }
    without_keyring(&mut command, home.path());
    command.output().unwrap()
}

fn doctor_json(home: &Home) -> (Output, Value) {
    let output = doctor(home, true);
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}{}", stdout(&output), stderr(&output)));
    (output, report)
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["id"] == id)
        .unwrap_or_else(|| panic!("no check `{id}` in {report:#}"))
}

fn demo_config() -> String {
    format!(
        "[mcp_servers.demo]\ncommand = {:?}\nargs = [\"--name\", \"demo\"]\n",
        demo_server().display().to_string()
    )
}

#[test]
fn a_healthy_home_passes_with_every_part_listed() {
    let home = Home::new();
    home.write_config(&format!(
        "# the demo\n{}\n[mcp_servers.off]\ncommand = \"/nonexistent\"\nenabled = false\n",
        demo_config()
    ));
    let (output, report) = doctor_json(&home);
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    assert_ne!(report["overall_status"], "fail");
    assert_eq!(report["schema_version"], 1);

    assert_eq!(check(&report, "config.user")["status"], "ok");
    assert_eq!(check(&report, "plugins.stdio")["status"], "ok");
    let demo = check(&report, "mcp.demo");
    assert_eq!(demo["status"], "ok", "{demo:#}");
    assert_eq!(demo["summary"], "demo: answers initialize");
    assert_eq!(demo["details"]["auth"], "Unsupported");
    assert_eq!(check(&report, "mcp.off")["summary"], "off: disabled");
    // `auto` without a keyring: the file store is chosen, with a warning.
    let store = check(&report, "credentials.mcp_oauth_credentials_store");
    assert_eq!(store["status"], "warning", "{store:#}");
    assert_eq!(store["details"]["chosen"], "file");
    assert!(store["remediation"].is_string());
    let cli = check(&report, "credentials.cli_auth_credentials_store");
    assert_eq!(cli["status"], "ok", "{cli:#}");
    assert!(check(&report, "sandbox.kernel")["details"]["seccomp"].is_string());

    let text = doctor(&home, false);
    assert!(text.status.success());
    let text = stdout(&text);
    for line in [
        "Configuration",
        "Plugins",
        "Credential stores",
        "MCP servers",
        "Sandbox",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
    assert!(text.contains("✓ demo: answers initialize"), "{text}");
    assert!(text.contains("0 problems"), "{text}");
}

#[test]
fn a_config_that_does_not_parse_is_named_with_its_line() {
    let home = Home::new();
    home.write_config("model = \"o3\"\n[mcp_servers.demo\ncommand = \"x\"\n");
    let (output, report) = doctor_json(&home);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(report["overall_status"], "fail");
    let user = check(&report, "config.user");
    assert_eq!(user["status"], "fail");
    let summary = user["summary"].as_str().unwrap();
    let file = home.config_path();
    assert!(
        summary.starts_with(&format!("{}:2:", file.display())),
        "file:line: {summary}"
    );
    assert!(user["remediation"].as_str().unwrap().contains("fix"));

    let text = stdout(&doctor(&home, false));
    assert!(text.contains("To fix"), "{text}");
    assert!(text.contains(&format!("{}:2:", file.display())), "{text}");
}

#[test]
fn a_refused_plugin_is_named_with_why() {
    let home = Home::new();
    let dir = home.plugin_dir();
    let plugin = install_plugin(&built_library("test_plugin_featureful"), &dir, "featureful");
    fs::set_permissions(&plugin, fs::Permissions::from_mode(0o666)).unwrap();
    let (output, report) = doctor_json(&home);
    assert_eq!(output.status.code(), Some(1), "{report:#}");
    let refused = check(&report, "plugins.featureful");
    assert_eq!(refused["status"], "fail");
    assert!(
        refused["summary"]
            .as_str()
            .unwrap()
            .contains("writable by its group"),
        "{refused:#}"
    );
    assert_eq!(refused["details"]["path"], plugin.display().to_string());
}

#[test]
fn an_unreachable_store_is_a_problem_when_nothing_else_answers() {
    let home = Home::new();
    home.write_config("mcp_oauth_credentials_store = \"keyring\"\n");
    let (output, report) = doctor_json(&home);
    assert_eq!(output.status.code(), Some(1), "{report:#}");
    let store = check(&report, "credentials.mcp_oauth_credentials_store");
    assert_eq!(store["status"], "fail", "{store:#}");
    assert!(
        store["summary"]
            .as_str()
            .unwrap()
            .contains("`keyring` does not answer"),
        "{store:#}"
    );
    assert!(
        store["details"]["store keyring"]
            .as_str()
            .unwrap()
            .contains("Secret Service"),
        "{store:#}"
    );
    assert!(
        store["remediation"]
            .as_str()
            .unwrap()
            .contains("mcp_oauth_credentials_store")
    );
}

#[test]
fn a_server_that_does_not_start_is_named_with_its_fix() {
    let home = Home::new();
    home.write_config(&format!(
        "{}\n[mcp_servers.gone]\ncommand = \"/nonexistent/mcp-server\"\n",
        demo_config()
    ));
    let (output, report) = doctor_json(&home);
    assert_eq!(output.status.code(), Some(1), "{report:#}");
    assert_eq!(check(&report, "mcp.demo")["status"], "ok");
    let gone = check(&report, "mcp.gone");
    assert_eq!(gone["status"], "fail");
    assert!(
        gone["summary"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/mcp-server"),
        "{gone:#}"
    );
    assert!(
        gone["remediation"]
            .as_str()
            .unwrap()
            .contains("codex mcp disable gone")
    );
    let text = stdout(&doctor(&home, false));
    assert!(text.contains("✗ mcp.gone: gone: does not start"), "{text}");
    assert!(text.contains("1 problem\n"), "{text}");
}
