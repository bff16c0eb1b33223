//! Tests across modules: declarations, registry rules and resolution.

mod declarations;
mod plugins;
mod resolution;

use crate::{FeatureSpec, Registry, SourceLocation, Stage};

/// A spec as if declared at `file:line`, for registries built in tests.
fn spec(
    key: &'static str,
    stage: Stage,
    default_enabled: bool,
    aliases: &'static [&'static str],
    file: &'static str,
    line: u32,
) -> FeatureSpec {
    FeatureSpec {
        key,
        stage,
        default_enabled,
        description: "A test feature",
        aliases,
        declared_at: SourceLocation {
            module_path: "tests",
            file,
            line,
        },
    }
}

/// A small registry with one feature per interesting stage and an alias.
fn sample_registry() -> Registry {
    let specs = [
        spec("alpha", Stage::Stable, false, &["old_alpha"], "a.rs", 1),
        spec("beta_on", Stage::Beta, true, &[], "a.rs", 2),
        spec("gone", Stage::Removed, false, &[], "a.rs", 3),
        spec("wip", Stage::UnderDevelopment, false, &[], "a.rs", 4),
    ];
    let registry = Registry::from_specs(&specs);
    assert!(registry.invariant_violations().is_empty());
    registry
}
