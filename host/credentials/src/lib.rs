//! Credential stores: which backend keeps a secret, chosen by config, and
//! Codex's names for the entries.
//!
//! - `mcp_oauth_credentials_store` (default `auto`) picks the store of MCP
//!   OAuth tokens; it is the store plugins reach through `HostServices`
//!   ([`attach_mcp_store`] puts it in the [`HostContext`]).
//! - `cli_auth_credentials_store` (default `file`) picks the store of the
//!   CLI login (`codex login`).
//!
//! Each is `file`, `keyring`, `ephemeral`, the name of any credential
//! backend a loaded plugin provides, or `auto`: the chain in
//! `credential_chain`, by default the keyring then the file, in which an
//! unreachable store is skipped with one warning. Backend options come from
//! `[credential_backends.NAME]`. See `config.rs` and `store.rs` for the rules.

use codex_config::credentials as config;
mod ephemeral;
mod store;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use codex_config::LoadedConfig;
use codex_plugin_api::{
    CredentialBackendAdapter, CredentialBackendBox, ErrorKind, PluginError, ServiceKind,
};

use codex_plugin_host::PluginSet;
use codex_plugin_host::services::HostContext;

pub use codex_credential_names::{AUTH_SERVICE, MCP_SERVICE, cli_auth_account, mcp_account};
pub use config::Purpose;
pub use store::CredentialStore;

use store::{FailedStore, Member};

/// Opens the store configured for `purpose`. Backends are created now (a
/// cheap call into each plugin) and connect on first use; their services
/// are a copy of `context` without a credential store.
pub fn open(
    loaded: &LoadedConfig,
    plugins: &PluginSet,
    purpose: Purpose,
    context: &HostContext,
) -> Result<CredentialStore> {
    let selection = config::selection(loaded, purpose)?;
    let backend_context = context.without_credentials();
    let member = |name: &str| {
        let (backend, limit) = create_backend(loaded, plugins, &backend_context, name);
        Member::new(name, backend, limit)
    };
    let members: Vec<Member> = selection.members.iter().map(|name| member(name)).collect();
    // Where an entry may be besides: Codex always cleans the keyring and
    // the file, whichever store is configured.
    let others = [config::KEYRING, config::FILE]
        .into_iter()
        .filter(|name| !selection.members.iter().any(|member| member == name))
        .map(member)
        .collect();
    Ok(CredentialStore::new(
        selection,
        members,
        others,
        backend_context,
    ))
}

/// Creates the backend behind store `name`, and how long a call into it
/// may take.
fn create_backend(
    loaded: &LoadedConfig,
    plugins: &PluginSet,
    context: &Arc<HostContext>,
    name: &str,
) -> (Result<CredentialBackendBox, PluginError>, Duration) {
    if name == config::EPHEMERAL {
        return (
            Ok(CredentialBackendAdapter::boxed(Box::new(
                ephemeral::EphemeralStore,
            ))),
            config::DEFAULT_CALL_LIMIT,
        );
    }
    let settings = match config::backend_config(loaded, name) {
        Ok(settings) => settings,
        Err(error) => {
            return (
                Err(PluginError::invalid_config(error.to_string())),
                config::DEFAULT_CALL_LIMIT,
            );
        }
    };
    let limit = settings.call_limit;
    let backend = settings.backend;
    let provider = plugins.provider(ServiceKind::CredentialBackend, &backend);
    let Some((entry, module)) =
        provider.and_then(|entry| entry.module().map(|module| (entry, module)))
    else {
        return (Err(missing_backend(plugins, &backend)), limit);
    };
    let plugin = entry.name.clone();
    let services = context.services();
    let options = settings.options_json;
    // A backend may connect to its service when it is created: bounded as
    // its calls are.
    let created = store::bounded(name, "its set-up", limit, move || {
        (module.credential_backend())(backend.as_str().into(), services, options.as_str().into())
            .into_result()
            .map_err(|error| {
                PluginError::new(
                    error.kind,
                    format!(
                        "cannot set up credential backend `{backend}` of plugin `{plugin}`: {}",
                        error.message
                    ),
                )
            })
    });
    (created, limit)
}

/// Why no plugin provides `backend`, and where to look.
fn missing_backend(plugins: &PluginSet, backend: &str) -> PluginError {
    let candidate = plugins
        .why_missing(backend)
        .or_else(|| plugins.why_missing(&backend.replace('-', "_")));
    let detail = match candidate {
        Some(entry) => format!(
            "; the plugin file `{}` was found but not loaded ({})",
            entry.path.display(),
            entry.state.describe()
        ),
        None => String::new(),
    };
    PluginError::new(
        ErrorKind::Unavailable,
        format!(
            "no loaded plugin provides the credential backend `{backend}`{detail}; `codex plugin \
             list` shows the plugins found"
        ),
    )
}

/// Puts the MCP credential store in `context`, for plugins to reach through
/// their host services. A store that cannot be set up (a config error) is
/// still put there, as one that reports the error on every call.
pub fn attach_mcp_store(loaded: &LoadedConfig, plugins: &PluginSet, context: &Arc<HostContext>) {
    let backend = match open(loaded, plugins, Purpose::McpOAuth, context) {
        Ok(store) => CredentialBackendAdapter::boxed(Box::new(store)),
        Err(error) => CredentialBackendAdapter::boxed(Box::new(FailedStore(
            PluginError::invalid_config(format!("{error:#}")),
        ))),
    };
    let _ = context.credentials.set(Arc::new(backend));
}

/// The MCP credential store [`attach_mcp_store`] put in `host`.
fn mcp_store(host: &HostContext) -> Result<&Arc<CredentialBackendBox>> {
    host.credentials.get().ok_or_else(|| {
        anyhow::anyhow!("internal error: the MCP credential store was not set up for this command")
    })
}

/// What the MCP credential store holds for one server, as `codex mcp list`
/// needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoredMcpTokens {
    /// No login is stored.
    Missing,
    /// A login that can be used or refreshed (`OAuth`).
    Usable,
    /// An expired access token without a refresh token: Codex shows `Not
    /// logged in`, since only a new login helps.
    Expired,
}

/// What the MCP credential store holds for server `server_name` at `url`.
/// Only the expiry and whether a refresh token is present are read; the
/// record is wiped right away.
pub fn stored_mcp_tokens(
    host: &HostContext,
    server_name: &str,
    url: &str,
) -> Result<StoredMcpTokens> {
    let found = mcp_store(host)?
        .load(
            MCP_SERVICE.into(),
            mcp_account(server_name, url).as_str().into(),
        )
        .into_result()?;
    let Some(secret) = found.into_option() else {
        return Ok(StoredMcpTokens::Missing);
    };
    let secret = zeroize::Zeroizing::new(secret.into_string());
    Ok(token_state(&secret, now_ms()))
}

/// Whether the keyring-form record `secret` is still of use at `now_ms`. A
/// record that does not parse counts as usable: the transport that reads it
/// says what is wrong with it.
fn token_state(secret: &str, now_ms: u64) -> StoredMcpTokens {
    let Ok(record) = serde_json::from_str::<serde_json::Value>(secret) else {
        return StoredMcpTokens::Usable;
    };
    let expired = record
        .get("expires_at")
        .and_then(serde_json::Value::as_u64)
        .is_some_and(|expires_at| expires_at <= now_ms);
    let refreshable = record
        .pointer("/token_response/refresh_token")
        .is_some_and(serde_json::Value::is_string);
    if expired && !refreshable {
        StoredMcpTokens::Expired
    } else {
        StoredMcpTokens::Usable
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Removes the MCP OAuth tokens of server `server_name` at `url` from every
/// store they may be in (for `codex mcp logout`); `true` if any had them.
pub fn delete_mcp_tokens(host: &HostContext, server_name: &str, url: &str) -> Result<bool> {
    Ok(mcp_store(host)?
        .delete(
            MCP_SERVICE.into(),
            mcp_account(server_name, url).as_str().into(),
        )
        .into_result()?)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::fs;
    use std::path::Path;

    use codex_config::{ConfigLayer, ConfigPaths, LayerKind};

    use super::*;
    use codex_plugin_host::PluginPolicy;
    use codex_plugin_host::{DirOrigin, PluginDir};

    /// The workspace's built plugins: the directory above this test binary.
    fn plugins() -> PluginSet {
        let exe = std::env::current_exe().unwrap();
        let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
        assert!(
            dir.join("libcodex_file.so").exists(),
            "{} has no libcodex_file.so: build the whole workspace first (`cargo build --workspace`)",
            dir.display()
        );
        let dirs = [PluginDir {
            path: dir,
            origin: DirOrigin::Executable,
        }];
        PluginSet::load(&dirs, &PluginPolicy::default())
    }

    struct Setup {
        home: tempfile::TempDir,
        config: LoadedConfig,
        plugins: PluginSet,
        context: Arc<HostContext>,
    }

    fn setup(config_text: &str) -> Setup {
        let home = tempfile::tempdir().unwrap();
        let path = home.path().join("config.toml");
        fs::write(&path, config_text).unwrap();
        let layer = ConfigLayer::from_file(LayerKind::User, &path).unwrap();
        let config = LoadedConfig::from_layers(
            ConfigPaths::with_defaults(home.path().to_path_buf()),
            vec![layer],
        );
        let context = Arc::new(HostContext::new(
            home.path().to_path_buf(),
            BTreeMap::new(),
            false,
        ));
        Setup {
            home,
            config,
            plugins: plugins(),
            context,
        }
    }

    impl Setup {
        fn store(&self, purpose: Purpose) -> CredentialStore {
            open(&self.config, &self.plugins, purpose, &self.context).unwrap()
        }

        fn attach(&self) {
            let store = self.store(Purpose::McpOAuth);
            let _ = self
                .context
                .credentials
                .set(Arc::new(CredentialBackendAdapter::boxed(Box::new(store))));
        }
    }

    const URL: &str = "https://example.com/mcp";

    fn codex_credentials_file(home: &Path) {
        // What Codex writes to .credentials.json for server `docs` at URL.
        fs::write(
            home.join(".credentials.json"),
            r#"{"docs|9a70b85417749d5c":{"server_name":"docs","server_url":"https://example.com/mcp",
               "client_id":"c","access_token":"at-secret","expires_at":1,"refresh_token":null,"scopes":[]}}"#,
        )
        .unwrap();
    }

    #[test]
    fn mcp_tokens_in_codexs_file_are_found_and_deleted() {
        let setup = setup("mcp_oauth_credentials_store = \"file\"\n");
        codex_credentials_file(setup.home.path());
        setup.attach();
        let state = |name: &str, url: &str| stored_mcp_tokens(&setup.context, name, url).unwrap();
        // Expired long ago and no refresh token: only a new login helps.
        assert_eq!(state("docs", URL), StoredMcpTokens::Expired);
        assert_eq!(state("docs", "https://other/mcp"), StoredMcpTokens::Missing);
        assert_eq!(state("other", URL), StoredMcpTokens::Missing);
        assert!(delete_mcp_tokens(&setup.context, "docs", URL).unwrap());
        assert!(!setup.home.path().join(".credentials.json").exists());
        assert_eq!(state("docs", URL), StoredMcpTokens::Missing);
        assert!(!delete_mcp_tokens(&setup.context, "docs", URL).unwrap());
    }

    #[test]
    fn only_an_expired_token_without_a_refresh_token_needs_a_login() {
        let record = |expires_at: &str, refresh: &str| {
            format!(
                r#"{{"expires_at":{expires_at},"token_response":{{"access_token":"a","token_type":"Bearer"{refresh}}}}}"#
            )
        };
        let with_refresh = r#","refresh_token":"r""#;
        assert_eq!(
            token_state(&record("1000", ""), 1000),
            StoredMcpTokens::Expired
        );
        assert_eq!(
            token_state(&record("1001", ""), 1000),
            StoredMcpTokens::Usable
        );
        assert_eq!(
            token_state(&record("1000", with_refresh), 5000),
            StoredMcpTokens::Usable
        );
        assert_eq!(
            token_state(&record("null", ""), 5000),
            StoredMcpTokens::Usable
        );
        assert_eq!(token_state("not json", 5000), StoredMcpTokens::Usable);
    }

    #[test]
    fn a_corrupt_credentials_file_is_an_error_not_no_tokens() {
        let setup = setup("");
        fs::write(setup.home.path().join(".credentials.json"), "{not json").unwrap();
        setup.attach();
        let error = stored_mcp_tokens(&setup.context, "docs", URL).unwrap_err();
        let text = format!("{error:#}");
        assert!(text.contains("credential store `file`"), "{text}");
        assert!(text.contains(".credentials.json` line 1"), "{text}");
        assert_eq!(
            fs::read_to_string(setup.home.path().join(".credentials.json")).unwrap(),
            "{not json"
        );
    }

    #[test]
    fn a_chain_skips_an_unreachable_store_and_stores_in_the_next() {
        let setup = setup(
            "mcp_oauth_credentials_store = \"auto\"\n\
             credential_chain = [\"no-such-vault\", \"file\"]\n",
        );
        let store = setup.store(Purpose::McpOAuth);
        assert_eq!(store.describe(), "`no-such-vault`, then `file`");
        let account = mcp_account("docs", URL);
        let record = r#"{"server_name":"docs","url":"https://example.com/mcp","client_id":"c",
            "token_response":{"access_token":"at-2","token_type":"bearer"}}"#;
        store.store(MCP_SERVICE, &account, record).unwrap();
        let text = fs::read_to_string(setup.home.path().join(".credentials.json")).unwrap();
        assert!(text.contains("at-2"));
        let loaded = store.load(MCP_SERVICE, &account).unwrap().unwrap();
        assert!(loaded.contains("at-2"));
        assert!(store.delete(MCP_SERVICE, &account).unwrap());
        assert_eq!(store.load(MCP_SERVICE, &account).unwrap(), None);
    }

    #[test]
    fn a_store_alone_reports_its_errors_with_the_config_key() {
        let setup = setup("cli_auth_credentials_store = \"no-such-vault\"\n");
        let store = setup.store(Purpose::CliAuth);
        let error = store.load(AUTH_SERVICE, "cli|x").unwrap_err();
        assert_eq!(error.kind, ErrorKind::Unavailable);
        assert_eq!(
            error.message.as_str(),
            "credential store `no-such-vault` (from `cli_auth_credentials_store`): no loaded \
             plugin provides the credential backend `no-such-vault`; `codex plugin list` shows \
             the plugins found"
        );
        assert!(store.store(AUTH_SERVICE, "cli|x", "{}").is_err());
        assert!(store.delete(AUTH_SERVICE, "cli|x").is_err());
    }

    #[test]
    fn storing_removes_the_copy_in_the_other_stores() {
        // Codex: a save to the keyring deletes the file's copy. Here the
        // ephemeral store stands in for the keyring.
        let setup = setup(
            "cli_auth_credentials_store = \"auto\"\ncredential_chain = [\"ephemeral\", \"file\"]\n",
        );
        fs::write(
            setup.home.path().join("auth.json"),
            r#"{"OPENAI_API_KEY":"sk-old-key-in-file"}"#,
        )
        .unwrap();
        let store = setup.store(Purpose::CliAuth);
        let account = cli_auth_account(setup.home.path());
        assert!(
            store
                .load(AUTH_SERVICE, &account)
                .unwrap()
                .unwrap()
                .contains("sk-old-key-in-file")
        );
        store
            .store(AUTH_SERVICE, &account, r#"{"OPENAI_API_KEY":"sk-new"}"#)
            .unwrap();
        assert!(!setup.home.path().join("auth.json").exists());
        assert!(store.delete(AUTH_SERVICE, &account).unwrap());
        assert_eq!(store.load(AUTH_SERVICE, &account).unwrap(), None);
    }

    #[test]
    fn a_bad_selection_still_attaches_a_store_that_explains() {
        let setup = setup("mcp_oauth_credentials_store = 3\n");
        let store = open(
            &setup.config,
            &setup.plugins,
            Purpose::McpOAuth,
            &setup.context,
        );
        let Err(error) = store else {
            panic!("a numeric store was accepted");
        };
        assert!(format!("{error:#}").contains("mcp_oauth_credentials_store"));
    }
}
