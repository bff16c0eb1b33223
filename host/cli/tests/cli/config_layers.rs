//! Configuration layers through the binary: system, user, trusted project,
//! `-c` and managed; `config show [--origin] [--json]`; profiles, models and
//! bundles; and every kind of bad input, each error naming its place.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use codex_test_support::{Home, stderr, stdout};
use serde_json::Value;

/// A CODEX_HOME plus system and managed files and a project tree.
struct Layers {
    home: Home,
    etc: tempfile::TempDir,
    projects: tempfile::TempDir,
}

impl Layers {
    fn new() -> Layers {
        Layers {
            home: Home::new(),
            etc: tempfile::tempdir().unwrap(),
            projects: tempfile::tempdir().unwrap(),
        }
    }

    fn system(&self) -> PathBuf {
        self.etc.path().join("config.toml")
    }

    fn managed(&self) -> PathBuf {
        self.etc.path().join("managed_config.toml")
    }

    /// A project directory `name` with a `.git` marker, canonicalized.
    fn project(&self, name: &str) -> PathBuf {
        let root = self.projects.path().join(name);
        fs::create_dir_all(root.join(".git")).unwrap();
        fs::canonicalize(root).unwrap()
    }

    /// `codex` with the system and managed layers pointed at `etc`.
    fn codex(&self) -> assert_cmd::Command {
        let mut command = self.home.codex();
        command
            .env("CODEX_SYSTEM_CONFIG", self.system())
            .env("CODEX_MANAGED_CONFIG", self.managed())
            .current_dir(self.projects.path());
        command
    }
}

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).unwrap();
    }
    fs::write(path, text).unwrap();
}

fn run(mut command: assert_cmd::Command) -> std::process::Output {
    command.output().unwrap()
}

fn ok_json(mut command: assert_cmd::Command) -> Value {
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn failure(mut command: assert_cmd::Command) -> String {
    let output = command.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "expected exit 1; stdout: {} stderr: {}",
        stdout(&output),
        stderr(&output)
    );
    stderr(&output)
}

/// The `values` entry of `config show --origin --json` for `key`.
fn origin_of<'a>(shown: &'a Value, key: &str) -> &'a Value {
    shown["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["key"] == key)
        .unwrap_or_else(|| panic!("no value `{key}` in {shown:#}"))
}

fn trust(path: &Path) -> String {
    format!(
        "[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
        path.display()
    )
}

#[test]
fn every_layer_merges_in_order_and_config_show_names_the_origin() {
    let layers = Layers::new();
    let root = layers.project("repo");
    let sub = root.join("sub");
    write(
        &layers.system(),
        "model = \"system\"\na = \"system\"\n[t]\nsystem = 1\nshared = \"system\"\n",
    );
    layers.home.write_config(&format!(
        "model = \"user\"\nb = \"user\"\n[t]\nshared = \"user\"\n{}",
        trust(&root)
    ));
    write(
        &root.join(".codex/config.toml"),
        "c = \"project root\"\nd = \"project root\"\n",
    );
    write(&sub.join(".codex/config.toml"), "\nd = \"project sub\"\n");
    write(
        &layers.managed(),
        "e = \"managed\"\n[t]\nshared = \"managed\"\n",
    );

    let mut merged = layers.codex();
    merged.current_dir(&sub).args([
        "config",
        "show",
        "--json",
        "-c",
        "f=\"cli\"",
        "-c",
        "a=\"cli\"",
    ]);
    let merged = ok_json(merged);
    assert_eq!(merged["model"], "user");
    assert_eq!(merged["a"], "cli");
    assert_eq!(merged["b"], "user");
    assert_eq!(merged["c"], "project root");
    assert_eq!(merged["d"], "project sub", "the closest project layer wins");
    assert_eq!(merged["e"], "managed");
    assert_eq!(merged["f"], "cli");
    assert_eq!(merged["t"]["system"], 1, "tables merge key by key");
    assert_eq!(merged["t"]["shared"], "managed");

    let mut shown = layers.codex();
    shown.current_dir(&sub).args([
        "config",
        "show",
        "--origin",
        "--json",
        "-c",
        "f=\"cli\"",
        "-c",
        "a=\"cli\"",
    ]);
    let shown = ok_json(shown);
    let kinds: Vec<&str> = shown["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["layer"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["system", "user", "project", "project", "-c", "managed"]
    );
    let user_file = layers.home.config_path().display().to_string();
    let at = |key: &str| {
        let v = origin_of(&shown, key);
        (
            v["layer"].as_str().unwrap().to_string(),
            v["file"].as_str().map(str::to_string),
            v["line"].as_u64(),
        )
    };
    assert_eq!(
        at("model"),
        ("user".into(), Some(user_file.clone()), Some(1))
    );
    assert_eq!(at("b"), ("user".into(), Some(user_file.clone()), Some(2)));
    assert_eq!(
        at("t.system"),
        (
            "system".into(),
            Some(layers.system().display().to_string()),
            Some(4)
        )
    );
    assert_eq!(
        at("d"),
        (
            "project".into(),
            Some(sub.join(".codex/config.toml").display().to_string()),
            Some(2)
        )
    );
    assert_eq!(
        at("c"),
        (
            "project".into(),
            Some(root.join(".codex/config.toml").display().to_string()),
            Some(1)
        )
    );
    assert_eq!(
        at("t.shared"),
        (
            "managed".into(),
            Some(layers.managed().display().to_string()),
            Some(3)
        )
    );
    assert_eq!(at("a"), ("-c".into(), None, None));
    assert_eq!(origin_of(&shown, "a")["override"], "a=\"cli\"");

    let mut text = layers.codex();
    text.current_dir(&sub)
        .args(["config", "show", "--origin", "-c", "a=\"cli\""]);
    let text = run(text);
    assert!(text.status.success(), "{}", stderr(&text));
    let text = stdout(&text);
    let line = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("no `{key}` in\n{text}"))
            .to_string()
    };
    assert!(
        line("model").ends_with(&format!("# user {user_file}:1")),
        "{text}"
    );
    assert!(line("a").ends_with("# -c -c a=\"cli\""), "{text}");
    assert!(
        line("d").ends_with(&format!(
            "# project {}:2",
            sub.join(".codex/config.toml").display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "#   system   {} (loaded)",
            layers.system().display()
        )),
        "{text}"
    );
}

#[test]
fn an_untrusted_project_layer_is_present_but_disabled_and_says_how_to_trust_it() {
    let layers = Layers::new();
    let root = layers.project("repo");
    let project_file = root.join(".codex/config.toml");
    // Broken on purpose: an untrusted project's file is never parsed.
    write(&project_file, "model = \"project\"\nbroken = = 1\n");
    layers.home.write_config("model = \"user\"\n");

    let mut shown = layers.codex();
    shown
        .current_dir(&root)
        .args(["config", "show", "--origin", "--json"]);
    let shown = ok_json(shown);
    let project = shown["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["layer"] == "project")
        .expect("the project layer is listed");
    assert_eq!(project["file"], project_file.display().to_string());
    assert_eq!(project["exists"], true);
    let reason = project["disabled"]
        .as_str()
        .expect("disabled with a reason");
    let user = layers.home.config_path().display().to_string();
    assert!(reason.contains("not a trusted project"), "{reason}");
    assert!(
        reason.contains(&format!("[projects.\"{}\"]", root.display())),
        "{reason}"
    );
    assert!(reason.contains("trust_level = \"trusted\""), "{reason}");
    assert!(reason.contains(&user), "{reason}");
    assert_eq!(origin_of(&shown, "model")["layer"], "user");

    let mut text = layers.codex();
    text.current_dir(&root).args(["config", "show", "--origin"]);
    let text = stdout(&run(text));
    assert!(
        text.contains(&format!(
            "#   project  {} (disabled: {}",
            project_file.display(),
            root.display()
        )),
        "{text}"
    );

    // Marked untrusted: the message says so and where.
    layers.home.write_config(&format!(
        "model = \"user\"\n[projects.\"{}\"]\ntrust_level = \"untrusted\"\n",
        root.display()
    ));
    let mut shown = layers.codex();
    shown
        .current_dir(&root)
        .args(["config", "show", "--origin", "--json"]);
    let shown = ok_json(shown);
    let reason = shown["layers"][2]["disabled"].as_str().unwrap().to_string();
    assert!(reason.contains("marked as untrusted"), "{reason}");
    assert!(reason.contains(&format!("{user}:3:15")), "{reason}");

    // Trusted: it applies, and now its syntax error is an error.
    layers
        .home
        .write_config(&format!("model = \"user\"\n{}", trust(&root)));
    let mut broken = layers.codex();
    broken.current_dir(&root).args(["config", "show"]);
    let error = failure(broken);
    assert!(
        error.contains(&format!("{}:2:", project_file.display())),
        "{error}"
    );
    write(&project_file, "model = \"project\"\n");
    let mut trusted = layers.codex();
    trusted
        .current_dir(&root)
        .args(["config", "show", "--json"]);
    assert_eq!(ok_json(trusted)["model"], "project");
}

#[test]
fn trust_of_an_ancestor_covers_a_subdirectory_and_markers_choose_the_root() {
    let layers = Layers::new();
    let root = layers.project("mono");
    let package = root.join("packages/app");
    fs::create_dir_all(&package).unwrap();
    write(&root.join(".codex/config.toml"), "a = \"root\"\n");
    write(&package.join(".codex/config.toml"), "b = \"package\"\n");
    layers.home.write_config(&trust(&root));
    let mut shown = layers.codex();
    shown
        .current_dir(&package)
        .args(["config", "show", "--json"]);
    let shown = ok_json(shown);
    assert_eq!(
        (&shown["a"], &shown["b"]),
        (&"root".into(), &"package".into())
    );

    // With another marker the package is its own project: the root's layer
    // is out of reach, and the package is not trusted.
    fs::write(package.join("package.json"), "{}").unwrap();
    let mut shown = layers.codex();
    shown.current_dir(&package).args([
        "config",
        "show",
        "--origin",
        "--json",
        "-c",
        "project_root_markers=[\"package.json\"]",
    ]);
    let shown = ok_json(shown);
    let projects: Vec<&Value> = shown["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["layer"] == "project")
        .collect();
    assert_eq!(projects.len(), 1, "{shown:#}");
    assert_eq!(
        projects[0]["file"],
        package.join(".codex/config.toml").display().to_string()
    );
    assert!(projects[0]["disabled"].is_string());
}

#[test]
fn codex_home_inside_a_project_is_not_read_as_a_project_layer() {
    let projects = tempfile::tempdir().unwrap();
    let root = fs::canonicalize(projects.path()).unwrap().join("repo");
    fs::create_dir_all(root.join(".git")).unwrap();
    let codex_home = root.join(".codex");
    fs::create_dir_all(&codex_home).unwrap();
    fs::set_permissions(&codex_home, fs::Permissions::from_mode(0o700)).unwrap();
    fs::write(
        codex_home.join("config.toml"),
        format!("model = \"home\"\n{}", trust(&root)),
    )
    .unwrap();
    let output = assert_cmd::Command::new(codex_test_support::codex_bin())
        .env("CODEX_HOME", &codex_home)
        .env("CODEX_SYSTEM_CONFIG", root.join("none.toml"))
        .env("CODEX_MANAGED_CONFIG", root.join("none.toml"))
        .current_dir(&root)
        .args(["config", "show", "--origin", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let shown: Value = serde_json::from_slice(&output.stdout).unwrap();
    let kinds: Vec<&str> = shown["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["layer"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["system", "user", "managed"]);
}

#[test]
fn config_show_masks_secrets_in_every_form() {
    let layers = Layers::new();
    layers.home.write_config(
        "[mcp_servers.auth]\ncommand = \"srv\"\nenv = { API_TOKEN = \"hunter2\" }\n\
         [mcp_servers.web]\nurl = \"http://127.0.0.1:1/mcp\"\nhttp_headers = { X-Api-Key = \"sekrit\" }\n\
         env_http_headers = { Authorization = \"WEB_TOKEN_VAR\" }\nbearer_token_env_var = \"BEARER_VAR\"\n",
    );
    for args in [
        vec!["config", "show"],
        vec!["config", "show", "--json"],
        vec!["config", "show", "--origin"],
        vec!["config", "show", "--origin", "--json"],
    ] {
        let mut command = layers.codex();
        command
            .args(&args)
            .args(["-c", "mcp_servers.auth.env.OTHER_SECRET=swordfish"]);
        let output = run(command);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        let text = stdout(&output);
        for secret in ["hunter2", "sekrit", "swordfish"] {
            assert!(!text.contains(secret), "{args:?} shows {secret}:\n{text}");
        }
        assert!(text.contains("*****"), "{args:?}:\n{text}");
        // Names of variables and user-chosen names are not secrets.
        for shown in ["WEB_TOKEN_VAR", "BEARER_VAR", "srv"] {
            assert!(text.contains(shown), "{args:?} hides {shown}:\n{text}");
        }
    }
}

#[test]
fn overrides_are_accepted_before_and_after_any_subcommand() {
    let layers = Layers::new();
    for args in [
        vec!["-c", "model=o3", "config", "show", "--json"],
        vec!["config", "-c", "model=o3", "show", "--json"],
        vec!["config", "show", "--json", "-c", "model=o3"],
    ] {
        let mut command = layers.codex();
        command.args(&args);
        assert_eq!(ok_json(command)["model"], "o3", "{args:?}");
    }
    let mut list = layers.codex();
    list.args([
        "mcp",
        "list",
        "--json",
        "-c",
        "mcp_servers.x.command=\"srv\"",
    ]);
    let listed = ok_json(list);
    assert_eq!(listed[0]["name"], "x");
}

#[test]
fn a_profile_is_its_own_file_layered_over_the_user_config() {
    let layers = Layers::new();
    layers.home.write_config(
        "model = \"base-model\"\n[mcp_servers.base]\ncommand = \"b\"\n[features]\ngoals = false\n",
    );
    let work = layers.home.path().join("work.config.toml");
    std::fs::write(
        &work,
        "model = \"work-model\"\n[mcp_servers.extra]\ncommand = \"e\"\n[features]\ngoals = true\n",
    )
    .unwrap();
    let shown = |args: &[&str]| {
        let mut command = layers.codex();
        command
            .args(args)
            .args(["config", "show", "--origin", "--json"]);
        ok_json(command)
    };
    let base = shown(&[]);
    assert_eq!(base["profile"], Value::Null);
    assert_eq!(base["model"]["name"], "base-model");
    let with = shown(&["-p", "work"]);
    assert_eq!(with["profile"]["name"], "work");
    assert_eq!(with["model"]["name"], "work-model");
    let work_text = work.display().to_string();
    assert!(
        with["model"]["selected_by"]
            .as_str()
            .unwrap()
            .contains(&work_text),
        "{}",
        with["model"]
    );
    assert_eq!(
        shown(&["--profile", "work", "-m", "cli-model"])["model"]["name"],
        "cli-model"
    );

    // Its servers and features join the user's.
    let mut list = layers.codex();
    list.args(["-p", "work", "mcp", "list", "--json"]);
    let names: Vec<String> = ok_json(list)
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["base", "extra"]);
    let mut explain = layers.codex();
    explain.args(["-p", "work", "features", "explain", "goals", "--json"]);
    let explained = ok_json(explain);
    assert_eq!(explained["enabled"], true, "{explained}");

    // `features enable -p P` writes the profile's file, never a [profiles] table.
    let mut enable = layers.codex();
    enable.args(["-p", "work", "features", "enable", "memories"]);
    ok_json_or_text(enable);
    assert!(
        std::fs::read_to_string(&work)
            .unwrap()
            .contains("memories = true")
    );
    assert!(!layers.home.read_config().contains("profiles"));

    // A bad name is a usage error, as in Codex.
    let mut bad = layers.codex();
    bad.args(["-p", "../x", "mcp", "list"]);
    let output = bad.output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .contains("invalid --profile value `../x`; pass a plain name such as `work`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn legacy_profiles_still_apply_with_a_warning_that_says_how_to_move_them() {
    let layers = Layers::new();
    layers
        .home
        .write_config("model = \"base-model\"\n[profiles.work]\nmodel = \"work-model\"\n");
    let mut command = layers.codex();
    command.args(["-p", "work", "config", "show", "--origin", "--json"]);
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let shown: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(shown["model"]["name"], "work-model");
    assert!(
        stderr(&output).contains("legacy [profiles.work] table")
            && stderr(&output).contains("codex config migrate-profiles"),
        "{}",
        stderr(&output)
    );

    // A file and a table for one profile: which was meant is not guessed.
    std::fs::write(
        layers.home.path().join("work.config.toml"),
        "model = \"x\"\n",
    )
    .unwrap();
    let mut clash = layers.codex();
    clash.args(["-p", "work", "mcp", "list"]);
    let error = failure(clash);
    assert!(
        error.contains("cannot be used while the legacy [profiles.work] table"),
        "{error}"
    );

    // A profile with no file: the base config, with a warning.
    let mut none = layers.codex();
    none.args(["-p", "nope", "config", "show", "--origin", "--json"]);
    let output = none.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("profile `nope` has no file"),
        "{}",
        stderr(&output)
    );
}

fn ok_json_or_text(mut command: assert_cmd::Command) {
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn malformed_overrides_are_errors_with_codex_texts() {
    let layers = Layers::new();
    let mut command = layers.codex();
    command.args(["config", "show", "-c", "model"]);
    assert_eq!(
        failure(command),
        "error: Invalid override (missing '='): model\n"
    );
    let mut command = layers.codex();
    command.args(["-c", " =1", "mcp", "list"]);
    assert_eq!(failure(command), "error: Empty key in override:  =1\n");
}

#[test]
fn wrong_types_are_errors_at_file_line_and_column() {
    let layers = Layers::new();
    let user = layers.home.config_path().display().to_string();
    let cases = [
        (
            "[features]\nunified_exec = \"yes\"\n",
            format!(
                "{user}:2:16: features.unified_exec: expected true or false (or a table with `enabled = true|false`), found a string"
            ),
        ),
        (
            "features = 1\n",
            format!(
                "{user}:1:12: features: expected a table of feature = true|false, found an integer"
            ),
        ),
        (
            "[features.undo]\nenabled = \"on\"\n",
            format!(
                "{user}:1:1: features.undo: expected true or false (or a table with `enabled = true|false`), found `enabled` = a string"
            ),
        ),
        (
            "[feature_bundles.fast]\nundo = 1\n",
            format!(
                "{user}:2:8: feature_bundles.fast.undo: expected true or false (or a table with `enabled = true|false`), found an integer"
            ),
        ),
        (
            "[feature_bundles.fast]\nundo = true\n[model_features]\n\"gpt-*\" = 5\n",
            format!(
                "{user}:4:11: model_features.\"gpt-*\": expected the name of a [feature_bundles.NAME] table, found an integer"
            ),
        ),
        (
            "[feature_bundles.fast]\nundo = true\n[model_features]\n\"gpt-*\" = \"fats\"\n",
            format!(
                "{user}:4:11: model_features.\"gpt-*\": feature bundle `fats` is not defined; add a [feature_bundles.fats] table or fix the name (defined bundles: `fast`)"
            ),
        ),
        (
            "profile = 1\n",
            format!(
                "{user}:1:11: profile: expected a profile name (a legacy setting: pass `--profile NAME` instead), found an integer"
            ),
        ),
        (
            "[profiles.p.features]\nundo = \"x\"\n",
            format!(
                "{user}:2:8: profiles.p.features.undo: expected true or false (or a table with `enabled = true|false`), found a string"
            ),
        ),
        (
            "model = 3\n",
            format!("{user}:1:9: model: expected a model name, found an integer"),
        ),
        (
            "project_root_markers = \".git\"\n",
            format!(
                "{user}:1:24: project_root_markers: expected an array of file or directory names (like [\".git\"]), found a string"
            ),
        ),
    ];
    for (text, expected) in cases {
        layers.home.write_config(text);
        let mut command = layers.codex();
        command.args(["config", "show"]);
        assert_eq!(failure(command), format!("error: {expected}\n"), "{text}");
    }

    // In an override, the error names the override.
    layers.home.write_config("");
    let mut command = layers.codex();
    command.args(["-c", "features.undo=yes", "features", "list"]);
    assert_eq!(
        failure(command),
        "error: in -c override `features.undo=yes`: features.undo: expected true or false (or a table with `enabled = true|false`), found a string\n"
    );

    // A trust level that is neither value.
    let root = layers.project("repo");
    layers.home.write_config(&format!(
        "[projects.\"{}\"]\ntrust_level = \"yes\"\n",
        root.display()
    ));
    let mut command = layers.codex();
    command.current_dir(&root).args(["config", "show"]);
    let error = failure(command);
    assert!(
        error.contains(&format!("{user}:2:15: projects.")),
        "{error}"
    );
    assert!(
        error.contains("expected \"trusted\" or \"untrusted\""),
        "{error}"
    );
}

/// Whether this process can read a file whose mode is 000 (root can).
fn can_read_anything() -> bool {
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("probe");
    fs::write(&probe, "x").unwrap();
    fs::set_permissions(&probe, fs::Permissions::from_mode(0o000)).unwrap();
    fs::read(&probe).is_ok()
}

#[test]
fn an_unreadable_layer_is_an_error_naming_it() {
    let layers = Layers::new();
    layers.home.write_config("model = \"o3\"\n");
    let config = layers.home.config_path();
    fs::set_permissions(&config, fs::Permissions::from_mode(0o000)).unwrap();
    let mut command = layers.codex();
    command.args(["config", "show"]);
    if can_read_anything() {
        // As root the mode does not stop reading: run as `nobody`, who
        // can reach the directory but not the file.
        fs::set_permissions(layers.home.path(), fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(layers.etc.path(), fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(layers.projects.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let program = command.get_program().to_owned();
        let mut wrapped = assert_cmd::Command::new("setpriv");
        wrapped
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(program)
            .args(["config", "show"])
            .env("CODEX_HOME", layers.home.path())
            .env("CODEX_SYSTEM_CONFIG", layers.system())
            .env("CODEX_MANAGED_CONFIG", layers.managed())
            .current_dir(layers.projects.path());
        command = wrapped;
    }
    let error = failure(command);
    assert_eq!(
        error,
        format!(
            "error: could not read {}: Permission denied (os error 13)\n",
            config.display()
        )
    );

    // A layer that is a directory cannot be read either.
    let layers = Layers::new();
    fs::create_dir_all(layers.managed()).unwrap();
    let mut command = layers.codex();
    command.args(["features", "list"]);
    let error = failure(command);
    assert!(
        error.starts_with(&format!(
            "error: could not read {}: ",
            layers.managed().display()
        )),
        "{error}"
    );
}

#[test]
fn a_missing_optional_layer_is_not_an_error() {
    let layers = Layers::new();
    let mut command = layers.codex();
    command.args(["config", "show", "--origin", "--json"]);
    let shown = ok_json(command);
    for layer in shown["layers"].as_array().unwrap() {
        assert_eq!(layer["exists"], false, "{layer}");
    }
    assert_eq!(shown["values"], Value::Array(Vec::new()));
}
