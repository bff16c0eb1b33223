//! `codex config show [--origin] [--json]`, `codex config migrate-profiles`.

use std::process::ExitCode;

use anyhow::Result;
use codex_config::{ProfileMove, show};
use serde_json::json;

use crate::cli::ShowArgs;
use crate::output::{print_json, write_stdout};
use codex_host::App;

/// Prints the merged configuration, secrets masked; with `--origin`, every
/// layer and the layer, file and line of each value.
pub fn show(app: &App, args: &ShowArgs) -> Result<ExitCode> {
    match (args.origin, args.json) {
        (false, false) => write_stdout(&show::merged_toml(&app.config))?,
        (false, true) => print_json(&show::merged_json(&app.config))?,
        (true, false) => write_stdout(&show::origins_text(&app.config, &app.feature_settings))?,
        (true, true) => print_json(&show::origins_json(&app.config, &app.feature_settings))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Moves the legacy profile tables to their own files and says what it did.
pub fn migrate_profiles(app: &App, json_output: bool) -> Result<ExitCode> {
    let migration = codex_config::migrate_profiles(&app.codex_home)?;
    if json_output {
        let profiles: Vec<_> = migration
            .profiles
            .iter()
            .map(|profile| match profile {
                ProfileMove::Moved { name, file } => {
                    json!({"name": name, "moved": true, "file": file, "reason": null})
                }
                ProfileMove::Kept { name, reason } => {
                    json!({"name": name, "moved": false, "file": null, "reason": reason})
                }
            })
            .collect();
        print_json(&json!({
            "profiles": profiles,
            "removed_selector": migration.removed_selector,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let config = app.config.paths().user_config();
    let mut text = String::new();
    for profile in &migration.profiles {
        match profile {
            ProfileMove::Moved { name, file } => text.push_str(&format!(
                "Moved profile `{name}` to {} (use it with `codex -p {name}`).\n",
                file.display()
            )),
            ProfileMove::Kept { name, reason } => text.push_str(&format!(
                "Left profile `{name}` in {}: {reason}.\n",
                config.display()
            )),
        }
    }
    if let Some(name) = &migration.removed_selector {
        text.push_str(&format!(
            "Removed `profile = \"{name}\"` from {}: Codex 0.169 has no default profile; pass `-p {name}`.\n",
            config.display()
        ));
    }
    if text.is_empty() {
        text = format!(
            "No legacy profiles in {}; nothing to do.\n",
            config.display()
        );
    }
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}
