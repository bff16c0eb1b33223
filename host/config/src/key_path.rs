//! Paths to a value inside the configuration (`mcp_servers.demo.args[1]`).

use std::fmt;

/// One step of a [`KeyPath`]: a table key or an array index.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathSegment {
    /// A key of a table.
    Key(String),
    /// An index into an array.
    Index(usize),
}

/// A path to a value in a TOML document, printed the way a user writes it:
/// `mcp_servers.demo.args[1]`, with keys quoted when they are not bare TOML
/// keys (`mcp_servers."npm:@x/y"`).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyPath(Vec<PathSegment>);

impl KeyPath {
    /// The empty path (the document root).
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// A path made of table keys only.
    pub fn from_keys<I, S>(keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self(
            keys.into_iter()
                .map(|key| PathSegment::Key(key.into()))
                .collect(),
        )
    }

    /// This path extended by a table key.
    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut segments = self.0.clone();
        segments.push(PathSegment::Key(key.into()));
        Self(segments)
    }

    /// This path extended by an array index.
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(PathSegment::Index(index));
        Self(segments)
    }

    /// The segments, outermost first.
    pub fn segments(&self) -> &[PathSegment] {
        &self.0
    }

    /// The leading table keys, up to the first array index.
    pub fn leading_keys(&self) -> Vec<&str> {
        self.0
            .iter()
            .map_while(|segment| match segment {
                PathSegment::Key(key) => Some(key.as_str()),
                PathSegment::Index(_) => None,
            })
            .collect()
    }

    /// Whether the path has no segment.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Whether `key` can be written without quotes in TOML.
pub(crate) fn is_bare_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `key` as it would appear in a TOML key path.
pub(crate) fn display_key(key: &str) -> String {
    if is_bare_key(key) {
        return key.to_string();
    }
    let mut quoted = String::with_capacity(key.len() + 2);
    quoted.push('"');
    for c in key.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for segment in &self.0 {
            match segment {
                PathSegment::Key(key) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(&display_key(key))?;
                }
                PathSegment::Index(index) => write!(f, "[{index}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_keys_indices_and_quoted_keys() {
        let path = KeyPath::from_keys(["mcp_servers", "demo", "args"]).index(1);
        assert_eq!(path.to_string(), "mcp_servers.demo.args[1]");
        let quoted = KeyPath::from_keys(["mcp_servers", "npm:@x/y", "a.b"]);
        assert_eq!(quoted.to_string(), r#"mcp_servers."npm:@x/y"."a.b""#);
        assert_eq!(KeyPath::from_keys(["a\"b"]).to_string(), r#""a\"b""#);
        assert_eq!(KeyPath::from_keys([""]).to_string(), r#""""#);
    }

    #[test]
    fn leading_keys_stop_at_the_first_index() {
        let path = KeyPath::from_keys(["a", "b"]).index(0).key("c");
        assert_eq!(path.leading_keys(), vec!["a", "b"]);
    }
}
