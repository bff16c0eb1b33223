use std::collections::BTreeMap;

use super::spec;
use crate::{FeatureSpec, NameRole, Origin, Registry, RegistryError, Stage, is_valid_key};

crate::declare_feature! {
    key: "declared_in_tests",
    stage: Experimental,
    default: false,
    description: "Declared by the tests to check link-time collection",
    aliases: ["old_declared_in_tests"],
}

#[test]
fn every_linked_spec_follows_the_rules() {
    let specs: Vec<&FeatureSpec> = inventory::iter::<FeatureSpec>.into_iter().collect();
    assert!(!specs.is_empty(), "no spec collected");
    let mut names: BTreeMap<&str, &FeatureSpec> = BTreeMap::new();
    for spec in &specs {
        assert!(
            is_valid_key(spec.key),
            "key `{}` is not snake_case",
            spec.key
        );
        if spec.stage == Stage::UnderDevelopment {
            assert!(
                !spec.default_enabled,
                "`{}` is under development but on",
                spec.key
            );
        }
        if spec.default_enabled {
            assert!(
                matches!(spec.stage, Stage::Stable | Stage::Beta),
                "`{}` is on by default at stage {}",
                spec.key,
                spec.stage
            );
        }
        assert!(
            !spec.description.trim().is_empty(),
            "`{}` has no description",
            spec.key
        );
        assert!(
            !spec.description.contains('\n'),
            "`{}` description spans lines",
            spec.key
        );
        for name in std::iter::once(&spec.key).chain(spec.aliases) {
            assert!(is_valid_key(name), "alias `{name}` is not snake_case");
            if let Some(other) = names.insert(name, spec) {
                panic!(
                    "`{name}` is declared by both `{}` and `{}`",
                    other.key, spec.key
                );
            }
        }
    }
    let registry = Registry::builtin();
    assert_eq!(registry.invariant_violations(), []);
    let codex = crate::codex_catalog::CODEX_FEATURES.len()
        + crate::codex_catalog::RETIRED_CODEX_FEATURES.len();
    assert_eq!(registry.len(), specs.len() + codex);
}

#[test]
fn common_codex_keys_are_declared_as_codex_has_them() {
    let registry = Registry::builtin();
    let expect = |key: &str, stage: Stage, default: bool| {
        let feature = registry
            .get(key)
            .unwrap_or_else(|| panic!("`{key}` not declared"));
        assert_eq!(
            (feature.stage(), feature.default_enabled()),
            (stage, default),
            "{key}"
        );
        assert_eq!(feature.origin(), &Origin::Codex);
        assert!(!feature.warns_when_set(), "{key}");
    };
    // As Codex 0.169's `features list` prints them.
    expect("unified_exec", Stage::Stable, true);
    expect("goals", Stage::Stable, true);
    expect("instant_interrupt", Stage::UnderDevelopment, true);
    expect("multi_agent", Stage::Deprecated, true);
    expect("sqlite", Stage::Removed, true);
    expect("apply_patch_freeform", Stage::Removed, false);
    expect("web_search_request", Stage::Deprecated, false);
    expect("js_repl", Stage::Removed, false);
    // Keys Codex no longer lists, accepted and ignored.
    expect("view_image_tool", Stage::Removed, false);
    expect("rmcp_client", Stage::Removed, false);
    // Removed in Codex, yet some still take a configured value.
    assert!(registry.get("js_repl").unwrap().ignores_config());
    assert!(!registry.get("sqlite").unwrap().ignores_config());

    let (key, note) = registry
        .canonical_key("experimental_use_rmcp_client")
        .unwrap();
    assert_eq!(key, "rmcp_client");
    let note = note.unwrap();
    assert_eq!(note.alias, "experimental_use_rmcp_client");
    assert!(
        note.to_string().contains("use `rmcp_client` instead"),
        "{note}"
    );
    for (alias, key) in [
        ("web_search", "web_search_request"),
        ("collab", "multi_agent"),
        ("connectors", "apps"),
        ("memory_tool", "memories"),
        ("telepathy", "chronicle"),
        ("imagegenext", "image_generation"),
        ("codex_hooks", "hooks"),
        ("request_permissions", "exec_permission_approvals"),
        (
            "enable_experimental_windows_sandbox",
            "experimental_windows_sandbox",
        ),
    ] {
        assert_eq!(
            registry.canonical_key(alias).map(|(k, _)| k),
            Some(key),
            "{alias}"
        );
    }
}

#[test]
fn macro_declarations_record_their_origin_and_place() {
    let registry = Registry::builtin();
    let feature = registry.get("declared_in_tests").unwrap();
    assert_eq!(feature.origin(), &Origin::Host);
    assert_eq!(feature.stage(), Stage::Experimental);
    assert_eq!(feature.aliases(), ["old_declared_in_tests"]);
    let location = feature.declared_at().unwrap();
    assert!(location.file.ends_with("declarations.rs"), "{location}");
    assert_eq!(location.line, 6);
    assert!(
        location.module_path.ends_with("tests::declarations"),
        "{location}"
    );
}

#[test]
fn iteration_is_sorted_by_key() {
    let keys: Vec<String> = Registry::builtin()
        .iter()
        .map(|f| f.key().to_owned())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(keys.contains(&"unified_exec".to_owned()));
}

#[test]
fn canonical_key_maps_keys_and_aliases_only() {
    let registry = super::sample_registry();
    assert_eq!(registry.canonical_key("alpha"), Some(("alpha", None)));
    let (key, note) = registry.canonical_key("old_alpha").unwrap();
    assert_eq!(key, "alpha");
    assert_eq!(note.unwrap().canonical, "alpha");
    assert_eq!(registry.canonical_key("ALPHA"), None);
    assert_eq!(registry.canonical_key("nothing"), None);
    assert!(
        registry.get("old_alpha").is_none(),
        "get takes canonical keys only"
    );
}

#[test]
fn suggestions_point_at_keys_even_through_aliases() {
    let registry = Registry::builtin();
    assert_eq!(
        registry.suggest("unifed_exec").as_deref(),
        Some("unified_exec")
    );
    assert_eq!(
        registry.suggest("rmcp-client").as_deref(),
        Some("rmcp_client")
    );
    assert_eq!(
        registry.suggest("experimental_use_rmcp_clien").as_deref(),
        Some("rmcp_client")
    );
    assert_eq!(registry.suggest("completely_unrelated_thing"), None);
}

#[test]
fn clashing_declarations_keep_one_regardless_of_link_order() {
    let first = spec("same", Stage::Stable, true, &[], "a.rs", 1);
    let second = spec("same", Stage::Stable, false, &[], "b.rs", 9);
    for specs in [[first, second], [second, first]] {
        let registry = Registry::from_specs(&specs);
        assert_eq!(registry.len(), 1);
        assert!(
            registry.get("same").unwrap().default_enabled(),
            "a.rs:1 sorts first"
        );
        let conflicts = registry.declaration_conflicts();
        assert_eq!(conflicts.len(), 1);
        let message = conflicts[0].to_string();
        assert!(message.contains("tests (a.rs:1)"), "{message}");
        assert!(message.contains("tests (b.rs:9)"), "{message}");
        assert_eq!(registry.invariant_violations().len(), 1);
    }
}

#[test]
fn aliases_may_not_collide_with_keys_or_themselves() {
    let specs = [
        spec("one", Stage::Stable, false, &["two"], "a.rs", 1),
        spec("two", Stage::Stable, false, &[], "a.rs", 2),
        spec("three", Stage::Stable, false, &["three"], "a.rs", 3),
        spec(
            "four",
            Stage::Stable,
            false,
            &["old_four", "old_four"],
            "a.rs",
            4,
        ),
    ];
    let registry = Registry::from_specs(&specs);
    let keys: Vec<&str> = registry.iter().map(|f| f.key()).collect();
    // `one` sorts before `two`, so `two` the key is refused.
    assert_eq!(keys, ["one"]);
    let clashes: Vec<(&str, NameRole, NameRole)> = registry
        .declaration_conflicts()
        .iter()
        .map(|e| match e {
            RegistryError::AlreadyDeclared {
                name,
                new_role,
                existing_role,
                ..
            } => (name.as_str(), *new_role, *existing_role),
            other => panic!("unexpected {other}"),
        })
        .collect();
    assert_eq!(
        clashes,
        [
            ("old_four", NameRole::Alias, NameRole::Alias),
            ("three", NameRole::Alias, NameRole::Key),
            ("two", NameRole::Key, NameRole::Alias),
        ]
    );
}

#[test]
fn invariant_violations_report_specs_that_bypass_the_macro() {
    let specs = [
        spec("on_too_early", Stage::Experimental, true, &[], "a.rs", 1),
        spec("wip_on", Stage::UnderDevelopment, true, &[], "a.rs", 2),
        spec("Bad-Key", Stage::Stable, false, &["Bad_alias"], "a.rs", 3),
        FeatureSpec {
            description: " ",
            ..spec("no_description", Stage::Stable, false, &[], "a.rs", 4)
        },
    ];
    let violations = Registry::from_specs(&specs).invariant_violations();
    let messages: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert_eq!(violations.len(), 5, "{messages:#?}");
    assert!(matches!(
        &violations[0],
        RegistryError::InvalidName { name, role: NameRole::Key, .. } if name == "Bad-Key"
    ));
    assert!(matches!(
        &violations[1],
        RegistryError::InvalidName { name, role: NameRole::Alias, .. } if name == "Bad_alias"
    ));
    assert!(
        matches!(&violations[2], RegistryError::InvalidDescription { key, .. } if key == "no_description")
    );
    assert!(matches!(
        &violations[3],
        RegistryError::DefaultOnAtStage { key, stage: Stage::Experimental, .. } if key == "on_too_early"
    ));
    assert!(matches!(
        &violations[4],
        RegistryError::DefaultOnAtStage { key, stage: Stage::UnderDevelopment, .. } if key == "wip_on"
    ));
    assert!(messages[4].contains("only beta and stable features may be on by default"));
    assert!(messages[4].contains("declare_feature!"));
}
