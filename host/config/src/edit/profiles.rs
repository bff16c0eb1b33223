//! `codex config migrate-profiles`: the legacy `[profiles.P]` tables of the
//! user's config.toml become Codex 0.169's profile files,
//! `$CODEX_HOME/P.config.toml`, and the legacy `profile = "P"` goes.

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item};

use crate::edit::file::edit_config_file;
use crate::error::ConfigError;
use crate::layers::{CONFIG_FILE_NAME, check_profile_name};

/// What happened to one legacy profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileMove {
    /// Its settings are now `file`, and the table is gone from config.toml.
    Moved {
        /// The profile.
        name: String,
        /// Its new file.
        file: PathBuf,
    },
    /// Left in config.toml, and why (its file exists already, or the name
    /// cannot be a file name).
    Kept {
        /// The profile.
        name: String,
        /// Why, and what to do.
        reason: String,
    },
}

/// What [`migrate_profiles`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileMigration {
    /// Every `[profiles.P]` table, in file order.
    pub profiles: Vec<ProfileMove>,
    /// The legacy `profile = "P"` that was removed, if there was one.
    pub removed_selector: Option<String>,
}

/// Moves each `[profiles.P]` table of `$CODEX_HOME/config.toml` into a new
/// `$CODEX_HOME/P.config.toml` (its keys at the top level, comments kept)
/// and removes the table and the top-level `profile` key. A profile whose
/// file already exists with content is kept where it is (merging two files
/// is for the user to decide). Each profile file is written before
/// config.toml changes, and config.toml is written once, atomically, so an
/// error part-way loses nothing.
pub fn migrate_profiles(codex_home: &Path) -> Result<ProfileMigration, ConfigError> {
    let config_file = codex_home.join(CONFIG_FILE_NAME);
    if std::fs::symlink_metadata(&config_file).is_err() {
        return Ok(ProfileMigration::default());
    }
    edit_config_file(&config_file, |doc| {
        let mut migration = ProfileMigration::default();
        let names: Vec<String> = doc
            .get("profiles")
            .and_then(Item::as_table_like)
            .map(|profiles| profiles.iter().map(|(name, _)| name.to_string()).collect())
            .unwrap_or_default();
        for name in names {
            let outcome = move_profile(doc, codex_home, &name)?;
            migration.profiles.push(outcome);
        }
        let empty = doc
            .get("profiles")
            .and_then(Item::as_table_like)
            .is_some_and(|profiles| profiles.is_empty());
        if empty {
            doc.remove("profiles");
        }
        if let Some(selector) = doc.remove("profile") {
            migration.removed_selector = Some(
                selector
                    .as_str()
                    .map_or_else(|| selector.to_string().trim().to_string(), str::to_string),
            );
        }
        Ok(migration)
    })
}

fn move_profile(
    doc: &mut DocumentMut,
    codex_home: &Path,
    name: &str,
) -> Result<ProfileMove, ConfigError> {
    let kept = |reason: String| {
        Ok(ProfileMove::Kept {
            name: name.to_string(),
            reason,
        })
    };
    if let Err(message) = check_profile_name(name) {
        return kept(format!("{message}; rename the table first"));
    }
    let file = codex_home.join(format!("{name}.{CONFIG_FILE_NAME}"));
    let has_content = std::fs::read_to_string(&file).is_ok_and(|text| !text.trim().is_empty());
    if has_content {
        return kept(format!(
            "{} exists already; merge the table into it by hand, then remove the table",
            file.display()
        ));
    }
    let Some(table) = doc
        .get("profiles")
        .and_then(Item::as_table_like)
        .and_then(|profiles| profiles.get(name))
        .and_then(Item::as_table_like)
    else {
        return kept("it is not a table; fix or remove it".to_string());
    };
    let entries: Vec<(String, Item)> = table
        .iter()
        .map(|(key, item)| (key.to_string(), detached(item)))
        .collect();
    edit_config_file(&file, |profile_doc| {
        for (key, item) in entries {
            profile_doc.insert(&key, item);
        }
        Ok(())
    })?;
    if let Some(profiles) = doc.get_mut("profiles").and_then(Item::as_table_like_mut) {
        profiles.remove(name);
    }
    Ok(ProfileMove::Moved {
        name: name.to_string(),
        file,
    })
}

/// `item` ready to stand at the top of a file of its own: an inline value
/// becomes a value line, a table keeps its comments and gets a header.
fn detached(item: &Item) -> Item {
    let mut item = item.clone();
    if let Item::Table(table) = &mut item {
        table.set_implicit(false);
        table.set_dotted(false);
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_move_to_their_files_and_the_selector_goes() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            "model = \"o3\"\nprofile = \"fast\"\n\n# fast one\n[profiles.fast]\nmodel = \"o4\"\n\n[profiles.fast.features]\n# on\nundo = true\n\n[profiles.kept]\nmodel = \"x\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("kept.config.toml"), "model = \"y\"\n").unwrap();
        let migration = migrate_profiles(dir.path()).unwrap();
        assert_eq!(migration.removed_selector.as_deref(), Some("fast"));
        assert_eq!(
            migration.profiles[0],
            ProfileMove::Moved {
                name: "fast".into(),
                file: dir.path().join("fast.config.toml")
            }
        );
        assert!(
            matches!(&migration.profiles[1], ProfileMove::Kept { name, reason }
            if name == "kept" && reason.contains("exists already"))
        );
        let fast = std::fs::read_to_string(dir.path().join("fast.config.toml")).unwrap();
        let parsed: toml::Table = toml::from_str(&fast).unwrap();
        assert_eq!(parsed["model"].as_str(), Some("o4"));
        assert_eq!(parsed["features"]["undo"].as_bool(), Some(true));
        assert!(fast.contains("# on"), "{fast}");
        let left = std::fs::read_to_string(&config).unwrap();
        assert!(!left.contains("fast"), "{left}");
        assert!(left.contains("[profiles.kept]"), "{left}");
        assert!(left.starts_with("model = \"o3\"\n"), "{left}");
    }

    #[test]
    fn nothing_to_move_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            migrate_profiles(dir.path()).unwrap(),
            ProfileMigration::default()
        );
        let config = dir.path().join("config.toml");
        std::fs::write(&config, "# mine\nmodel = \"o3\"\n").unwrap();
        assert_eq!(
            migrate_profiles(dir.path()).unwrap(),
            ProfileMigration::default()
        );
        assert_eq!(
            std::fs::read_to_string(&config).unwrap(),
            "# mine\nmodel = \"o3\"\n"
        );
    }
}
