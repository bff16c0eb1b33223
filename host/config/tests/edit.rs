//! Edits of the user's config.toml, on real files.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use codex_config::edit::{
    AddOutcome, NewMcpServer, add_mcp_server, parse_env_pair, parse_header, remove_mcp_server,
    remove_value, set_value, user_config_path,
};
use codex_config::{CliOverrides, ConfigError, ConfigPaths, load_config, load_mcp_servers};

fn stdio(command: &str, args: &[&str], env: &[(&str, &str)]) -> NewMcpServer {
    NewMcpServer::Stdio {
        command: command.to_string(),
        args: args.iter().map(|a| a.to_string()).collect(),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

const COMMENTED: &str = r#"# My codex config
model = "o3"   # the model

[features]
# keep this
unified_exec = true

[mcp_servers.existing]
command = "old"    # untouched
args = [ "a",  "b" ]

# trailing notes
[profiles.work]
model = "gpt-5"
"#;

#[test]
fn add_writes_codex_layout_and_remove_restores_the_file_byte_for_byte() {
    let home = tempfile::tempdir().unwrap();
    let config = user_config_path(home.path());
    std::fs::write(&config, COMMENTED).unwrap();

    let outcome = add_mcp_server(
        home.path(),
        "docs",
        stdio(
            "docs-server",
            &["--port", "4000"],
            &[("TOKEN", "secret"), ("A", "1")],
        ),
    )
    .unwrap();
    assert_eq!(outcome, AddOutcome::Added);
    let expected = COMMENTED.replace(
        "\n# trailing notes",
        "\n[mcp_servers.docs]\ncommand = \"docs-server\"\nargs = [\"--port\", \"4000\"]\n\n[mcp_servers.docs.env]\nA = \"1\"\nTOKEN = \"secret\"\n\n# trailing notes",
    );
    assert_eq!(read(&config), expected);

    assert!(remove_mcp_server(home.path(), "docs").unwrap());
    assert_eq!(read(&config), COMMENTED);
    assert!(!remove_mcp_server(home.path(), "docs").unwrap());
    assert_eq!(read(&config), COMMENTED);
}

#[test]
fn add_to_a_file_without_servers_appends_a_table_and_remove_takes_it_away() {
    let home = tempfile::tempdir().unwrap();
    let config = user_config_path(home.path());
    let original = "# hello\nmodel = \"o3\"\n\n[features]\nx = true\n";
    std::fs::write(&config, original).unwrap();
    add_mcp_server(
        home.path(),
        "figma",
        NewMcpServer::StreamableHttp {
            url: "http://127.0.0.1:3845/mcp".into(),
            bearer_token_env_var: Some("FIGMA_TOKEN".into()),
            http_headers: BTreeMap::from([("X-Team".to_string(), "t1".to_string())]),
            env_http_headers: BTreeMap::new(),
            oauth_resource: None,
            oauth: None,
        },
    )
    .unwrap();
    assert_eq!(
        read(&config),
        format!(
            "{original}\n[mcp_servers.figma]\nurl = \"http://127.0.0.1:3845/mcp\"\nbearer_token_env_var = \"FIGMA_TOKEN\"\n\n[mcp_servers.figma.http_headers]\nX-Team = \"t1\"\n"
        )
    );
    assert!(remove_mcp_server(home.path(), "figma").unwrap());
    assert_eq!(read(&config), original);
}

#[test]
fn add_to_a_missing_file_creates_it_0600_and_the_result_loads() {
    let home = tempfile::tempdir().unwrap();
    add_mcp_server(home.path(), "a", stdio("srv", &[], &[])).unwrap();
    let config = user_config_path(home.path());
    assert_eq!(read(&config), "[mcp_servers.a]\ncommand = \"srv\"\n");
    #[cfg(unix)]
    assert_eq!(mode(&config), 0o600);

    let paths = ConfigPaths {
        codex_home: home.path().to_path_buf(),
        system_config: home.path().join("none-system.toml"),
        managed_config: home.path().join("none-managed.toml"),
        project_dir: None,
        profile: None,
    };
    let loaded = load_config(&paths, &CliOverrides::new()).unwrap();
    let servers = load_mcp_servers(&loaded).unwrap();
    assert_eq!(servers["a"].command.as_deref(), Some("srv"));
    assert!(servers["a"].args.is_empty());
}

#[test]
fn a_missing_codex_home_is_created_0700() {
    let parent = tempfile::tempdir().unwrap();
    let home = parent.path().join(".codex");
    add_mcp_server(&home, "a", stdio("srv", &[], &[])).unwrap();
    assert!(user_config_path(&home).is_file());
    #[cfg(unix)]
    assert_eq!(mode(&home), 0o700);
}

#[test]
fn replacing_a_server_replaces_its_table_in_place() {
    let home = tempfile::tempdir().unwrap();
    let config = user_config_path(home.path());
    let original = "[mcp_servers.a]\ncommand = \"one\"\n\n# about b\n[mcp_servers.b]\ncommand = \"old\"\nargs = [\"x\"]\nstartup_timeout_sec = 5\n\n[mcp_servers.b.env]\nOLD = \"1\"\n\n[mcp_servers.c]\ncommand = \"three\"\n";
    std::fs::write(&config, original).unwrap();
    let outcome = add_mcp_server(home.path(), "b", stdio("new", &[], &[("NEW", "2")])).unwrap();
    assert_eq!(outcome, AddOutcome::Replaced);
    assert_eq!(
        read(&config),
        "[mcp_servers.a]\ncommand = \"one\"\n\n# about b\n[mcp_servers.b]\ncommand = \"new\"\n\n[mcp_servers.b.env]\nNEW = \"2\"\n\n[mcp_servers.c]\ncommand = \"three\"\n"
    );
}

#[test]
fn dotted_and_inline_styles_are_kept() {
    let home = tempfile::tempdir().unwrap();
    let config = user_config_path(home.path());

    std::fs::write(&config, "model = \"o3\"\nmcp_servers.a.command = \"one\"\n").unwrap();
    add_mcp_server(home.path(), "b", stdio("two", &["x"], &[])).unwrap();
    assert_eq!(
        read(&config),
        "model = \"o3\"\nmcp_servers.a.command = \"one\"\nmcp_servers.b.command = \"two\"\nmcp_servers.b.args = [\"x\"]\n"
    );
    add_mcp_server(home.path(), "a", stdio("uno", &[], &[])).unwrap();
    assert_eq!(
        read(&config),
        "model = \"o3\"\nmcp_servers.a.command = \"uno\"\nmcp_servers.b.command = \"two\"\nmcp_servers.b.args = [\"x\"]\n"
    );
    assert!(remove_mcp_server(home.path(), "a").unwrap());
    assert!(remove_mcp_server(home.path(), "b").unwrap());
    assert_eq!(read(&config), "model = \"o3\"\n");

    std::fs::write(
        &config,
        "[mcp_servers]\na = { command = \"one\" }  # inline\n",
    )
    .unwrap();
    add_mcp_server(home.path(), "a", stdio("uno", &["-v"], &[])).unwrap();
    add_mcp_server(home.path(), "b", stdio("two", &[], &[])).unwrap();
    assert_eq!(
        read(&config),
        "[mcp_servers]\na = { command = \"uno\", args = [\"-v\"] }  # inline\n\n[mcp_servers.b]\ncommand = \"two\"\n"
    );
    assert!(remove_mcp_server(home.path(), "a").unwrap());
    assert!(remove_mcp_server(home.path(), "b").unwrap());
    // A `[mcp_servers]` the user wrote stays.
    assert_eq!(read(&config), "[mcp_servers]\n");

    std::fs::write(&config, "mcp_servers = { a = { command = \"one\" } }\n").unwrap();
    add_mcp_server(home.path(), "b", stdio("two", &[], &[("K", "v")])).unwrap();
    let loaded: toml::Table = toml::from_str(&read(&config)).unwrap();
    assert_eq!(loaded["mcp_servers"]["b"]["env"]["K"].as_str(), Some("v"));
    assert_eq!(loaded["mcp_servers"]["a"]["command"].as_str(), Some("one"));
}

#[cfg(unix)]
#[test]
fn edits_keep_the_file_mode() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let config = user_config_path(home.path());
    std::fs::write(&config, "model = \"o3\"\n").unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o640)).unwrap();
    add_mcp_server(home.path(), "a", stdio("srv", &[], &[])).unwrap();
    assert_eq!(mode(&config), 0o640);
    remove_mcp_server(home.path(), "a").unwrap();
    assert_eq!(mode(&config), 0o640);
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(home.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(names, ["config.toml", "config.toml.lock"]);
}

#[cfg(unix)]
#[test]
fn a_symlinked_config_is_edited_at_its_target() {
    let home = tempfile::tempdir().unwrap();
    let dotfiles = tempfile::tempdir().unwrap();
    let target = dotfiles.path().join("codex.toml");
    std::fs::write(&target, "# dotfile\nmodel = \"o3\"\n").unwrap();
    let link = user_config_path(home.path());
    std::os::unix::fs::symlink(&target, &link).unwrap();

    add_mcp_server(home.path(), "a", stdio("srv", &[], &[])).unwrap();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        read(&target),
        "# dotfile\nmodel = \"o3\"\n\n[mcp_servers.a]\ncommand = \"srv\"\n"
    );
    assert!(remove_mcp_server(home.path(), "a").unwrap());
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(read(&target), "# dotfile\nmodel = \"o3\"\n");
}

#[test]
fn an_unparsable_user_file_is_refused_and_left_untouched() {
    let home = tempfile::tempdir().unwrap();
    let config = user_config_path(home.path());
    let broken = "model = \"o3\"\n[mcp_servers.a\ncommand = \"x\"\n";
    std::fs::write(&config, broken).unwrap();
    let err = add_mcp_server(home.path(), "b", stdio("srv", &[], &[])).unwrap_err();
    assert!(matches!(err, ConfigError::Syntax { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}:2:15: invalid TOML: unclosed table, expected `]`",
            config.display()
        )
    );
    let err = remove_mcp_server(home.path(), "a").unwrap_err();
    assert!(matches!(err, ConfigError::Syntax { .. }));
    assert_eq!(read(&config), broken);
}

#[test]
fn a_non_table_mcp_servers_is_refused_with_its_position() {
    let home = tempfile::tempdir().unwrap();
    let config = user_config_path(home.path());
    std::fs::write(&config, "model = \"o3\"\nmcp_servers = 5\n").unwrap();
    let err = add_mcp_server(home.path(), "b", stdio("srv", &[], &[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:2:15: mcp_servers: expected a table of servers, found an integer; fix or remove it, then add the server again",
            config.display()
        )
    );
    assert_eq!(read(&config), "model = \"o3\"\nmcp_servers = 5\n");
}

#[test]
fn system_and_managed_servers_are_never_copied_into_the_user_file() {
    let home = tempfile::tempdir().unwrap();
    let etc = tempfile::tempdir().unwrap();
    let system = etc.path().join("config.toml");
    std::fs::write(&system, "[mcp_servers.corp]\ncommand = \"corp-srv\"\n").unwrap();
    add_mcp_server(home.path(), "mine", stdio("srv", &[], &[])).unwrap();
    assert_eq!(
        read(&user_config_path(home.path())),
        "[mcp_servers.mine]\ncommand = \"srv\"\n"
    );
    // Removing a server that only the system layer defines changes nothing.
    assert!(!remove_mcp_server(home.path(), "corp").unwrap());
    let paths = ConfigPaths {
        codex_home: home.path().to_path_buf(),
        system_config: system,
        managed_config: etc.path().join("managed_config.toml"),
        project_dir: None,
        profile: None,
    };
    let servers = load_mcp_servers(&load_config(&paths, &CliOverrides::new()).unwrap()).unwrap();
    assert_eq!(servers.keys().collect::<Vec<_>>(), ["corp", "mine"]);
}

#[test]
fn add_checks_its_input_before_touching_the_file() {
    let home = tempfile::tempdir().unwrap();
    let err = add_mcp_server(home.path(), "bad name", stdio("srv", &[], &[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid server name 'bad name' (use letters, numbers, '-', '_', ':', '@', '/', '.')"
    );
    // Any name a file holds can be removed; one it does not hold is not found.
    assert!(!remove_mcp_server(home.path(), "").unwrap());
    let err = add_mcp_server(home.path(), "a", stdio(" ", &[], &[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid MCP server 'a': the command is empty; give it after `--`"
    );
    let err = add_mcp_server(
        home.path(),
        "a",
        NewMcpServer::StreamableHttp {
            url: "http://127.0.0.1:1/".into(),
            bearer_token_env_var: None,
            http_headers: BTreeMap::from([("Bad Name".to_string(), "secret".to_string())]),
            env_http_headers: BTreeMap::new(),
            oauth_resource: None,
            oauth: None,
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid header: `Bad Name` is not a valid header name")
    );
    assert!(!err.to_string().contains("secret"));
    assert!(!user_config_path(home.path()).exists());
}

#[test]
fn env_pairs_and_headers_parse() {
    assert_eq!(
        parse_env_pair(" KEY =a=b").unwrap(),
        ("KEY".to_string(), "a=b".to_string())
    );
    assert_eq!(
        parse_env_pair("K=").unwrap(),
        ("K".to_string(), String::new())
    );
    for bad in ["KEY", "=v", " =v", ""] {
        assert_eq!(
            parse_env_pair(bad).unwrap_err().to_string(),
            "environment entries must be in KEY=VALUE form"
        );
    }
    assert_eq!(
        parse_header("Authorization: Bearer a=b").unwrap(),
        ("Authorization".to_string(), "Bearer a=b".to_string())
    );
    assert_eq!(
        parse_header("X-Team=t1:x").unwrap(),
        ("X-Team".to_string(), "t1:x".to_string())
    );
    assert_eq!(
        parse_header("no separator secret").unwrap_err().to_string(),
        "invalid header: expected `NAME: VALUE` or `NAME=VALUE`"
    );
    assert_eq!(
        parse_header(": v").unwrap_err().to_string(),
        "invalid header: the header name is empty; expected `NAME: VALUE` or `NAME=VALUE`"
    );
    let err = parse_header("X: a\r\nInjected: 1").unwrap_err().to_string();
    assert_eq!(
        err,
        "invalid header: the value of header `X` contains a line break or NUL"
    );
}

#[test]
fn set_value_and_remove_value_edit_one_key() {
    let home = tempfile::tempdir().unwrap();
    let config = user_config_path(home.path());
    let original = "# top\nmodel = \"o3\"\n\n[features]\nx = true # keep\n";
    std::fs::write(&config, original).unwrap();
    set_value(&config, &["features", "x"], false.into()).unwrap();
    set_value(&config, &["features", "y"], true.into()).unwrap();
    set_value(&config, &["tools", "web_search"], true.into()).unwrap();
    assert_eq!(
        read(&config),
        "# top\nmodel = \"o3\"\n\n[features]\nx = false # keep\ny = true\n\n[tools]\nweb_search = true\n"
    );
    assert!(remove_value(&config, &["features", "y"]).unwrap());
    assert!(!remove_value(&config, &["features", "nope"]).unwrap());
    assert!(remove_value(&config, &["tools", "web_search"]).unwrap());
    assert_eq!(
        read(&config),
        "# top\nmodel = \"o3\"\n\n[features]\nx = false # keep\n\n[tools]\n"
    );
    let err = set_value(&config, &["model", "inner"], 1.into()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:2:9: model: expected a table, found a string; cannot set `model.inner`",
            config.display()
        )
    );
}

/// `--oauth-resource` and `--oauth-client-*` write what Codex 0.169 writes.
#[test]
fn an_oauth_client_is_written_as_codex_writes_it() {
    let home = tempfile::tempdir().unwrap();
    let config = user_config_path(home.path());
    add_mcp_server(
        home.path(),
        "corp",
        NewMcpServer::StreamableHttp {
            url: "http://127.0.0.1:1/mcp".into(),
            bearer_token_env_var: None,
            http_headers: BTreeMap::new(),
            env_http_headers: BTreeMap::new(),
            oauth_resource: Some("https://res.example".into()),
            oauth: Some(codex_config::mcp::McpOAuthClient {
                client_id: Some("cid".into()),
                client_secret: Some("s3cret".into()),
                callback_port: None,
                callback_url: Some("http://127.0.0.1/callback/4ncvuG_qJEiw".into()),
            }),
        },
    )
    .unwrap();
    assert_eq!(
        read(&config),
        "[mcp_servers.corp]\nurl = \"http://127.0.0.1:1/mcp\"\noauth_resource = \"https://res.example\"\n\n[mcp_servers.corp.oauth]\nclient_id = \"cid\"\nclient_secret = \"s3cret\"\ncallback_url = \"http://127.0.0.1/callback/4ncvuG_qJEiw\"\n"
    );
    let empty_id = add_mcp_server(
        home.path(),
        "other",
        NewMcpServer::StreamableHttp {
            url: "http://127.0.0.1:1/mcp".into(),
            bearer_token_env_var: None,
            http_headers: BTreeMap::new(),
            env_http_headers: BTreeMap::new(),
            oauth_resource: None,
            oauth: Some(codex_config::mcp::McpOAuthClient {
                client_id: Some(" ".into()),
                ..Default::default()
            }),
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        empty_id.contains("--oauth-client-id is empty"),
        "{empty_id}"
    );
}
