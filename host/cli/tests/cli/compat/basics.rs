//! Servers and features written by one binary, read the same by the other.

use super::{Case, Codex, Ours, Shared, run_cases};

fn lists_and_features(shared: &Shared) {
    shared.same_mcp_list();
    shared.same_features(&[]);
}

const ADD_STDIO: &[&str] = &[
    "mcp",
    "add",
    "tools",
    "--env",
    "API_TOKEN=sekrit",
    "--env",
    "MODE=fast",
    "--",
    "node",
    "server.js",
    "--stdio",
];
const ADD_HTTP: &[&str] = &[
    "mcp",
    "add",
    "docs",
    "--url",
    "http://127.0.0.1:9/mcp",
    "--bearer-token-env-var",
    "DOCS_TOKEN",
];

const CASES: &[Case] = &[
    Case {
        name: "servers and features we write, Codex reads",
        config: "",
        steps: &[
            (Ours, ADD_STDIO),
            (Ours, ADD_HTTP),
            (Ours, &["features", "enable", "memories"]),
            (Ours, &["features", "enable", "web_search_cached"]),
            (Ours, &["features", "disable", "apps"]),
            (Ours, &["features", "disable", "shell_snapshot"]),
        ],
        check: |shared| {
            lists_and_features(shared);
            shared.same_mcp_get("tools");
            shared.same_mcp_get("docs");
            let theirs = shared.features(Codex, &[]);
            for (key, value) in [
                ("memories", true),
                ("apps", false),
                ("shell_snapshot", false),
            ] {
                assert_eq!(theirs.get(key), Some(&value), "Codex sees {key}");
            }
        },
    },
    Case {
        name: "servers and features Codex writes, we read",
        config: "",
        steps: &[
            (Codex, ADD_STDIO),
            (Codex, ADD_HTTP),
            (Codex, &["features", "enable", "memories"]),
            (Codex, &["features", "disable", "apps"]),
        ],
        check: |shared| {
            lists_and_features(shared);
            shared.same_mcp_get("tools");
            let ours = shared.features(Ours, &[]);
            assert_eq!(ours.get("memories"), Some(&true));
            assert_eq!(ours.get("apps"), Some(&false));
        },
    },
    Case {
        name: "what Codex wrote we edit, and Codex still reads",
        config: "",
        steps: &[
            (Codex, ADD_STDIO),
            (Codex, ADD_HTTP),
            (Ours, &["mcp", "remove", "docs"]),
        ],
        check: |shared| {
            shared.same_mcp_list();
            assert_eq!(shared.mcp_list(Codex).as_array().unwrap().len(), 1);
        },
    },
];

#[test]
fn basics() {
    run_cases(CASES);
}
