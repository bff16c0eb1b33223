//! `codex config show [--origin] [--json]`.

use std::process::ExitCode;

use anyhow::Result;
use codex_config::show;

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
