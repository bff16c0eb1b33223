//! `mcp add` with Codex 0.169's OAuth flags, both ways: what one binary
//! writes (`oauth_resource`, `[mcp_servers.NAME.oauth]`), the other reads
//! the same; both write the same file; the same usage errors exit 2.

use codex_test_support::{stderr, stdout};

use super::{Binary, Case, Codex, Ours, Shared, run_cases};

/// Nothing listens there: both binaries add the server and say that it may
/// need a login, without starting one.
const URL: &str = "http://127.0.0.1:1/mcp";
/// What Codex writes for [`URL`] (the callback ID is its URL's hash).
const CALLBACK_URL: &str = "http://127.0.0.1/callback/4ncvuG_qJEiw";

const ADD_CLIENT: &[&str] = &[
    "mcp",
    "add",
    "corp",
    "--url",
    URL,
    "--oauth-client-id",
    "codex-cli",
    "--oauth-client-secret",
    "s3cret",
    "--oauth-resource",
    "https://res.example",
];
const ADD_PUBLIC_CLIENT: &[&str] = &[
    "mcp",
    "add",
    "pub",
    "--url",
    URL,
    "--oauth-client-id",
    "public-id",
    "--oauth-client-registration",
    "dcr",
];
const ADD_RESOURCE_ONLY: &[&str] = &[
    "mcp",
    "add",
    "res",
    "--url",
    URL,
    "--oauth-resource",
    "https://r",
    "--oauth-client-registration",
    "cimd",
];

/// `args` run by `who` on a fresh home: its config.toml and standard output.
fn written_by(who: Binary, args: &[&str]) -> (String, String) {
    let shared = Shared::new();
    let output = shared.run(who, args);
    (shared.home.read_config(), stdout(&output))
}

/// Both binaries describe every server alike, and the secret shows in no
/// output of ours.
fn read_alike(shared: &Shared) {
    for name in ["corp", "pub", "res"] {
        shared.same_mcp_get(name);
    }
    // Ours takes the `[oauth]` table without a word.
    shared.quiet(Ours, &["config", "show"]);
    for args in [
        &["mcp", "get", "corp", "--json"][..],
        &["mcp", "list", "--json"],
        &["mcp", "get", "corp"],
        &["config", "show"],
    ] {
        let output = shared.run(Ours, args);
        assert!(
            !stdout(&output).contains("s3cret") && !stderr(&output).contains("s3cret"),
            "{args:?} shows the client secret"
        );
    }
    let shown = stdout(&shared.run(Ours, &["config", "show"]));
    assert!(
        shown.contains("[mcp_servers.corp.oauth]") && shown.contains("client_secret = \"*****\""),
        "{shown}"
    );
}

const CASES: &[Case] = &[
    Case {
        name: "OAuth flags of mcp add: ours writes, Codex reads",
        config: "",
        steps: &[
            (Ours, ADD_CLIENT),
            (Ours, ADD_PUBLIC_CLIENT),
            (Ours, ADD_RESOURCE_ONLY),
        ],
        check: read_alike,
    },
    Case {
        name: "OAuth flags of mcp add: Codex writes, ours reads",
        config: "",
        steps: &[
            (Codex, ADD_CLIENT),
            (Codex, ADD_PUBLIC_CLIENT),
            (Codex, ADD_RESOURCE_ONLY),
        ],
        check: read_alike,
    },
];

#[test]
fn oauth_flags_of_mcp_add_read_the_same_both_ways() {
    run_cases(CASES);
}

/// Byte for byte the file Codex writes, and its `OAuth callback URL:` line.
#[test]
fn mcp_add_with_oauth_flags_writes_what_codex_writes() {
    for args in [ADD_CLIENT, ADD_PUBLIC_CLIENT, ADD_RESOURCE_ONLY] {
        let (ours, ours_out) = written_by(Ours, args);
        let (theirs, theirs_out) = written_by(Codex, args);
        assert_eq!(ours, theirs, "{args:?}");
        let callback = |out: &str| {
            out.lines()
                .any(|l| l == format!("OAuth callback URL: {CALLBACK_URL}"))
        };
        assert_eq!(
            callback(&ours_out),
            callback(&theirs_out),
            "{args:?}: {ours_out} / {theirs_out}"
        );
    }
    let (written, _) = written_by(Codex, ADD_CLIENT);
    assert!(written.contains("[mcp_servers.corp.oauth]"), "{written}");
    assert!(
        written.contains(&format!("callback_url = \"{CALLBACK_URL}\"")),
        "{written}"
    );
}

/// The secret piped in instead of given on the command line: the same file
/// as Codex's `--oauth-client-secret`, and Codex reads it.
#[test]
fn a_client_secret_from_stdin_is_written_as_codex_writes_the_flag() {
    let (theirs, _) = written_by(Codex, ADD_CLIENT);
    let shared = Shared::new();
    let mut command = shared.command(Ours);
    command
        .args([
            "mcp",
            "add",
            "corp",
            "--url",
            URL,
            "--oauth-client-id",
            "codex-cli",
            "--oauth-client-secret-stdin",
            "--oauth-resource",
            "https://res.example",
        ])
        .write_stdin("s3cret\n");
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stderr(&output).contains("s3cret"));
    assert!(
        !stderr(&output).contains("process list"),
        "{}",
        stderr(&output)
    );
    assert_eq!(shared.home.read_config(), theirs);
    shared.same_mcp_get("corp");
}

/// Codex's usage errors (exit 2), and the config is left alone by both.
#[test]
fn mcp_add_usage_errors_exit_2_in_both() {
    let cases: &[&[&str]] = &[
        &[
            "mcp",
            "add",
            "s",
            "--bearer-token-env-var",
            "T",
            "--",
            "echo",
            "hi",
        ],
        &["mcp", "add", "s", "--env", "NOEQ", "--", "echo", "hi"],
        &[
            "mcp",
            "add",
            "s",
            "--oauth-client-id",
            "x",
            "--",
            "echo",
            "hi",
        ],
        &[
            "mcp",
            "add",
            "s",
            "--url",
            URL,
            "--oauth-client-secret",
            "only",
        ],
        &[
            "mcp",
            "add",
            "s",
            "--url",
            URL,
            "--oauth-client-registration",
            "magic",
        ],
    ];
    let mut differ = Vec::new();
    for args in cases {
        for who in [Ours, Codex] {
            let shared = Shared::new();
            shared.home.write_config("# mine\n");
            let output = shared.output(who, args);
            if output.status.code() != Some(2) || shared.home.read_config() != "# mine\n" {
                differ.push(format!(
                    "{who:?} {args:?}: exit {:?}\n{}",
                    output.status.code(),
                    stderr(&output)
                ));
            }
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// A server that cannot be asked whether it wants OAuth: both say, in
/// Codex's words, that it may need `codex mcp login NAME`.
#[test]
fn an_unreachable_server_may_need_a_login_in_both() {
    let line = "MCP server may or may not require login. Run `codex mcp login far` to login.";
    for who in [Ours, Codex] {
        let shared = Shared::new();
        let output = shared.run(who, &["mcp", "add", "far", "--url", URL]);
        let all = format!("{}{}", stdout(&output), stderr(&output));
        assert!(all.contains(line), "{who:?}: {all}");
    }
}
