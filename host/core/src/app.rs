//! What every command shares: CODEX_HOME, the merged config, plugins, the
//! feature flags, host services.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{Result, anyhow};
use codex_config::{FeatureSettings, McpServerConfig};
use codex_feature_registry::{Registry, Resolved};

use codex_plugin_host::services::HostContext;
use codex_plugin_host::{self as plugins, PluginPolicy, PluginSet};

use crate::features::{self, CommandLine, Resolution};

/// What a front end was asked for on its command line (or by its client):
/// the settings that pick and override the configuration of this run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `-c key=value` overrides, in order.
    pub config_overrides: Vec<String>,
    /// `--enable FEATURE`, in order.
    pub enable: Vec<String>,
    /// `--disable FEATURE`, in order.
    pub disable: Vec<String>,
    /// `--profile P`.
    pub profile: Option<String>,
    /// `--model M`.
    pub model: Option<String>,
    /// Print debug detail (plugin logs, layout reports) on standard error.
    pub verbose: bool,
}

/// The state of one run of `codex`.
pub struct App {
    pub options: RunOptions,
    pub codex_home: PathBuf,
    pub config: codex_config::LoadedConfig,
    /// The profile, model, feature bundle and every feature toggle of the
    /// configuration, types checked.
    pub feature_settings: FeatureSettings,
    /// Loaded on first use: commands that only read config never open a library.
    plugins: OnceLock<PluginSet>,
    /// The registry with the plugins' features, built with the plugins.
    registry: OnceLock<Registry>,
    /// The resolution over that registry.
    features: OnceLock<Resolved>,
    /// Warnings already printed, so that each is printed once per run.
    warned: Mutex<BTreeSet<String>>,
}

impl App {
    /// Finds CODEX_HOME, loads every config layer (project layers from the
    /// working directory), selects the profile and model, and checks the
    /// feature toggles of the configuration and the command line.
    pub fn load(options: RunOptions) -> Result<App> {
        App::load_with(options, false)
    }

    /// [`App::load`] for a command that creates the selected profile's
    /// file (`features enable -p NEW`): a profile with no file yet is not
    /// worth a warning.
    pub fn load_creating_profile(options: RunOptions) -> Result<App> {
        App::load_with(options, true)
    }

    fn load_with(options: RunOptions, creating_profile: bool) -> Result<App> {
        let codex_home = codex_config::find_codex_home()?;
        let mut paths = codex_config::ConfigPaths::from_env(codex_home.clone());
        if let Ok(cwd) = std::env::current_dir() {
            paths = paths.with_project_dir(cwd);
        }
        if let Some(profile) = &options.profile {
            codex_config::check_profile_name(profile).map_err(|message| anyhow!(message))?;
            paths = paths.with_profile(profile.clone());
        }
        let config = codex_config::load(&paths, &options.config_overrides)?;
        let feature_settings = codex_config::feature_settings(
            &config,
            options.profile.as_deref(),
            options.model.as_deref(),
        )?;
        let profile_file_missing = options.profile.is_some() && feature_settings.profile.is_none();
        let app = App {
            options,
            codex_home,
            config,
            feature_settings,
            plugins: OnceLock::new(),
            registry: OnceLock::new(),
            features: OnceLock::new(),
            warned: Mutex::new(BTreeSet::new()),
        };
        for warning in &app.feature_settings.warnings {
            if !(creating_profile && profile_file_missing) {
                app.warn(warning.clone());
            }
        }
        app.check_features()?;
        Ok(app)
    }

    /// Resolves the features against the host's own declarations, so that
    /// their warnings show on every command. Plugins are opened only when a
    /// key is unknown to the host: one of them may declare it.
    fn check_features(&self) -> Result<()> {
        let builtin = Registry::builtin();
        let resolution = features::resolve(&builtin, &self.feature_settings, self.command_line());
        if resolution.has_unknown() {
            self.resolved_features()?;
        } else {
            self.report(&resolution)?;
        }
        Ok(())
    }

    fn command_line(&self) -> CommandLine<'_> {
        CommandLine {
            enable: &self.options.enable,
            disable: &self.options.disable,
        }
    }

    /// Prints a resolution's warnings (each once per run); an unknown key
    /// on the command line is the error.
    fn report(&self, resolution: &Resolution) -> Result<()> {
        if let Some(error) = resolution.command_line_error() {
            return Err(anyhow!(error));
        }
        for warning in resolution.warnings() {
            self.warn(warning);
        }
        Ok(())
    }

    /// Prints `warning: {message}` on standard error, once per run.
    pub fn warn(&self, message: String) {
        let first = match self.warned.lock() {
            Ok(mut warned) => warned.insert(message.clone()),
            // A poisoned set only means a panic elsewhere; still warn.
            Err(_) => true,
        };
        if first {
            eprintln!("warning: {message}");
        }
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
        let policy = PluginPolicy::from_config(&self.config)?;
        for warning in &policy.warnings {
            self.warn(warning.clone());
        }
        let dirs = plugins::search_path(&self.codex_home, &policy);
        Ok(self.plugins.get_or_init(|| PluginSet::load(&dirs, &policy)))
    }

    /// Every known feature: the host's and the loaded plugins'.
    pub fn registry(&self) -> Result<&Registry> {
        if let Some(registry) = self.registry.get() {
            return Ok(registry);
        }
        let plugins = self.plugins()?;
        let registry = features::registry(Some(plugins), |warning| self.warn(warning));
        Ok(self.registry.get_or_init(|| registry))
    }

    /// Every feature's effective value for this run, with its source.
    pub fn resolved_features(&self) -> Result<&Resolved> {
        if let Some(resolved) = self.features.get() {
            return Ok(resolved);
        }
        let resolution = features::resolve(
            self.registry()?,
            &self.feature_settings,
            self.command_line(),
        );
        self.report(&resolution)?;
        Ok(self.features.get_or_init(|| resolution.resolved))
    }

    /// The services object plugins get.
    pub fn host_context(&self) -> Result<Arc<HostContext>> {
        let resolved = self.resolved_features()?;
        let context = Arc::new(HostContext::new(
            self.codex_home.clone(),
            features::effective_values(resolved),
            self.options.verbose,
        ));
        codex_credentials::attach_mcp_store(&self.config, self.plugins()?, &context);
        Ok(context)
    }
}
