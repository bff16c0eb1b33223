//! The `ephemeral` store: secrets in this process's memory only, as Codex's
//! `cli_auth_credentials_store = "ephemeral"` keeps them. Gone at exit.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use codex_plugin_api::{CredentialBackend, PluginResult};
use zeroize::Zeroizing;

type Entries = BTreeMap<(String, String), Zeroizing<String>>;

/// One map for the whole process, shared by every `ephemeral` store.
static ENTRIES: Mutex<Entries> = Mutex::new(BTreeMap::new());

/// The `ephemeral` store.
pub struct EphemeralStore;

fn entries() -> MutexGuard<'static, Entries> {
    // A panic while holding the lock leaves a usable map behind.
    ENTRIES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl CredentialBackend for EphemeralStore {
    fn load(&self, service: &str, account: &str) -> PluginResult<Option<String>> {
        Ok(entries()
            .get(&(service.to_owned(), account.to_owned()))
            .map(|secret| secret.as_str().to_owned()))
    }

    fn store(&self, service: &str, account: &str, secret: &str) -> PluginResult<()> {
        entries().insert(
            (service.to_owned(), account.to_owned()),
            Zeroizing::new(secret.to_owned()),
        );
        Ok(())
    }

    fn delete(&self, service: &str, account: &str) -> PluginResult<bool> {
        Ok(entries()
            .remove(&(service.to_owned(), account.to_owned()))
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_secrets_for_the_process() {
        let store = EphemeralStore;
        assert_eq!(store.load("svc", "ephemeral-test").unwrap(), None);
        store.store("svc", "ephemeral-test", "v").unwrap();
        assert_eq!(
            EphemeralStore
                .load("svc", "ephemeral-test")
                .unwrap()
                .as_deref(),
            Some("v")
        );
        assert!(store.delete("svc", "ephemeral-test").unwrap());
        assert!(!store.delete("svc", "ephemeral-test").unwrap());
    }
}
