//! Reading, writing and deleting one entry in an open store.
//!
//! The Secret Service gets its own code: items are searched by `service` and
//! `username` only, so items written by Codex (`keyring` 3 adds `target` and
//! `application`), by `secret-tool` or by this backend are all found, and
//! duplicates left by an interrupted writer are cleaned up on the next write.
//! The other stores address an entry by its service and account directly.

use std::collections::HashMap;

use keyring_core::{Entry, Error, Result};
use zeroize::Zeroizing;

use crate::stores::{Opened, StoreKind};

/// The secret under `(service, account)`, if any.
pub fn load(opened: &Opened, service: &str, account: &str) -> Result<Option<Zeroizing<String>>> {
    match opened.kind {
        StoreKind::SecretService => {
            let mut items = search(opened, service, account)?;
            match items.len() {
                0 => Ok(None),
                1 => read(&items.remove(0)),
                _ => Err(Error::Ambiguous(items)),
            }
        }
        _ => read(&opened.store.build(service, account, None)?),
    }
}

/// Stores `secret` under `(service, account)`, replacing what was there.
pub fn store(opened: &Opened, service: &str, account: &str, secret: &str) -> Result<()> {
    match opened.kind {
        StoreKind::SecretService => {
            let mut items = search(opened, service, account)?;
            if items.is_empty() {
                create_secret_service_item(opened, service, account, secret)?;
            } else {
                let first = items.remove(0);
                first.set_password(secret)?;
                // Extra items would make the next read ambiguous.
                for extra in items {
                    ignore_missing(extra.delete_credential())?;
                }
            }
            update_cache(opened, service, account, Some(secret));
            Ok(())
        }
        _ => opened
            .store
            .build(service, account, None)?
            .set_password(secret),
    }
}

/// Removes `(service, account)`; `true` if something was there.
pub fn delete(opened: &Opened, service: &str, account: &str) -> Result<bool> {
    match opened.kind {
        StoreKind::SecretService => {
            let items = search(opened, service, account)?;
            let mut removed = false;
            for item in items {
                removed |= ignore_missing(item.delete_credential())?;
            }
            update_cache(opened, service, account, None);
            Ok(removed)
        }
        _ => ignore_missing(
            opened
                .store
                .build(service, account, None)?
                .delete_credential(),
        ),
    }
}

fn read(entry: &Entry) -> Result<Option<Zeroizing<String>>> {
    match entry.get_password() {
        Ok(secret) => Ok(Some(Zeroizing::new(secret))),
        Err(Error::NoEntry) => Ok(None),
        Err(error) => Err(error),
    }
}

/// `Ok(true)` when done, `Ok(false)` when there was nothing to do.
fn ignore_missing(result: Result<()>) -> Result<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(Error::NoEntry) => Ok(false),
        Err(error) => Err(error),
    }
}

fn search(opened: &Opened, service: &str, account: &str) -> Result<Vec<Entry>> {
    let spec = HashMap::from([("service", service), ("username", account)]);
    opened.store.search(&spec)
}

/// Creates the item in the default collection with the attributes
/// `keyring` 3 writes (`service`, `username`, `target`, `application`).
fn create_secret_service_item(
    opened: &Opened,
    service: &str,
    account: &str,
    secret: &str,
) -> Result<()> {
    let label = format!("{service} ({account})");
    let modifiers = HashMap::from([("target", "default"), ("label", label.as_str())]);
    let entry = opened.store.build(service, account, Some(&modifiers))?;
    entry.set_password(secret)?;
    entry.update_attributes(&HashMap::from([("application", "rust-keyring")]))
}

/// Keeps `keyring` 3's kernel-keyring cache of a Secret Service value in
/// step: an existing cached copy is replaced (`Some`) or removed (`None`).
/// Nothing is cached that was not cached before. Best effort: the Secret
/// Service is the store of record.
fn update_cache(opened: &Opened, service: &str, account: &str, secret: Option<&str>) {
    let Some(cache) = &opened.cache else {
        return;
    };
    let Ok(entry) = cache.build(service, account, None) else {
        return;
    };
    match secret {
        Some(secret) => {
            if matches!(read(&entry), Ok(Some(_))) {
                let _ = entry.set_password(secret);
            }
        }
        None => {
            let _ = entry.delete_credential();
        }
    }
}
