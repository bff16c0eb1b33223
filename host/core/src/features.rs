//! Feature flags for this run: the registry (host declarations plus plugin
//! manifests) resolved over every source the configuration and the command
//! line give, each value keeping its source.
//!
//! Lowest precedence first: defaults, the model's feature bundle,
//! `[features]` (system, user, project layers), `[profiles.P.features]`,
//! `-c features.x=`, `--enable/--disable`, managed pins.

use std::collections::BTreeMap;
use std::path::PathBuf;

use codex_config::{FeatureSetting, FeatureSettings, LayerKind, Location, SettingScope};
use codex_feature_registry::{
    Registry, Resolved, Resolver, Source, SourceKind, Stage, UnknownFeature, Warning,
};
use codex_plugin_api::FeatureStage;

use codex_plugin_host::PluginSet;

/// The registry with every loaded plugin's declared features added; a
/// declaration the registry refuses is reported through `warn`.
pub fn registry(plugins: Option<&PluginSet>, mut warn: impl FnMut(String)) -> Registry {
    let mut registry = Registry::builtin();
    for entry in plugins
        .map(|set| set.entries.as_slice())
        .unwrap_or_default()
    {
        let (true, Some(manifest)) = (entry.is_loaded(), entry.manifest()) else {
            continue;
        };
        for feature in manifest.features.iter() {
            if let Err(error) = registry.register_plugin_feature(
                &entry.name,
                &feature.key,
                stage(feature.stage),
                feature.default_enabled,
                &feature.description,
            ) {
                warn(format!(
                    "ignoring a feature of plugin `{}`: {error}",
                    entry.name
                ));
            }
        }
    }
    registry
}

/// The registry's stage for a stage a plugin manifest declares.
pub fn stage(stage: FeatureStage) -> Stage {
    match stage {
        FeatureStage::UnderDevelopment => Stage::UnderDevelopment,
        FeatureStage::Experimental => Stage::Experimental,
        FeatureStage::Beta => Stage::Beta,
        FeatureStage::Stable => Stage::Stable,
        FeatureStage::Deprecated => Stage::Deprecated,
        FeatureStage::Removed => Stage::Removed,
    }
}

/// What the command line adds to the configuration's toggles.
#[derive(Clone, Copy, Debug)]
pub struct CommandLine<'a> {
    /// `--enable` keys, in order.
    pub enable: &'a [String],
    /// `--disable` keys, in order.
    pub disable: &'a [String],
}

/// The outcome of resolving every source against one registry.
pub struct Resolution {
    /// Every feature's effective value and history.
    pub resolved: Resolved,
    /// Unknown keys in configuration files and `-c` (warnings).
    pub unknown_in_config: Vec<UnknownFeature>,
    /// Unknown keys in `--enable/--disable`, with the flag (errors).
    pub unknown_on_command_line: Vec<(&'static str, UnknownFeature)>,
}

impl Resolution {
    /// Whether some key was not in the registry.
    pub fn has_unknown(&self) -> bool {
        !self.unknown_in_config.is_empty() || !self.unknown_on_command_line.is_empty()
    }

    /// The first unknown command-line key as an error with a suggestion.
    pub fn command_line_error(&self) -> Option<String> {
        let (flag, unknown) = self.unknown_on_command_line.first()?;
        let key = &unknown.key;
        Some(match &unknown.suggestion {
            Some(suggestion) => format!(
                "unknown feature `{key}` in `{flag} {key}`\nhelp: did you mean `{suggestion}`? `codex features list` shows them all"
            ),
            None => format!(
                "unknown feature `{key}` in `{flag} {key}`\nhelp: `codex features list` shows every feature"
            ),
        })
    }

    /// What to tell the user on every run: unknown keys in config, values a
    /// managed pin overrides, and legacy or removed names given on the
    /// command line. Legacy and removed names in config files are Codex's
    /// own and load quietly; `codex features explain` mentions them.
    pub fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .unknown_in_config
            .iter()
            .map(ToString::to_string)
            .collect();
        for warning in self.resolved.warnings() {
            let loud = match warning {
                Warning::OverriddenByManaged { .. } => true,
                Warning::LegacyAlias { source, .. } | Warning::RemovedFeature { source, .. } => {
                    source.kind() == SourceKind::CommandLine
                }
            };
            if loud {
                out.push(warning.to_string());
            }
        }
        out
    }
}

/// Resolves the configuration's toggles and the command line's against
/// `registry`. Unknown keys are collected, not fatal: the caller decides
/// (a plugin may declare them, see [`Resolution::has_unknown`]).
pub fn resolve(
    registry: &Registry,
    settings: &FeatureSettings,
    command_line: CommandLine<'_>,
) -> Resolution {
    let mut resolver = Resolver::new(registry);
    let mut unknown_in_config = Vec::new();
    let mut unknown_on_command_line = Vec::new();

    // Within one table a canonical key beats its legacy alias, whatever
    // the (alphabetical) order of the table.
    let mut ordered: Vec<&FeatureSetting> = settings.settings.iter().collect();
    ordered.sort_by_key(|setting| {
        let canonical = registry
            .canonical_key(&setting.key)
            .is_some_and(|(_, alias)| alias.is_none());
        (setting.table, canonical)
    });
    for setting in ordered {
        if let Err(unknown) = resolver.apply(source_of(setting), &setting.key, setting.value) {
            unknown_in_config.push(unknown);
        }
    }
    for (flag, keys, value) in [
        ("--enable", command_line.enable, true),
        ("--disable", command_line.disable, false),
    ] {
        for key in keys {
            if let Err(unknown) = resolver.apply(Source::CommandLine, key, value) {
                unknown_on_command_line.push((flag, unknown));
            }
        }
    }
    Resolution {
        resolved: resolver.resolve(),
        unknown_in_config,
        unknown_on_command_line,
    }
}

/// The registry source of one configuration toggle.
pub fn source_of(setting: &FeatureSetting) -> Source {
    let line = setting.line();
    let path = || {
        setting
            .file
            .clone()
            .or_else(|| location_file(&setting.location))
            .unwrap_or_default()
    };
    match (&setting.scope, setting.layer) {
        (SettingScope::Bundle { bundle, model }, _) => Source::ModelBundle {
            bundle: bundle.clone(),
            model: model.clone(),
            path: setting.file.clone(),
            line,
        },
        (_, LayerKind::SessionFlags) => Source::ConfigOverride {
            text: match &setting.location {
                Location::Override { text } => text.clone(),
                _ => String::new(),
            },
        },
        (_, LayerKind::Managed) => Source::Managed { path: path(), line },
        (SettingScope::Profile { name }, _) => Source::Profile {
            name: name.clone(),
            path: path(),
            line,
        },
        (SettingScope::Features, _) => Source::ConfigFile { path: path(), line },
    }
}

fn location_file(location: &Location) -> Option<PathBuf> {
    match location {
        Location::File { path, .. } | Location::FileOnly { path } => Some(path.clone()),
        Location::Override { .. } => None,
    }
}

/// The effective values by key, for plugins.
pub fn effective_values(resolved: &Resolved) -> BTreeMap<String, bool> {
    resolved
        .iter()
        .map(|feature| (feature.key.clone(), feature.effective))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_declarations_break_no_invariant() {
        assert!(Registry::builtin().invariant_violations().is_empty());
    }

    fn setting(key: &str, value: bool, table: usize, layer: LayerKind) -> FeatureSetting {
        FeatureSetting {
            key: key.to_string(),
            value,
            scope: SettingScope::Features,
            layer,
            file: Some(PathBuf::from("/c.toml")),
            location: Location::File {
                path: PathBuf::from("/c.toml"),
                line: 3,
                column: 1,
            },
            table,
        }
    }

    #[test]
    fn a_canonical_key_beats_its_alias_in_the_same_table() {
        let registry = Registry::builtin();
        let settings = FeatureSettings {
            settings: vec![
                // Sorted as a TOML table sorts them: the alias first or last,
                // and the canonical key wins either way, as in Codex.
                setting("collab", true, 1, LayerKind::User),
                setting("multi_agent", false, 1, LayerKind::User),
                setting("memories", false, 2, LayerKind::User),
                setting("memory_tool", true, 2, LayerKind::User),
            ],
            ..FeatureSettings::default()
        };
        let none = CommandLine {
            enable: &[],
            disable: &[],
        };
        let resolution = resolve(&registry, &settings, none);
        assert!(!resolution.resolved.is_enabled("multi_agent"));
        assert!(!resolution.resolved.is_enabled("memories"));
        // Legacy names in config files load quietly.
        assert!(
            resolution.warnings().is_empty(),
            "{:?}",
            resolution.warnings()
        );
    }

    #[test]
    fn layers_map_to_their_sources() {
        let mut managed = setting("undo", true, 1, LayerKind::Managed);
        managed.file = Some(PathBuf::from("/etc/codex/managed_config.toml"));
        assert_eq!(
            source_of(&managed),
            Source::Managed {
                path: "/etc/codex/managed_config.toml".into(),
                line: Some(3)
            }
        );
        let mut flag = setting("undo", true, 1, LayerKind::SessionFlags);
        flag.file = None;
        flag.location = Location::Override {
            text: "features.undo=true".into(),
        };
        assert_eq!(
            source_of(&flag).to_string(),
            "-c features.undo=true".to_string()
        );
        let mut profile = setting("undo", true, 1, LayerKind::Project);
        profile.scope = SettingScope::Profile { name: "p".into() };
        assert_eq!(source_of(&profile).to_string(), "profile `p` (/c.toml:3)");
    }
}
