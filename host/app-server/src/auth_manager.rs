//! The AuthManager: the one owner, per process, of the CLI login
//! (`auth.json` in the store `cli_auth_credentials_store` selects). It reads
//! the store once and caches what it found, re-reads it when asked and on
//! a timer so that a `codex login`/`logout` by another process is seen,
//! and announces every change of the login mode to its listeners (the
//! connection sends them as `account/updated`).
//!
//! It never keeps a key: the cache holds the login mode only, and a key
//! passes through on its way into the store, in a zeroizing buffer.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use anyhow::Result;
use codex_credentials::CredentialStore;
use codex_host::App;
use codex_host::auth::{AUTH_SERVICE, LoginState, api_key_document, check_key_shape, login_state};
use serde_json::Value;

/// How often the store is re-read to notice another process's login or logout.
pub const RELOAD_INTERVAL: Duration = Duration::from_millis(500);

/// How one is logged in, as the protocol's `authMode` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    ApiKey,
    ChatGpt,
    AgentIdentity,
}

impl AuthMode {
    /// The `authMode` value of `account/updated` and `getAuthStatus`.
    pub fn wire_name(self) -> &'static str {
        match self {
            AuthMode::ApiKey => "apikey",
            AuthMode::ChatGpt => "chatgpt",
            AuthMode::AgentIdentity => "agentIdentity",
        }
    }
}

/// What the store held at the last read: a mode, nothing, or a problem
/// (a store that cannot be read, a document that does not parse), which
/// is reported and never overwritten by a read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginSnapshot {
    LoggedIn(AuthMode),
    LoggedOut,
    Unreadable(String),
}

impl LoginSnapshot {
    pub fn mode(&self) -> Option<AuthMode> {
        match self {
            LoginSnapshot::LoggedIn(mode) => Some(*mode),
            _ => None,
        }
    }
}

/// The seam for renewing ChatGPT tokens: the login flows crate installs
/// one; until then `account/read {refreshToken: true}` reads the store as
/// it is.
pub trait ChatGptTokenRefresher: Send + Sync {
    /// Refreshes the stored tokens (under the store's lock, once across
    /// processes) and writes the result back to `store`.
    fn refresh(&self, store: &CredentialStore, account: &str) -> Result<()>;
}

/// Who hears about changes: each gets the new mode (`None`: logged out).
type Listener = Box<dyn Fn(Option<AuthMode>) + Send + Sync>;

pub struct AuthManager {
    store: CredentialStore,
    account: String,
    /// `forced_login_method` of the config: `"chatgpt"` refuses API keys.
    forced_login_method: Option<String>,
    cached: Mutex<LoginSnapshot>,
    listeners: Mutex<Vec<Listener>>,
    refresher: Option<Box<dyn ChatGptTokenRefresher>>,
    /// Serializes changes made by this process (login, logout, reload), so
    /// two of them never announce out of order.
    changing: Mutex<()>,
}

impl AuthManager {
    /// Opens the configured store and reads the login once.
    pub fn open(app: &App) -> Result<Arc<AuthManager>> {
        let (store, account) = codex_host::auth::open_store(app)?;
        let forced_login_method = app
            .config
            .merged()
            .get("forced_login_method")
            .and_then(toml::Value::as_str)
            .map(str::to_owned);
        let manager = AuthManager {
            cached: Mutex::new(read_store(&store, &account)),
            store,
            account,
            forced_login_method,
            listeners: Mutex::new(Vec::new()),
            refresher: None,
            changing: Mutex::new(()),
        };
        Ok(Arc::new(manager))
    }

    /// Starts the thread that re-reads the store every [`RELOAD_INTERVAL`]
    /// while the manager lives.
    pub fn watch(self: &Arc<Self>) {
        let weak: Weak<AuthManager> = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("auth-watch".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(RELOAD_INTERVAL);
                    match weak.upgrade() {
                        Some(manager) => {
                            manager.reload();
                        }
                        None => return,
                    }
                }
            });
        if let Err(error) = spawned {
            eprintln!("warning: cannot watch the login store for changes: {error}");
        }
    }

    pub fn subscribe(&self, listener: impl Fn(Option<AuthMode>) + Send + Sync + 'static) {
        if let Ok(mut listeners) = self.listeners.lock() {
            listeners.push(Box::new(listener));
        }
    }

    /// The login as last read.
    pub fn current(&self) -> LoginSnapshot {
        match self.cached.lock() {
            Ok(cached) => cached.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the store; a change is cached and announced.
    pub fn reload(&self) -> LoginSnapshot {
        let _changing = self.changing.lock();
        let fresh = read_store(&self.store, &self.account);
        self.replace(fresh.clone(), true);
        fresh
    }

    /// Renews ChatGPT tokens where a refresher is installed, then reloads.
    pub fn refresh_tokens(&self) -> LoginSnapshot {
        if let (Some(refresher), Some(AuthMode::ChatGpt)) = (&self.refresher, self.current().mode())
            && let Err(error) = refresher.refresh(&self.store, &self.account)
        {
            eprintln!("warning: cannot refresh the ChatGPT login: {error:#}");
        }
        self.reload()
    }

    /// Stores an API key login. The error is for the client, and never
    /// holds the key.
    pub fn login_api_key(&self, key: &str) -> Result<(), String> {
        if self.forced_login_method.as_deref() == Some("chatgpt") {
            return Err("API key login is disabled. Use ChatGPT login instead.".to_string());
        }
        let key = key.trim();
        if key.is_empty() {
            return Err("apiKey is empty: give the OpenAI API key to log in with".to_string());
        }
        check_key_shape(key).map_err(|problem| {
            format!("that does not look like an API key: {problem} (the key is not shown)")
        })?;
        let document = api_key_document(key);
        let _changing = self.changing.lock();
        self.store
            .store(AUTH_SERVICE, &self.account, &document)
            .map_err(|error| {
                format!(
                    "cannot store the login in {}: {error}",
                    self.store.describe()
                )
            })?;
        self.replace(LoginSnapshot::LoggedIn(AuthMode::ApiKey), false);
        Ok(())
    }

    /// Deletes the stored login; `false` when there was none.
    pub fn logout(&self) -> Result<bool, String> {
        let _changing = self.changing.lock();
        let deleted = self
            .store
            .delete(AUTH_SERVICE, &self.account)
            .map_err(|error| format!("cannot log out of {}: {error}", self.store.describe()))?;
        self.replace(LoginSnapshot::LoggedOut, false);
        Ok(deleted)
    }

    /// Caches `fresh`; when the mode changed and `announce`, tells every
    /// listener (a change this process made is announced by its handler,
    /// after its answer).
    fn replace(&self, fresh: LoginSnapshot, announce: bool) {
        let previous = {
            let mut cached = match self.cached.lock() {
                Ok(cached) => cached,
                Err(poisoned) => poisoned.into_inner(),
            };
            std::mem::replace(&mut *cached, fresh.clone())
        };
        if let LoginSnapshot::Unreadable(problem) = &fresh
            && previous != fresh
        {
            eprintln!("warning: {problem}");
        }
        if announce && previous.mode() != fresh.mode() {
            self.announce(fresh.mode());
        }
    }

    fn announce(&self, mode: Option<AuthMode>) {
        if let Ok(listeners) = self.listeners.lock() {
            for listener in listeners.iter() {
                listener(mode);
            }
        }
    }
}

fn read_store(store: &CredentialStore, account: &str) -> LoginSnapshot {
    match store.load(AUTH_SERVICE, account) {
        Ok(None) => LoginSnapshot::LoggedOut,
        Ok(Some(document)) => match login_state(&document) {
            Ok(LoginState::ApiKey(_)) => LoginSnapshot::LoggedIn(AuthMode::ApiKey),
            Ok(LoginState::ChatGpt) => LoginSnapshot::LoggedIn(AuthMode::ChatGpt),
            Ok(LoginState::AgentIdentity) => LoginSnapshot::LoggedIn(AuthMode::AgentIdentity),
            Ok(LoginState::None) => LoginSnapshot::LoggedOut,
            Err(problem) => LoginSnapshot::Unreadable(format!("{problem} in {}", store.describe())),
        },
        Err(error) => LoginSnapshot::Unreadable(format!(
            "cannot read the login from {}: {error}",
            store.describe()
        )),
    }
}

/// `account/updated`'s params for a mode.
pub fn updated_params(mode: Option<AuthMode>) -> Value {
    serde_json::json!({
        "authMode": mode.map(AuthMode::wire_name),
        "planType": null,
    })
}
