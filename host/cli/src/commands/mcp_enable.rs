//! `codex mcp enable|disable NAME`: the `enabled` key of a server's table
//! in the user's config.toml, edited in place (comments and order kept).
//!
//! Codex 0.169 has no such commands; it reads `enabled` (default `true`),
//! so what is written here is what its `mcp list` shows. Enabling removes
//! `enabled = false` rather than writing the default, unless a layer below
//! the user's (the system file) turns the server off.

use std::process::ExitCode;

use anyhow::{Result, bail};
use codex_config::{LayerKind, Location};

use crate::output::write_stdout;
use codex_host::App;

pub fn set_enabled(app: &App, name: &str, enable: bool) -> Result<ExitCode> {
    if !app.servers()?.contains_key(name) {
        bail!(
            "No MCP server named '{name}' found.\nhelp: `codex mcp list` shows the configured servers"
        );
    }
    let file = app.config.paths().user_config();
    let key = ["mcp_servers", name, "enabled"];
    let user = LayerKind::User.precedence();
    let settings = enabled_settings(app, name);
    let below = settings
        .iter()
        .rev()
        .find(|(precedence, ..)| *precedence < user);
    let above = settings
        .iter()
        .rev()
        .find(|(precedence, ..)| *precedence > user);

    let before = std::fs::read_to_string(&file).unwrap_or_default();
    if enable && below.is_none_or(|(_, value, _)| *value) {
        codex_config::remove_value(&file, &key)?;
    } else {
        codex_config::set_value(&file, &key, toml_edit::Value::from(enable))?;
    }
    let changed = std::fs::read_to_string(&file).unwrap_or_default() != before;

    let verb = if enable { "Enabled" } else { "Disabled" };
    let note = if changed {
        ""
    } else {
        " (it already was; nothing changed)"
    };
    write_stdout(&format!(
        "{verb} MCP server `{name}` in {}{note}.\n",
        file.display()
    ))?;
    if let Some((_, value, location)) = above
        && *value != enable
    {
        app.warn(format!(
            "`{name}` stays {} for runs like this one: `enabled = {value}` at {location} wins over the user file",
            if enable { "disabled" } else { "enabled" }
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// Every layer's `mcp_servers.NAME.enabled`, lowest precedence first:
/// (precedence, value, where).
fn enabled_settings(app: &App, name: &str) -> Vec<(u8, bool, Location)> {
    let key = codex_config::KeyPath::from_keys(["mcp_servers", name, "enabled"]);
    app.config
        .layers()
        .iter()
        .filter(|layer| layer.kind() != LayerKind::User)
        .filter_map(|layer| {
            let value = layer
                .table()
                .get("mcp_servers")?
                .get(name)?
                .get("enabled")?
                .as_bool()?;
            let location = layer.locate(&key, codex_config::span::SpanTarget::Value);
            Some((layer.kind().precedence(), value, location))
        })
        .collect()
}
