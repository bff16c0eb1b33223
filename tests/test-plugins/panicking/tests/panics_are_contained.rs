//! Loads the built plugin through the ABI, as the host does, and checks that
//! its deliberate panics come back as `Internal` errors.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use codex_plugin_api::abi_stable::{
    library::lib_header_from_path,
    sabi_trait::TD_Opaque,
    std_types::{ROption, RResult, RStr, RString},
};
use codex_plugin_api::{
    ConnectRequest, ErrorKind, HostServicesBox, HostServicesFfi, LogLevel, MessageSinkBox,
    MessageSinkFfi, PluginError, PluginModuleRef, ServiceDecl, ServiceKind,
};

/// The cdylib cargo built for this package: it sits in the profile directory,
/// one level above this test executable (`<target>/<profile>/deps/`).
/// `cargo test` does not build a cdylib for an integration test, so the
/// library must be built first; `tests/run.sh` builds every target before
/// running tests.
fn built_library() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let path = profile_dir.join(format!(
        "{}test_plugin_panicking{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build -p test-plugin-panicking` first",
        path.display()
    );
    path
}

/// Host services that offer nothing; the plugin never calls them.
struct NoHost;

impl HostServicesFfi for NoHost {
    fn log(&self, _level: LogLevel, _message: RStr<'_>) {}
    fn feature_enabled(&self, _key: RStr<'_>) -> ROption<bool> {
        ROption::RNone
    }
    fn codex_home(&self) -> RString {
        RString::new()
    }
    fn credential_load(
        &self,
        _service: RStr<'_>,
        _account: RStr<'_>,
    ) -> RResult<ROption<RString>, PluginError> {
        RResult::ROk(ROption::RNone)
    }
    fn credential_store(
        &self,
        _service: RStr<'_>,
        _account: RStr<'_>,
        _secret: RStr<'_>,
    ) -> RResult<(), PluginError> {
        RResult::ROk(())
    }
    fn credential_delete(
        &self,
        _service: RStr<'_>,
        _account: RStr<'_>,
    ) -> RResult<bool, PluginError> {
        RResult::ROk(false)
    }
    fn notify_user(&self, _message: RStr<'_>) {}
    fn open_url(&self, _url: RStr<'_>) -> RResult<(), PluginError> {
        RResult::ROk(())
    }
    fn read_line(&self, _prompt: RStr<'_>) -> RResult<RString, PluginError> {
        RResult::ROk(RString::new())
    }
}

fn host() -> HostServicesBox {
    HostServicesBox::from_value(NoHost, TD_Opaque)
}

struct DiscardSink;

impl MessageSinkFfi for DiscardSink {
    fn deliver(&self, _message: RString) {}
    fn closed(&self, _reason: PluginError) {}
}

// One test per executable: the marker variable must be set before the library
// is opened, and a library's constructors run only once per process.
#[test]
fn every_deliberate_panic_comes_back_as_an_internal_error() {
    let marker = std::env::temp_dir().join(format!(
        "codex-test-panicking-marker-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&marker);
    // SAFETY: this is the only test in this executable, so no other thread
    // reads the environment while it changes.
    unsafe { std::env::set_var("CODEX_TEST_PLUGIN_MARKER", &marker) };

    let header = lib_header_from_path(&built_library()).unwrap();

    let written = std::fs::read_to_string(&marker).unwrap();
    std::fs::remove_file(&marker).unwrap();
    assert_eq!(written, "test_plugin_panicking\n");

    let module = header.init_root_module::<PluginModuleRef>().unwrap();

    let manifest = module.manifest()().unwrap();
    assert_eq!(manifest.name.as_str(), "panicking");
    assert_eq!(
        manifest.services.as_slice(),
        [
            ServiceDecl {
                kind: ServiceKind::Transport,
                name: "panicking".into()
            },
            ServiceDecl {
                kind: ServiceKind::CredentialBackend,
                name: "panicking".into()
            },
        ]
    );

    let transport = module.transport()("panicking".into(), host()).unwrap();
    let request = ConnectRequest {
        server_name: "demo".into(),
        config_json: "{}".into(),
        timeout_ms: 1000,
    };
    let sink = MessageSinkBox::from_value(DiscardSink, TD_Opaque);
    let error = match transport.connect(request, sink) {
        RResult::ROk(_) => panic!("connect returned a connection instead of panicking"),
        RResult::RErr(error) => error,
    };
    assert_eq!(error.kind, ErrorKind::Internal);
    assert_eq!(
        error.message.as_str(),
        "transport connect panicked: deliberate panic in connect"
    );

    let backend = module.credential_backend()("panicking".into(), host(), "{}".into()).unwrap();
    let error = backend
        .load("Codex MCP Credentials".into(), "demo|0".into())
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Internal);
    assert_eq!(
        error.message.as_str(),
        "credential load panicked: deliberate panic in credential load"
    );
    backend
        .store("Codex MCP Credentials".into(), "demo|0".into(), "x".into())
        .unwrap();

    let unknown = match module.transport()("other".into(), host()) {
        RResult::ROk(_) => panic!("an undeclared transport was created"),
        RResult::RErr(error) => error,
    };
    assert_eq!(unknown.kind, ErrorKind::NotFound);
}
