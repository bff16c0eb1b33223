//! Renewing a stored ChatGPT login, one process at a time.
//!
//! A refresh token rotates: the issuer answers a reused one with
//! `invalid_grant` (and oidc-provider revokes the whole grant). So two
//! processes on one `CODEX_HOME` must never both spend the same token. Each
//! refresh is a transaction under an exclusive lock on
//! `$CODEX_HOME/auth-refresh.lock` (a file of its own: the file store locks
//! `auth.json.lock` for every write, which the transaction also does):
//!
//! 1. take the lock (waiting at most [`LOCK_WAIT`]);
//! 2. read the stored login again: another process may have refreshed it
//!    while this one waited;
//! 3. decide by the reason: a [`RefreshReason::Stale`] login that is no
//!    longer stale, or an [`RefreshReason::Unauthorized`] whose access token
//!    was already replaced, needs nothing more;
//! 4. refresh, write the document back with every other field kept, release.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use zeroize::Zeroizing;

use crate::document::{StoredLogin, refreshed_document};
use crate::token::{Endpoints, REFRESH_INTERVAL, RefreshError, Tokens};
use crate::{DEFAULT_CLIENT_ID, DEFAULT_ISSUER};

/// The lock file's name in `CODEX_HOME`.
pub const LOCK_FILE: &str = "auth-refresh.lock";
/// How long a refresh waits for another process's to end.
pub const LOCK_WAIT: Duration = Duration::from_secs(30);
/// Where tests (and `codex login`) point the login at another issuer.
pub const ISSUER_ENV: &str = "CODEX_LOGIN_ISSUER";
pub const CLIENT_ID_ENV: &str = "CODEX_LOGIN_CLIENT_ID";

/// Why a refresh is asked for.
pub enum RefreshReason {
    /// `last_refresh` may be older than [`REFRESH_INTERVAL`].
    Stale,
    /// The client asked (`refreshToken: true`).
    Forced,
    /// A request with this access token was answered 401.
    Unauthorized(Zeroizing<String>),
}

/// Where the login document lives (the configured credential store).
pub trait LoginDocumentStore {
    fn load(&self) -> Result<Option<Zeroizing<String>>, String>;
    fn save(&self, document: &str) -> Result<(), String>;
}

/// What a transaction did.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// New tokens were stored.
    Refreshed,
    /// The stored login needed nothing (fresh, or renewed by another process).
    NotNeeded,
    /// There is no ChatGPT login with a refresh token to renew.
    NothingToRefresh,
}

/// Whether `stored` was last refreshed longer ago than Codex's interval. A
/// login without `last_refresh` is not stale (Codex refreshes only dated ones).
pub fn is_stale(stored: &StoredLogin) -> bool {
    let Some(last) = stored.last_refresh else {
        return false;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs() as i64)
        .unwrap_or(i64::MAX);
    now.saturating_sub(last) > REFRESH_INTERVAL.as_secs() as i64
}

/// The endpoints a stored login refreshes at: the issuer and client its
/// tokens came from, else `CODEX_LOGIN_ISSUER` / `CODEX_LOGIN_CLIENT_ID`,
/// else Codex's (and Codex's URL overrides over all of them).
pub fn endpoints_for(stored: &StoredLogin) -> Endpoints {
    let from_env = |name: &str| {
        std::env::var(name)
            .ok()
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let issuer = stored
        .issuer
        .clone()
        .or_else(|| from_env(ISSUER_ENV))
        .unwrap_or_else(|| DEFAULT_ISSUER.to_owned());
    let client_id = stored
        .client_id
        .clone()
        .or_else(|| from_env(CLIENT_ID_ENV))
        .unwrap_or_else(|| DEFAULT_CLIENT_ID.to_owned());
    Endpoints::for_issuer(&issuer, &client_id)
}

/// [`crate::token::refresh`] for callers without an async runtime (the
/// transaction runs on a blocking thread).
pub fn refresh_blocking(stored: &StoredLogin) -> Result<Tokens, RefreshError> {
    let Some(refresh_token) = stored.refresh_token.as_ref() else {
        return Err(RefreshError::Permanent(
            "the stored ChatGPT login has no refresh token; log in again: `codex login`".into(),
        ));
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            RefreshError::Transient(format!("cannot start the network runtime: {error}"))
        })?;
    runtime.block_on(crate::token::refresh(&endpoints_for(stored), refresh_token))
}

/// One refresh transaction (see the module's description). `refresher`
/// trades the stored login for new tokens; blocking.
pub fn refresh_stored(
    codex_home: &Path,
    store: &dyn LoginDocumentStore,
    reason: &RefreshReason,
    refresher: &dyn Fn(&StoredLogin) -> Result<Tokens, RefreshError>,
) -> Result<RefreshOutcome, RefreshError> {
    let _lock = RefreshLock::acquire(&codex_home.join(LOCK_FILE), LOCK_WAIT)?;
    let Some(document) = store.load().map_err(RefreshError::Transient)? else {
        return Ok(RefreshOutcome::NothingToRefresh);
    };
    let stored = StoredLogin::parse(&document).map_err(RefreshError::Transient)?;
    if stored.is_api_key() || stored.refresh_token.is_none() {
        return Ok(RefreshOutcome::NothingToRefresh);
    }
    let needed = match reason {
        RefreshReason::Stale => is_stale(&stored),
        RefreshReason::Forced => true,
        RefreshReason::Unauthorized(used) => stored
            .access_token
            .as_ref()
            .is_none_or(|current| current.as_str() == used.as_str()),
    };
    if !needed {
        return Ok(RefreshOutcome::NotNeeded);
    }
    let tokens = refresher(&stored)?;
    let updated = refreshed_document(&document, &tokens).map_err(RefreshError::Transient)?;
    store.save(&updated).map_err(|error| {
        RefreshError::Transient(format!(
            "the ChatGPT login was refreshed but could not be saved: {error}"
        ))
    })?;
    Ok(RefreshOutcome::Refreshed)
}

/// The exclusive lock of one transaction, released when dropped (and when
/// the process dies: it is an `flock`).
struct RefreshLock {
    _file: File,
}

impl RefreshLock {
    fn acquire(path: &PathBuf, wait: Duration) -> Result<RefreshLock, RefreshError> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(path).map_err(|error| {
            RefreshError::Transient(format!(
                "cannot open the refresh lock `{}`: {error}",
                path.display()
            ))
        })?;
        let started = Instant::now();
        loop {
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => return Ok(RefreshLock { _file: file }),
                Err(fs4::TryLockError::WouldBlock) => {}
                Err(fs4::TryLockError::Error(error)) => {
                    return Err(RefreshError::Transient(format!(
                        "cannot lock `{}`: {error}",
                        path.display()
                    )));
                }
            }
            if started.elapsed() >= wait {
                return Err(RefreshError::Transient(format!(
                    "timed out after {} s waiting for another process's refresh of the ChatGPT \
                     login (the lock `{}`); try again, or find the process holding it with \
                     `fuser {}`",
                    wait.as_secs(),
                    path.display(),
                    path.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};

    struct Memory(RefCell<Option<String>>);

    impl LoginDocumentStore for Memory {
        fn load(&self) -> Result<Option<Zeroizing<String>>, String> {
            Ok(self.0.borrow().clone().map(Zeroizing::new))
        }
        fn save(&self, document: &str) -> Result<(), String> {
            *self.0.borrow_mut() = Some(document.to_owned());
            Ok(())
        }
    }

    fn document(last_refresh: &str) -> String {
        format!(
            r#"{{"auth_mode":"chatgpt","OPENAI_API_KEY":null,"tokens":{{"id_token":"e30.e30.c2ln","access_token":"access-1","refresh_token":"refresh-1","account_id":null}},"last_refresh":"{last_refresh}"}}"#
        )
    }

    fn new_tokens() -> Tokens {
        Tokens {
            id_token: Zeroizing::new(String::new()),
            access_token: Zeroizing::new("access-2".into()),
            refresh_token: Zeroizing::new("refresh-2".into()),
        }
    }

    #[test]
    fn each_reason_refreshes_only_when_it_still_holds() {
        let home = tempfile::tempdir().unwrap();
        let calls = Cell::new(0);
        let refresher = |_: &StoredLogin| {
            calls.set(calls.get() + 1);
            Ok(new_tokens())
        };
        let store = Memory(RefCell::new(Some(document("2020-01-01T00:00:00Z"))));
        let outcome = refresh_stored(home.path(), &store, &RefreshReason::Stale, &refresher);
        assert_eq!(outcome, Ok(RefreshOutcome::Refreshed));
        let stored = StoredLogin::parse(store.0.borrow().as_deref().unwrap()).unwrap();
        assert_eq!(
            stored.refresh_token.as_deref().map(String::as_str),
            Some("refresh-2")
        );
        assert!(!is_stale(&stored));
        // Fresh now: a second stale check, and a 401 for the old token, do nothing.
        for reason in [
            RefreshReason::Stale,
            RefreshReason::Unauthorized(Zeroizing::new("access-1".into())),
        ] {
            let outcome = refresh_stored(home.path(), &store, &reason, &refresher);
            assert_eq!(outcome, Ok(RefreshOutcome::NotNeeded));
        }
        assert_eq!(calls.get(), 1);
        let unauthorized = RefreshReason::Unauthorized(Zeroizing::new("access-2".into()));
        let outcome = refresh_stored(home.path(), &store, &unauthorized, &refresher);
        assert_eq!(outcome, Ok(RefreshOutcome::Refreshed));
        assert_eq!(calls.get(), 2);
        let api_key = Memory(RefCell::new(Some(
            r#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-x"}"#.into(),
        )));
        let outcome = refresh_stored(home.path(), &api_key, &RefreshReason::Forced, &refresher);
        assert_eq!(outcome, Ok(RefreshOutcome::NothingToRefresh));
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn a_permanent_failure_leaves_the_login_as_it_was() {
        let home = tempfile::tempdir().unwrap();
        let before = document("2020-01-01T00:00:00Z");
        let store = Memory(RefCell::new(Some(before.clone())));
        let refused = |_: &StoredLogin| {
            Err(RefreshError::Permanent(
                "log in again: `codex login`".into(),
            ))
        };
        let outcome = refresh_stored(home.path(), &store, &RefreshReason::Forced, &refused);
        assert!(matches!(outcome, Err(RefreshError::Permanent(_))));
        assert_eq!(store.0.borrow().as_deref(), Some(before.as_str()));
    }

    #[test]
    fn a_held_lock_is_waited_for_then_reported() {
        let home = tempfile::tempdir().unwrap();
        let path = home.path().join(LOCK_FILE);
        let _held = RefreshLock::acquire(&path, LOCK_WAIT).unwrap();
        let error = RefreshLock::acquire(&path, Duration::from_millis(100))
            .err()
            .unwrap();
        assert!(error.to_string().contains("fuser"), "{error}");
    }
}
