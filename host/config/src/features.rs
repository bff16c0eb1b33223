//! Feature toggles as the configuration sets them, each with its place.
//!
//! This module knows where toggles live and checks their types; which keys
//! exist, and which value wins, is the feature registry's business. It
//! reads, in the order the registry should apply them within each kind of
//! source:
//!
//! 1. the model bundle: `[feature_bundles.NAME]`, chosen by
//!    `[model_features]` (model name or glob, see [`crate::glob`]) for the
//!    active model (`-m`, else the profile's `model`, else `model`);
//! 2. every layer's legacy top-level toggles ([`LEGACY_TOGGLES`]), then
//!    every layer's `[features]`, lowest layer first (Codex applies the
//!    legacy toggles of a source before its `[features]`);
//! 3. the same for the selected profile (`-p`, else `profile = "P"`):
//!    `[profiles.P]` legacy toggles, then `[profiles.P.features]`.
//!
//! A value is `true`/`false` or a table with `enabled = true|false`; anything
//! else is an error at the value's file, line and column.

use std::fmt;
use std::path::PathBuf;

use crate::error::{ConfigError, Location};
use crate::glob;
use crate::key_path::KeyPath;
use crate::layers::{ConfigLayer, LayerKind};
use crate::load::LoadedConfig;
use crate::span::SpanTarget;
use crate::toml_value::describe as describe_value;

/// Top-level keys Codex still reads as feature toggles (legacy names of
/// `unified_exec`, `apply_patch_freeform` and `rmcp_client`).
pub const LEGACY_TOGGLES: [&str; 3] = [
    "experimental_use_unified_exec_tool",
    "experimental_use_freeform_apply_patch",
    "experimental_use_rmcp_client",
];

/// Keys of a `[profiles.P]` table that Codex reads as feature toggles, in
/// addition to [`LEGACY_TOGGLES`].
pub const LEGACY_PROFILE_TOGGLES: [&str; 1] = ["include_apply_patch_tool"];

/// How the profile of a run was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileSelector {
    /// `-p/--profile` on the command line.
    CommandLine,
    /// `profile = "P"` in a layer.
    Config(Location),
}

impl fmt::Display for ProfileSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CommandLine => f.write_str("--profile"),
            Self::Config(location) => write!(f, "`profile` at {location}"),
        }
    }
}

/// The profile of this run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveProfile {
    /// The key under `[profiles]`.
    pub name: String,
    /// Who chose it.
    pub selected_by: ProfileSelector,
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
    /// `[features]` or a top-level legacy toggle.
    Features,
    /// `[profiles.NAME.features]` or a legacy toggle in `[profiles.NAME]`.
    Profile {
        /// The profile.
        name: String,
    },
}

/// One toggle in one layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureSetting {
    /// The key as written (a feature key, an alias or a legacy toggle).
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
}

/// Selects the profile and model and collects every toggle, checking types,
/// the bundles `[model_features]` names and that the profile exists.
///
/// `cli_profile` and `cli_model` are `-p` and `-m`, which win over
/// `profile` and `model` in the configuration.
pub fn feature_settings(
    config: &LoadedConfig,
    cli_profile: Option<&str>,
    cli_model: Option<&str>,
) -> Result<FeatureSettings, ConfigError> {
    let profile = select_profile(config, cli_profile)?;
    let model = active_model(config, profile.as_ref(), cli_model)?;
    let bundles = check_bundles(config)?;
    let bundle = select_bundle(config, &bundles, model.as_ref())?;

    let mut out = Collector::default();
    if let Some(bundle) = &bundle {
        out.bundle(config, bundle)?;
    }
    for layer in config.layers() {
        out.legacy(
            layer,
            &KeyPath::root(),
            &LEGACY_TOGGLES,
            SettingScope::Features,
        )?;
    }
    for layer in config.layers() {
        out.table(
            layer,
            &KeyPath::from_keys(["features"]),
            SettingScope::Features,
        )?;
    }
    // Every profile's toggles must have the right types, selected or not.
    for layer in config.layers() {
        for name in profile_names(layer) {
            let path = KeyPath::from_keys(["profiles", name.as_str(), "features"]);
            check_table(layer, &path)?;
        }
    }
    if let Some(profile) = &profile {
        let scope = SettingScope::Profile {
            name: profile.name.clone(),
        };
        let base = KeyPath::from_keys(["profiles", profile.name.as_str()]);
        let legacy: Vec<&str> = LEGACY_TOGGLES
            .iter()
            .chain(LEGACY_PROFILE_TOGGLES.iter())
            .copied()
            .collect();
        for layer in config.layers() {
            out.legacy(layer, &base, &legacy, scope.clone())?;
        }
        for layer in config.layers() {
            out.table(layer, &base.key("features"), scope.clone())?;
        }
    }
    Ok(FeatureSettings {
        profile,
        model,
        bundle,
        settings: out.settings,
    })
}

/// The profile chosen by `-p`, else by `profile = "P"`; an error when the
/// chosen profile is not defined.
pub fn select_profile(
    config: &LoadedConfig,
    cli_profile: Option<&str>,
) -> Result<Option<ActiveProfile>, ConfigError> {
    let (name, selected_by) = match cli_profile {
        Some(name) => (name.to_string(), ProfileSelector::CommandLine),
        None => match config.get(&["profile"]) {
            None => return Ok(None),
            Some(toml::Value::String(name)) => (
                name.clone(),
                ProfileSelector::Config(
                    config.locate(&KeyPath::from_keys(["profile"]), SpanTarget::Value),
                ),
            ),
            Some(other) => {
                return Err(config.invalid(
                    KeyPath::from_keys(["profile"]),
                    SpanTarget::Value,
                    format!(
                        "expected the name of a [profiles.NAME] table, found {}",
                        describe_value(other)
                    ),
                ));
            }
        },
    };
    let profiles = match config.get(&["profiles"]) {
        None => None,
        Some(toml::Value::Table(profiles)) => Some(profiles),
        Some(other) => {
            return Err(config.invalid(
                KeyPath::from_keys(["profiles"]),
                SpanTarget::Value,
                format!(
                    "expected a table of profiles, found {}",
                    describe_value(other)
                ),
            ));
        }
    };
    match profiles.and_then(|p| p.get(&name)) {
        Some(toml::Value::Table(_)) => Ok(Some(ActiveProfile { name, selected_by })),
        Some(other) => Err(config.invalid(
            KeyPath::from_keys(["profiles", name.as_str()]),
            SpanTarget::Value,
            format!("expected a table, found {}", describe_value(other)),
        )),
        None => {
            let defined: Vec<String> = profiles
                .map(|p| p.keys().map(|k| format!("`{k}`")).collect())
                .unwrap_or_default();
            let hint = if defined.is_empty() {
                format!("no profile is defined; add a [profiles.{name}] table to config.toml")
            } else {
                format!("defined profiles: {}", defined.join(", "))
            };
            Err(ConfigError::ProfileNotFound {
                name,
                selected_by: selected_by.to_string(),
                hint,
            })
        }
    }
}

/// The model of this run: `-m`, else the profile's `model`, else `model`.
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
    if let Some(profile) = profile {
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

/// `true`/`false`, or a table with `enabled = true|false` (Codex also
/// accepts the table form; its other keys are options of the feature).
fn toggle_value(value: &toml::Value) -> Result<bool, String> {
    const EXPECTED: &str = "expected true or false (or a table with `enabled = true|false`)";
    match value {
        toml::Value::Boolean(value) => Ok(*value),
        toml::Value::Table(table) => match table.get("enabled") {
            Some(toml::Value::Boolean(value)) => Ok(*value),
            Some(other) => Err(format!(
                "{EXPECTED}, found `enabled` = {}",
                describe_value(other)
            )),
            None => Err(format!("{EXPECTED}, found a table without `enabled`")),
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

    /// The legacy toggles `names` directly under `base` in one layer.
    fn legacy(
        &mut self,
        layer: &ConfigLayer,
        base: &KeyPath,
        names: &[&str],
        scope: SettingScope,
    ) -> Result<(), ConfigError> {
        let table = if base.is_empty() {
            Some(layer.table())
        } else {
            value_at(layer, base).and_then(toml::Value::as_table)
        };
        let Some(table) = table else { return Ok(()) };
        self.tables += 1;
        for name in names {
            let Some(value) = table.get(*name) else {
                continue;
            };
            let path = base.key(*name);
            let Some(value) = value.as_bool() else {
                return Err(invalid_in(
                    layer,
                    path,
                    format!("expected true or false, found {}", describe_value(value)),
                ));
            };
            self.push(layer, &path, name, value, scope.clone());
        }
        Ok(())
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
            self.push(layer, &entry, key, value, scope.clone());
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
