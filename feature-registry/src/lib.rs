//! Feature flags for the codex host and its plugins.
//!
//! A feature is declared next to the code it gates with [`declare_feature!`]
//! (collected at link time by [`Registry::builtin`]), or at run time by a
//! plugin manifest through [`Registry::register_plugin_feature`]. A
//! [`Resolver`] then takes values from every [`Source`] (defaults, model
//! bundles, config files, profiles, `-c`, `--enable/--disable`, managed
//! pins) in any order and resolves them by precedence, keeping for each
//! feature where its value came from and every value that was applied.
//!
//! ```
//! use codex_feature_registry::{Registry, Resolver, Source};
//!
//! let registry = Registry::builtin();
//! let mut resolver = Resolver::new(&registry);
//! resolver.apply(Source::CommandLine, "memories", true).unwrap();
//! resolver
//!     .apply(Source::ConfigFile { path: "config.toml".into(), line: Some(3) }, "memories", false)
//!     .unwrap();
//! let resolved = resolver.resolve();
//! assert!(resolved.is_enabled("memories"));
//! assert_eq!(resolved.get("memories").unwrap().source, Source::CommandLine);
//!
//! let unknown = resolver.apply(Source::CommandLine, "memries", true).unwrap_err();
//! assert_eq!(unknown.suggestion.as_deref(), Some("memories"));
//! ```

#![warn(missing_docs)]

mod codex_catalog;
mod diagnostics;
mod error;
mod origin;
mod registry;
mod resolve;
mod source;
mod spec;
mod stage;
mod suggest;

pub use diagnostics::{UnknownFeature, Warning};
pub use error::{NameRole, RegistryError};
pub use origin::{Declarer, Origin};
pub use registry::{AliasNote, Feature, Registry};
pub use resolve::{Resolved, ResolvedFeature, Resolver};
pub use source::{Source, SourceKind};
pub use spec::{FeatureSpec, SourceLocation, is_valid_key};
pub use stage::{ParseStageError, Stage};

/// Re-exports used by [`declare_feature!`]; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use inventory;
}

#[cfg(test)]
mod tests;
