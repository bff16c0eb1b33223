//! Who declared a feature.

use std::fmt;

use crate::SourceLocation;

/// Who declared a feature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Declared in the host's code with [`declare_feature!`](crate::declare_feature).
    Host,
    /// One of Codex's own features, as the pinned Codex CLI lists them
    /// (its stage and default are Codex's).
    Codex,
    /// Declared at run time by the manifest of the named plugin.
    Plugin(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Host => f.write_str("host"),
            Origin::Codex => f.write_str("Codex"),
            Origin::Plugin(name) => write!(f, "plugin `{name}`"),
        }
    }
}

/// An origin together with the source location of a host declaration, as
/// named in error messages ("the host at codex_host::mcp (src/mcp.rs:12)").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declarer {
    /// Who declared the feature.
    pub origin: Origin,
    /// Where in the code, for host declarations.
    pub declared_at: Option<SourceLocation>,
}

impl fmt::Display for Declarer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.origin, &self.declared_at) {
            (Origin::Host, Some(location)) => write!(f, "the host at {location}"),
            (Origin::Host, None) => f.write_str("the host"),
            (Origin::Codex, _) => {
                f.write_str("Codex's feature list (feature-registry/src/codex_catalog.rs)")
            }
            (Origin::Plugin(_), _) => self.origin.fmt(f),
        }
    }
}
