//! The backend: opens the chosen store on first use and runs every
//! operation on it under the deadline.

use std::sync::{Arc, OnceLock};

use codex_plugin_api::{
    CredentialBackend, ErrorKind, HostServices, LogLevel, PluginError, PluginResult,
};
use zeroize::Zeroizing;

use crate::deadline::within;
use crate::errors::failed;
use crate::ops;
use crate::options::{BackendOptions, StoreChoice};
use crate::stores::{self, Opened, StoreKind};

/// Stores secrets in the OS keyring chosen by [`BackendOptions::store`].
///
/// Nothing is opened until the first operation, so creating the backend is
/// cheap and never fails because a keyring daemon is down; the first
/// operation reports that (as [`ErrorKind::Unavailable`], naming each store
/// tried), and so does every later one in the same process.
pub struct KeyringBackend {
    options: BackendOptions,
    host: Option<HostServices>,
    opened: OnceLock<PluginResult<Arc<Opened>>>,
}

impl KeyringBackend {
    /// A backend with `options`; `host` receives its log lines.
    pub fn new(options: BackendOptions, host: Option<HostServices>) -> Self {
        KeyringBackend {
            options,
            host,
            opened: OnceLock::new(),
        }
    }

    /// The store in use, opening it first if needed.
    pub fn store_kind(&self) -> PluginResult<StoreKind> {
        Ok(self.opened()?.kind)
    }

    fn log(&self, level: LogLevel, message: &str) {
        if let Some(host) = &self.host {
            host.log(level, message);
        }
    }

    fn opened(&self) -> PluginResult<Arc<Opened>> {
        self.opened.get_or_init(|| self.open()).clone()
    }

    /// Tries each store `options.store` allows, in order.
    fn open(&self) -> PluginResult<Arc<Opened>> {
        let kinds = stores::kinds_for(self.options.store)?;
        let mut failures = Vec::new();
        for kind in kinds {
            let attempt = within(
                self.options.timeout,
                &format!("opening {}", kind.describe()),
                move || stores::open(kind),
            )
            .and_then(|opened| opened);
            match attempt {
                Ok(opened) => {
                    if !failures.is_empty() {
                        self.log(
                            LogLevel::Info,
                            &format!(
                                "keyring: {}; using {}",
                                failures.join("; "),
                                kind.describe()
                            ),
                        );
                    }
                    self.log(
                        LogLevel::Debug,
                        &format!("keyring: using {}", kind.describe()),
                    );
                    return Ok(Arc::new(opened));
                }
                Err(error) => failures.push(error.message.to_string()),
            }
        }
        let hint = if self.options.store == StoreChoice::Auto {
            String::new()
        } else if cfg!(target_os = "linux") {
            "; start a Secret Service (gnome-keyring, KeePassXC, KWallet) in this session, or \
             set the keyring backend's option `store = \"keyutils\"` (the kernel keyring), or \
             use the `file` store"
                .to_owned()
        } else {
            "; use the `file` store".to_owned()
        };
        Err(PluginError::new(
            ErrorKind::Unavailable,
            format!("no keyring is reachable: {}{hint}", failures.join("; ")),
        ))
    }
}

impl CredentialBackend for KeyringBackend {
    fn load(&self, service: &str, account: &str) -> PluginResult<Option<String>> {
        let opened = self.opened()?;
        let kind = opened.kind;
        let (service_owned, account_owned) = (service.to_owned(), account.to_owned());
        let result = within(
            self.options.timeout,
            &format!("reading `{account}` from {}", kind.describe()),
            move || ops::load(&opened, &service_owned, &account_owned),
        )?;
        match result {
            Ok(found) => Ok(found.map(|secret| (*secret).clone())),
            Err(error) => Err(failed(kind, "read", service, account, &error)),
        }
    }

    fn store(&self, service: &str, account: &str, secret: &str) -> PluginResult<()> {
        let opened = self.opened()?;
        let kind = opened.kind;
        if let Some(limit) = kind.max_secret_bytes()
            && secret.len() > limit
        {
            return Err(PluginError::io(format!(
                "cannot store `{account}` (service `{service}`) in {}: the secret is {} bytes and \
                 this store holds at most {limit} bytes per entry; nothing was written. Use \
                 another store for it (the Secret Service or the `file` store have no such limit)",
                kind.describe(),
                secret.len()
            )));
        }
        if secret.is_empty() {
            return Err(PluginError::io(format!(
                "cannot store `{account}` (service `{service}`) in {}: the secret is empty",
                kind.describe()
            )));
        }
        let (service_owned, account_owned) = (service.to_owned(), account.to_owned());
        let secret = Zeroizing::new(secret.to_owned());
        let result = within(
            self.options.timeout,
            &format!("storing `{account}` in {}", kind.describe()),
            move || ops::store(&opened, &service_owned, &account_owned, &secret),
        )?;
        result.map_err(|error| failed(kind, "store", service, account, &error))
    }

    fn delete(&self, service: &str, account: &str) -> PluginResult<bool> {
        let opened = self.opened()?;
        let kind = opened.kind;
        let (service_owned, account_owned) = (service.to_owned(), account.to_owned());
        let result = within(
            self.options.timeout,
            &format!("deleting `{account}` from {}", kind.describe()),
            move || ops::delete(&opened, &service_owned, &account_owned),
        )?;
        result.map_err(|error| failed(kind, "delete", service, account, &error))
    }
}
