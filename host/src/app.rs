//! What every command needs: CODEX_HOME, the merged config, plugins, host services.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result};
use codex_config::McpServerConfig;

use crate::cli::GlobalArgs;
use crate::features;
use crate::host_services::HostContext;
use crate::plugins::{self, PluginSet, policy::PluginPolicy};

/// The state of one run of `codex`.
pub struct App {
    pub global: GlobalArgs,
    pub codex_home: PathBuf,
    pub config: codex_config::LoadedConfig,
    /// Loaded on first use: commands that only read config never open a library.
    plugins: OnceLock<PluginSet>,
}

impl App {
    /// Finds CODEX_HOME, loads every config layer and checks the feature flags
    /// given on the command line.
    pub fn load(global: GlobalArgs) -> Result<App> {
        let codex_home = codex_config::find_codex_home()?;
        let paths = codex_config::ConfigPaths::from_env(codex_home.clone());
        let config = codex_config::load(&paths, &global.config_overrides)?;
        let app = App {
            global,
            codex_home,
            config,
            plugins: OnceLock::new(),
        };
        if !app.global.enable.is_empty() || !app.global.disable.is_empty() {
            // Plugins may declare the features named there.
            app.resolved_features()?;
        }
        Ok(app)
    }

    /// The configured MCP servers, validated.
    pub fn servers(&self) -> Result<BTreeMap<String, McpServerConfig>> {
        Ok(codex_config::load_mcp_servers(&self.config)?)
    }

    /// Every plugin on the search path, loaded where allowed (once per run).
    pub fn plugins(&self) -> Result<&PluginSet> {
        if let Some(set) = self.plugins.get() {
            return Ok(set);
        }
        let policy = PluginPolicy::from_config(self.config.merged())
            .context("invalid plugin settings in config")?;
        let dirs = plugins::search_path(&self.codex_home, &policy);
        Ok(self.plugins.get_or_init(|| PluginSet::load(&dirs, &policy)))
    }

    /// Every feature's effective value for this run.
    pub fn resolved_features(&self) -> Result<codex_feature_registry::Resolved> {
        let registry = features::registry(Some(self.plugins()?));
        features::resolve(
            &registry,
            self.config.merged(),
            &self.global.enable,
            &self.global.disable,
        )
    }

    /// The services object plugins get.
    pub fn host_context(&self) -> Result<Arc<HostContext>> {
        let resolved = self.resolved_features()?;
        Ok(Arc::new(HostContext {
            codex_home: self.codex_home.clone(),
            features: features::effective_values(&resolved),
            verbose: self.global.verbose,
            credentials: OnceLock::new(),
        }))
    }
}
