use std::path::PathBuf;

use super::sample_registry;
use crate::{Registry, Resolver, Source, SourceKind, Stage, Warning};

fn config(path: &str, line: usize) -> Source {
    Source::ConfigFile {
        path: PathBuf::from(path),
        line: Some(line),
    }
}

fn managed(line: usize) -> Source {
    Source::Managed {
        path: PathBuf::from("/etc/codex/managed_config.toml"),
        line: Some(line),
    }
}

/// One source of each kind, lowest precedence first.
fn layers() -> Vec<Source> {
    vec![
        Source::Default,
        Source::ModelBundle {
            bundle: "fast".into(),
            model: "gpt-test".into(),
            path: None,
            line: None,
        },
        config("/home/u/.codex/config.toml", 4),
        Source::Profile {
            name: "work".into(),
            path: PathBuf::from("/home/u/.codex/config.toml"),
            line: Some(20),
        },
        Source::ConfigOverride {
            text: String::new(),
        },
        Source::CommandLine,
        managed(2),
    ]
}

#[test]
fn each_layer_beats_the_one_below_whatever_the_call_order() {
    let registry = sample_registry();
    let layers = layers();
    for pair in layers.windows(2) {
        let (lower, higher) = (&pair[0], &pair[1]);
        for value in [true, false] {
            for higher_first in [true, false] {
                let mut resolver = Resolver::new(&registry);
                let calls = [(higher, value), (lower, !value)];
                let ordered: Vec<_> = if higher_first {
                    calls.to_vec()
                } else {
                    calls.iter().rev().copied().collect()
                };
                for (source, v) in ordered {
                    resolver.apply(source.clone(), "alpha", v).unwrap();
                }
                let resolved = resolver.resolve();
                let alpha = resolved.get("alpha").unwrap();
                assert_eq!(alpha.effective, value, "{higher} vs {lower}");
                assert_eq!(&alpha.source, higher, "{higher} vs {lower}");
            }
        }
    }
}

#[test]
fn within_one_source_kind_the_later_call_wins() {
    let registry = sample_registry();
    let mut resolver = Resolver::new(&registry);
    resolver
        .apply(config("/etc/codex/config.toml", 1), "alpha", true)
        .unwrap();
    resolver
        .apply(config("/home/u/.codex/config.toml", 7), "alpha", false)
        .unwrap();
    let resolved = resolver.resolve();
    let alpha = resolved.get("alpha").unwrap();
    assert!(!alpha.effective);
    assert_eq!(alpha.source, config("/home/u/.codex/config.toml", 7));
}

#[test]
fn history_lists_every_value_in_precedence_order() {
    let registry = sample_registry();
    let mut resolver = Resolver::new(&registry);
    resolver.apply(Source::CommandLine, "alpha", true).unwrap();
    resolver
        .apply(config("/etc/codex/config.toml", 1), "alpha", false)
        .unwrap();
    resolver
        .apply(
            Source::ConfigOverride {
                text: String::new(),
            },
            "alpha",
            false,
        )
        .unwrap();
    resolver
        .apply(config("/home/u/.codex/config.toml", 2), "alpha", true)
        .unwrap();
    let resolved = resolver.resolve();
    let alpha = resolved.get("alpha").unwrap();
    assert_eq!(
        alpha.history,
        [
            (Source::Default, false),
            (config("/etc/codex/config.toml", 1), false),
            (config("/home/u/.codex/config.toml", 2), true),
            (
                Source::ConfigOverride {
                    text: String::new()
                },
                false
            ),
            (Source::CommandLine, true),
        ]
    );
    assert_eq!(
        (alpha.effective, &alpha.source),
        (true, &Source::CommandLine)
    );
    assert_eq!(alpha.stage, Stage::Stable);

    let untouched = resolved.get("beta_on").unwrap();
    assert_eq!(untouched.history, [(Source::Default, true)]);
    assert_eq!(
        (untouched.effective, &untouched.source),
        (true, &Source::Default)
    );
    assert!(resolved.warnings().is_empty());
}

#[test]
fn managed_pins_win_and_contradictions_are_warned_about() {
    let registry = sample_registry();
    let mut resolver = Resolver::new(&registry);
    resolver.apply(managed(3), "alpha", false).unwrap();
    resolver.apply(Source::CommandLine, "alpha", true).unwrap();
    resolver
        .apply(config("/home/u/.codex/config.toml", 5), "alpha", true)
        .unwrap();
    resolver
        .apply(
            Source::Profile {
                name: "work".into(),
                path: "/home/u/.codex/config.toml".into(),
                line: Some(9),
            },
            "alpha",
            false,
        )
        .unwrap();
    resolver
        .apply(
            Source::ConfigOverride {
                text: String::new(),
            },
            "alpha",
            true,
        )
        .unwrap();
    // A bundle is a default for a model, not a user's choice: no warning.
    resolver
        .apply(
            Source::ModelBundle {
                bundle: "b".into(),
                model: "m".into(),
                path: None,
                line: None,
            },
            "alpha",
            true,
        )
        .unwrap();
    let resolved = resolver.resolve();
    let alpha = resolved.get("alpha").unwrap();
    assert!(!alpha.effective);
    assert_eq!(alpha.source, managed(3));

    let overridden: Vec<SourceKind> = resolved
        .warnings()
        .iter()
        .map(|w| match w {
            Warning::OverriddenByManaged {
                key,
                value,
                source,
                managed_value,
                managed: pin,
            } => {
                assert_eq!(key, "alpha");
                assert!(*value);
                assert!(!*managed_value);
                assert_eq!(pin, &managed(3));
                source.kind()
            }
            other => panic!("unexpected {other}"),
        })
        .collect();
    assert_eq!(
        overridden,
        [
            SourceKind::ConfigFile,
            SourceKind::ConfigOverride,
            SourceKind::CommandLine
        ]
    );
    let shown = resolved.warnings()[2].to_string();
    assert_eq!(
        shown,
        "`alpha = true` (set by --enable/--disable) is ignored: managed config \
         /etc/codex/managed_config.toml:3 pins `alpha = false`"
    );
}

#[test]
fn the_last_managed_value_is_the_pin() {
    let registry = sample_registry();
    let mut resolver = Resolver::new(&registry);
    resolver.apply(Source::CommandLine, "alpha", true).unwrap();
    resolver.apply(managed(1), "alpha", false).unwrap();
    resolver.apply(managed(8), "alpha", true).unwrap();
    let resolved = resolver.resolve();
    assert!(resolved.is_enabled("alpha"));
    assert_eq!(resolved.get("alpha").unwrap().source, managed(8));
    assert!(resolved.warnings().is_empty(), "{:?}", resolved.warnings());
}

#[test]
fn aliases_resolve_to_their_key_with_a_deprecation_warning() {
    let registry = sample_registry();
    let mut resolver = Resolver::new(&registry);
    let source = config("/home/u/.codex/config.toml", 12);
    resolver.apply(source.clone(), "old_alpha", true).unwrap();
    let resolved = resolver.resolve();
    let alpha = resolved.get("alpha").unwrap();
    assert!(alpha.effective);
    assert_eq!(alpha.source, source);
    assert_eq!(
        resolved.warnings(),
        [Warning::LegacyAlias {
            alias: "old_alpha".into(),
            canonical: "alpha".into(),
            source,
        }]
    );
    assert_eq!(resolved.warnings()[0].key(), "alpha");
    assert_eq!(
        resolved.warnings()[0].to_string(),
        "`old_alpha` (set by /home/u/.codex/config.toml:12) is a deprecated \
         name for feature `alpha`; rename it to `alpha`"
    );
    assert_eq!(resolved.get("old_alpha"), None);
}

#[test]
fn codex_aliases_resolve_without_a_word_as_in_codex() {
    let registry = Registry::builtin();
    let mut resolver = Resolver::new(&registry);
    let source = config("/home/u/.codex/config.toml", 3);
    resolver.apply(source.clone(), "collab", false).unwrap();
    resolver.apply(source, "sqlite", false).unwrap();
    let resolved = resolver.resolve();
    assert!(!resolved.is_enabled("multi_agent"));
    assert!(!resolved.is_enabled("sqlite"));
    assert!(resolved.warnings().is_empty(), "{:?}", resolved.warnings());
}

#[test]
fn canonical_keys_of_common_configs_load_without_warnings() {
    let registry = Registry::builtin();
    let mut resolver = Resolver::new(&registry);
    let source = config("/home/u/.codex/config.toml", 1);
    for key in [
        "unified_exec",
        "view_image_tool",
        "apply_patch_freeform",
        "web_search_request",
        "rmcp_client",
        "goals",
        "code_mode",
    ] {
        resolver.apply(source.clone(), key, true).unwrap();
    }
    let resolved = resolver.resolve();
    assert!(resolved.warnings().is_empty(), "{:?}", resolved.warnings());
    assert!(resolved.is_enabled("web_search_request"));
    // Removed in Codex, and ignored there when set: so here too.
    assert!(!resolved.is_enabled("apply_patch_freeform"));
    assert_eq!(resolved.under_development_enabled(), ["code_mode"]);
}

#[test]
fn unknown_keys_are_refused_with_a_suggestion() {
    let registry = sample_registry();
    let mut resolver = Resolver::new(&registry);
    let error = resolver
        .apply(Source::CommandLine, "alpah", true)
        .unwrap_err();
    assert_eq!(error.key, "alpah");
    assert_eq!(error.suggestion.as_deref(), Some("alpha"));
    assert_eq!(*error.source, Source::CommandLine);
    assert_eq!(
        error.to_string(),
        "unknown feature `alpah` (set by --enable/--disable); did you mean `alpha`? \
         `codex features list` shows every feature"
    );

    let error = resolver
        .apply(config("/c.toml", 2), "old_alph", true)
        .unwrap_err();
    assert_eq!(
        error.suggestion.as_deref(),
        Some("alpha"),
        "alias typo suggests the key"
    );

    let error = resolver
        .apply(config("/c.toml", 3), "telemetry", true)
        .unwrap_err();
    assert_eq!(error.suggestion, None);
    assert_eq!(
        error.to_string(),
        "unknown feature `telemetry` (set by /c.toml:3); `codex features list` shows every feature"
    );

    // Refused keys leave no trace in the result.
    let resolved = resolver.resolve();
    assert!(resolved.get("alpah").is_none());
    assert_eq!(resolved.get("alpha").unwrap().history.len(), 1);
}

#[test]
fn removed_features_accept_values_without_effect() {
    let registry = sample_registry();
    let mut resolver = Resolver::new(&registry);
    let source = config("/home/u/.codex/config.toml", 30);
    resolver.apply(source.clone(), "gone", true).unwrap();
    resolver.apply(managed(1), "gone", true).unwrap();
    let resolved = resolver.resolve();
    let gone = resolved.get("gone").unwrap();
    assert!(!gone.effective);
    assert_eq!(gone.source, Source::Default);
    assert_eq!(
        gone.history,
        [
            (Source::Default, false),
            (source.clone(), true),
            (managed(1), true)
        ]
    );
    assert_eq!(
        resolved.warnings(),
        [
            Warning::RemovedFeature {
                key: "gone".into(),
                source: source.clone(),
            },
            Warning::RemovedFeature {
                key: "gone".into(),
                source: managed(1),
            },
        ]
    );
    assert!(
        resolved.warnings()[0]
            .to_string()
            .contains("has no effect; delete it")
    );
}

#[test]
fn under_development_notice_lists_only_features_turned_on() {
    let registry = sample_registry();
    let mut resolver = Resolver::new(&registry);
    assert!(resolver.resolve().under_development_enabled().is_empty());
    resolver
        .apply(
            Source::ConfigOverride {
                text: String::new(),
            },
            "wip",
            true,
        )
        .unwrap();
    assert_eq!(resolver.resolve().under_development_enabled(), ["wip"]);
    resolver.apply(Source::CommandLine, "wip", false).unwrap();
    assert!(resolver.resolve().under_development_enabled().is_empty());
}

#[test]
fn every_registry_feature_is_resolved_and_unknown_keys_read_as_off() {
    let registry = sample_registry();
    let resolved = Resolver::new(&registry).resolve();
    let keys: Vec<&str> = resolved.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, ["alpha", "beta_on", "gone", "wip"]);
    assert_eq!(resolved.enabled("beta_on"), Some(true));
    assert_eq!(resolved.enabled("nope"), None);
    assert!(!resolved.is_enabled("nope"));
}
