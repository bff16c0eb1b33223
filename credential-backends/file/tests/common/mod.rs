//! A host for tests: records log lines and reports a chosen CODEX_HOME.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use codex_plugin_api::abi_stable::sabi_trait::TD_Opaque;
use codex_plugin_api::abi_stable::std_types::{ROption, RResult, RStr, RString};
use codex_plugin_api::{HostServicesBox, HostServicesFfi, LogLevel, PluginError};
use serde_json::{Value, json};

/// The MCP service name, spelled out so a renamed constant is caught.
pub const MCP: &str = "Codex MCP Credentials";
/// The CLI auth service name.
pub const AUTH: &str = "Codex Auth";

#[derive(Clone)]
pub struct TestHost {
    pub home: PathBuf,
    pub logs: Arc<Mutex<Vec<(LogLevel, String)>>>,
}

impl TestHost {
    pub fn new(home: &Path) -> Self {
        TestHost {
            home: home.to_path_buf(),
            logs: Arc::default(),
        }
    }

    pub fn boxed(&self) -> HostServicesBox {
        HostServicesBox::from_value(self.clone(), TD_Opaque)
    }

    pub fn log_lines(&self) -> Vec<(LogLevel, String)> {
        self.logs.lock().unwrap().clone()
    }
}

fn unsupported<T>() -> RResult<T, PluginError> {
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
        self.home.display().to_string().into()
    }

    fn credential_load(
        &self,
        _service: RStr<'_>,
        _account: RStr<'_>,
    ) -> RResult<ROption<RString>, PluginError> {
        unsupported()
    }

    fn credential_store(
        &self,
        _service: RStr<'_>,
        _account: RStr<'_>,
        _secret: RStr<'_>,
    ) -> RResult<(), PluginError> {
        unsupported()
    }

    fn credential_delete(
        &self,
        _service: RStr<'_>,
        _account: RStr<'_>,
    ) -> RResult<bool, PluginError> {
        unsupported()
    }

    fn notify_user(&self, _message: RStr<'_>) {}

    fn open_url(&self, _url: RStr<'_>) -> RResult<(), PluginError> {
        unsupported()
    }

    fn read_line(&self, _prompt: RStr<'_>) -> RResult<RString, PluginError> {
        unsupported()
    }
}

/// The keyring JSON Codex stores for server `name` at `url`.
pub fn token_record(name: &str, url: &str, access_token: &str, expires_at: Option<u64>) -> Value {
    let mut record = json!({
        "server_name": name,
        "url": url,
        "client_id": "client-1",
        "token_response": {
            "access_token": access_token,
            "token_type": "bearer",
            "refresh_token": "refresh-secret",
            "scope": "read write"
        }
    });
    if let Some(expires_at) = expires_at {
        record["expires_at"] = json!(expires_at);
    }
    record
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

#[cfg(unix)]
pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}
