//! `codex config show`: the merged configuration, and with `--origin` the
//! layer, file and line that set every leaf value. Secrets are masked
//! (see [`crate::mask::is_secret_path`]).

use serde_json::{Value, json};

use crate::error::Location;
use crate::features::FeatureSettings;
use crate::layers::ConfigLayer;
use crate::load::LoadedConfig;
use crate::mask::{mask_table, mask_value};
use crate::toml_value::{table_to_json as toml_table_to_json, to_json as toml_to_json};

/// The merged configuration as TOML, secrets masked.
pub fn merged_toml(config: &LoadedConfig) -> String {
    let masked = mask_table(config.merged());
    // Serializing a table of TOML values cannot fail; an empty text is the
    // honest fallback if it ever did.
    toml::to_string(&masked).unwrap_or_default()
}

/// The merged configuration as a JSON object, secrets masked.
pub fn merged_json(config: &LoadedConfig) -> Value {
    toml_table_to_json(&mask_table(config.merged()))
}

/// Where a value was set, as `config show --origin` prints it:
/// `file:line`, or `-c key=value` (masked), or the file alone.
pub fn origin_text(location: &Location) -> String {
    match location {
        Location::File { path, line, .. } => format!("{}:{line}", path.display()),
        Location::FileOnly { path } => path.display().to_string(),
        Location::Override { text } => format!("-c {text}"),
    }
}

fn layer_state(layer: &ConfigLayer) -> String {
    if let Some(reason) = layer.disabled_reason() {
        format!("disabled: {reason}")
    } else if !layer.exists() {
        "not found".to_string()
    } else if layer.path().is_none() {
        let count = layer.overrides().iter().count();
        format!("{count} override{}", if count == 1 { "" } else { "s" })
    } else {
        "loaded".to_string()
    }
}

/// `config show --origin` as text: the profile, model and bundle of this
/// run and every layer (as comments), then one `key = value  # origin`
/// line per leaf value.
pub fn origins_text(config: &LoadedConfig, features: &FeatureSettings) -> String {
    let mut out = String::new();
    if let Some(profile) = &features.profile {
        out.push_str(&format!(
            "# profile: {} (selected by {}; {})\n",
            profile.name, profile.selected_by, profile.source
        ));
    }
    if let Some(model) = &features.model {
        out.push_str(&format!(
            "# model: {} (selected by {})\n",
            model.name, model.selected_by
        ));
    }
    if let Some(bundle) = &features.bundle {
        out.push_str(&format!(
            "# feature bundle: {} (model_features entry `{}` at {})\n",
            bundle.name, bundle.pattern, bundle.location
        ));
    }
    out.push_str("# layers, lowest precedence first:\n");
    for layer in config.layers() {
        if layer.path().is_none() && layer.overrides().is_empty() {
            continue;
        }
        let name = match layer.path() {
            Some(path) => path.display().to_string(),
            None => "-c".to_string(),
        };
        out.push_str(&format!(
            "#   {:<8} {name} ({})\n",
            layer.kind().label(),
            layer_state(layer)
        ));
    }
    let lines: Vec<(String, String)> = config
        .located_origins()
        .into_iter()
        .filter_map(|(path, layer, location)| {
            let keys = path.leading_keys();
            let value = config.get(&keys)?;
            let mut owned: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            let shown = mask_value(&mut owned, value);
            Some((
                format!("{path} = {}", inline(&shown)),
                format!("{} {}", layer.kind().label(), origin_text(&location)),
            ))
        })
        .collect();
    if !lines.is_empty() {
        out.push('\n');
    }
    let width = lines
        .iter()
        .map(|(left, _)| left.chars().count())
        .max()
        .unwrap_or(0)
        .min(60);
    for (left, origin) in lines {
        out.push_str(&format!("{left:<width$}  # {origin}\n"));
    }
    out
}

/// One value as inline TOML (`"o3"`, `[1, 2]`, `{}`).
fn inline(value: &toml::Value) -> String {
    value.to_string()
}

/// `config show --origin --json`.
pub fn origins_json(config: &LoadedConfig, features: &FeatureSettings) -> Value {
    let layers: Vec<Value> = config
        .layers()
        .iter()
        .filter(|layer| layer.path().is_some() || !layer.overrides().is_empty())
        .map(|layer| {
            json!({
                "layer": layer.kind().label(),
                "file": layer.path().map(|p| p.display().to_string()),
                "exists": layer.exists(),
                "disabled": layer.disabled_reason(),
                "overrides": layer.overrides().iter().map(|ov| ov.masked()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let values: Vec<Value> = config
        .located_origins()
        .into_iter()
        .filter_map(|(path, layer, location)| {
            let keys = path.leading_keys();
            let value = config.get(&keys)?;
            let mut owned: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            let shown = mask_value(&mut owned, value);
            let (file, line, column, override_text) = match &location {
                Location::File { path, line, column } => (
                    Some(path.display().to_string()),
                    Some(*line),
                    Some(*column),
                    None,
                ),
                Location::FileOnly { path } => (Some(path.display().to_string()), None, None, None),
                Location::Override { text } => (None, None, None, Some(text.clone())),
            };
            Some(json!({
                "key": path.to_string(),
                "value": toml_to_json(&shown),
                "layer": layer.kind().label(),
                "file": file,
                "line": line,
                "column": column,
                "override": override_text,
            }))
        })
        .collect();
    json!({
        "profile": features.profile.as_ref().map(|p| json!({
            "name": p.name,
            "selected_by": p.selected_by.to_string(),
            "source": p.source.to_string(),
        })),
        "model": features.model.as_ref().map(|m| json!({
            "name": m.name,
            "selected_by": m.selected_by.to_string(),
        })),
        "feature_bundle": features.bundle.as_ref().map(|b| json!({
            "name": b.name,
            "model": b.model,
            "pattern": b.pattern,
            "location": b.location.to_string(),
        })),
        "layers": layers,
        "values": values,
    })
}
