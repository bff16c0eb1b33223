//! A configured credential store: one backend, or a chain of them.
//!
//! Rules, following Codex's `auto` mode and generalising it to any chain:
//! - load: the first store that has the entry wins. In a chain, a store
//!   that cannot be reached (kind `Unavailable` or `Timeout`) is skipped with
//!   a one-line warning; any other error (a corrupt file) is returned, never
//!   taken for "no entry".
//! - store: into the first store that takes it; in a chain any failure moves
//!   on to the next store with a warning. Then the entry is removed from the
//!   other stores of the chain and from the file, so no older copy can
//!   shadow it.
//! - delete: from every store it may be in (the configured ones, the keyring
//!   and the file); `true` if any had it. Errors of the configured stores
//!   are returned after all were tried; the others' are only logged.
//!
//! A store outside a chain reports every error as it is, prefixed with its
//! name and the config key that chose it.

use std::collections::BTreeSet;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use codex_plugin_api::{
    CredentialBackend, CredentialBackendBox, ErrorKind, LogLevel, PluginError, PluginResult,
};
use zeroize::Zeroizing;

use codex_config::credentials::{FILE, Selection};
use codex_plugin_host::services::HostContext;

/// Stores whose "not reachable" warning was printed in this process.
static WARNED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// The file in CODEX_HOME that records which unreachable stores were
/// already reported, one `KEY STORE` line each.
const FALLBACK_NOTES: &str = ".credential-fallbacks";

/// Whether the fallback from `store` under config key `key` was reported in
/// `codex_home` before; records it if not. A file that cannot be read or
/// written means the warning is shown again, never lost.
fn fallback_noted(codex_home: &std::path::Path, key: &str, store: &str) -> bool {
    use std::io::Write;
    let path = codex_home.join(FALLBACK_NOTES);
    let line = format!("{key} {store}");
    let notes = std::fs::read_to_string(&path).unwrap_or_default();
    if notes.lines().any(|noted| noted == line) {
        return true;
    }
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        let _ = writeln!(file, "{line}");
    }
    false
}

/// One store of a selection: its name and its backend, or why there is none.
pub struct Member {
    /// The name config uses for it.
    pub name: String,
    backend: Result<Arc<CredentialBackendBox>, PluginError>,
    /// How long one call into the backend may take.
    limit: Duration,
}

impl Member {
    /// A store whose backend was created (or failed to be); calls into it
    /// wait at most `limit`.
    pub fn new(
        name: &str,
        backend: Result<CredentialBackendBox, PluginError>,
        limit: Duration,
    ) -> Self {
        Member {
            name: name.to_owned(),
            backend: backend.map(Arc::new),
            limit,
        }
    }

    fn load(&self, service: &str, account: &str) -> PluginResult<Option<Zeroizing<String>>> {
        let (service, account) = (service.to_owned(), account.to_owned());
        self.call("a read", move |backend| {
            Ok(backend
                .load(service.as_str().into(), account.as_str().into())
                .into_result()?
                .into_option()
                .map(|secret| Zeroizing::new(secret.into_string())))
        })
    }

    fn store(&self, service: &str, account: &str, secret: &str) -> PluginResult<()> {
        let (service, account) = (service.to_owned(), account.to_owned());
        let secret = Zeroizing::new(secret.to_owned());
        self.call("a write", move |backend| {
            backend
                .store(
                    service.as_str().into(),
                    account.as_str().into(),
                    secret.as_str().into(),
                )
                .into_result()
        })
    }

    fn delete(&self, service: &str, account: &str) -> PluginResult<bool> {
        let (service, account) = (service.to_owned(), account.to_owned());
        self.call("a delete", move |backend| {
            backend
                .delete(service.as_str().into(), account.as_str().into())
                .into_result()
        })
    }

    /// Runs `call` with the backend, waiting at most the store's limit.
    fn call<T: Send + 'static>(
        &self,
        what: &str,
        call: impl FnOnce(&CredentialBackendBox) -> PluginResult<T> + Send + 'static,
    ) -> PluginResult<T> {
        let backend = Arc::clone(self.backend.as_ref().map_err(Clone::clone)?);
        bounded(&self.name, what, self.limit, move || call(&backend))
    }
}

/// Runs `call` into the backend of store `store` on a thread of its own and
/// waits at most `limit`: a backend that never returns costs that thread,
/// which is left behind, and never the command.
pub fn bounded<T: Send + 'static>(
    store: &str,
    what: &str,
    limit: Duration,
    call: impl FnOnce() -> PluginResult<T> + Send + 'static,
) -> PluginResult<T> {
    let (answer, answered) = mpsc::sync_channel(1);
    thread::Builder::new()
        .name(format!("credentials {store}"))
        .spawn(move || {
            let _ = answer.send(call());
        })
        .map_err(|error| {
            PluginError::internal(format!(
                "cannot start a thread for credential store `{store}`: {error}"
            ))
        })?;
    match answered.recv_timeout(limit) {
        Ok(result) => result,
        Err(RecvTimeoutError::Timeout) => Err(PluginError::new(
            ErrorKind::Timeout,
            format!(
                "the backend did not answer {what} within {} s; check the program or service \
                 behind it (`timeout_secs` under [credential_backends.{store}] sets how long to wait)",
                limit.as_secs_f64()
            ),
        )),
        Err(RecvTimeoutError::Disconnected) => Err(PluginError::internal(format!(
            "the backend ended {what} without an answer"
        ))),
    }
}

/// Whether `error` means the store could not be reached at all.
fn unreachable(error: &PluginError) -> bool {
    matches!(error.kind, ErrorKind::Unavailable | ErrorKind::Timeout)
}

/// The store a purpose uses, as configured.
pub struct CredentialStore {
    selection: Selection,
    members: Vec<Member>,
    /// Other stores an entry may be in (the keyring and the file when they
    /// are not members): cleaned on delete (the file also on store), their
    /// errors only logged.
    others: Vec<Member>,
    log: Arc<HostContext>,
}

impl CredentialStore {
    /// A store over `members` (in the selection's order) and `others`;
    /// warnings go to `log`.
    pub fn new(
        selection: Selection,
        members: Vec<Member>,
        others: Vec<Member>,
        log: Arc<HostContext>,
    ) -> Self {
        CredentialStore {
            selection,
            members,
            others,
            log,
        }
    }

    /// "`file`", or "`keyring`, then `file`" for a chain.
    pub fn describe(&self) -> String {
        self.members
            .iter()
            .map(|member| format!("`{}`", member.name))
            .collect::<Vec<_>>()
            .join(", then ")
    }

    fn is_chain(&self) -> bool {
        self.selection.is_chain()
    }

    /// The config key and value that chose this store (`auto`, `file`, ...).
    pub fn selection(&self) -> &Selection {
        &self.selection
    }

    /// Whether each member answers a read of `(service, account)` (for
    /// `codex doctor`; the secret read is dropped), in the selection's
    /// order. The first member that answers is the one a chain uses.
    pub fn probe(&self, service: &str, account: &str) -> Vec<(&str, PluginResult<()>)> {
        self.members
            .iter()
            .map(|member| {
                let answer = member
                    .load(service, account)
                    .map(|_| ())
                    .map_err(|error| self.wrap(member, error));
                (member.name.as_str(), answer)
            })
            .collect()
    }

    /// `error` of `member`, with the store's name and the config key.
    fn wrap(&self, member: &Member, error: PluginError) -> PluginError {
        PluginError::new(
            error.kind,
            format!(
                "credential store `{}` (from `{}`): {}",
                member.name, self.selection.key, error.message
            ),
        )
    }

    /// Says once per process that `skipped` was passed over for `used`.
    fn warn_skipped(&self, skipped: &[(&Member, PluginError)], used: &str) {
        for (member, error) in skipped {
            let first = WARNED
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .insert(member.name.clone());
            if !first {
                continue;
            }
            // An unreachable store is an expected case in a chain: its
            // advice on starting it is left out to keep the warning short. A
            // store that failed otherwise needs fixing: its advice stays.
            let (what, reason) = if unreachable(error) {
                let reason = error
                    .message
                    .split_once("; ")
                    .map_or(error.message.as_str(), |(reason, _)| reason);
                ("is not reachable", reason)
            } else {
                ("failed", error.message.as_str())
            };
            // A store that is not reachable on this machine (no Secret
            // Service) is the case the fallback is for: said once per
            // CODEX_HOME, then only under `-v`.
            let level = if unreachable(error)
                && fallback_noted(&self.log.codex_home, self.selection.key, &member.name)
            {
                LogLevel::Info
            } else {
                LogLevel::Warn
            };
            self.log.log(
                level,
                &format!(
                    "credential store `{}` {what} ({reason}); using `{used}` instead (`{}` \
                     chooses the stores)",
                    member.name, self.selection.key
                ),
            );
        }
    }

    /// The secret under `(service, account)`, if any store has it.
    pub fn load(&self, service: &str, account: &str) -> PluginResult<Option<Zeroizing<String>>> {
        let mut skipped = Vec::new();
        for member in &self.members {
            match member.load(service, account) {
                Ok(Some(secret)) => {
                    self.warn_skipped(&skipped, &member.name);
                    return Ok(Some(secret));
                }
                Ok(None) => {
                    self.warn_skipped(&skipped, &member.name);
                    skipped.clear();
                }
                Err(error) if self.is_chain() && unreachable(&error) => {
                    skipped.push((member, error));
                }
                Err(error) => return Err(self.wrap(member, error)),
            }
        }
        if skipped.len() == self.members.len()
            && let Some((member, error)) = skipped.pop()
        {
            // Nothing answered: that is not "no entry".
            return Err(self.wrap(member, error));
        }
        Ok(None)
    }

    /// Stores `secret` under `(service, account)` and removes older copies
    /// from the chain's other stores and the file.
    pub fn store(&self, service: &str, account: &str, secret: &str) -> PluginResult<()> {
        let mut skipped = Vec::new();
        for (index, member) in self.members.iter().enumerate() {
            match member.store(service, account, secret) {
                Ok(()) => {
                    self.warn_skipped(&skipped, &member.name);
                    self.remove_elsewhere(index, service, account);
                    return Ok(());
                }
                Err(error) if self.is_chain() && index + 1 < self.members.len() => {
                    skipped.push((member, error));
                }
                Err(error) => return Err(self.wrap(member, error)),
            }
        }
        Err(PluginError::internal("no credential store is configured"))
    }

    fn remove_elsewhere(&self, stored_in: usize, service: &str, account: &str) {
        let members = self
            .members
            .iter()
            .enumerate()
            .filter(|(index, _)| *index != stored_in)
            .map(|(_, member)| member);
        // Of the stores outside the selection only the file is cleaned, as
        // Codex does after a keyring save; the keyring is left alone (no
        // unlock prompt for a store that is not in use).
        let file = self.others.iter().filter(|member| member.name == FILE);
        for member in members.chain(file) {
            match member.delete(service, account) {
                Ok(_) => {}
                Err(error) if unreachable(&error) => self.log.log(
                    LogLevel::Debug,
                    &format!(
                        "credentials: not cleaning `{}`: {}",
                        member.name, error.message
                    ),
                ),
                Err(error) => self.log.log(
                    LogLevel::Warn,
                    &format!(
                        "credential store `{}` may still hold an older copy of `{account}`: {}",
                        member.name, error.message
                    ),
                ),
            }
        }
    }

    /// Removes `(service, account)` from every store it may be in.
    pub fn delete(&self, service: &str, account: &str) -> PluginResult<bool> {
        let mut removed = false;
        let mut first_error = None;
        let mut answered = false;
        for member in &self.members {
            match member.delete(service, account) {
                Ok(found) => {
                    answered = true;
                    removed |= found;
                }
                Err(error) if self.is_chain() && unreachable(&error) => self.log.log(
                    LogLevel::Debug,
                    &format!(
                        "credentials: `{}` not reachable: {}",
                        member.name, error.message
                    ),
                ),
                Err(error) => {
                    first_error.get_or_insert_with(|| self.wrap(member, error));
                }
            }
        }
        for member in &self.others {
            match member.delete(service, account) {
                Ok(found) => removed |= found,
                Err(error) => self.log.log(
                    LogLevel::Debug,
                    &format!(
                        "credentials: not cleaning `{}`: {}",
                        member.name, error.message
                    ),
                ),
            }
        }
        if let Some(error) = first_error {
            return Err(error);
        }
        if !answered && !removed {
            return Err(PluginError::new(
                ErrorKind::Unavailable,
                format!(
                    "none of the credential stores {} (from `{}`) is reachable",
                    self.describe(),
                    self.selection.key
                ),
            ));
        }
        Ok(removed)
    }
}

impl CredentialBackend for CredentialStore {
    fn load(&self, service: &str, account: &str) -> PluginResult<Option<String>> {
        Ok(CredentialStore::load(self, service, account)?.map(|secret| secret.as_str().to_owned()))
    }

    fn store(&self, service: &str, account: &str, secret: &str) -> PluginResult<()> {
        CredentialStore::store(self, service, account, secret)
    }

    fn delete(&self, service: &str, account: &str) -> PluginResult<bool> {
        CredentialStore::delete(self, service, account)
    }
}

/// A store that could not be set up: every call reports why.
pub struct FailedStore(pub PluginError);

impl CredentialBackend for FailedStore {
    fn load(&self, _service: &str, _account: &str) -> PluginResult<Option<String>> {
        Err(self.0.clone())
    }

    fn store(&self, _service: &str, _account: &str, _secret: &str) -> PluginResult<()> {
        Err(self.0.clone())
    }

    fn delete(&self, _service: &str, _account: &str) -> PluginResult<bool> {
        Err(self.0.clone())
    }
}
