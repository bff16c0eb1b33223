//! What every command needs: CODEX_HOME, the merged config, plugins, host services.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result};
use codex_config::McpServerConfig;

use crate::cli::GlobalArgs;
use crate::host_services::HostContext;
use crate::plugins::{self, PluginSet, policy::PluginPolicy};

/// The state of one run of `codex`.
pub struct App {
    pub global: GlobalArgs,
    pub codex_home: PathBuf,
    pub config: codex_config::LoadedConfig,
}

impl App {
    /// Finds CODEX_HOME and loads every config layer.
    pub fn load(global: GlobalArgs) -> Result<App> {
        let codex_home = codex_config::find_codex_home()?;
        let paths = codex_config::ConfigPaths::from_env(codex_home.clone());
        let config = codex_config::load(&paths, &global.config_overrides)?;
        Ok(App {
            global,
            codex_home,
            config,
        })
    }

    /// The configured MCP servers, validated.
    pub fn servers(&self) -> Result<BTreeMap<String, McpServerConfig>> {
        Ok(codex_config::load_mcp_servers(&self.config)?)
    }

    /// Every plugin on the search path, loaded where allowed.
    pub fn plugins(&self) -> Result<PluginSet> {
        let policy = PluginPolicy::from_config(self.config.merged())
            .context("invalid plugin settings in config")?;
        let dirs = plugins::search_path(&self.codex_home, &policy);
        Ok(PluginSet::load(&dirs, &policy))
    }

    /// The services object plugins get.
    pub fn host_context(&self) -> Arc<HostContext> {
        Arc::new(HostContext {
            codex_home: self.codex_home.clone(),
            features: BTreeMap::new(),
            verbose: self.global.verbose,
            credentials: OnceLock::new(),
        })
    }
}
