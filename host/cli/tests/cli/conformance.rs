//! The official MCP conformance suite's client scenarios, driving the real
//! `codex` binary through tests/conformance/run.sh (auth scenarios run the
//! user's flow with a scripted `$BROWSER` and no terminal: `mcp add`
//! logging in by itself, with `--oauth-client-id` where the scenario
//! pre-registers a client, then `mcp tools` and `mcp call`, never
//! `--login`; see tests/conformance/client.sh).

use std::process::Command;
use std::sync::{Mutex, PoisonError};

/// One suite at a time (`cargo test` runs the tests of a file at once;
/// nextest is told the same in .config/nextest.toml): a suite starts all of
/// its scenarios together, each with a 30 s limit.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs tests/conformance/run.sh with `args` after the binary.
fn run(args: &[&str]) -> std::process::Output {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let script = codex_test_support::workspace_root().join("tests/conformance/run.sh");
    Command::new("bash")
        .arg(&script)
        .arg(codex_test_support::codex_bin())
        .args(args)
        .output()
        .expect("run tests/conformance/run.sh")
}

fn run_scenarios(scenarios: &[&str]) {
    let output = run(scenarios);
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
    run_scenarios(&[
        "initialize",
        "tools_call",
        "sse-retry",
        "elicitation-sep1034-client-defaults",
    ]);
}

/// `mcp add` finds OAuth where only the challenge to the POST of
/// `initialize` names the metadata (GET is 404; client.sh fails the
/// scenario when `mcp add` did not log in), and logs in with the client
/// the scenario pre-registered, given as `--oauth-client-id` and
/// `--oauth-client-secret-stdin`.
#[test]
fn mcp_add_detects_oauth_from_the_post_challenge_and_uses_a_preregistered_client() {
    run_scenarios(&["auth/metadata-var3", "auth/pre-registration"]);
}

/// The logins without a browser: the client-credentials grant with the
/// secret on stdin (`client_secret_basic`) and with a private key
/// (`private_key_jwt`, ES256), and enterprise-managed authorization (the
/// ID token exchanged at the identity provider for an ID-JAG, that for an
/// access token); each then lists the tools and calls one with the token.
#[test]
fn logins_without_a_browser_pass_the_client_credentials_and_cross_app_scenarios() {
    run_scenarios(&[
        "auth/client-credentials-basic",
        "auth/client-credentials-jwt",
        "auth/cross-app-access-complete-flow",
    ]);
}

/// Every scenario of `--suite auth` at 2025-11-25 (metadata discovery,
/// CIMD, scope selection and step-up, token endpoint authentication,
/// pre-registration), with no expected failure among them.
#[test]
fn auth_suite_at_2025_11_25_passes_every_scenario() {
    let output = run(&["--suite", "auth", "--spec-version", "2025-11-25"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Total: ") && stdout.contains(" 0 failed, 0 warnings"),
        "{stdout}"
    );
    for scenario in [
        "auth/metadata-default",
        "auth/metadata-var3",
        "auth/basic-cimd",
        "auth/scope-step-up",
        "auth/scope-retry-limit",
        "auth/token-endpoint-auth-basic",
        "auth/pre-registration",
    ] {
        assert!(
            stdout.contains(&format!("✓ {scenario}:")),
            "{scenario}:\n{stdout}"
        );
    }
    assert!(!stdout.contains("Expected failures"), "{stdout}");
}

/// Every client scenario of the suite (backcompat, draft and extensions
/// too) passes, or fails as tests/conformance/expected-failures.yml says;
/// the suite also fails the run when a listed scenario passes.
#[test]
fn every_client_scenario_passes_or_is_an_expected_failure() {
    let output = run(&["--suite", "all"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for scenario in [
        "auth/2025-03-26-oauth-endpoint-fallback",
        "auth/resource-mismatch",
        "auth/offline-access-scope",
    ] {
        assert!(
            stdout.contains(&format!("✓ {scenario}:")),
            "{scenario}:\n{stdout}"
        );
    }
}
