//! Feature flags for this run: the registry (host declarations plus plugin
//! manifests) resolved over `[features]`, `-c features.x=` and
//! `--enable/--disable`.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use codex_feature_registry::{Registry, Resolved, Resolver, Source, Stage};
use codex_plugin_api::FeatureStage;

use crate::plugins::{PluginSet, PluginState};

/// The registry with every loaded plugin's declared features added.
pub fn registry(plugins: Option<&PluginSet>) -> Registry {
    let mut registry = Registry::builtin();
    for entry in plugins
        .map(|set| set.entries.as_slice())
        .unwrap_or_default()
    {
        let (PluginState::Loaded, Some(manifest)) = (&entry.state, &entry.manifest) else {
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
                eprintln!(
                    "warning: ignoring a feature of plugin `{}`: {error}",
                    entry.name
                );
            }
        }
    }
    registry
}

fn stage(stage: FeatureStage) -> Stage {
    match stage {
        FeatureStage::UnderDevelopment => Stage::UnderDevelopment,
        FeatureStage::Experimental => Stage::Experimental,
        FeatureStage::Beta => Stage::Beta,
        FeatureStage::Stable => Stage::Stable,
        FeatureStage::Deprecated => Stage::Deprecated,
        FeatureStage::Removed => Stage::Removed,
    }
}

/// Resolves every feature for this run. Unknown keys on the command line are
/// errors (with a suggestion); in config they are warnings.
pub fn resolve(
    registry: &Registry,
    config: &toml::Table,
    enable: &[String],
    disable: &[String],
) -> Result<Resolved> {
    let mut resolver = Resolver::new(registry);
    if let Some(features) = config.get("features").and_then(|value| value.as_table()) {
        for (key, value) in features {
            // `features.x = true` and the table form `features.x.enabled = true`.
            let value = value
                .as_bool()
                .or_else(|| value.get("enabled").and_then(toml::Value::as_bool));
            let Some(value) = value else {
                bail!("`features.{key}` must be true or false");
            };
            let source = Source::ConfigFile {
                path: "config".into(),
                line: None,
            };
            if let Err(unknown) = resolver.apply(source, key, value) {
                eprintln!("warning: {unknown}");
            }
        }
    }
    for (keys, value) in [(enable, true), (disable, false)] {
        for key in keys {
            if let Err(unknown) = resolver.apply(Source::CommandLine, key, value) {
                let flag = if value { "--enable" } else { "--disable" };
                match unknown.suggestion {
                    Some(suggestion) => bail!(
                        "unknown feature `{key}` in `{flag} {key}`\nhelp: did you mean `{suggestion}`? `codex features list` shows them all"
                    ),
                    None => bail!("unknown feature `{key}` in `{flag} {key}`"),
                }
            }
        }
    }
    Ok(resolver.resolve())
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
    #[test]
    fn host_declarations_break_no_invariant() {
        assert!(super::Registry::builtin().invariant_violations().is_empty());
    }
}
