//! The backend against a real helper program: `fixtures/json-file-credential-helper`,
//! a docker credential helper (Python) keeping its entries in a JSON file,
//! created through the plugin's exported entry points as the host does.

// Test code: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use codex_credential_helper::{HelperPlugin, server_url};
use codex_plugin_api::abi_stable::sabi_trait::TD_Opaque;
use codex_plugin_api::abi_stable::std_types::{ROption, RResult, RStr, RString};
use codex_plugin_api::{
    CredentialBackendBox, ErrorKind, HostServicesBox, HostServicesFfi, LogLevel, PluginError,
    ServiceKind, root_module,
};
use serde_json::Value;

const MCP: &str = "Codex MCP Credentials";
const AUTH: &str = "Codex Auth";
const SECRET: &str = "sk-helper-test-7f3a9c1e5b2d";

struct NoHost;

fn refuse<T>() -> RResult<T, PluginError> {
    RResult::RErr(PluginError::not_found("not offered by the test host"))
}

impl HostServicesFfi for NoHost {
    fn log(&self, _level: LogLevel, _message: RStr<'_>) {}
    fn feature_enabled(&self, _key: RStr<'_>) -> ROption<bool> {
        ROption::RNone
    }
    fn codex_home(&self) -> RString {
        RString::new()
    }
    fn credential_load(&self, _: RStr<'_>, _: RStr<'_>) -> RResult<ROption<RString>, PluginError> {
        refuse()
    }
    fn credential_store(&self, _: RStr<'_>, _: RStr<'_>, _: RStr<'_>) -> RResult<(), PluginError> {
        refuse()
    }
    fn credential_delete(&self, _: RStr<'_>, _: RStr<'_>) -> RResult<bool, PluginError> {
        refuse()
    }
    fn notify_user(&self, _message: RStr<'_>) {}
    fn open_url(&self, _url: RStr<'_>) -> RResult<(), PluginError> {
        refuse()
    }
    fn read_line(&self, _prompt: RStr<'_>) -> RResult<RString, PluginError> {
        refuse()
    }
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/json-file-credential-helper")
}

/// A helper in a temporary directory: a wrapper script (the configured
/// `program`) that runs the fixture on `entries.json` there.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(fail: Option<&str>) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let mut script = format!(
            "#!/bin/sh\nexport CODEX_TEST_HELPER_FILE='{}'\nexport CODEX_TEST_HELPER_ARGV_LOG='{}'\n",
            dir.path().join("entries.json").display(),
            dir.path().join("argv.log").display()
        );
        if let Some(fail) = fail {
            script.push_str(&format!("export CODEX_TEST_HELPER_FAIL='{fail}'\n"));
        }
        script.push_str(&format!("exec '{}' \"$@\"\n", fixture().display()));
        let program = dir.path().join("docker-credential-test");
        fs::write(&program, script).unwrap();
        fs::set_permissions(&program, fs::Permissions::from_mode(0o755)).unwrap();
        Setup { dir }
    }

    fn program(&self) -> PathBuf {
        self.dir.path().join("docker-credential-test")
    }

    fn backend(&self, extra_options: &str) -> CredentialBackendBox {
        let options = format!(
            r#"{{"program": "{}"{extra_options}}}"#,
            self.program().display()
        );
        create("helper", &options).unwrap()
    }

    fn entries(&self) -> Value {
        let text = fs::read_to_string(self.dir.path().join("entries.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn argv_log(&self) -> String {
        fs::read_to_string(self.dir.path().join("argv.log")).unwrap_or_default()
    }
}

fn create(name: &str, options: &str) -> Result<CredentialBackendBox, PluginError> {
    let host = HostServicesBox::from_value(NoHost, TD_Opaque);
    let module = root_module::<HelperPlugin>();
    (module.credential_backend())(name.into(), host, options.into()).into_result()
}

fn load(
    backend: &CredentialBackendBox,
    service: &str,
    account: &str,
) -> Result<Option<String>, PluginError> {
    backend
        .load(service.into(), account.into())
        .into_result()
        .map(|found| found.into_option().map(RString::into_string))
}

fn store(
    backend: &CredentialBackendBox,
    service: &str,
    account: &str,
    secret: &str,
) -> Result<(), PluginError> {
    backend
        .store(service.into(), account.into(), secret.into())
        .into_result()
}

fn delete(
    backend: &CredentialBackendBox,
    service: &str,
    account: &str,
) -> Result<bool, PluginError> {
    backend.delete(service.into(), account.into()).into_result()
}

#[test]
fn manifest_names_the_plugin_and_its_backend() {
    let manifest = (root_module::<HelperPlugin>().manifest())()
        .into_result()
        .unwrap();
    assert_eq!(manifest.name.as_str(), "credential_helper");
    assert_eq!(manifest.services.len(), 1);
    assert_eq!(manifest.services[0].kind, ServiceKind::CredentialBackend);
    assert_eq!(manifest.services[0].name.as_str(), "helper");
    let Err(error) = create("vault", "{}") else {
        panic!("a backend named vault was created");
    };
    assert_eq!(error.kind, ErrorKind::NotFound);
}

#[test]
fn store_load_delete_round_trip_through_a_real_helper() {
    let setup = Setup::new(None);
    let backend = setup.backend("");
    let account = "docs|9a70b85417749d5c";
    let record = format!(
        r#"{{"token_response":{{"access_token":"{SECRET}"}},"note":"a \"quoted\" value"}}"#
    );

    assert_eq!(load(&backend, MCP, account).unwrap(), None);
    store(&backend, MCP, account, &record).unwrap();
    store(&backend, AUTH, "cli|0123456789abcdef", SECRET).unwrap();

    // The helper filed them under Codex's URLs with the account as user name.
    let entries = setup.entries();
    let url = "codex://credentials/Codex%20MCP%20Credentials/docs%7C9a70b85417749d5c";
    assert_eq!(server_url(MCP, account), url);
    assert_eq!(entries[url]["Username"], account);
    assert_eq!(entries[url]["Secret"], record.as_str());
    assert_eq!(entries.as_object().unwrap().len(), 2);

    assert_eq!(
        load(&backend, MCP, account).unwrap().as_deref(),
        Some(record.as_str())
    );
    assert_eq!(
        load(&backend, AUTH, "cli|0123456789abcdef")
            .unwrap()
            .as_deref(),
        Some(SECRET)
    );

    // Replacing keeps one entry.
    store(&backend, MCP, account, "second").unwrap();
    assert_eq!(
        load(&backend, MCP, account).unwrap().as_deref(),
        Some("second")
    );
    assert_eq!(setup.entries().as_object().unwrap().len(), 2);

    assert!(delete(&backend, MCP, account).unwrap());
    assert!(!delete(&backend, MCP, account).unwrap());
    assert_eq!(load(&backend, MCP, account).unwrap(), None);
    assert_eq!(setup.entries().as_object().unwrap().len(), 1);

    // Secrets travelled on stdin/stdout only: never in the helper's arguments.
    let argv = setup.argv_log();
    assert!(argv.contains("\"store\"") && argv.contains("\"list\"") && argv.contains("\"erase\""));
    assert!(!argv.contains(SECRET), "{argv}");
    assert!(!argv.contains("second"), "{argv}");
}

#[test]
fn a_failing_helper_is_an_error_without_the_secret() {
    let setup = Setup::new(Some("store:echo"));
    let backend = setup.backend("");
    let error = store(&backend, AUTH, "cli|x", SECRET).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Io);
    let message = error.message.as_str();
    assert!(
        message.contains("store` failed (exit status 3): the vault refused the value [secret]"),
        "{message}"
    );
    assert!(!message.contains(SECRET), "{message}");
}

#[test]
fn a_hanging_helper_is_stopped_at_the_deadline() {
    let setup = Setup::new(Some("get:sleep"));
    let backend = setup.backend(r#", "timeout_secs": 0.5"#);
    let started = Instant::now();
    let error = load(&backend, AUTH, "cli|x").unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(error.kind, ErrorKind::Timeout);
    assert!(
        error.message.contains("did not finish within 0.5 s"),
        "{}",
        error.message
    );
}

#[test]
fn a_missing_program_is_a_config_error_naming_the_option() {
    let backend = create(
        "helper",
        r#"{"program": "docker-credential-does-not-exist-here"}"#,
    )
    .unwrap();
    let error = load(&backend, AUTH, "cli|x").unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidConfig);
    assert!(
        error.message.contains("`docker-credential-does-not-exist-here` (option `program` of credential backend `helper`) was not found"),
        "{}",
        error.message
    );
    let Err(error) = create("helper", "{}") else {
        panic!("a helper backend without a program was created");
    };
    assert_eq!(error.kind, ErrorKind::InvalidConfig);
}

#[test]
fn a_program_that_is_not_a_helper_is_a_protocol_error() {
    // `true` accepts every action and prints nothing.
    let backend = create("helper", r#"{"program": "true"}"#).unwrap();
    let error = load(&backend, AUTH, "cli|x").unwrap_err();
    assert_eq!(error.kind, ErrorKind::Protocol);
    assert!(
        error
            .message
            .contains("is `true` a docker credential helper?"),
        "{}",
        error.message
    );
}
