//! Errors in feature declarations.

use std::fmt;

use crate::{Declarer, Origin, Stage};

/// Whether a name is a feature's key or one of its legacy aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRole {
    /// The canonical key.
    Key,
    /// A legacy alias of a key.
    Alias,
}

impl NameRole {
    /// The role with its article, for "declared as a key / as an alias".
    fn with_article(self) -> &'static str {
        match self {
            NameRole::Key => "a key",
            NameRole::Alias => "an alias",
        }
    }
}

impl fmt::Display for NameRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameRole::Key => "key",
            NameRole::Alias => "alias",
        })
    }
}

/// A feature declaration that the registry refuses or reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryError {
    /// A key or alias is already taken by another declaration (or by the
    /// same one, for an alias equal to its own key).
    AlreadyDeclared {
        /// The name that clashes.
        name: String,
        /// What the name is in the new declaration.
        new_role: NameRole,
        /// Who made the new, refused declaration.
        new: Box<Declarer>,
        /// What the name is in the existing declaration.
        existing_role: NameRole,
        /// Who declared the name first.
        existing: Box<Declarer>,
    },
    /// A key or alias is not snake_case (see [`is_valid_key`](crate::is_valid_key)).
    InvalidName {
        /// The offending name.
        name: String,
        /// Whether it is a key or an alias.
        role: NameRole,
        /// Who declared it.
        declarer: Declarer,
    },
    /// A feature is on by default at a stage that must be opted into.
    DefaultOnAtStage {
        /// The feature's key.
        key: String,
        /// Its declared stage.
        stage: Stage,
        /// Who declared it.
        declarer: Declarer,
    },
    /// The description is empty or spans several lines.
    InvalidDescription {
        /// The feature's key.
        key: String,
        /// Who declared it.
        declarer: Declarer,
    },
}

impl RegistryError {
    /// Who made the declaration this error is about.
    pub fn declarer(&self) -> &Declarer {
        match self {
            RegistryError::AlreadyDeclared { new, .. } => new,
            RegistryError::InvalidName { declarer, .. }
            | RegistryError::DefaultOnAtStage { declarer, .. }
            | RegistryError::InvalidDescription { declarer, .. } => declarer,
        }
    }

    fn fix_hint(&self) -> String {
        match &self.declarer().origin {
            Origin::Plugin(name) => format!("fix the feature in plugin `{name}`'s manifest"),
            Origin::Host => "fix the `declare_feature!` declaration".to_owned(),
            Origin::Codex => "fix the entry of feature-registry/src/codex_catalog.rs".to_owned(),
        }
    }
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryError::AlreadyDeclared {
                name,
                new_role,
                new,
                existing_role,
                existing,
            } => {
                write!(
                    f,
                    "feature {new_role} `{name}` declared by {new} is already declared as {} by {existing}; ",
                    existing_role.with_article()
                )?;
                if new == existing {
                    write!(f, "remove the duplicate name")
                } else {
                    write!(f, "rename one of them")
                }
            }
            RegistryError::InvalidName {
                name,
                role,
                declarer,
            } => write!(
                f,
                "feature {role} `{name}` declared by {declarer} is not snake_case; use lowercase ASCII \
                 letters, digits and single underscores, starting with a letter ({})",
                self.fix_hint()
            ),
            RegistryError::DefaultOnAtStage {
                key,
                stage,
                declarer,
            } => write!(
                f,
                "feature `{key}` declared by {declarer} is on by default at stage `{stage}`; only beta and \
                 stable features may be on by default, so make it off by default or move it to a later stage ({})",
                self.fix_hint()
            ),
            RegistryError::InvalidDescription { key, declarer } => write!(
                f,
                "feature `{key}` declared by {declarer} needs a one-line, non-empty description ({})",
                self.fix_hint()
            ),
        }
    }
}

impl std::error::Error for RegistryError {}
