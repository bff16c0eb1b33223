//! Test support: a recording host, the backend through its root module,
//! real keyrings (`codex_test_support::keyrings`), and a child-process
//! runner for operations that need another process environment (the
//! private Secret Service's bus address).

#![allow(dead_code)]

pub use codex_test_support::keyrings::*;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use std::{env, thread};

use codex_keyring::KeyringPlugin;
use codex_plugin_api::abi_stable::sabi_trait::TD_Opaque;
use codex_plugin_api::abi_stable::std_types::{ROption, RResult, RStr, RString};
use codex_plugin_api::{
    CredentialBackendBox, HostServicesBox, HostServicesFfi, LogLevel, PluginError, root_module,
};
use serde_json::{Value, json};

pub const MCP: &str = "Codex MCP Credentials";
pub const AUTH: &str = "Codex Auth";

/// A host that records log lines.
#[derive(Clone, Default)]
pub struct TestHost {
    pub logs: Arc<Mutex<Vec<(LogLevel, String)>>>,
}

fn refuse<T>() -> RResult<T, PluginError> {
    RResult::RErr(PluginError::not_found("not offered by the test host"))
}

impl HostServicesFfi for TestHost {
    fn log(&self, level: LogLevel, message: RStr<'_>) {
        self.logs
            .lock()
            .unwrap()
            .push((level, message.as_str().to_owned()));
    }
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

/// The backend as the host creates it: through the plugin's root module.
pub fn backend(host: &TestHost, options: &str) -> Result<CredentialBackendBox, PluginError> {
    let module = root_module::<KeyringPlugin>();
    let services = HostServicesBox::from_value(host.clone(), TD_Opaque);
    (module.credential_backend())("keyring".into(), services, options.into()).into_result()
}

pub fn load(
    b: &CredentialBackendBox,
    service: &str,
    account: &str,
) -> Result<Option<String>, PluginError> {
    b.load(service.into(), account.into())
        .into_result()
        .map(|found| found.into_option().map(RString::into_string))
}

pub fn store(
    b: &CredentialBackendBox,
    service: &str,
    account: &str,
    secret: &str,
) -> Result<(), PluginError> {
    b.store(service.into(), account.into(), secret.into())
        .into_result()
}

pub fn delete(b: &CredentialBackendBox, service: &str, account: &str) -> Result<bool, PluginError> {
    b.delete(service.into(), account.into()).into_result()
}

// ---- operations in a child process -------------------------------------

const OPS_VAR: &str = "CODEX_KEYRING_TEST_OPS";
const OUT_VAR: &str = "CODEX_KEYRING_TEST_OUT";

/// One operation for [`run_in_child`].
pub fn op_store(service: &str, account: &str, secret: &str) -> Value {
    json!({"op": "store", "service": service, "account": account, "secret": secret})
}
pub fn op_load(service: &str, account: &str) -> Value {
    json!({"op": "load", "service": service, "account": account})
}
pub fn op_delete(service: &str, account: &str) -> Value {
    json!({"op": "delete", "service": service, "account": account})
}
/// Waits (bounded) until `path` exists, after creating `ready`.
pub fn op_wait(ready: &Path, go: &Path) -> Value {
    json!({"op": "wait", "ready": ready, "go": go})
}

/// The body of the `child_runner` test in each test binary: when the
/// environment says so, runs the operations there with `options` and writes
/// one result per operation (`{"ok": ...}` or `{"err": {"kind", "message"}}`).
pub fn child_runner() {
    let (Ok(ops), Ok(out)) = (env::var(OPS_VAR), env::var(OUT_VAR)) else {
        return;
    };
    let request: Value = serde_json::from_str(&ops).unwrap();
    let host = TestHost::default();
    let results: Vec<Value> = match backend(&host, request["options"].as_str().unwrap()) {
        Err(error) => vec![error_json(&error)],
        Ok(b) => request["ops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|op| {
                let text = |key: &str| op[key].as_str().unwrap_or_default().to_owned();
                let result = match op["op"].as_str().unwrap() {
                    "store" => store(&b, &text("service"), &text("account"), &text("secret"))
                        .map(|()| Value::Null),
                    "load" => load(&b, &text("service"), &text("account")).map(Value::from),
                    "delete" => delete(&b, &text("service"), &text("account")).map(Value::from),
                    "wait" => {
                        fs::write(text("ready"), "").unwrap();
                        let started = Instant::now();
                        while !Path::new(&text("go")).exists() {
                            assert!(started.elapsed() < Duration::from_secs(30), "no go signal");
                            thread::sleep(Duration::from_millis(5));
                        }
                        Ok(Value::Null)
                    }
                    other => panic!("unknown op {other}"),
                };
                match result {
                    Ok(value) => json!({"ok": value}),
                    Err(error) => error_json(&error),
                }
            })
            .collect(),
    };
    let logs: Vec<String> = host
        .logs
        .lock()
        .unwrap()
        .iter()
        .map(|(_, line)| line.clone())
        .collect();
    fs::write(out, json!({"results": results, "logs": logs}).to_string()).unwrap();
}

fn error_json(error: &PluginError) -> Value {
    json!({"err": {"kind": error.kind.as_str(), "message": error.message.as_str()}})
}

/// A child run of this test binary, doing `ops` with backend `options`.
pub struct ChildRun {
    child: Child,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

impl ChildRun {
    pub fn spawn(options: &str, ops: &[Value], env: &[(OsString, OsString)]) -> ChildRun {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.json");
        let request = json!({"options": options, "ops": ops});
        let child = Command::new(env::current_exe().unwrap())
            .args(["--exact", "child_runner", "--nocapture", "--test-threads=1"])
            .env(OPS_VAR, request.to_string())
            .env(OUT_VAR, &out)
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        ChildRun {
            child,
            out,
            _dir: dir,
        }
    }

    /// Waits (at most 120 s) and returns `(results, log lines)`.
    pub fn finish(mut self) -> (Vec<Value>, Vec<String>) {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > Duration::from_secs(120) {
                let _ = self.child.kill();
                panic!("a child run did not finish in 120 s");
            }
            thread::sleep(Duration::from_millis(10));
        };
        assert!(status.success(), "child run failed: {status}");
        let text = fs::read_to_string(&self.out).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        let logs = value["logs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|line| line.as_str().unwrap().to_owned())
            .collect();
        (value["results"].as_array().unwrap().clone(), logs)
    }
}

/// Runs `ops` in a child with `env` and returns the results.
pub fn run_in_child(options: &str, ops: &[Value], env: &[(OsString, OsString)]) -> Vec<Value> {
    ChildRun::spawn(options, ops, env).finish().0
}
