//! The official MCP conformance suite's client scenarios, driving the real
//! `codex` binary through tests/conformance/run.sh.

mod common;

use std::path::Path;
use std::process::Command;

fn run_scenarios(scenarios: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/run.sh");
    let output = Command::new("bash")
        .arg(&script)
        .arg(common::codex_bin())
        .args(scenarios)
        .output()
        .expect("run tests/conformance/run.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "conformance scenarios failed:\n{stdout}\n{stderr}"
    );
    for scenario in scenarios {
        assert!(stdout.contains(&format!("PASS {scenario}")), "{stdout}");
    }
}

#[test]
fn streamable_http_client_scenarios_pass() {
    run_scenarios(&["initialize", "tools_call", "sse-retry"]);
}
