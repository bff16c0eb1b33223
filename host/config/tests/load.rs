//! Loading the layers from real files: precedence, merge, origins and
//! located errors.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use codex_config::{
    CliOverrides, ConfigError, ConfigPaths, LayerKind, load_config, load_mcp_servers,
};

struct Setup {
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    paths: ConfigPaths,
}

impl Setup {
    fn new() -> Self {
        let home = tempfile::tempdir().unwrap();
        let etc = tempfile::tempdir().unwrap();
        let paths = ConfigPaths {
            codex_home: home.path().to_path_buf(),
            system_config: etc.path().join("config.toml"),
            managed_config: etc.path().join("managed_config.toml"),
            project_dir: None,
            profile: None,
        };
        Self {
            _dirs: (home, etc),
            paths,
        }
    }

    fn write(&self, which: LayerKind, text: &str) -> PathBuf {
        let path = match which {
            LayerKind::System => self.paths.system_config.clone(),
            LayerKind::Managed => self.paths.managed_config.clone(),
            _ => self.paths.user_config(),
        };
        std::fs::write(&path, text).unwrap();
        path
    }

    fn load_error(&self, overrides: &[&str]) -> String {
        let overrides = CliOverrides::parse(overrides).unwrap();
        match load_config(&self.paths, &overrides) {
            Err(err) => err.to_string(),
            Ok(loaded) => load_mcp_servers(&loaded).unwrap_err().to_string(),
        }
    }
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

#[test]
fn layers_apply_system_then_user_then_overrides_then_managed() {
    let setup = Setup::new();
    setup.write(
        LayerKind::System,
        "model = \"sys\"\na = \"sys\"\nb = \"sys\"\nc = \"sys\"\n[t]\nsys = 1\nshared = \"sys\"\n",
    );
    setup.write(
        LayerKind::User,
        "a = \"user\"\nb = \"user\"\nc = \"user\"\n[t]\nuser = 2\nshared = \"user\"\n",
    );
    setup.write(LayerKind::Managed, "c = \"managed\"\n[t]\nmanaged = 4\n");
    let overrides = CliOverrides::parse(["b=cli", "c=cli", "t.cli=3", "t.shared=cli"]).unwrap();
    let loaded = load_config(&setup.paths, &overrides).unwrap();

    let get = |keys: &[&str]| loaded.get(keys).cloned();
    assert_eq!(get(&["model"]), Some("sys".into()));
    assert_eq!(get(&["a"]), Some("user".into()));
    assert_eq!(get(&["b"]), Some("cli".into()));
    assert_eq!(get(&["c"]), Some("managed".into()));
    let expected_t: toml::Table =
        toml::from_str("sys = 1\nuser = 2\ncli = 3\nmanaged = 4\nshared = \"cli\"\n").unwrap();
    assert_eq!(get(&["t"]), Some(toml::Value::Table(expected_t)));

    let origin = |keys: &[&str]| loaded.origin(keys).map(|layer| layer.kind());
    assert_eq!(origin(&["model"]), Some(LayerKind::System));
    assert_eq!(origin(&["a"]), Some(LayerKind::User));
    assert_eq!(origin(&["b"]), Some(LayerKind::SessionFlags));
    assert_eq!(origin(&["c"]), Some(LayerKind::Managed));
    assert_eq!(origin(&["t", "shared"]), Some(LayerKind::SessionFlags));
    assert_eq!(
        loaded.origin(&["a"]).unwrap().describe(),
        shown(&setup.paths.user_config())
    );
    assert_eq!(loaded.origin(&["b"]).unwrap().describe(), "-c");

    let kinds: Vec<LayerKind> = loaded.layers().iter().map(|l| l.kind()).collect();
    assert_eq!(
        kinds,
        [
            LayerKind::System,
            LayerKind::User,
            LayerKind::SessionFlags,
            LayerKind::Managed
        ]
    );
}

#[test]
fn missing_files_are_empty_layers() {
    let setup = Setup::new();
    let loaded = load_config(&setup.paths, &CliOverrides::new()).unwrap();
    assert!(loaded.merged().is_empty());
    assert!(loaded.layers().iter().all(|l| l.table().is_empty()));
    assert!(!loaded.layers()[0].exists());
    assert!(load_mcp_servers(&loaded).unwrap().is_empty());
}

#[test]
fn mcp_servers_merge_across_layers() {
    let setup = Setup::new();
    setup.write(
        LayerKind::System,
        "[mcp_servers.corp]\ncommand = \"corp\"\nargs = [\"a\", \"b\"]\n",
    );
    setup.write(
        LayerKind::User,
        "[mcp_servers.corp]\nargs = [\"c\"]\n\n[mcp_servers.mine]\nurl = \"http://127.0.0.1:9/mcp\"\n",
    );
    setup.write(LayerKind::Managed, "[mcp_servers.mine]\nenabled = false\n");
    let overrides = CliOverrides::parse(["mcp_servers.corp.tool_timeout_sec=5"]).unwrap();
    let loaded = load_config(&setup.paths, &overrides).unwrap();
    let servers = load_mcp_servers(&loaded).unwrap();
    assert_eq!(servers["corp"].command.as_deref(), Some("corp"));
    assert_eq!(servers["corp"].args, ["c"]);
    assert_eq!(
        servers["corp"].tool_timeout(),
        std::time::Duration::from_secs(5)
    );
    assert!(!servers["mine"].enabled);
}

#[test]
fn a_wrong_type_in_config_toml_points_at_the_value() {
    let setup = Setup::new();
    let config = setup.write(
        LayerKind::User,
        "model = \"o3\"\n[mcp_servers.demo]\nargs = \"--port 1\"\ncommand = \"x\"\n",
    );
    assert_eq!(
        setup.load_error(&[]),
        format!(
            "{}:3:8: mcp_servers.demo.args: expected an array of strings, found a string",
            shown(&config)
        )
    );
}

#[test]
fn a_wrong_type_in_the_managed_layer_points_into_it() {
    let setup = Setup::new();
    setup.write(LayerKind::User, "[mcp_servers.demo]\ncommand = \"x\"\n");
    let managed = setup.write(
        LayerKind::Managed,
        "\n[mcp_servers.demo]\nenabled = \"no\"\n",
    );
    assert_eq!(
        setup.load_error(&[]),
        format!(
            "{}:3:11: mcp_servers.demo.enabled: expected a boolean (true or false), found a string",
            shown(&managed)
        )
    );
}

#[test]
fn a_toml_syntax_error_names_file_line_and_column() {
    let setup = Setup::new();
    let config = setup.write(LayerKind::User, "model = \"o3\"\nbroken = = 1\n");
    assert_eq!(
        setup.load_error(&[]),
        format!(
            "{}:2:10: invalid TOML: extra `=`, expected nothing",
            shown(&config)
        )
    );
    let system = setup.write(LayerKind::System, "[a]\nx = 1\n[a]\n");
    let err = setup.load_error(&[]);
    assert!(err.starts_with(&format!("{}:3:", shown(&system))), "{err}");
}

#[test]
fn duplicate_keys_are_syntax_errors_with_a_position() {
    let setup = Setup::new();
    let config = setup.write(LayerKind::User, "a = 1\na = 2\n");
    let err = setup.load_error(&[]);
    assert!(
        err.starts_with(&format!("{}:2:1: invalid TOML:", shown(&config))),
        "{err}"
    );
}

#[test]
fn inline_bearer_token_is_refused_with_codex_text() {
    let setup = Setup::new();
    let config = setup.write(
        LayerKind::User,
        "[mcp_servers.gh]\nurl = \"https://example.com/mcp\"\nbearer_token = \"ghp_secret\"\n",
    );
    let err = setup.load_error(&[]);
    assert_eq!(
        err,
        format!(
            "{}:3:1: mcp_servers.gh uses unsupported `bearer_token`; set `bearer_token_env_var`.",
            shown(&config)
        )
    );
    assert!(!err.contains("ghp_secret"));
}

#[test]
fn transport_errors_point_at_the_key_or_table() {
    let setup = Setup::new();
    let config = setup.write(
        LayerKind::User,
        "[mcp_servers.demo]\ncommand = \"x\"\nurl = \"http://h\"\n",
    );
    assert_eq!(
        setup.load_error(&[]),
        format!(
            "{}:3:1: mcp_servers.demo.url: url is not supported for stdio",
            shown(&config)
        )
    );
    setup.write(LayerKind::User, "# x\n[mcp_servers.demo]\nenabled = true\n");
    assert_eq!(
        setup.load_error(&[]),
        format!(
            "{}:2:1: mcp_servers.demo: invalid transport: set `command` (stdio), `url` (streamable HTTP) or `transport` (a transport plugin)",
            shown(&config)
        )
    );
}

#[test]
fn any_server_name_in_a_file_loads_as_in_codex() {
    let setup = Setup::new();
    setup.write(
        LayerKind::User,
        "[mcp_servers.\"npm:@x/y.v1\"]\ncommand = \"x\"\n[mcp_servers.\"odd name\"]\ncommand = \"y\"\n",
    );
    let loaded = load_config(&setup.paths, &CliOverrides::new()).unwrap();
    let servers = load_mcp_servers(&loaded).unwrap();
    assert_eq!(
        servers.keys().collect::<Vec<_>>(),
        ["npm:@x/y.v1", "odd name"]
    );
}

#[test]
fn errors_from_overrides_name_the_override_and_mask_secrets() {
    let setup = Setup::new();
    setup.write(LayerKind::User, "[mcp_servers.demo]\ncommand = \"x\"\n");
    assert_eq!(
        setup.load_error(&["mcp_servers.demo.args=oops"]),
        "in -c override `mcp_servers.demo.args=oops`: mcp_servers.demo.args: expected an array of strings, found a string"
    );
    assert_eq!(
        setup.load_error(&["mcp_servers.demo.env=hunter2"]),
        "in -c override `mcp_servers.demo.env=*****`: mcp_servers.demo.env: expected a table of strings, found a string"
    );
    // Codex's case: an override for a server defined nowhere else.
    assert_eq!(
        setup.load_error(&["mcp_servers.ghost.enabled=true"]),
        "in -c override `mcp_servers.ghost.enabled=true`: mcp_servers.ghost: invalid transport: set `command` (stdio), `url` (streamable HTTP) or `transport` (a transport plugin)"
    );
    let err = setup.load_error(&["mcp_servers.demo.bearer_token=hunter2"]);
    assert_eq!(
        err,
        "in -c override `mcp_servers.demo.bearer_token=*****`: mcp_servers.demo uses unsupported `bearer_token`; set `bearer_token_env_var`."
    );
}

#[test]
fn mcp_servers_must_be_a_table() {
    let setup = Setup::new();
    let config = setup.write(LayerKind::User, "mcp_servers = [1]\n");
    assert_eq!(
        setup.load_error(&[]),
        format!(
            "{}:1:15: mcp_servers: expected a table of servers, found an array",
            shown(&config)
        )
    );
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_an_error_naming_it() {
    let setup = Setup::new();
    // A directory where the file should be cannot be read, even as root.
    std::fs::create_dir(&setup.paths.system_config).unwrap();
    let err = load_config(&setup.paths, &CliOverrides::new()).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(
        err.to_string().starts_with(&format!(
            "could not read {}: ",
            shown(&setup.paths.system_config)
        )),
        "{err}"
    );
}

#[test]
fn load_parses_raw_overrides_first() {
    let setup = Setup::new();
    setup.write(LayerKind::User, "model = \"user\"\n");
    let err = codex_config::load(&setup.paths, &["model=o3", "oops"]).unwrap_err();
    assert_eq!(err.to_string(), "Invalid override (missing '='): oops");
    let loaded = codex_config::load(&setup.paths, &["model=o3"]).unwrap();
    assert_eq!(
        loaded.get(&["model"]),
        Some(&toml::Value::String("o3".into()))
    );
}
