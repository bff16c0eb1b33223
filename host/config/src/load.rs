//! Merging layers into the effective configuration, remembering which
//! layer set each value (reading them is [`crate::read`]).

use std::collections::BTreeMap;
use std::fmt;

use crate::error::{ConfigError, Location};
use crate::key_path::{KeyPath, PathSegment};
use crate::layers::{ConfigLayer, ConfigPaths};
use crate::span::SpanTarget;

/// The effective configuration: every layer, the merged table and the
/// origin of each leaf value.
#[derive(Clone)]
pub struct LoadedConfig {
    paths: ConfigPaths,
    layers: Vec<ConfigLayer>,
    merged: toml::Table,
    origins: BTreeMap<Vec<String>, usize>,
}

impl LoadedConfig {
    /// Merges `layers`, given lowest precedence first.
    pub fn from_layers(paths: ConfigPaths, layers: Vec<ConfigLayer>) -> Self {
        let mut merged = toml::Table::new();
        let mut origins = BTreeMap::new();
        let mut prefix = Vec::new();
        for (index, layer) in layers.iter().enumerate() {
            merge_table(&mut merged, layer.table(), index, &mut prefix, &mut origins);
        }
        Self {
            paths,
            layers,
            merged,
            origins,
        }
    }

    /// The paths the layers were read from.
    pub fn paths(&self) -> &ConfigPaths {
        &self.paths
    }

    /// The merged configuration.
    pub fn merged(&self) -> &toml::Table {
        &self.merged
    }

    /// The merged value at a key path.
    pub fn get(&self, keys: &[&str]) -> Option<&toml::Value> {
        let (first, rest) = keys.split_first()?;
        let mut value = self.merged.get(*first)?;
        for key in rest {
            value = value.as_table()?.get(*key)?;
        }
        Some(value)
    }

    /// The layers, lowest precedence first.
    pub fn layers(&self) -> &[ConfigLayer] {
        &self.layers
    }

    /// The layer that set the leaf value at `keys` (a non-table value or an
    /// empty table).
    pub fn origin(&self, keys: &[&str]) -> Option<&ConfigLayer> {
        let keys: Vec<String> = keys.iter().map(|key| key.to_string()).collect();
        self.origins
            .get(&keys)
            .and_then(|index| self.layers.get(*index))
    }

    /// Every leaf key of the merged configuration with the layer that set
    /// it, in key order (for `config show --origin`).
    pub fn origins(&self) -> impl Iterator<Item = (KeyPath, &ConfigLayer)> + '_ {
        self.origins.iter().filter_map(|(keys, index)| {
            Some((
                KeyPath::from_keys(keys.iter().cloned()),
                self.layers.get(*index)?,
            ))
        })
    }

    /// Where the value at `path` was set: the highest layer that has it,
    /// and the position of its key or value there.
    pub fn locate(&self, path: &KeyPath, target: SpanTarget) -> Location {
        match self.layer_defining(path) {
            Some(layer) => layer.locate(path, target),
            None => Location::FileOnly {
                path: self.paths.user_config(),
            },
        }
    }

    /// Every leaf key of the merged configuration with the layer that set
    /// it and where its key is there (file:line:column, or the `-c`
    /// override), in key order: what `config show --origin` prints.
    pub fn located_origins(&self) -> Vec<(KeyPath, &ConfigLayer, Location)> {
        self.origins()
            .map(|(path, layer)| {
                let location = layer.locate(&path, SpanTarget::Key);
                (path, layer, location)
            })
            .collect()
    }

    /// An [`ConfigError::Invalid`] for the value at `path`, located in the
    /// layer that set it.
    pub fn invalid(
        &self,
        path: KeyPath,
        target: SpanTarget,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            location: self.locate(&path, target),
            key: path,
            message: message.into(),
        }
    }

    /// The highest layer in which `path` exists; when none has the whole
    /// path, the highest one that has the longest part of it.
    fn layer_defining(&self, path: &KeyPath) -> Option<&ConfigLayer> {
        let segments = path.segments();
        for len in (1..=segments.len()).rev() {
            let found = self
                .layers
                .iter()
                .rev()
                .find(|layer| contains_path(layer.table(), &segments[..len]));
            if found.is_some() {
                return found;
            }
        }
        None
    }
}

impl fmt::Debug for LoadedConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values may be secrets: show the layers, not the merged table.
        f.debug_struct("LoadedConfig")
            .field("paths", &self.paths)
            .field("layers", &self.layers)
            .finish_non_exhaustive()
    }
}

fn contains_path(table: &toml::Table, segments: &[PathSegment]) -> bool {
    let Some((PathSegment::Key(first), rest)) = segments.split_first() else {
        return false;
    };
    let Some(mut value) = table.get(first) else {
        return false;
    };
    for segment in rest {
        let next = match segment {
            PathSegment::Key(key) => value.as_table().and_then(|t| t.get(key)),
            PathSegment::Index(index) => value.as_array().and_then(|a| a.get(*index)),
        };
        match next {
            Some(next) => value = next,
            None => return false,
        }
    }
    true
}

/// Codex's merge: tables merge key by key, recursively; any other value
/// (scalars and arrays) replaces what was there.
fn merge_table(
    base: &mut toml::Table,
    overlay: &toml::Table,
    layer: usize,
    prefix: &mut Vec<String>,
    origins: &mut BTreeMap<Vec<String>, usize>,
) {
    for (key, value) in overlay {
        prefix.push(key.clone());
        match (base.get_mut(key), value) {
            (Some(toml::Value::Table(base_table)), toml::Value::Table(overlay_table))
                if !overlay_table.is_empty() =>
            {
                // The base table is no longer an empty leaf once it gets keys.
                origins.remove(prefix.as_slice());
                merge_table(base_table, overlay_table, layer, prefix, origins);
            }
            (Some(toml::Value::Table(base_table)), toml::Value::Table(_)) => {
                // An empty table over an empty table: the leaf is now this
                // layer's, as for any other value it sets again.
                if base_table.is_empty() {
                    origins.insert(prefix.clone(), layer);
                }
            }
            _ => {
                forget_under(origins, prefix);
                record_leaves(value, layer, prefix, origins);
                base.insert(key.clone(), value.clone());
            }
        }
        prefix.pop();
    }
}

fn forget_under(origins: &mut BTreeMap<Vec<String>, usize>, prefix: &[String]) {
    origins.retain(|keys, _| !keys.starts_with(prefix));
}

fn record_leaves(
    value: &toml::Value,
    layer: usize,
    prefix: &mut Vec<String>,
    origins: &mut BTreeMap<Vec<String>, usize>,
) {
    match value {
        toml::Value::Table(table) if !table.is_empty() => {
            for (key, inner) in table {
                prefix.push(key.clone());
                record_leaves(inner, layer, prefix, origins);
                prefix.pop();
            }
        }
        _ => {
            origins.insert(prefix.clone(), layer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::LayerKind;
    use crate::overrides::CliOverrides;

    fn layer(kind: LayerKind, dir: &std::path::Path, name: &str, text: &str) -> ConfigLayer {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        ConfigLayer::from_file(kind, &path).unwrap()
    }

    #[test]
    fn merge_is_recursive_for_tables_and_replaces_other_values() {
        let dir = tempfile::tempdir().unwrap();
        let low = layer(
            LayerKind::System,
            dir.path(),
            "a.toml",
            "x = 1\narr = [1, 2]\n[t]\na = 1\nb = 2\n[t.inner]\nq = 1\n[s]\nk = 1\n",
        );
        let high = layer(
            LayerKind::User,
            dir.path(),
            "b.toml",
            "arr = [3]\ns = 5\n[t]\nb = 3\n[t.inner]\nr = 2\n",
        );
        let paths = ConfigPaths::with_defaults(dir.path().to_path_buf());
        let loaded = LoadedConfig::from_layers(paths, vec![low, high]);
        let expected: toml::Table =
            toml::from_str("x = 1\narr = [3]\ns = 5\n[t]\na = 1\nb = 3\n[t.inner]\nq = 1\nr = 2\n")
                .unwrap();
        assert_eq!(loaded.merged(), &expected);
        let kind = |keys: &[&str]| loaded.origin(keys).map(ConfigLayer::kind);
        assert_eq!(kind(&["x"]), Some(LayerKind::System));
        assert_eq!(kind(&["arr"]), Some(LayerKind::User));
        assert_eq!(kind(&["t", "a"]), Some(LayerKind::System));
        assert_eq!(kind(&["t", "b"]), Some(LayerKind::User));
        assert_eq!(kind(&["t", "inner", "q"]), Some(LayerKind::System));
        assert_eq!(kind(&["s"]), Some(LayerKind::User));
        // Leaves under a replaced table are forgotten.
        assert_eq!(kind(&["s", "k"]), None);
        let all: Vec<String> = loaded.origins().map(|(k, _)| k.to_string()).collect();
        assert_eq!(
            all,
            ["arr", "s", "t.a", "t.b", "t.inner.q", "t.inner.r", "x"]
        );
    }

    #[test]
    fn an_empty_table_set_again_comes_from_the_higher_layer() {
        // Found by fuzz_layers_merge_recursively_with_origins: the origin
        // said the lower layer while `locate` pointed into the higher one.
        let dir = tempfile::tempdir().unwrap();
        let low = layer(LayerKind::System, dir.path(), "a.toml", "[c]\n");
        let high = layer(LayerKind::User, dir.path(), "b.toml", "[c]\n");
        let paths = ConfigPaths::with_defaults(dir.path().to_path_buf());
        let loaded = LoadedConfig::from_layers(paths, vec![low, high]);
        assert_eq!(
            loaded.origin(&["c"]).map(ConfigLayer::kind),
            Some(LayerKind::User)
        );
    }

    #[test]
    fn locate_points_into_the_layer_that_set_the_value() {
        let dir = tempfile::tempdir().unwrap();
        let low = layer(
            LayerKind::System,
            dir.path(),
            "sys.toml",
            "[m]\na = 1\nb = 2\n",
        );
        let high = layer(
            LayerKind::User,
            dir.path(),
            "user.toml",
            "\n\n[m]\nb = 'x'\n",
        );
        let overrides = CliOverrides::parse(["m.c=[1]", "m.token=secret"]).unwrap();
        let paths = ConfigPaths::with_defaults(dir.path().to_path_buf());
        let loaded = LoadedConfig::from_layers(
            paths,
            vec![low, high, ConfigLayer::from_overrides(&overrides)],
        );
        let at = |keys: &[&str]| {
            loaded
                .locate(&KeyPath::from_keys(keys.iter().copied()), SpanTarget::Value)
                .to_string()
        };
        let sys = dir.path().join("sys.toml").display().to_string();
        let user = dir.path().join("user.toml").display().to_string();
        assert_eq!(at(&["m", "a"]), format!("{sys}:2:5"));
        assert_eq!(at(&["m", "b"]), format!("{user}:4:5"));
        assert_eq!(at(&["m", "c"]), "in -c override `m.c=[1]`");
        assert_eq!(at(&["m", "token"]), "in -c override `m.token=*****`");
        let err = loaded.invalid(
            KeyPath::from_keys(["m", "b"]),
            SpanTarget::Value,
            "expected an integer, found a string",
        );
        assert_eq!(
            err.to_string(),
            format!("{user}:4:5: m.b: expected an integer, found a string")
        );
    }
}

/// Property tests standing in for fuzz targets (cargo-fuzz needs nightly).
/// `PROPTEST_CASES=100000 cargo test -p codex-config --lib fuzz_` runs longer.
#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::*;
    use crate::layers::LayerKind;

    /// Few distinct keys, so that layers collide often.
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![4 => "[abc]", 1 => "\\PC{0,4}"]
    }

    fn value() -> impl Strategy<Value = toml::Value> {
        let leaf = prop_oneof![
            any::<i64>().prop_map(toml::Value::Integer),
            any::<bool>().prop_map(toml::Value::Boolean),
            "\\PC{0,6}".prop_map(toml::Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                1 => proptest::collection::vec(inner.clone(), 0..3).prop_map(toml::Value::Array),
                3 => proptest::collection::btree_map(key(), inner, 0..4)
                    .prop_map(|map| toml::Value::Table(map.into_iter().collect())),
            ]
        })
    }

    fn table() -> impl Strategy<Value = toml::Table> {
        proptest::collection::btree_map(key(), value(), 0..4).prop_map(|m| m.into_iter().collect())
    }

    /// The merge as the documentation states it: tables merge key by key,
    /// anything else replaces.
    fn model_merge(base: &mut toml::Table, overlay: &toml::Table) {
        for (key, value) in overlay {
            match (base.get_mut(key), value) {
                (Some(toml::Value::Table(base)), toml::Value::Table(overlay)) => {
                    model_merge(base, overlay)
                }
                _ => {
                    base.insert(key.clone(), value.clone());
                }
            }
        }
    }

    fn lookup<'a>(table: &'a toml::Table, keys: &[String]) -> Option<&'a toml::Value> {
        let (first, rest) = keys.split_first()?;
        let mut value = table.get(first)?;
        for key in rest {
            value = value.as_table()?.get(key)?;
        }
        Some(value)
    }

    /// Every leaf (non-table value or empty table) of `table`.
    fn leaves(table: &toml::Table, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        for (key, value) in table {
            prefix.push(key.clone());
            match value {
                toml::Value::Table(inner) if !inner.is_empty() => leaves(inner, prefix, out),
                _ => out.push(prefix.clone()),
            }
            prefix.pop();
        }
    }

    proptest! {
        #![proptest_config(codex_fuzz_support::cases(128))]

        #[test]
        fn fuzz_layers_merge_recursively_with_origins(
            tables in proptest::collection::vec(table(), 1..5),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let kinds = [LayerKind::System, LayerKind::User, LayerKind::Project, LayerKind::Managed];
            let mut layers = Vec::new();
            for (index, table) in tables.iter().enumerate() {
                let path = dir.path().join(format!("layer{index}.toml"));
                std::fs::write(&path, toml::to_string(table).unwrap()).unwrap();
                let layer = ConfigLayer::from_file(kinds[index], &path).unwrap();
                // The file reads back as the table written.
                prop_assert_eq!(layer.table(), table);
                layers.push(layer);
            }
            let paths = ConfigPaths::with_defaults(dir.path().to_path_buf());
            let loaded = LoadedConfig::from_layers(paths, layers);

            let mut expected = toml::Table::new();
            for table in &tables {
                model_merge(&mut expected, table);
            }
            prop_assert_eq!(loaded.merged(), &expected);

            // Origins: exactly the merged leaves, each from a layer that has
            // that value there, the highest one that has the key.
            let mut want = Vec::new();
            leaves(&expected, &mut Vec::new(), &mut want);
            let got: Vec<Vec<String>> = loaded.origins.keys().cloned().collect();
            want.sort();
            prop_assert_eq!(&got, &want);
            for keys in &want {
                let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
                let origin = loaded.origin(&refs).unwrap();
                let index = loaded.origins[keys];
                prop_assert_eq!(origin.path(), loaded.layers()[index].path());
                let merged = lookup(&expected, keys).unwrap();
                prop_assert_eq!(lookup(&tables[index], keys), Some(merged));
                let highest = tables.iter().rposition(|t| lookup(t, keys).is_some());
                prop_assert_eq!(highest, Some(index));
                let location = loaded
                    .locate(&KeyPath::from_keys(keys.iter().cloned()), SpanTarget::Key)
                    .to_string();
                let file = dir.path().join(format!("layer{index}.toml"));
                prop_assert!(location.starts_with(&file.display().to_string()), "{location}");
            }
        }

        #[test]
        fn fuzz_layer_files_never_panic(text in prop_oneof![
            any::<String>(),
            "[\\[\\]{}=\"'a-c.,\n #0-9-]{0,40}",
        ]) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("config.toml");
            std::fs::write(&path, &text).unwrap();
            match ConfigLayer::from_file(LayerKind::User, &path) {
                Ok(layer) => {
                    let paths = ConfigPaths::with_defaults(dir.path().to_path_buf());
                    let loaded = LoadedConfig::from_layers(paths, vec![layer]);
                    let _ = loaded.located_origins();
                }
                Err(err) => {
                    let message = err.to_string();
                    prop_assert!(message.starts_with(&path.display().to_string()), "{message}");
                }
            }
        }
    }
}
