//! The host's side of [`HostServicesFfi`]: what every plugin may ask of us.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{ROption, RResult, RStr, RString},
};
use codex_plugin_api::{
    CredentialBackendBox, ErrorKind, HostServicesBox, HostServicesFfi, LogLevel, PluginError,
    guard, guard_unit,
};
use zeroize::Zeroizing;

/// Shared state behind every [`HostServicesBox`] the host hands out.
pub struct HostContext {
    pub codex_home: PathBuf,
    /// Effective feature values by key.
    pub features: BTreeMap<String, bool>,
    /// Print debug and info lines from plugins.
    pub verbose: bool,
    /// The configured credential store, set once it has been created. A
    /// credential backend's own services never get one (no recursion).
    pub credentials: OnceLock<Arc<CredentialBackendBox>>,
    /// The options of a login a transport may start by itself (JSON), or
    /// `None` while no login may start; see [`HostContext::allow_login`].
    pub login_options: Mutex<Option<Zeroizing<String>>>,
    /// Who opens a URL a plugin asks to open; `None`: the browser
    /// ([`open_url`]). The app server sets one to hand the URL to its client.
    url_opener: Mutex<Option<UrlOpener>>,
}

/// Opens (or hands on) a URL a plugin asks to open.
pub type UrlOpener = Arc<dyn Fn(&str) -> Result<(), PluginError> + Send + Sync>;

impl HostContext {
    /// A context with no credential store yet and no login allowed.
    pub fn new(codex_home: PathBuf, features: BTreeMap<String, bool>, verbose: bool) -> Self {
        HostContext {
            codex_home,
            features,
            verbose,
            credentials: OnceLock::new(),
            login_options: Mutex::new(None),
            url_opener: Mutex::new(None),
        }
    }

    /// Sends the URLs plugins ask to open to `opener` instead of a browser.
    pub fn set_url_opener(&self, opener: UrlOpener) {
        *self
            .url_opener
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(opener);
    }

    fn open(&self, url: &str) -> Result<(), PluginError> {
        let opener = self
            .url_opener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match opener {
            Some(opener) => opener(url),
            None => open_url(url),
        }
    }

    /// Whether the declared feature `feature` is on for this run.
    pub fn feature_enabled(&self, feature: &codex_feature_registry::FeatureSpec) -> bool {
        feature.enabled_in(&self.features)
    }

    /// A services object for a plugin to keep.
    pub fn services(self: &Arc<Self>) -> HostServicesBox {
        HostServicesBox::from_value(HostServices(self.clone()), TD_Opaque)
    }

    /// The same context without a credential store: what credential
    /// backends get, so that none can reach the store it is part of.
    pub fn without_credentials(&self) -> Arc<HostContext> {
        Arc::new(HostContext::new(
            self.codex_home.clone(),
            self.features.clone(),
            self.verbose,
        ))
    }

    /// Lets transports start a login by themselves from now on (a step-up
    /// during a call, a first login on connect), with `options` (JSON).
    pub fn allow_login(&self, options: Zeroizing<String>) {
        *self
            .login_options
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(options);
    }

    /// Whether a transport may start a login by itself now.
    pub fn login_allowed(&self) -> bool {
        self.login_options
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Logs `message` from the host itself or a plugin.
    pub fn log(&self, level: LogLevel, message: &str) {
        let label = match level {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warning",
            LogLevel::Error => "error",
        };
        if self.verbose || level >= LogLevel::Warn {
            eprintln!("{label}: {message}");
        }
    }

    fn credential_store(&self) -> Result<&Arc<CredentialBackendBox>, PluginError> {
        self.credentials.get().ok_or_else(|| {
            PluginError::new(
                ErrorKind::Unavailable,
                "no credential store is available here (check `mcp_oauth_credentials_store` and `codex plugin list`)",
            )
        })
    }
}

struct HostServices(Arc<HostContext>);

impl HostServicesFfi for HostServices {
    fn log(&self, level: LogLevel, message: RStr<'_>) {
        guard_unit("host log", || self.0.log(level, message.as_str()));
    }

    fn feature_enabled(&self, key: RStr<'_>) -> ROption<bool> {
        self.0.features.get(key.as_str()).copied().into()
    }

    fn codex_home(&self) -> RString {
        self.0.codex_home.to_string_lossy().into_owned().into()
    }

    fn credential_load(
        &self,
        service: RStr<'_>,
        account: RStr<'_>,
    ) -> RResult<ROption<RString>, PluginError> {
        guard("host credential load", || {
            self.0
                .credential_store()?
                .load(service, account)
                .into_result()
        })
    }

    fn credential_store(
        &self,
        service: RStr<'_>,
        account: RStr<'_>,
        secret: RStr<'_>,
    ) -> RResult<(), PluginError> {
        guard("host credential store", || {
            self.0
                .credential_store()?
                .store(service, account, secret)
                .into_result()
        })
    }

    fn credential_delete(
        &self,
        service: RStr<'_>,
        account: RStr<'_>,
    ) -> RResult<bool, PluginError> {
        guard("host credential delete", || {
            self.0
                .credential_store()?
                .delete(service, account)
                .into_result()
        })
    }

    fn notify_user(&self, message: RStr<'_>) {
        guard_unit("host notify", || eprintln!("{}", message.as_str()));
    }

    fn open_url(&self, url: RStr<'_>) -> RResult<(), PluginError> {
        guard("host open url", || self.0.open(url.as_str()))
    }

    fn login_options(&self) -> ROption<RString> {
        let options = self
            .0
            .login_options
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match options.as_ref() {
            Some(json) => ROption::RSome(RString::from(json.as_str())),
            None => ROption::RNone,
        }
    }

    fn read_line(&self, prompt: RStr<'_>) -> RResult<RString, PluginError> {
        guard("host read line", || {
            let mut stderr = std::io::stderr();
            let _ = write!(stderr, "{}", prompt.as_str());
            let _ = stderr.flush();
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|error| {
                    PluginError::io(format!("cannot read from standard input: {error}"))
                })?;
            Ok(RString::from(line.trim_end_matches(['\r', '\n'])))
        })
    }
}

/// Opens `url` with `$BROWSER` when set, else the platform's opener (also
/// for the host's own logins: one rule for which browser opens).
pub fn open_url(url: &str) -> Result<(), PluginError> {
    let opener = std::env::var("BROWSER")
        .ok()
        .filter(|value| !value.trim().is_empty())
        .unwrap_or_else(|| {
            if cfg!(target_os = "macos") {
                "open"
            } else {
                "xdg-open"
            }
            .to_string()
        });
    std::process::Command::new(&opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|error| {
            PluginError::new(
                ErrorKind::Unavailable,
                format!("cannot start the browser `{opener}`: {error}; open the URL yourself"),
            )
        })
}
