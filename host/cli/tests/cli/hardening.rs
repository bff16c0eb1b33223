//! The process protects itself before it does anything else (Linux).

use codex_test_support::{Home, stderr};
use serde_json::Value;

#[test]
fn codex_is_not_dumpable_has_no_core_files_and_drops_loader_variables() {
    let home = Home::new();
    // A variable the loader ignores for this binary but children would inherit.
    let output = home
        .codex()
        .args(["debug", "process-state"])
        .env("LD_CODEX_TEST_MARKER", "1")
        .env("LD_LIBRARY_PATH", "/nonexistent")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let state: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(state["dumpable"], false, "{state}");
    assert_eq!(state["core_limit"]["soft"], 0, "{state}");
    assert_eq!(state["core_limit"]["hard"], 0, "{state}");
    assert_eq!(state["loader_variables"], serde_json::json!([]), "{state}");
}

#[test]
fn stdio_servers_do_not_inherit_loader_variables() {
    let home = Home::new();
    // `env_vars` asks for the variable explicitly: it must still not arrive,
    // because codex removed it from its own environment first.
    home.write_config(
        "[mcp_servers.shell]\ncommand = \"sh\"\nargs = [\"-c\", \"echo \\\"LD_CODEX_TEST_MARKER=$LD_CODEX_TEST_MARKER\\\" >&2; exit 3\"]\nenv_vars = [\"LD_CODEX_TEST_MARKER\"]\n",
    );
    let output = home
        .codex()
        .args(["mcp", "tools", "shell"])
        .env("LD_CODEX_TEST_MARKER", "leaked")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("LD_CODEX_TEST_MARKER="), "{message}");
    assert!(!message.contains("leaked"), "{message}");
}
