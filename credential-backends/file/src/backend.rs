//! The backend itself: which file a key lives in and how it is read and changed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use codex_plugin_api::{CredentialBackend, HostServices, PluginError, PluginResult};
use serde_json::{Map, Value};

use crate::json_file::JsonFile;
use crate::lock::DEFAULT_LOCK_TIMEOUT;
use crate::log::Log;
use crate::mcp_record::{FileEntry, KeyringRecord, name_and_url, now_millis};
use codex_credential_names::MCP_CLIENT_SERVICE;
use codex_credential_names::mcp_account as mcp_account_key;

/// The keyring service Codex stores MCP OAuth tokens under.
pub const MCP_SERVICE: &str = "Codex MCP Credentials";
/// The keyring service Codex stores its own login (auth.json) under.
pub const AUTH_SERVICE: &str = "Codex Auth";
/// The file holding MCP OAuth tokens, as Codex names it.
pub const CREDENTIALS_FILE: &str = ".credentials.json";
/// The file holding Codex's login.
pub const AUTH_FILE: &str = "auth.json";
/// The file holding what the oauth plugin keeps beside each MCP login
/// (`MCP_CLIENT_SERVICE`): a JSON object of account to record. Ours alone.
pub const MCP_CLIENTS_FILE: &str = ".mcp-oauth-clients.json";

/// Stores credentials in a directory (normally `CODEX_HOME`) in the files and
/// formats Codex uses: MCP OAuth tokens in `.credentials.json`, the login in
/// `auth.json`. Safe to share between threads and between processes.
#[derive(Debug)]
pub struct FileBackend {
    dir: PathBuf,
    credentials: JsonFile,
    auth: JsonFile,
    clients: JsonFile,
    log: LogSlot,
    lock_timeout: Duration,
}

/// `HostServices` is not `Debug`; this keeps `FileBackend` printable.
struct LogSlot(Log);

impl std::fmt::Debug for LogSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.0.is_some() {
            "host log"
        } else {
            "no log"
        })
    }
}

/// What a service maps to in this backend.
enum Service {
    Mcp,
    McpClients,
    Auth,
}

impl FileBackend {
    /// A backend storing its files in `dir`; nothing is touched until used.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        FileBackend {
            credentials: JsonFile::new(&dir, CREDENTIALS_FILE),
            auth: JsonFile::new(&dir, AUTH_FILE),
            clients: JsonFile::new(&dir, MCP_CLIENTS_FILE),
            dir,
            log: LogSlot(Log::default()),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }

    /// Sends warnings (such as a credentials file other users can read) to
    /// the host's log.
    pub fn with_host(mut self, host: HostServices) -> Self {
        self.log = LogSlot(Log(Some(host)));
        self
    }

    /// How long a write waits for another writer's lock (10 s by default).
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of `.credentials.json`.
    pub fn credentials_path(&self) -> &Path {
        self.credentials.path()
    }

    /// The path of `auth.json`.
    pub fn auth_path(&self) -> &Path {
        self.auth.path()
    }

    fn service(service: &str) -> PluginResult<Service> {
        match service {
            MCP_SERVICE => Ok(Service::Mcp),
            MCP_CLIENT_SERVICE => Ok(Service::McpClients),
            AUTH_SERVICE => Ok(Service::Auth),
            other => Err(PluginError::invalid_config(format!(
                "the file credential backend stores only `{MCP_SERVICE}`, `{MCP_CLIENT_SERVICE}` \
                 and `{AUTH_SERVICE}` entries; use another backend for service `{other}`"
            ))),
        }
    }

    fn log(&self) -> &Log {
        &self.log.0
    }

    fn load_mcp(&self, account: &str) -> PluginResult<Option<String>> {
        let Some(contents) = self.credentials.read(self.log())? else {
            return Ok(None);
        };
        // Like Codex, match on the key recomputed from each entry, not on the
        // map key, which a person or another program may have written.
        for (map_key, value) in &contents.map {
            match FileEntry::parse(value) {
                Ok(entry) => {
                    if mcp_account_key(&entry.server_name, &entry.server_url) == account {
                        return Ok(Some(entry.to_keyring_json(now_millis())));
                    }
                }
                Err(problem) => {
                    if let Some((name, url)) = name_and_url(value)
                        && mcp_account_key(name, url) == account
                    {
                        self.log().warn(&format!(
                            "entry `{map_key}` in `{}` is for `{account}` but is not in Codex's \
                             format ({problem}); it is ignored",
                            self.credentials.path().display()
                        ));
                    }
                }
            }
        }
        Ok(None)
    }

    fn store_mcp(&self, account: &str, secret: &str) -> PluginResult<()> {
        let record = KeyringRecord::parse(secret).map_err(|problem| {
            PluginError::invalid_config(format!(
                "the secret for `{account}` in `{MCP_SERVICE}` is not an MCP OAuth token \
                 record: {problem}"
            ))
        })?;
        let expected = mcp_account_key(&record.server_name, &record.url);
        if expected != account {
            return Err(PluginError::invalid_config(format!(
                "the account `{account}` does not match the token record for server `{}` at \
                 `{}`; Codex files it under `{expected}`",
                record.server_name, record.url
            )));
        }
        let entry = record.to_file_entry(now_millis()).to_value();

        self.credentials.ensure_dir()?;
        let lock = self.credentials.lock(self.lock_timeout)?;
        let mut map = match self.credentials.read(self.log())? {
            Some(contents) => contents.map,
            None => Map::new(),
        };
        // Older entries for the same server under another map key would
        // shadow the new one on load; entries of unknown shape stay as they are.
        map.retain(|map_key, value| {
            map_key == account
                || FileEntry::parse(value).map_or(true, |old| {
                    mcp_account_key(&old.server_name, &old.server_url) != account
                })
        });
        map.insert(account.to_owned(), entry);
        self.credentials
            .write(&lock, Value::Object(map).to_string().as_bytes())
    }

    fn delete_mcp(&self, account: &str) -> PluginResult<bool> {
        if !self.credentials.exists() {
            return Ok(false);
        }
        let lock = self.credentials.lock(self.lock_timeout)?;
        let Some(contents) = self.credentials.read(self.log())? else {
            return Ok(false);
        };
        let mut map = contents.map;
        let before = map.len();
        // Codex deletes by map key; entries that load would match go too, so
        // that a delete is never followed by a load that still finds tokens.
        map.retain(|map_key, value| {
            map_key != account
                && FileEntry::parse(value).map_or(true, |entry| {
                    mcp_account_key(&entry.server_name, &entry.server_url) != account
                })
        });
        if map.len() == before {
            return Ok(false);
        }
        if map.is_empty() {
            self.credentials.remove(&lock)?;
        } else {
            self.credentials
                .write(&lock, Value::Object(map).to_string().as_bytes())?;
        }
        Ok(true)
    }

    fn load_client(&self, account: &str) -> PluginResult<Option<String>> {
        let Some(contents) = self.clients.read(self.log())? else {
            return Ok(None);
        };
        Ok(contents.map.get(account).map(Value::to_string))
    }

    fn store_client(&self, account: &str, secret: &str) -> PluginResult<()> {
        let Ok(record @ Value::Object(_)) = serde_json::from_str::<Value>(secret) else {
            return Err(PluginError::invalid_config(format!(
                "the secret for `{account}` in `{MCP_CLIENT_SERVICE}` is not a JSON object"
            )));
        };
        self.clients.ensure_dir()?;
        let lock = self.clients.lock(self.lock_timeout)?;
        let mut map = match self.clients.read(self.log())? {
            Some(contents) => contents.map,
            None => Map::new(),
        };
        map.insert(account.to_owned(), record);
        self.clients
            .write(&lock, Value::Object(map).to_string().as_bytes())
    }

    fn delete_client(&self, account: &str) -> PluginResult<bool> {
        if !self.clients.exists() {
            return Ok(false);
        }
        let lock = self.clients.lock(self.lock_timeout)?;
        let Some(contents) = self.clients.read(self.log())? else {
            return Ok(false);
        };
        let mut map = contents.map;
        if map.remove(account).is_none() {
            return Ok(false);
        }
        if map.is_empty() {
            self.clients.remove(&lock)?;
        } else {
            self.clients
                .write(&lock, Value::Object(map).to_string().as_bytes())?;
        }
        Ok(true)
    }

    fn load_auth(&self) -> PluginResult<Option<String>> {
        Ok(self.auth.read(self.log())?.map(|contents| contents.text))
    }

    fn store_auth(&self, secret: &str) -> PluginResult<()> {
        let document = match serde_json::from_str::<Value>(secret) {
            Ok(Value::Object(document)) => document,
            Ok(_) => {
                return Err(PluginError::invalid_config(format!(
                    "the secret for `{AUTH_SERVICE}` is not a JSON object (the auth.json document)"
                )));
            }
            Err(error) => {
                return Err(PluginError::invalid_config(format!(
                    "the secret for `{AUTH_SERVICE}` is not valid JSON (line {}, column {})",
                    error.line(),
                    error.column()
                )));
            }
        };
        let text = serde_json::to_string_pretty(&Value::Object(document)).map_err(|error| {
            PluginError::internal(format!("cannot serialize auth.json: {error}"))
        })?;
        self.auth.ensure_dir()?;
        let lock = self.auth.lock(self.lock_timeout)?;
        // Read only to refuse replacing a file that is not JSON: it may be
        // something the user wants back.
        self.auth.read(self.log())?;
        self.auth.write(&lock, text.as_bytes())
    }

    fn delete_auth(&self) -> PluginResult<bool> {
        if !self.auth.exists() {
            return Ok(false);
        }
        let lock = self.auth.lock(self.lock_timeout)?;
        if self.auth.read(self.log())?.is_none() {
            return Ok(false);
        }
        self.auth.remove(&lock)
    }
}

impl CredentialBackend for FileBackend {
    fn load(&self, service: &str, account: &str) -> PluginResult<Option<String>> {
        match Self::service(service)? {
            Service::Mcp => self.load_mcp(account),
            Service::McpClients => self.load_client(account),
            Service::Auth => self.load_auth(),
        }
    }

    fn store(&self, service: &str, account: &str, secret: &str) -> PluginResult<()> {
        match Self::service(service)? {
            Service::Mcp => self.store_mcp(account, secret),
            Service::McpClients => self.store_client(account, secret),
            Service::Auth => self.store_auth(secret),
        }
    }

    fn delete(&self, service: &str, account: &str) -> PluginResult<bool> {
        match Self::service(service)? {
            Service::Mcp => self.delete_mcp(account),
            Service::McpClients => self.delete_client(account),
            Service::Auth => self.delete_auth(),
        }
    }
}
