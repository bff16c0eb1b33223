//! Loads the built library the way the host does and checks that API 1.x
//! refuses it for its version, and that opening it wrote the load marker.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use abi_stable::library::{LibraryError, lib_header_from_path};
use codex_plugin_api::{API_VERSION, PluginModuleRef};

/// The cdylib cargo built for this package: it sits in the profile directory,
/// one level above this test executable (`<target>/<profile>/deps/`).
/// `cargo test` does not build a cdylib for an integration test, so the
/// library must be built first; `tests/run.sh` builds every target before
/// running tests.
fn built_library() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let path = profile_dir.join(format!(
        "{}test_plugin_incompatible{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build -p test-plugin-incompatible` first",
        path.display()
    );
    path
}

// One test per executable: the marker variable must be set before the library
// is opened, and a library's constructors run only once per process.
#[test]
fn api_1_refuses_the_library_with_both_versions_named() {
    let marker = std::env::temp_dir().join(format!(
        "codex-test-incompatible-marker-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&marker);
    // SAFETY: this is the only test in this executable, so no other thread
    // reads the environment while it changes.
    unsafe { std::env::set_var("CODEX_TEST_PLUGIN_MARKER", &marker) };

    let header = lib_header_from_path(&built_library()).unwrap();

    let written = std::fs::read_to_string(&marker).unwrap();
    std::fs::remove_file(&marker).unwrap();
    assert_eq!(written, "test_plugin_incompatible\n");

    assert_eq!(header.root_mod_consts().name().as_str(), "codex plugin");
    assert_eq!(header.version_strings().version.as_str(), "2.0.0");

    let error = match header.init_root_module::<PluginModuleRef>() {
        Ok(_) => panic!("a 2.0.0 library was accepted by API {API_VERSION}"),
        Err(error) => error,
    };
    match &error {
        LibraryError::IncompatibleVersionNumber {
            library_name,
            expected_version,
            actual_version,
        } => {
            assert_eq!(*library_name, "codex plugin");
            assert_eq!(expected_version.to_string(), API_VERSION);
            assert_eq!(actual_version.to_string(), "2.0.0");
        }
        other => panic!("expected IncompatibleVersionNumber, got: {other}"),
    }
    let message = error.to_string();
    assert!(message.contains("2.0.0"), "{message}");
    assert!(message.contains(API_VERSION), "{message}");
}
