//! `codex mcp add|list|get|remove` through the binary, with a temporary CODEX_HOME.

use codex_test_support::{Home, stderr, stdout};
use serde_json::{Value, json};

#[test]
fn add_list_get_remove_round_trip_in_text_and_json() {
    let home = Home::new();
    let empty = home.codex().args(["mcp", "list"]).output().unwrap();
    assert!(empty.status.success());
    assert_eq!(
        stdout(&empty),
        "No MCP servers configured yet. Try `codex mcp add my-tool -- my-command`.\n"
    );

    let added = home
        .codex()
        .args([
            "mcp",
            "add",
            "docs",
            "--env",
            "API_KEY=sekrit-value",
            "--",
            "docs-server",
            "--port",
            "3",
        ])
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", stderr(&added));
    assert_eq!(stdout(&added), "Added global MCP server 'docs'.\n");
    let added = home
        .codex()
        .args([
            "mcp",
            "add",
            "remote",
            "--url",
            "https://mcp.example.com/mcp",
            "--bearer-token-env-var",
            "EXAMPLE_TOKEN",
        ])
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", stderr(&added));

    let list = home.codex().args(["mcp", "list"]).output().unwrap();
    let text = stdout(&list);
    assert!(text.contains("docs-server"), "{text}");
    assert!(text.contains("API_KEY=*****"), "{text}");
    assert!(
        text.contains("https://mcp.example.com/mcp") && text.contains("Bearer token"),
        "{text}"
    );

    let list = home
        .codex()
        .args(["mcp", "list", "--json"])
        .output()
        .unwrap();
    let servers: Value = serde_json::from_slice(&list.stdout).unwrap();
    let docs = &servers[0];
    assert_eq!(docs["name"], "docs");
    assert_eq!(docs["enabled"], true);
    assert_eq!(docs["transport"]["type"], "stdio");
    assert_eq!(docs["transport"]["command"], "docs-server");
    assert_eq!(docs["transport"]["args"], json!(["--port", "3"]));
    assert_eq!(docs["transport"]["env"], json!({"API_KEY": "*****"}));
    assert_eq!(docs["auth_status"], "unsupported");
    let remote = &servers[1];
    assert_eq!(remote["transport"]["type"], "streamable_http");
    assert_eq!(remote["transport"]["bearer_token_env_var"], "EXAMPLE_TOKEN");
    assert_eq!(remote["auth_status"], "bearer_token");

    let get = home.codex().args(["mcp", "get", "docs"]).output().unwrap();
    let text = stdout(&get);
    assert!(text.starts_with("docs\n  enabled: true\n"), "{text}");
    assert!(text.contains("  env: API_KEY=*****\n"), "{text}");
    assert!(text.contains("  remove: codex mcp remove docs\n"), "{text}");
    let get = home
        .codex()
        .args(["mcp", "get", "docs", "--json"])
        .output()
        .unwrap();
    let docs: Value = serde_json::from_slice(&get.stdout).unwrap();
    assert_eq!(docs["transport"]["env"], json!({"API_KEY": "*****"}));
    for output in [&list, &get] {
        assert!(
            !stdout(output).contains("sekrit-value"),
            "a secret leaked: {}",
            stdout(output)
        );
    }

    let missing = home.codex().args(["mcp", "get", "nope"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("No MCP server named 'nope' found."));

    let removed = home
        .codex()
        .args(["mcp", "remove", "docs"])
        .output()
        .unwrap();
    assert!(removed.status.success());
    assert_eq!(stdout(&removed), "Removed global MCP server 'docs'.\n");
    let again = home
        .codex()
        .args(["mcp", "remove", "docs"])
        .output()
        .unwrap();
    assert!(again.status.success());
    assert_eq!(stdout(&again), "No MCP server named 'docs' found.\n");
    assert!(!home.read_config().contains("docs"));
    assert!(home.read_config().contains("[mcp_servers.remote]"));
}

#[test]
fn an_existing_config_keeps_its_comments_and_order_after_add() {
    let home = Home::new();
    let original = "# my settings\nmodel = \"o3\"  # the model I like\n\n[features]\n# keep this\nunified_exec = true\n";
    home.write_config(original);
    let added = home
        .codex()
        .args(["mcp", "add", "demo", "--", "demo-server"])
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", stderr(&added));
    let text = home.read_config();
    assert!(
        text.starts_with(original),
        "the original text changed:\n{text}"
    );
    assert!(
        text.contains("[mcp_servers.demo]\ncommand = \"demo-server\""),
        "{text}"
    );

    let removed = home
        .codex()
        .args(["mcp", "remove", "demo"])
        .output()
        .unwrap();
    assert!(removed.status.success());
    assert_eq!(home.read_config().trim_end(), original.trim_end());
}

/// Runs `codex` with `args` and checks it fails with `expected` in stderr and
/// leaves config.toml byte-for-byte as it was.
fn fails_without_changes(home: &Home, args: &[&str], code: i32, expected: &str) {
    let before = std::fs::read(home.config_path()).ok();
    let output = home.codex().args(args).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(code),
        "{args:?}: {}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains(expected),
        "{args:?}: expected {expected:?} in:\n{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read(home.config_path()).ok(),
        before,
        "{args:?} changed config.toml"
    );
}

#[test]
fn bad_input_is_a_clear_error_and_changes_nothing() {
    let home = Home::new();
    home.write_config("# keep me\n[mcp_servers.ok]\ncommand = \"ok-server\"\n");

    fails_without_changes(
        &home,
        &["mcp", "add", "bad name", "--", "x"],
        1,
        "invalid server name 'bad name' (use letters, numbers, '-', '_', ':', '@', '/', '.')",
    );
    fails_without_changes(
        &home,
        &["mcp", "add", "e", "--env", "NOEQUALS", "--", "x"],
        2,
        "environment entries must be in KEY=VALUE form",
    );
    fails_without_changes(
        &home,
        &[
            "mcp",
            "add",
            "both",
            "--url",
            "http://127.0.0.1:1/mcp",
            "--",
            "x",
        ],
        2,
        "cannot be used with",
    );
    fails_without_changes(&home, &["mcp", "add", "nothing"], 2, "required");
    fails_without_changes(
        &home,
        &["mcp", "add", "x", "--command", "y"],
        2,
        "unexpected argument '--command' found",
    );

    // Mixed stdio/http fields in the file: every command that reads it fails, naming file:line:col.
    let config = home.config_path();
    home.write_config("[mcp_servers.mixed]\ncommand = \"x\"\nurl = \"http://127.0.0.1:1/mcp\"\n");
    fails_without_changes(&home, &["mcp", "list"], 1, "url is not supported for stdio");
    fails_without_changes(
        &home,
        &["mcp", "add", "new", "--", "x"],
        1,
        &format!("{}:", config.display()),
    );

    home.write_config(
        "[mcp_servers.inline]\nurl = \"http://127.0.0.1:1/mcp\"\nbearer_token = \"abc123\"\n",
    );
    fails_without_changes(
        &home,
        &["mcp", "list"],
        1,
        "mcp_servers.inline uses unsupported `bearer_token`; set `bearer_token_env_var`.",
    );
    let output = home.codex().args(["mcp", "list"]).output().unwrap();
    assert!(
        !stderr(&output).contains("abc123"),
        "the inline token leaked"
    );

    home.write_config("[mcp_servers.syntax]\ncommand = \"x\"\nargs = [\"a\",\n");
    fails_without_changes(
        &home,
        &["mcp", "list"],
        1,
        &format!("{}:3:", config.display()),
    );

    home.write_config("[mcp_servers.typed]\ncommand = \"x\"\nargs = \"not-a-list\"\n");
    fails_without_changes(
        &home,
        &["mcp", "add", "new", "--", "x"],
        1,
        &format!("{}:3:8", config.display()),
    );
    fails_without_changes(&home, &["mcp", "list"], 1, "mcp_servers.typed.args");
}

#[test]
fn config_overrides_apply_to_mcp_commands() {
    let home = Home::new();
    home.write_config("[mcp_servers.demo]\ncommand = \"demo-server\"\n");
    let output = home
        .codex()
        .args([
            "mcp",
            "get",
            "demo",
            "--json",
            "-c",
            "mcp_servers.demo.enabled=false",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let demo: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(demo["enabled"], false);
    // The override is for this run only.
    assert!(!home.read_config().contains("enabled"));
    fails_without_changes(
        &home,
        &["mcp", "list", "-c", "novalue"],
        1,
        "Invalid override (missing '='): novalue",
    );
}

#[test]
fn ten_processes_adding_twenty_servers_each_lose_none() {
    let home = Home::new();
    home.write_config("# shared by ten writers\n");
    let writers: Vec<_> = (0..10)
        .map(|writer| {
            let envs: Vec<(std::ffi::OsString, std::ffi::OsString)> = home
                .codex()
                .get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned())))
                .collect();
            std::thread::spawn(move || {
                for index in 0..20 {
                    let output = std::process::Command::new(codex_test_support::codex_bin())
                        .envs(envs.iter().cloned())
                        .args(["mcp", "add", &format!("w{writer}-s{index}"), "--", "server"])
                        .output()
                        .unwrap();
                    assert!(
                        output.status.success(),
                        "{}",
                        String::from_utf8_lossy(&output.stderr)
                    );
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let list = home
        .codex()
        .args(["mcp", "list", "--json"])
        .output()
        .unwrap();
    assert!(list.status.success(), "{}", stderr(&list));
    let servers: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(servers.as_array().unwrap().len(), 200);
    // The user's comment survives every rewrite.
    assert!(home.read_config().contains("# shared by ten writers\n"));
}

#[test]
fn add_with_headers_writes_them_and_every_output_masks_their_values() {
    let home = Home::new();
    let added = home
        .codex()
        .args([
            "mcp",
            "add",
            "web",
            "--url",
            "http://127.0.0.1:9/mcp",
            "--no-login",
        ])
        .args([
            "--header",
            "X-Team: secret-team-value",
            "--header",
            "X-Other:v2",
        ])
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", stderr(&added));
    let config: toml::Table = toml::from_str(&home.read_config()).unwrap();
    let headers = &config["mcp_servers"]["web"]["http_headers"];
    assert_eq!(headers["X-Team"].as_str(), Some("secret-team-value"));
    assert_eq!(headers["X-Other"].as_str(), Some("v2"));
    for args in [
        &["mcp", "get", "web", "--json"][..],
        &["mcp", "get", "web"],
        &["mcp", "list", "--json"],
        &["mcp", "list"],
    ] {
        let output = home.codex().args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        let text = format!("{}{}", stdout(&output), stderr(&output));
        assert!(
            !text.contains("secret-team-value"),
            "{args:?} shows a header value:\n{text}"
        );
        if args != ["mcp", "list"] {
            // Codex's text list has no header column.
            assert!(
                text.contains("X-Team"),
                "{args:?} names the header:\n{text}"
            );
        }
    }
    let bad = home
        .codex()
        .args([
            "mcp",
            "add",
            "bad",
            "--url",
            "http://127.0.0.1:9/mcp",
            "--header",
            "no colon",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    // The value is not repeated: a header value may be a secret.
    assert!(
        stderr(&bad).contains("invalid header: expected `NAME: VALUE` or `NAME=VALUE`"),
        "{}",
        stderr(&bad)
    );
    assert!(!home.read_config().contains("[mcp_servers.bad]"));
}

/// Every setting `mcp add` takes, written where the pinned Codex reads it.
#[test]
fn add_writes_every_setting_where_codex_reads_it() {
    let home = Home::new();
    let added = home
        .codex()
        .args([
            "mcp",
            "add",
            "api",
            "--url",
            "http://127.0.0.1:9/mcp",
            "--env-header",
            "X-Api-Key=API_KEY",
            "--header",
            "X-Team: blue",
            "--startup-timeout",
            "20",
            "--tool-timeout",
            "90.5",
            "--enabled-tools",
            "search,fetch",
            "--disabled-tools",
            "fetch",
            "--disabled",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", stderr(&added));
    let result: Value = serde_json::from_slice(&added.stdout).unwrap();
    assert_eq!(result["outcome"], "added");
    assert_eq!(result["scope"], "user");
    assert_eq!(result["file"], json!(home.config_path()));
    assert_eq!(result["server"]["enabled"], false);
    assert_eq!(result["server"]["tool_timeout_sec"], 90.5);
    assert_eq!(
        result["server"]["transport"]["http_headers"]["X-Team"],
        "*****"
    );
    assert!(
        !stdout(&added).contains("blue"),
        "a header value was printed"
    );

    let added = home
        .codex()
        .args([
            "mcp",
            "add",
            "lint",
            "--startup-timeout",
            "5",
            "--enabled-tools",
            "check",
            "--",
            "lint-server",
        ])
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", stderr(&added));

    let get = |name: &str| -> Value {
        let output = home
            .real_codex()
            .args(["mcp", "get", name, "--json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let api = get("api");
    assert_eq!(api["enabled"], false, "{api}");
    assert_eq!(api["startup_timeout_sec"], 20.0, "{api}");
    assert_eq!(api["tool_timeout_sec"], 90.5, "{api}");
    assert_eq!(api["enabled_tools"], json!(["search", "fetch"]), "{api}");
    assert_eq!(api["disabled_tools"], json!(["fetch"]), "{api}");
    assert_eq!(
        api["transport"]["env_http_headers"],
        json!({"X-Api-Key": "API_KEY"}),
        "{api}"
    );
    let lint = get("lint");
    assert_eq!(lint["startup_timeout_sec"], 5.0, "{lint}");
    assert_eq!(lint["enabled_tools"], json!(["check"]), "{lint}");
    assert_eq!(lint["enabled"], true, "{lint}");
}

#[test]
fn add_refuses_bad_settings_and_writes_nothing() {
    let home = Home::new();
    home.write_config("# mine\n");
    for (args, expected) in [
        (
            &["--startup-timeout", "0", "--", "srv"][..],
            "--startup-timeout must be a positive number of seconds",
        ),
        (
            &["--tool-timeout=-1", "--", "srv"][..],
            "--tool-timeout must be a positive number of seconds",
        ),
        (
            &["--enabled-tools", "a,,b", "--", "srv"][..],
            "--enabled-tools has an empty tool name",
        ),
        (
            &["--url", "http://127.0.0.1:9/mcp", "--env-header", "X-Key"][..],
            "--env-header takes NAME=ENV_VAR",
        ),
        (
            &["--url", "http://127.0.0.1:9/mcp", "--env-header", "X-Key="][..],
            "names no environment variable",
        ),
        (
            &[
                "--url",
                "http://127.0.0.1:9/mcp",
                "--env-header",
                "Bad Name=VAR",
            ][..],
            "is not a valid header name",
        ),
    ] {
        let output = home
            .codex()
            .args(["mcp", "add", "x"])
            .args(args)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?} was accepted");
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
        assert_eq!(home.read_config(), "# mine\n", "{args:?} wrote the config");
    }
}

/// `--scope project`: refused with the lines that trust the project until
/// they are in the user config; then only the project file changes, `mcp
/// list` says where the server comes from, and Codex sees it too.
#[test]
fn project_scope_needs_trust_and_writes_only_the_project_file() {
    let home = Home::new();
    let project = tempfile::tempdir().unwrap();
    let root = project.path().canonicalize().unwrap();
    // A real repository: Codex finds the project root (and its trust) by git.
    let init = std::process::Command::new("git")
        .args(["init", "-q"])
        .arg(&root)
        .status()
        .unwrap();
    assert!(init.success());
    let subdir = root.join("src");
    std::fs::create_dir(&subdir).unwrap();
    home.write_config("model = \"o3\" # mine\n");
    let add = || {
        let mut command = home.codex();
        command.current_dir(&subdir).args([
            "mcp",
            "add",
            "--scope",
            "project",
            "lint",
            "--startup-timeout",
            "7",
            "--",
            "lint-server",
        ]);
        command.output().unwrap()
    };

    let refused = add();
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(message.contains("is not a trusted project"), "{message}");
    assert!(
        !root.join(".codex").exists(),
        "an untrusted project got a file"
    );
    assert_eq!(home.read_config(), "model = \"o3\" # mine\n");

    // The lines the message gives are the ones that trust the project.
    let lines = message
        .split_once("first:\n\n")
        .map(|(_, lines)| lines.trim_end())
        .unwrap_or_else(|| panic!("no lines to add in: {message}"));
    std::fs::write(
        home.config_path(),
        format!("{}\n{lines}\n", home.read_config()),
    )
    .unwrap();
    let user_config = home.read_config();

    let added = add();
    assert!(added.status.success(), "{}", stderr(&added));
    let project_file = root.join(".codex/config.toml");
    assert_eq!(
        stdout(&added),
        format!(
            "Added project MCP server 'lint' to {}.\n",
            project_file.display()
        )
    );
    let written = std::fs::read_to_string(&project_file).unwrap();
    assert!(written.contains("command = \"lint-server\""), "{written}");
    assert!(written.contains("startup_timeout_sec = 7"), "{written}");
    assert_eq!(home.read_config(), user_config, "the user file changed");

    // A user server beside it: the Layer column tells them apart.
    let user_add = home
        .codex()
        .args(["mcp", "add", "docs", "--", "docs-server"])
        .output()
        .unwrap();
    assert!(user_add.status.success(), "{}", stderr(&user_add));
    let list = home
        .codex()
        .current_dir(&subdir)
        .args(["mcp", "list"])
        .output()
        .unwrap();
    let text = stdout(&list);
    let header = text.lines().next().unwrap_or_default();
    assert!(header.trim_end().ends_with("Layer"), "{text}");
    let row = |name: &str| {
        text.lines()
            .find(|line| line.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} row in {text}"))
            .trim_end()
            .to_owned()
    };
    assert!(row("lint").ends_with("project"), "{text}");
    assert!(row("docs").ends_with("user"), "{text}");
    let json = home
        .codex()
        .current_dir(&subdir)
        .args(["mcp", "list", "--json"])
        .output()
        .unwrap();
    let servers: Value = serde_json::from_slice(&json.stdout).unwrap();
    let layers: Vec<(&str, Option<&str>)> = servers
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["layer"].as_str()))
        .collect();
    // Codex's object as it is for the user file's servers, "layer" for others.
    assert_eq!(layers, [("docs", None), ("lint", Some("project"))]);
    let get = home
        .codex()
        .current_dir(&subdir)
        .args(["mcp", "get", "lint"])
        .output()
        .unwrap();
    assert!(
        stdout(&get)
            .contains("  layer: project\n  remove: codex mcp remove --scope project lint\n"),
        "{}",
        stdout(&get)
    );

    // The pinned Codex reads the project's server where ours wrote it.
    let theirs = home
        .real_codex()
        .current_dir(&subdir)
        .args(["mcp", "get", "lint", "--json"])
        .output()
        .unwrap();
    assert!(theirs.status.success(), "{}", stderr(&theirs));
    let theirs: Value = serde_json::from_slice(&theirs.stdout).unwrap();
    assert_eq!(theirs["transport"]["command"], "lint-server");
    assert_eq!(theirs["startup_timeout_sec"], 7.0);

    let removed = home
        .codex()
        .current_dir(&subdir)
        .args(["mcp", "remove", "--scope", "project", "lint"])
        .output()
        .unwrap();
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert!(stdout(&removed).starts_with("Removed project MCP server 'lint'"));
    assert!(
        !std::fs::read_to_string(&project_file)
            .unwrap()
            .contains("lint")
    );
    assert!(home.read_config().contains("[mcp_servers.docs]"));
}
