//! What resolution tells the user: warnings and the unknown-key error.

use std::fmt;

use crate::Source;

/// Something worth telling the user about a feature setting that was still
/// accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A legacy alias was used instead of the canonical key.
    LegacyAlias {
        /// The legacy name used.
        alias: String,
        /// The key it maps to.
        canonical: String,
        /// Where it was used.
        source: Source,
    },
    /// A removed feature was set; the value has no effect.
    RemovedFeature {
        /// The feature's key.
        key: String,
        /// Where it was set.
        source: Source,
    },
    /// A value contradicts a managed pin, which wins.
    OverriddenByManaged {
        /// The feature's key.
        key: String,
        /// The value that was ignored.
        value: bool,
        /// Where the ignored value was set.
        source: Source,
        /// The pinned value.
        managed_value: bool,
        /// The managed source that pins it.
        managed: Source,
    },
}

impl Warning {
    /// The canonical key the warning is about.
    pub fn key(&self) -> &str {
        match self {
            Warning::LegacyAlias { canonical, .. } => canonical,
            Warning::RemovedFeature { key, .. } | Warning::OverriddenByManaged { key, .. } => key,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::LegacyAlias {
                alias,
                canonical,
                source,
            } => write!(
                f,
                "`{alias}` (set by {source}) is a deprecated name for feature `{canonical}`; rename it to `{canonical}`"
            ),
            Warning::RemovedFeature { key, source } => write!(
                f,
                "feature `{key}` (set by {source}) has been removed and the setting has no effect; delete it"
            ),
            Warning::OverriddenByManaged {
                key,
                value,
                source,
                managed_value,
                managed,
            } => write!(
                f,
                "`{key} = {value}` (set by {source}) is ignored: {managed} pins `{key} = {managed_value}`"
            ),
        }
    }
}

/// A feature key that is neither a known key nor a legacy alias.
///
/// On the command line this is an error; in a config file the host reports
/// it as a warning and goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFeature {
    /// The key as given.
    pub key: String,
    /// The closest known key, if any is close.
    pub suggestion: Option<String>,
    /// Where the key was given (boxed: a source with a file is large, and
    /// this error is returned on the happy path's type).
    pub source: Box<Source>,
}

impl fmt::Display for UnknownFeature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown feature `{}` (set by {}); ",
            self.key, self.source
        )?;
        if let Some(suggestion) = &self.suggestion {
            write!(f, "did you mean `{suggestion}`? ")?;
        }
        f.write_str("`codex features list` shows every feature")
    }
}

impl std::error::Error for UnknownFeature {}
