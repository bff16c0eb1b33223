//! The feature registry through the binary: precedence of every source,
//! `codex features list|enable|disable|explain`, warnings and errors, a
//! plugin's own feature, the host features that gate behaviour, and
//! compatibility with the published Codex CLI.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use codex_test_support::{Home, built_library, demo_server, install_plugin, stderr, stdout};
use serde_json::Value;

/// A CODEX_HOME, system and managed files, and a project with `.git`.
struct Setup {
    home: Home,
    etc: tempfile::TempDir,
    projects: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        Setup {
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

    fn project_root(&self) -> PathBuf {
        let root = fs::canonicalize(self.projects.path()).unwrap().join("repo");
        fs::create_dir_all(root.join(".git")).unwrap();
        root
    }

    fn project_config(&self) -> PathBuf {
        self.project_root().join(".codex").join("config.toml")
    }

    /// `codex` run in the project, with every layer pointed at this setup.
    fn codex(&self) -> assert_cmd::Command {
        let mut command = self.home.codex();
        command
            .env("CODEX_SYSTEM_CONFIG", self.system())
            .env("CODEX_MANAGED_CONFIG", self.managed())
            .current_dir(self.project_root());
        command
    }
}

fn ok(mut command: assert_cmd::Command) -> std::process::Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        stdout(&output),
        stderr(&output)
    );
    output
}

fn ok_json(command: assert_cmd::Command) -> Value {
    serde_json::from_slice(&ok(command).stdout).unwrap()
}

fn failure(mut command: assert_cmd::Command) -> String {
    let output = command.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout: {}\nstderr: {}",
        stdout(&output),
        stderr(&output)
    );
    stderr(&output)
}

/// `features list --json` as key -> entry.
fn feature_list(command: assert_cmd::Command) -> Vec<Value> {
    ok_json(command).as_array().unwrap().clone()
}

fn entry<'a>(list: &'a [Value], key: &str) -> &'a Value {
    list.iter()
        .find(|e| e["key"] == key)
        .unwrap_or_else(|| panic!("no feature `{key}`"))
}

// ---------------------------------------------------------------------------
// Precedence: every pair of adjacent sources, through the binary.

/// The sources of a feature value above the default, lowest first.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Src {
    Bundle,
    System,
    User,
    Project,
    Profile,
    Override,
    Flag,
    Managed,
}

/// Files and flags for one run, built from dotted keys so that lines are
/// easy to count.
#[derive(Default)]
struct Run {
    system: Vec<String>,
    user: Vec<String>,
    project: Vec<String>,
    managed: Vec<String>,
    args: Vec<String>,
}

/// What `features explain` should report for a source.
#[derive(Debug)]
struct Expected {
    kind: &'static str,
    file: Option<PathBuf>,
    line: Option<u64>,
}

const KEY: &str = "memories";

impl Run {
    fn push(lines: &mut Vec<String>, line: String) -> u64 {
        lines.push(line);
        lines.len() as u64
    }

    fn set(&mut self, setup: &Setup, source: Src, value: bool) -> Expected {
        let user_file = setup.home.config_path();
        match source {
            Src::Bundle => {
                Self::push(&mut self.user, "model = \"test-model\"".into());
                Self::push(&mut self.user, "model_features.\"test-*\" = \"b\"".into());
                let line = Self::push(&mut self.user, format!("feature_bundles.b.{KEY} = {value}"));
                Expected {
                    kind: "model_bundle",
                    file: Some(user_file),
                    line: Some(line),
                }
            }
            Src::System => Expected {
                kind: "config_file",
                line: Some(Self::push(
                    &mut self.system,
                    format!("features.{KEY} = {value}"),
                )),
                file: Some(setup.system()),
            },
            Src::User => Expected {
                kind: "config_file",
                line: Some(Self::push(
                    &mut self.user,
                    format!("features.{KEY} = {value}"),
                )),
                file: Some(user_file),
            },
            Src::Project => {
                Self::push(
                    &mut self.user,
                    format!(
                        "projects.\"{}\".trust_level = \"trusted\"",
                        setup.project_root().display()
                    ),
                );
                Expected {
                    kind: "config_file",
                    line: Some(Self::push(
                        &mut self.project,
                        format!("features.{KEY} = {value}"),
                    )),
                    file: Some(setup.project_config()),
                }
            }
            Src::Profile => {
                self.args.extend(["-p".into(), "p".into()]);
                Expected {
                    kind: "profile",
                    line: Some(Self::push(
                        &mut self.user,
                        format!("profiles.p.features.{KEY} = {value}"),
                    )),
                    file: Some(user_file),
                }
            }
            Src::Override => {
                self.args
                    .extend(["-c".into(), format!("features.{KEY}={value}")]);
                Expected {
                    kind: "config_override",
                    file: None,
                    line: None,
                }
            }
            Src::Flag => {
                let flag = if value { "--enable" } else { "--disable" };
                self.args.extend([flag.into(), KEY.into()]);
                Expected {
                    kind: "command_line",
                    file: None,
                    line: None,
                }
            }
            Src::Managed => Expected {
                kind: "managed",
                line: Some(Self::push(
                    &mut self.managed,
                    format!("features.{KEY} = {value}"),
                )),
                file: Some(setup.managed()),
            },
        }
    }

    fn write(&self, setup: &Setup) {
        let text = |lines: &[String]| lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        fs::write(setup.system(), text(&self.system)).unwrap();
        setup.home.write_config(&text(&self.user));
        fs::create_dir_all(setup.project_config().parent().unwrap()).unwrap();
        fs::write(setup.project_config(), text(&self.project)).unwrap();
        fs::write(setup.managed(), text(&self.managed)).unwrap();
    }
}

fn check_history_entry(entry: &Value, expected: &Expected, value: bool, context: &str) {
    assert_eq!(
        entry["source"]["kind"], expected.kind,
        "{context}: {entry:#}"
    );
    assert_eq!(
        entry["source"]["file"].as_str().map(PathBuf::from),
        expected.file,
        "{context}: {entry:#}"
    );
    assert_eq!(
        entry["source"]["line"].as_u64(),
        expected.line,
        "{context}: {entry:#}"
    );
    assert_eq!(entry["value"], value, "{context}: {entry:#}");
}

#[test]
fn each_source_beats_the_one_below_it() {
    use Src::*;
    let pairs: [(Option<Src>, Src); 8] = [
        (None, Bundle),
        (Some(Bundle), System),
        (Some(System), User),
        (Some(User), Project),
        (Some(Project), Profile),
        (Some(Profile), Override),
        (Some(Override), Flag),
        (Some(Flag), Managed),
    ];
    for (lower, higher) in pairs {
        for value in [true, false] {
            let context = format!("{lower:?} < {higher:?} = {value}");
            let setup = Setup::new();
            let mut run = Run::default();
            let low = lower.map(|lower| run.set(&setup, lower, !value));
            let high = run.set(&setup, higher, value);
            run.write(&setup);

            let mut command = setup.codex();
            command
                .args(&run.args)
                .args(["features", "explain", KEY, "--json"]);
            let explained = ok_json(command);
            assert_eq!(explained["enabled"], value, "{context}: {explained:#}");
            assert_eq!(explained["source"]["kind"], high.kind, "{context}");
            let history = explained["history"].as_array().unwrap();
            assert_eq!(history[0]["source"]["kind"], "default", "{context}");
            assert_eq!(history[0]["value"], false, "{context}");
            let rest = &history[1..];
            match &low {
                Some(low) => {
                    assert_eq!(rest.len(), 2, "{context}: {explained:#}");
                    check_history_entry(&rest[0], low, !value, &context);
                    check_history_entry(&rest[1], &high, value, &context);
                }
                None => {
                    assert_eq!(rest.len(), 1, "{context}: {explained:#}");
                    check_history_entry(&rest[0], &high, value, &context);
                }
            }
            let effective: Vec<bool> = history
                .iter()
                .map(|h| h["effective"].as_bool().unwrap())
                .collect();
            assert_eq!(effective.iter().filter(|e| **e).count(), 1, "{context}");
            assert_eq!(effective.last(), Some(&true), "{context}");

            // `features list` agrees, and the run's value reaches the list.
            let mut list = setup.codex();
            list.args(&run.args).args(["features", "list", "--json"]);
            let list = feature_list(list);
            assert_eq!(entry(&list, KEY)["enabled"], value, "{context}");
            assert_eq!(entry(&list, KEY)["source"]["kind"], high.kind, "{context}");
        }
    }
}

#[test]
fn explain_prints_every_layer_in_order_with_file_and_line() {
    let setup = Setup::new();
    let mut run = Run::default();
    run.set(&setup, Src::System, true);
    run.set(&setup, Src::User, false);
    run.set(&setup, Src::Profile, true);
    run.set(&setup, Src::Flag, false);
    run.write(&setup);
    let mut command = setup.codex();
    command.args(&run.args).args(["features", "explain", KEY]);
    let text = stdout(&ok(command));
    let user = setup.home.config_path().display().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0], "memories = false (set by --enable/--disable)",
        "{text}"
    );
    let rows: Vec<String> = lines
        .iter()
        .skip_while(|l| !l.contains("lowest precedence first"))
        .skip(1)
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        rows,
        [
            "1. default false".to_string(),
            format!("2. {}:1 true", setup.system().display()),
            format!("3. {user}:1 false"),
            format!("4. profile `p` ({user}:2) true"),
            "5. --enable/--disable false <- effective".to_string(),
        ],
        "{text}"
    );
}

// ---------------------------------------------------------------------------
// Bundles.

#[test]
fn the_model_chooses_the_bundle_exact_names_beating_globs() {
    let setup = Setup::new();
    setup.home.write_config(
        "model = \"gpt-5-codex\"\n\
         [model_features]\n\"gpt-*\" = \"wide\"\n\"gpt-5*\" = \"narrow\"\n\"o3\" = \"exact\"\n\"o?\" = \"glob\"\n\
         [feature_bundles.wide]\nundo = true\n\
         [feature_bundles.narrow]\nmemories = true\n\
         [feature_bundles.exact]\napps = false\n\
         [feature_bundles.glob]\nshell_tool = false\n",
    );
    let bundle = |args: &[&str]| {
        let mut command = setup.codex();
        command
            .args(args)
            .args(["config", "show", "--origin", "--json"]);
        ok_json(command)["feature_bundle"]["name"]
            .as_str()
            .map(str::to_string)
    };
    assert_eq!(bundle(&[]).as_deref(), Some("narrow"), "most literal glob");
    assert_eq!(bundle(&["-m", "gpt-4.1"]).as_deref(), Some("wide"));
    assert_eq!(bundle(&["-m", "o3"]).as_deref(), Some("exact"));
    assert_eq!(bundle(&["-m", "o4"]).as_deref(), Some("glob"));
    assert_eq!(bundle(&["-m", "claude"]), None);

    let mut list = setup.codex();
    list.args(["-m", "o3", "features", "list", "--json"]);
    let list = feature_list(list);
    let apps = entry(&list, "apps");
    assert_eq!(apps["enabled"], false);
    assert_eq!(apps["source"]["bundle"], "exact");
    assert_eq!(apps["source"]["model"], "o3");
    assert_eq!(apps["source"]["line"], 12);
    assert_eq!(
        entry(&list, "memories")["enabled"],
        false,
        "other bundles do not apply"
    );
}

// ---------------------------------------------------------------------------
// Warnings and errors.

#[test]
fn an_unknown_key_in_config_is_one_warning_with_file_and_line() {
    let setup = Setup::new();
    setup
        .home
        .write_config("# mine\n[features]\nmemoris = true\ngoals = false\n");
    let user = setup.home.config_path().display().to_string();
    let expected = format!(
        "warning: unknown feature `memoris` (set by {user}:3); did you mean `memories`? \
         `codex features list` shows every feature\n"
    );
    for args in [
        vec!["mcp", "list"],
        vec!["features", "list"],
        vec!["features", "explain", "goals"],
        vec!["config", "show"],
    ] {
        let mut command = setup.codex();
        command.args(&args);
        let output = ok(command);
        assert_eq!(stderr(&output), expected, "{args:?}");
    }
    let mut list = setup.codex();
    list.args(["features", "list", "--json"]);
    assert_eq!(entry(&feature_list(list), "goals")["enabled"], false);
}

#[test]
fn an_unknown_key_on_the_command_line_is_an_error_with_a_suggestion() {
    let setup = Setup::new();
    for (args, expected) in [
        (
            vec!["--enable", "unifed_exec", "mcp", "list"],
            "error: unknown feature `unifed_exec` in `--enable unifed_exec`\nhelp: did you mean `unified_exec`? `codex features list` shows them all\n",
        ),
        (
            vec!["mcp", "list", "--disable", "memoris"],
            "error: unknown feature `memoris` in `--disable memoris`\nhelp: did you mean `memories`? `codex features list` shows them all\n",
        ),
        (
            vec!["features", "enable", "memoris"],
            "error: unknown feature `memoris`\nhelp: did you mean `memories`? `codex features list` shows them all\n",
        ),
        (
            vec!["features", "explain", "xyzzy"],
            "error: unknown feature `xyzzy`\nhelp: `codex features list` shows every feature\n",
        ),
    ] {
        let mut command = setup.codex();
        command.args(&args);
        assert_eq!(failure(command), expected, "{args:?}");
    }
    assert!(!setup.home.config_path().exists(), "nothing was written");
}

#[test]
fn a_real_codex_config_loads_without_warnings() {
    let setup = Setup::new();
    // What Codex 0.169 itself reads without a word: its current keys, its
    // legacy names, the table form, removed keys and old top-level toggles.
    setup.home.write_config(
        "model = \"gpt-5-codex\"\n\
         experimental_use_rmcp_client = true\n\
         experimental_use_unified_exec_tool = true\n\
         [features]\n\
         goals = true\nunified_exec = true\nview_image_tool = true\napply_patch_freeform = false\n\
         web_search_request = true\nrmcp_client = true\nweb_search = true\njs_repl = false\n\
         collab = false\nmemory_tool = true\nsqlite = false\n\
         [features.multi_agent_v2]\nenabled = true\n\
         [features.guardianv2]\nthread_context = true\n\
         [mcp_servers.demo]\ncommand = \"srv\"\n",
    );
    fs::write(
        setup.home.path().join("fast.config.toml"),
        "[features]\ncode_mode = true\n",
    )
    .unwrap();
    for args in [
        vec!["mcp", "list"],
        vec!["features", "list"],
        vec!["-p", "fast", "mcp", "list"],
        vec!["--enable", "goals", "mcp", "list"],
    ] {
        let mut command = setup.codex();
        command.args(&args);
        let output = ok(command);
        assert_eq!(stderr(&output), "", "{args:?}");
    }
    let mut list = setup.codex();
    list.args(["-p", "fast", "features", "list", "--json"]);
    let list = feature_list(list);
    for (key, enabled) in [
        ("goals", true),
        ("multi_agent", false),
        ("memories", true),
        ("multi_agent_v2", true),
        ("sqlite", false),
        ("apply_patch_freeform", false),
        ("code_mode", true),
    ] {
        assert_eq!(entry(&list, key)["enabled"], enabled, "{key}");
    }
    assert_eq!(entry(&list, "goals")["origin"], "codex");
    // A canonical key beats its legacy name in the same table, as in Codex.
    setup
        .home
        .write_config("[features]\nmulti_agent = false\ncollab = true\n");
    let mut list = setup.codex();
    list.args(["features", "list", "--json"]);
    assert_eq!(entry(&feature_list(list), "multi_agent")["enabled"], false);
}

#[test]
fn a_managed_pin_wins_and_contradictions_name_the_managed_file() {
    let setup = Setup::new();
    setup.home.write_config("[features]\nmemories = true\n");
    fs::write(setup.managed(), "[features]\nmemories = false\n").unwrap();
    let mut command = setup.codex();
    command.args(["--enable", "memories", "features", "list", "--json"]);
    let output = ok(command);
    let list: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(entry(&list, "memories")["enabled"], false);
    assert_eq!(entry(&list, "memories")["source"]["kind"], "managed");
    let managed = setup.managed().display().to_string();
    let user = setup.home.config_path().display().to_string();
    assert_eq!(
        stderr(&output),
        format!(
            "warning: `memories = true` (set by {user}:2) is ignored: managed config {managed}:2 pins `memories = false`\n\
             warning: `memories = true` (set by --enable/--disable) is ignored: managed config {managed}:2 pins `memories = false`\n"
        )
    );
}

// ---------------------------------------------------------------------------
// enable / disable.

#[test]
fn enable_and_disable_edit_the_user_config_and_say_what_changed() {
    let setup = Setup::new();
    setup.home.write_config(
        "# my settings\nmodel = \"o3\" # keep me\n\n# toggles\n[features]\nundo = true\n",
    );
    let user = setup.home.config_path().display().to_string();
    let say = |args: &[&str]| {
        let mut command = setup.codex();
        command.args(args);
        let output = ok(command);
        (stdout(&output), stderr(&output))
    };

    assert_eq!(
        say(&["features", "enable", "memories"]).0,
        format!("Enabled feature `memories` in {user}: set `features.memories = true`.\n")
    );
    assert_eq!(
        say(&["features", "enable", "memories"]).0,
        format!("Enabled feature `memories` in {user} (it already was; nothing changed).\n")
    );
    assert_eq!(
        say(&["features", "disable", "undo"]).0,
        format!("Disabled feature `undo` in {user}: removed `features.undo`.\n"),
        "a default-off feature is removed, as Codex does"
    );
    assert_eq!(
        say(&["features", "disable", "apps"]).0,
        format!("Disabled feature `apps` in {user}: set `features.apps = false`.\n")
    );
    // A legacy name is written as given, as Codex writes it.
    let (out, err) = say(&["features", "disable", "collab"]);
    assert_eq!(
        out,
        format!("Disabled feature `collab` in {user}: set `features.collab = false`.\n")
    );
    assert_eq!(err, "");
    let fast = setup.home.path().join("fast.config.toml");
    assert_eq!(
        say(&["-p", "fast", "features", "enable", "code_mode"]).0,
        format!(
            "Enabled feature `code_mode` in profile `fast` ({}): set `features.code_mode = true`.\n",
            fast.display()
        )
    );
    assert_eq!(
        fs::read_to_string(&fast).unwrap(),
        "[features]\ncode_mode = true\n"
    );
    assert_eq!(
        setup.home.read_config(),
        "# my settings\nmodel = \"o3\" # keep me\n\n# toggles\n[features]\nmemories = true\n\
         apps = false\ncollab = false\n"
    );

    // The edits are what the next run sees.
    let mut list = setup.codex();
    list.args(["-p", "fast", "features", "list", "--json"]);
    let list = feature_list(list);
    for (key, value) in [
        ("memories", true),
        ("apps", false),
        ("code_mode", true),
        ("multi_agent", false),
    ] {
        assert_eq!(entry(&list, key)["enabled"], value, "{key}");
    }

    // Something above the user file still decides: say so.
    fs::write(setup.managed(), "[features]\nshell_tool = true\n").unwrap();
    let (_, err) = say(&["features", "disable", "shell_tool"]);
    assert!(
        err.contains(&format!(
            "`shell_tool` stays on for runs like this one: managed config {}:2 sets it last",
            setup.managed().display()
        )),
        "{err}"
    );
}

// ---------------------------------------------------------------------------
// A plugin's own feature.

fn featureful_home() -> Setup {
    let setup = Setup::new();
    let library = built_library("test_plugin_featureful");
    install_plugin(&library, &setup.home.plugin_dir(), "featureful");
    setup
        .home
        .write_config("[mcp_servers.srv]\ntransport = \"featureful\"\n");
    setup
}

fn greet(setup: &Setup, args: &[&str]) -> (String, String) {
    let mut command = setup.codex();
    command.args(args).args(["mcp", "call", "srv", "greet"]);
    let output = ok(command);
    (stdout(&output), stderr(&output))
}

#[test]
fn a_plugin_feature_changes_what_the_plugin_does() {
    let setup = featureful_home();
    assert_eq!(greet(&setup, &[]).0.trim(), "hello");
    assert_eq!(
        greet(&setup, &["--enable", "featureful_shout"]).0.trim(),
        "HELLO"
    );
    assert_eq!(
        greet(&setup, &["-c", "features.featureful_shout=true"])
            .0
            .trim(),
        "HELLO"
    );
    let mut list = setup.codex();
    list.args(["features", "list", "--json"]);
    let list = feature_list(list);
    let shout = entry(&list, "featureful_shout");
    assert_eq!(shout["origin"], "plugin");
    assert_eq!(shout["plugin"], "featureful");
    assert_eq!(shout["stage"], "experimental");
    assert_eq!(shout["enabled"], false);

    let mut text = setup.codex();
    text.args(["features", "list"]);
    let text = stdout(&ok(text));
    let row = text
        .lines()
        .find(|l| l.starts_with("featureful_shout"))
        .unwrap();
    assert!(row.ends_with("plugin `featureful`"), "{row}");

    // In a config file the plugin's key is known: no warning.
    setup.home.write_config(
        "[mcp_servers.srv]\ntransport = \"featureful\"\n[features]\nfeatureful_shout = true\n",
    );
    let (out, err) = greet(&setup, &[]);
    assert_eq!((out.trim(), err.as_str()), ("HELLO", ""));
    let (out, _) = greet(&setup, &["--disable", "featureful_shout"]);
    assert_eq!(out.trim(), "hello");
}

// ---------------------------------------------------------------------------
// Host features gate behaviour.

#[test]
fn concurrent_mcp_startup_off_connects_one_server_after_another() {
    let setup = Setup::new();
    let demo = demo_server();
    let mut config = String::new();
    for name in ["a", "b", "c"] {
        config.push_str(&format!(
            "[mcp_servers.{name}]\ncommand = \"{}\"\nargs = [\"--startup-delay-ms\", \"1500\"]\n",
            demo.display()
        ));
    }
    setup.home.write_config(&config);
    let timed = |args: &[&str]| {
        let mut command = setup.codex();
        command.args(args).args(["mcp", "tools", "--json"]);
        let started = Instant::now();
        let listed = ok_json(command);
        assert_eq!(listed["servers"].as_array().unwrap().len(), 3);
        started.elapsed()
    };
    let serial = timed(&["--disable", "concurrent_mcp_startup"]);
    assert!(serial >= Duration::from_millis(4500), "{serial:?}");
    let concurrent = timed(&[]);
    assert!(
        concurrent < Duration::from_millis(4500),
        "three 1.5 s start-ups at once took {concurrent:?}"
    );
}
