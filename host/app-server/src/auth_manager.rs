//! The AuthManager: the one owner, per process, of the CLI login
//! (`auth.json` in the store `cli_auth_credentials_store` selects). It reads
//! the store once and caches what it found, re-reads it when asked and on
//! a timer so that a `codex login`/`logout` by another process is seen,
//! renews ChatGPT tokens (when `last_refresh` is older than Codex's
//! interval, when a client asks, and once after a 401), and announces every
//! change of the login to its listeners (the connection sends them as
//! `account/updated`).
//!
//! It never keeps a token: the cache holds the mode and the account's
//! e-mail and plan; a key or token is read from the store when a client
//! asks for it, in a zeroizing buffer.
//!
//! Refreshes are transactions of [`codex_login::refresh`]: one at a time
//! across processes, the stored login re-read under the lock. A refresh the
//! issuer refuses for good is reported once (stderr, and `account/updated`)
//! and not tried again for that refresh token: only a new login helps.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use anyhow::Result;
use codex_credentials::CredentialStore;
use codex_host::App;
use codex_host::auth::{AUTH_SERVICE, LoginState, api_key_document, check_key_shape, login_state};
use codex_login::StoredLogin;
use codex_login::refresh::{LoginDocumentStore, RefreshReason, is_stale, refresh_stored};
use codex_login::token::{RefreshError, Tokens};
use serde_json::Value;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// How often the store is re-read to notice another process's login or logout.
pub const RELOAD_INTERVAL: Duration = Duration::from_millis(500);
/// After a refresh failed for a passing reason (the issuer unreachable),
/// how long a stale login is used as it is before the next attempt.
const TRANSIENT_BACKOFF: Duration = Duration::from_secs(60);

/// How one is logged in; serialized as the protocol's `authMode` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub enum AuthMode {
    #[serde(rename = "apikey")]
    ApiKey,
    #[serde(rename = "chatgpt")]
    ChatGpt,
    #[serde(rename = "agentIdentity")]
    AgentIdentity,
}

/// The plans Codex 0.169's `PlanType` names; any other is `unknown`.
const PLAN_TYPES: &[&str] = &[
    "free",
    "go",
    "plus",
    "pro",
    "prolite",
    "promax",
    "team",
    "self_serve_business_prolite",
    "self_serve_business_usage_based",
    "business",
    "ent26",
    "enterprise_cbp_automation",
    "enterprise_cbp_usage_based",
    "enterprise",
    "edu",
    "edu_plus",
    "edu_pro",
    "sci",
    "sci_plus",
];

/// A login as the cache keeps it: no secret in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub mode: AuthMode,
    /// The ChatGPT account's e-mail, from the id_token.
    pub email: Option<String>,
    /// The ChatGPT plan, from the id_token.
    pub plan_type: Option<String>,
    /// `last_refresh` is older than Codex's interval.
    stale: bool,
}

impl Account {
    fn of_mode(mode: AuthMode) -> Account {
        Account {
            mode,
            email: None,
            plan_type: None,
            stale: false,
        }
    }

    /// The plan as the protocol's `PlanType` has it.
    pub fn wire_plan(&self) -> Option<&str> {
        if self.mode != AuthMode::ChatGpt {
            return None;
        }
        Some(match self.plan_type.as_deref() {
            Some(plan) if PLAN_TYPES.contains(&plan) => plan,
            _ => "unknown",
        })
    }
}

/// What the store held at the last read: a login, nothing, or a problem
/// (a store that cannot be read, a document that does not parse), which
/// is reported and never overwritten by a read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginSnapshot {
    LoggedIn(Account),
    LoggedOut,
    Unreadable(String),
}

impl LoginSnapshot {
    pub fn mode(&self) -> Option<AuthMode> {
        self.account().map(|account| account.mode)
    }

    pub fn account(&self) -> Option<&Account> {
        match self {
            LoginSnapshot::LoggedIn(account) => Some(account),
            _ => None,
        }
    }
}

/// The seam for renewing ChatGPT tokens: trades a stored login for new
/// tokens at its issuer. The AuthManager calls it inside a refresh
/// transaction (locked, the login re-read).
pub trait ChatGptTokenRefresher: Send + Sync {
    fn refresh(&self, stored: &StoredLogin) -> Result<Tokens, RefreshError>;
}

/// The refresher of a real login: `codex_login`'s, at the issuer the tokens
/// came from.
struct IssuerRefresher;

impl ChatGptTokenRefresher for IssuerRefresher {
    fn refresh(&self, stored: &StoredLogin) -> Result<Tokens, RefreshError> {
        codex_login::refresh::refresh_blocking(stored)
    }
}

/// Who hears about changes: each gets `account/updated`'s params.
type Listener = Box<dyn Fn(Value) + Send + Sync>;

/// A refresh the issuer refused for good: the refresh token's fingerprint
/// (never the token) and the message.
struct PermanentFailure {
    fingerprint: [u8; 32],
    message: String,
}

pub struct AuthManager {
    store: CredentialStore,
    account: String,
    codex_home: PathBuf,
    /// `forced_login_method` of the config: `"chatgpt"` refuses API keys.
    forced_login_method: Option<String>,
    cached: Mutex<LoginSnapshot>,
    listeners: Mutex<Vec<Listener>>,
    refresher: Box<dyn ChatGptTokenRefresher>,
    permanent: Mutex<Option<PermanentFailure>>,
    /// When a refresh last failed for a passing reason.
    transient_at: Mutex<Option<Instant>>,
    /// Serializes changes made by this process (login, logout, reload), so
    /// two of them never announce out of order.
    changing: Mutex<()>,
}

/// The credential store as the refresh transaction sees it.
struct StoreDocuments<'a> {
    store: &'a CredentialStore,
    account: &'a str,
}

impl LoginDocumentStore for StoreDocuments<'_> {
    fn load(&self) -> Result<Option<Zeroizing<String>>, String> {
        self.store
            .load(AUTH_SERVICE, self.account)
            .map_err(|error| format!("cannot read {}: {error}", self.store.describe()))
    }

    fn save(&self, document: &str) -> Result<(), String> {
        self.store
            .store(AUTH_SERVICE, self.account, document)
            .map_err(|error| format!("cannot write {}: {error}", self.store.describe()))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn fingerprint(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
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
            codex_home: app.codex_home.clone(),
            forced_login_method,
            listeners: Mutex::new(Vec::new()),
            refresher: Box::new(IssuerRefresher),
            permanent: Mutex::new(None),
            transient_at: Mutex::new(None),
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

    pub fn subscribe(&self, listener: impl Fn(Value) + Send + Sync + 'static) {
        lock(&self.listeners).push(Box::new(listener));
    }

    /// The login as last read.
    pub fn current(&self) -> LoginSnapshot {
        lock(&self.cached).clone()
    }

    /// Re-reads the store; a change is cached and announced.
    pub fn reload(&self) -> LoginSnapshot {
        let _changing = lock(&self.changing);
        let fresh = read_store(&self.store, &self.account);
        self.replace(fresh.clone(), true);
        fresh
    }

    /// The login, renewed first when it is a ChatGPT login older than
    /// Codex's interval (blocking: call it off the async threads). A
    /// refresh that failed for a passing reason is not retried for a while.
    pub fn fresh(&self) -> LoginSnapshot {
        let current = self.current();
        let stale = current
            .account()
            .is_some_and(|account| account.mode == AuthMode::ChatGpt && account.stale);
        let backing_off =
            lock(&self.transient_at).is_some_and(|failed| failed.elapsed() < TRANSIENT_BACKOFF);
        if !stale || backing_off {
            return current;
        }
        let _ = self.refresh(RefreshReason::Stale);
        self.current()
    }

    /// Renews the ChatGPT tokens now (`refreshToken: true`), then reloads.
    /// The error is a permanent failure's message (with the command that
    /// fixes it); a passing failure is logged and the login kept as it is.
    pub fn refresh_tokens(&self) -> Result<LoginSnapshot, String> {
        self.refresh(RefreshReason::Forced)?;
        Ok(self.current())
    }

    /// Renews the tokens once after a request with `used_access_token` was
    /// answered 401; when another process (or request) renewed them
    /// meanwhile, the stored login is only re-read. Blocking.
    pub fn recover_unauthorized(&self, used_access_token: &str) -> Result<(), String> {
        self.refresh(RefreshReason::Unauthorized(Zeroizing::new(
            used_access_token.to_owned(),
        )))
    }

    fn refresh(&self, reason: RefreshReason) -> Result<(), String> {
        if self.current().mode() != Some(AuthMode::ChatGpt) {
            self.reload();
            return Ok(());
        }
        let documents = StoreDocuments {
            store: &self.store,
            account: &self.account,
        };
        let newly_permanent = Mutex::new(false);
        let refresher = |stored: &StoredLogin| {
            let print = fingerprint(stored.refresh_token.as_deref().map_or("", |t| t.as_str()));
            if let Some(failure) = lock(&self.permanent).as_ref()
                && failure.fingerprint == print
            {
                return Err(RefreshError::Permanent(failure.message.clone()));
            }
            let outcome = self.refresher.refresh(stored);
            if let Err(RefreshError::Permanent(message)) = &outcome {
                *lock(&self.permanent) = Some(PermanentFailure {
                    fingerprint: print,
                    message: message.clone(),
                });
                *lock(&newly_permanent) = true;
            }
            outcome
        };
        let outcome = refresh_stored(&self.codex_home, &documents, &reason, &refresher);
        match outcome {
            Ok(_) => {
                *lock(&self.transient_at) = None;
                self.reload();
                Ok(())
            }
            Err(RefreshError::Permanent(message)) => {
                if *lock(&newly_permanent) {
                    eprintln!("error: {message}");
                    let current = self.reload();
                    self.announce(updated_params(current.account()));
                }
                Err(message)
            }
            Err(RefreshError::Transient(message)) => {
                eprintln!("warning: cannot refresh the ChatGPT login: {message}");
                *lock(&self.transient_at) = Some(Instant::now());
                self.reload();
                Ok(())
            }
        }
    }

    /// The token a client may ask for (`getAuthStatus` with `includeToken`):
    /// the API key, or the ChatGPT access token. None when logged out, and
    /// for a ChatGPT login whose refresh was refused for good (its access
    /// token is spent), as Codex answers.
    pub fn token(&self) -> Option<Zeroizing<String>> {
        let document = self.store.load(AUTH_SERVICE, &self.account).ok()??;
        let stored = StoredLogin::parse(&document).ok()?;
        if stored.is_api_key() {
            return api_key_of(&document);
        }
        if let (Some(failure), Some(refresh_token)) = (
            lock(&self.permanent).as_ref(),
            stored.refresh_token.as_ref(),
        ) && failure.fingerprint == fingerprint(refresh_token)
        {
            return None;
        }
        stored.access_token
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
        let _changing = lock(&self.changing);
        self.store
            .store(AUTH_SERVICE, &self.account, &document)
            .map_err(|error| {
                format!(
                    "cannot store the login in {}: {error}",
                    self.store.describe()
                )
            })?;
        self.replace(
            LoginSnapshot::LoggedIn(Account::of_mode(AuthMode::ApiKey)),
            false,
        );
        Ok(())
    }

    /// Stores the document of a new ChatGPT login (a login flow's save
    /// step); the flow announces it when it completes.
    pub fn store_chatgpt_login(&self, document: &str) -> Result<(), String> {
        let _changing = lock(&self.changing);
        self.store
            .store(AUTH_SERVICE, &self.account, document)
            .map_err(|error| {
                format!(
                    "cannot store the login in {}: {error}",
                    self.store.describe()
                )
            })?;
        *lock(&self.permanent) = None;
        let fresh = read_store(&self.store, &self.account);
        self.replace(fresh, false);
        Ok(())
    }

    /// Deletes the stored login; `false` when there was none.
    pub fn logout(&self) -> Result<bool, String> {
        let _changing = lock(&self.changing);
        let deleted = self
            .store
            .delete(AUTH_SERVICE, &self.account)
            .map_err(|error| format!("cannot log out of {}: {error}", self.store.describe()))?;
        self.replace(LoginSnapshot::LoggedOut, false);
        Ok(deleted)
    }

    /// Caches `fresh`; when the login changed (mode or plan) and
    /// `announce`, tells every listener (a change this process made is
    /// announced by its handler, after its answer).
    fn replace(&self, fresh: LoginSnapshot, announce: bool) {
        let previous = std::mem::replace(&mut *lock(&self.cached), fresh.clone());
        if let LoginSnapshot::Unreadable(problem) = &fresh
            && previous != fresh
        {
            eprintln!("warning: {problem}");
        }
        let seen = |snapshot: &LoginSnapshot| {
            snapshot
                .account()
                .map(|account| (account.mode, account.wire_plan().map(str::to_owned)))
        };
        if announce && seen(&previous) != seen(&fresh) {
            self.announce(updated_params(fresh.account()));
        }
    }

    fn announce(&self, params: Value) {
        for listener in lock(&self.listeners).iter() {
            listener(params.clone());
        }
    }
}

/// The API key of an API-key document.
fn api_key_of(document: &str) -> Option<Zeroizing<String>> {
    #[derive(serde::Deserialize)]
    struct KeyOnly {
        #[serde(rename = "OPENAI_API_KEY", default)]
        api_key: Option<Zeroizing<String>>,
    }
    serde_json::from_str::<KeyOnly>(document)
        .ok()?
        .api_key
        .filter(|key| !key.is_empty())
}

fn read_store(store: &CredentialStore, account: &str) -> LoginSnapshot {
    match store.load(AUTH_SERVICE, account) {
        Ok(None) => LoginSnapshot::LoggedOut,
        Ok(Some(document)) => match login_state(&document) {
            Ok(LoginState::ApiKey(_)) => {
                LoginSnapshot::LoggedIn(Account::of_mode(AuthMode::ApiKey))
            }
            Ok(LoginState::ChatGpt) => {
                let mut account = Account::of_mode(AuthMode::ChatGpt);
                if let Ok(stored) = StoredLogin::parse(&document) {
                    account.stale = is_stale(&stored);
                    account.email = stored.claims.email;
                    account.plan_type = stored.claims.plan_type;
                }
                LoginSnapshot::LoggedIn(account)
            }
            Ok(LoginState::AgentIdentity) => {
                LoginSnapshot::LoggedIn(Account::of_mode(AuthMode::AgentIdentity))
            }
            Ok(LoginState::None) => LoginSnapshot::LoggedOut,
            Err(problem) => LoginSnapshot::Unreadable(format!("{problem} in {}", store.describe())),
        },
        Err(error) => LoginSnapshot::Unreadable(format!(
            "cannot read the login from {}: {error}",
            store.describe()
        )),
    }
}

/// `account/updated`'s params for a login (`None`: logged out).
/// The params of `account/updated`: how one is logged in now.
#[derive(serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountUpdatedNotification {
    /// Null when logged out.
    pub auth_mode: Option<AuthMode>,
    /// The ChatGPT plan (`unknown` for one Codex does not name); null
    /// for other logins.
    pub plan_type: Option<String>,
}

pub fn updated_params(account: Option<&Account>) -> Value {
    let params = AccountUpdatedNotification {
        auth_mode: account.map(|account| account.mode),
        plan_type: account.and_then(Account::wire_plan).map(str::to_owned),
    };
    serde_json::to_value(params).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_outside_codexs_list_are_unknown() {
        let mut account = Account::of_mode(AuthMode::ChatGpt);
        assert_eq!(account.wire_plan(), Some("unknown"));
        account.plan_type = Some("pro".into());
        assert_eq!(account.wire_plan(), Some("pro"));
        account.plan_type = Some("platinum".into());
        assert_eq!(account.wire_plan(), Some("unknown"));
        assert_eq!(Account::of_mode(AuthMode::ApiKey).wire_plan(), None);
        assert_eq!(
            updated_params(None),
            serde_json::json!({"authMode": null, "planType": null})
        );
    }

    #[test]
    fn only_the_key_is_read_from_a_key_document() {
        let key = api_key_of(r#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-abc"}"#).unwrap();
        assert_eq!(key.as_str(), "sk-abc");
        assert!(api_key_of(r#"{"OPENAI_API_KEY":""}"#).is_none());
    }
}
