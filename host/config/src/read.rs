//! Reading every layer of a run: the files, the trusted project's layers
//! (which the other layers decide) and the `-c` overrides.

use crate::error::ConfigError;
use crate::layers::{ConfigLayer, ConfigPaths, LayerKind};
use crate::load::LoadedConfig;
use crate::overrides::CliOverrides;

/// Loads every layer, lowest precedence first: system, user, the profile
/// (`$CODEX_HOME/P.config.toml` of [`ConfigPaths::profile`]), project
/// (`.codex/config.toml` from the project root down to
/// [`ConfigPaths::project_dir`], see [`crate::project`]), `-c` overrides,
/// managed. Missing files are empty layers; a file that exists but cannot
/// be read is an error naming it.
pub fn load_config(
    paths: &ConfigPaths,
    overrides: &CliOverrides,
) -> Result<LoadedConfig, ConfigError> {
    let system = ConfigLayer::from_file(LayerKind::System, &paths.system_config)?;
    let user = ConfigLayer::from_file(LayerKind::User, &paths.user_config())?;
    let profile = match &paths.profile {
        Some(name) => Some(ConfigLayer::from_file(
            LayerKind::Profile,
            &paths.profile_config(name),
        )?),
        None => None,
    };
    let session = ConfigLayer::from_overrides(overrides);
    let managed = ConfigLayer::from_file(LayerKind::Managed, &paths.managed_config)?;
    let project = match &paths.project_dir {
        Some(dir) => {
            // Which projects are trusted, and what marks a project root, is
            // decided by every layer except the projects' own.
            let base = LoadedConfig::from_layers(
                paths.clone(),
                [Some(system.clone()), Some(user.clone()), profile.clone()]
                    .into_iter()
                    .flatten()
                    .chain([session.clone(), managed.clone()])
                    .collect(),
            );
            crate::project::project_layers(&base, dir)?
        }
        None => Vec::new(),
    };
    let mut layers = vec![system, user];
    layers.extend(profile);
    layers.extend(project);
    layers.push(session);
    layers.push(managed);
    Ok(LoadedConfig::from_layers(paths.clone(), layers))
}
