//! The set of known features: host declarations plus plugin declarations.

use std::collections::BTreeMap;
use std::fmt;

use crate::codex_catalog::{
    CODEX_FEATURES, CodexFeature, IGNORED_WHEN_SET, RETIRED_CODEX_FEATURES,
};
use crate::error::NameRole;
use crate::suggest;
use crate::{Declarer, FeatureSpec, Origin, RegistryError, SourceLocation, Stage, is_valid_key};

/// A known feature, as listed by `codex features list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    key: String,
    stage: Stage,
    default_enabled: bool,
    description: String,
    aliases: Vec<String>,
    origin: Origin,
    declared_at: Option<SourceLocation>,
}

impl Feature {
    /// The key under `[features]`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// How mature the feature is.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// The value when nothing sets it.
    pub fn default_enabled(&self) -> bool {
        self.default_enabled
    }

    /// One line for `codex features list`.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Legacy names that map to this feature.
    pub fn aliases(&self) -> &[String] {
        &self.aliases
    }

    /// Who declared it.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Whether a configured value is ignored: a removed feature's, except
    /// those of Codex's removed features that Codex still honours.
    pub fn ignores_config(&self) -> bool {
        self.stage == Stage::Removed
            && (self.origin != Origin::Codex || IGNORED_WHEN_SET.contains(&self.key.as_str()))
    }

    /// Whether using it in config deserves a warning (a legacy alias, a
    /// removed feature). Codex's own names never do: Codex reads them
    /// without a word, and so does this host.
    pub fn warns_when_set(&self) -> bool {
        self.origin != Origin::Codex
    }

    /// Where in the code a host feature is declared; `None` for plugin features.
    pub fn declared_at(&self) -> Option<SourceLocation> {
        self.declared_at
    }

    fn declarer(&self) -> Declarer {
        Declarer {
            origin: self.origin.clone(),
            declared_at: self.declared_at,
        }
    }

    fn from_spec(spec: &FeatureSpec) -> Feature {
        Feature {
            key: spec.key.to_owned(),
            stage: spec.stage,
            default_enabled: spec.default_enabled,
            description: spec.description.to_owned(),
            aliases: spec.aliases.iter().map(|a| (*a).to_owned()).collect(),
            origin: Origin::Host,
            declared_at: Some(spec.declared_at),
        }
    }

    fn from_codex(entry: &CodexFeature) -> Feature {
        let description = match entry.description {
            Some(description) => description.to_owned(),
            None => "A Codex feature (kept for Codex, which reads the same config; this host does not act on it)".to_owned(),
        };
        Feature {
            key: entry.key.to_owned(),
            stage: entry.stage,
            default_enabled: entry.default_enabled,
            description,
            aliases: entry.aliases.iter().map(|a| (*a).to_owned()).collect(),
            origin: Origin::Codex,
            declared_at: None,
        }
    }

    /// Every rule a declaration must follow, apart from uniqueness.
    fn problems(&self) -> Vec<RegistryError> {
        let mut problems = Vec::new();
        let names = std::iter::once((&self.key, NameRole::Key))
            .chain(self.aliases.iter().map(|a| (a, NameRole::Alias)));
        for (name, role) in names {
            if !is_valid_key(name) {
                problems.push(RegistryError::InvalidName {
                    name: name.clone(),
                    role,
                    declarer: self.declarer(),
                });
            }
        }
        // Codex's own features keep Codex's defaults, whatever the stage.
        if self.default_enabled && !self.stage.allows_default_on() && self.origin != Origin::Codex {
            problems.push(RegistryError::DefaultOnAtStage {
                key: self.key.clone(),
                stage: self.stage,
                declarer: self.declarer(),
            });
        }
        if self.description.trim().is_empty() || self.description.contains(['\n', '\r']) {
            problems.push(RegistryError::InvalidDescription {
                key: self.key.clone(),
                declarer: self.declarer(),
            });
        }
        problems
    }
}

/// Why a legacy alias was accepted: shown to the user as a deprecation note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasNote {
    /// The legacy name that was used.
    pub alias: String,
    /// The key it maps to.
    pub canonical: String,
}

impl fmt::Display for AliasNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is a deprecated name for feature `{}`; use `{}` instead",
            self.alias, self.canonical, self.canonical
        )
    }
}

/// Every known feature, by key, with the legacy aliases that map to them.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    features: BTreeMap<String, Feature>,
    /// Alias to canonical key.
    aliases: BTreeMap<String, String>,
    /// Host declarations that were refused when the registry was built.
    conflicts: Vec<RegistryError>,
}

impl Registry {
    /// A registry with no features.
    pub fn empty() -> Registry {
        Registry::default()
    }

    /// Codex's features (the pinned Codex CLI's list, so a Codex config
    /// loads here as it loads there) and every feature declared with
    /// [`declare_feature!`](crate::declare_feature) anywhere in the binary.
    ///
    /// A declaration whose key or alias is already taken is left out and
    /// reported by [`Registry::declaration_conflicts`]; which of two clashing
    /// declarations is kept does not depend on link order, and Codex's keys
    /// are taken first.
    pub fn builtin() -> Registry {
        let mut registry = Registry::empty();
        for entry in CODEX_FEATURES.iter().chain(RETIRED_CODEX_FEATURES) {
            if let Err(error) = registry.insert(Feature::from_codex(entry)) {
                registry.conflicts.push(error);
            }
        }
        registry.add_specs(inventory::iter::<FeatureSpec>);
        registry
    }

    /// A registry of the given specs, with the same rules as [`Registry::builtin`].
    pub fn from_specs<'a>(specs: impl IntoIterator<Item = &'a FeatureSpec>) -> Registry {
        let mut registry = Registry::empty();
        registry.add_specs(specs);
        registry
    }

    fn add_specs<'a>(&mut self, specs: impl IntoIterator<Item = &'a FeatureSpec>) {
        let mut specs: Vec<&FeatureSpec> = specs.into_iter().collect();
        // Link order is unspecified; sorting keeps the outcome of a clash stable.
        specs.sort_by_key(|spec| {
            (
                spec.key,
                spec.declared_at.file,
                spec.declared_at.line,
                spec.declared_at.module_path,
            )
        });
        for spec in specs {
            if let Err(error) = self.insert(Feature::from_spec(spec)) {
                self.conflicts.push(error);
            }
        }
    }

    /// Host declarations left out of [`Registry::builtin`] because their key
    /// or an alias was already taken.
    pub fn declaration_conflicts(&self) -> &[RegistryError] {
        &self.conflicts
    }

    /// Every broken rule among the declarations: the conflicts of
    /// [`Registry::declaration_conflicts`], keys or aliases that are not
    /// snake_case, features on by default at a stage other than beta or stable
    /// (so under-development features are always off by default), and empty
    /// or multi-line descriptions. A test of the binary should assert that it
    /// is empty.
    pub fn invariant_violations(&self) -> Vec<RegistryError> {
        let mut violations = self.conflicts.clone();
        for feature in self.features.values() {
            violations.extend(feature.problems());
        }
        violations
    }

    /// Adds a feature declared by plugin `plugin` at run time.
    ///
    /// Refused when the key is not snake_case, when it is already a key or
    /// alias (the error names both origins), when the default does not suit
    /// the stage, or when the description is not one non-empty line.
    pub fn register_plugin_feature(
        &mut self,
        plugin: &str,
        key: &str,
        stage: Stage,
        default_enabled: bool,
        description: &str,
    ) -> Result<(), RegistryError> {
        let feature = Feature {
            key: key.to_owned(),
            stage,
            default_enabled,
            description: description.to_owned(),
            aliases: Vec::new(),
            origin: Origin::Plugin(plugin.to_owned()),
            declared_at: None,
        };
        if let Some(problem) = feature.problems().into_iter().next() {
            return Err(problem);
        }
        self.insert(feature)
    }

    fn insert(&mut self, feature: Feature) -> Result<(), RegistryError> {
        let names: Vec<(&String, NameRole)> = std::iter::once((&feature.key, NameRole::Key))
            .chain(feature.aliases.iter().map(|a| (a, NameRole::Alias)))
            .collect();
        for (index, &(name, new_role)) in names.iter().enumerate() {
            if let Some((existing_role, existing)) = self.owner_of(name).or_else(|| {
                // An alias repeating the key or another alias of the same declaration.
                names[..index]
                    .iter()
                    .find(|(earlier, _)| *earlier == name)
                    .map(|&(_, role)| (role, feature.declarer()))
            }) {
                return Err(RegistryError::AlreadyDeclared {
                    name: name.clone(),
                    new_role,
                    new: Box::new(feature.declarer()),
                    existing_role,
                    existing: Box::new(existing),
                });
            }
        }
        for alias in &feature.aliases {
            self.aliases.insert(alias.clone(), feature.key.clone());
        }
        self.features.insert(feature.key.clone(), feature);
        Ok(())
    }

    /// What `name` is already and who declared it.
    fn owner_of(&self, name: &str) -> Option<(NameRole, Declarer)> {
        if let Some(feature) = self.features.get(name) {
            return Some((NameRole::Key, feature.declarer()));
        }
        let canonical = self.aliases.get(name)?;
        let feature = self.features.get(canonical)?;
        Some((NameRole::Alias, feature.declarer()))
    }

    /// The feature with canonical key `key` (aliases are not looked up; see
    /// [`Registry::canonical_key`]).
    pub fn get(&self, key: &str) -> Option<&Feature> {
        self.features.get(key)
    }

    /// Every feature, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = &Feature> {
        self.features.values()
    }

    /// The number of features.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Whether there are no features.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// The canonical key for a key or legacy alias, with a deprecation note
    /// when an alias was used; `None` when the name is unknown.
    pub fn canonical_key(&self, key_or_alias: &str) -> Option<(&str, Option<AliasNote>)> {
        if let Some((key, _)) = self.features.get_key_value(key_or_alias) {
            return Some((key.as_str(), None));
        }
        let canonical = self.aliases.get(key_or_alias)?;
        let note = AliasNote {
            alias: key_or_alias.to_owned(),
            canonical: canonical.clone(),
        };
        Some((canonical.as_str(), Some(note)))
    }

    /// The known key closest to `unknown`, for "did you mean"; a close alias
    /// suggests the key it maps to.
    pub fn suggest(&self, unknown: &str) -> Option<String> {
        let candidates = self
            .features
            .keys()
            .chain(self.aliases.keys())
            .map(String::as_str);
        let closest = suggest::closest(unknown, candidates)?;
        let key = self.aliases.get(closest).map_or(closest, String::as_str);
        Some(key.to_owned())
    }
}
