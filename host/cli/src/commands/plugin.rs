//! `codex plugin list|info`.

use std::process::ExitCode;

use anyhow::{Result, bail};
use serde_json::{Value, json};

use crate::output::{print_json, table, write_stdout};
use codex_host::App;
use codex_plugin_host::PluginEntry;

pub fn list(app: &App, json: bool) -> Result<ExitCode> {
    let set = app.plugins()?;
    if json {
        print_json(&Value::Array(set.entries.iter().map(entry_json).collect()))?;
        return Ok(ExitCode::SUCCESS);
    }
    if set.entries.is_empty() {
        write_stdout(
            "No plugins found. Plugins are files named libcodex_NAME.so next to the codex binary, in ../lib/codex/plugins beside it, in $CODEX_HOME/plugins, or in `plugin_dirs`.\n",
        )?;
    }
    if !has_transport(set) {
        eprintln!("warning: {NO_TRANSPORT}\nhelp: {INSTALL_PLUGINS}");
    }
    if set.entries.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = set
        .entries
        .iter()
        .map(|entry| {
            vec![
                entry.name.clone(),
                kinds(entry),
                version(entry),
                api_version(entry).to_string(),
                entry.state.describe(),
                entry.path.display().to_string(),
            ]
        })
        .collect();
    write_stdout(&table(
        &["Name", "Kind", "Version", "API", "State", "Path"],
        &rows,
    ))?;
    if app.options.verbose {
        for entry in &set.entries {
            if let Some(detail) = entry.detail() {
                eprintln!("layout report for {}:\n{detail}", entry.path.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The problem when no transport plugin is loaded (a `cargo install` of the
/// binary alone, say), and its fix.
pub const NO_TRANSPORT: &str = "no transport plugin is loaded, so no MCP server can be reached";
pub const INSTALL_PLUGINS: &str = "install codex with its plugins: `./install.sh` in the source tree \
    (PREFIX/bin/codex finds PREFIX/lib/codex/plugins), or copy the libcodex_*.so files into \
    $CODEX_HOME/plugins";

/// Whether some loaded plugin provides a transport.
pub fn has_transport(set: &codex_plugin_host::PluginSet) -> bool {
    set.entries.iter().any(|entry| {
        entry.is_loaded()
            && entry.manifest().is_some_and(|manifest| {
                manifest
                    .services
                    .iter()
                    .any(|service| service.kind == codex_plugin_api::ServiceKind::Transport)
            })
    })
}

pub fn info(app: &App, name: &str, json: bool) -> Result<ExitCode> {
    let set = app.plugins()?;
    let matching: Vec<&PluginEntry> = set
        .entries
        .iter()
        .filter(|entry| entry.name == name)
        .collect();
    if matching.is_empty() {
        bail!(
            "no plugin named `{name}` was found\nhelp: run `codex plugin list` to see every plugin file found"
        );
    }
    if json {
        let items: Vec<Value> = matching.iter().map(|entry| entry_json(entry)).collect();
        print_json(&if items.len() == 1 {
            items[0].clone()
        } else {
            Value::Array(items)
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = String::new();
    for entry in matching {
        text.push_str(&format!("{}\n", entry.name));
        text.push_str(&format!("  path: {}\n", entry.path.display()));
        text.push_str(&format!("  found in: {}\n", origin(entry)));
        text.push_str(&format!("  state: {}\n", entry.state.describe()));
        text.push_str(&format!("  version: {}\n", version(entry)));
        text.push_str(&format!(
            "  plugin API: {} (host speaks {})\n",
            api_version(entry),
            codex_plugin_api::API_VERSION
        ));
        if let Some(manifest) = entry.manifest() {
            text.push_str(&format!("  description: {}\n", manifest.description));
            for service in manifest.services.iter() {
                text.push_str(&format!(
                    "  provides {}: {}\n",
                    service.kind.as_str(),
                    service.name
                ));
            }
            for feature in manifest.features.iter() {
                text.push_str(&format!(
                    "  feature {} ({}, default {}): {}\n",
                    feature.key,
                    codex_host::features::stage(feature.stage).as_str(),
                    if feature.default_enabled { "on" } else { "off" },
                    feature.description
                ));
            }
        }
        if app.options.verbose
            && let Some(detail) = entry.detail()
        {
            text.push_str(&format!("  layout report:\n{detail}\n"));
        }
    }
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn kinds(entry: &PluginEntry) -> String {
    let Some(manifest) = entry.manifest() else {
        return "-".into();
    };
    let mut kinds: Vec<&str> = manifest.services.iter().map(|s| s.kind.as_str()).collect();
    kinds.dedup();
    if kinds.is_empty() {
        "-".into()
    } else {
        kinds.join(", ")
    }
}

fn version(entry: &PluginEntry) -> String {
    entry
        .manifest()
        .map(|m| m.version.to_string())
        .unwrap_or_else(|| "-".into())
}

fn api_version(entry: &PluginEntry) -> &str {
    entry
        .declared()
        .map(|declared| declared.api_version.as_str())
        .unwrap_or("-")
}

fn origin(entry: &PluginEntry) -> &'static str {
    match entry.origin {
        codex_plugin_host::DirOrigin::Executable => "the codex executable's directory",
        codex_plugin_host::DirOrigin::Prefix => "lib/codex/plugins of the install prefix",
        codex_plugin_host::DirOrigin::CodexHome => "$CODEX_HOME/plugins",
        codex_plugin_host::DirOrigin::Config => "plugin_dirs in config",
    }
}

fn entry_json(entry: &PluginEntry) -> Value {
    let manifest = entry.manifest();
    json!({
        "name": entry.name,
        "path": entry.path,
        "origin": entry.origin,
        "state": entry.state.label(),
        "reason": entry.state.reason(),
        "version": manifest.map(|m| m.version.to_string()),
        "api_version": entry.declared().map(|declared| &declared.api_version),
        "host_api_version": codex_plugin_api::API_VERSION,
        "description": manifest.map(|m| m.description.to_string()),
        "services": manifest.map(|m| m.services.iter().map(|s| json!({"kind": s.kind.as_str(), "name": s.name.as_str()})).collect::<Vec<_>>()).unwrap_or_default(),
        "features": manifest.map(|m| m.features.iter().map(|f| json!({
            "key": f.key.as_str(),
            "stage": codex_host::features::stage(f.stage).as_str(),
            "default_enabled": f.default_enabled,
            "description": f.description.as_str(),
        })).collect::<Vec<_>>()).unwrap_or_default(),
    })
}
