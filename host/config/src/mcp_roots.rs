//! `mcp_roots`: the directories an MCP client offers servers as roots
//! (`roots/list`) when the command line names none.
//!
//! ```toml
//! mcp_roots = ["/home/me/src/project", "/srv/data"]
//! ```

use std::path::PathBuf;

use crate::span::SpanTarget;
use crate::{ConfigError, KeyPath, LoadedConfig};

const KEY: &str = "mcp_roots";

/// `mcp_roots` from the merged configuration: `None` when unset. Each entry
/// must be an absolute path (a relative one would depend on where `codex`
/// happens to run).
pub fn mcp_roots(config: &LoadedConfig) -> Result<Option<Vec<PathBuf>>, ConfigError> {
    let Some(value) = config.get(&[KEY]) else {
        return Ok(None);
    };
    let Some(entries) = value.as_array() else {
        return Err(config.invalid(
            KeyPath::from_keys([KEY]),
            SpanTarget::Value,
            format!(
                "expected an array of absolute directory paths, not {}",
                value.type_str()
            ),
        ));
    };
    let mut roots = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let path = entry.as_str().map(PathBuf::from);
        match path {
            Some(path) if path.is_absolute() => roots.push(path),
            _ => {
                return Err(config.invalid(
                    KeyPath::from_keys([KEY]).index(index),
                    SpanTarget::Value,
                    "expected an absolute directory path (a string starting with `/`)".to_string(),
                ));
            }
        }
    }
    Ok(Some(roots))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConfigLayer, ConfigPaths, LayerKind};

    fn roots(text: &str) -> Result<Option<Vec<PathBuf>>, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        let layer = ConfigLayer::from_file(LayerKind::User, &path).unwrap();
        let paths = ConfigPaths::with_defaults(dir.path().to_path_buf());
        mcp_roots(&LoadedConfig::from_layers(paths, vec![layer]))
    }

    #[test]
    fn absolute_paths_are_roots_and_anything_else_is_an_error_at_its_place() {
        assert_eq!(roots("").unwrap(), None);
        assert_eq!(
            roots("mcp_roots = [\"/a\", \"/b/c\"]\n").unwrap(),
            Some(vec![PathBuf::from("/a"), PathBuf::from("/b/c")])
        );
        let error = roots("mcp_roots = [\"/a\", \"rel\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("mcp_roots[1]") && error.contains("absolute"),
            "{error}"
        );
        let error = roots("mcp_roots = \"/a\"\n").unwrap_err().to_string();
        assert!(error.contains("expected an array"), "{error}");
    }
}
