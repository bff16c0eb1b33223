//! `-c key=value` overrides, parsed exactly as Codex parses them.
//!
//! The text is split on the first `=`; the key is trimmed and split on every
//! `.` (quoted keys are not special, as in Codex). The value is parsed as a
//! TOML value (`_x_ = <value>`); when that fails it is taken as a string with
//! surrounding quotes removed, so `-c model=o3` works.

use std::fmt;

use crate::error::ConfigError;
use crate::mask::{MASK, is_sensitive_key, value_contains_sensitive_key};

/// One parsed `-c key=value`.
#[derive(Clone, PartialEq)]
pub struct CliOverride {
    raw: String,
    key: String,
    path: Vec<String>,
    value: toml::Value,
}

impl CliOverride {
    /// Parses one override, with Codex's error texts.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let Some((key, value_text)) = raw.split_once('=') else {
            return Err(ConfigError::InvalidOverride(format!(
                "Invalid override (missing '='): {raw}"
            )));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(ConfigError::InvalidOverride(format!(
                "Empty key in override: {raw}"
            )));
        }
        let key = canonical_key(key);
        let value_text = value_text.trim();
        let value = parse_toml_value(value_text).unwrap_or_else(|| {
            toml::Value::String(
                value_text
                    .trim_matches(|c| c == '"' || c == '\'')
                    .to_string(),
            )
        });
        Ok(Self {
            raw: raw.to_string(),
            path: key.split('.').map(str::to_string).collect(),
            key,
            value,
        })
    }

    /// The override as given on the command line.
    ///
    /// May contain a secret: print [`CliOverride::masked`] instead.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The key, trimmed and with Codex's aliases applied.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The key split on every `.`.
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// The parsed value.
    pub fn value(&self) -> &toml::Value {
        &self.value
    }

    /// `key=value` safe to print: the value is replaced by `*****` when the
    /// key, or a key inside a table value, may hold a secret.
    pub fn masked(&self) -> String {
        let sensitive = self.path.iter().any(|key| is_sensitive_key(key))
            || value_contains_sensitive_key(&self.value);
        if sensitive {
            format!("{}={MASK}", self.key)
        } else {
            self.raw.trim().to_string()
        }
    }
}

impl fmt::Debug for CliOverride {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CliOverride").field(&self.masked()).finish()
    }
}

/// Codex canonicalizes this legacy key to its feature flag.
fn canonical_key(key: &str) -> String {
    if key == "use_legacy_landlock" {
        "features.use_legacy_landlock".to_string()
    } else {
        key.to_string()
    }
}

fn parse_toml_value(text: &str) -> Option<toml::Value> {
    let wrapped = format!("_x_ = {text}");
    let mut table: toml::Table = toml::from_str(&wrapped).ok()?;
    table.remove("_x_")
}

/// All `-c` overrides of one command line, in order (later ones win).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CliOverrides {
    overrides: Vec<CliOverride>,
}

impl CliOverrides {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses every `-c` value, in command-line order; the first malformed
    /// one is the error.
    pub fn parse<I, S>(raw: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let overrides = raw
            .into_iter()
            .map(|raw| CliOverride::parse(raw.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { overrides })
    }

    /// Whether there is no override.
    pub fn is_empty(&self) -> bool {
        self.overrides.is_empty()
    }

    /// The overrides, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, CliOverride> {
        self.overrides.iter()
    }

    /// All overrides built into one table, as Codex does: each one sets its
    /// dotted key, creating intermediate tables and replacing any non-table
    /// value in the way.
    pub fn to_table(&self) -> toml::Table {
        let mut root = toml::Table::new();
        for ov in &self.overrides {
            set_path(&mut root, &ov.path, ov.value.clone());
        }
        root
    }

    /// The last override that set `path` or a table around or inside it.
    pub fn find_for(&self, path: &[&str]) -> Option<&CliOverride> {
        self.overrides.iter().rev().find(|ov| {
            let common = ov.path.len().min(path.len());
            ov.path[..common]
                .iter()
                .zip(&path[..common])
                .all(|(a, b)| a == b)
        })
    }
}

fn set_path(root: &mut toml::Table, path: &[String], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut table = root;
    for key in parents {
        let slot = table
            .entry(key.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !slot.is_table() {
            *slot = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(inner) = slot else {
            return;
        };
        table = inner;
    }
    table.insert(last.clone(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(raw: &str) -> toml::Value {
        CliOverride::parse(raw).unwrap().value().clone()
    }

    #[test]
    fn values_parse_as_toml_else_as_strings() {
        assert_eq!(value("model=\"o3\""), toml::Value::String("o3".into()));
        assert_eq!(value("model=o3"), toml::Value::String("o3".into()));
        assert_eq!(value("model='o3"), toml::Value::String("o3".into()));
        assert_eq!(value("flag=true"), toml::Value::Boolean(true));
        assert_eq!(value("n = 42 "), toml::Value::Integer(42));
        assert_eq!(value("x=1.5"), toml::Value::Float(1.5));
        assert_eq!(
            value("x=[1, 2, 3]"),
            toml::Value::Array(vec![1.into(), 2.into(), 3.into()])
        );
        assert_eq!(
            value(r#"x=["a"]"#),
            toml::Value::Array(vec![toml::Value::String("a".into())])
        );
        let table = value("tbl={a = 1, b = 2}");
        assert_eq!(table["a"], 1.into());
        assert_eq!(table["b"], 2.into());
        assert_eq!(value("x="), toml::Value::String(String::new()));
        assert_eq!(value("x=a=b"), toml::Value::String("a=b".into()));
    }

    #[test]
    fn keys_split_on_first_equals_trimmed_and_on_every_dot() {
        let ov = CliOverride::parse("  a.b.c  = x=y").unwrap();
        assert_eq!(ov.key(), "a.b.c");
        assert_eq!(ov.path(), ["a", "b", "c"]);
        assert_eq!(ov.value(), &toml::Value::String("x=y".into()));
        let quoted = CliOverride::parse(r#"mcp_servers."a.b".x=1"#).unwrap();
        assert_eq!(quoted.path(), ["mcp_servers", "\"a", "b\"", "x"]);
        let alias = CliOverride::parse("use_legacy_landlock=true").unwrap();
        assert_eq!(alias.path(), ["features", "use_legacy_landlock"]);
    }

    #[test]
    fn malformed_overrides_use_codex_texts() {
        let err = CliOverride::parse("model").unwrap_err();
        assert_eq!(err.to_string(), "Invalid override (missing '='): model");
        let err = CliOverride::parse(" =1").unwrap_err();
        assert_eq!(err.to_string(), "Empty key in override:  =1");
        let err = CliOverrides::parse(["a=1", "oops"]).unwrap_err();
        assert_eq!(err.to_string(), "Invalid override (missing '='): oops");
    }

    #[test]
    fn overrides_build_one_table_later_ones_winning() {
        let all =
            CliOverrides::parse(["a.b=1", "a.c=2", "x=1", "x.y=2", "t.u=1", "t={v=3}"]).unwrap();
        let table = all.to_table();
        let expected: toml::Table =
            toml::from_str("a = {b = 1, c = 2}\nx = {y = 2}\nt = {v = 3}\n").unwrap();
        assert_eq!(table, expected);
    }

    #[test]
    fn masked_hides_secret_values() {
        let ov = CliOverride::parse("mcp_servers.x.env.TOKEN=abc").unwrap();
        assert_eq!(ov.masked(), "mcp_servers.x.env.TOKEN=*****");
        let ov = CliOverride::parse("mcp_servers.x={command='a', env={T='s'}}").unwrap();
        assert_eq!(ov.masked(), "mcp_servers.x=*****");
        let ov = CliOverride::parse("mcp_servers.x.args='a'").unwrap();
        assert_eq!(ov.masked(), "mcp_servers.x.args='a'");
        assert!(!format!("{ov:?}").is_empty());
        let secret = CliOverride::parse("a.token=hunter2").unwrap();
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    #[test]
    fn find_for_matches_prefixes_both_ways() {
        let all = CliOverrides::parse(["mcp_servers.x.enabled=true", "model=o3"]).unwrap();
        assert_eq!(
            all.find_for(&["mcp_servers", "x"]).map(CliOverride::key),
            Some("mcp_servers.x.enabled")
        );
        assert_eq!(
            all.find_for(&["mcp_servers", "x", "enabled"])
                .map(CliOverride::key),
            Some("mcp_servers.x.enabled")
        );
        assert!(all.find_for(&["mcp_servers", "y"]).is_none());
    }
}

/// Property tests standing in for fuzz targets (cargo-fuzz needs nightly).
/// `PROPTEST_CASES=100000 cargo test -p codex-config --lib fuzz_` runs longer.
#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::*;

    /// Text shaped like an override often enough to reach every branch.
    fn override_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "\\PC{0,12}=\\PC{0,12}",
            "[ a-z._]{0,8}=[ \\[\\]{}\"'=a-z0-9,.:+-]{0,16}",
        ]
    }

    /// A key Codex's parser keeps as it is: dot-separated bare segments.
    fn dotted_key() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec("[A-Za-z0-9_-]{1,8}", 1..5)
    }

    fn toml_value() -> impl Strategy<Value = toml::Value> {
        let leaf = prop_oneof![
            any::<i64>().prop_map(toml::Value::Integer),
            any::<f64>()
                .prop_filter("NaN is not equal to itself", |f| !f.is_nan())
                .prop_map(toml::Value::Float),
            any::<bool>().prop_map(toml::Value::Boolean),
            any::<String>().prop_map(toml::Value::String),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(toml::Value::Array),
                proptest::collection::btree_map("[a-z_]{1,4}|\\PC{0,4}", inner, 0..4)
                    .prop_map(|map| toml::Value::Table(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(codex_fuzz_support::cases(512))]

        #[test]
        fn fuzz_override_parse_never_panics(raw in override_text()) {
            match CliOverride::parse(&raw) {
                Ok(ov) => {
                    let (key, _) = raw.split_once('=').unwrap();
                    prop_assert_eq!(ov.key(), canonical_key(key.trim()));
                    prop_assert_eq!(ov.path().join("."), ov.key());
                    let _ = ov.masked();
                    let _ = format!("{ov:?}");
                }
                Err(err) => {
                    // The error names the override it refuses.
                    prop_assert!(err.to_string().ends_with(&raw), "{err}");
                    let key_is_empty = raw.split_once('=').is_none_or(|(k, _)| k.trim().is_empty());
                    prop_assert!(key_is_empty);
                }
            }
        }

        #[test]
        fn fuzz_override_valid_key_and_toml_value_round_trip(
            path in dotted_key(),
            value in toml_value(),
            pad in "[ \t]{0,2}",
        ) {
            let key = path.join(".");
            let raw = format!("{pad}{key}{pad}={pad}{value}{pad}");
            let ov = CliOverride::parse(&raw).unwrap();
            prop_assert_eq!(ov.key(), key.as_str());
            prop_assert_eq!(ov.path(), path.as_slice());
            prop_assert_eq!(ov.value(), &value);
            let all = CliOverrides::parse([raw.as_str()]).unwrap();
            let table = all.to_table();
            let mut at = table.get(&path[0]);
            for key in &path[1..] {
                at = at.and_then(|v| v.as_table()).and_then(|t| t.get(key));
            }
            prop_assert_eq!(at, Some(&value));
        }

        #[test]
        fn fuzz_overrides_build_a_table_and_find_their_keys(
            raws in proptest::collection::vec(override_text(), 0..6),
            probe in proptest::collection::vec("[a-z]{0,2}", 0..4),
        ) {
            if let Ok(all) = CliOverrides::parse(&raws) {
                let _ = all.to_table();
                let probe: Vec<&str> = probe.iter().map(String::as_str).collect();
                if let Some(found) = all.find_for(&probe) {
                    let common = found.path().len().min(probe.len());
                    prop_assert_eq!(&found.path()[..common], &probe[..common]);
                }
            }
        }
    }
}
