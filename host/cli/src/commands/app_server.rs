//! `codex app-server`: hands the process's stdio to codex-app-server;
//! `generate-json-schema` writes the schema of its protocol.

use std::process::ExitCode;

use anyhow::{Context, Result};
use codex_host::App;

use crate::cli::GenerateJsonSchemaArgs;

/// The config was loaded (and checked) by the dispatcher; the server loads
/// its own, and again after every write.
pub fn run(app: App) -> Result<ExitCode> {
    let options = app.options.clone();
    drop(app);
    codex_app_server::run_stdio(options)?;
    Ok(ExitCode::SUCCESS)
}

/// Needs no config: the schema is the protocol's, the same for every home.
pub fn generate_json_schema(args: &GenerateJsonSchemaArgs) -> Result<ExitCode> {
    let written = codex_app_server::schema::write_bundle(&args.out, args.experimental)
        .with_context(|| {
            format!(
                "cannot write the schema into {}; give --out a directory you can write",
                args.out.display()
            )
        })?;
    eprintln!("wrote {written} schema files into {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}
