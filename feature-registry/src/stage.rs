//! The maturity of a feature.

use std::fmt;
use std::str::FromStr;

/// How mature a feature is. The stage decides which defaults are allowed
/// (see [`Stage::allows_default_on`]) and how `codex features list` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// Not meant for users yet; always off by default.
    UnderDevelopment,
    /// Usable and listed, but may change or disappear.
    Experimental,
    /// Nearly stable; may be on by default.
    Beta,
    /// Supported.
    Stable,
    /// Still honoured, going away.
    Deprecated,
    /// Accepted in config so old files still load, and otherwise ignored.
    Removed,
}

impl Stage {
    /// Every stage, least mature first.
    pub const ALL: [Stage; 6] = [
        Stage::UnderDevelopment,
        Stage::Experimental,
        Stage::Beta,
        Stage::Stable,
        Stage::Deprecated,
        Stage::Removed,
    ];

    /// The word `codex features list` prints, e.g. `"under development"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Stage::UnderDevelopment => "under development",
            Stage::Experimental => "experimental",
            Stage::Beta => "beta",
            Stage::Stable => "stable",
            Stage::Deprecated => "deprecated",
            Stage::Removed => "removed",
        }
    }

    /// Whether a feature at this stage may be on when nothing sets it.
    /// Only beta and stable features may: anything less mature must be
    /// opted into, and a deprecated or removed feature must not be pushed on
    /// people who never asked for it.
    pub const fn allows_default_on(self) -> bool {
        matches!(self, Stage::Beta | Stage::Stable)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stage name that [`Stage::from_str`] does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseStageError {
    /// The text that was given.
    pub input: String,
}

impl fmt::Display for ParseStageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown feature stage `{}`; expected one of ",
            self.input
        )?;
        for (i, stage) in Stage::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "`{stage}`")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseStageError {}

impl FromStr for Stage {
    type Err = ParseStageError;

    /// Accepts the words of [`Stage::as_str`] in any case, with spaces,
    /// `_` or `-` between words (`under_development`, `Under-Development`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let normalized: String = s
            .trim()
            .chars()
            .map(|c| match c {
                '_' | '-' => ' ',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        Stage::ALL
            .into_iter()
            .find(|stage| stage.as_str() == normalized)
            .ok_or_else(|| ParseStageError {
                input: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_match_codex_features_list() {
        let words: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            words,
            [
                "under development",
                "experimental",
                "beta",
                "stable",
                "deprecated",
                "removed"
            ]
        );
    }

    #[test]
    fn parses_its_own_words_and_common_spellings() {
        for stage in Stage::ALL {
            assert_eq!(stage.as_str().parse::<Stage>(), Ok(stage));
        }
        assert_eq!(
            "under_development".parse::<Stage>(),
            Ok(Stage::UnderDevelopment)
        );
        assert_eq!(" Beta ".parse::<Stage>(), Ok(Stage::Beta));
        let err = "ready".parse::<Stage>().unwrap_err();
        assert!(err.to_string().contains("`ready`"), "{err}");
        assert!(err.to_string().contains("`under development`"), "{err}");
    }

    #[test]
    fn only_beta_and_stable_may_default_on() {
        let allowed: Vec<Stage> = Stage::ALL
            .into_iter()
            .filter(|s| s.allows_default_on())
            .collect();
        assert_eq!(allowed, [Stage::Beta, Stage::Stable]);
    }
}
