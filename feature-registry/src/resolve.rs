//! Turning values from every source into one effective value per feature.

use std::collections::BTreeMap;

use crate::{Registry, Source, SourceKind, Stage, UnknownFeature, Warning};

/// Collects feature values from every source, in any order, and resolves
/// them by precedence: a higher [`Source`] wins, and within one
/// [`SourceKind`] the value applied last wins (so apply system, user and
/// project config files in that order).
#[derive(Debug, Clone)]
pub struct Resolver<'r> {
    registry: &'r Registry,
    /// In call order; the index breaks ties within one source kind.
    applied: Vec<Applied>,
    warnings: Vec<Warning>,
}

#[derive(Debug, Clone)]
struct Applied {
    key: String,
    source: Source,
    value: bool,
}

impl<'r> Resolver<'r> {
    /// A resolver for the features of `registry`, with no values applied yet.
    pub fn new(registry: &'r Registry) -> Resolver<'r> {
        Resolver {
            registry,
            applied: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Records that `source` sets `key` (a key or legacy alias) to `value`.
    ///
    /// A legacy alias is recorded under its key with a
    /// [`Warning::LegacyAlias`]; a removed feature is recorded with a
    /// [`Warning::RemovedFeature`] and does not change the effective value.
    /// An unknown key is not recorded: the error carries the closest known
    /// key, for "did you mean".
    pub fn apply(&mut self, source: Source, key: &str, value: bool) -> Result<(), UnknownFeature> {
        let Some((canonical, alias_note)) = self.registry.canonical_key(key) else {
            return Err(UnknownFeature {
                key: key.to_owned(),
                suggestion: self.registry.suggest(key),
                source: Box::new(source),
            });
        };
        let canonical = canonical.to_owned();
        let feature = self.registry.get(&canonical);
        let warns = feature.is_some_and(|feature| feature.warns_when_set());
        if let Some(note) = alias_note
            && warns
        {
            self.warnings.push(Warning::LegacyAlias {
                alias: note.alias,
                canonical: note.canonical,
                source: source.clone(),
            });
        }
        if warns && feature.is_some_and(|feature| feature.ignores_config()) {
            self.warnings.push(Warning::RemovedFeature {
                key: canonical.clone(),
                source: source.clone(),
            });
        }
        self.applied.push(Applied {
            key: canonical,
            source,
            value,
        });
        Ok(())
    }

    /// The effective value of every feature in the registry, with where it
    /// came from, every value that was applied, and the warnings.
    pub fn resolve(&self) -> Resolved {
        let mut by_key: BTreeMap<&str, Vec<&Applied>> = BTreeMap::new();
        for applied in &self.applied {
            by_key.entry(&applied.key).or_default().push(applied);
        }
        let mut warnings = self.warnings.clone();
        let mut features = BTreeMap::new();
        for feature in self.registry.iter() {
            let mut values = by_key.remove(feature.key()).unwrap_or_default();
            // A stable sort keeps call order within one source kind.
            values.sort_by_key(|applied| applied.source.kind());
            let history: Vec<(Source, bool)> =
                std::iter::once((Source::Default, feature.default_enabled()))
                    .chain(values.iter().map(|a| (a.source.clone(), a.value)))
                    .collect();
            let (source, effective) = match history.last() {
                Some((source, value)) if !feature.ignores_config() => (source.clone(), *value),
                _ => (Source::Default, feature.default_enabled()),
            };
            if source.kind() == SourceKind::Managed && !feature.ignores_config() {
                warnings.extend(contradicted_pins(
                    feature.key(),
                    &history,
                    &source,
                    effective,
                ));
            }
            features.insert(
                feature.key().to_owned(),
                ResolvedFeature {
                    key: feature.key().to_owned(),
                    stage: feature.stage(),
                    effective,
                    source,
                    history,
                },
            );
        }
        Resolved { features, warnings }
    }
}

/// Warnings for user-controlled values that the managed pin overrides.
fn contradicted_pins(
    key: &str,
    history: &[(Source, bool)],
    managed: &Source,
    managed_value: bool,
) -> Vec<Warning> {
    history
        .iter()
        .filter(|(source, value)| {
            matches!(
                source.kind(),
                SourceKind::ConfigFile
                    | SourceKind::Profile
                    | SourceKind::ConfigOverride
                    | SourceKind::CommandLine
            ) && *value != managed_value
        })
        .map(|(source, value)| Warning::OverriddenByManaged {
            key: key.to_owned(),
            value: *value,
            source: source.clone(),
            managed_value,
            managed: managed.clone(),
        })
        .collect()
}

/// The outcome of resolution: one [`ResolvedFeature`] per registry feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    features: BTreeMap<String, ResolvedFeature>,
    warnings: Vec<Warning>,
}

/// One feature's effective value and how it came about (`codex features explain`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedFeature {
    /// The canonical key.
    pub key: String,
    /// The feature's stage.
    pub stage: Stage,
    /// The value the host and plugins see.
    pub effective: bool,
    /// The source that decided `effective` ([`Source::Default`] when nothing
    /// set it, or when the feature is removed).
    pub source: Source,
    /// Every value applied, lowest precedence first and in call order within
    /// one source kind, starting with the registry default.
    pub history: Vec<(Source, bool)>,
}

impl Resolved {
    /// The resolution of canonical key `key`.
    pub fn get(&self, key: &str) -> Option<&ResolvedFeature> {
        self.features.get(key)
    }

    /// The effective value of canonical key `key`; `None` for an unknown key.
    pub fn enabled(&self, key: &str) -> Option<bool> {
        self.features.get(key).map(|feature| feature.effective)
    }

    /// Whether the declared feature `feature` is on (its declared default
    /// when this resolution does not know it).
    pub fn feature_enabled(&self, feature: &crate::FeatureSpec) -> bool {
        self.enabled(feature.key).unwrap_or(feature.default_enabled)
    }

    /// Whether canonical key `key` is on; an unknown key is off.
    pub fn is_enabled(&self, key: &str) -> bool {
        self.enabled(key).unwrap_or(false)
    }

    /// Every feature, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = &ResolvedFeature> {
        self.features.values()
    }

    /// Warnings from [`Resolver::apply`] in call order, then managed-pin
    /// contradictions by key.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Under-development features that something other than the default
    /// turned on, sorted by key, for the "Under-development features enabled"
    /// notice.
    pub fn under_development_enabled(&self) -> Vec<&str> {
        self.features
            .values()
            .filter(|f| {
                f.stage == Stage::UnderDevelopment
                    && f.effective
                    && f.source.kind() != SourceKind::Default
            })
            .map(|f| f.key.as_str())
            .collect()
    }
}
