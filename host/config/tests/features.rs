//! Project layers and feature settings from real files: which layers a
//! working directory brings in, and every toggle with its place.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use codex_config::features::{ModelSelector, ProfileSelector, ProfileSource};
use codex_config::{
    CliOverrides, ConfigPaths, LayerKind, Location, SettingScope, feature_settings, load_config,
};

struct Setup {
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    paths: ConfigPaths,
    root: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let home = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(work.path()).unwrap().join("repo");
        std::fs::create_dir_all(root.join(".git")).unwrap();
        let paths = ConfigPaths {
            codex_home: home.path().to_path_buf(),
            system_config: work.path().join("system.toml"),
            managed_config: work.path().join("managed.toml"),
            project_dir: None,
            profile: None,
        };
        Self {
            _dirs: (home, work),
            paths,
            root,
        }
    }

    fn user(&self, text: &str) {
        std::fs::write(self.paths.user_config(), text).unwrap();
    }

    fn project_file(&self, dir: &Path, text: &str) -> PathBuf {
        let file = dir.join(".codex").join("config.toml");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, text).unwrap();
        file
    }

    fn trust(&self) -> String {
        format!(
            "[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
            self.root.display()
        )
    }
}

#[test]
fn project_layers_go_between_user_and_overrides_closest_last() {
    let setup = Setup::new();
    let sub = setup.root.join("a").join("b");
    std::fs::create_dir_all(&sub).unwrap();
    let top = setup.project_file(&setup.root, "x = \"root\"\ny = \"root\"\n");
    let inner = setup.project_file(&sub, "y = \"inner\"\n");
    setup.user(&format!("x = \"user\"\n{}", setup.trust()));
    let paths = setup.paths.clone().with_project_dir(sub.clone());
    let overrides = CliOverrides::parse(["z=1"]).unwrap();
    let loaded = load_config(&paths, &overrides).unwrap();
    let kinds: Vec<(LayerKind, Option<PathBuf>)> = loaded
        .layers()
        .iter()
        .map(|l| (l.kind(), l.path().map(Path::to_path_buf)))
        .collect();
    assert_eq!(
        kinds,
        [
            (LayerKind::System, Some(setup.paths.system_config.clone())),
            (LayerKind::User, Some(setup.paths.user_config())),
            (LayerKind::Project, Some(top)),
            (LayerKind::Project, Some(inner)),
            (LayerKind::SessionFlags, None),
            (LayerKind::Managed, Some(setup.paths.managed_config.clone())),
        ]
    );
    assert_eq!(loaded.get(&["x"]).unwrap().as_str(), Some("root"));
    assert_eq!(loaded.get(&["y"]).unwrap().as_str(), Some("inner"));
    assert_eq!(LayerKind::Project.precedence(), 25);

    // Without a project directory there are no project layers.
    let loaded = load_config(&setup.paths, &overrides).unwrap();
    assert!(
        loaded
            .layers()
            .iter()
            .all(|l| l.kind() != LayerKind::Project)
    );
}

#[test]
fn an_untrusted_project_is_disabled_and_not_parsed() {
    let setup = Setup::new();
    let file = setup.project_file(&setup.root, "not toml at all = =\n");
    setup.user("");
    let paths = setup.paths.clone().with_project_dir(setup.root.clone());
    let loaded = load_config(&paths, &CliOverrides::new()).unwrap();
    let project = loaded
        .layers()
        .iter()
        .find(|l| l.kind() == LayerKind::Project)
        .unwrap();
    assert_eq!(project.path(), Some(file.as_path()));
    assert!(project.exists());
    assert!(project.table().is_empty());
    let reason = project.disabled_reason().unwrap();
    assert!(reason.contains("is not a trusted project"), "{reason}");
}

#[test]
fn settings_come_in_application_order_with_their_places() {
    let setup = Setup::new();
    std::fs::write(&setup.paths.system_config, "[features]\nundo = true\n").unwrap();
    setup.user(
        "model = \"gpt-5\"\nexperimental_use_rmcp_client = false\n\
         [features]\napps = false\n\
         [feature_bundles.b]\nmemories = true\n\
         [model_features]\n\"gpt-*\" = \"b\"\n\
         [profiles.p]\ninclude_apply_patch_tool = true\n[profiles.p.features]\nundo = false\n",
    );
    let overrides = CliOverrides::parse(["features.shell_tool=false"]).unwrap();
    let loaded = load_config(&setup.paths, &overrides).unwrap();
    let settings = feature_settings(&loaded, Some("p"), None).unwrap();
    assert_eq!(
        settings.profile.as_ref().map(|p| (&p.name, &p.selected_by)),
        Some((&"p".to_string(), &ProfileSelector::CommandLine))
    );
    let model = settings.model.as_ref().unwrap();
    assert_eq!(model.name, "gpt-5");
    assert!(matches!(model.selected_by, ModelSelector::Config(_)));
    assert_eq!(settings.bundle.as_ref().unwrap().name, "b");

    let user = setup.paths.user_config();
    let seen: Vec<(String, bool, SettingScope, LayerKind, Option<usize>)> = settings
        .settings
        .iter()
        .map(|s| (s.key.clone(), s.value, s.scope.clone(), s.layer, s.line()))
        .collect();
    let bundle = SettingScope::Bundle {
        bundle: "b".into(),
        model: "gpt-5".into(),
    };
    let profile = SettingScope::Profile { name: "p".into() };
    assert_eq!(
        seen,
        [
            ("memories".into(), true, bundle, LayerKind::User, Some(6)),
            (
                "undo".into(),
                true,
                SettingScope::Features,
                LayerKind::System,
                Some(2)
            ),
            (
                "apps".into(),
                false,
                SettingScope::Features,
                LayerKind::User,
                Some(4)
            ),
            (
                "shell_tool".into(),
                false,
                SettingScope::Features,
                LayerKind::SessionFlags,
                None
            ),
            ("undo".into(), false, profile, LayerKind::User, Some(12)),
        ]
    );
    let apps = &settings.settings[2];
    assert_eq!(apps.file.as_deref(), Some(user.as_path()));
    assert_eq!(
        settings.settings[3].location,
        Location::Override {
            text: "features.shell_tool=false".into()
        }
    );
    // Tables are numbered in application order.
    let tables: Vec<usize> = settings.settings.iter().map(|s| s.table).collect();
    let mut sorted = tables.clone();
    sorted.sort();
    assert_eq!(tables, sorted);
}

#[test]
fn a_profile_is_a_layer_of_its_own_file_over_the_user_file() {
    let setup = Setup::new();
    setup.user("model = \"gpt-5\"\n[features]\ngoals = false\napps = false\n");
    let file = setup.paths.profile_config("work");
    std::fs::write(&file, "model = \"o3\"\n[features]\ngoals = true\n").unwrap();
    let paths = setup.paths.clone().with_profile("work".into());
    let loaded = load_config(&paths, &CliOverrides::new()).unwrap();
    let kinds: Vec<LayerKind> = loaded.layers().iter().map(|l| l.kind()).collect();
    assert_eq!(
        kinds,
        [
            LayerKind::System,
            LayerKind::User,
            LayerKind::Profile,
            LayerKind::SessionFlags,
            LayerKind::Managed
        ]
    );
    let settings = feature_settings(&loaded, Some("work"), None).unwrap();
    assert!(settings.warnings.is_empty(), "{:?}", settings.warnings);
    let profile = settings.profile.unwrap();
    assert_eq!(profile.source, ProfileSource::File(file.clone()));
    assert_eq!(settings.model.unwrap().name, "o3");
    let goals: Vec<(bool, LayerKind)> = settings
        .settings
        .iter()
        .filter(|s| s.key == "goals")
        .map(|s| (s.value, s.layer))
        .collect();
    assert_eq!(
        goals,
        [(false, LayerKind::User), (true, LayerKind::Profile)]
    );
}

#[test]
fn legacy_profiles_are_read_with_a_warning_and_a_clash_is_an_error() {
    let setup = Setup::new();
    setup.user(
        "profile = \"old\"\n[profiles.old]\nmodel = \"o3\"\n[profiles.old.features]\nundo = true\n",
    );
    let loaded = load_config(&setup.paths, &CliOverrides::new()).unwrap();
    let settings = feature_settings(&loaded, None, None).unwrap();
    assert!(matches!(
        settings.profile.as_ref().unwrap().source,
        ProfileSource::Legacy(_)
    ));
    assert_eq!(settings.model.as_ref().unwrap().name, "o3");
    assert_eq!(settings.warnings.len(), 1, "{:?}", settings.warnings);
    assert!(
        settings.warnings[0].contains("`profile = \"old\"` at "),
        "{:?}",
        settings.warnings
    );
    assert!(settings.warnings[0].contains("codex config migrate-profiles"));

    // `-p old` with the legacy table only: applied, with a warning.
    let paths = setup.paths.clone().with_profile("old".into());
    let loaded = load_config(&paths, &CliOverrides::new()).unwrap();
    let settings = feature_settings(&loaded, Some("old"), None).unwrap();
    assert!(settings.settings.iter().any(|s| s.key == "undo" && s.value));
    assert!(
        settings
            .warnings
            .iter()
            .any(|w| w.contains("legacy [profiles.old] table"))
    );

    // `-p old` with both the file and the table: Codex refuses, and so do we.
    std::fs::write(paths.profile_config("old"), "model = \"o4\"\n").unwrap();
    let loaded = load_config(&paths, &CliOverrides::new()).unwrap();
    let error = feature_settings(&loaded, Some("old"), None)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("cannot be used while the legacy [profiles.old] table"),
        "{error}"
    );

    // A profile with neither: the base config, with a warning.
    let paths = setup.paths.clone().with_profile("none".into());
    let loaded = load_config(&paths, &CliOverrides::new()).unwrap();
    let settings = feature_settings(&loaded, Some("none"), None).unwrap();
    assert!(settings.profile.is_none());
    assert!(
        settings.warnings[0].contains("has no file"),
        "{:?}",
        settings.warnings
    );
}
