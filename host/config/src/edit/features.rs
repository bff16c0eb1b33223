//! `codex features enable|disable`: one toggle in `[features]` of the
//! user's config.toml or of a profile's file (`P.config.toml`).

use std::path::Path;

use toml_edit::{DocumentMut, Item, Table, TableLike, Value};

use crate::edit::file::edit_config_file;
use crate::edit::mcp::describe_item;
use crate::error::ConfigError;
use crate::key_path::KeyPath;
use crate::span::{SpanTarget, locate_in_text};

/// One change [`set_feature`] made, for the command to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeatureChange {
    /// `path = value` was written (`features.x`, or `features.x.enabled`
    /// for the table form).
    Set {
        /// The key path written.
        path: KeyPath,
        /// The new value.
        value: bool,
        /// The value it replaced, if it was a boolean.
        previous: Option<bool>,
    },
    /// `path` was deleted (the key itself, or a legacy name of it).
    Removed {
        /// The key path removed.
        path: KeyPath,
    },
}

impl std::fmt::Display for FeatureChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Set {
                path,
                value,
                previous: Some(previous),
            } => write!(f, "set `{path} = {value}` (was {previous})"),
            Self::Set { path, value, .. } => write!(f, "set `{path} = {value}`"),
            Self::Removed { path } => write!(f, "removed `{path}`"),
        }
    }
}

/// Sets feature `key` in `[features]` of `config_file`. `Some(value)`
/// writes it (into `enabled` when the entry uses the table form, keeping
/// its other options and comments); `None` deletes the entry. Entries under
/// the feature's `other_names` (its key or aliases besides `key`) in the
/// same table are deleted, so the new value is the only one. Returns what
/// changed; nothing when it was already so.
pub fn set_feature(
    config_file: &Path,
    key: &str,
    value: Option<bool>,
    other_names: &[&str],
) -> Result<Vec<FeatureChange>, ConfigError> {
    let table_keys = ["features"];
    let table_path = KeyPath::from_keys(table_keys.iter().copied());
    if value.is_none() && std::fs::symlink_metadata(config_file).is_err() {
        return Ok(Vec::new());
    }
    edit_config_file(config_file, |doc| {
        check_tables_in_the_way(config_file, doc, &table_keys)?;
        let Some(table) = features_table(doc, &table_keys, value.is_some()) else {
            return Ok(Vec::new());
        };
        let mut changes = Vec::new();
        for other in other_names {
            if *other != key && table.remove(other).is_some() {
                changes.push(FeatureChange::Removed {
                    path: table_path.key(*other),
                });
            }
        }
        let path = table_path.key(key);
        match value {
            None => {
                if table.remove(key).is_some() {
                    changes.push(FeatureChange::Removed { path });
                }
            }
            Some(value) => {
                if let Some(change) = write_toggle(table, key, value, path) {
                    changes.push(change);
                }
            }
        }
        Ok(changes)
    })
}

/// A non-table value where a table of the path must be is an error located
/// in the file, and the file is left alone.
fn check_tables_in_the_way(
    config_file: &Path,
    doc: &DocumentMut,
    keys: &[&str],
) -> Result<(), ConfigError> {
    let mut item: &Item = doc.as_item();
    for (depth, key) in keys.iter().enumerate() {
        let Some(next) = item.as_table_like().and_then(|table| table.get(key)) else {
            return Ok(());
        };
        if !next.is_table_like() {
            let path = KeyPath::from_keys(keys[..=depth].iter().copied());
            return Err(ConfigError::Invalid {
                location: locate_in_text(config_file, &doc.to_string(), &path, SpanTarget::Value),
                message: format!(
                    "expected a table of feature = true|false, found {}; fix it before changing features",
                    describe_item(next)
                ),
                key: path,
            });
        }
        item = next;
    }
    Ok(())
}

/// The table at `keys`, created (without headers for the tables around it)
/// when `create` is set.
fn features_table<'a>(
    doc: &'a mut DocumentMut,
    keys: &[&str],
    create: bool,
) -> Option<&'a mut dyn TableLike> {
    let mut table: &mut dyn TableLike = doc.as_table_mut();
    for (depth, key) in keys.iter().enumerate() {
        if table.get(key).is_none() {
            if !create {
                return None;
            }
            let mut new = Table::new();
            // A nested table gets its own header alone, not its parents' too.
            new.set_implicit(depth + 1 < keys.len());
            new.set_dotted(table.is_dotted());
            table.insert(key, Item::Table(new));
        }
        table = table.get_mut(key).and_then(Item::as_table_like_mut)?;
    }
    Some(table)
}

fn write_toggle(
    table: &mut dyn TableLike,
    key: &str,
    value: bool,
    path: KeyPath,
) -> Option<FeatureChange> {
    match table.get_mut(key) {
        Some(item) if item.is_table_like() => {
            let inner = item.as_table_like_mut()?;
            let previous = inner.get("enabled").and_then(Item::as_bool);
            if previous == Some(value) {
                return None;
            }
            set_keeping_decor(inner, "enabled", value);
            Some(FeatureChange::Set {
                path: path.key("enabled"),
                value,
                previous,
            })
        }
        Some(item) => {
            let previous = item.as_bool();
            if previous == Some(value) {
                return None;
            }
            set_keeping_decor(table, key, value);
            Some(FeatureChange::Set {
                path,
                value,
                previous,
            })
        }
        None => {
            table.insert(key, Item::Value(Value::from(value)));
            Some(FeatureChange::Set {
                path,
                value,
                previous: None,
            })
        }
    }
}

fn set_keeping_decor(table: &mut dyn TableLike, key: &str, value: bool) {
    match table.get_mut(key) {
        Some(Item::Value(existing)) => {
            let decor = existing.decor().clone();
            *existing = Value::from(value);
            *existing.decor_mut() = decor;
        }
        _ => {
            table.insert(key, Item::Value(Value::from(value)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(text: &str, key: &str, value: Option<bool>, legacy: &[&str]) -> (String, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        if !text.is_empty() {
            std::fs::write(&file, text).unwrap();
        }
        let changes = set_feature(&file, key, value, legacy).unwrap();
        let after = std::fs::read_to_string(&file).unwrap_or_default();
        (after, changes.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn writes_features_like_codex() {
        let (text, changes) = edit("", "memories", Some(true), &[]);
        assert_eq!(text, "[features]\nmemories = true\n");
        assert_eq!(changes, ["set `features.memories = true`"]);
    }

    #[test]
    fn keeps_comments_and_replaces_in_place() {
        let original =
            "# mine\nmodel = \"o3\"\n\n[features]\n# why\nundo = true # keep\napps = false\n";
        let (text, changes) = edit(original, "undo", Some(false), &[]);
        assert_eq!(
            text,
            "# mine\nmodel = \"o3\"\n\n[features]\n# why\nundo = false # keep\napps = false\n"
        );
        assert_eq!(changes, ["set `features.undo = false` (was true)"]);
        let (same, changes) = edit(original, "apps", Some(false), &[]);
        assert_eq!(same, original);
        assert!(changes.is_empty());
    }

    #[test]
    fn table_form_keeps_its_options() {
        let (text, changes) = edit(
            "[features.multi_agent_v2]\nenabled = false\nusage_hint_enabled = true\n",
            "multi_agent_v2",
            Some(true),
            &[],
        );
        assert_eq!(
            text,
            "[features.multi_agent_v2]\nenabled = true\nusage_hint_enabled = true\n"
        );
        assert_eq!(
            changes,
            ["set `features.multi_agent_v2.enabled = true` (was false)"]
        );
    }

    #[test]
    fn legacy_names_are_replaced_and_removal_removes() {
        let (text, changes) = edit(
            "[features]\nexperimental_use_rmcp_client = false\n",
            "rmcp_client",
            Some(true),
            &["experimental_use_rmcp_client"],
        );
        assert_eq!(text, "[features]\nrmcp_client = true\n");
        assert_eq!(
            changes,
            [
                "removed `features.experimental_use_rmcp_client`",
                "set `features.rmcp_client = true`"
            ]
        );
        let (text, changes) = edit("[features]\nundo = true\n", "undo", None, &[]);
        assert_eq!(text, "[features]\n");
        assert_eq!(changes, ["removed `features.undo`"]);
        let (text, changes) = edit("model = 'x'\n", "undo", None, &[]);
        assert_eq!(text, "model = 'x'\n");
        assert!(changes.is_empty());
    }

    #[test]
    fn a_value_in_the_way_is_a_located_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(&file, "a = 1\nfeatures = \"all\"\n").unwrap();
        let err = set_feature(&file, "undo", Some(true), &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}:2:12: features: expected a table of feature = true|false, found a string; fix it before changing features",
                file.display()
            )
        );
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "a = 1\nfeatures = \"all\"\n"
        );
    }
}
