//! `ConfigPaths::from_env` and `find_codex_home` read the process
//! environment, so they are tested alone in this test binary.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use codex_config::{ConfigPaths, find_codex_home};

#[test]
fn environment_variables_choose_the_files() {
    let home = tempfile::tempdir().unwrap();
    let defaults = ConfigPaths::with_defaults(home.path().to_path_buf());
    assert_eq!(
        defaults.system_config,
        PathBuf::from("/etc/codex/config.toml")
    );
    assert_eq!(
        defaults.managed_config,
        PathBuf::from("/etc/codex/managed_config.toml")
    );
    assert_eq!(defaults.user_config(), home.path().join("config.toml"));

    // SAFETY: this is the only test in this binary, so no other thread
    // reads the environment while it changes.
    unsafe {
        std::env::set_var("CODEX_SYSTEM_CONFIG", "/x/system.toml");
        std::env::set_var("CODEX_MANAGED_CONFIG", "/x/managed.toml");
        std::env::set_var("CODEX_HOME", home.path());
    }
    let paths = ConfigPaths::from_env(home.path().to_path_buf());
    assert_eq!(paths.system_config, PathBuf::from("/x/system.toml"));
    assert_eq!(paths.managed_config, PathBuf::from("/x/managed.toml"));
    assert_eq!(
        find_codex_home().unwrap(),
        std::fs::canonicalize(home.path()).unwrap()
    );

    // SAFETY: as above.
    unsafe {
        std::env::set_var("CODEX_SYSTEM_CONFIG", "");
        std::env::remove_var("CODEX_MANAGED_CONFIG");
        std::env::set_var("CODEX_HOME", home.path().join("missing"));
    }
    let paths = ConfigPaths::from_env(home.path().to_path_buf());
    assert_eq!(paths, defaults);
    let err = find_codex_home().unwrap_err();
    assert!(
        err.to_string().ends_with("but that path does not exist"),
        "{err}"
    );
}
