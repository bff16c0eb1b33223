//! Changing the user's config.toml: only through `toml_edit` (comments,
//! order and formatting survive), under a lock, written atomically.

mod features;
mod file;
mod mcp;
mod profiles;

use std::path::{Path, PathBuf};

use toml_edit::{Item, Table, TableLike, Value};

pub use features::{FeatureChange, set_feature};
pub use file::{LOCK_TIMEOUT, edit_config_file};
pub use mcp::{
    AddOutcome, NewMcpServer, NewServerSettings, add_mcp_server, add_mcp_server_to, parse_env_pair,
    parse_header, remove_mcp_server, remove_mcp_server_from,
};
pub use profiles::{ProfileMigration, ProfileMove, migrate_profiles};

pub use crate::mcp::validate_server_name;

use crate::error::ConfigError;
use crate::key_path::KeyPath;
use crate::layers::CONFIG_FILE_NAME;
use crate::span::{SpanTarget, locate_in_text};
use mcp::describe_item;

/// `$CODEX_HOME/config.toml`, the only file the CLI's edits write.
pub fn user_config_path(codex_home: &Path) -> PathBuf {
    codex_home.join(CONFIG_FILE_NAME)
}

/// Sets `key_path` (for example `["features", "unified_exec"]`) to `value`
/// in `config_file`, creating missing tables; an existing value keeps its
/// comments. A non-table value in the way is an error located in the file.
pub fn set_value(config_file: &Path, key_path: &[&str], value: Value) -> Result<(), ConfigError> {
    let Some((last, parents)) = key_path.split_last() else {
        return Err(ConfigError::InvalidKeyPath(
            "cannot set a value at an empty key path".to_string(),
        ));
    };
    let full = KeyPath::from_keys(key_path.iter().copied());
    edit_config_file(config_file, |doc| {
        // A non-table value in the way is reported where it is.
        let mut item: &Item = doc.as_item();
        for (depth, key) in parents.iter().enumerate() {
            let Some(next) = item.as_table_like().and_then(|table| table.get(key)) else {
                break;
            };
            if !next.is_table_like() {
                let path = KeyPath::from_keys(key_path[..=depth].iter().copied());
                let original = doc.to_string();
                return Err(ConfigError::Invalid {
                    location: locate_in_text(config_file, &original, &path, SpanTarget::Value),
                    message: format!(
                        "expected a table, found {}; cannot set `{full}`",
                        describe_item(next)
                    ),
                    key: path,
                });
            }
            item = next;
        }

        let mut table: &mut dyn TableLike = doc.as_table_mut();
        for key in parents {
            if table.get(key).is_none() {
                let mut new = Table::new();
                new.set_implicit(true);
                new.set_dotted(table.is_dotted());
                table.insert(key, Item::Table(new));
            }
            table = match table.get_mut(key).and_then(Item::as_table_like_mut) {
                Some(inner) => inner,
                None => {
                    return Err(ConfigError::InvalidKeyPath(format!("cannot set `{full}`")));
                }
            };
        }
        match table.get_mut(last) {
            Some(Item::Value(existing)) => {
                let decor = existing.decor().clone();
                *existing = value;
                *existing.decor_mut() = decor;
            }
            _ => {
                table.insert(last, Item::Value(value));
            }
        }
        Ok(())
    })
}

/// Removes `key_path` from `config_file`; `false` when it was not there.
pub fn remove_value(config_file: &Path, key_path: &[&str]) -> Result<bool, ConfigError> {
    let Some((last, parents)) = key_path.split_last() else {
        return Ok(false);
    };
    if std::fs::symlink_metadata(config_file).is_err() {
        return Ok(false);
    }
    edit_config_file(config_file, |doc| {
        let mut table: &mut dyn TableLike = doc.as_table_mut();
        for key in parents {
            match table.get_mut(key).and_then(Item::as_table_like_mut) {
                Some(inner) => table = inner,
                None => return Ok(false),
            }
        }
        Ok(table.remove(last).is_some())
    })
}
