//! Feature toggles as the configuration sets them, each with its place.
//!
//! This module knows where toggles live and checks their types; which keys
//! exist, and which value wins, is the feature registry's business. It
//! reads, in the order the registry should apply them within each kind of
//! source:
//!
//! 1. the model bundle: `[feature_bundles.NAME]`, chosen by
//!    `[model_features]` (model name or glob, see [`crate::glob`]) for the
//!    active model (`-m`, else `model`, else a legacy profile's `model`);
//! 2. every layer's `[features]`, lowest layer first. The layer of
//!    `--profile P` (`$CODEX_HOME/P.config.toml`, Codex 0.169's profiles) is
//!    one of them, just over the user file;
//! 3. a legacy profile's `[profiles.P.features]` (see [`select_profile`]).
//!
//! A value is `true`/`false` or a table with `enabled = true|false` (a
//! table without `enabled` sets nothing, as in Codex); anything else is an
//! error at the value's file, line and column. The top-level toggles of old
//! Codex versions (`experimental_use_rmcp_client` and the like) are ignored,
//! as Codex 0.169 ignores them.

use std::fmt;
use std::path::PathBuf;

use crate::error::{ConfigError, Location};
use crate::glob;
use crate::key_path::KeyPath;
use crate::layers::{ConfigLayer, LayerKind};
use crate::load::LoadedConfig;
use crate::span::SpanTarget;
use crate::toml_value::describe as describe_value;

/// How the profile of a run was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileSelector {
    /// `-p/--profile` on the command line.
    CommandLine,
    /// The legacy `profile = "P"` in a layer.
    Config(Location),
}

/// Where a profile's settings are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileSource {
    /// `$CODEX_HOME/P.config.toml`, a layer of its own.
    File(PathBuf),
    /// The legacy `[profiles.P]` table, which Codex 0.169 refuses.
    Legacy(Location),
}

impl fmt::Display for ProfileSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CommandLine => f.write_str("--profile"),
            Self::Config(location) => write!(f, "`profile` at {location}"),
        }
    }
}

impl fmt::Display for ProfileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "the layer {}", path.display()),
            Self::Legacy(location) => write!(f, "the legacy table at {location}"),
        }
    }
}

/// The profile of this run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveProfile {
    /// Its name.
    pub name: String,
    /// Who chose it.
    pub selected_by: ProfileSelector,
    /// Where its settings are.
    pub source: ProfileSource,
}

/// How the model of a run was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelSelector {
    /// `-m/--model` on the command line.
    CommandLine,
    /// `model` in the selected profile.
    Profile {
        /// The profile.
        name: String,
        /// Where its `model` is.
        location: Location,
    },
    /// The top-level `model`.
    Config(Location),
}

impl fmt::Display for ModelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CommandLine => f.write_str("--model"),
            Self::Profile { name, location } => write!(f, "profile `{name}` at {location}"),
            Self::Config(location) => write!(f, "`model` at {location}"),
        }
    }
}

/// The model of this run, which chooses the feature bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveModel {
    /// The model name.
    pub name: String,
    /// Who chose it.
    pub selected_by: ModelSelector,
}

/// The bundle `[model_features]` chose for the active model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectedBundle {
    /// The key under `[feature_bundles]`.
    pub name: String,
    /// The active model.
    pub model: String,
    /// The `[model_features]` key that matched (the model name or a glob).
    pub pattern: String,
    /// Where that entry is.
    pub location: Location,
}

/// Which table a toggle comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettingScope {
    /// `[feature_bundles.BUNDLE]`, selected for `model`.
    Bundle {
        /// The bundle.
        bundle: String,
        /// The active model.
        model: String,
    },
    /// `[features]` of a layer (the profile's file is a layer).
    Features,
    /// `[profiles.NAME.features]` of a legacy profile.
    Profile {
        /// The profile.
        name: String,
    },
}

/// One toggle in one layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureSetting {
    /// The key as written (a feature key or an alias).
    pub key: String,
    /// The value.
    pub value: bool,
    /// The table it is in.
    pub scope: SettingScope,
    /// The layer that set it (for a bundle entry: the layer that defines it).
    pub layer: LayerKind,
    /// That layer's file (`None` for `-c`).
    pub file: Option<PathBuf>,
    /// Where the key is: file:line:column, or the `-c` override.
    pub location: Location,
    /// Settings that come from one table share a number, increasing in the
    /// order the tables are applied; within one table the registry should
    /// let a canonical key beat its legacy alias.
    pub table: usize,
}

impl FeatureSetting {
    /// The 1-based line of the key, when it is in a file.
    pub fn line(&self) -> Option<usize> {
        match &self.location {
            Location::File { line, .. } => Some(*line),
            _ => None,
        }
    }
}

/// Everything the configuration says about features for one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeatureSettings {
    /// The selected profile.
    pub profile: Option<ActiveProfile>,
    /// The active model.
    pub model: Option<ActiveModel>,
    /// The bundle chosen for the model.
    pub bundle: Option<SelectedBundle>,
    /// Every toggle, in application order (see the module docs).
    pub settings: Vec<FeatureSetting>,
    /// What the user should change: legacy profile forms, a profile with
    /// no file. One line each, for the front end to show.
    pub warnings: Vec<String>,
}

/// Selects the profile and model and collects every toggle, checking types
/// and the bundles `[model_features]` names.
///
/// `cli_profile` and `cli_model` are `-p` and `-m`; the layer of `-p P` is
/// already in `config` (see [`crate::ConfigPaths::with_profile`]).
pub fn feature_settings(
    config: &LoadedConfig,
    cli_profile: Option<&str>,
    cli_model: Option<&str>,
) -> Result<FeatureSettings, ConfigError> {
    let mut warnings = Vec::new();
    let profile = select_profile(config, cli_profile, &mut warnings)?;
    let model = active_model(config, profile.as_ref(), cli_model)?;
    let bundles = check_bundles(config)?;
    let bundle = select_bundle(config, &bundles, model.as_ref())?;

    let mut out = Collector::default();
    if let Some(bundle) = &bundle {
        out.bundle(config, bundle)?;
    }
    for layer in config.layers() {
        out.table(
            layer,
            &KeyPath::from_keys(["features"]),
            SettingScope::Features,
        )?;
    }
    // Every legacy profile's toggles must have the right types, selected or not.
    for layer in config.layers() {
        for name in profile_names(layer) {
            let path = KeyPath::from_keys(["profiles", name.as_str(), "features"]);
            check_table(layer, &path)?;
        }
    }
    if let Some(profile) = &profile
        && let ProfileSource::Legacy(_) = profile.source
    {
        let scope = SettingScope::Profile {
            name: profile.name.clone(),
        };
        let path = KeyPath::from_keys(["profiles", profile.name.as_str(), "features"]);
        for layer in config.layers() {
            out.table(layer, &path, scope.clone())?;
        }
    }
    Ok(FeatureSettings {
        profile,
        model,
        bundle,
        settings: out.settings,
        warnings,
    })
}

/// The profile of this run, as Codex 0.169 has them: `-p P` layers
/// `$CODEX_HOME/P.config.toml`. The legacy forms, which Codex refuses, are
/// still read here, each with a warning that says how to move it
/// (`codex config migrate-profiles`):
///
/// - `-p P` with no `P.config.toml` but a `[profiles.P]` table applies the
///   table's `model` and `features`;
/// - `profile = "P"` selects `[profiles.P]` when no `-p` is given.
///
/// `-p P` with both a file and a legacy table is an error, as in Codex:
/// which one was meant is not for this host to guess. `-p P` with neither
/// uses the base config, as in Codex, with a warning.
pub fn select_profile(
    config: &LoadedConfig,
    cli_profile: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<Option<ActiveProfile>, ConfigError> {
    let selector = match config.get(&["profile"]) {
        None => None,
        Some(toml::Value::String(name)) => Some((
            name.clone(),
            config.locate(&KeyPath::from_keys(["profile"]), SpanTarget::Value),
        )),
        Some(other) => {
            return Err(config.invalid(
                KeyPath::from_keys(["profile"]),
                SpanTarget::Value,
                format!(
                    "expected a profile name (a legacy setting: pass `--profile NAME` instead), found {}",
                    describe_value(other)
                ),
            ));
        }
    };
    let (name, selected_by) = match (cli_profile, &selector) {
        (Some(name), _) => (name.to_string(), ProfileSelector::CommandLine),
        (None, Some((name, location))) => {
            warnings.push(format!(
                "`profile = \"{name}\"` at {location} is a legacy setting that Codex 0.169 refuses; \
                 remove it and pass `--profile {name}` (`codex config migrate-profiles` moves the profiles to their own files)"
            ));
            (name.clone(), ProfileSelector::Config(location.clone()))
        }
        (None, None) => return Ok(None),
    };
    let legacy = legacy_profile(config, &name)?;
    let file = config
        .layers()
        .iter()
        .find(|layer| layer.kind() == LayerKind::Profile && layer.exists())
        .and_then(|layer| layer.path().map(PathBuf::from));
    let source = match (selected_by == ProfileSelector::CommandLine, file, legacy) {
        (true, Some(file), Some(table)) => {
            return Err(ConfigError::Rejected {
                location: table,
                message: format!(
                    "--profile `{name}` cannot be used while the legacy [profiles.{name}] table exists beside {}; \
                     move its settings into that file and remove the table",
                    file.display()
                ),
            });
        }
        (true, Some(file), None) => ProfileSource::File(file),
        (_, _, Some(table)) => {
            if selected_by == ProfileSelector::CommandLine {
                warnings.push(format!(
                    "profile `{name}` is the legacy [profiles.{name}] table at {table}, which Codex 0.169 refuses; \
                     `codex config migrate-profiles` moves it to {}",
                    config.paths().profile_config(&name).display()
                ));
            }
            ProfileSource::Legacy(table)
        }
        (_, _, None) => {
            if selected_by == ProfileSelector::CommandLine {
                warnings.push(format!(
                    "profile `{name}` has no file {}; using the base config",
                    config.paths().profile_config(&name).display()
                ));
            }
            return Ok(None);
        }
    };
    Ok(Some(ActiveProfile {
        name,
        selected_by,
        source,
    }))
}

/// Where the legacy `[profiles.NAME]` table is, if there is one.
fn legacy_profile(config: &LoadedConfig, name: &str) -> Result<Option<Location>, ConfigError> {
    match config.get(&["profiles"]) {
        None => return Ok(None),
        Some(toml::Value::Table(_)) => {}
        Some(other) => {
            return Err(config.invalid(
                KeyPath::from_keys(["profiles"]),
                SpanTarget::Value,
                format!(
                    "expected a table of (legacy) profiles, found {}",
                    describe_value(other)
                ),
            ));
        }
    }
    let path = KeyPath::from_keys(["profiles", name]);
    match config.get(&["profiles", name]) {
        None => Ok(None),
        Some(toml::Value::Table(_)) => Ok(Some(config.locate(&path, SpanTarget::Key))),
        Some(other) => Err(config.invalid(
            path,
            SpanTarget::Value,
            format!("expected a table, found {}", describe_value(other)),
        )),
    }
}

/// The model of this run: `-m`, else a legacy profile's `model`, else
/// `model` (which the profile's file, a layer, may set).
pub fn active_model(
    config: &LoadedConfig,
    profile: Option<&ActiveProfile>,
    cli_model: Option<&str>,
) -> Result<Option<ActiveModel>, ConfigError> {
    if let Some(name) = cli_model {
        return Ok(Some(ActiveModel {
            name: name.to_string(),
            selected_by: ModelSelector::CommandLine,
        }));
    }
    let string_at = |path: KeyPath| -> Result<Option<(String, Location)>, ConfigError> {
        let keys = path.leading_keys();
        match config.get(&keys) {
            None => Ok(None),
            Some(toml::Value::String(name)) => Ok(Some((
                name.clone(),
                config.locate(&path, SpanTarget::Value),
            ))),
            Some(other) => Err(config.invalid(
                path.clone(),
                SpanTarget::Value,
                format!("expected a model name, found {}", describe_value(other)),
            )),
        }
    };
    if let Some(profile) = profile
        && let ProfileSource::Legacy(_) = profile.source
    {
        let path = KeyPath::from_keys(["profiles", profile.name.as_str(), "model"]);
        if let Some((name, location)) = string_at(path)? {
            return Ok(Some(ActiveModel {
                name,
                selected_by: ModelSelector::Profile {
                    name: profile.name.clone(),
                    location,
                },
            }));
        }
    }
    Ok(
        string_at(KeyPath::from_keys(["model"]))?.map(|(name, location)| ActiveModel {
            name,
            selected_by: ModelSelector::Config(location),
        }),
    )
}

/// The names of the merged `[feature_bundles]`, with every entry's type
/// checked.
fn check_bundles(config: &LoadedConfig) -> Result<Vec<String>, ConfigError> {
    let Some(value) = config.get(&["feature_bundles"]) else {
        return Ok(Vec::new());
    };
    let path = KeyPath::from_keys(["feature_bundles"]);
    let Some(bundles) = value.as_table() else {
        return Err(config.invalid(
            path,
            SpanTarget::Value,
            format!(
                "expected a table of feature bundles ([feature_bundles.NAME] tables of \
                 feature = true|false), found {}",
                describe_value(value)
            ),
        ));
    };
    for (name, bundle) in bundles {
        let bundle_path = path.key(name.as_str());
        let Some(entries) = bundle.as_table() else {
            return Err(config.invalid(
                bundle_path,
                SpanTarget::Value,
                format!(
                    "expected a table of feature = true|false, found {}",
                    describe_value(bundle)
                ),
            ));
        };
        for (key, value) in entries {
            let entry_path = bundle_path.key(key.as_str());
            toggle_value(value).map_err(|message| {
                config.invalid(entry_path.clone(), SpanTarget::Value, message)
            })?;
        }
    }
    Ok(bundles.keys().cloned().collect())
}

/// The bundle `[model_features]` maps the active model to. Every mapping is
/// checked, so a misspelt bundle name is found before its model is used.
fn select_bundle(
    config: &LoadedConfig,
    bundles: &[String],
    model: Option<&ActiveModel>,
) -> Result<Option<SelectedBundle>, ConfigError> {
    let Some(value) = config.get(&["model_features"]) else {
        return Ok(None);
    };
    let path = KeyPath::from_keys(["model_features"]);
    let Some(mapping) = value.as_table() else {
        return Err(config.invalid(
            path,
            SpanTarget::Value,
            format!(
                "expected a table of model name or glob = \"bundle name\", found {}",
                describe_value(value)
            ),
        ));
    };
    let mut best: Option<&String> = None;
    for (pattern, bundle) in mapping {
        let entry_path = path.key(pattern.as_str());
        let Some(bundle) = bundle.as_str() else {
            return Err(config.invalid(
                entry_path,
                SpanTarget::Value,
                format!(
                    "expected the name of a [feature_bundles.NAME] table, found {}",
                    describe_value(bundle)
                ),
            ));
        };
        if !bundles.iter().any(|b| b == bundle) {
            let defined = if bundles.is_empty() {
                "none is defined".to_string()
            } else {
                let names: Vec<String> = bundles.iter().map(|b| format!("`{b}`")).collect();
                format!("defined bundles: {}", names.join(", "))
            };
            return Err(config.invalid(
                entry_path,
                SpanTarget::Value,
                format!(
                    "feature bundle `{bundle}` is not defined; add a [feature_bundles.{}] table \
                     or fix the name ({defined})",
                    KeyPath::from_keys([bundle])
                ),
            ));
        }
        let Some(model) = model else { continue };
        if glob::glob_matches(pattern, &model.name)
            && best.is_none_or(|current| rank(pattern) > rank(current))
        {
            best = Some(pattern);
        }
    }
    let (Some(model), Some(pattern)) = (model, best) else {
        return Ok(None);
    };
    let name = mapping
        .get(pattern.as_str())
        .and_then(toml::Value::as_str)
        .unwrap_or_default()
        .to_string();
    Ok(Some(SelectedBundle {
        name,
        model: model.name.clone(),
        pattern: pattern.clone(),
        location: config.locate(&path.key(pattern.as_str()), SpanTarget::Key),
    }))
}

/// An exact name beats every glob; a glob with more literal characters
/// beats one with fewer; on a tie the first key in order wins.
fn rank(pattern: &str) -> (bool, usize) {
    (!glob::is_glob(pattern), glob::specificity(pattern))
}

/// `true`/`false`, or a table with `enabled = true|false` (Codex accepts
/// the table form for features with options, which are its other keys);
/// `None` for a table without `enabled`, which sets nothing.
fn toggle_value(value: &toml::Value) -> Result<Option<bool>, String> {
    const EXPECTED: &str = "expected true or false (or a table with `enabled = true|false`)";
    match value {
        toml::Value::Boolean(value) => Ok(Some(*value)),
        toml::Value::Table(table) => match table.get("enabled") {
            Some(toml::Value::Boolean(value)) => Ok(Some(*value)),
            Some(other) => Err(format!(
                "{EXPECTED}, found `enabled` = {}",
                describe_value(other)
            )),
            None => Ok(None),
        },
        other => Err(format!("{EXPECTED}, found {}", describe_value(other))),
    }
}

/// The keys of `[profiles]` in one layer.
fn profile_names(layer: &ConfigLayer) -> Vec<String> {
    layer
        .table()
        .get("profiles")
        .and_then(toml::Value::as_table)
        .map(|profiles| profiles.keys().cloned().collect())
        .unwrap_or_default()
}

/// The value at `path` in one layer.
fn value_at<'a>(layer: &'a ConfigLayer, path: &KeyPath) -> Option<&'a toml::Value> {
    let keys = path.leading_keys();
    let (first, rest) = keys.split_first()?;
    let mut value = layer.table().get(*first)?;
    for key in rest {
        value = value.as_table()?.get(*key)?;
    }
    Some(value)
}

/// Checks the types of a features table in one layer.
fn check_table(layer: &ConfigLayer, path: &KeyPath) -> Result<(), ConfigError> {
    Collector::default().table(layer, path, SettingScope::Features)
}

#[derive(Default)]
struct Collector {
    settings: Vec<FeatureSetting>,
    tables: usize,
}

impl Collector {
    fn push(
        &mut self,
        layer: &ConfigLayer,
        path: &KeyPath,
        key: &str,
        value: bool,
        scope: SettingScope,
    ) {
        self.settings.push(FeatureSetting {
            key: key.to_string(),
            value,
            scope,
            layer: layer.kind(),
            file: layer.path().map(PathBuf::from),
            location: layer.locate(path, SpanTarget::Key),
            table: self.tables,
        });
    }

    /// The features table at `path` in one layer.
    fn table(
        &mut self,
        layer: &ConfigLayer,
        path: &KeyPath,
        scope: SettingScope,
    ) -> Result<(), ConfigError> {
        let Some(value) = value_at(layer, path) else {
            return Ok(());
        };
        let Some(table) = value.as_table() else {
            return Err(invalid_in(
                layer,
                path.clone(),
                format!(
                    "expected a table of feature = true|false, found {}",
                    describe_value(value)
                ),
            ));
        };
        self.tables += 1;
        for (key, value) in table {
            let entry = path.key(key.as_str());
            let value =
                toggle_value(value).map_err(|message| invalid_in(layer, entry.clone(), message))?;
            if let Some(value) = value {
                self.push(layer, &entry, key, value, scope.clone());
            }
        }
        Ok(())
    }

    fn bundle(
        &mut self,
        config: &LoadedConfig,
        bundle: &SelectedBundle,
    ) -> Result<(), ConfigError> {
        let path = KeyPath::from_keys(["feature_bundles", bundle.name.as_str()]);
        let Some(entries) = config
            .get(&["feature_bundles", bundle.name.as_str()])
            .and_then(toml::Value::as_table)
        else {
            return Ok(());
        };
        self.tables += 1;
        for (key, value) in entries {
            let entry = path.key(key.as_str());
            let value = toggle_value(value)
                .map_err(|message| config.invalid(entry.clone(), SpanTarget::Value, message))?;
            let Some(value) = value else { continue };
            let layer = config
                .origin(&entry.leading_keys())
                .or_else(|| config.origin(&entry.key("enabled").leading_keys()));
            self.settings.push(FeatureSetting {
                key: key.clone(),
                value,
                scope: SettingScope::Bundle {
                    bundle: bundle.name.clone(),
                    model: bundle.model.clone(),
                },
                layer: layer.map_or(LayerKind::User, ConfigLayer::kind),
                file: layer.and_then(ConfigLayer::path).map(PathBuf::from),
                location: config.locate(&entry, SpanTarget::Key),
                table: self.tables,
            });
        }
        Ok(())
    }
}

/// An error at `path` in `layer` (not the highest layer defining it: the
/// one being read).
fn invalid_in(layer: &ConfigLayer, path: KeyPath, message: String) -> ConfigError {
    ConfigError::Invalid {
        location: layer.locate(&path, SpanTarget::Value),
        key: path,
        message,
    }
}
