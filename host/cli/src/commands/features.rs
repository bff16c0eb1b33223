//! `codex features list|enable|disable|explain`.

use std::process::ExitCode;

use anyhow::{Result, bail};
use codex_config::{LayerKind, SettingScope};
use codex_feature_registry::{
    Feature, Origin, Registry, ResolvedFeature, Source, SourceKind, Stage,
};
use serde_json::{Value, json};

use crate::output::{print_json, table, write_stdout};
use codex_host::App;
use codex_host::features::{self, CommandLine};

/// `codex features list [--json]`.
pub fn list(app: &App, json_output: bool) -> Result<ExitCode> {
    let registry = app.registry()?;
    let resolved = app.resolved_features()?;
    let rows: Vec<(&Feature, &ResolvedFeature)> = registry
        .iter()
        .filter_map(|feature| Some((feature, resolved.get(feature.key())?)))
        .collect();
    if json_output {
        let entries: Vec<Value> = rows
            .iter()
            .map(|(feature, resolved)| {
                json!({
                    "key": feature.key(),
                    "stage": feature.stage().as_str(),
                    "enabled": resolved.effective,
                    "default": feature.default_enabled(),
                    "source": source_json(&resolved.source),
                    "origin": origin_kind(feature.origin()),
                    "plugin": plugin_name(feature.origin()),
                    "description": feature.description(),
                })
            })
            .collect();
        print_json(&Value::Array(entries))?;
    } else {
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|(feature, resolved)| {
                vec![
                    feature.key().to_string(),
                    feature.stage().to_string(),
                    resolved.effective.to_string(),
                    source_cell(&resolved.source),
                    feature.origin().to_string(),
                ]
            })
            .collect();
        write_stdout(&table(
            &["Feature", "Stage", "Enabled", "Source", "Declared by"],
            &cells,
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `codex features enable|disable KEY`: edits `[features]` of the user's
/// config.toml (of `$CODEX_HOME/P.config.toml` with `-p P`) and says what
/// changed, and whether something else still decides the value. The name is
/// written as given, a legacy alias too, as Codex writes it; the feature's
/// other names in that table are removed, so one entry decides.
pub fn set(app: &App, key: &str, enable: bool) -> Result<ExitCode> {
    let registry = app.registry()?;
    let feature = known(registry, key)?;
    let canonical = feature.key().to_string();
    let profile = app.options.profile.as_deref();
    // Codex removes a default-off feature instead of writing `false`, unless
    // a layer below the user's turns it on.
    let value = if enable {
        Some(true)
    } else if profile.is_none()
        && !feature.default_enabled()
        && !on_below_user(app, registry, &canonical)
    {
        None
    } else {
        Some(false)
    };
    let paths = app.config.paths();
    let file = match profile {
        Some(profile) => paths.profile_config(profile),
        None => paths.user_config(),
    };
    let other_names: Vec<&str> = std::iter::once(feature.key())
        .chain(feature.aliases().iter().map(String::as_str))
        .collect();
    let changes = codex_config::set_feature(&file, key, value, &other_names)?;
    let verb = if enable { "Enabled" } else { "Disabled" };
    let place = match profile {
        Some(profile) => format!("profile `{profile}` ({})", file.display()),
        None => file.display().to_string(),
    };
    if changes.is_empty() {
        write_stdout(&format!(
            "{verb} feature `{key}` in {place} (it already was; nothing changed).\n"
        ))?;
    } else {
        let what: Vec<String> = changes.iter().map(ToString::to_string).collect();
        write_stdout(&format!(
            "{verb} feature `{key}` in {place}: {}.\n",
            what.join(", ")
        ))?;
    }
    match feature.stage() {
        Stage::Removed if feature.ignores_config() => app.warn(format!(
            "feature `{canonical}` has been removed; the setting has no effect"
        )),
        Stage::UnderDevelopment if enable => app.warn(format!(
            "feature `{canonical}` is under development: it is incomplete and may change or break"
        )),
        _ => {}
    }
    if let Some(decider) = still_decided_elsewhere(app, registry, &canonical, enable)? {
        app.warn(format!(
            "`{canonical}` stays {} for runs like this one: {decider} sets it last (`codex features explain {canonical}` shows every layer)",
            if enable { "off" } else { "on" }
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// The feature `key` names (a key or a legacy alias); an unknown key is an
/// error with the closest known key.
fn known<'r>(registry: &'r Registry, key: &str) -> Result<&'r Feature> {
    let feature = registry
        .canonical_key(key)
        .and_then(|(canonical, _)| registry.get(canonical));
    match (feature, registry.suggest(key)) {
        (Some(feature), _) => Ok(feature),
        (None, Some(suggestion)) => bail!(
            "unknown feature `{key}`\nhelp: did you mean `{suggestion}`? `codex features list` shows them all"
        ),
        (None, None) => {
            bail!("unknown feature `{key}`\nhelp: `codex features list` shows every feature")
        }
    }
}

/// Whether the system layer turns `key` on in `[features]`.
fn on_below_user(app: &App, registry: &Registry, key: &str) -> bool {
    app.feature_settings.settings.iter().any(|setting| {
        setting.layer == LayerKind::System
            && setting.scope == SettingScope::Features
            && setting.value
            && registry
                .canonical_key(&setting.key)
                .is_some_and(|(canonical, _)| canonical == key)
    })
}

/// After the edit: the source that still gives `key` the other value in a
/// run with the same flags, if any.
fn still_decided_elsewhere(
    app: &App,
    registry: &Registry,
    key: &str,
    wanted: bool,
) -> Result<Option<Source>> {
    let config = codex_config::load(app.config.paths(), &app.options.config_overrides)?;
    let settings = codex_config::feature_settings(
        &config,
        app.options.profile.as_deref(),
        app.options.model.as_deref(),
    )?;
    let command_line = CommandLine {
        enable: &app.options.enable,
        disable: &app.options.disable,
    };
    let resolution = features::resolve(registry, &settings, command_line);
    Ok(resolution
        .resolved
        .get(key)
        .filter(|resolved| {
            resolved.effective != wanted && registry.get(key).is_some_and(|f| !f.ignores_config())
        })
        .map(|feature| feature.source.clone()))
}

/// `codex features explain KEY [--json]`.
pub fn explain(app: &App, key: &str, json_output: bool) -> Result<ExitCode> {
    let registry = app.registry()?;
    let feature = known(registry, key)?;
    let resolved = app.resolved_features()?;
    let Some(resolution) = resolved.get(feature.key()) else {
        bail!("feature `{}` has no resolution", feature.key());
    };
    // The row that decided: the default for a removed feature, else the last.
    let winner = if feature.ignores_config() {
        0
    } else {
        resolution.history.len().saturating_sub(1)
    };
    let notes: Vec<String> = resolved
        .warnings()
        .iter()
        .filter(|warning| warning.key() == feature.key())
        .map(ToString::to_string)
        .collect();
    if json_output {
        let history: Vec<Value> = resolution
            .history
            .iter()
            .enumerate()
            .map(|(index, (source, value))| {
                json!({
                    "source": source_json(source),
                    "value": value,
                    "effective": index == winner,
                })
            })
            .collect();
        print_json(&json!({
            "key": feature.key(),
            "stage": feature.stage().as_str(),
            "description": feature.description(),
            "origin": origin_kind(feature.origin()),
            "plugin": plugin_name(feature.origin()),
            "aliases": feature.aliases(),
            "default": feature.default_enabled(),
            "enabled": resolution.effective,
            "source": source_json(&resolution.source),
            "history": history,
            "notes": notes,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = format!(
        "{} = {} (set by {})\n  {}, declared by {}: {}\n",
        feature.key(),
        resolution.effective,
        resolution.source,
        feature.stage(),
        feature.origin(),
        feature.description()
    );
    if !feature.aliases().is_empty() {
        text.push_str(&format!(
            "  legacy names: {}\n",
            feature.aliases().join(", ")
        ));
    }
    text.push_str("  every value, lowest precedence first:\n");
    let rows: Vec<Vec<String>> = resolution
        .history
        .iter()
        .enumerate()
        .map(|(index, (source, value))| {
            vec![
                format!("    {}.", index + 1),
                source_cell(source),
                value.to_string(),
                if index == winner {
                    "<- effective".to_string()
                } else {
                    String::new()
                },
            ]
        })
        .collect();
    // The table helper prints a header row; drop it for this listing.
    let listing = table(&["", "", "", ""], &rows);
    for line in listing.lines().skip(1) {
        text.push_str(line);
        text.push('\n');
    }
    if feature.ignores_config() {
        text.push_str("  note: the feature has been removed; values set for it have no effect\n");
    }
    for note in notes {
        text.push_str(&format!("  note: {note}\n"));
    }
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn source_cell(source: &Source) -> String {
    match source {
        Source::Default => "default".to_string(),
        other => other.to_string(),
    }
}

fn origin_kind(origin: &Origin) -> &'static str {
    match origin {
        Origin::Host => "host",
        Origin::Codex => "codex",
        Origin::Plugin(_) => "plugin",
    }
}

fn plugin_name(origin: &Origin) -> Option<&str> {
    match origin {
        Origin::Host | Origin::Codex => None,
        Origin::Plugin(name) => Some(name),
    }
}

fn kind_id(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Default => "default",
        SourceKind::ModelBundle => "model_bundle",
        SourceKind::ConfigFile => "config_file",
        SourceKind::Profile => "profile",
        SourceKind::ConfigOverride => "config_override",
        SourceKind::CommandLine => "command_line",
        SourceKind::Managed => "managed",
    }
}

/// A source for `--json`: its kind, how it reads, and its file and line.
fn source_json(source: &Source) -> Value {
    let mut value = json!({
        "kind": kind_id(source.kind()),
        "description": source_cell(source),
        "file": null,
        "line": null,
    });
    if let Some((path, line)) = source.file() {
        value["file"] = json!(path.display().to_string());
        value["line"] = json!(line);
    }
    match source {
        Source::Profile { name, .. } => value["profile"] = json!(name),
        Source::ModelBundle { bundle, model, .. } => {
            value["bundle"] = json!(bundle);
            value["model"] = json!(model);
        }
        Source::ConfigOverride { text } => value["override"] = json!(text),
        _ => {}
    }
    value
}
