//! The config both binaries share: Codex's `[plugins]` entries beside our
//! plugin policy, Codex 0.169's profile files, its server names and its
//! features, each written by one binary and read the same by the other.

use std::fs;

use codex_test_support::stderr;

use super::{Case, Codex, Ours, Shared, run_cases, written_by_each};

/// A local marketplace with one plugin, as `codex plugin marketplace add`
/// takes it; returns its directory.
fn marketplace(shared: &Shared) -> String {
    let root = shared.home.path().join("mkt-src");
    fs::create_dir_all(root.join(".agents/plugins")).unwrap();
    fs::create_dir_all(root.join("plugins/demo/.codex-plugin")).unwrap();
    fs::write(
        root.join(".agents/plugins/marketplace.json"),
        r#"{"name":"mkt","plugins":[{"name":"demo","source":{"source":"local","path":"./plugins/demo"}}]}"#,
    )
    .unwrap();
    fs::write(
        root.join("plugins/demo/.codex-plugin/plugin.json"),
        r#"{"name":"demo","version":"0.1.0","description":"A demo"}"#,
    )
    .unwrap();
    root.display().to_string()
}

fn write_profile(shared: &Shared, name: &str, text: &str) {
    fs::write(shared.home.path().join(format!("{name}.config.toml")), text).unwrap();
}

const SERVERS: &str = "[mcp_servers.base]\ncommand = \"base-server\"\n";

const CASES: &[Case] = &[
    Case {
        name: "Codex's marketplace plugins pass through ours without a word",
        config: SERVERS,
        steps: &[],
        check: |shared| {
            let source = marketplace(shared);
            shared.run(Codex, &["plugin", "marketplace", "add", &source]);
            shared.run(Codex, &["plugin", "add", "demo@mkt"]);
            assert!(shared.home.read_config().contains("[plugins.\"demo@mkt\"]"));
            for args in [
                &["features", "list"][..],
                &["plugin", "list"],
                &["mcp", "list"],
                &["login", "status"],
                &["config", "show"],
            ] {
                let output = shared.output(Ours, args);
                // `login status` says "Not logged in" (exit 1) here; nothing
                // may fail or warn about the config.
                let err = stderr(&output);
                assert!(
                    output.status.code() == Some(0) || err == "Not logged in\n",
                    "{args:?}: {err}"
                );
                assert!(
                    !err.contains("warning") && !err.contains("error"),
                    "{args:?}: {err}"
                );
            }
            shared.same_mcp_list();
        },
    },
    Case {
        name: "our plugin policy does not stop Codex",
        config: "plugin_dirs = [\"/opt/none\"]\n[plugin_policy]\ndeny = [\"panicking\"]\n[plugin_policy.sha256]\nstdio = \"0000000000000000000000000000000000000000000000000000000000000000\"\n[mcp_servers.base]\ncommand = \"base-server\"\n",
        steps: &[(Codex, &["mcp", "list"]), (Codex, &["features", "list"])],
        check: |shared| {
            shared.same_mcp_list();
            let listed = shared.json(Ours, &["plugin", "list", "--json"]);
            let stdio = listed
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == "stdio")
                .unwrap()
                .clone();
            assert!(
                stdio.to_string().contains("plugin_policy.sha256.stdio"),
                "the pin applies: {stdio}"
            );
        },
    },
    Case {
        name: "the old [plugins] policy still applies, with a warning saying where it goes",
        config: "[plugins]\ndeny = [\"panicking\"]\n",
        steps: &[],
        check: |shared| {
            let output = shared.run(Ours, &["plugin", "list"]);
            let warning = stderr(&output);
            assert!(
                warning.contains("`plugins.deny` (at ") && warning.contains("[plugin_policy]"),
                "{warning}"
            );
            assert_eq!(warning.lines().count(), 1, "{warning}");
        },
    },
    Case {
        name: "a profile file: both layer it over the user config",
        config: SERVERS,
        steps: &[],
        check: |shared| {
            write_profile(
                shared,
                "work",
                "[mcp_servers.extra]\nurl = \"http://127.0.0.1:9/mcp\"\n[features]\nmemories = true\n",
            );
            let ours = shared.mcp_list_with(Ours, &["-p", "work"]);
            assert_eq!(ours, shared.mcp_list_with(Codex, &["-p", "work"]));
            assert_eq!(ours.as_array().unwrap().len(), 2);
            shared.quiet(Ours, &["-p", "work", "mcp", "list"]);
        },
    },
    Case {
        name: "features enable -p P writes the profile's file, which Codex reads",
        config: SERVERS,
        steps: &[
            (Ours, &["-p", "work", "features", "enable", "memories"]),
            (
                Ours,
                &["mcp", "add", "-p", "work", "later", "--", "later-server"],
            ),
        ],
        check: |shared| {
            let profile = fs::read_to_string(shared.home.path().join("work.config.toml")).unwrap();
            assert_eq!(profile, "[features]\nmemories = true\n");
            assert!(!shared.home.read_config().contains("profiles"));
            // `mcp add -p P` writes the user file, as Codex's does.
            assert!(shared.home.read_config().contains("[mcp_servers.later]"));
            assert_eq!(
                shared.mcp_list_with(Ours, &["-p", "work"]),
                shared.mcp_list_with(Codex, &["-p", "work"])
            );
        },
    },
    Case {
        name: "migrate-profiles turns legacy tables into files Codex takes",
        config: "profile = \"work\"\n[mcp_servers.base]\ncommand = \"base-server\"\n[profiles.work]\nmodel = \"o3\"\n[profiles.work.mcp_servers.extra]\ncommand = \"extra-server\"\n",
        steps: &[(Ours, &["config", "migrate-profiles"])],
        check: |shared| {
            assert!(!shared.home.read_config().contains("profile"));
            let theirs = shared.mcp_list_with(Codex, &["-p", "work"]);
            assert_eq!(theirs.as_array().unwrap().len(), 2, "{theirs}");
            assert_eq!(theirs, shared.mcp_list_with(Ours, &["-p", "work"]));
            shared.quiet(Ours, &["-p", "work", "mcp", "list"]);
        },
    },
    Case {
        name: "a server name with : @ / . that Codex adds, we list, get and remove",
        config: "",
        steps: &[(
            Codex,
            &["mcp", "add", "npm:@scope/pkg.v1", "--", "npx", "pkg"],
        )],
        check: |shared| {
            shared.same_mcp_list();
            shared.same_mcp_get("npm:@scope/pkg.v1");
            shared.run(Ours, &["mcp", "remove", "npm:@scope/pkg.v1"]);
            assert_eq!(shared.mcp_list(Codex), serde_json::json!([]));
        },
    },
    Case {
        name: "a server name with : @ / . that we add, Codex reads",
        config: "",
        steps: &[(
            Ours,
            &["mcp", "add", "npm:@scope/pkg.v1", "--", "npx", "pkg"],
        )],
        check: |shared| {
            shared.same_mcp_list();
            shared.same_mcp_get("npm:@scope/pkg.v1");
        },
    },
    Case {
        name: "a name Codex's add refuses but a file holds: both list it, ours removes it",
        config: "[mcp_servers.\"odd name\"]\ncommand = \"x\"\n",
        steps: &[],
        check: |shared| {
            shared.same_mcp_list();
            let output = shared.output(Ours, &["mcp", "add", "odd name2", "--", "x"]);
            assert!(
                stderr(&output).contains(
                    "invalid server name 'odd name2' (use letters, numbers, '-', '_', ':', '@', '/', '.')"
                ),
                "{}",
                stderr(&output)
            );
            shared.run(Ours, &["mcp", "remove", "odd name"]);
            assert_eq!(shared.mcp_list(Codex), serde_json::json!([]));
        },
    },
    Case {
        name: "every feature of a Codex config with legacy names, tables and removed keys",
        config: "experimental_use_unified_exec_tool = false\n[features]\ngoals = false\ncollab = false\nmemory_tool = true\nsqlite = false\njs_repl = true\ncode_mode = {}\n[features.multi_agent_v2]\nenabled = true\n",
        steps: &[],
        check: |shared| {
            shared.same_features(&[]);
            shared.quiet(Ours, &["features", "list"]);
            shared.quiet(Ours, &["--enable", "goals", "mcp", "list"]);
        },
    },
];

#[test]
fn config() {
    run_cases(CASES);
}

#[test]
fn feature_edits_write_what_codex_writes() {
    for steps in [
        &[&["features", "enable", "collab"][..]][..],
        &[
            &["features", "enable", "goals"],
            &["features", "disable", "memories"],
        ],
        &[
            &["features", "enable", "memories"],
            &["features", "disable", "memories"],
        ],
        &[
            &["features", "disable", "goals"],
            &["features", "enable", "telepathy"],
        ],
    ] {
        let (ours, theirs) = written_by_each("", steps);
        assert_eq!(ours, theirs, "{steps:?}");
    }
}
