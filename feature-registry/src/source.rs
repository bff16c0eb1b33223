//! Where a feature value comes from, and which source beats which.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a feature value was set. Variants are listed lowest precedence
/// first: a value from a later variant beats one from an earlier variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// The registry default.
    Default,
    /// A `[feature_bundles.BUNDLE]` entry chosen by `[model_features]` for `model`.
    ModelBundle {
        /// The bundle's name.
        bundle: String,
        /// The active model that selected it.
        model: String,
        /// The file that defines the entry, when known.
        path: Option<PathBuf>,
        /// The 1-based line of the entry, when known.
        line: Option<usize>,
    },
    /// `[features]` in a config file (system, user or project layer).
    ConfigFile {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the entry, when known.
        line: Option<usize>,
    },
    /// `[profiles.NAME.features]` of the selected profile.
    Profile {
        /// The profile's name.
        name: String,
        /// The file that defines it.
        path: PathBuf,
        /// The 1-based line of the entry, when known.
        line: Option<usize>,
    },
    /// `-c features.KEY=VALUE` on the command line.
    ConfigOverride {
        /// The override as given (`features.KEY=VALUE`), or empty when unknown.
        text: String,
    },
    /// `--enable KEY` / `--disable KEY` on the command line.
    CommandLine,
    /// A pin in a managed config that users cannot override.
    Managed {
        /// The managed file.
        path: PathBuf,
        /// The 1-based line of the entry, when known.
        line: Option<usize>,
    },
}

/// The precedence class of a [`Source`], lowest first; it orders sources
/// without looking at their paths or names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceKind {
    /// [`Source::Default`].
    Default,
    /// [`Source::ModelBundle`].
    ModelBundle,
    /// [`Source::ConfigFile`].
    ConfigFile,
    /// [`Source::Profile`].
    Profile,
    /// [`Source::ConfigOverride`].
    ConfigOverride,
    /// [`Source::CommandLine`].
    CommandLine,
    /// [`Source::Managed`].
    Managed,
}

impl SourceKind {
    /// A short label for a table column, e.g. `"config file"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SourceKind::Default => "default",
            SourceKind::ModelBundle => "model bundle",
            SourceKind::ConfigFile => "config file",
            SourceKind::Profile => "profile",
            SourceKind::ConfigOverride => "-c override",
            SourceKind::CommandLine => "command line",
            SourceKind::Managed => "managed",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Source {
    /// The precedence class of this source.
    pub fn kind(&self) -> SourceKind {
        match self {
            Source::Default => SourceKind::Default,
            Source::ModelBundle { .. } => SourceKind::ModelBundle,
            Source::ConfigFile { .. } => SourceKind::ConfigFile,
            Source::Profile { .. } => SourceKind::Profile,
            Source::ConfigOverride { .. } => SourceKind::ConfigOverride,
            Source::CommandLine => SourceKind::CommandLine,
            Source::Managed { .. } => SourceKind::Managed,
        }
    }

    /// The file and 1-based line the value was set at, for sources in a file.
    pub fn file(&self) -> Option<(&Path, Option<usize>)> {
        match self {
            Source::ModelBundle {
                path: Some(path),
                line,
                ..
            } => Some((path, *line)),
            Source::ConfigFile { path, line }
            | Source::Profile { path, line, .. }
            | Source::Managed { path, line } => Some((path, *line)),
            _ => None,
        }
    }
}

struct FileLine<'a>(&'a Path, Option<usize>);

impl fmt::Display for FileLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.display())?;
        if let Some(line) = self.1 {
            write!(f, ":{line}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Source {
    /// A phrase that completes "set by …", e.g. `profile `fast` (/home/u/.codex/config.toml:12)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("the default"),
            Source::ModelBundle {
                bundle,
                model,
                path,
                line,
            } => {
                write!(f, "feature bundle `{bundle}` for model `{model}`")?;
                if let Some(path) = path {
                    write!(f, " ({})", FileLine(path, *line))?;
                }
                Ok(())
            }
            Source::ConfigFile { path, line } => write!(f, "{}", FileLine(path, *line)),
            Source::Profile { name, path, line } => {
                write!(f, "profile `{name}` ({})", FileLine(path, *line))
            }
            Source::ConfigOverride { text } if text.is_empty() => f.write_str("-c"),
            Source::ConfigOverride { text } => write!(f, "-c {text}"),
            Source::CommandLine => f.write_str("--enable/--disable"),
            Source::Managed { path, line } => {
                write!(f, "managed config {}", FileLine(path, *line))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_of_each() -> Vec<Source> {
        vec![
            Source::Default,
            Source::ModelBundle {
                bundle: "b".into(),
                model: "m".into(),
                path: Some("/c.toml".into()),
                line: Some(7),
            },
            Source::ConfigFile {
                path: "/c.toml".into(),
                line: Some(3),
            },
            Source::Profile {
                name: "p".into(),
                path: "/c.toml".into(),
                line: None,
            },
            Source::ConfigOverride {
                text: "features.x=true".into(),
            },
            Source::CommandLine,
            Source::Managed {
                path: "/m.toml".into(),
                line: Some(1),
            },
        ]
    }

    #[test]
    fn kinds_follow_declaration_order() {
        let kinds: Vec<SourceKind> = one_of_each().iter().map(Source::kind).collect();
        let mut sorted = kinds.clone();
        sorted.sort();
        assert_eq!(kinds, sorted);
        sorted.dedup();
        assert_eq!(sorted.len(), 7);
    }

    #[test]
    fn file_is_known_for_file_sources_only() {
        let files: Vec<Option<(String, Option<usize>)>> = one_of_each()
            .iter()
            .map(|s| s.file().map(|(p, l)| (p.display().to_string(), l)))
            .collect();
        assert_eq!(
            files,
            [
                None,
                Some(("/c.toml".into(), Some(7))),
                Some(("/c.toml".into(), Some(3))),
                Some(("/c.toml".into(), None)),
                None,
                None,
                Some(("/m.toml".into(), Some(1))),
            ]
        );
    }

    #[test]
    fn display_names_file_and_line() {
        let shown: Vec<String> = one_of_each().iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "the default",
                "feature bundle `b` for model `m` (/c.toml:7)",
                "/c.toml:3",
                "profile `p` (/c.toml)",
                "-c features.x=true",
                "--enable/--disable",
                "managed config /m.toml:1",
            ]
        );
    }
}
